// NodeChannel: one node's WebSocket connection as the protocol layer sees
// it. The I/O layer (http_server.cc) authenticates the upgrade, then hands
// the channel to a NodeChannelHandler; the protocol layer (node_session.cc)
// speaks proto::Message over it and never sees Beast.
//
// Thread-safety: Send* and Close may be called from any thread; they queue
// and return at once. Callbacks arrive on the connection's strand, one at a
// time, in order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace milf::server {

class NodeChannel {
 public:
  virtual ~NodeChannel() = default;
  virtual void SendText(std::string text) = 0;
  virtual void SendBinary(std::vector<std::uint8_t> bytes) = 0;
  virtual void Close(const std::string& reason) = 0;
  virtual std::string remote_address() const = 0;
};

struct NodeChannelEvents {
  std::function<void(std::string text)> on_text;
  std::function<void(std::vector<std::uint8_t> bytes)> on_binary;
  std::function<void()> on_closed;  // last callback; the channel is dead after it
};

class NodeChannelHandler {
 public:
  virtual ~NodeChannelHandler() = default;
  // A node authenticated as `node_id` connected. Returns the callbacks for
  // its frames; `channel` stays valid until on_closed has run.
  virtual NodeChannelEvents OnConnected(const std::string& node_id,
                                        std::shared_ptr<NodeChannel> channel) = 0;
};

}  // namespace milf::server
