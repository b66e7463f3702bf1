#include "sandbox/seccomp_policy.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace milf::sandbox {
namespace {

enum class Condition {
  kAny,
  kChannel,     // argument 0 is the channel descriptor
  kNotExec,     // argument 2 (prot) lacks PROT_EXEC
  kSelf,        // argument 0 is the worker's own pid
  kRusageSelf,  // argument 0 is RUSAGE_SELF
  kNotChannel,  // argument 0 is not the channel descriptor
  kFileMap,     // argument 3 (flags) lacks MAP_ANONYMOUS: a file's pages
  kCreateTemp,  // argument 2 (flags) is exactly mkstemp's
  kOpenRead,    // argument 2 (flags) is exactly dlopen's O_RDONLY | O_CLOEXEC
  kEmptyPath,   // argument 3 (flags) is AT_EMPTY_PATH: fstat of a descriptor
};

struct Rule {
  SyscallRule doc;
  Condition condition;
};

// Measured (docs/sandbox.md): the calls a locked-down worker made under
// strace while running the examples and the sandbox tests. Nothing else.
constexpr Rule kRules[] = {
    {{"recvfrom", "fd is the channel", "recv() of job frames"}, Condition::kChannel},
    {{"sendmsg", "fd is the channel", "result frames, header and payload in one call"},
     Condition::kChannel},
    {{"mmap", "prot without PROT_EXEC", "malloc of large blocks: modules, linear memory"},
     Condition::kNotExec},
    {{"munmap", "", "free of large blocks"}, Condition::kAny},
    {{"brk", "", "malloc's main heap"}, Condition::kAny},
    {{"futex", "", "libstdc++'s once-guards, woken when an exception (bad_alloc) is thrown"},
     Condition::kAny},
    {{"clock_gettime", "", "CPU time per job (no vDSO path), and wall clocks without a vDSO"},
     Condition::kAny},
    {{"clock_nanosleep", "", "WASI sleeps (poll_oneoff on a clock), cut at the deadline"},
     Condition::kAny},
    {{"getrandom", "", "WASI random_get outside deterministic mode (libsodium)"}, Condition::kAny},
    {{"getrusage", "who is RUSAGE_SELF", "CPU time and peak RSS reported with each result"},
     Condition::kRusageSelf},
    {{"exit_group", "", "the worker's end: _exit once the supervisor closes the channel"},
     Condition::kAny},
    {{"rt_sigprocmask", "", "abort() unblocking SIGABRT"}, Condition::kAny},
    {{"rt_sigaction", "",
      "abort() resetting SIGABRT when the first one was ignored (the "
      "worker is PID 1 of its namespace)"},
     Condition::kAny},
    {{"getpid", "", "abort() addressing the process"}, Condition::kAny},
    {{"gettid", "", "abort() addressing the thread"}, Condition::kAny},
    {{"tgkill", "tgid is the worker itself", "abort() raising SIGABRT on itself"},
     Condition::kSelf},
};

// What loading an AOT artifact adds (glibc's mkstemp, write, close, then
// dlopen of the file: open, read, fstat, mmap of its segments, mprotect of
// RELRO and gaps, close; unlink when the artifact is unloaded). Files exist
// only in the worker's private /aot tmpfs: the root is empty and read-only.
constexpr Rule kAotRules[] = {
    {{"openat", "flags are O_RDWR|O_CREAT|O_EXCL (mkstemp)",
      "write a verified artifact into the private /aot tmpfs"},
     Condition::kCreateTemp},
    {{"openat", "flags are O_RDONLY|O_CLOEXEC (dlopen)", "dlopen of that file"},
     Condition::kOpenRead},
    {{"write", "fd is not the channel", "the artifact's bytes into that file"},
     Condition::kNotChannel},
    {{"read", "fd is not the channel", "dlopen reading the ELF headers"}, Condition::kNotChannel},
    {{"pread64", "fd is not the channel", "dlopen reading program headers past the first block"},
     Condition::kNotChannel},
    {{"newfstatat", "flags are AT_EMPTY_PATH", "dlopen's fstat of the file"}, Condition::kEmptyPath},
    {{"fstat", "", "dlopen's fstat of the file (older glibc)"}, Condition::kAny},
    {{"close", "fd is not the channel", "closing the file after writing and after dlopen"},
     Condition::kNotChannel},
    {{"mmap", "flags without MAP_ANONYMOUS (any prot)",
      "dlopen mapping the artifact's segments, text executable; anonymous memory never is"},
     Condition::kFileMap},
    {{"mprotect", "prot without PROT_EXEC", "dlopen's RELRO (read-only) and segment gaps (none)"},
     Condition::kNotExec},
    {{"unlink", "", "removing the file when the artifact is unloaded"}, Condition::kAny},
    {{"unlinkat", "", "the same (architectures without unlink)"}, Condition::kAny},
};

constexpr SyscallRule kAccessDeny = {"access, faccessat, faccessat2", "",
                                     "fail with ENOENT: the loader probes /proc/self/fd, which a "
                                     "worker does not have"};

constexpr SyscallRule kSoftDeny = {"write, writev", "fd is not the channel",
                                   "fail with EBADF: a dying worker's last words to stderr"};

struct FilterDeleter {
  void operator()(void* filter) const { seccomp_release(filter); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

Unexpected<Error> SeccompError(const std::string& what, int rc) {
  return Fail("seccomp", what + ": " + std::strerror(-rc));
}

int AddRule(scmp_filter_ctx filter, int number, Condition condition, int channel_fd) {
  switch (condition) {
    case Condition::kAny:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 0);
    case Condition::kChannel:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(channel_fd)));
    case Condition::kNotExec:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    case Condition::kSelf:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid())));
    case Condition::kRusageSelf:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(RUSAGE_SELF)));
    case Condition::kNotChannel:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A0(SCMP_CMP_NE, static_cast<scmp_datum_t>(channel_fd)));
    case Condition::kFileMap:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
    case Condition::kCreateTemp:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A2(SCMP_CMP_EQ, O_RDWR | O_CREAT | O_EXCL));
    case Condition::kOpenRead:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A2(SCMP_CMP_EQ, O_RDONLY | O_CLOEXEC));
    case Condition::kEmptyPath:
      return seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 1,
                              SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
  }
  return -EINVAL;
}

}  // namespace

std::vector<SyscallRule> SeccompAllowlist(bool aot) {
  std::vector<SyscallRule> rules;
  for (const Rule& rule : kRules) rules.push_back(rule.doc);
  if (aot) {
    for (const Rule& rule : kAotRules) rules.push_back(rule.doc);
    rules.push_back(kAccessDeny);
  }
  rules.push_back(kSoftDeny);
  return rules;
}

Status LoadSeccompPolicy(int channel_fd, bool aot) {
  Filter filter(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!filter) return Fail("seccomp", "seccomp_init failed");
  if (int rc = seccomp_attr_set(filter.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc < 0) {
    return SeccompError("bad-architecture action", rc);
  }
  for (const Rule& rule : kRules) {
    const int number = seccomp_syscall_resolve_name(rule.doc.name);
    if (number == __NR_SCMP_ERROR)
      return Fail("seccomp", std::string("unknown call ") + rule.doc.name);
    if (int rc = AddRule(filter.get(), number, rule.condition, channel_fd); rc < 0) {
      return SeccompError(rule.doc.name, rc);
    }
  }
  if (aot) {
    for (const Rule& rule : kAotRules) {
      const int number = seccomp_syscall_resolve_name(rule.doc.name);
      // A call this architecture lacks (unlink on aarch64) needs no rule.
      if (number == __NR_SCMP_ERROR) continue;
      if (int rc = AddRule(filter.get(), number, rule.condition, channel_fd); rc < 0) {
        return SeccompError(rule.doc.name, rc);
      }
    }
    for (const char* name : {"access", "faccessat", "faccessat2"}) {
      const int number = seccomp_syscall_resolve_name(name);
      if (number == __NR_SCMP_ERROR) continue;
      if (int rc = seccomp_rule_add(filter.get(), SCMP_ACT_ERRNO(ENOENT), number, 0); rc < 0) {
        return SeccompError(name, rc);
      }
    }
  }
  // With `aot`, write to another descriptor is allowed above (a closed one
  // still fails with EBADF, from the kernel).
  for (const int number : aot ? std::vector<int>{SCMP_SYS(writev)}
                              : std::vector<int>{SCMP_SYS(write), SCMP_SYS(writev)}) {
    if (int rc = seccomp_rule_add(filter.get(), SCMP_ACT_ERRNO(EBADF), number, 1,
                                  SCMP_A0(SCMP_CMP_NE, static_cast<scmp_datum_t>(channel_fd)));
        rc < 0) {
      return SeccompError("write", rc);
    }
  }
  if (int rc = seccomp_load(filter.get()); rc < 0) return SeccompError("seccomp_load", rc);
  return {};
}

}  // namespace milf::sandbox
