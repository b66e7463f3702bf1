// `milf up [--listen 127.0.0.1:8080] [--data ./milf-data] [--slots 2]
// [--examples DIR] [--web DIR]`: the whole platform in one process, for a
// first look and for development. It runs a server (SQLite under --data),
// serving the built dashboard at / (--web, else the first of BIN/../web,
// where `make build` puts it, and BIN/../../web/dist, where `npm run build`
// in web/ does, that holds index.html; none: no dashboard), and a local
// node with --slots sandboxed slots connected to it over loopback, prints
// the URL and the admin credentials, deploys the example lambdas under the
// admin user (skipping those whose module is already the latest version),
// invokes hello once, and then serves until SIGINT or SIGTERM, when it
// stops the node (running jobs finish) and then the server.
//
// The node keeps its credential in DATA/node; a start whose server URL has
// no credential there yet enrolls it with a token the admin creates, later
// starts on the same URL reuse the credential.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace milf::cli {

struct UpOptions {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./milf-data";
  int slots = 2;
  std::string examples_dir;  // "" = the examples next to this binary (BIN/../examples)
  std::string web_root;      // "" = the built dashboard next to this binary, if any
};

void AddUpCommand(CLI::App& app, int& exit_status);

// 0 after a clean stop, 1 when something could not start (printed).
int RunUp(const UpOptions& options);

}  // namespace milf::cli
