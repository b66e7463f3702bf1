// aot_spec_diff: the WebAssembly spec suite on both tiers in lockstep (see
// spec_diff.h).
//
//   aot_spec_diff [--instrumented] [--cache DIR] [--details N] [--jobs N]
//                 SUITE_DIR [FILE...]
//
// Runs every .wast of SUITE_DIR (or the FILEs named, with or without
// ".wast"), printing one line per file with failures (every file with
// --verbose), the tallies, and last "N passed, N failed, N skipped".
// Exit status 0 iff nothing failed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "compiler/aot/artifact_cache.h"
#include "spec_diff.h"
#include "spectest_module.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> SelectFiles(const fs::path& suite, const std::vector<std::string>& names) {
  std::vector<fs::path> files;
  for (fs::path file : names) {
    if (file.extension() != ".wast") file += ".wast";
    if (!fs::exists(file)) file = suite / file;
    files.push_back(file);
  }
  if (!names.empty()) return files;
  for (const auto& entry : fs::directory_iterator(suite)) {
    if (entry.path().extension() == ".wast") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs the spec suite on the interpreter and the AOT tier, and compares"};
  std::string suite;
  std::vector<std::string> names;
  std::string cache = milf::aot::ArtifactCache::DefaultDir().string();
  bool instrumented = false;
  bool verbose = false;
  int details = 5;
  int jobs = 2;
  app.add_option("suite", suite, "directory of .wast files")->required()->check(CLI::ExistingDirectory);
  app.add_option("files", names, "files to run (default: all)");
  app.add_option("--cache", cache, "AOT artifact cache directory");
  app.add_option("--details", details, "failures listed per file");
  app.add_option("--jobs", jobs, "parallel artifact builds");
  app.add_flag("--instrumented", instrumented, "instrument every module; compare fuel too");
  app.add_flag("--verbose,-v", verbose, "a line for every file");
  CLI11_PARSE(app, argc, argv);

  auto spectest = milf::spec::AssembleSpectest();
  if (!spectest) {
    fmt::print(stderr, "aot_spec_diff: {}\n", spectest.error());
    return 2;
  }
  milf::wasm::testing::DiffOptions options;
  options.instrumented = instrumented;
  options.aot_cache_dir = cache;
  options.build_threads = jobs;
  const auto start = std::chrono::steady_clock::now();
  milf::wasm::testing::DiffReport total;
  const std::vector<fs::path> files = SelectFiles(suite, names);
  for (const fs::path& file : files) {
    const auto file_start = std::chrono::steady_clock::now();
    const auto report = milf::wasm::testing::RunDifferentialWast(file, *spectest, options);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - file_start;
    if (verbose || report.failed > 0) {
      fmt::print("{}: {} passed, {} failed, {} skipped ({:.1f} s)\n", file.filename().string(),
                 report.passed, report.failed, report.skipped, took.count());
      for (int i = 0; i < std::min<int>(details, static_cast<int>(report.failures.size())); ++i) {
        fmt::print("  {}\n", report.failures[static_cast<std::size_t>(i)]);
      }
      std::fflush(stdout);
    }
    total.Add(report);
  }
  for (const auto& [remark, count] : total.tallies) fmt::print("{}: {}\n", remark, count);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  fmt::print("{} files in {:.1f} s\n", files.size(), elapsed.count());
  fmt::print("{} passed, {} failed, {} skipped\n", total.passed, total.failed, total.skipped);
  return total.failed == 0 ? 0 : 1;
}
