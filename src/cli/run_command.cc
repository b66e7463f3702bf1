#include "cli/run_command.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "base/result.h"
#include "cli/record_json.h"
#include "wasm/runner.h"

namespace milf::cli {
namespace {

Result<std::vector<std::uint8_t>> ReadAll(std::istream& in, const std::string& what) {
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return Fail("io", "cannot read " + what);
  return bytes;
}

Result<std::vector<std::uint8_t>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("io", "cannot open " + path + ": " + std::strerror(errno));
  return ReadAll(in, path);
}

// HOST[:GUEST][:ro]; GUEST defaults to /in.
Result<wasm::Mount> ParseDir(const std::string& spec) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t colon; (colon = spec.find(':', start)) != std::string::npos; start = colon + 1) {
    parts.push_back(spec.substr(start, colon - start));
  }
  parts.push_back(spec.substr(start));
  wasm::Mount mount;
  if (parts.size() > 1 && parts.back() == "ro") {
    mount.read_only = true;
    parts.pop_back();
  }
  if (parts.empty() || parts.size() > 2 || parts[0].empty()) {
    return Fail("usage", "--dir takes HOST[:GUEST][:ro], got '" + spec + "'");
  }
  mount.host_path = parts[0];
  mount.guest_path = parts.size() == 2 ? parts[1] : "/in";
  if (mount.guest_path.empty() || mount.guest_path[0] != '/') {
    return Fail("usage", "--dir guest path must be absolute, got '" + mount.guest_path + "'");
  }
  std::error_code error;
  if (!std::filesystem::is_directory(mount.host_path, error)) {
    return Fail("usage", "--dir " + parts[0] + " is not a directory");
  }
  return mount;
}

Result<wasm::RunRequest> BuildRequest(const RunOptions& options,
                                      const std::vector<std::uint8_t>& module) {
  wasm::RunRequest request;
  request.module = module;
  request.program_name = std::filesystem::path(options.module_path).filename().string();
  request.env = options.env;
  if (options.invoke.empty()) {
    request.args = options.args;
  } else {
    request.entry = options.invoke;
    request.invoke_args = options.args;
  }
  if (options.stdin_path == "-") {
    auto input = ReadAll(std::cin, "standard input");
    if (!input) return Fail(std::move(input).error());
    request.input = std::move(*input);
  } else if (!options.stdin_path.empty()) {
    auto input = ReadFile(options.stdin_path);
    if (!input) return Fail(std::move(input).error());
    request.input = std::move(*input);
  }
  for (const std::string& spec : options.dirs) {
    auto mount = ParseDir(spec);
    if (!mount) return Fail(std::move(mount).error());
    request.mounts.push_back(std::move(*mount));
  }
  if (!options.out_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.out_dir, error);
    if (error) return Fail("io", "cannot create --out " + options.out_dir + ": " + error.message());
    request.mounts.push_back(wasm::Mount{"/out", options.out_dir, {}, false});
  }
  wasm::Limits& limits = request.limits;
  limits.timeout = std::chrono::nanoseconds(static_cast<std::int64_t>(options.timeout_seconds * 1e9));
  limits.memory_bytes = options.memory_mb << 20;
  if (options.fuel) limits.fuel = *options.fuel;
  limits.stdout_bytes = limits.stderr_bytes = options.output_limit;
  limits.output_overflow = options.output_overflow == "fail" ? wasm::OverflowPolicy::kFail
                                                             : wasm::OverflowPolicy::kTruncate;
  request.deterministic = options.deterministic;
  request.seed = options.seed;
  return request;
}

void WriteAll(int fd, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written <= 0) return;
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

std::string FailureLine(const wasm::RunRecord& record) {
  std::string line = fmt::format("milf: {}", wasm::StatusName(record.status));
  if (!record.message.empty()) line += ": " + record.message;
  if (!record.trap_function.empty()) line += " (in function " + record.trap_function + ")";
  return line;
}

int ReportPlain(const wasm::RunRecord& record) {
  WriteAll(STDOUT_FILENO, record.stdout_data);
  WriteAll(STDERR_FILENO, record.stderr_data);
  for (const wasm::Value& value : record.results) {
    const std::string text = wasm::FormatValue(value) + "\n";
    WriteAll(STDOUT_FILENO, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }
  switch (record.status) {
    case wasm::RunStatus::kOk:
    case wasm::RunStatus::kExitNonzero:
      return record.exit_code;
    case wasm::RunStatus::kTimeout:
      std::cerr << FailureLine(record) << "\n";
      return kExitTimeout;
    default:
      std::cerr << FailureLine(record) << "\n";
      return kExitFailure;
  }
}

}  // namespace

int RunModule(const RunOptions& options) {
  auto module = ReadFile(options.module_path);
  if (!module) {
    std::cerr << "milf: " << module.error().message << "\n";
    return kExitFailure;
  }
  auto request = BuildRequest(options, *module);
  if (!request) {
    std::cerr << "milf: " << request.error().message << "\n";
    return kExitFailure;
  }
  wasm::Runner runner(wasm::NewInterpreterEngine());
  const wasm::RunRecord record = runner.Run(*request);
  if (options.json) {
    std::cout << boost::json::serialize(RecordToJson(record)) << "\n";
    return 0;
  }
  return ReportPlain(record);
}

void AddRunCommand(CLI::App& app, RunOptions& options, int& exit_status) {
  CLI::App* run = app.add_subcommand("run", "Run a WebAssembly module locally under limits");
  run->add_option("module", options.module_path, "The .wasm module")->required();
  run->add_option("--stdin", options.stdin_path, "Input payload: a file, or - for standard input");
  run->add_option("--arg", options.args,
                  "An argument (repeatable); with --invoke, an argument of the export");
  run->add_option("--env", options.env, "An environment variable K=V (repeatable)");
  run->add_option("--dir", options.dirs,
                  "Preopen a host directory: HOST[:GUEST][:ro] (GUEST defaults to /in)");
  run->add_option("--out", options.out_dir, "Host directory where the guest's /out ends up");
  run->add_option("--timeout", options.timeout_seconds, "Wall-clock limit in seconds")
      ->check(CLI::PositiveNumber)->capture_default_str();
  run->add_option("--memory", options.memory_mb, "Linear memory limit in MiB")
      ->check(CLI::Range(1, 65536))->capture_default_str();
  run->add_option("--fuel", options.fuel, "Fuel budget (metered instructions)");
  run->add_flag("--deterministic", options.deterministic,
                "Virtual clock driven by fuel, seeded randomness");
  run->add_option("--seed", options.seed, "Seed for --deterministic randomness")
      ->capture_default_str();
  run->add_option("--invoke", options.invoke, "Call this export instead of _start / wasm_main");
  run->add_option("--output-limit", options.output_limit, "Cap on stdout and on stderr, in bytes")
      ->capture_default_str();
  run->add_option("--output-overflow", options.output_overflow,
                  "What a full output does: truncate (flag it) or fail (status output_limit)")
      ->check(CLI::IsMember({"truncate", "fail"}))->capture_default_str();
  run->add_flag("--json", options.json, "Print the result record as one JSON object");
  run->callback([&options, &exit_status] { exit_status = RunModule(options); });
}

}  // namespace milf::cli
