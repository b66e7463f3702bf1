// Converting a .wast script with wabt's wast2json tool, run as a child
// process, into a private temporary directory: one JSON file listing the
// script's commands plus the module files (.wasm, .wat) it names.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"

namespace milf::spec {

// A directory created by Create() and removed, with everything in it, when
// the owning TempDir is destroyed. Movable, not copyable.
class TempDir {
 public:
  // A new empty directory under the system temporary directory.
  static Result<TempDir, std::string> Create();

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

struct ConvertError {
  enum class Kind {
    kToolFailed,  // wast2json could not be run, or died of a signal
    kRejected,    // wast2json ran and refused the script
  };
  Kind kind = Kind::kToolFailed;
  std::string message;  // one line; for kRejected, wast2json's first error
};

// Runs `wast2json WAST -o DIR/script.json` (found on PATH) and returns the
// JSON file's path.
Result<std::filesystem::path, ConvertError> ConvertWast(const std::filesystem::path& wast,
                                                        const TempDir& dir);

}  // namespace milf::spec
