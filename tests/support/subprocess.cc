#include "support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

extern char** environ;

namespace milf::testing {
namespace {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(-1); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Fail("io", std::string("pipe2: ") + std::strerror(errno));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Unexpected<Error> ErrnoFailure(const char* what, int error) {
  return Fail("io", std::string(what) + ": " + std::strerror(error));
}

// Owns the spawn attributes: SIGPIPE back to its default in the child.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  void Redirect(int from, int to) { posix_spawn_file_actions_adddup2(&actions_, from, to); }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

// Feeds stdin and drains stdout and stderr together, so a child blocked on
// a full output pipe never deadlocks against us blocked on its input.
Status Pump(UniqueFd in, UniqueFd out, UniqueFd err, std::string_view input, ProcessResult* result) {
  if (input.empty()) in.Reset(-1);
  if (in.valid() && ::fcntl(in.get(), F_SETFL, O_NONBLOCK) != 0) return ErrnoFailure("fcntl", errno);
  size_t written = 0;
  char buf[64 * 1024];
  while (in.valid() || out.valid() || err.valid()) {
    pollfd fds[3] = {{in.get(), POLLOUT, 0}, {out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoFailure("poll", errno);
    }
    if (fds[0].revents != 0) {
      const ssize_t n = ::write(in.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      // EPIPE: the child stopped reading; what it did with the rest is its business.
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in.Reset(-1);
    }
    UniqueFd* sources[2] = {&out, &err};
    std::string* sinks[2] = {&result->out, &result->err};
    for (int i = 0; i < 2; ++i) {
      if (fds[i + 1].revents == 0) continue;
      const ssize_t n = ::read(sources[i]->get(), buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        sources[i]->Reset(-1);
      }
    }
  }
  return {};
}

}  // namespace

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, std::string_view input) {
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });

  if (argv.empty()) return Fail("invalid_argument", "empty argv");
  auto in = MakePipe();
  auto out = MakePipe();
  auto err = MakePipe();
  if (!in.ok()) return Fail(in.error());
  if (!out.ok()) return Fail(out.error());
  if (!err.ok()) return Fail(err.error());

  SpawnSetup setup;
  setup.Redirect(in->read.get(), STDIN_FILENO);
  setup.Redirect(out->write.get(), STDOUT_FILENO);
  setup.Redirect(err->write.get(), STDERR_FILENO);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  const int spawn_error =
      ::posix_spawn(&pid, argv[0].c_str(), setup.actions(), setup.attr(), args.data(), environ);
  if (spawn_error != 0) return ErrnoFailure(argv[0].c_str(), spawn_error);
  in->read.Reset(-1);
  out->write.Reset(-1);
  err->write.Reset(-1);

  ProcessResult result;
  const Status pumped = Pump(std::move(in->write), std::move(out->read), std::move(err->read), input, &result);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoFailure("waitpid", errno);
  }
  if (!pumped.ok()) return Fail(pumped.error());
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

}  // namespace milf::testing
