#include "node/node_command.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/pool.h"

namespace milf::node {

void AddNodeFlags(CLI::App& app, NodeOptions& options) {
  app.add_option("--server", options.server, "Server URL, e.g. http://127.0.0.1:8080")
      ->required();
  app.add_option("--token", options.token,
                 "Enrollment token (from `milf token create-node`); needed only until the "
                 "node holds a credential");
  app.add_option("--slots", options.slots, "Jobs run at once (sandbox workers)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--device-profile", options.device_profile,
                 "Simulate a phone's battery and temperature (JSON, see docs/protocol.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--policy", options.policy,
                 "Admission policy: max_slots, min_battery_percent, only_while_charging, "
                 "max_temperature_c, max_cpu_load (JSON)")
      ->check(CLI::ExistingFile);
  app.add_option("--data", options.data_dir, "Data directory (credential, module cache)");
  app.add_option("--name", options.name, "Node name shown by `milf nodes ls` (default: host name)");
  app.add_option("--max-memory-mb", options.max_job_memory_mb,
                 "Largest memory setting of a job this node runs")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--module-cache-mb", options.module_cache_mb,
                 "Disk space for cached modules; the least recently used go first (default 256)")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--sensor-root", options.sensor_root,
                 "Read /proc and /sys under this directory (for tests)")
      ->group("");
  // A node built for another architecture runs under qemu-user in tests;
  // without binfmt_misc its workers must be started through the emulator
  // too (docs/arm64.md).
  app.add_option_function<std::vector<std::string>>(
         "--worker-emulator",
         [&options](const std::vector<std::string>& emulator) {
           auto self = sandbox::SelfWorkerCommand();
           if (!self) throw CLI::ValidationError("--worker-emulator", self.error().message);
           options.worker_command = emulator;
           options.worker_command.insert(options.worker_command.end(), self->begin(),
                                         self->end());
         },
         "Start sandbox workers through this emulator, comma-separated argv (for tests)")
      ->delimiter(',')
      ->group("");
}

int RunNodeCommand(NodeOptions options) {
  namespace asio = boost::asio;
  // Installed before the node starts, so a signal that arrives while it
  // starts is kept until the wait below.
  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);

  auto node = Node::Start(std::move(options));
  if (!node) {
    std::cerr << "milf node: " << node.error().message << "\n";
    return 1;
  }
  signals.async_wait([&node](const boost::system::error_code& error, int) {
    if (!error) (*node)->Stop();
  });
  Status status;
  std::thread waiter([&] {
    status = (*node)->Wait();
    asio::post(io, [&signals] { signals.cancel(); });
  });
  io.run();
  waiter.join();
  if (!status) {
    std::cerr << "milf node: " << status.error().message << "\n";
    return 1;
  }
  return 0;
}

}  // namespace milf::node
