// `milf` and the sandbox: `milf run` goes through a sandbox worker unless
// --no-sandbox says otherwise, `milf sandbox-check` reports the walls, and
// the worker mode is hidden and refuses to start without a channel.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/subprocess.h"
#include "support/wat.h"

namespace milf::sandbox {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kMilf = MILF_BINARY_DIR "/bin/milf";

// Writes "hi" to stdout and "result" to /out/r.txt.
constexpr std::string_view kModule = R"((module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "r.txt")
  (data (i32.const 200) "hi\n")
  (data (i32.const 300) "result")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 5)
      (i32.const 9) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 16)))
    (i32.store (i32.const 0) (i32.const 300))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $fd_write (i32.load (i32.const 16)) (i32.const 0) (i32.const 1) (i32.const 8)))))
)";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "milf-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    const auto wasm = testing::Wasm(kModule);
    std::ofstream(module(), std::ios::binary)
        .write(reinterpret_cast<const char*>(wasm.data()),
               static_cast<std::streamsize>(wasm.size()));
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  fs::path module() const { return dir_ / "m.wasm"; }

  static testing::ProcessResult Milf(std::vector<std::string> args) {
    args.insert(args.begin(), kMilf);
    auto result = testing::RunProcess(args, "");
    EXPECT_TRUE(result) << (result ? "" : result.error().message);
    return result ? std::move(*result) : testing::ProcessResult{};
  }

  fs::path dir_;
};

TEST_F(CliTest, RunGoesThroughTheSandboxAndWritesOut) {
  const fs::path out = dir_ / "out";
  const auto r = Milf({"run", module().string(), "--out", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_THAT(r.err, Not(HasSubstr("no-sandbox")));
  std::ifstream written(out / "r.txt");
  std::string text((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "result");
}

TEST_F(CliTest, NoSandboxRunsInProcessAndSaysSo) {
  const auto r = Milf({"run", module().string(), "--no-sandbox"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_THAT(r.err, HasSubstr("--no-sandbox: running in-process"));
}

TEST_F(CliTest, WritableHostDirectoryNeedsNoSandbox) {
  const auto sandboxed = Milf({"run", module().string(), "--dir", dir_.string() + ":/data"});
  EXPECT_NE(sandboxed.exit_code, 0);
  EXPECT_THAT(sandboxed.err, HasSubstr("add :ro"));
  const auto local =
      Milf({"run", module().string(), "--dir", dir_.string() + ":/data", "--no-sandbox"});
  EXPECT_EQ(local.exit_code, 0) << local.err;
}

TEST_F(CliTest, SandboxCheckReportsTheWallsAsJson) {
  const auto r = Milf({"sandbox-check", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  boost::json::error_code error;
  const boost::json::value json = boost::json::parse(r.out, error);
  ASSERT_FALSE(error) << r.out;
  const boost::json::object& root = json.as_object();
  EXPECT_TRUE(root.at("works").as_bool());
  EXPECT_EQ(root.at("probe").as_object().at("status").as_string(), "ok");
  std::vector<std::string> names;
  for (const auto& wall : root.at("walls").as_array()) {
    const auto& object = wall.as_object();
    names.emplace_back(object.at("name").as_string());
    const std::string state(object.at("state").as_string());
    EXPECT_TRUE(state == "active" || state == "missing" || state == "not_needed") << state;
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf({"pid_namespace", "network_namespace", "seccomp",
                                              "no_new_privs", "rlimit_as", "cgroup"}));
  EXPECT_FALSE(root.at("seccomp_allowlist").as_array().empty());
}

TEST_F(CliTest, SandboxCheckPrintsOneLinePerWall) {
  const auto r = Milf({"sandbox-check"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("seccomp"));
  EXPECT_THAT(r.out, HasSubstr("probe job: ok"));
}

TEST_F(CliTest, WorkerModeIsHiddenAndNeedsAChannel) {
  EXPECT_THAT(Milf({"--help"}).out, Not(HasSubstr("__worker")));
  EXPECT_EQ(Milf({"__worker"}).exit_code, 2);
  EXPECT_EQ(Milf({"__worker", "--fd", "1"}).exit_code, 2);   // below 3
  EXPECT_EQ(Milf({"__worker", "--fd", "9"}).exit_code, 2);   // not open
  EXPECT_EQ(Milf({"__worker", "--fd", "3x"}).exit_code, 2);  // not a number
}

}  // namespace
}  // namespace milf::sandbox
