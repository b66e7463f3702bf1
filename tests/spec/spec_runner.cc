// spec_runner: runs the WebAssembly spec test suite through MILF's
// interpreter Engine (no instrumentation, no WASI).
//
//   spec_runner [--min-passed N] [--max-failed N] [--details N] [--verbose]
//               SUITE_DIR [FILE...]
//
// Each .wast file (all of SUITE_DIR, or the FILEs named, with or without
// ".wast") is converted by wast2json into a temporary directory and its
// commands are run (see script_runner.h for what each must do). Output: a
// "file: N passed, N failed, N skipped" line for each file with failures
// (every file with --verbose) followed by up to --details failures, then the
// tallies, the files wast2json could not convert, and last exactly
// "N passed, N failed, N skipped".
//
// Counting: N are commands. A file that wast2json cannot convert counts as
// one skipped command (its commands are unknown) and is also listed by name;
// failing to start wast2json at all counts as a failed command.
// Exit status 0 iff passed >= --min-passed and failed <= --max-failed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "script_runner.h"
#include "spectest_module.h"
#include "wast2json.h"

namespace milf::spec {
namespace {

struct Options {
  std::filesystem::path suite;
  std::vector<std::string> files;
  long min_passed = 1;
  long max_failed = 0;
  int details = 5;
  bool verbose = false;
};

struct FileResult {
  std::filesystem::path wast;
  ScriptReport report;
  std::string unconverted;  // why wast2json rejected the file; empty if it did not
};

// The files to run: those named (looked up in the suite when not found as
// given), or every .wast of the suite in name order.
std::vector<std::filesystem::path> SelectFiles(const Options& options) {
  std::vector<std::filesystem::path> files;
  for (std::filesystem::path file : options.files) {
    if (file.extension() != ".wast") file += ".wast";
    if (!std::filesystem::exists(file)) file = options.suite / file;
    files.push_back(file);
  }
  if (!options.files.empty()) return files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(options.suite, error)) {
    if (entry.path().extension() == ".wast") files.push_back(entry.path());
  }
  if (error) fmt::print(stderr, "spec_runner: {}: {}\n", options.suite.string(), error.message());
  std::sort(files.begin(), files.end());
  return files;
}

FileResult RunFile(const std::filesystem::path& wast, std::span<const std::uint8_t> spectest) {
  FileResult result{wast, {}, {}};
  const auto fail = [&](const char* step, std::string what) {
    ++result.report.failed;
    result.report.failures.push_back({0, step, std::move(what)});
    return result;
  };
  if (!std::filesystem::is_regular_file(wast)) return fail("open", "no such file " + wast.string());
  auto dir = TempDir::Create();
  if (!dir) return fail("convert", dir.error());
  auto json = ConvertWast(wast, *dir);
  if (!json) {
    if (json.error().kind == ConvertError::Kind::kToolFailed) {
      return fail("convert", json.error().message);
    }
    result.unconverted = json.error().message;
    ++result.report.skipped;
    return result;
  }
  result.report = RunScript(*json, spectest);
  return result;
}

void PrintNotes(const std::vector<CommandNote>& notes, int limit, const char* more) {
  const int shown = std::min<int>(limit, static_cast<int>(notes.size()));
  for (int i = 0; i < shown; ++i) {
    fmt::print("  line {}: {}: {}\n", notes[i].line, notes[i].command, notes[i].detail);
  }
  if (notes.size() > static_cast<std::size_t>(shown)) {
    fmt::print("  ... and {} more {}\n", notes.size() - shown, more);
  }
}

int Run(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  auto spectest = AssembleSpectest();
  if (!spectest) {
    fmt::print(stderr, "spec_runner: {}\n", spectest.error());
    return 2;
  }
  std::vector<FileResult> results;
  for (const auto& wast : SelectFiles(options)) results.push_back(RunFile(wast, *spectest));

  ScriptReport total;
  std::vector<std::string> unconverted;
  std::size_t infos = 0;
  for (const FileResult& file : results) {
    const ScriptReport& report = file.report;
    const std::string name = file.wast.filename().string();
    total.passed += report.passed;
    total.failed += report.failed;
    total.skipped += report.skipped;
    infos += report.infos.size();
    for (const auto& [remark, count] : report.tallies) total.tallies[remark] += count;
    if (!file.unconverted.empty()) unconverted.push_back(name + " (" + file.unconverted + ")");
    if (report.failed == 0 && !options.verbose) continue;
    fmt::print("{}: {} passed, {} failed, {} skipped\n", name, report.passed, report.failed,
               report.skipped);
    PrintNotes(report.failures, options.details, "failures");
    if (options.verbose) PrintNotes(report.infos, options.details, "infos");
  }
  for (const auto& [remark, count] : total.tallies) fmt::print("{}: {}\n", remark, count);
  if (infos > 0) {
    fmt::print("info: {} passed assert_trap with a different message{}\n", infos,
               options.verbose ? "" : " (--verbose lists them)");
  }
  for (const std::string& file : unconverted) fmt::print("skipped file: {}\n", file);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  fmt::print("{} files in {:.1f} s\n", results.size(), elapsed.count());
  fmt::print("{} passed, {} failed, {} skipped\n", total.passed, total.failed, total.skipped);
  std::fflush(stdout);
  return total.passed >= options.min_passed && total.failed <= options.max_failed ? 0 : 1;
}

}  // namespace
}  // namespace milf::spec

int main(int argc, char** argv) {
  milf::spec::Options options;
  CLI::App app{"Runs the WebAssembly spec test suite through MILF's interpreter Engine"};
  std::string suite;
  app.add_option("suite", suite, "directory of .wast files")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("files", options.files, "files to run (default: all of the suite)");
  app.add_option("--min-passed", options.min_passed, "fail unless at least N commands pass");
  app.add_option("--max-failed", options.max_failed, "fail if more than N commands fail");
  app.add_option("--details", options.details, "failures listed per file")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--verbose,-v", options.verbose, "list every file, and passes worth a look");
  CLI11_PARSE(app, argc, argv);
  options.suite = suite;
  return milf::spec::Run(options);
}
