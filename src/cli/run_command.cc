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
#include "sandbox/pool.h"
#include "wasm/aot/aot_engine.h"
#include "wasm/runner.h"

namespace milf::cli {
namespace {

// What a worker needs besides linear memory: code, heap, the compiled module.
constexpr std::uint64_t kWorkerBaseMemoryMb = 256;
constexpr std::uint64_t kWorkerCpuSlackSeconds = 3600;

Result<std::vector<std::uint8_t>> ReadAll(std::istream& in, const std::string& what) {
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
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
    // A worker gets snapshots of host directories, so only /out can carry
    // writes back (see src/sandbox/host_files.h).
    if (!options.no_sandbox && !mount->read_only && mount->guest_path != "/out") {
      return Fail("usage", "--dir " + spec +
                               " is writable, which the sandbox cannot give: add "
                               ":ro, write to /out with --out, or use --no-sandbox");
    }
    request.mounts.push_back(std::move(*mount));
  }
  if (!options.out_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.out_dir, error);
    if (error) return Fail("io", "cannot create --out " + options.out_dir + ": " + error.message());
    request.mounts.push_back(wasm::Mount{"/out", options.out_dir, {}, false});
  }
  wasm::Limits& limits = request.limits;
  limits.timeout =
      std::chrono::nanoseconds(static_cast<std::int64_t>(options.timeout_seconds * 1e9));
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

int Report(const RunOptions& options, const wasm::RunRecord& record) {
  if (options.json) {
    std::cout << boost::json::serialize(RecordToJson(record)) << "\n";
    return 0;
  }
  return ReportPlain(record);
}

// The AOT tier compiles on a cache miss (artifacts under ~/.cache/milf/aot,
// see docs/aot.md); a corrupt cached artifact is reported, then rebuilt.
Result<wasm::RunRecord> RunInProcess(const RunOptions& options, const wasm::RunRequest& request) {
  std::cerr << "milf: --no-sandbox: running in-process, without the sandbox's walls\n";
  wasm::AotOptions aot;
  aot.on_event = [](const wasm::AotEvent& event) {
    if (event.kind == wasm::AotEvent::Kind::kRejected) {
      std::cerr << "milf: warning: refused a corrupt AOT artifact (" << event.detail
                << "); rebuilding\n";
    }
  };
  auto engine = wasm::NewEngineForTier(options.tier, std::move(aot));
  if (!engine) return Fail(std::move(engine).error());
  wasm::Runner runner(std::move(engine).value());
  return runner.Run(request);
}

// A one-worker pool for this one run. The worker's address-space quota
// leaves room for the linear memory cap twice over (growth copies it) on
// top of the engine's own needs.
Result<wasm::RunRecord> RunSandboxed(const RunOptions& options, const wasm::RunRequest& request) {
  auto command = sandbox::SelfWorkerCommand();
  if (!command) return Fail(std::move(command).error());
  sandbox::PoolOptions pool_options;
  pool_options.worker_command = std::move(*command);
  pool_options.worker_memory_bytes = 2 * request.limits.memory_bytes + (kWorkerBaseMemoryMb << 20);
  // CPU time never outruns wall time in a single-threaded worker; the hour
  // on top covers compiling.
  pool_options.worker_cpu_seconds =
      static_cast<std::uint64_t>(options.timeout_seconds) + kWorkerCpuSlackSeconds;
  pool_options.warn = [](const std::string& warning) {
    std::cerr << "milf: warning: " << warning << "\n";
  };
  auto pool = sandbox::Pool::Start(std::move(pool_options));
  if (!pool) {
    return Fail("sandbox", pool.error().message + " (--no-sandbox runs without the sandbox)");
  }
  return (*pool)->Run(request);
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
  if (options.tier != "interp" && !options.no_sandbox) {
    // The sandbox worker cannot compile (no exec, no writes) and its job
    // message does not carry a tier yet: see docs/aot.md.
    std::cerr << "milf: --tier " << options.tier << " runs in-process for now: add --no-sandbox\n";
    return kExitFailure;
  }
  auto record =
      options.no_sandbox ? RunInProcess(options, *request) : RunSandboxed(options, *request);
  if (!record) {
    std::cerr << "milf: " << record.error().message << "\n";
    return kExitFailure;
  }
  return Report(options, *record);
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
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run->add_option("--memory", options.memory_mb, "Linear memory limit in MiB")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
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
      ->check(CLI::IsMember({"truncate", "fail"}))
      ->capture_default_str();
  run->add_flag("--json", options.json, "Print the result record as one JSON object");
  run->add_flag("--no-sandbox", options.no_sandbox,
                "Run in this process instead of a locked-down sandbox worker");
  run->add_option("--tier", options.tier,
                  "Execution tier: interp (the interpreter) or aot (native code, compiled "
                  "and cached under ~/.cache/milf/aot)")
      ->check(CLI::IsMember({"interp", "aot"}))
      ->capture_default_str();
  run->callback([&options, &exit_status] { exit_status = RunModule(options); });
}

}  // namespace milf::cli
