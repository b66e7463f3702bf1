#include "cli/node_command.h"

#include <memory>

#include "node/node_command.h"

namespace milf::cli {

void AddNodeCommand(CLI::App& app, int& exit_status) {
  CLI::App* command =
      app.add_subcommand("node", "Run a device node: take jobs from a server, run them sandboxed");
  // Owned by the subcommand's callback, which CLI11 keeps as long as `app`.
  auto options = std::make_shared<node::NodeOptions>();
  node::AddNodeFlags(*command, *options);
  command->callback([options, &exit_status] { exit_status = node::RunNodeCommand(*options); });
}

}  // namespace milf::cli
