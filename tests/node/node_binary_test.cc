// The lean `milf-node` binary as a real process against the fake server:
// it enrolls, runs jobs through its sandboxed worker pool (spawning itself
// as the worker), reports a device profile's battery and a policy's
// verdict, and stops cleanly on SIGTERM after finishing its job.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "fake_server.h"
#include "node_test_support.h"

extern char** environ;

namespace milf::node {
namespace {

using ::testing::HasSubstr;
using testing::FakeServer;
using testing::TempDir;
using Log = FakeServer::Log;

// A child process, killed at the end of the test if still running.
class Child {
 public:
  Child(std::vector<std::string> args, const std::filesystem::path& stderr_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int error = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

  // Sends `signal` and returns the exit status (or 128 + signal).
  int Signal(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

const std::string kBinary = std::string(MILF_BINARY_DIR) + "/bin/milf-node";

TEST(MilfNodeBinary, RunsJobsInTheSandboxAndStopsCleanly) {
  FakeServer server;
  const std::string echo = server.AddModule(testing::EchoModule());
  TempDir dir;
  testing::WriteFile(dir.path(), "phone.json",
                     R"({"battery": {"start_percent": 64}, "charging": true})");
  testing::WriteFile(dir.path(), "policy.json", R"({"only_while_charging": true})");
  Child node({kBinary, "--server", server.url(), "--token", "enroll-me", "--data",
              (dir.path() / "data").string(), "--name", "binary", "--slots", "2",
              "--device-profile", (dir.path() / "phone.json").string(), "--policy",
              (dir.path() / "policy.json").string()},
             dir.path() / "stderr");
  ASSERT_GT(node.pid(), 0);
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return !log.heartbeats.empty(); }))
      << testing::ReadFile(dir.path() / "stderr");
  const Log first = server.log();
  EXPECT_EQ(first.hellos.at(0).node_name, "binary");
  EXPECT_EQ(first.hellos.at(0).slots, 2);
  EXPECT_EQ(first.heartbeats[0].battery_percent, 64);
  EXPECT_EQ(first.heartbeats[0].charging, true);
  EXPECT_TRUE(first.heartbeats[0].accepting) << first.heartbeats[0].refusal_reason;

  proto::Job job;
  job.invocation_id = "sandboxed";
  job.module_sha256 = echo;
  job.input = {'v', 'i', 'a', ' ', 'p', 'o', 'o', 'l'};
  server.Send(job);
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return log.Result("sandboxed") != nullptr; }))
      << testing::ReadFile(dir.path() / "stderr");
  const proto::JobResult result = *server.log().Result("sandboxed");
  EXPECT_EQ(result.status, "ok") << result.message;
  EXPECT_EQ(std::string(result.output.begin(), result.output.end()), "via pool");

  // A job that outlives the signal is finished and reported before exit.
  const std::string loop = server.AddModule(testing::LoopModule());
  proto::Job slow;
  slow.invocation_id = "slow";
  slow.module_sha256 = loop;
  slow.limits.timeout_ms = 500;
  server.Send(slow);
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return log.started.size() == 2; }));
  EXPECT_EQ(node.Signal(SIGTERM), 0) << testing::ReadFile(dir.path() / "stderr");
  const Log last = server.log();
  ASSERT_NE(last.Result("slow"), nullptr);
  EXPECT_EQ(last.Result("slow")->status, "timeout");
  EXPECT_TRUE(server.WaitFor([](const Log& log) { return log.closes_by_node == 1; }));
}

TEST(MilfNodeBinary, ABadTokenEndsTheProcessWithAnError) {
  FakeServer server;
  TempDir dir;
  Child node({kBinary, "--server", server.url(), "--token", "wrong", "--data",
              (dir.path() / "data").string()},
             dir.path() / "stderr");
  ASSERT_GT(node.pid(), 0);
  EXPECT_EQ(node.Wait(), 1);
  EXPECT_THAT(testing::ReadFile(dir.path() / "stderr"), HasSubstr("refused the enrollment token"));
}

TEST(MilfNodeBinary, TheModuleCacheIsTrimmedToItsFlag) {
  FakeServer server;
  TempDir dir;
  const std::filesystem::path modules = dir.path() / "data" / "modules";
  const std::string older(700 << 10, 'o');
  const std::string newer(700 << 10, 'n');
  const auto put = [&](const std::string& bytes, std::chrono::minutes ago) {
    const std::string hash = Sha256Hex(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    testing::WriteFile(modules, hash + ".wasm", bytes);
    std::filesystem::last_write_time(modules / (hash + ".wasm"),
                                     std::filesystem::file_time_type::clock::now() - ago);
    return hash;
  };
  const std::string dropped = put(older, std::chrono::minutes(60));
  const std::string kept = put(newer, std::chrono::minutes(5));
  Child node({kBinary, "--server", server.url(), "--token", "enroll-me", "--data",
              (dir.path() / "data").string(), "--module-cache-mb", "1"},
             dir.path() / "stderr");
  ASSERT_GT(node.pid(), 0);
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return !log.hellos.empty(); }))
      << testing::ReadFile(dir.path() / "stderr");
  EXPECT_THAT(server.log().hellos.at(0).cached_modules, ::testing::ElementsAre(kept));
  EXPECT_FALSE(std::filesystem::exists(modules / (dropped + ".wasm")));
  EXPECT_EQ(node.Signal(SIGTERM), 0) << testing::ReadFile(dir.path() / "stderr");
}

TEST(MilfNodeBinary, BadFlagsAndFilesAreUsageErrors) {
  TempDir dir;
  testing::WriteFile(dir.path(), "policy.json", R"({"min_battery": 30})");
  Child bad_policy({kBinary, "--server", "http://127.0.0.1:1", "--token", "t", "--data",
                    (dir.path() / "data").string(), "--policy",
                    (dir.path() / "policy.json").string()},
                   dir.path() / "stderr");
  EXPECT_EQ(bad_policy.Wait(), 1);
  EXPECT_THAT(testing::ReadFile(dir.path() / "stderr"), HasSubstr("min_battery: unknown key"));

  Child bad_url({kBinary, "--server", "https://example.org", "--token", "t", "--data",
                 (dir.path() / "data").string()},
                dir.path() / "stderr2");
  EXPECT_EQ(bad_url.Wait(), 1);
  EXPECT_THAT(testing::ReadFile(dir.path() / "stderr2"), HasSubstr("TLS"));

  Child no_server({kBinary, "--token", "t"}, dir.path() / "stderr3");
  EXPECT_EQ(no_server.Wait(), 2);
  EXPECT_THAT(testing::ReadFile(dir.path() / "stderr3"), HasSubstr("--server"));

  Child no_cache({kBinary, "--server", "http://127.0.0.1:1", "--module-cache-mb", "0"},
                 dir.path() / "stderr4");
  EXPECT_EQ(no_cache.Wait(), 2);
  EXPECT_THAT(testing::ReadFile(dir.path() / "stderr4"), HasSubstr("--module-cache-mb"));
}

}  // namespace
}  // namespace milf::node
