// `milf run MODULE.wasm [options]`: runs one module locally and reports the
// result, either as the guest's own streams and exit code or as one JSON
// result record (--json). The module runs in a one-worker sandbox pool
// (src/sandbox/pool.h) unless --no-sandbox asks for the in-process runner.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace milf::cli {

struct RunOptions {
  std::string module_path;
  std::string stdin_path;  // "" = no input, "-" = our stdin
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<std::string> dirs;  // HOST[:GUEST][:ro]
  std::string out_dir;
  double timeout_seconds = 5;
  std::uint64_t memory_mb = 64;
  std::optional<std::uint64_t> fuel;
  bool deterministic = false;
  std::uint64_t seed = 0;
  std::string invoke;
  std::uint64_t output_limit = 1 << 20;
  std::string output_overflow = "truncate";
  bool json = false;
  bool no_sandbox = false;  // run in-process instead of in a sandbox worker
  std::string tier = "interp";  // "interp" or "aot" (wasm::NewEngineForTier)
};

// Registers the subcommand; `run` is invoked when it is selected and its exit
// status becomes the program's.
void AddRunCommand(CLI::App& app, RunOptions& options, int& exit_status);

// Exit statuses without --json: the guest's exit code on a normal end,
// kExitTimeout for a timeout, kExitFailure for every other failure.
inline constexpr int kExitTimeout = 124;
inline constexpr int kExitFailure = 125;

int RunModule(const RunOptions& options);

}  // namespace milf::cli
