// Connection: the node's link to its server, and the only file of the node
// that does network I/O (Boost.Beast). It
//  - enrolls with the token when the data directory holds no credential for
//    this server (POST /api/v1/nodes/enroll), and keeps the credential;
//  - opens the WebSocket at /api/v1/nodes/connect with
//    `Authorization: Node <node_id>:<secret>`, says Hello, waits for Welcome;
//  - then feeds every frame to the Agent, sends what the agent queues, and
//    ticks the agent's heartbeat at the interval the server asked for;
//  - reconnects after any failure or disconnect, after a jittered
//    exponential backoff (backoff.h) that resets once a Welcome arrives.
// A credential the server refuses (401/403) is dropped and the node enrolls
// again when it has a token; without one, or when the token is refused,
// Run returns the error: retrying could not help.
//
// Thread-safety: Run blocks the calling thread, which becomes the I/O
// thread; Stop may be called from any thread, before or during Run.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "base/random.h"
#include "base/result.h"
#include "node/agent.h"
#include "node/backoff.h"
#include "node/server_url.h"

namespace milf::node {

struct ConnectionOptions {
  ServerUrl server;
  std::string enrollment_token;      // "" = only a stored credential
  std::filesystem::path data_dir;    // holds credential.json
  BackoffOptions backoff;
  std::chrono::milliseconds connect_timeout{10'000};  // TCP connect, HTTP exchange, WebSocket handshake
  std::chrono::milliseconds welcome_timeout{10'000};
  std::function<void(const std::string& line)> log;
};

class Connection {
 public:
  // The agent is built inside, on this connection's I/O thread. `store`,
  // `runner`, `telemetry` and `jitter` must outlive the connection, and the
  // runner must be idle (JobRunner::WaitIdle) before the connection is
  // destroyed: finished jobs report through it.
  Connection(ConnectionOptions options, AgentOptions agent_options, ModuleStore& store,
             JobRunner& runner, TelemetrySource& telemetry, RandomSource& jitter);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects and reconnects until Stop (returns ok) or a fatal error:
  // "enrollment_refused", "unauthorized" (no usable credential),
  // "invalid_credential" (an unreadable credential file), "io" (the
  // credential cannot be read or stored). Call once.
  Status Run();

  // Graceful: no new jobs, running ones finish and report, then the
  // connection closes and Run returns. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace milf::node
