#include "cli/main.h"

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string_view>

#include "cli/client_commands.h"
#include "cli/node_command.h"
#include "cli/run_command.h"
#include "cli/up_command.h"
#include "cli/sandbox_check_command.h"
#include "cli/server_command.h"
#include "cli/user_command.h"
#include "sandbox/pool.h"
#include "sandbox/worker.h"

namespace milf::cli {

int Main(int argc, char** argv) {
  // The sandbox's worker mode is not a subcommand: it is started by the
  // pool, never by a user, and is kept out of --help.
  if (argc >= 2 && std::string_view(argv[1]) == sandbox::kWorkerModeArgument) {
    return sandbox::RunWorker({argv + 2, static_cast<std::size_t>(argc - 2)});
  }
  CLI::App app{"MILF: Mobile Infra for Lambdas and Files"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "milf 0.1.0");
  int exit_status = 0;
  RunOptions run_options;
  AddRunCommand(app, run_options, exit_status);
  SandboxCheckOptions check_options;
  AddSandboxCheckCommand(app, check_options, exit_status);
  AddClientCommands(app, exit_status);
  AddUpCommand(app, exit_status);
  AddNodeCommand(app, exit_status);
  AddServerCommand(app, exit_status);
  AddUserCommands(app, exit_status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);
    return status == 0 ? 0 : 2;
  }
  return exit_status;
}

}  // namespace milf::cli
