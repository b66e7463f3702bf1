// NodeChannel over a Beast WebSocket: a write queue (one frame in flight at
// a time), text and binary frames, a message size limit, and ping/pong
// keepalive (Beast pings an idle peer and drops one that stays silent).
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <exception>
#include <variant>

#include "proto/messages.h"
#include "server/http_io.h"

namespace milf::server {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

// RFC 6455 close reasons fit in a 125-byte control frame.
constexpr std::size_t kMaxCloseReason = 120;

class NodeSocket : public NodeChannel, public std::enable_shared_from_this<NodeSocket> {
 public:
  NodeSocket(TcpStream stream, std::string node_id, NodeChannelHandler& handler,
             std::shared_ptr<Connections> connections)
      : ws_(std::move(stream)),
        node_id_(std::move(node_id)),
        handler_(handler),
        connections_(std::move(connections)) {
    beast::error_code ec;
    const auto peer = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string();
  }

  ~NodeSocket() override { connections_->Remove(registration_); }

  void Start(BeastRequest request, const HttpServerOptions& options) {
    request_ = std::move(request);
    std::weak_ptr<NodeSocket> weak = weak_from_this();
    registration_ = connections_->Add([weak] {
      if (auto self = weak.lock()) {
        self->PostClose(websocket::close_code::going_away, "server shutting down");
      }
    });
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout;
    timeout.handshake_timeout = options.header_timeout;
    timeout.idle_timeout = options.node_idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(beast::http::field::server, "milf/0.1.0");
    }));
    ws_.read_message_max(proto::kMaxMessageBytes);
    ws_.async_accept(request_, [self = shared_from_this()](beast::error_code ec) {
      self->OnAccept(ec);
    });
  }

  void SendText(std::string text) override { PostFrame(Frame(std::move(text))); }
  void SendBinary(std::vector<std::uint8_t> bytes) override { PostFrame(Frame(std::move(bytes))); }
  void Close(const std::string& reason) override {
    PostClose(websocket::close_code::normal, reason);
  }
  std::string remote_address() const override { return remote_address_; }

 private:
  using Frame = std::variant<std::string, std::vector<std::uint8_t>>;

  void OnAccept(beast::error_code ec) {
    request_ = {};
    if (ec || registration_ == 0) return Finish();
    accepted_ = true;
    if (!Guard([&] { events_ = handler_.OnConnected(node_id_, shared_from_this()); })) return;
    Read();
  }

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Finish();
    const auto data = buffer_.cdata();
    const auto* begin = static_cast<const char*>(data.data());
    if (ws_.got_text()) {
      std::string text(begin, begin + data.size());
      buffer_.consume(buffer_.size());
      if (events_.on_text && !Guard([&] { events_.on_text(std::move(text)); })) return;
    } else {
      std::vector<std::uint8_t> bytes(begin, begin + data.size());
      buffer_.consume(buffer_.size());
      if (events_.on_binary && !Guard([&] { events_.on_binary(std::move(bytes)); })) return;
    }
    Read();
  }

  // Runs a protocol-layer callback; one that throws ends the connection
  // rather than the server.
  template <class F>
  bool Guard(F&& callback) {
    try {
      callback();
      return true;
    } catch (const std::exception&) {
    } catch (...) {
    }
    CloseNow(websocket::close_code::internal_error, "internal error");
    return false;
  }

  void PostFrame(Frame frame) {
    net::post(ws_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
      if (self->finished_ || self->closing_ || !self->accepted_) return;
      self->queue_.push_back(std::move(frame));
      if (!self->writing_) self->WriteFront();
    });
  }

  void WriteFront() {
    writing_ = true;
    const Frame& frame = queue_.front();
    const bool text = std::holds_alternative<std::string>(frame);
    ws_.text(text);
    const net::const_buffer buffer =
        text ? net::buffer(std::get<std::string>(frame))
             : net::buffer(std::get<std::vector<std::uint8_t>>(frame));
    ws_.async_write(buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    if (ec) {
      // The read side sees the same failure and finishes the channel.
      queue_.clear();
      return;
    }
    queue_.pop_front();
    if (!queue_.empty()) return WriteFront();
    if (closing_) SendCloseFrame();
  }

  void PostClose(websocket::close_code code, std::string reason) {
    net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)] {
      self->CloseNow(code, reason);
    });
  }

  // Queued frames go out first, then the close frame.
  void CloseNow(websocket::close_code code, std::string reason) {
    if (finished_ || closing_) return;
    closing_ = true;
    if (reason.size() > kMaxCloseReason) reason.resize(kMaxCloseReason);
    close_reason_ = websocket::close_reason(code, reason);
    if (!accepted_) return CloseSocket();
    if (!writing_) SendCloseFrame();
  }

  void SendCloseFrame() {
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) self->CloseSocket();
    });
  }

  void CloseSocket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    connections_->Remove(registration_);
    registration_ = 0;
    if (accepted_ && events_.on_closed) {
      try {
        events_.on_closed();
      } catch (...) {
      }
    }
    // The callbacks may hold this channel: let go of them to end the cycle.
    events_ = NodeChannelEvents{};
    CloseSocket();
  }

  websocket::stream<TcpStream> ws_;
  const std::string node_id_;
  NodeChannelHandler& handler_;
  std::shared_ptr<Connections> connections_;
  std::string remote_address_;
  BeastRequest request_;
  std::uint64_t registration_ = 0;
  beast::flat_buffer buffer_;
  NodeChannelEvents events_;
  std::deque<Frame> queue_;
  websocket::close_reason close_reason_;
  bool accepted_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

}  // namespace

void StartNodeSocket(TcpStream stream, BeastRequest request, std::string node_id,
                     NodeChannelHandler& handler, const HttpServerOptions& options,
                     std::shared_ptr<Connections> connections) {
  std::make_shared<NodeSocket>(std::move(stream), std::move(node_id), handler,
                               std::move(connections))
      ->Start(std::move(request), options);
}

}  // namespace milf::server
