#include "cli/server_command.h"

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <memory>

#include "server/server.h"

namespace milf::cli {

void AddServerCommand(CLI::App& app, int& exit_status) {
  auto options = std::make_shared<ServerCommandOptions>();
  CLI::App* command = app.add_subcommand("server", "Run the central MILF server");
  command->add_option("--listen", options->listen, "HOST:PORT to listen on (port 0: any free)")
      ->capture_default_str();
  command->add_option("--data", options->data_dir, "Data directory (store, keys)")
      ->capture_default_str();
  command->add_option("--threads", options->threads, "I/O threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  command->add_option("--web", options->web_root,
                      "Serve the built dashboard in DIR at / (make build puts it in build/web)");
  command->callback([options, &exit_status] { exit_status = RunServer(*options); });
}

int RunServer(const ServerCommandOptions& options) {
  // Blocked before any thread starts, so every server thread inherits the
  // mask and the signals wait for sigwait below instead of killing us.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::ServerOptions server_options;
  server_options.listen = options.listen;
  server_options.data_dir = options.data_dir;
  server_options.io_threads = options.threads;
  server_options.web_root = options.web_root;
  auto started = server::Server::Start(std::move(server_options));
  if (!started) {
    std::cerr << "milf: server: " << started.error().message << "\n";
    return 1;
  }
  std::unique_ptr<server::Server>& server = *started;
  std::cout << "milf server listening on " << server->url() << " (data in " << options.data_dir
            << ")" << std::endl;
  if (!options.web_root.empty()) {
    std::cout << "milf server: dashboard at " << server->url() << "/ (from " << options.web_root
              << ")" << std::endl;
  }

  int received = 0;
  sigwait(&signals, &received);
  std::cout << "milf server: " << (received == SIGINT ? "interrupted" : "terminated")
            << ", stopping" << std::endl;
  server->Stop();
  return 0;
}

}  // namespace milf::cli
