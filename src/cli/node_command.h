// `milf node --server URL --token T [--slots N] [--device-profile FILE]
// [--policy FILE] [--data DIR] [--name NAME]`: runs a device node in this
// process (src/node/node.h) until SIGINT or SIGTERM. The lean `milf-node`
// binary takes the same flags.
#pragma once

#include <CLI/CLI.hpp>

namespace milf::cli {

// Registers the subcommand; its exit status becomes the program's.
void AddNodeCommand(CLI::App& app, int& exit_status);

}  // namespace milf::cli
