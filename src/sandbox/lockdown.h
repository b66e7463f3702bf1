// Lockdown: what a worker does to itself after start-up and before its
// first job. In order: an empty, read-only root in its own mount namespace;
// a fixed hostname in its UTS namespace; no capabilities (bounding and
// ambient sets cleared, an unprivileged uid when it started as real root);
// not dumpable; every descriptor but the channel closed; an empty
// environment; rlimits (address space, CPU, descriptors, processes, file
// size, core dumps); no_new_privs; and the seccomp allowlist
// (seccomp_policy.h).
//
// Each step that the kernel refuses is reported as a missing wall and the
// rest carry on: the supervisor decides what a missing wall means. The
// process must be single-threaded and done with every file it needs: after
// lockdown it has no filesystem and may open nothing.
#pragma once

#include <cstdint>

#include "sandbox/walls.h"

namespace milf::sandbox {

struct LockdownConfig {
  int channel_fd = -1;
  std::uint32_t namespaces = 0;    // CLONE_NEW* flags the process was created with
  std::uint64_t memory_bytes = 0;  // RLIMIT_AS
  std::uint64_t cpu_seconds = 0;   // RLIMIT_CPU (soft = hard)
  bool seccomp = true;
  // The worker will load AOT artifacts: a private tmpfs at /aot (writable,
  // executable, nosuid, nodev) inside the empty root, a file size limit
  // that lets an artifact be written there, and seccomp's AOT rules.
  bool aot = false;
};

// The most an artifact file in /aot may take (RLIMIT_FSIZE; the tmpfs's
// size is four times this).
inline constexpr std::uint64_t kMaxAotArtifactBytes = 64ull << 20;

Walls Lockdown(const LockdownConfig& config);

// The uid and gid a worker started as real root switches to.
inline constexpr unsigned kUnprivilegedId = 65534;

}  // namespace milf::sandbox
