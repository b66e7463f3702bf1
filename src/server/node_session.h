// NodeSession: the server's side of the node protocol (proto/messages.h,
// docs/protocol.md) on one NodeChannel. It owns the conversation, not the
// placement: it checks that the node says Hello first and in a protocol
// version the server speaks, answers Welcome, serves modules by hash, and
// turns every other message into a call on its NodeSessionListener (the
// scheduler). Anything malformed or out of order gets a ProtocolError and
// the channel is closed.
//
// Modules: the session remembers which module hashes the node holds (those
// listed in Hello, and every module it has been sent), so the scheduler can
// prefer nodes that hold a job's module and a module crosses the wire once
// per node.
//
// Thread-safety: the channel callbacks (Events()) arrive one at a time on
// the connection's strand, so listener calls for one session never overlap.
// SendJob, Close, HoldsModule and the accessors may be called from any
// thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "base/clock.h"
#include "proto/messages.h"
#include "server/node_channel.h"
#include "store/store.h"

namespace milf::server {

class NodeSession;

class NodeSessionListener {
 public:
  virtual ~NodeSessionListener() = default;
  // After Welcome has been queued. `session` is the one to send jobs on.
  virtual void OnHello(const std::shared_ptr<NodeSession>& session, const proto::Hello& hello) = 0;
  virtual void OnHeartbeat(NodeSession& session, const proto::Telemetry& telemetry) = 0;
  virtual void OnJobStarted(NodeSession& session, const std::string& invocation_id) = 0;
  virtual void OnJobResult(NodeSession& session, proto::JobResult result) = 0;
  // The channel closed; only sessions that said Hello are reported.
  virtual void OnClosed(NodeSession& session) = 0;
};

struct NodeSessionOptions {
  std::int64_t heartbeat_interval_ms = 2'000;
  std::int64_t lease_ms = 10'000;
  int max_slots = 1024;  // a Hello asking for more is a protocol error
  std::string aot_public_key;  // the artifact signing key, sent in the welcome
};

class NodeSession : public std::enable_shared_from_this<NodeSession> {
 public:
  // `listener` is held weakly: once it is gone, frames are ignored.
  static std::shared_ptr<NodeSession> Create(std::string node_id,
                                             std::shared_ptr<NodeChannel> channel,
                                             store::Store& store,
                                             std::weak_ptr<NodeSessionListener> listener,
                                             NodeSessionOptions options);

  // The callbacks to hand back to the I/O layer; they keep the session alive.
  NodeChannelEvents Events();

  void SendJob(const proto::Job& job);
  void Close(const std::string& reason);
  bool HoldsModule(const std::string& sha256) const;

  const std::string& node_id() const { return node_id_; }
  const std::string& remote_address() const { return remote_address_; }

 private:
  NodeSession(std::string node_id, std::shared_ptr<NodeChannel> channel, store::Store& store,
              std::weak_ptr<NodeSessionListener> listener, NodeSessionOptions options);

  void OnText(const std::string& text);
  void OnBinary();
  void OnClosed();
  void HandleHello(const proto::Hello& hello);
  void HandleModuleRequest(const std::string& sha256);
  void Violation(const std::string& message);

  const std::string node_id_;
  const std::shared_ptr<NodeChannel> channel_;
  std::uint64_t artifacts_refused_ = 0;  // as last reported by the node
  const std::string remote_address_;
  store::Store& store_;
  const std::weak_ptr<NodeSessionListener> listener_;
  const NodeSessionOptions options_;

  // Strand-confined (see the thread-safety note).
  bool said_hello_ = false;
  bool closed_ = false;

  mutable std::mutex modules_mutex_;
  std::unordered_set<std::string> modules_;
};

}  // namespace milf::server
