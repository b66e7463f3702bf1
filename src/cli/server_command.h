// `milf server [--listen 127.0.0.1:8080] [--data DIR] [--threads N]
// [--web DIR]`: runs the central server in the foreground until SIGINT or
// SIGTERM, then stops it cleanly. Prints the URL it serves on (and, on
// first start, the generated admin password). With --web it also serves the
// built dashboard in DIR at / (server/static_files.h).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace milf::cli {

struct ServerCommandOptions {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./milf-data";
  int threads = 2;
  std::string web_root;  // "": no dashboard
};

// Registers the subcommand; its exit status lands in `exit_status`, which
// must outlive parsing.
void AddServerCommand(CLI::App& app, int& exit_status);

// 0 after a clean stop; 1 when the server could not start.
int RunServer(const ServerCommandOptions& options);

}  // namespace milf::cli
