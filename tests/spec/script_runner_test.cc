#include "script_runner.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spectest_module.h"
#include "wast2json.h"

namespace milf::spec {
namespace {

using ::testing::HasSubstr;

const std::filesystem::path kFixture =
    std::filesystem::path(MILF_SOURCE_DIR) / "tests/spec/testdata/runner_check.wast";

class ScriptRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spectest = AssembleSpectest();
    ASSERT_TRUE(spectest.ok()) << spectest.error();
    spectest_ = std::move(*spectest);
    auto dir = TempDir::Create();
    ASSERT_TRUE(dir.ok()) << dir.error();
    dir_.emplace(std::move(*dir));
  }

  // Runs a hand-written wast2json script; `files` are written beside it.
  ScriptReport RunJson(const std::string& json,
                       const std::vector<std::pair<std::string, std::string>>& files = {}) {
    for (const auto& [name, bytes] : files) std::ofstream(dir_->path() / name) << bytes;
    std::ofstream(dir_->path() / "script.json") << json;
    return RunScript(dir_->path() / "script.json", spectest_);
  }

  std::vector<std::uint8_t> spectest_;
  std::optional<TempDir> dir_;
};

std::vector<std::int64_t> FailedLines(const ScriptReport& report) {
  std::vector<std::int64_t> lines;
  for (const auto& failure : report.failures) lines.push_back(failure.line);
  return lines;
}

TEST_F(ScriptRunnerTest, FixtureVerdictsAreExact) {
  auto json = ConvertWast(kFixture, *dir_);
  ASSERT_TRUE(json.ok()) << json.error().message;
  const ScriptReport report = RunScript(*json, spectest_);
  EXPECT_EQ(report.passed, 17);
  EXPECT_EQ(report.failed, 7);
  EXPECT_EQ(report.skipped, 1);
  EXPECT_THAT(FailedLines(report), ::testing::ElementsAre(16, 18, 20, 25, 31, 53, 54));
  ASSERT_EQ(report.failures.size(), 7u);
  EXPECT_EQ(report.failures[0].command, R"(assert_return "add"(i32:1, i32:2))");
  EXPECT_EQ(report.failures[0].detail, "expected (i32:4), got (i32:3)");
  EXPECT_THAT(report.failures[2].detail, HasSubstr("expected trap"));
  EXPECT_THAT(report.failures[3].detail, HasSubstr("nan:arithmetic"));
  EXPECT_THAT(report.failures[4].detail, HasSubstr("module compiled"));
  EXPECT_THAT(report.failures[5].detail, HasSubstr("instantiate failed: trap"));
  EXPECT_THAT(report.failures[6].detail, HasSubstr("module at line 53 did not load"));
  EXPECT_EQ(report.tallies.at("skipped: assert_malformed on a text-format module"), 1);
}

TEST_F(ScriptRunnerTest, UnparsableJsonIsOneFailure) {
  const ScriptReport report = RunJson(R"({"commands": [)");
  EXPECT_EQ(report.passed, 0);
  EXPECT_EQ(report.failed, 1);
}

TEST_F(ScriptRunnerTest, JsonWithoutCommandsIsOneFailure) {
  const ScriptReport report = RunJson(R"({"source_filename": "x.wast"})");
  EXPECT_EQ(report.failed, 1);
  EXPECT_THAT(report.failures.at(0).detail, HasSubstr("commands"));
}

TEST_F(ScriptRunnerTest, ModuleFilenamesCannotLeaveTheScriptDirectory) {
  const ScriptReport report = RunJson(R"({"commands": [
      {"type": "module", "line": 1, "filename": "../script.json"},
      {"type": "assert_invalid", "line": 2, "filename": "/etc/passwd",
       "text": "x", "module_type": "binary"},
      {"type": "module", "line": 3, "filename": ".."}]})");
  EXPECT_EQ(report.failed, 3);
  for (const auto& failure : report.failures) {
    EXPECT_THAT(failure.detail, HasSubstr("bad module filename"));
  }
}

TEST_F(ScriptRunnerTest, MissingAndGarbageModulesFail) {
  const ScriptReport report = RunJson(R"({"commands": [
      {"type": "module", "line": 1, "filename": "absent.wasm"},
      {"type": "module", "line": 2, "filename": "junk.wasm"},
      {"type": "assert_malformed", "line": 3, "filename": "junk.wasm",
       "text": "magic header not detected", "module_type": "binary"}]})",
                                      {{"junk.wasm", "not wasm at all"}});
  EXPECT_EQ(report.passed, 1);  // junk is indeed malformed
  EXPECT_THAT(FailedLines(report), ::testing::ElementsAre(1, 2));
  EXPECT_THAT(report.failures.at(1).detail, HasSubstr("invalid_module"));
}

TEST_F(ScriptRunnerTest, MalformedCommandsFailOneByOne) {
  const std::string empty_module("\0asm\1\0\0\0", 8);
  const ScriptReport report = RunJson(R"({"commands": [
      42,
      {"type": "assert_everything", "line": 2},
      {"type": "register", "line": 3, "name": "$nobody", "as": "x"},
      {"type": "action", "line": 4},
      {"type": "action", "line": 5, "action": {"type": "invoke", "field": "f", "args": []}},
      {"type": "module", "line": 6, "filename": "empty.wasm"},
      {"type": "assert_return", "line": 7,
       "action": {"type": "invoke", "field": "f", "args": [{"type": "i32", "value": "x"}]},
       "expected": []},
      {"type": "assert_return", "line": 8,
       "action": {"type": "invoke", "field": "f", "args": []},
       "expected": [{"type": "i32"}]},
      {"type": "action", "line": 9, "action": {"type": "invoke", "field": "f", "args": []}},
      {"type": "action", "line": 10, "action": {"type": "get", "field": "g"}}]})",
                                      {{"empty.wasm", empty_module}});
  EXPECT_EQ(report.passed, 1);
  EXPECT_EQ(report.failed, 9);
  EXPECT_THAT(FailedLines(report), ::testing::ElementsAre(0, 2, 3, 4, 5, 7, 8, 9, 10));
  ASSERT_EQ(report.failures.size(), 9u);
  EXPECT_THAT(report.failures[0].detail, HasSubstr("not a JSON object"));
  EXPECT_THAT(report.failures[1].detail, HasSubstr("unsupported command type"));
  EXPECT_THAT(report.failures[2].detail, HasSubstr("unknown module $nobody"));
  EXPECT_THAT(report.failures[3].detail, HasSubstr("no action"));
  EXPECT_THAT(report.failures[4].detail, HasSubstr("no module has been loaded"));
  EXPECT_THAT(report.failures[5].detail, HasSubstr("bad number \"x\" (want 32-bit"));
  EXPECT_THAT(report.failures[6].detail, HasSubstr("missing value"));
  EXPECT_THAT(report.failures[7].detail, HasSubstr("action failed"));
  EXPECT_THAT(report.failures[8].detail, HasSubstr("no global export"));
}

TEST(Wast2Json, RejectedScriptsAreReportedAsRejected) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok()) << dir.error();
  const std::filesystem::path wast = dir->path() / "broken.wast";
  std::ofstream(wast) << "(module (func $f (unknown.instruction)))";
  auto json = ConvertWast(wast, *dir);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.error().kind, ConvertError::Kind::kRejected);
  EXPECT_THAT(json.error().message, HasSubstr("broken.wast"));

  auto missing = ConvertWast(dir->path() / "absent.wast", *dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ConvertError::Kind::kRejected);
}

TEST(TempDir, IsRemovedWithItsContents) {
  std::filesystem::path path;
  {
    auto dir = TempDir::Create();
    ASSERT_TRUE(dir.ok()) << dir.error();
    path = dir->path();
    std::filesystem::create_directories(path / "a/b");
    std::ofstream(path / "a/b/file") << "x";
    TempDir moved = std::move(*dir);
    EXPECT_EQ(moved.path(), path);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace milf::spec
