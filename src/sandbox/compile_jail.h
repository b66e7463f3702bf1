// CompileJail: runs one untrusted toolchain command (a compiler given user
// source) in a throwaway jail, and collects its merged stdout and stderr.
//
// The jail is a process born (clone) in new mount, PID, network, IPC and
// UTS namespaces, plus a user namespace when the caller is not privileged.
// Its root is an empty read-only tmpfs holding only:
//   - read-only binds of the paths in JailSpec::read_only, at the same path
//     (a host path that is a symlink, like Debian's /lib -> usr/lib, is
//     recreated as the same symlink instead);
//   - /compile: a read-write bind of JailSpec::work_dir;
//   - /tmp: a private tmpfs of JailSpec::tmp_bytes;
//   - /dev/null, /dev/zero, /dev/urandom; /proc of its own PID namespace
//     when the kernel allows it.
// The network namespace has no interface but a downed loopback. Privileges
// are dropped before exec (uid 65534 when started as real root; no
// capabilities, no_new_privs), the environment is JailSpec::env only, and
// rlimits cap CPU time, address space, file size, processes and
// descriptors of every process in it. A wall-clock deadline SIGKILLs the
// jail's init, which takes the whole PID namespace with it.
//
// Thread-safety: Run may be called concurrently from any thread; it blocks
// the calling thread until the command and all its descendants are gone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/walls.h"

namespace milf::sandbox {

// Where JailSpec::work_dir appears inside the jail.
inline constexpr char kJailWorkDir[] = "/compile";

struct JailSpec {
  std::vector<std::string> argv;            // argv[0]: an absolute path inside the jail
  std::vector<std::string> env;             // KEY=VALUE: the whole environment
  std::vector<std::string> read_only;       // absolute host paths, bound read-only
  std::string work_dir;                     // absolute host directory, bound at /compile
  std::string cwd = kJailWorkDir;           // inside the jail: /compile or below
  std::uint64_t cpu_seconds = 30;           // RLIMIT_CPU, per process
  std::uint64_t memory_bytes = 2ULL << 30;  // RLIMIT_AS, per process
  std::uint64_t file_bytes = 64ULL << 20;   // RLIMIT_FSIZE: the largest file written
  std::uint64_t processes = 64;             // RLIMIT_NPROC
  std::uint64_t tmp_bytes = 64ULL << 20;    // size of the /tmp tmpfs
  std::int64_t wall_ms = 30'000;            // then SIGKILL
  std::size_t output_bytes = 256 << 10;     // merged stdout+stderr kept; the rest is dropped
};

struct JailOutcome {
  int exit_code = -1;  // when it exited; -1 when killed by a signal
  int signal = 0;      // the killing signal, or 0
  bool timed_out = false;
  bool output_truncated = false;
  std::string output;  // merged stdout and stderr, at most output_bytes
};

class CompileJail {
 public:
  // Plans the namespaces once. Errors: "jail" when the kernel refuses a
  // mount, PID or network namespace: without them no untrusted compile runs.
  static Result<CompileJail> Create();

  // Runs spec.argv. Errors: "jail" (bad spec, or a host call failed before
  // the command could start). A command that cannot be set up inside the
  // jail reports exit status 126 with the failing step in its output.
  Result<JailOutcome> Run(const JailSpec& spec) const;

  // The walls each run is behind (namespaces as planned).
  const Walls& walls() const { return walls_; }

 private:
  CompileJail(std::uint32_t flags, Walls walls) : flags_(flags), walls_(std::move(walls)) {}
  std::uint32_t flags_;
  Walls walls_;
};

}  // namespace milf::sandbox
