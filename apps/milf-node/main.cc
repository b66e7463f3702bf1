// milf-node: the device build. Only the node agent, the engine and the
// sandbox are linked in: no server, store or CLI code. Like `milf`, it is
// also its own sandbox worker (the pool starts it as `milf-node __worker`).
#include <CLI/CLI.hpp>

#include <cstddef>
#include <string_view>
#include <utility>

#include "node/node_command.h"
#include "sandbox/pool.h"
#include "sandbox/worker.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == milf::sandbox::kWorkerModeArgument) {
    return milf::sandbox::RunWorker({argv + 2, static_cast<std::size_t>(argc - 2)});
  }
  CLI::App app{"milf-node: a MILF device node; runs jobs from a MILF server in the sandbox"};
  app.set_version_flag("--version", "milf-node 0.1.0");
  milf::node::NodeOptions options;
  milf::node::AddNodeFlags(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);
    return status == 0 ? 0 : 2;
  }
  return milf::node::RunNodeCommand(std::move(options));
}
