#include "cli/client_commands.h"

namespace milf::cli {

void AddClientCommands(CLI::App& app, int& exit_status) {
  AddAuthCommands(app, exit_status);
  AddFunctionCommands(app, exit_status);
  AddInvokeCommands(app, exit_status);
  AddClusterCommands(app, exit_status);
}

}  // namespace milf::cli
