// The `milf run` command as a user meets it: exit statuses, the failure
// line, JSON records, and determinism across separate processes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/subprocess.h"
#include "support/wat.h"

namespace milf::testing {
namespace {

namespace fs = std::filesystem;

const std::string kMilf = std::string(MILF_BINARY_DIR) + "/bin/milf";
const std::string kExamples = std::string(MILF_BINARY_DIR) + "/examples/";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("milf-cli-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteModule(const std::string& name, std::string_view wat) {
    const fs::path path = dir_ / name;
    const auto bytes = Wasm(wat);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path.string();
  }

  static ProcessResult Run(std::vector<std::string> args, std::string_view input = "") {
    args.insert(args.begin(), {kMilf, "run"});
    auto result = RunProcess(args, input);
    EXPECT_TRUE(result.ok());
    return result.ok() ? *result : ProcessResult{};
  }

  fs::path dir_;
};

TEST_F(CliTest, HelloPrintsItsGreeting) {
  const ProcessResult result = Run({kExamples + "hello.wasm"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "Hello from MILF!\n");
}

TEST_F(CliTest, TrapGivesOneLineAndStatus125) {
  const std::string module = WriteModule("trap.wasm", R"((module
    (func $compute (param i32) (result i32) (i32.div_u (i32.const 7) (local.get 0)))
    (func (export "_start") (drop (call $compute (i32.const 0))))))");
  const ProcessResult result = Run({module});
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find("milf: trap: integer divide by zero (in function compute)\n"),
            std::string::npos)
      << result.err;
}

TEST_F(CliTest, TimeoutExits124) {
  const std::string module =
      WriteModule("loop.wasm", R"((module (func (export "_start") (loop $l (br $l)))))");
  const ProcessResult result = Run({module, "--timeout", "0.2"});
  EXPECT_EQ(result.exit_code, 124);
  EXPECT_NE(result.err.find("milf: timeout"), std::string::npos) << result.err;
}

TEST_F(CliTest, FuelExhaustionExits125) {
  const std::string module =
      WriteModule("loop.wasm", R"((module (func (export "_start") (loop $l (br $l)))))");
  const ProcessResult result = Run({module, "--fuel", "10000"});
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find("milf: fuel_exhausted"), std::string::npos) << result.err;
}

TEST_F(CliTest, MissingModuleIsOneClearLine) {
  const ProcessResult result = Run({(dir_ / "absent.wasm").string()});
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find("milf: cannot open"), std::string::npos) << result.err;
}

TEST_F(CliTest, InvalidModuleIsReportedAsSuch) {
  const fs::path path = dir_ / "junk.wasm";
  std::ofstream(path) << "this is not a module";
  const ProcessResult result = Run({path.string()});
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find("milf: invalid_module: "), std::string::npos) << result.err;
}

TEST_F(CliTest, JsonRecordDescribesTheRun) {
  const ProcessResult result = Run({kExamples + "echo.wasm", "--stdin", "-", "--json"}, "ping");
  ASSERT_EQ(result.exit_code, 0);
  const boost::json::object record = boost::json::parse(result.out).as_object();
  EXPECT_EQ(record.at("status").as_string(), "ok");
  EXPECT_EQ(record.at("stdout").as_string(), "ping");
  EXPECT_EQ(record.at("stdout_encoding").as_string(), "utf8");
  EXPECT_GT(record.at("fuel_used").to_number<double>(), 0);
  EXPECT_EQ(record.at("module_sha256").as_string().size(), 64u);
}

TEST_F(CliTest, BinaryOutputIsBase64InJson) {
  const std::string input("\xff\xfe\x00\x01", 4);
  const ProcessResult result = Run({kExamples + "echo.wasm", "--stdin", "-", "--json"}, input);
  ASSERT_EQ(result.exit_code, 0);
  const boost::json::object record = boost::json::parse(result.out).as_object();
  EXPECT_EQ(record.at("stdout_encoding").as_string(), "base64");
  EXPECT_EQ(record.at("stdout").as_string(), "//4AAQ==");
}

TEST_F(CliTest, DeterministicRunsMatchAcrossProcesses) {
  const std::string module = WriteModule("clock.wasm", R"((module
    (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
    (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "_start")
      (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 100)))
      (drop (call $random (i32.const 108) (i32.const 32)))
      (i32.store (i32.const 0) (i32.const 100))
      (i32.store (i32.const 4) (i32.const 40))
      (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))))");
  const std::vector<std::string> args = {module, "--deterministic", "--seed", "42", "--json"};
  const ProcessResult first = Run(args);
  const ProcessResult second = Run(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto a = boost::json::parse(first.out).as_object();
  const auto b = boost::json::parse(second.out).as_object();
  EXPECT_EQ(a.at("stdout"), b.at("stdout"));
  EXPECT_EQ(a.at("fuel_used"), b.at("fuel_used"));
  const ProcessResult other_seed = Run({module, "--deterministic", "--seed", "43", "--json"});
  EXPECT_NE(boost::json::parse(other_seed.out).as_object().at("stdout"), a.at("stdout"));
}

TEST_F(CliTest, OutDirectoryReceivesTheGuestsFiles) {
  const std::string module = WriteModule("write.wasm", R"((module
    (import "wasi_snapshot_preview1" "path_open"
      (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 200) "result.txt")
    (data (i32.const 300) "42\n")
    (func (export "_start")
      ;; fd 3 is /out: create result.txt with write rights
      (drop (call $open (i32.const 3) (i32.const 0) (i32.const 200) (i32.const 10)
                        (i32.const 9) (i64.const 64) (i64.const 64) (i32.const 0) (i32.const 400)))
      (i32.store (i32.const 0) (i32.const 300))
      (i32.store (i32.const 4) (i32.const 3))
      (drop (call $write (i32.load (i32.const 400)) (i32.const 0) (i32.const 1) (i32.const 8))))))");
  const fs::path out = dir_ / "out";
  const ProcessResult result = Run({module, "--out", out.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::ifstream file(out / "result.txt");
  std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "42\n");
}

TEST_F(CliTest, AotTierGivesTheSameRecordAsTheInterpreter) {
  const std::vector<std::string> common = {kExamples + "echo.wasm", "--stdin", "-", "--json",
                                           "--no-sandbox", "--deterministic"};
  std::vector<std::string> interp = common;
  interp.insert(interp.end(), {"--tier", "interp"});
  std::vector<std::string> aot = common;
  aot.insert(aot.end(), {"--tier", "aot"});
  const ProcessResult on_interp = Run(interp, "same bytes");
  const ProcessResult on_aot = Run(aot, "same bytes");
  ASSERT_EQ(on_aot.exit_code, 0) << on_aot.err;
  const auto a = boost::json::parse(on_interp.out).as_object();
  const auto b = boost::json::parse(on_aot.out).as_object();
  EXPECT_EQ(b.at("status").as_string(), "ok");
  EXPECT_EQ(a.at("stdout"), b.at("stdout"));
  EXPECT_EQ(a.at("fuel_used"), b.at("fuel_used"));
}

TEST_F(CliTest, AotTierNeedsNoSandboxForNow) {
  const ProcessResult result = Run({kExamples + "hello.wasm", "--tier", "aot"});
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find("--no-sandbox"), std::string::npos) << result.err;
}

TEST_F(CliTest, BadFlagsAreRefused) {
  EXPECT_EQ(Run({kExamples + "hello.wasm", "--tier", "jit"}).exit_code, 2);
  EXPECT_EQ(Run({kExamples + "hello.wasm", "--memory", "0"}).exit_code, 2);
  const ProcessResult bad_dir = Run({kExamples + "hello.wasm", "--dir", "/nonexistent-dir:/in"});
  EXPECT_EQ(bad_dir.exit_code, 125);
  EXPECT_NE(bad_dir.err.find("not a directory"), std::string::npos) << bad_dir.err;
}

}  // namespace
}  // namespace milf::testing
