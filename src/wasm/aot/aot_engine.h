// The AOT tier: a wasm::Engine that runs modules as native code. Compile
// translates the module it is given with wasm2c and the system C compiler
// into a shared object (src/compiler/aot), or takes it from the artifact
// cache, verifies it and loads it; Instantiate and Call behave as the
// interpreter's do.
//
// Give it instrumented modules (the Runner does, through its ModuleCache):
// the metering is compiled into the native code, so fuel figures, timeouts,
// deterministic clocks, call-depth limits and memory caps are identical to
// the interpreter's. Host functions are the same HostFunction callbacks,
// reached through one dispatcher.
//
// Differences from the interpreter, all documented in docs/aot.md:
//  - Compile costs a C compiler run on a cache miss (tens of milliseconds
//    to seconds); cache hits cost a hash check and a dlopen.
//  - SIMD is refused (kInvalidModule, "unsupported by the AOT tier: ...")
//    because wasm2c 1.0.32 has none.
//  - Trap messages name the trap class without the interpreter's detail;
//    the three reasons a call_indirect fails share one message.
//  - Native recursion is bounded by the thread's stack, not by a frame
//    count: a call that would leave less than a safety margin traps with
//    kStackOverflow "call stack exhausted". Instrumented modules hit their
//    call-depth limit first unless their frames are several KiB each.
//  - Linear memory is at most 65535 pages.
//
// Thread-safety: as engine.h says, an Engine and everything it creates
// belong to one thread. Engines on different threads are independent.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "compiler/aot/artifact.h"
#include "compiler/aot/toolchain.h"
#include "wasm/engine.h"

namespace milf::wasm {

// What happened to one module's artifact in Compile.
struct AotEvent {
  enum class Kind {
    kCacheHit,  // loaded from the cache
    kBuilt,     // translated and compiled now
    kRejected,  // a cached artifact failed verification; it was rebuilt
  };
  Kind kind = Kind::kCacheHit;
  std::string module_sha256;
  std::filesystem::path path;  // the artifact's file
  std::string detail;          // why it was rejected; the build timing otherwise
  double seconds = 0;          // build time, for kBuilt
};

struct AotOptions {
  // Where artifacts are cached; empty: aot::ArtifactCache::DefaultDir().
  std::filesystem::path cache_dir;
  aot::ToolchainPaths toolchain;
  // Appended to the C compiler's command (and so part of the cache key):
  // for experiments such as -march=native. benchmarks also use it to build
  // without bounds checks (-DMILF_AOT_UNCHECKED_MEMORY_FOR_BENCHMARKS), to
  // measure what the checks cost; such artifacts are unsafe.
  std::vector<std::string> extra_cflags;
  // Told about every artifact Compile loads, builds or rejects.
  std::function<void(const AotEvent&)> on_event;
  // When set, Compile never builds or uses the cache: it asks this for the
  // artifact of the module with this SHA-256 (the module as given to
  // Compile, i.e. instrumented), already verified by the caller, and loads
  // it. An error, or an artifact of another module or target, fails Compile
  // with kInternalError "no usable AOT artifact: ...". The sandbox worker
  // uses this: it cannot compile, only load what the node verified.
  std::function<Result<aot::Artifact>(const std::string& sha256)> artifact_source;
  // Where an artifact is written for dlopen when /proc/self/fd is not
  // available; empty: cache_dir/tmp.
  std::filesystem::path load_dir;
};

std::unique_ptr<Engine> NewAotEngine(AotOptions options = {});

// Computes what the AOT tier needs to know about the calling thread (its
// stack's extent: reading it needs files and calls a sandboxed worker may
// not make after lockdown). Cached per thread; call it before lockdown.
void PrepareAotThread();

// The engine for a tier name: "interp" (the interpreter) or "aot". Errors
// "usage" for any other name.
Result<std::unique_ptr<Engine>> NewEngineForTier(std::string_view tier, AotOptions options = {});

}  // namespace milf::wasm
