// A sandbox worker for tests only: the real worker (RunWorker) plus an
// intercept that, for jobs whose entry is "test:<action>", performs the
// action inside the locked-down worker instead of running the module. It
// lets tests attempt what a compromised engine might (forbidden system
// calls, crashes, native spins, protocol garbage) and look around inside
// the walls. None of this is compiled into `milf`.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "sandbox/channel.h"
#include "sandbox/spawn.h"
#include "sandbox/worker.h"

extern char** environ;

namespace milf::sandbox {
namespace {

std::string ErrnoName(int error) {
  const char* name = ::strerrorname_np(error);
  return name != nullptr ? name : std::to_string(error);
}

// "ok" or the errno's name.
std::string Outcome(long rc) { return rc >= 0 ? "ok" : ErrnoName(errno); }

std::string ConnectTcp(const std::string& address, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket:" + ErrnoName(errno);
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &target.sin_addr);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target);
  const std::string outcome = Outcome(rc);
  ::close(fd);
  return outcome;
}

// Attempts that the seccomp policy must refuse by killing the worker. If
// one returns, the worker survived it and says so.
void TryOpen() { (void)::open("/etc/hostname", O_RDONLY); }
void TrySocket() { (void)::socket(AF_INET, SOCK_STREAM, 0); }
void TryConnect() {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, "/run/anything");
  (void)::connect(kWorkerChannelFd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
}
void TryExecve() {
  char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
  (void)::execve("/bin/true", argv, environ);
}
void TryPtrace() { (void)::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr); }
void TryFork() {
  if (::fork() == 0) ::_exit(0);
}
void TryMount() { (void)::mount("none", "/", "tmpfs", 0, nullptr); }
void TryKill() { (void)::kill(-1, SIGKILL); }

constexpr std::pair<std::string_view, void (*)()> kForbidden[] = {
    {"open", TryOpen},     {"socket", TrySocket}, {"connect", TryConnect}, {"execve", TryExecve},
    {"ptrace", TryPtrace}, {"fork", TryFork},     {"mount", TryMount},     {"kill", TryKill},
};

bool Forbidden(std::string_view action) {
  for (const auto& [name, attempt] : kForbidden) {
    if (name != action) continue;
    attempt();
    return true;
  }
  return false;
}

std::string ListRoot() {
  std::string names;
  DIR* dir = ::opendir("/");
  if (dir == nullptr) return "opendir:" + ErrnoName(errno);
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names += std::string(name) + ",";
  }
  ::closedir(dir);
  return names;
}

std::string OpenFds() {
  std::string fds;
  for (int fd = 0; fd < 1024; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) fds += std::to_string(fd) + ",";
  }
  return fds;
}

std::string Limit(int resource) {
  rlimit limit{};
  ::getrlimit(resource, &limit);
  return limit.rlim_cur == RLIM_INFINITY ? "inf" : std::to_string(limit.rlim_cur);
}

std::string EffectiveCaps() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  ::syscall(SYS_capget, &header, data);
  return fmt::format("{:x}{:08x}", data[1].effective, data[0].effective);
}

// key=value lines describing the worker from inside; needs a pool without
// seccomp, since looking around takes calls the policy forbids. Arguments:
// a loopback TCP port to try, and the supervisor's pid.
std::string Probe(const wasm::RunRequest& request) {
  std::map<std::string, std::string> facts;
  facts["pid"] = std::to_string(::getpid());
  facts["kill_all"] = Outcome(::kill(-1, 0));
  // The supervisor's pid as the supervisor sees it, passed in by the test.
  const pid_t supervisor =
      request.invoke_args.size() > 1 ? std::atoi(request.invoke_args[1].c_str()) : 2;
  facts["kill_supervisor"] = Outcome(::kill(supervisor, 0));
  facts["root"] = ListRoot();
  facts["open_etc_passwd"] = Outcome(::open("/etc/passwd", O_RDONLY));
  facts["uid"] = std::to_string(::getuid());
  facts["caps"] = EffectiveCaps();
  facts["no_new_privs"] = std::to_string(::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  facts["dumpable"] = std::to_string(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
  facts["fds"] = OpenFds();
  facts["environ"] = environ != nullptr && environ[0] != nullptr ? environ[0] : "";
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  facts["hostname"] = host;
  facts["rlimit_as"] = Limit(RLIMIT_AS);
  facts["rlimit_nofile"] = Limit(RLIMIT_NOFILE);
  facts["rlimit_nproc"] = Limit(RLIMIT_NPROC);
  facts["rlimit_fsize"] = Limit(RLIMIT_FSIZE);
  facts["rlimit_core"] = Limit(RLIMIT_CORE);
  facts["rlimit_cpu"] = Limit(RLIMIT_CPU);
  std::string interfaces;
  if (struct if_nameindex* list = ::if_nameindex()) {
    for (struct if_nameindex* item = list; item->if_index != 0; ++item) {
      interfaces += std::string(item->if_name) + ",";
    }
    ::if_freenameindex(list);
  }
  facts["interfaces"] = interfaces;
  const int port = request.invoke_args.empty() ? 9 : std::atoi(request.invoke_args[0].c_str());
  facts["connect_loopback"] = ConnectTcp("127.0.0.1", port);
  facts["connect_outside"] = ConnectTcp("192.0.2.1", 80);  // TEST-NET-1
  std::string text;
  for (const auto& [key, value] : facts) text += key + "=" + value + "\n";
  return text;
}

void SetOutput(wasm::RunRecord& record, const std::string& text) {
  record.status = wasm::RunStatus::kOk;
  record.stdout_data.assign(text.begin(), text.end());
}

bool Intercept(const wasm::RunRequest& request, wasm::RunRecord& record) {
  constexpr std::string_view kPrefix = "test:";
  if (!std::string_view(request.entry).starts_with(kPrefix)) return false;
  const std::string_view action = std::string_view(request.entry).substr(kPrefix.size());
  if (Forbidden(action)) {
    SetOutput(record, "survived a forbidden call");
  } else if (action == "crash") {
    *static_cast<volatile int*>(nullptr) = 1;
  } else if (action == "abort") {
    std::abort();
  } else if (action == "spin") {
    for (;;) asm volatile("" ::: "memory");  // a loop no compiler may remove
  } else if (action == "write_stderr") {
    SetOutput(record, "write(2): " + Outcome(::write(2, "x", 1)));
  } else if (action == "garbage") {
    char junk[] = "this is not a frame";
    iovec part{junk, sizeof junk};
    msghdr message{};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    ::sendmsg(kWorkerChannelFd, &message, MSG_NOSIGNAL);  // the one send call seccomp allows
    SetOutput(record, "sent garbage");
  } else if (action == "escape_out") {
    record.status = wasm::RunStatus::kOk;
    record.out_files.push_back({request.invoke_args.at(0), {'p', 'w', 'n'}});
  } else if (action == "pid") {
    SetOutput(record, std::to_string(::getpid()));
  } else if (action == "probe") {
    SetOutput(record, Probe(request));
  } else {
    SetOutput(record, "unknown action");
  }
  return true;
}

}  // namespace
}  // namespace milf::sandbox

int main(int argc, char** argv) {
  milf::sandbox::WorkerHooks hooks;
  hooks.intercept = milf::sandbox::Intercept;
  return milf::sandbox::RunWorker({argv + 1, static_cast<std::size_t>(argc - 1)}, hooks);
}
