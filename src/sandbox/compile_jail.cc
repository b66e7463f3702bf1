#include "sandbox/compile_jail.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/securebits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>

#include "sandbox/lockdown.h"
#include "sandbox/spawn.h"
#include "wasm/wasi/unique_fd.h"

namespace milf::sandbox {
namespace {

using wasm::wasi::UniqueFd;

constexpr int kExitSetupFailed = 126;
constexpr char kHostname[] = "milf-compile";
constexpr const char* kDevices[] = {"/dev/null", "/dev/zero", "/dev/urandom"};
constexpr std::uint32_t kRequired = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET;

// One step of building the jail's root, planned (with every string) before
// clone: the child may not allocate.
struct RootStep {
  enum Kind { kMkdir, kSymlink, kTouch, kBind, kTmpfs, kProc, kSealRoot } kind;
  std::string target;  // inside the new root's mount point, on the host's view
  std::string source;  // bind source, symlink text or tmpfs options
  unsigned long flags = 0;
  bool optional = false;
};

struct ChildPlan {
  bool user_namespace = false;
  std::string uid_map;
  std::string gid_map;
  bool drop_to_nobody = false;
  std::string base;
  std::string cwd;
  std::vector<RootStep> steps;
  int output_fd = -1;
  int null_fd = -1;
  std::vector<std::pair<int, rlim_t>> limits;
  std::vector<std::string> argv_storage;
  std::vector<char*> argv;
  std::vector<std::string> env_storage;
  std::vector<char*> env;
};

// Async-signal-safe: a message and errno on stderr, then exit.
[[noreturn]] void Die(const char* step) {
  const int error = errno;
  char digits[12];
  int length = 0;
  for (int value = error; length == 0 || value > 0; value /= 10) {
    digits[length++] = static_cast<char>('0' + value % 10);
  }
  char line[160];
  std::size_t at = 0;
  const auto append = [&](const char* text) {
    while (*text != 0 && at < sizeof line - 1) line[at++] = *text++;
  };
  append("milf compile jail: ");
  append(step);
  append(" failed: errno ");
  while (length > 0 && at < sizeof line - 1) line[at++] = digits[--length];
  line[at++] = '\n';
  (void)!::write(STDERR_FILENO, line, at);
  ::_exit(kExitSetupFailed);
}

bool WriteProcFile(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

void RunStep(const RootStep& step) {
  const char* target = step.target.c_str();
  bool ok = true;
  switch (step.kind) {
    case RootStep::kMkdir:
      ok = ::mkdir(target, 0755) == 0 || errno == EEXIST;
      break;
    case RootStep::kSymlink:
      ok = ::symlink(step.source.c_str(), target) == 0;
      break;
    case RootStep::kTouch: {
      const int fd = ::open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      ok = fd >= 0;
      if (ok) ::close(fd);
      break;
    }
    case RootStep::kBind:
      // Binding then remounting is the only way to get a read-only bind.
      ok = ::mount(step.source.c_str(), target, nullptr, MS_BIND | MS_REC, nullptr) == 0 &&
           ::mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | step.flags, nullptr) == 0;
      break;
    case RootStep::kTmpfs:
      ok = ::mount("milf-tmp", target, "tmpfs", step.flags, step.source.c_str()) == 0;
      break;
    case RootStep::kProc:
      ok = ::mount("proc", target, "proc", step.flags, nullptr) == 0;
      break;
    case RootStep::kSealRoot:
      ok = ::mount(nullptr, target, nullptr, MS_REMOUNT | step.flags, nullptr) == 0;
      break;
  }
  if (!ok && !step.optional) Die(target);
}

void EnterRoot(const ChildPlan& plan) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) Die("mount(MS_PRIVATE)");
  if (::mount("milf-compile", plan.base.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
              "size=64k,mode=0755") != 0) {
    Die("mount(root tmpfs)");
  }
  for (const RootStep& step : plan.steps) RunStep(step);
  // pivot_root(".", ".") stacks the old root on the new one; detaching "."
  // then drops the host's filesystem from this namespace.
  if (::chdir(plan.base.c_str()) != 0) Die("chdir(root)");
  if (::syscall(SYS_pivot_root, ".", ".") != 0) Die("pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) Die("umount2(old root)");
  if (::chdir(plan.cwd.c_str()) != 0) Die("chdir(cwd)");
}

void DropPrivileges(const ChildPlan& plan) {
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) break;
  }
  // Root of a user namespace would regain its capabilities at exec.
  if (::prctl(PR_SET_SECUREBITS,
              SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED, 0, 0, 0) != 0) {
    Die("PR_SET_SECUREBITS");
  }
  if (plan.drop_to_nobody) {
    const gid_t gid = kUnprivilegedId;
    const uid_t uid = kUnprivilegedId;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      Die("setresuid");
    }
  }
  for (const auto& [resource, value] : plan.limits) {
    const rlimit limit{value, value};
    if (::setrlimit(resource, &limit) != 0) Die("setrlimit");
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Die("PR_SET_NO_NEW_PRIVS");
}

[[noreturn]] void RunChild(const ChildPlan& plan) {
  if (::dup2(plan.output_fd, STDOUT_FILENO) < 0 || ::dup2(plan.output_fd, STDERR_FILENO) < 0 ||
      ::dup2(plan.null_fd, STDIN_FILENO) < 0) {
    ::_exit(kExitSetupFailed);
  }
  ::syscall(SYS_close_range, 3u, ~0u, 0u);
  if (plan.user_namespace) {
    if (!WriteProcFile("/proc/self/setgroups", "deny") ||
        !WriteProcFile("/proc/self/uid_map", plan.uid_map) ||
        !WriteProcFile("/proc/self/gid_map", plan.gid_map)) {
      Die("user namespace maps");
    }
  }
  if (::setsid() < 0) Die("setsid");
  // The compiler starts with default dispositions and nothing blocked.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  EnterRoot(plan);
  ::sethostname(kHostname, sizeof kHostname - 1);
  DropPrivileges(plan);
  ::execve(plan.argv[0], plan.argv.data(), plan.env.data());
  Die("execve");
}

// The flags a bind must keep: in a user namespace the kernel refuses to
// clear a flag the original mount has (MNT_LOCK_*).
unsigned long MountFlagsOf(const std::string& path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0) return 0;
  unsigned long flags = 0;
  if ((info.f_flag & ST_NOSUID) != 0) flags |= MS_NOSUID;
  if ((info.f_flag & ST_NODEV) != 0) flags |= MS_NODEV;
  if ((info.f_flag & ST_NOEXEC) != 0) flags |= MS_NOEXEC;
  if ((info.f_flag & ST_NOATIME) != 0) flags |= MS_NOATIME;
  if ((info.f_flag & ST_NODIRATIME) != 0) flags |= MS_NODIRATIME;
  if ((info.f_flag & ST_RELATIME) != 0) flags |= MS_RELATIME;
  return flags;
}

class RootPlanner {
 public:
  explicit RootPlanner(std::string base) : base_(std::move(base)) {}

  Status ReadOnly(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(path, ec);
    if (ec) return Fail("jail", fmt::format("{}: {}", path, ec.message()));
    Parents(path);
    if (fs::is_symlink(status)) {
      const fs::path text = fs::read_symlink(path, ec);
      if (ec) return Fail("jail", fmt::format("{}: {}", path, ec.message()));
      steps_.push_back({RootStep::kSymlink, base_ + path, text.string()});
      return {};
    }
    Mountpoint(path, fs::is_directory(status));
    steps_.push_back(
        {RootStep::kBind, base_ + path, path, MS_RDONLY | MS_NOSUID | MountFlagsOf(path)});
    return {};
  }

  void Device(const std::string& path) {
    Parents(path);
    Mountpoint(path, false);
    steps_.push_back(
        {RootStep::kBind, base_ + path, path, MS_NOSUID | MS_NOEXEC | MountFlagsOf(path)});
  }

  void Writable(const std::string& source, const std::string& path) {
    Parents(path);
    Mountpoint(path, true);
    steps_.push_back(
        {RootStep::kBind, base_ + path, source, MS_NOSUID | MS_NODEV | MountFlagsOf(source)});
  }

  void Tmpfs(const std::string& path, std::uint64_t bytes) {
    Parents(path);
    Mountpoint(path, true);
    steps_.push_back({RootStep::kTmpfs, base_ + path, fmt::format("size={},mode=1777", bytes),
                      MS_NOSUID | MS_NODEV});
  }

  void Proc() {
    Mountpoint("/proc", true);
    steps_.push_back({RootStep::kProc, base_ + "/proc", "", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      /*optional=*/true});
  }

  std::vector<RootStep> Finish() {
    steps_.push_back({RootStep::kSealRoot, base_, "", MS_RDONLY | MS_NOSUID | MS_NODEV});
    return std::move(steps_);
  }

 private:
  void Parents(const std::string& path) {
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      Mountpoint(path.substr(0, slash), true);
    }
  }

  void Mountpoint(const std::string& path, bool directory) {
    if (!made_.insert(path).second) return;
    steps_.push_back({directory ? RootStep::kMkdir : RootStep::kTouch, base_ + path, ""});
  }

  std::string base_;
  std::set<std::string> made_;
  std::vector<RootStep> steps_;
};

Status CheckSpec(const JailSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty() || spec.argv[0][0] != '/') {
    return Fail("jail", "argv[0] must be an absolute path");
  }
  const auto bad_path = [](const std::string& path) {
    return path.empty() || path[0] != '/' || path.find("/..") != std::string::npos || path == "/" ||
           path.back() == '/';
  };
  if (bad_path(spec.work_dir)) return Fail("jail", "work_dir must be an absolute directory");
  if (spec.cwd != kJailWorkDir &&
      (!spec.cwd.starts_with(std::string(kJailWorkDir) + "/") || bad_path(spec.cwd))) {
    return Fail("jail", "cwd must be /compile or below");
  }
  for (const std::string& path : spec.read_only) {
    const auto under = [&path](std::string_view dir) {
      return path == dir || (path.starts_with(dir) && path[dir.size()] == '/');
    };
    if (bad_path(path) || under(kJailWorkDir) || under("/tmp") || under("/proc") || under("/dev")) {
      return Fail("jail", fmt::format("cannot bind '{}' into the jail", path));
    }
  }
  return {};
}

// Gives the work directory to the uid the command runs as.
void ChownTree(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  ::chown(dir.c_str(), kUnprivilegedId, kUnprivilegedId);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    ::lchown(it->path().c_str(), kUnprivilegedId, kUnprivilegedId);
  }
}

class TempDir {
 public:
  static Result<TempDir> Make() {
    std::string path = (std::filesystem::temp_directory_path() / "milf-jail-XXXXXX").string();
    if (::mkdtemp(path.data()) == nullptr) {
      return Fail("jail", fmt::format("mkdtemp: {}", std::strerror(errno)));
    }
    return TempDir(std::move(path));
  }
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    if (!path_.empty()) ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct Collected {
  bool timed_out = false;
  int status = 0;
};

// Reads the output until the child is gone or the deadline passes; at the
// deadline the jail's init is killed, and the PID namespace with it.
Result<Collected> Collect(pid_t pid, int output_fd, const JailSpec& spec, JailOutcome& outcome) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() < 0) {
    const int error = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return Fail("jail", fmt::format("pidfd_open: {}", std::strerror(error)));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(spec.wall_ms);
  Collected collected;
  bool exited = false;
  bool output_open = true;
  char buffer[16384];
  while (output_open || !exited) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      collected.timed_out = true;
      ::kill(pid, SIGKILL);
      ::kill(-pid, SIGKILL);
      break;
    }
    // A negative descriptor is skipped by poll: the output may close first.
    pollfd fds[2] = {{output_open ? output_fd : -1, POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    const int ready = ::poll(fds, exited ? 1 : 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR)
      return Fail("jail", fmt::format("poll: {}", std::strerror(errno)));
    if (output_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t got = ::read(output_fd, buffer, sizeof buffer);
      if (got <= 0) {
        output_open = false;
      } else {
        const std::size_t room =
            spec.output_bytes - std::min(spec.output_bytes, outcome.output.size());
        outcome.output.append(buffer, std::min(room, static_cast<std::size_t>(got)));
        if (static_cast<std::size_t>(got) > room) outcome.output_truncated = true;
      }
    }
    if (!exited && (fds[1].revents & POLLIN) != 0) exited = true;
    if (exited && output_open) {
      // Descendants died with init; whatever is left in the pipe is final.
      ::fcntl(output_fd, F_SETFL, O_NONBLOCK);
    }
  }
  while (::waitpid(pid, &collected.status, 0) < 0 && errno == EINTR) {
  }
  return collected;
}

}  // namespace

Result<CompileJail> CompileJail::Create() {
  NamespacePlan plan = PlanNamespaces(true);
  if ((plan.flags & kRequired) != kRequired) {
    std::string missing;
    for (const Wall& wall : plan.walls) {
      if (wall.state == WallState::kMissing)
        missing += fmt::format(" {} ({});", wall.name, wall.detail);
    }
    return Fail("jail",
                "the compile jail needs mount, PID and network namespaces; missing:" + missing);
  }
  return CompileJail(plan.flags, std::move(plan.walls));
}

Result<JailOutcome> CompileJail::Run(const JailSpec& spec) const {
  if (auto checked = CheckSpec(spec); !checked) return Fail(checked.error());
  auto base = TempDir::Make();
  if (!base) return Fail(base.error());

  ChildPlan plan;
  plan.user_namespace = (flags_ & CLONE_NEWUSER) != 0;
  plan.drop_to_nobody = !plan.user_namespace && ::geteuid() == 0;
  plan.uid_map = fmt::format("0 {} 1\n", ::geteuid());
  plan.gid_map = fmt::format("0 {} 1\n", ::getegid());
  plan.base = base->path();
  plan.cwd = spec.cwd;
  RootPlanner root(base->path());
  for (const std::string& path : spec.read_only) {
    if (auto planned = root.ReadOnly(path); !planned) return Fail(planned.error());
  }
  for (const char* device : kDevices) root.Device(device);
  root.Writable(spec.work_dir, kJailWorkDir);
  root.Tmpfs("/tmp", spec.tmp_bytes);
  root.Proc();
  plan.steps = root.Finish();
  plan.limits = {{RLIMIT_CPU, spec.cpu_seconds},
                 {RLIMIT_AS, spec.memory_bytes},
                 {RLIMIT_FSIZE, spec.file_bytes},
                 {RLIMIT_NPROC, spec.processes},
                 {RLIMIT_CORE, 0},
                 {RLIMIT_NOFILE, 256}};
  plan.argv_storage = spec.argv;
  for (std::string& arg : plan.argv_storage) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  plan.env_storage = spec.env;
  for (std::string& entry : plan.env_storage) plan.env.push_back(entry.data());
  plan.env.push_back(nullptr);
  if (plan.drop_to_nobody) ChownTree(spec.work_dir);

  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0)
    return Fail("jail", fmt::format("pipe: {}", std::strerror(errno)));
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd.get() < 0) return Fail("jail", fmt::format("/dev/null: {}", std::strerror(errno)));
  plan.output_fd = write_end.get();
  plan.null_fd = null_fd.get();

  sigset_t all;
  sigset_t previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const auto pid = static_cast<pid_t>(::syscall(
      SYS_clone, static_cast<unsigned long>(flags_) | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid == 0) RunChild(plan);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) return Fail("jail", fmt::format("clone: {}", std::strerror(clone_errno)));
  write_end = UniqueFd();

  JailOutcome outcome;
  auto collected = Collect(pid, read_end.get(), spec, outcome);
  if (!collected) return Fail(collected.error());
  outcome.timed_out = collected->timed_out;
  if (WIFEXITED(collected->status)) {
    outcome.exit_code = WEXITSTATUS(collected->status);
  } else if (WIFSIGNALED(collected->status)) {
    outcome.signal = WTERMSIG(collected->status);
  }
  return outcome;
}

}  // namespace milf::sandbox
