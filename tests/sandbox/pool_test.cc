// The pool, driven end to end with real worker processes: the test worker
// (test_worker.cc) is the real worker plus test-only actions that attempt
// forbidden calls, crash, spin natively or look around inside the walls.
//
// Each wall is proved by what a worker cannot do. Where this kernel refuses
// a wall (no unprivileged user namespaces, no seccomp...), the tests that
// need it skip with the reason the pool reported.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/pool.h"
#include "support/wat.h"

namespace milf::sandbox {
namespace {

namespace fs = std::filesystem;
using milf::testing::Wasm;
using ::testing::HasSubstr;

constexpr std::string_view kPrelude = R"(
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $print (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  ;; Opens `path` (at 100, `len` bytes) under the preopen at fd 3; its fd is left at 8.
  (func $open (param $len i32) (param $oflags i32) (param $rights i64) (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 100) (local.get $len)
      (local.get $oflags) (local.get $rights) (local.get $rights) (i32.const 0) (i32.const 8)))
)";

std::vector<std::uint8_t> Module(std::string_view body) {
  return Wasm("(module " + std::string(kPrelude) + std::string(body) + ")");
}

const std::vector<std::uint8_t>& Empty() {
  static const auto bytes = Wasm(R"((module (func (export "_start"))))");
  return bytes;
}

const std::vector<std::uint8_t>& Hello() {
  static const auto bytes = Module(R"(
    (data (i32.const 200) "hello, sandbox\n")
    (func (export "_start")
      (call $print (i32.const 1) (i32.const 200) (i32.const 15))
      (call $print (i32.const 2) (i32.const 200) (i32.const 5))))");
  return bytes;
}

const std::vector<std::uint8_t>& Add() {
  static const auto bytes = Wasm(R"((module
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))))");
  return bytes;
}

// Writes "written by the guest" to /out/result.txt (the only preopen).
const std::vector<std::uint8_t>& WriteOut() {
  static const auto bytes = Module(R"(
    (data (i32.const 100) "result.txt")
    (data (i32.const 200) "written by the guest")
    (func (export "_start")
      (local $err i32)
      (local.set $err (call $open (i32.const 10) (i32.const 9) (i64.const -1)))  ;; create, truncate
      (if (local.get $err) (then (call $proc_exit (i32.add (i32.const 10) (local.get $err)))))
      (call $print (i32.load (i32.const 8)) (i32.const 200) (i32.const 20))))");
  return bytes;
}

// Copies in.txt from the preopen at fd 3 to stdout.
const std::vector<std::uint8_t>& ReadIn() {
  static const auto bytes = Module(R"(
    (data (i32.const 100) "in.txt")
    (func (export "_start")
      (local $err i32)
      (local.set $err (call $open (i32.const 6) (i32.const 0) (i64.const 2)))  ;; fd_read only
      (if (local.get $err) (then (call $proc_exit (i32.add (i32.const 10) (local.get $err)))))
      (i32.store (i32.const 16) (i32.const 1024))
      (i32.store (i32.const 20) (i32.const 1024))
      (drop (call $fd_read (i32.load (i32.const 8)) (i32.const 16) (i32.const 1) (i32.const 24)))
      (call $print (i32.const 1) (i32.const 1024) (i32.load (i32.const 24)))))");
  return bytes;
}

// 32 random bytes to stdout.
const std::vector<std::uint8_t>& Random() {
  static const auto bytes = Module(R"(
    (func (export "_start")
      (drop (call $random (i32.const 512) (i32.const 32)))
      (call $print (i32.const 1) (i32.const 512) (i32.const 32))))");
  return bytes;
}

// Sleeps 1 ms on the monotonic clock (one poll_oneoff clock subscription)
// and exits with poll_oneoff's errno.
const std::vector<std::uint8_t>& Sleep() {
  static const auto bytes = Module(R"(
    (func (export "_start")
      (i64.store (i32.const 1024) (i64.const 7))         ;; userdata
      (i32.store8 (i32.const 1032) (i32.const 0))        ;; tag: clock
      (i32.store (i32.const 1040) (i32.const 1))         ;; monotonic
      (i64.store (i32.const 1048) (i64.const 1000000))   ;; 1 ms, relative
      (i64.store (i32.const 1056) (i64.const 0))
      (i32.store16 (i32.const 1064) (i32.const 0))
      (call $proc_exit
        (call $poll_oneoff (i32.const 1024) (i32.const 2048) (i32.const 1) (i32.const 4096)))))");
  return bytes;
}

// Grows linear memory `step` pages at a time until refused, then exits 3.
std::vector<std::uint8_t> Grow(int step) {
  return Module(R"(
    (func (export "_start")
      (loop $again
        (if (i32.eq (memory.grow (i32.const )" +
                std::to_string(step) + R"()) (i32.const -1))
          (then (call $proc_exit (i32.const 3))))
        (br $again))))");
}

const std::vector<std::uint8_t>& Loop() {
  static const auto bytes = Wasm(R"((module (func (export "_start") (loop $l (br $l)))))");
  return bytes;
}

std::string Text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

PoolOptions TestOptions() {
  PoolOptions options;
  options.worker_command = {SANDBOX_TEST_WORKER};
  options.worker_memory_bytes = 512ull << 20;
  options.deadline_grace = std::chrono::seconds(2);
  return options;
}

std::unique_ptr<Pool> StartPool(PoolOptions options = TestOptions()) {
  auto pool = Pool::Start(std::move(options));
  EXPECT_TRUE(pool) << pool.error().message;
  return pool ? std::move(*pool) : nullptr;
}

wasm::RunRequest Request(const std::vector<std::uint8_t>& module) {
  wasm::RunRequest request;
  request.module = module;
  return request;
}

// A job that performs a test worker action instead of running a module.
wasm::RunRequest Action(const std::string& action, std::vector<std::string> args = {}) {
  wasm::RunRequest request = Request(Empty());
  request.entry = "test:" + action;
  request.invoke_args = std::move(args);
  return request;
}

const Wall* FindWall(const Walls& walls, std::string_view name) {
  for (const Wall& wall : walls) {
    if (wall.name == name) return &wall;
  }
  return nullptr;
}

// Skips the calling test unless `name` is active in `pool`.
#define REQUIRE_WALL(pool, name)                                                         \
  do {                                                                                   \
    const Wall* wall = FindWall((pool).walls(), name);                                   \
    ASSERT_NE(wall, nullptr) << name;                                                    \
    if (wall->state != WallState::kActive) GTEST_SKIP() << name << ": " << wall->detail; \
  } while (false)

std::map<std::string, std::string> Facts(const wasm::RunRecord& record) {
  std::map<std::string, std::string> facts;
  std::istringstream lines(Text(record.stdout_data));
  for (std::string line; std::getline(lines, line);) {
    const std::size_t equals = line.find('=');
    if (equals != std::string::npos) facts[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return facts;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::path(::testing::TempDir()) / "milf-pool-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(PoolTest, RunsLikeTheInProcessRunner) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  wasm::Runner runner(wasm::NewInterpreterEngine());
  for (const auto* module : {&Hello(), &Random(), &Empty()}) {
    wasm::RunRequest request = Request(*module);
    request.deterministic = true;
    request.seed = 7;
    const wasm::RunRecord sandboxed = pool->Run(request);
    const wasm::RunRecord local = runner.Run(request);
    EXPECT_EQ(sandboxed.status, local.status) << sandboxed.message;
    EXPECT_EQ(sandboxed.exit_code, local.exit_code);
    EXPECT_EQ(sandboxed.stdout_data, local.stdout_data);
    EXPECT_EQ(sandboxed.stderr_data, local.stderr_data);
    EXPECT_EQ(sandboxed.fuel_used, local.fuel_used);
    EXPECT_EQ(sandboxed.module_sha256, local.module_sha256);
  }
  EXPECT_EQ(Text(pool->Run(Request(Hello())).stdout_data), "hello, sandbox\n");
}

// Live clocks, kernel randomness and sleeping work inside the walls.
TEST(PoolTest, LiveRandomnessAndSleepWork) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  const wasm::RunRecord first = pool->Run(Request(Random()));
  const wasm::RunRecord second = pool->Run(Request(Random()));
  ASSERT_EQ(first.status, wasm::RunStatus::kOk) << first.message;
  EXPECT_EQ(first.stdout_data.size(), 32u);
  EXPECT_NE(first.stdout_data, second.stdout_data);
  const wasm::RunRecord slept = pool->Run(Request(Sleep()));
  EXPECT_EQ(slept.status, wasm::RunStatus::kOk) << slept.message;
  EXPECT_EQ(pool->stats().workers_lost, 0u);
}

TEST(PoolTest, ReturnsExportResults) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  wasm::RunRequest request = Request(Add());
  request.entry = "add";
  request.invoke_args = {"40", "2"};
  const wasm::RunRecord record = pool->Run(request);
  ASSERT_EQ(record.status, wasm::RunStatus::kOk) << record.message;
  ASSERT_EQ(record.results.size(), 1u);
  EXPECT_EQ(record.results[0].i32(), 42u);
}

TEST(PoolTest, ReportsEveryWall) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  for (const char* name :
       {"user_namespace",   "pid_namespace",    "mount_namespace", "network_namespace",
        "ipc_namespace",    "uts_namespace",    "cgroup",          "empty_root",
        "hostname",         "unprivileged_uid", "capabilities",    "not_dumpable",
        "file_descriptors", "environment",      "rlimit_as",       "rlimit_cpu",
        "rlimit_nofile",    "rlimit_nproc",     "rlimit_fsize",    "rlimit_core",
        "no_new_privs",     "seccomp"}) {
    const Wall* wall = FindWall(pool->walls(), name);
    ASSERT_NE(wall, nullptr) << name;
    EXPECT_FALSE(wall->detail.empty()) << name;
  }
  // These need nothing from the kernel beyond what every Linux has.
  for (const char* name : {"no_new_privs", "rlimit_as", "rlimit_nproc", "file_descriptors",
                           "environment", "capabilities"}) {
    EXPECT_EQ(FindWall(pool->walls(), name)->state, WallState::kActive) << name;
  }
}

TEST(PoolTest, StartFailsClearlyWhenTheWorkerCannotRun) {
  PoolOptions options = TestOptions();
  options.worker_command = {"/nonexistent/milf-worker"};
  auto pool = Pool::Start(options);
  ASSERT_FALSE(pool);
  EXPECT_EQ(pool.error().code, "spawn");
  EXPECT_THAT(pool.error().message, HasSubstr("could not be executed"));
}

TEST(PoolTest, RefusesBadOptions) {
  PoolOptions none = TestOptions();
  none.workers = 0;
  EXPECT_FALSE(Pool::Start(none));
  PoolOptions relative = TestOptions();
  relative.worker_command = {"milf"};
  EXPECT_FALSE(Pool::Start(relative));
  PoolOptions tiny = TestOptions();
  tiny.worker_memory_bytes = 1 << 20;
  EXPECT_FALSE(Pool::Start(tiny));
}

class ForbiddenCallTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ForbiddenCallTest, EndsAsSandboxViolationAndThePoolRecovers) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  REQUIRE_WALL(*pool, "seccomp");
  const wasm::RunRecord record = pool->Run(Action(GetParam()));
  EXPECT_EQ(record.status, wasm::RunStatus::kSandboxViolation)
      << wasm::StatusName(record.status) << ": " << record.message << Text(record.stdout_data);
  const wasm::RunRecord next = pool->Run(Request(Hello()));
  EXPECT_EQ(next.status, wasm::RunStatus::kOk) << next.message;
  EXPECT_EQ(Text(next.stdout_data), "hello, sandbox\n");
  EXPECT_EQ(pool->stats().workers_lost, 1u);
}

INSTANTIATE_TEST_SUITE_P(Calls, ForbiddenCallTest,
                         ::testing::Values("open", "socket", "connect", "execve", "ptrace", "fork",
                                           "mount", "kill"));

TEST(PoolTest, WritesToOtherDescriptorsFailQuietly) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  REQUIRE_WALL(*pool, "seccomp");
  const wasm::RunRecord record = pool->Run(Action("write_stderr"));
  ASSERT_EQ(record.status, wasm::RunStatus::kOk);
  EXPECT_EQ(Text(record.stdout_data), "write(2): EBADF");
}

TEST(PoolTest, CrashGivesCrashedAndTheNextJobSucceeds) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  const wasm::RunRecord crash = pool->Run(Action("crash"));
  EXPECT_EQ(crash.status, wasm::RunStatus::kCrashed);
  EXPECT_THAT(crash.message, HasSubstr("SIGSEGV"));
  const wasm::RunRecord aborted = pool->Run(Action("abort"));
  EXPECT_EQ(aborted.status, wasm::RunStatus::kCrashed) << aborted.message;
  EXPECT_THAT(aborted.message, HasSubstr("died of SIG"));
  EXPECT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
  EXPECT_EQ(pool->stats().workers_lost, 2u);
}

TEST(PoolTest, MemoryGrowthIsStoppedByTheEngineCap) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  const auto module = Grow(256);  // 16 MiB at a time
  wasm::RunRequest request = Request(module);
  request.limits.memory_bytes = 64ull << 20;
  const wasm::RunRecord record = pool->Run(request);
  EXPECT_EQ(record.status, wasm::RunStatus::kExitNonzero) << record.message;
  EXPECT_EQ(record.exit_code, 3);  // memory.grow said no
  EXPECT_LE(record.peak_memory_bytes, 64ull << 20);
  EXPECT_EQ(pool->stats().workers_lost, 0u);
}

TEST(PoolTest, MemoryGrowthPastTheEngineCapHitsRlimitAs) {
  PoolOptions options = TestOptions();
  options.worker_memory_bytes = 256ull << 20;
  auto pool = StartPool(options);
  ASSERT_TRUE(pool);
  REQUIRE_WALL(*pool, "rlimit_as");
  const auto module = Grow(1024);  // 64 MiB at a time
  wasm::RunRequest request = Request(module);
  request.limits.memory_bytes = 2ull << 30;  // an engine cap the quota cannot honour
  const wasm::RunRecord record = pool->Run(request);
  EXPECT_EQ(record.status, wasm::RunStatus::kMemoryLimit)
      << wasm::StatusName(record.status) << ": " << record.message;
  EXPECT_THAT(record.message, HasSubstr("RLIMIT_AS"));
  EXPECT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
}

TEST(PoolTest, WasmInfiniteLoopEndsAtTheEngineDeadline) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  wasm::RunRequest request = Request(Loop());
  request.limits.timeout = std::chrono::milliseconds(100);
  const wasm::RunRecord record = pool->Run(request);
  EXPECT_EQ(record.status, wasm::RunStatus::kTimeout);
  EXPECT_EQ(pool->stats().workers_lost, 0u);  // the engine stopped it; no kill needed
}

TEST(PoolTest, NativeSpinIsKilledAtTheDeadlineWhileOtherJobsComplete) {
  PoolOptions options = TestOptions();
  options.workers = 2;
  options.deadline_grace = std::chrono::milliseconds(500);
  auto pool = StartPool(options);
  ASSERT_TRUE(pool);
  std::atomic<bool> spin_returned{false};
  wasm::RunRecord spin;
  std::thread spinner([&] {
    wasm::RunRequest request = Action("spin");
    request.limits.timeout = std::chrono::milliseconds(500);
    spin = pool->Run(request);
    spin_returned = true;
  });
  int completed_meanwhile = 0;
  for (int i = 0; i < 20; ++i) {
    const wasm::RunRecord record = pool->Run(Request(Hello()));
    EXPECT_EQ(record.status, wasm::RunStatus::kOk) << record.message;
    if (!spin_returned) ++completed_meanwhile;
  }
  spinner.join();
  EXPECT_EQ(spin.status, wasm::RunStatus::kTimeout);
  EXPECT_THAT(spin.message, HasSubstr("hard deadline"));
  EXPECT_EQ(completed_meanwhile, 20);
  EXPECT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
}

TEST(PoolTest, WorkerDyingWhileIdleDoesNotFailTheNextJob) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  ASSERT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
  const std::vector<pid_t> pids = pool->worker_pids();
  ASSERT_EQ(pids.size(), 1u);
  ::kill(pids[0], SIGKILL);
  // Wait until it is dead, without reaping it: that is the pool's job.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pids[0]), &info, WEXITED | WNOWAIT), 0);
  const wasm::RunRecord record = pool->Run(Request(Hello()));
  EXPECT_EQ(record.status, wasm::RunStatus::kOk) << record.message;
  EXPECT_NE(pool->worker_pids(), pids);
}

TEST(PoolTest, ProtocolGarbageKillsTheWorkerNotThePool) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  const wasm::RunRecord record = pool->Run(Action("garbage"));
  EXPECT_EQ(record.status, wasm::RunStatus::kInternalError);
  EXPECT_THAT(record.message, HasSubstr("protocol"));
  EXPECT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
}

TEST(PoolTest, SendsEachModuleToAWorkerOnce) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  pool->Run(Request(Hello()));
  pool->Run(Request(Hello()));
  EXPECT_EQ(pool->stats().modules_sent, 1u);
  pool->Run(Request(Empty()));
  pool->Run(Request(Hello()));
  EXPECT_EQ(pool->stats().modules_sent, 2u);
}

TEST(PoolTest, RecyclesAfterTheJobBudget) {
  PoolOptions options = TestOptions();
  options.recycle_after_jobs = 3;
  auto pool = StartPool(options);
  ASSERT_TRUE(pool);
  const auto first = pool->worker_pids();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
  EXPECT_NE(pool->worker_pids(), first);
  EXPECT_EQ(pool->stats().workers_recycled, 1u);
  EXPECT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
}

TEST(PoolTest, RecyclesWhenPeakRssPassesTheBound) {
  PoolOptions options = TestOptions();
  options.recycle_rss_bytes = 1 << 20;  // any worker is past this after one job
  auto pool = StartPool(options);
  ASSERT_TRUE(pool);
  const auto first = pool->worker_pids();
  ASSERT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
  EXPECT_NE(pool->worker_pids(), first);
  EXPECT_EQ(pool->stats().workers_recycled, 1u);
}

TEST(PoolTest, RecyclesBeforeTheCpuQuotaCouldRunOut) {
  PoolOptions options = TestOptions();
  options.worker_cpu_seconds = 1;  // less than one job's timeout: every used worker is stale
  auto pool = StartPool(options);
  ASSERT_TRUE(pool);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(pool->Run(Request(Hello())).status, wasm::RunStatus::kOk);
  EXPECT_EQ(pool->stats().workers_recycled, 2u);
  EXPECT_EQ(pool->stats().workers_lost, 0u);
}

TEST(PoolTest, NoJobSeesAnotherJobsFiles) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  const wasm::RunRecord writer = pool->Run(Request(WriteOut()));
  ASSERT_EQ(writer.status, wasm::RunStatus::kOk) << writer.message;
  ASSERT_EQ(writer.out_files.size(), 1u);
  EXPECT_EQ(writer.out_files[0].path, "/out/result.txt");
  const wasm::RunRecord after = pool->Run(Request(Hello()));
  EXPECT_TRUE(after.out_files.empty());
}

TEST(PoolTest, HostDirectoriesAreSnapshotsAndOutComesBack) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  TempDir in;
  TempDir out;
  std::ofstream(in.path() / "in.txt") << "from the host";
  wasm::RunRequest read = Request(ReadIn());
  read.mounts.push_back(wasm::Mount{"/in", in.path(), {}, true});
  const wasm::RunRecord copied = pool->Run(read);
  ASSERT_EQ(copied.status, wasm::RunStatus::kOk) << copied.message;
  EXPECT_EQ(Text(copied.stdout_data), "from the host");

  wasm::RunRequest write = Request(WriteOut());
  write.mounts.push_back(wasm::Mount{"/out", out.path(), {}, false});
  const wasm::RunRecord wrote = pool->Run(write);
  ASSERT_EQ(wrote.status, wasm::RunStatus::kOk) << wrote.message;
  EXPECT_TRUE(wrote.out_files.empty());  // written to the host, as in-process
  std::ifstream result(out.path() / "result.txt");
  std::string text((std::istreambuf_iterator<char>(result)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "written by the guest");
}

TEST(PoolTest, OutPathsFromTheWorkerAreConfined) {
  auto pool = StartPool();
  ASSERT_TRUE(pool);
  TempDir out;
  for (const char* path : {"/out/../escape.txt", "/etc/passwd", "/out/a/../../escape.txt"}) {
    wasm::RunRequest request = Action("escape_out", {path});
    request.mounts.push_back(wasm::Mount{"/out", out.path() / "out", {}, false});
    fs::create_directories(out.path() / "out");
    const wasm::RunRecord record = pool->Run(request);
    EXPECT_EQ(record.status, wasm::RunStatus::kInternalError) << path;
  }
  EXPECT_FALSE(fs::exists(out.path() / "escape.txt"));
  wasm::RunRequest fine = Action("escape_out", {"/out/fine.txt"});
  fine.mounts.push_back(wasm::Mount{"/out", out.path() / "out", {}, false});
  EXPECT_EQ(pool->Run(fine).status, wasm::RunStatus::kOk);
  EXPECT_TRUE(fs::exists(out.path() / "out" / "fine.txt"));
}

TEST(PoolTest, ManyThreadsShareThePool) {
  PoolOptions options = TestOptions();
  options.workers = 2;
  auto pool = StartPool(options);
  ASSERT_TRUE(pool);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        wasm::RunRequest request = Request(Add());
        request.entry = "add";
        request.invoke_args = {std::to_string(t), std::to_string(i)};
        const wasm::RunRecord record = pool->Run(request);
        if (record.status != wasm::RunStatus::kOk || record.results.size() != 1 ||
            record.results[0].i32() != static_cast<std::uint32_t>(t + i)) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(pool->stats().jobs, 200u);
}

// Looking around inside the walls takes calls seccomp forbids, so these
// probes run in pools without it; every other wall stays up.
PoolOptions ProbeOptions() {
  PoolOptions options = TestOptions();
  options.seccomp = false;
  return options;
}

TEST(PoolTest, PidNamespaceShowsTheWorkerOnlyItself) {
  auto pool = StartPool(ProbeOptions());
  ASSERT_TRUE(pool);
  REQUIRE_WALL(*pool, "pid_namespace");
  const auto facts = Facts(pool->Run(Action("probe", {"9", std::to_string(::getpid())})));
  EXPECT_EQ(facts.at("pid"), "1");
  EXPECT_EQ(facts.at("kill_all"), "ESRCH");  // kill(-1): nobody else to signal
  EXPECT_EQ(facts.at("kill_supervisor"), "ESRCH");
}

int ListenOnLoopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), size), 0);
  EXPECT_EQ(::listen(fd, 8), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  port = ntohs(address.sin_port);
  return fd;
}

TEST(PoolTest, NetworkNamespaceReachesNothing) {
  int port = 0;
  const int listener = ListenOnLoopback(port);
  const std::vector<std::string> args = {std::to_string(port), std::to_string(::getpid())};
  {
    // Control: without namespaces the same probe reaches the listener.
    PoolOptions open = ProbeOptions();
    open.namespaces = false;
    auto pool = StartPool(open);
    ASSERT_TRUE(pool);
    EXPECT_EQ(Facts(pool->Run(Action("probe", args))).at("connect_loopback"), "ok");
  }
  auto pool = StartPool(ProbeOptions());
  ASSERT_TRUE(pool);
  REQUIRE_WALL(*pool, "network_namespace");
  const auto facts = Facts(pool->Run(Action("probe", args)));
  EXPECT_NE(facts.at("connect_loopback"), "ok");
  EXPECT_NE(facts.at("connect_outside"), "ok");
  EXPECT_EQ(facts.at("interfaces"), "lo,");
  ::close(listener);
}

TEST(PoolTest, WorkerHasNoFilesystemNoPrivilegesAndTightLimits) {
  PoolOptions options = ProbeOptions();
  auto pool = StartPool(options);
  ASSERT_TRUE(pool);
  const auto facts = Facts(pool->Run(Action("probe", {"9", "2"})));
  if (FindWall(pool->walls(), "empty_root")->state == WallState::kActive) {
    EXPECT_EQ(facts.at("root"), "");
    EXPECT_EQ(facts.at("open_etc_passwd"), "ENOENT");
  }
  if (FindWall(pool->walls(), "hostname")->state == WallState::kActive) {
    EXPECT_EQ(facts.at("hostname"), "milf-sandbox");
  }
  if (FindWall(pool->walls(), "user_namespace")->state == WallState::kActive) {
    EXPECT_EQ(facts.at("uid"), "0");  // its own namespace's root, nobody outside
  } else if (::geteuid() == 0) {
    EXPECT_EQ(facts.at("uid"), "65534");
  }
  EXPECT_EQ(facts.at("caps"), "000000000");
  EXPECT_EQ(facts.at("no_new_privs"), "1");
  EXPECT_EQ(facts.at("dumpable"), "0");
  EXPECT_EQ(facts.at("environ"), "");
  EXPECT_EQ(facts.at("rlimit_as"), std::to_string(options.worker_memory_bytes));
  EXPECT_EQ(facts.at("rlimit_cpu"), std::to_string(options.worker_cpu_seconds));
  EXPECT_EQ(facts.at("rlimit_nproc"), "0");
  EXPECT_EQ(facts.at("rlimit_fsize"), "0");
  EXPECT_EQ(facts.at("rlimit_core"), "0");
  EXPECT_EQ(facts.at("rlimit_nofile"), "4");
  // The probe's own sockets and directory handles are closed again by now:
  // only the channel is left.
  EXPECT_EQ(facts.at("fds"), "3,");
}

std::size_t OpenDescriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

std::uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Children of this process, and how many of them are zombies.
std::pair<int, int> Children() {
  int children = 0;
  int zombies = 0;
  const std::string self = std::to_string(::getpid());
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    const std::size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string state;
    std::string parent;
    fields >> state >> parent;
    if (parent != self) continue;
    ++children;
    if (state == "Z") ++zombies;
  }
  return {children, zombies};
}

TEST(PoolTest, TenThousandJobsLeakNothing) {
  PoolOptions options = TestOptions();
  options.workers = 2;
  options.recycle_after_jobs = 500;  // recycling is part of what must not leak
  auto pool = StartPool(options);
  ASSERT_TRUE(pool);
  for (int i = 0; i < 500; ++i) pool->Run(Request(Empty()));  // warm caches and allocators
  const std::size_t fds_before = OpenDescriptors();
  const std::uint64_t rss_before = ResidentBytes();
  int failures = 0;
  for (int i = 0; i < 10'000; ++i) {
    if (pool->Run(Request(Empty())).status != wasm::RunStatus::kOk) ++failures;
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GE(pool->stats().workers_recycled, 20u);
  EXPECT_EQ(OpenDescriptors(), fds_before);
  const auto [children, zombies] = Children();
  EXPECT_EQ(zombies, 0);
  EXPECT_EQ(children, 2);  // exactly the live workers
  EXPECT_LT(ResidentBytes(), rss_before + (8ull << 20));
}

}  // namespace
}  // namespace milf::sandbox
