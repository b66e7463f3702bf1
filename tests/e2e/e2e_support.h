// End-to-end test support: real `milf` processes on 127.0.0.1, started
// with posix_spawn, stopped by PID, each in its own temporary directory.
//
// A Cluster is one server (`milf server --listen 127.0.0.1:0`, or a fixed
// port on restart) with a known admin password, plus any number of nodes
// (`milf node`), plus the CLI run as a subprocess with its own config home.
// Every wait polls a condition against a deadline; nothing sleeps to
// synchronise.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/api_client.h"

namespace milf::e2e {

using std::chrono::milliseconds;

std::string MilfPath();                       // build/bin/milf
std::string ExamplePath(const std::string& name);  // build/examples/NAME.wasm
std::string SleeperPath();                    // the e2e sleeper guest

// Polls `condition` every few milliseconds until it holds or `timeout` ends.
bool WaitUntil(const std::function<bool()>& condition, milliseconds timeout);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A child process whose stdout and stderr go to files in `log_dir`.
// Destroying it kills (SIGKILL) and reaps it if it still runs.
class Child {
 public:
  // `env` entries ("K=V") are added to this process's environment, minus
  // MILF_SERVER, MILF_API_KEY, MILF_ADMIN_PASSWORD and XDG_CONFIG_HOME.
  static Result<std::unique_ptr<Child>> Spawn(const std::vector<std::string>& argv,
                                              const std::vector<std::string>& env,
                                              const std::filesystem::path& log_dir,
                                              const std::string& label);
  ~Child();

  pid_t pid() const { return pid_; }
  void Signal(int signal) const;
  // The wait status once it exited within `timeout`; nullopt if it still runs.
  std::optional<int> WaitExit(milliseconds timeout);
  bool running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  Child(pid_t pid, std::filesystem::path out, std::filesystem::path err);
  pid_t pid_;
  bool reaped_ = false;
  int status_ = 0;  // the wait status, once reaped
  std::filesystem::path out_;
  std::filesystem::path err_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when a signal ended it
  std::string out;
  std::string err;
};

// Runs `milf ARGS...` to completion (at most `timeout`, then SIGKILL) with
// `stdin_data` as its input.
CommandResult RunMilf(const std::vector<std::string>& args, const std::vector<std::string>& env,
                      const std::string& stdin_data = "", milliseconds timeout = milliseconds(60'000));

class Cluster {
 public:
  static constexpr char kAdminPassword[] = "e2e-admin-password";

  // Starts the server on a free port under a fresh data directory.
  Cluster();
  ~Cluster();

  // Kills the server with SIGKILL (no clean stop), or stops it with SIGTERM.
  void KillServer();
  // Starts the server again on the same port and data directory.
  void RestartServer();

  // Enrolls and starts a node named `name`; waits until the server lists it
  // online. Returns its node id.
  std::string StartNode(const std::string& name, int slots = 1);
  Child& node(const std::string& name) { return *nodes_.at(name); }
  std::string NodeIdOf(const std::string& name) const { return node_ids_.at(name); }
  // Waits until the node list shows `name` online or not.
  bool WaitNodeOnline(const std::string& name, bool online, milliseconds timeout);

  const std::string& url() const { return url_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::filesystem::path& dir() const { return temp_.path(); }
  Child& server() { return *server_; }

  // An API session as `user` (logging in over HTTP).
  std::unique_ptr<client::ApiClient> SessionAs(const std::string& user, const std::string& password);
  client::ApiClient& admin();
  // Creates a developer; returns nothing, asserts on failure.
  void AddUser(const std::string& name, const std::string& password);
  // Environment for CLI runs: its own config home, MILF_SERVER and an API
  // key for `user` (created over the API).
  std::vector<std::string> CliEnvFor(const std::string& user, const std::string& password);

  // PUT /functions/NAME with the module at `path`; asserts success.
  void Deploy(client::ApiClient& api, const std::string& name, const std::string& path,
              const std::string& query = "");
  // Polls GET /invocations/ID until it reaches a final state.
  boost::json::value WaitFinished(client::ApiClient& api, const std::string& id, milliseconds timeout);

 private:
  void StartServer(const std::string& listen);

  TempDir temp_;
  std::filesystem::path data_dir_;
  std::string url_;
  std::uint16_t port_ = 0;
  int server_starts_ = 0;
  std::unique_ptr<Child> server_;
  std::unique_ptr<client::ApiClient> admin_;
  std::map<std::string, std::unique_ptr<Child>> nodes_;
  std::map<std::string, std::string> node_ids_;
};

}  // namespace milf::e2e
