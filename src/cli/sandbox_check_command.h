// `milf sandbox-check [--json]`: starts one sandbox worker, runs an empty
// module through it, and prints which walls are active on this machine and
// why any is missing (plus, with --json, the seccomp allowlist). Exits 0
// when the sandbox works, missing walls included; 1 when no worker could
// start or the probe job failed.
#pragma once

#include <CLI/CLI.hpp>

namespace milf::cli {

struct SandboxCheckOptions {
  bool json = false;
};

void AddSandboxCheckCommand(CLI::App& app, SandboxCheckOptions& options, int& exit_status);

int CheckSandbox(const SandboxCheckOptions& options);

}  // namespace milf::cli
