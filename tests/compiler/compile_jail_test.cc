// The compile jail on its own: what a command inside can see and reach,
// and the limits that stop it.
#include "sandbox/compile_jail.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace milf::sandbox {
namespace {

namespace fs = std::filesystem;

class CompileJailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto jail = CompileJail::Create();
    ASSERT_TRUE(jail) << jail.error().message;
    jail_.emplace(std::move(*jail));
    work_ = fs::temp_directory_path() / ("milf-jail-test-" + std::to_string(::getpid()));
    fs::create_directories(work_);
  }
  void TearDown() override { fs::remove_all(work_); }

  JailOutcome Run(std::vector<std::string> argv, std::int64_t wall_ms = 10'000) {
    JailSpec spec;
    spec.argv = std::move(argv);
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.read_only = {"/usr", "/lib", "/lib64", "/bin"};
    spec.work_dir = work_.string();
    spec.wall_ms = wall_ms;
    spec.output_bytes = 4096;
    auto outcome = jail_->Run(spec);
    EXPECT_TRUE(outcome) << outcome.error().message;
    return outcome ? *outcome : JailOutcome{};
  }

  std::optional<CompileJail> jail_;
  fs::path work_;
};

TEST_F(CompileJailTest, RunsACommandAndCollectsItsOutput) {
  const JailOutcome outcome = Run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(outcome.exit_code, 3);
  EXPECT_EQ(outcome.output, "out\nerr\n");
  EXPECT_FALSE(outcome.timed_out);
}

TEST_F(CompileJailTest, SeesOnlyItsBindsAndWork) {
  std::ofstream(work_ / "input.txt") << "visible\n";
  const JailOutcome outcome =
      Run({"/bin/sh", "-c", "cat input.txt; ls /; cat /etc/passwd || echo no-etc; pwd"});
  EXPECT_EQ(outcome.output.find("root:"), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("visible\n"), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("no-etc"), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("/compile\n"), std::string::npos) << outcome.output;
}

TEST_F(CompileJailTest, BindsAreReadOnlyAndWorkIsWritable) {
  const JailOutcome outcome =
      Run({"/bin/sh", "-c", "touch /usr/x 2>/dev/null || echo usr-ro; echo made > out.txt"});
  EXPECT_NE(outcome.output.find("usr-ro"), std::string::npos) << outcome.output;
  std::ifstream made(work_ / "out.txt");
  std::string line;
  std::getline(made, line);
  EXPECT_EQ(line, "made");
}

TEST_F(CompileJailTest, HasNoNetwork) {
  const JailOutcome outcome =
      Run({"/bin/bash", "-c",
           "echo x > /dev/tcp/127.0.0.1/80 2>/dev/null && echo connected || echo refused"});
  EXPECT_NE(outcome.output.find("refused"), std::string::npos) << outcome.output;
}

TEST_F(CompileJailTest, RunsUnprivileged) {
  const JailOutcome outcome = Run({"/bin/sh", "-c", "grep -E '^(Uid|CapEff)' /proc/self/status"});
  if (::geteuid() == 0) {
    EXPECT_NE(outcome.output.find("65534"), std::string::npos) << outcome.output;
  }
  EXPECT_NE(outcome.output.find("CapEff:\t0000000000000000"), std::string::npos) << outcome.output;
}

TEST_F(CompileJailTest, WallClockKillsTheWholeTree) {
  const JailOutcome outcome = Run({"/bin/sh", "-c", "sleep 30 & sleep 30; echo never"}, 300);
  EXPECT_TRUE(outcome.timed_out);
  EXPECT_EQ(outcome.signal, SIGKILL);
  EXPECT_EQ(outcome.output.find("never"), std::string::npos);
}

TEST_F(CompileJailTest, OutputIsCapped) {
  const JailOutcome outcome = Run({"/bin/sh", "-c", "head -c 100000 /dev/zero"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.output.size(), 4096u);
  EXPECT_TRUE(outcome.output_truncated);
}

TEST_F(CompileJailTest, RefusesBadSpecs) {
  JailSpec spec;
  spec.argv = {"sh"};
  spec.work_dir = work_.string();
  EXPECT_FALSE(jail_->Run(spec));
  spec.argv = {"/bin/sh"};
  spec.read_only = {"/usr/../etc"};
  EXPECT_FALSE(jail_->Run(spec));
  spec.read_only = {};
  spec.work_dir = "relative";
  EXPECT_FALSE(jail_->Run(spec));
}

}  // namespace
}  // namespace milf::sandbox
