// Toolchain: the external programs that build AOT artifacts — Debian's
// wasm2c (wabt 1.0.32) and a C compiler for one target — and the identity of
// that combination, which is part of every artifact's cache key.
//
// Targets: "x86_64-linux-gnu" (the system gcc) and "aarch64-linux-gnu"
// (Debian's cross gcc, package gcc-aarch64-linux-gnu). An artifact is a
// shared object for glibc on that target; it needs only libc and libm
// symbols that glibc has had since 2.17 (aarch64) or 2.2.5/2.14 (x86_64).
//
// Thread-safety: a Toolchain is immutable after construction except for its
// lazily computed fingerprint, which is guarded; share it freely.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace milf::aot {

struct Target {
  std::string triple;              // "x86_64-linux-gnu", "aarch64-linux-gnu"
  std::string cc;                  // compiler driver, looked up on PATH when not absolute
  std::vector<std::string> flags;  // extra flags for this target only
};

// The target this process runs on, and the named one ("x86_64-linux-gnu",
// "aarch64-linux-gnu"; nullopt for others).
Target HostTarget();
std::optional<Target> FindTarget(std::string_view triple);

struct ToolchainPaths {
  std::string wasm2c = "wasm2c";
  // Holds wasm-rt.h, wasm-rt-impl.h and wasm-rt-impl.c (Debian's wabt
  // package installs all three here).
  std::filesystem::path runtime_dir = "/usr/src/wasm2c";
  std::chrono::seconds tool_timeout{600};
};

// The flags every artifact is compiled with, for every target. Part of the
// fingerprint.
const std::vector<std::string>& ArtifactCompileFlags();

class Toolchain {
 public:
  Toolchain(Target target, ToolchainPaths paths = {});

  const Target& target() const { return target_; }
  const ToolchainPaths& paths() const { return paths_; }

  // The SHA-256 (hex) of everything that decides an artifact's bytes besides
  // the module: glue and ABI versions, wasm2c's version, the compiler's
  // version and target, the flags and the runtime sources. Computed once
  // (runs the tools); errors "toolchain" when a tool is missing.
  Result<std::string> Fingerprint() const;

 private:
  Target target_;
  ToolchainPaths paths_;
  mutable std::mutex mutex_;
  mutable std::optional<std::string> fingerprint_;
};

// The outcome of one child process.
struct ToolRun {
  int exit_code = -1;   // -1 when killed by a signal or the timeout
  bool timed_out = false;
  std::string output;   // stdout and stderr, at most 64 KiB
};

// Runs argv (argv[0] looked up on PATH) in `cwd` with stdin from /dev/null.
// Errors "spawn" when it cannot start.
Result<ToolRun> RunTool(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                        std::chrono::seconds timeout);

}  // namespace milf::aot
