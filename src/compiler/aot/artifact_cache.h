// ArtifactCache: AOT artifacts on disk, keyed by (module hash, target,
// toolchain fingerprint), so a module is translated and compiled once per
// machine and toolchain.
//
// Layout: DIR/TRIPLE/KEY.milfaot, KEY = SHA-256 of the three key parts;
// DIR/TRIPLE/runtime-FINGERPRINT.milfaot holds the compiled wasm2c runtime
// every artifact of that toolchain links (built once, stored in the same
// verified format); DIR/tmp holds build directories while a build runs. The default DIR is
// $XDG_CACHE_HOME/milf/aot, else $HOME/.cache/milf/aot.
//
// Writes are atomic: a finished artifact is written to a temporary file in
// its final directory and renamed into place. Concurrent builders of the
// same key (threads or processes) are therefore safe: each renames a
// complete file, the last one wins, and a reader sees a whole file or none.
// Every load verifies the artifact (artifact.h) and its key fields; a file
// that fails (corrupt, truncated, tampered with, or for another key) is
// deleted, reported in the outcome and rebuilt.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "compiler/aot/artifact.h"
#include "compiler/aot/toolchain.h"
#include "compiler/aot/translator.h"

namespace milf::aot {

struct CacheOutcome {
  Artifact artifact;
  std::filesystem::path path;           // where it is (or would be) stored
  bool hit = false;                     // loaded, not built
  std::optional<std::string> rejected;  // why a cached file was refused, if one was
  double build_seconds = 0;             // when built
  TranslateStats stats;                 // when built
};

class ArtifactCache {
 public:
  explicit ArtifactCache(std::filesystem::path dir);

  // $XDG_CACHE_HOME/milf/aot, else $HOME/.cache/milf/aot; "" when neither is
  // set.
  static std::filesystem::path DefaultDir();

  const std::filesystem::path& dir() const { return dir_; }

  // The artifact of `wasm` for `toolchain`. Errors: those of Translate, and
  // "io" when the cache directory cannot be made or written.
  Result<CacheOutcome> LoadOrBuild(std::span<const std::uint8_t> wasm, const Toolchain& toolchain);

  // Where the artifact of `wasm` for `toolchain` lives.
  Result<std::filesystem::path> PathFor(std::span<const std::uint8_t> wasm,
                                        const Toolchain& toolchain) const;

 private:
  Result<CacheOutcome> Build(std::span<const std::uint8_t> wasm, const Toolchain& toolchain,
                             ArtifactInfo info, std::filesystem::path path);
  Result<std::vector<std::uint8_t>> RuntimeObject(const Toolchain& toolchain,
                                                  const std::string& fingerprint);

  const std::filesystem::path dir_;
};

}  // namespace milf::aot
