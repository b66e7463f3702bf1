#include "server/node_session.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <type_traits>
#include <utility>
#include <variant>

namespace milf::server {

std::shared_ptr<NodeSession> NodeSession::Create(std::string node_id,
                                                 std::shared_ptr<NodeChannel> channel,
                                                 store::Store& store,
                                                 std::weak_ptr<NodeSessionListener> listener,
                                                 NodeSessionOptions options) {
  return std::shared_ptr<NodeSession>(
      new NodeSession(std::move(node_id), std::move(channel), store, std::move(listener), options));
}

NodeSession::NodeSession(std::string node_id, std::shared_ptr<NodeChannel> channel,
                         store::Store& store, std::weak_ptr<NodeSessionListener> listener,
                         NodeSessionOptions options)
    : node_id_(std::move(node_id)),
      channel_(std::move(channel)),
      remote_address_(channel_->remote_address()),
      store_(store),
      listener_(std::move(listener)),
      options_(options) {}

NodeChannelEvents NodeSession::Events() {
  auto self = shared_from_this();
  NodeChannelEvents events;
  events.on_text = [self](std::string text) { self->OnText(text); };
  events.on_binary = [self](std::vector<std::uint8_t>) { self->OnBinary(); };
  events.on_closed = [self] { self->OnClosed(); };
  return events;
}

void NodeSession::SendJob(const proto::Job& job) { channel_->SendText(proto::Encode(job)); }

void NodeSession::Close(const std::string& reason) { channel_->Close(reason); }

bool NodeSession::HoldsModule(const std::string& sha256) const {
  std::lock_guard lock(modules_mutex_);
  return modules_.contains(sha256);
}

void NodeSession::Violation(const std::string& message) {
  if (closed_) return;
  closed_ = true;
  channel_->SendText(proto::Encode(proto::ProtocolError{message}));
  channel_->Close(message);
}

void NodeSession::OnBinary() {
  // Module bytes only ever travel server -> node.
  Violation("unexpected binary frame from a node");
}

void NodeSession::OnText(const std::string& text) {
  if (closed_) return;
  auto decoded = proto::Decode(text);
  if (!decoded) {
    Violation(fmt::format("malformed message: {}", decoded.error().message));
    return;
  }
  const auto listener = listener_.lock();
  if (!listener) return;
  if (!said_hello_ && !std::holds_alternative<proto::Hello>(*decoded)) {
    Violation("the first message must be hello");
    return;
  }
  std::visit(
      [&](auto& message) {
        using T = std::decay_t<decltype(message)>;
        if constexpr (std::is_same_v<T, proto::Hello>) {
          if (said_hello_) {
            Violation("hello sent twice");
            return;
          }
          HandleHello(message);
          if (!closed_) listener->OnHello(shared_from_this(), message);
        } else if constexpr (std::is_same_v<T, proto::Heartbeat>) {
          const proto::Telemetry& t = message.telemetry;
          if (t.slots_total < 0 || t.slots_in_use < 0 || t.slots_total > options_.max_slots) {
            Violation("heartbeat with impossible slot counts");
            return;
          }
          if (message.artifacts_refused > artifacts_refused_) {
            fmt::print(stderr, "milf server: node {} refused {} AOT artifact(s) so far (bad signature or hash)\n",
                       node_id_, message.artifacts_refused);
            artifacts_refused_ = message.artifacts_refused;
          }
          listener->OnHeartbeat(*this, t);
        } else if constexpr (std::is_same_v<T, proto::JobStarted>) {
          listener->OnJobStarted(*this, message.invocation_id);
        } else if constexpr (std::is_same_v<T, proto::JobResult>) {
          listener->OnJobResult(*this, std::move(message));
        } else if constexpr (std::is_same_v<T, proto::ModuleRequest>) {
          HandleModuleRequest(message.sha256);
        } else if constexpr (std::is_same_v<T, proto::ProtocolError>) {
          // The node found us at fault and closes next; make sure it does.
          closed_ = true;
          channel_->Close(fmt::format("node reported a protocol error: {}", message.message));
        } else {
          Violation("a node may not send this message type");
        }
      },
      *decoded);
}

void NodeSession::HandleHello(const proto::Hello& hello) {
  if (hello.protocol_version != proto::kProtocolVersion) {
    Violation(fmt::format("protocol version {} is not supported; this server speaks {}",
                          hello.protocol_version, proto::kProtocolVersion));
    return;
  }
  if (hello.slots < 1 || hello.slots > options_.max_slots) {
    Violation(fmt::format("hello with {} slots; 1 to {} allowed", hello.slots, options_.max_slots));
    return;
  }
  said_hello_ = true;
  {
    std::lock_guard lock(modules_mutex_);
    modules_.insert(hello.cached_modules.begin(), hello.cached_modules.end());
  }
  proto::Welcome welcome;
  welcome.node_id = node_id_;
  welcome.heartbeat_interval_ms = options_.heartbeat_interval_ms;
  welcome.lease_ms = options_.lease_ms;
  welcome.aot_public_key = options_.aot_public_key;
  channel_->SendText(proto::Encode(welcome));
}

void NodeSession::HandleModuleRequest(const std::string& sha256) {
  auto bytes = store_.GetModule(sha256);
  if (!bytes) {
    channel_->SendText(proto::Encode(proto::ModuleMissing{sha256}));
    return;
  }
  channel_->SendBinary(proto::EncodeModuleFrame(sha256, *bytes));
  std::lock_guard lock(modules_mutex_);
  modules_.insert(sha256);
}

void NodeSession::OnClosed() {
  closed_ = true;
  if (!said_hello_) return;
  if (const auto listener = listener_.lock()) listener->OnClosed(*this);
}

}  // namespace milf::server
