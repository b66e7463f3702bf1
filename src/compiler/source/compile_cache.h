// CompileCache: successful compiles on disk, content-addressed by a key
// the caller derives from everything that decides the output (sources,
// flags, language, toolchain fingerprint). DIR/ab/<key>.wasm holds the
// module and DIR/ab/<key>.diag its warnings; both are written to a
// temporary name and renamed, so readers never see half an entry.
// Safe for concurrent use, also by several processes sharing DIR.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "compiler/source/diagnostics.h"

namespace milf::compiler {

struct CachedCompile {
  std::vector<std::uint8_t> wasm;
  std::vector<Diagnostic> diagnostics;
};

class CompileCache {
 public:
  explicit CompileCache(std::string dir) : dir_(std::move(dir)) {}

  // nullopt on a miss (or an unreadable entry, which counts as a miss).
  std::optional<CachedCompile> Find(const std::string& key) const;
  // Errors: "io".
  Status Put(const std::string& key, const CachedCompile& entry) const;

 private:
  std::string PathFor(const std::string& key, const char* suffix) const;
  std::string dir_;
};

}  // namespace milf::compiler
