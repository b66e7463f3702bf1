// Pool: the supervisor of a fixed set of sandboxed worker processes, and the
// only way a node (or `milf run`) executes a module. A worker is a separate
// process that locked itself down (namespaces, no privileges, rlimits,
// seccomp; see lockdown.h) before it accepted its first job; the pool sends
// it jobs over a socketpair (messages.h) and turns whatever happens to it
// into an ordinary RunRecord:
//
//  - the job ran: the worker's record, exactly as an in-process Runner gives;
//  - the worker was still busy at timeout + deadline_grace: SIGKILL, status
//    `timeout` (the engine's own deadline normally ends the job first);
//  - the worker died: `crashed`, with the signal's name; seccomp killed it:
//    `sandbox_violation`; the pool could not start or talk to a worker:
//    `internal_error`.
//
// A worker that died, timed out, or broke the protocol is replaced at once;
// a healthy one is recycled after recycle_after_jobs jobs, when its peak RSS
// passes recycle_rss_bytes, or before its CPU quota could run out. Nothing
// but compiled modules survives from one job to the next, so one job's fate
// never touches another's.
//
// Host directories in a request never reach a worker: they are snapshotted
// into memory and /out is written back (host_files.h).
//
// Thread-safety: Run may be called from many threads at once; each call
// takes an idle worker or waits for one. The Pool must outlive every Run.
// The pool reaps its own workers: the process must not reap children it did
// not start (waitpid(-1, ...), or SIGCHLD set to SIG_IGN).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/walls.h"
#include "wasm/runner.h"

namespace milf::sandbox {

struct PoolOptions {
  // argv of a worker; command[0] is an absolute path. "--fd 3" is appended.
  // For `milf` itself, SelfWorkerCommand().
  std::vector<std::string> worker_command;
  std::size_t workers = 1;

  std::uint64_t worker_memory_bytes = 1ull << 30;  // RLIMIT_AS, cgroup memory.max
  std::uint64_t worker_cpu_seconds = 3600;         // RLIMIT_CPU over a worker's life
  std::uint64_t recycle_after_jobs = 1000;
  std::uint64_t recycle_rss_bytes = 512ull << 20;
  // Added to a job's timeout before the supervisor kills the worker. It
  // covers sending the job and compiling the module, which the engine's own
  // deadline does not count.
  std::chrono::nanoseconds deadline_grace = std::chrono::seconds(2);
  std::chrono::nanoseconds start_timeout = std::chrono::seconds(10);
  std::uint64_t max_input_bytes = 256ull << 20;  // host files snapshotted for one job
  std::uint32_t max_job_bytes = 512u << 20;      // one job frame
  std::uint32_t module_slots = 8;                // modules a worker keeps by hash

  // Walls that can be turned off, for tests that probe one wall at a time.
  bool namespaces = true;
  bool seccomp = true;
  bool cgroup = true;
  // Workers may run jobs on the AOT tier (Run's `aot`): they get a private
  // tmpfs to load artifacts from and a few more system calls
  // (docs/sandbox.md). Off: the narrower interpreter-only policy.
  bool aot = false;

  // Told once, at Start, about each wall that is missing.
  std::function<void(const std::string& warning)> warn;
};

struct PoolStats {
  std::uint64_t jobs = 0;
  std::uint64_t workers_started = 0;
  std::uint64_t workers_lost = 0;      // crashed, violated, killed at a deadline, broke protocol
  std::uint64_t workers_recycled = 0;  // retired while healthy
  std::uint64_t modules_sent = 0;      // jobs that carried the module's bytes
};

class Pool {
 public:
  // Plans the namespaces, starts every worker and waits for each to lock
  // down. Errors: "invalid_argument" (options), "spawn" (the first worker
  // could not start; the message says why).
  static Result<std::unique_ptr<Pool>> Start(PoolOptions options);

  // Kills and reaps every worker.
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs one request on a worker. Never fails as a call: every failure is a
  // status in the record.
  wasm::RunRecord Run(const wasm::RunRequest& request);
  // The same on the AOT tier, with `artifact` (a verified artifact
  // container for this module under the request's static limits; it must
  // outlive the call) when the pool was started with `aot`. A worker that
  // cannot use the artifact runs the interpreter; `ran_aot` says which.
  wasm::RunRecord Run(const wasm::RunRequest& request, std::span<const std::uint8_t> artifact,
                      bool* ran_aot);

  // Every wall, as planned by the supervisor and reported by the first
  // worker. Fixed after Start.
  const Walls& walls() const { return walls_; }

  PoolStats stats() const;
  // The live workers' pids (in the supervisor's PID namespace).
  std::vector<pid_t> worker_pids() const;

 private:
  class Impl;
  explicit Pool(std::unique_ptr<Impl> impl, Walls walls);

  std::unique_ptr<Impl> impl_;
  const Walls walls_;
};

// {path of the running executable, "__worker"}: the worker command when the
// running program is `milf`. Errors: "io" when /proc/self/exe is unreadable.
Result<std::vector<std::string>> SelfWorkerCommand();

// The mode word that makes `milf` a worker.
inline constexpr const char* kWorkerModeArgument = "__worker";

}  // namespace milf::sandbox
