// The worker's system call allowlist, built with libseccomp and loaded as
// the last step of lockdown. Every call not listed kills the whole worker
// (SECCOMP_RET_KILL_PROCESS); the supervisor sees SIGSYS and reports
// `sandbox_violation`. The list is what a locked-down worker was measured to
// need while running real jobs (strace over the examples and the tests);
// docs/sandbox.md explains the measurement.
#pragma once

#include <vector>

#include "base/result.h"

namespace milf::sandbox {

struct SyscallRule {
  const char* name;
  const char* condition;  // "" when any arguments are allowed
  const char* why;
};

// The allowlist, for documentation and `milf sandbox-check --json`; with
// `aot`, the rules a worker that loads AOT artifacts adds.
std::vector<SyscallRule> SeccompAllowlist(bool aot = false);

// Installs the filter on the calling (single-threaded) process. Reads and
// writes are allowed on `channel_fd` only; a write to any other descriptor
// fails with EBADF instead of killing, so that a dying worker's last words
// to a closed stderr (std::terminate, glibc's fatal messages) end as a
// crash, not as a violation. Errors: "seccomp" with libseccomp's reason.
//
// With `aot` (pools that run the AOT tier) the worker may also write an
// artifact into its private tmpfs and dlopen it: create (mkstemp's flags)
// and open read-only, write, read, stat, close and unlink files; map a
// file, never anonymous memory, executable; mprotect without PROT_EXEC.
// docs/sandbox.md justifies each rule.
Status LoadSeccompPolicy(int channel_fd, bool aot = false);

}  // namespace milf::sandbox
