#include "cli/main.h"

#include <CLI/CLI.hpp>

#include "cli/run_command.h"

namespace milf::cli {

int Main(int argc, char** argv) {
  CLI::App app{"MILF: Mobile Infra for Lambdas and Files"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "milf 0.1.0");
  int exit_status = 0;
  RunOptions run_options;
  AddRunCommand(app, run_options, exit_status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);
    return status == 0 ? 0 : 2;
  }
  return exit_status;
}

}  // namespace milf::cli
