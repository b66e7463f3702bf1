// The worker side of the pool: the body of `milf __worker --fd N`. A worker
// reads its Init message, warms up everything that touches files (the
// engine, OpenSSL, libsodium), locks itself down (lockdown.h), says Hello
// with the walls it raised, then runs jobs one at a time until the
// supervisor closes the channel.
//
// Each job gets a fresh execution (instance, WASI state, clocks); only
// compiled modules are kept between jobs, keyed by their SHA-256, so one
// job cannot see another's data. A worker that runs out of its address
// space quota mid-job answers `memory_limit` and retires.
#pragma once

#include <functional>
#include <span>

#include "wasm/runner.h"

namespace milf::sandbox {

struct WorkerHooks {
  // For test workers only (never set by `milf`): sees each job after
  // lockdown and before it runs; returning true means it filled in the
  // record itself and the module does not run.
  std::function<bool(const wasm::RunRequest& request, wasm::RunRecord& record)> intercept;
};

// Exit statuses besides 0 (the supervisor closed the channel).
inline constexpr int kWorkerExitUsage = 2;     // bad arguments or channel
inline constexpr int kWorkerExitProtocol = 3;  // a malformed or unexpected frame

// `args` are the arguments after the mode word: "--fd" N. Returns (an exit
// status) only when it fails before lockdown; once locked down, it ends the
// process itself with _exit: 0 when the supervisor closed the channel or the
// worker retired, kWorkerExitProtocol on a bad frame.
int RunWorker(std::span<char* const> args, const WorkerHooks& hooks = {});

}  // namespace milf::sandbox
