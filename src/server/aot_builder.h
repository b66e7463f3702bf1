// AotBuilder: the server's side of the AOT tier (docs/aot.md). After a
// deploy creates a module version, the module is instrumented exactly as a
// node's Runner will instrument it (the version's memory_mb) and translated
// into a native artifact for every node target this server can build for
// (x86_64-linux-gnu natively, aarch64-linux-gnu when Debian's cross gcc is
// installed), one build at a time on a background thread of its own, never
// on an I/O thread. Artifacts land in the artifact cache under
// DATA/artifacts and are signed with the server's Ed25519 key
// (DATA/aot-signing.key, created on first start, mode 0600); the signed
// envelopes (compiler/aot/signature.h) are what nodes download, from
// GET /api/v1/artifacts/{module_sha256}/{target} (api_artifacts.cc).
//
// A module wasm2c cannot translate (SIMD, ...) is remembered as
// unsupported, on disk too, so nodes are told once and stop asking. On
// start, the latest version of every function is queued again when its
// artifacts are missing.
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
#include "compiler/aot/toolchain.h"
#include "server/http.h"
#include "store/store.h"

namespace milf::server {

struct AotBuilderOptions {
  bool enabled = true;                   // false: no builds; the route answers 404
  std::filesystem::path artifact_dir;    // DATA/artifacts
  std::filesystem::path key_path;        // DATA/aot-signing.key
  // Targets to build for; empty: x86_64-linux-gnu, plus aarch64-linux-gnu
  // when its cross compiler is installed.
  std::vector<std::string> targets;
  std::size_t max_queued = 1024;         // builds waiting; more are dropped (and retried on restart)
  aot::ToolchainPaths toolchain;
  std::function<void(const std::string& line)> log;
};

// What the artifact route finds for one (module, memory_mb, target).
struct ArtifactLookup {
  enum class State { kReady, kPending, kUnsupported, kUnknownTarget };
  State state = State::kPending;
  std::vector<std::uint8_t> signed_artifact;  // kReady: the signed envelope
  std::string message;                        // kUnsupported, kUnknownTarget: why
};

class AotBuilder {
 public:
  // Loads or creates the signing key and starts the build thread. Errors:
  // "io" (the key or the artifact directory), "corrupt" (a bad key file).
  static Result<std::unique_ptr<AotBuilder>> Start(AotBuilderOptions options, store::Store& store);
  // Finishes the build under way (not the queued ones) and joins.
  ~AotBuilder();
  AotBuilder(const AotBuilder&) = delete;
  AotBuilder& operator=(const AotBuilder&) = delete;

  // The public half of the signing key, 64 hex digits: nodes pin it.
  const std::string& public_key_hex() const;

  // Queues the builds of `module_sha256` under `memory_mb` for every target.
  // Returns at once.
  void Enqueue(const std::string& module_sha256, std::int64_t memory_mb);

  // Queues the latest version of every function whose artifacts are missing.
  void EnqueueMissing();

  // Reads the artifact from disk: call it off the I/O threads.
  ArtifactLookup Find(const std::string& module_sha256, std::int64_t memory_mb,
                      const std::string& target);

  // Blocks until nothing is queued or building (tests).
  void WaitIdle();

  struct Impl;

 private:
  explicit AotBuilder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ApiContext;
// GET /api/v1/artifacts/{module_sha256}/{target}[?memory_mb=N] for nodes.
void AddArtifactRoutes(Router& router, ApiContext& api, AotBuilder& builder);

}  // namespace milf::server
