// SourceCompiler: the server's compiler service. It turns a Project (C,
// C++, AssemblyScript or Rust sources) into a wasm32-wasi module that the
// execution core runs, with structured diagnostics.
//
// - Every toolchain process runs in a CompileJail (sandbox/compile_jail.h):
//   no network, a root of read-only toolchain binds plus a private scratch
//   directory, rlimits and a wall-clock kill. C and C++ see only the SDK
//   (milf.h), wasi-libc, libc++ and clang's own headers (-nostdinc).
// - Results are cached on disk (compile_cache.h) by the SHA-256 of the
//   sources, the entry, the language, the flags and a fingerprint of the
//   toolchain (compiler versions, the SDK headers, the asc lockfile); a hit
//   runs no compiler and takes no slot.
// - At most max_concurrent compiles run at once; one more is refused
//   ("busy") rather than queued, so callers never block behind compiles.
//
// A compile error is not an Error: Compile then returns a CompileOutput
// with ok false and the diagnostics. Errors are for the service itself:
// "unavailable" (the language's toolchain is not installed; the message
// says what to install), "busy", "jail" (the sandbox failed) and "io".
//
// Thread-safety: Compile may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "compiler/source/compile_cache.h"
#include "compiler/source/diagnostics.h"
#include "compiler/source/project.h"
#include "sandbox/compile_jail.h"

namespace milf::compiler {

// Where the tools are on the host; every path absolute.
struct Toolchain {
  std::string clang = "/usr/bin/clang-14";
  std::string clangxx = "/usr/bin/clang++-14";
  std::string wasi_sysroot = "/usr";  // include/wasm32-wasi, lib/wasm32-wasi
  std::string sdk_include;            // the directory holding milf.h
  std::string rustc = "/usr/bin/rustc";
  std::string node = "/usr/bin/node";
  std::string asc_dir;  // holds node_modules/assemblyscript once `npm ci` ran there
};

// The Debian tool paths above; sdk_include from $MILF_SDK_INCLUDE, else the
// source tree's sdk/include; asc_dir from $MILF_ASC_DIR, else the source
// tree's tools/asc.
Toolchain DefaultToolchain();

struct SourceCompilerOptions {
  Toolchain toolchain;
  std::string cache_dir;    // created if missing
  std::string scratch_dir;  // per-compile directories, created and removed
  int max_concurrent = 2;
  std::uint64_t cpu_seconds = 20;  // per process
  std::uint64_t memory_bytes = 4ULL << 30;
  std::int64_t wall_ms = 30'000;  // per compile, all its runs together
  std::size_t max_wasm_bytes = 16 << 20;
};

struct CompileOutput {
  bool ok = false;
  Language language = Language::kC;
  bool cached = false;
  std::int64_t duration_ms = 0;
  std::vector<std::uint8_t> wasm;       // when ok
  std::vector<Diagnostic> diagnostics;  // warnings, and errors when not ok
};

class SourceCompiler {
 public:
  // Sets up the jail and fingerprints the installed toolchains. Errors:
  // "jail" (no namespaces for a jail), "io" (directories).
  static Result<std::unique_ptr<SourceCompiler>> Create(SourceCompilerOptions options);

  Result<CompileOutput> Compile(const Project& project);

  // Whether the language's toolchain was found; else why not.
  Status Available(Language language) const;

  struct Key;  // only Create makes SourceCompilers
  SourceCompiler(Key, SourceCompilerOptions options, sandbox::CompileJail jail);

 private:
  struct Run;
  Result<CompileOutput> CompileUncached(const Project& project);
  Result<sandbox::JailOutcome> RunTool(const std::string& scratch, std::vector<std::string> argv,
                                       std::int64_t wall_ms) const;
  std::vector<std::string> CompileCommand(Language language, const std::string& source) const;
  Result<Run> RunSteps(const Project& project, const std::string& scratch) const;
  std::string CacheKey(const Project& project) const;
  void Fingerprint();

  SourceCompilerOptions options_;
  sandbox::CompileJail jail_;
  CompileCache cache_;
  std::string resource_include_;  // clang's own headers
  std::vector<std::string> read_only_;
  std::string fingerprint_;
  Status available_[4];

  std::mutex mutex_;
  int running_ = 0;
};

}  // namespace milf::compiler
