// FakeServer: the smallest MILF server a node can talk to, for the node's
// tests: enrollment over HTTP and the node protocol over WebSocket, on
// 127.0.0.1:0, on a thread of its own. It answers Hello with Welcome and
// ModuleRequest with the module (or ModuleMissing) by itself, records
// everything the node sends, and lets the test send jobs, drain, break
// frames or drop the connection.
//
// Thread-safety: every method may be called from the test's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proto/messages.h"

namespace milf::node::testing {

class FakeServer {
 public:
  struct Options {
    std::string token = "enroll-me";
    std::string node_id = "node-1";
    std::int64_t heartbeat_interval_ms = 50;
    std::int64_t lease_ms = 2'000;
    int protocol_version = proto::kProtocolVersion;
  };

  // What the server has seen so far.
  struct Log {
    int enrollments = 0;
    int refused_enrollments = 0;
    int refused_upgrades = 0;
    int welcomes = 0;
    int closes_by_node = 0;  // close frames the node sent
    int sessions_ended = 0;
    std::vector<std::string> enroll_names;
    std::vector<proto::Hello> hellos;
    std::vector<proto::Telemetry> heartbeats;
    std::vector<std::string> started;
    std::vector<proto::JobResult> results;
    std::vector<std::string> module_requests;
    std::vector<std::string> errors;  // ProtocolError messages from the node

    const proto::JobResult* Result(const std::string& invocation_id) const;
  };

  explicit FakeServer(Options options);
  FakeServer() : FakeServer(Options{}) {}
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::string url() const;

  // Serves `bytes` when a node asks for its hash; returns the hash.
  std::string AddModule(std::vector<std::uint8_t> bytes);
  // From now on, module frames carry bytes that do not match their hash.
  void CorruptModuleFrames();
  // The node's current secret stops working (as if another enrollment
  // replaced it).
  void RevokeSecret();

  // To the node on the latest connection.
  void Send(const proto::Message& message);
  void SendText(std::string text);
  // Closes the latest connection's socket without a close handshake.
  void Drop();

  // Waits up to `timeout` for `condition` over the log; false on timeout.
  bool WaitFor(const std::function<bool(const Log&)>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  Log log() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace milf::node::testing
