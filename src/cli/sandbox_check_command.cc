#include "cli/sandbox_check_command.h"

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "sandbox/pool.h"
#include "sandbox/seccomp_policy.h"

namespace milf::cli {
namespace {

// (module (func (export "_start"))): the smallest job a worker can run.
constexpr std::uint8_t kEmptyCommand[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                        // magic, version
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                                    // type () -> ()
    0x03, 0x02, 0x01, 0x00,                                                // one function
    0x07, 0x0a, 0x01, 0x06, '_',  's',  't',  'a',  'r', 't', 0x00, 0x00,  // export _start
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,                                    // empty body
};

struct Check {
  sandbox::Walls walls;
  std::string error;  // set when no worker started
  std::optional<wasm::RunRecord> probe;
  double probe_ms = 0;
};

Check RunCheck() {
  Check check;
  auto command = sandbox::SelfWorkerCommand();
  if (!command) {
    check.error = command.error().message;
    return check;
  }
  sandbox::PoolOptions options;
  options.worker_command = std::move(*command);
  auto pool = sandbox::Pool::Start(std::move(options));
  if (!pool) {
    check.error = pool.error().message;
    return check;
  }
  check.walls = (*pool)->walls();
  wasm::RunRequest request;
  request.module = kEmptyCommand;
  const auto start = std::chrono::steady_clock::now();
  check.probe = (*pool)->Run(request);
  check.probe_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return check;
}

bool Works(const Check& check) {
  return check.error.empty() && check.probe && check.probe->status == wasm::RunStatus::kOk;
}

void PrintText(const Check& check) {
  if (!check.error.empty()) {
    std::cout << "sandbox: no worker could start: " << check.error << "\n";
    return;
  }
  for (const sandbox::Wall& wall : check.walls) {
    std::cout << fmt::format("{:<18} {:<10} {}\n", wall.name, sandbox::WallStateName(wall.state),
                             wall.detail);
  }
  std::cout << fmt::format("probe job: {} ({:.2f} ms including the round trip)\n",
                           wasm::StatusName(check.probe->status), check.probe_ms);
  if (check.probe->status != wasm::RunStatus::kOk) std::cout << check.probe->message << "\n";
}

void PrintJson(const Check& check) {
  boost::json::object out;
  out["works"] = Works(check);
  out["error"] = check.error;
  boost::json::array walls;
  for (const sandbox::Wall& wall : check.walls) {
    walls.push_back({{"name", wall.name},
                     {"state", sandbox::WallStateName(wall.state)},
                     {"detail", wall.detail}});
  }
  out["walls"] = std::move(walls);
  boost::json::array allowlist;
  for (const sandbox::SyscallRule& rule : sandbox::SeccompAllowlist()) {
    allowlist.push_back({{"call", rule.name}, {"condition", rule.condition}, {"why", rule.why}});
  }
  out["seccomp_allowlist"] = std::move(allowlist);
  if (check.probe) {
    out["probe"] = {{"status", wasm::StatusName(check.probe->status)},
                    {"message", check.probe->message},
                    {"round_trip_ms", check.probe_ms}};
  }
  std::cout << boost::json::serialize(out) << "\n";
}

}  // namespace

int CheckSandbox(const SandboxCheckOptions& options) {
  const Check check = RunCheck();
  if (options.json) {
    PrintJson(check);
  } else {
    PrintText(check);
  }
  return Works(check) ? 0 : 1;
}

void AddSandboxCheckCommand(CLI::App& app, SandboxCheckOptions& options, int& exit_status) {
  CLI::App* check =
      app.add_subcommand("sandbox-check", "Show which sandbox walls are active on this machine");
  check->add_flag("--json", options.json, "Print one JSON object");
  check->callback([&options, &exit_status] { exit_status = CheckSandbox(options); });
}

}  // namespace milf::cli
