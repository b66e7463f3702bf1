// The spec suite on both tiers in lockstep (spec_diff.h): one test per .wast
// file, all of which must agree and meet the script's expectations (SIMD
// modules are skipped: wasm2c 1.0.32 has no SIMD). A subset also runs
// instrumented, comparing fuel after every action.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "aot_test_support.h"
#include "spec_diff.h"
#include "spectest_module.h"

namespace milf::wasm::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> SuiteFiles() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(MILF_SPEC_SUITE_DIR, error)) {
    if (entry.path().extension() == ".wast") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

const std::vector<std::uint8_t>& Spectest() {
  static const std::vector<std::uint8_t> bytes = *milf::spec::AssembleSpectest();
  return bytes;
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
  return name;
}

void Check(const std::string& file, bool instrumented) {
  DiffOptions options;
  options.instrumented = instrumented;
  options.aot_cache_dir = SharedAotCacheDir();
  const DiffReport report =
      RunDifferentialWast(fs::path(MILF_SPEC_SUITE_DIR) / (file + ".wast"), Spectest(), options);
  std::string failures;
  for (std::size_t i = 0; i < std::min<std::size_t>(10, report.failures.size()); ++i) {
    failures += "\n  " + report.failures[i];
  }
  EXPECT_EQ(report.failed, 0) << file << failures;
  std::string tallies;
  for (const auto& [remark, count] : report.tallies) tallies += "; " + remark + ": " + std::to_string(count);
  ::testing::Test::RecordProperty("passed", report.passed);
  ::testing::Test::RecordProperty("skipped", report.skipped);
  std::printf("%s: %d passed, %d failed, %d skipped%s\n", file.c_str(), report.passed,
              report.failed, report.skipped, tallies.c_str());
}

class AotSpecTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AotSpecTest, BothTiersAgreeAndMeetTheScript) { Check(GetParam(), false); }

INSTANTIATE_TEST_SUITE_P(Suite, AotSpecTest, ::testing::ValuesIn(SuiteFiles()), TestName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AotSpecTest);

class AotSpecFuelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AotSpecFuelTest, InstrumentedTiersMeterIdenticalFuel) { Check(GetParam(), true); }

INSTANTIATE_TEST_SUITE_P(Suite, AotSpecFuelTest,
                         ::testing::Values("call", "call_indirect", "fac", "loop", "br_table",
                                           "stack", "linking", "traps", "left-to-right", "i32",
                                           "f64", "conversions", "memory_grow", "unwind",
                                           "float_exprs", "block", "if", "return", "switch"),
                         TestName);

}  // namespace
}  // namespace milf::wasm::testing
