// `milf user add NAME [--role admin|developer] [--password-stdin]`,
// `milf user ls [--json]`, `milf user rm NAME`: account administration on
// the server machine. They work on the data directory's store directly
// (--data DIR, default ./milf-data), so they need no running server, no
// login, and work before the server's first start; a running server sees
// the change at once (SQLite in WAL mode is safe across processes).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace milf::cli {

struct UserCommandOptions {
  std::string data_dir = "./milf-data";
  std::string name;
  std::string role = "developer";
  bool password_stdin = false;
  bool json = false;
};

// Registers `milf user`; the chosen subcommand's exit status lands in
// `exit_status`, which must outlive parsing.
void AddUserCommands(CLI::App& app, int& exit_status);

// Exit status 0 on success, 1 with one line on stderr otherwise.
int AddUser(const UserCommandOptions& options);
int ListUsers(const UserCommandOptions& options);
int RemoveUser(const UserCommandOptions& options);

}  // namespace milf::cli
