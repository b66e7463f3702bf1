// The client commands: talk to a MILF server over its HTTP API
// (docs/api.md, docs/cli.md).
//
//   milf login | logout
//   milf fn deploy | ls | show | rm | schedule | schedules | unschedule
//   milf invoke NAME
//   milf inv ls | show | logs | output
//   milf nodes ls, milf token create-node, milf usage, milf keys ls | create | revoke
//
// Every command prints a readable table or summary by default and the raw
// API JSON with --json; errors are one line "milf: ..." on stderr with exit
// status 1 (client_commands_common.h has the statuses).
#pragma once

#include <CLI/CLI.hpp>

namespace milf::cli {

// Registers all of them; the chosen one's exit status lands in
// `exit_status`, which must outlive parsing.
void AddClientCommands(CLI::App& app, int& exit_status);

// Per area, called by AddClientCommands.
void AddAuthCommands(CLI::App& app, int& exit_status);      // login, logout, keys, token
void AddFunctionCommands(CLI::App& app, int& exit_status);  // fn
void AddInvokeCommands(CLI::App& app, int& exit_status);    // invoke, inv
void AddClusterCommands(CLI::App& app, int& exit_status);   // nodes, usage

}  // namespace milf::cli
