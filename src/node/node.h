// Node: a whole device node, wired together: the sandboxed worker pool
// (one worker per slot), the job runner, the module store and credential
// under the data directory, telemetry (the host's, or a simulated phone's),
// the admission policy, and the connection to the server, which runs on a
// thread of its own. `milf node`, `milf-node` and `milf up` all run one.
//
// Data directory layout: credential.json (0600), modules/<sha256>.wasm.
//
// Thread-safety: Stop may be called from any thread; Wait from one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "node/backoff.h"

namespace milf::node {

struct NodeOptions {
  std::string server;                 // http://HOST[:PORT]
  std::string token;                  // enrollment token; "" = use the stored credential
  int slots = 1;
  std::string device_profile;         // path of a device profile (device_profile.h), or ""
  std::string policy;                 // path of an admission policy (policy.h), or ""
  std::filesystem::path data_dir;     // "" = DefaultDataDir()
  std::string name;                   // "" = the host name
  std::uint64_t max_job_memory_mb = 1024;  // largest linear memory a job may ask for
  std::uint64_t module_cache_mb = 256;     // disk budget of the module cache (module_store.h)
  std::filesystem::path sensor_root = "/";  // where /proc and /sys are read (tests: fixtures)
  std::vector<std::string> worker_command;  // empty = this program's own worker mode
  BackoffOptions backoff;
  std::function<void(const std::string& line)> log;  // empty = stderr
};

class Node {
 public:
  // Loads the policy and profile, prepares the data directory, starts the
  // worker pool and the connection thread. Errors: "usage" (bad options),
  // "invalid_url", "invalid_policy", "invalid_profile", "io", "spawn"
  // (the sandbox could not start a worker).
  static Result<std::unique_ptr<Node>> Start(NodeOptions options);

  // Stops and waits.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Graceful: no new jobs; running ones finish and report; then the
  // connection closes. Returns at once.
  void Stop();

  // Blocks until the node stopped (ok) or hit a fatal error (the
  // connection's errors: "enrollment_refused", "unauthorized", "io").
  // Call once.
  Status Wait();

 private:
  struct Parts;
  explicit Node(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// $XDG_DATA_HOME/milf/node, else ~/.local/share/milf/node, else ./milf-node-data.
std::filesystem::path DefaultDataDir();
// This machine as a node target: "<machine>-linux", e.g. "x86_64-linux".
std::string HostTarget();

}  // namespace milf::node
