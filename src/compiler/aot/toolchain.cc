#include "compiler/aot/toolchain.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "base/sha256.h"
#include "compiler/aot/aot_abi.h"
#include "compiler/aot/glue_writer.h"

extern char** environ;

namespace milf::aot {
namespace {

// Bumped whenever glue_writer.cc changes what it emits.
constexpr int kGlueVersion = 5;
constexpr std::size_t kMaxToolOutput = 64 * 1024;

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FirstLine(std::string text) {
  const auto end = text.find('\n');
  if (end != std::string::npos) text.resize(end);
  return text;
}

Result<std::string> ToolOutput(const std::vector<std::string>& argv) {
  auto run = RunTool(argv, ".", std::chrono::seconds(60));
  if (!run) return Fail("toolchain", run.error().message);
  if (run->exit_code != 0) {
    return Fail("toolchain", argv[0] + " failed: " + FirstLine(run->output));
  }
  return FirstLine(run->output);
}

Result<std::string> FileSha256(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("toolchain", "cannot read " + path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ToHex(Sha256(bytes));
}

// Waits for `pid`, reading its output from `fd` until `deadline_ms`.
ToolRun Collect(pid_t pid, int fd, std::int64_t deadline_ms) {
  ToolRun run;
  std::array<char, 4096> buffer;
  bool open = true;
  while (open) {
    const std::int64_t left = deadline_ms - NowMillis();
    if (left <= 0) {
      run.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd poller{fd, POLLIN, 0};
    const int ready = poll(&poller, 1, static_cast<int>(std::min<std::int64_t>(left, 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t got = read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      open = false;
    } else if (run.output.size() < kMaxToolOutput) {
      run.output.append(buffer.data(),
                        std::min<std::size_t>(static_cast<std::size_t>(got),
                                              kMaxToolOutput - run.output.size()));
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!run.timed_out && WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    run.output += "\nkilled by signal " + std::to_string(WTERMSIG(status));
  }
  return run;
}

}  // namespace

Target HostTarget() {
#if defined(__aarch64__)
  return *FindTarget("aarch64-linux-gnu");
#else
  return *FindTarget("x86_64-linux-gnu");
#endif
}

std::optional<Target> FindTarget(std::string_view triple) {
#if defined(__aarch64__)
  constexpr bool kHostIsArm = true;
#else
  constexpr bool kHostIsArm = false;
#endif
  if (triple == "x86_64-linux-gnu") {
    return Target{std::string(triple), kHostIsArm ? "x86_64-linux-gnu-gcc" : "gcc", {}};
  }
  if (triple == "aarch64-linux-gnu") {
    return Target{std::string(triple), kHostIsArm ? "gcc" : "aarch64-linux-gnu-gcc", {}};
  }
  return std::nullopt;
}

const std::vector<std::string>& ArtifactCompileFlags() {
  // -ffp-contract=off: no fused multiply-add, whose rounding WebAssembly
  // forbids (aarch64 gcc fuses by default). -fsignaling-nans: no folding of
  // x*1, x-0, x/-1 to x or -x, which would let a signalling NaN through
  // unquieted where WebAssembly requires an arithmetic NaN. Explicit bounds checks, no
  // signal handler. Hidden symbols but the entry point; no stack protector
  // or fortify wrappers, which would tie the artifact to newer glibc.
  static const std::vector<std::string> flags = {
      "-std=gnu11", "-O2", "-fPIC", "-fvisibility=hidden", "-ffp-contract=off",
      "-fsignaling-nans", "-fno-math-errno", "-fno-stack-protector", "-U_FORTIFY_SOURCE", "-DNDEBUG",
      "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0", "-w", "-Wl,-z,noexecstack", "-Wl,-z,defs",
      "-Wl,--hash-style=gnu", "-Wl,-s"};
  return flags;
}

Toolchain::Toolchain(Target target, ToolchainPaths paths)
    : target_(std::move(target)), paths_(std::move(paths)) {}

Result<std::string> Toolchain::Fingerprint() const {
  std::lock_guard lock(mutex_);
  if (fingerprint_) return *fingerprint_;
  std::string text = "milf-aot glue " + std::to_string(kGlueVersion) + " abi " +
                     std::to_string(MILF_AOT_ABI_VERSION) + "\n";
  text += "abi-header " + ToHex(Sha256(AbiHeaderText())) + "\n";
  auto wasm2c = ToolOutput({paths_.wasm2c, "--version"});
  if (!wasm2c) return Fail(wasm2c.error());
  auto version = ToolOutput({target_.cc, "-dumpfullversion"});
  if (!version) return Fail(version.error());
  auto machine = ToolOutput({target_.cc, "-dumpmachine"});
  if (!machine) return Fail(machine.error());
  text += "wasm2c " + *wasm2c + "\ncc " + *version + " " + *machine + "\nflags";
  for (const std::string& flag : ArtifactCompileFlags()) text += " " + flag;
  for (const std::string& flag : target_.flags) text += " " + flag;
  text += "\n";
  for (const char* file : {"wasm-rt.h", "wasm-rt-impl.h", "wasm-rt-impl.c"}) {
    auto digest = FileSha256(paths_.runtime_dir / file);
    if (!digest) return Fail(digest.error());
    text += std::string(file) + " " + *digest + "\n";
  }
  fingerprint_ = ToHex(Sha256(text));
  return *fingerprint_;
}

Result<ToolRun> RunTool(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                        std::chrono::seconds timeout) {
  if (argv.empty()) return Fail("spawn", "empty command");
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Fail("spawn", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  // Nothing but stdio: a compiler must not keep a server's sockets (or
  // anything else this process has open) alive.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group, so a timeout kills the compiler's children too.
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    return Fail("spawn", "cannot run " + argv[0] + ": " + std::strerror(spawned));
  }
  ToolRun run = Collect(pid, pipe_fds[0], NowMillis() + timeout.count() * 1000);
  close(pipe_fds[0]);
  return run;
}

}  // namespace milf::aot
