// Shared by the AOT tests: where their artifacts are cached, and a private
// temporary directory.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "wasm/aot/aot_engine.h"

namespace milf::wasm::testing {

// Artifacts of the test modules persist across test runs in the build tree,
// so only the first run pays for the C compiler.
inline std::filesystem::path SharedAotCacheDir() {
  return std::filesystem::path(MILF_BINARY_DIR) / "aot-test-cache";
}

inline AotOptions SharedAotOptions() {
  AotOptions options;
  options.cache_dir = SharedAotCacheDir();
  return options;
}

// A fresh directory, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::path(::testing::TempDir()) / "milf-aot-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty()) << "mkdtemp " << pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace milf::wasm::testing
