// RunStatus: how an execution ended. Every limit has its own status so that
// callers (the CLI, the sandbox, the server's sink) can tell them apart
// without parsing messages. Names are stable: they appear in JSON and in the
// store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace milf::wasm {

enum class RunStatus {
  kOk,              // returned, or proc_exit(0)
  kExitNonzero,     // proc_exit(n) with n != 0
  kTrap,            // a WebAssembly trap (divide by zero, unreachable, ...)
  kTimeout,         // wall-clock deadline passed
  kFuelExhausted,   // fuel budget used up
  kMemoryLimit,     // linear memory cap refused the module
  kTableLimit,      // table cap refused the module
  kStackOverflow,   // call depth limit reached
  kOutputLimit,     // stdout/stderr/out-dir over their caps (when set to fail)
  kModuleTooLarge,  // module bytes over the module size limit
  kInvalidModule,   // decode or validation failed
  kLinkError,       // an import could not be satisfied
  kInternalError,   // a bug or an unexpected host failure
  kCrashed,         // the sandbox worker died (a signal); the message names it
  kSandboxViolation,  // the sandbox worker made a forbidden system call
};

std::string_view StatusName(RunStatus status);
std::optional<RunStatus> ParseStatus(std::string_view name);

// The error type of engine operations: a status and one line of detail.
struct Failure {
  RunStatus status = RunStatus::kInternalError;
  std::string message;
};

}  // namespace milf::wasm
