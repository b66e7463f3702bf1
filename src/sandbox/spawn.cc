#include "sandbox/spawn.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace milf::sandbox {
namespace {

struct Candidate {
  std::uint32_t flag;
  const char* name;
};

constexpr Candidate kNamespaces[] = {
    {CLONE_NEWPID, "pid_namespace"},     {CLONE_NEWNS, "mount_namespace"},
    {CLONE_NEWNET, "network_namespace"}, {CLONE_NEWIPC, "ipc_namespace"},
    {CLONE_NEWUTS, "uts_namespace"},
};

// fork() with namespace flags: the child runs on a copy of the caller's
// stack, like fork, and returns 0.
pid_t CloneProcess(std::uint32_t flags) {
  return static_cast<pid_t>(::syscall(SYS_clone, static_cast<unsigned long>(flags) | SIGCHLD,
                                      nullptr, nullptr, nullptr, nullptr));
}

// 0 when a child could be created in `flags`, else the errno.
int TryNamespaces(std::uint32_t flags) {
  const pid_t pid = CloneProcess(flags);
  if (pid == 0) ::_exit(0);
  if (pid < 0) return errno;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return 0;
}

bool HasSysAdmin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN)) != 0;
}

// Async-signal-safe: open, write, close only.
bool WriteProcFile(const char* path, const char* text, std::size_t size) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text, size) == static_cast<ssize_t>(size);
  ::close(fd);
  return ok;
}

// Everything the child needs, prepared before clone: the child may not
// allocate.
struct ChildPlan {
  bool user_namespace = false;
  std::string uid_map;
  std::string gid_map;
  int channel_fd = -1;
  std::vector<std::string> argv_storage;
  std::vector<char*> argv;
};

[[noreturn]] void RunChild(const ChildPlan& plan) {
  if (plan.user_namespace) {
    static constexpr char kDeny[] = "deny";
    if (!WriteProcFile("/proc/self/setgroups", kDeny, sizeof kDeny - 1) ||
        !WriteProcFile("/proc/self/uid_map", plan.uid_map.data(), plan.uid_map.size()) ||
        !WriteProcFile("/proc/self/gid_map", plan.gid_map.data(), plan.gid_map.size())) {
      ::_exit(kExitNamespaceSetup);
    }
  }
  // dup2 onto itself would keep close-on-exec, so clear the flag instead.
  const bool placed = plan.channel_fd == kWorkerChannelFd
                          ? ::fcntl(kWorkerChannelFd, F_SETFD, 0) == 0
                          : ::dup2(plan.channel_fd, kWorkerChannelFd) == kWorkerChannelFd;
  if (!placed) ::_exit(kExitChannelSetup);
  char* const empty_environment[] = {nullptr};
  ::execve(plan.argv[0], plan.argv.data(), empty_environment);
  ::_exit(kExitExecFailed);
}

}  // namespace

NamespacePlan PlanNamespaces(bool wanted) {
  NamespacePlan plan;
  if (!wanted) {
    plan.walls.push_back(
        {"user_namespace", WallState::kNotNeeded, "turned off by the pool's options"});
    for (const Candidate& candidate : kNamespaces) {
      plan.walls.push_back(
          {candidate.name, WallState::kNotNeeded, "turned off by the pool's options"});
    }
    return plan;
  }
  if (HasSysAdmin()) {
    plan.walls.push_back(
        {"user_namespace", WallState::kNotNeeded,
         "the supervisor is privileged: workers leave root for uid 65534 instead"});
  } else if (const int error = TryNamespaces(CLONE_NEWUSER); error != 0) {
    plan.walls.push_back({"user_namespace", WallState::kMissing,
                          fmt::format("clone(CLONE_NEWUSER): {}", std::strerror(error))});
  } else {
    plan.flags |= CLONE_NEWUSER;
    plan.walls.push_back(
        {"user_namespace", WallState::kActive,
         fmt::format("uid {} is uid 0 inside, nothing else is mapped", ::geteuid())});
  }
  // Usually the kernel grants them all: one throwaway child then suffices.
  std::uint32_t all = plan.flags;
  for (const Candidate& candidate : kNamespaces) all |= candidate.flag;
  const bool all_granted = TryNamespaces(all) == 0;
  for (const Candidate& candidate : kNamespaces) {
    if (all_granted) {
      plan.flags |= candidate.flag;
      plan.walls.push_back({candidate.name, WallState::kActive, "own namespace"});
    } else if (const int error = TryNamespaces(plan.flags | candidate.flag); error != 0) {
      plan.walls.push_back(
          {candidate.name, WallState::kMissing, fmt::format("clone: {}", std::strerror(error))});
    } else {
      plan.flags |= candidate.flag;
      plan.walls.push_back({candidate.name, WallState::kActive, "own namespace"});
    }
  }
  return plan;
}

Result<WorkerProcess> SpawnWorker(const std::vector<std::string>& command, std::uint32_t flags) {
  if (command.empty() || command[0].empty() || command[0][0] != '/') {
    return Fail("spawn", "the worker command must start with an absolute path");
  }
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    return Fail("spawn", fmt::format("socketpair: {}", std::strerror(errno)));
  }
  UniqueFd parent_end(ends[0]);
  UniqueFd child_end(ends[1]);

  ChildPlan plan;
  plan.user_namespace = (flags & CLONE_NEWUSER) != 0;
  plan.uid_map = fmt::format("0 {} 1\n", ::geteuid());
  plan.gid_map = fmt::format("0 {} 1\n", ::getegid());
  plan.channel_fd = child_end.get();
  plan.argv_storage = command;
  plan.argv_storage.push_back("--fd");
  plan.argv_storage.push_back(std::to_string(kWorkerChannelFd));
  for (std::string& arg : plan.argv_storage) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);

  sigset_t all;
  sigset_t previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t pid = CloneProcess(flags);
  if (pid == 0) RunChild(plan);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) return Fail("spawn", fmt::format("clone: {}", std::strerror(clone_errno)));
  return WorkerProcess{pid, std::move(parent_end)};
}

std::string SignalName(int signal) {
  if (const char* abbreviation = ::sigabbrev_np(signal); abbreviation != nullptr) {
    return fmt::format("SIG{}", abbreviation);
  }
  return fmt::format("signal {}", signal);
}

}  // namespace milf::sandbox
