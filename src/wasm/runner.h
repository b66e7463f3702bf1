// Runner: one invocation of a module, start to finish. It loads the module
// through the cache (instrumented for the static limits), binds WASI and the
// metering imports, enforces the dynamic limits (fuel, wall-clock deadline,
// output caps), runs the entry point and returns the result record.
//
// Entry models:
//  - WASI command: `_start` (after `_initialize`, if a reactor exports it).
//  - MILF's guest ABI: `wasm_main(in_ptr, in_len, out_ptr, out_cap) -> out_len`,
//    both buffers allocated through the module's exported `malloc`; the
//    output is the out_len bytes written, delivered as stdout.
//  - Any export called with numeric arguments (RunRequest::invoke).
// With no explicit entry, `_start` is used when exported, else `wasm_main`.
//
// Deterministic mode: the guest's clocks start at a fixed epoch and advance
// only with fuel used (and with time the guest sleeps, virtually); random_get
// is a ChaCha20 stream seeded by the request. Same module + input + seed gives
// byte-identical output and fuel on any machine.
//
// Not safe for concurrent use: one Runner per thread or worker.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "wasm/engine.h"
#include "wasm/limits.h"
#include "wasm/module_cache.h"
#include "wasm/status.h"

namespace milf::wasm {

// A directory the guest sees. Backed by a host directory (confined to it) or,
// when host_path is empty, by an in-memory tree seeded with `files`
// (relative path -> contents).
struct Mount {
  std::string guest_path;
  std::filesystem::path host_path;
  std::map<std::string, std::vector<std::uint8_t>> files;
  bool read_only = false;
};

struct RunRequest {
  std::span<const std::uint8_t> module;
  std::string program_name = "main.wasm";  // argv[0]
  std::vector<std::string> args;           // argv[1..]
  std::vector<std::string> env;            // "KEY=VALUE"
  std::vector<std::uint8_t> input;         // stdin, or wasm_main's input
  std::vector<Mount> mounts;               // "/out" is added in memory when absent
  Limits limits;
  bool deterministic = false;
  std::uint64_t seed = 0;
  std::string entry;                       // "" = automatic (see above)
  std::vector<std::string> invoke_args;    // numeric arguments for a plain export
};

struct OutputFile {
  std::string path;  // guest path, e.g. "/out/result.txt"
  std::vector<std::uint8_t> bytes;
};

struct RunRecord {
  RunStatus status = RunStatus::kInternalError;
  int exit_code = 0;
  std::string message;        // trap or failure detail, one line; empty on success
  std::string trap_function;  // where a trap happened, when known
  std::uint64_t fuel_used = 0;
  std::int64_t wall_nanos = 0;
  std::int64_t cpu_nanos = 0;
  std::uint64_t peak_memory_bytes = 0;
  std::vector<std::uint8_t> stdout_data;
  std::vector<std::uint8_t> stderr_data;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::vector<Value> results;     // return values of a plain export call
  std::vector<OutputFile> out_files;  // files left in an in-memory /out
  std::string module_sha256;
};

class Runner {
 public:
  explicit Runner(std::unique_ptr<Engine> engine, const Clock& clock = SystemClock());
  ~Runner();

  RunRecord Run(const RunRequest& request);

  ModuleCache& cache() { return cache_; }

 private:
  std::unique_ptr<Engine> engine_;
  ModuleCache cache_;
  const Clock& clock_;
};

InstrumentOptions StaticLimits(const Limits& limits);

}  // namespace milf::wasm
