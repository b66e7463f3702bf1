// ArtifactStore: the node's AOT artifacts (docs/aot.md). For a job of module
// M under memory_mb N the node runs M natively when it holds a verified
// artifact of (M, N, its target); otherwise the job runs on the
// interpreter and the store downloads the artifact in the background, from
// GET /api/v1/artifacts/M/TARGET?memory_mb=N, once (a 404 is asked again
// with backoff; a 422, "cannot be translated", never again).
//
// Nothing is trusted before it verified: every signed artifact, downloaded
// or read back from DATA/artifacts, is checked against the server's pinned
// Ed25519 key (compiler/aot/signature.h) and its container's hashes. A
// refused artifact is deleted (or never written), logged and counted
// (reported in heartbeats). The key is pinned at enrollment (the
// credential) or, failing that, from the first welcome (DATA/artifacts/
// server-key); a server presenting another key is refused, and the node
// stays on the interpreter.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace milf::node {

struct ArtifactStoreOptions {
  std::filesystem::path dir;        // DATA/artifacts
  std::string target;               // "x86_64-linux-gnu"
  std::string server;               // the server's URL, http://HOST:PORT[/PREFIX]
  std::filesystem::path data_dir;   // where credential.json is (for the node credential)
  std::function<void(const std::string& line)> log;
};

class ArtifactStore {
 public:
  using Bytes = std::shared_ptr<const std::vector<std::uint8_t>>;

  // Creates `dir` and starts the download thread. Errors: "io".
  static Result<std::unique_ptr<ArtifactStore>> Open(ArtifactStoreOptions options);
  ~ArtifactStore();
  ArtifactStore(const ArtifactStore&) = delete;
  ArtifactStore& operator=(const ArtifactStore&) = delete;

  const std::string& target() const;

  // Pins `public_key` when none is pinned yet. False (logged) when another
  // key is pinned or it is malformed; "" is ignored.
  bool UseServerKey(const std::string& public_key);

  // The verified artifact container of (module, memory_mb), or nullptr;
  // when there is none, a download is scheduled.
  Bytes Get(const std::string& module_sha256, std::int64_t memory_mb);

  // Artifacts refused since the store opened.
  std::uint64_t refused() const;

  // Blocks until no download is queued or running (tests).
  void WaitIdle();

  struct Impl;

 private:
  explicit ArtifactStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace milf::node
