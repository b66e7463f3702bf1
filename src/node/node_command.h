// The node's command line, shared by `milf node` (src/cli/node_command.h)
// and the lean `milf-node` binary (apps/milf-node):
//   --server URL --token T [--slots N] [--device-profile FILE] [--policy FILE]
//   [--data DIR] [--name NAME] [--max-memory-mb MB] [--sensor-root DIR]
#pragma once

#include <CLI/CLI.hpp>

#include "node/node.h"

namespace milf::node {

// Adds the node's flags to `app` (a subcommand, or a program's own app).
void AddNodeFlags(CLI::App& app, NodeOptions& options);

// Runs a node until SIGINT or SIGTERM, then stops it gracefully. Returns
// the exit status: 0 after a requested stop, 1 on an error (printed).
int RunNodeCommand(NodeOptions options);

}  // namespace milf::node
