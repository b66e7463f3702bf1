// Starting worker processes, supervisor side. A worker is created with a raw
// clone(2) so that it can be born inside new namespaces (a process cannot
// move itself into a new PID namespace), then execs the worker binary with
// an empty environment and its end of the channel as descriptor 3. When a
// user namespace is used, the child maps the supervisor's uid and gid to 0
// inside it before exec, so the worker keeps the capabilities it needs to
// build its empty root; lockdown drops them all.
//
// Between clone and exec the child only calls async-signal-safe functions,
// with every signal blocked, so spawning from a multithreaded supervisor is
// safe. Functions here are safe for concurrent use.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/channel.h"
#include "sandbox/walls.h"

namespace milf::sandbox {

// The descriptor a worker finds its channel on.
inline constexpr int kWorkerChannelFd = 3;

// Exit statuses of a child that never reached the worker's main.
inline constexpr int kExitNamespaceSetup = 120;
inline constexpr int kExitChannelSetup = 121;
inline constexpr int kExitExecFailed = 127;

struct NamespacePlan {
  std::uint32_t flags = 0;  // the CLONE_NEW* flags the kernel accepted
  Walls walls;              // one per namespace, with the kernel's refusal if any
};

// Finds out, with throwaway children, which namespaces this process can
// create: user (only when not already privileged), PID, mount, network, IPC
// and UTS. Each is tried on top of those already accepted. With `wanted`
// false nothing is tried and every namespace is reported not needed.
NamespacePlan PlanNamespaces(bool wanted);

struct WorkerProcess {
  pid_t pid = -1;
  UniqueFd channel;
};

// Starts `command` (command[0] an absolute path) with "--fd 3" appended, in
// the namespaces `flags`. Errors: "spawn" with the failing call.
Result<WorkerProcess> SpawnWorker(const std::vector<std::string>& command, std::uint32_t flags);

// "SIGSEGV" for SIGSEGV; "signal N" for a number without a name.
std::string SignalName(int signal);

}  // namespace milf::sandbox
