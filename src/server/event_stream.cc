// Server-Sent Events: the caller's events from the EventBus as an endless
// text/event-stream response. Publishers never wait for a subscriber: each
// stream buffers a bounded number of events and drops its oldest (telling
// the client how many) when the client reads too slowly; a client that
// stops reading altogether is disconnected at the next heartbeat.
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <mutex>

#include "server/http_io.h"

namespace milf::server {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using SteadyClock = std::chrono::steady_clock;

// A write that has not finished after this many heartbeats means the
// client stopped reading.
constexpr int kStalledHeartbeats = 4;

constexpr std::string_view kPreamble =
    "HTTP/1.1 200 OK\r\n"
    "Server: milf/0.1.0\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n";

// "event: TYPE\ndata: ...\n\n", one data line per line of the JSON.
std::string Format(const Event& event) {
  std::string out = "event: " + event.type + "\n";
  std::size_t start = 0;
  while (true) {
    const std::size_t newline = event.json.find('\n', start);
    out += "data: " + event.json.substr(start, newline - start) + "\n";
    if (newline == std::string::npos) break;
    start = newline + 1;
  }
  return out + "\n";
}

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  EventStream(TcpStream stream, EventBus& bus, const HttpServerOptions& options,
              std::shared_ptr<Connections> connections)
      : stream_(std::move(stream)),
        heartbeat_(stream_.get_executor()),
        bus_(bus),
        heartbeat_interval_(options.event_heartbeat),
        capacity_(std::max<std::size_t>(options.event_buffer, 1)),
        connections_(std::move(connections)) {}

  ~EventStream() {
    if (subscription_ != 0) bus_.Unsubscribe(subscription_);
    connections_->Remove(registration_);
  }

  void Start(std::int64_t user) {
    std::weak_ptr<EventStream> weak = weak_from_this();
    registration_ = connections_->Add([weak] {
      if (auto self = weak.lock()) {
        net::post(self->stream_.get_executor(), [self] { self->Stop(); });
      }
    });
    if (registration_ == 0) return Stop();
    stream_.expires_never();
    subscription_ = bus_.Subscribe(user, [weak](const Event& event) {
      if (auto self = weak.lock()) self->Push(Format(event), true);
    });
    // After subscribing: a client that has read ": connected" is sure to
    // receive every event published afterwards.
    Push(": connected\n\n", false);
    ArmHeartbeat();
    WatchForClose();
  }

 private:
  // From any thread. `droppable` entries (events) count against the buffer.
  void Push(std::string chunk, bool droppable) {
    {
      const std::lock_guard lock(mutex_);
      if (droppable && pending_.size() >= capacity_) {
        pending_.pop_front();
        ++dropped_;
      }
      pending_.push_back(std::move(chunk));
      if (flush_posted_) return;
      flush_posted_ = true;
    }
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Flush(); });
  }

  void Flush() {
    {
      const std::lock_guard lock(mutex_);
      flush_posted_ = false;
      if (writing_ || stopped_ || pending_.empty()) return;
      out_.clear();
      if (!preamble_sent_) out_ = kPreamble;
      preamble_sent_ = true;
      if (dropped_ > 0) {
        out_ += ": dropped " + std::to_string(dropped_) + " events\n\n";
        dropped_ = 0;
      }
      for (const std::string& chunk : pending_) out_ += chunk;
      pending_.clear();
      writing_ = true;
    }
    write_started_ = SteadyClock::now();
    net::async_write(stream_.socket(), net::buffer(out_),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       {
                         const std::lock_guard lock(self->mutex_);
                         self->writing_ = false;
                       }
                       if (ec) return self->Stop();
                       self->Flush();
                     });
  }

  void ArmHeartbeat() {
    heartbeat_.expires_after(heartbeat_interval_);
    heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->stopped_) return;
      bool stalled = false;
      {
        const std::lock_guard lock(self->mutex_);
        stalled = self->writing_ &&
                  SteadyClock::now() - self->write_started_ > kStalledHeartbeats *
                                                                  self->heartbeat_interval_;
      }
      if (stalled) return self->Stop();
      self->Push(": heartbeat\n\n", false);
      self->ArmHeartbeat();
    });
  }

  // The client never sends anything: a completed read means it went away.
  void WatchForClose() {
    stream_.socket().async_read_some(
        net::buffer(read_buffer_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return self->Stop();
          self->WatchForClose();
        });
  }

  void Stop() {
    {
      const std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
    }
    if (subscription_ != 0) bus_.Unsubscribe(subscription_);
    subscription_ = 0;
    connections_->Remove(registration_);
    registration_ = 0;
    heartbeat_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  TcpStream stream_;
  net::steady_timer heartbeat_;
  EventBus& bus_;
  const std::chrono::milliseconds heartbeat_interval_;
  const std::size_t capacity_;
  std::shared_ptr<Connections> connections_;
  std::uint64_t registration_ = 0;
  std::uint64_t subscription_ = 0;
  std::array<char, 512> read_buffer_{};
  std::string out_;  // the write in flight
  bool preamble_sent_ = false;
  SteadyClock::time_point write_started_;

  std::mutex mutex_;  // guards the members below, shared with publishers
  std::deque<std::string> pending_;
  std::uint64_t dropped_ = 0;
  bool flush_posted_ = false;
  bool writing_ = false;
  bool stopped_ = false;
};

}  // namespace

void StartEventStream(TcpStream stream, std::int64_t user, EventBus& events,
                      const HttpServerOptions& options, Metrics& metrics,
                      std::shared_ptr<Connections> connections) {
  metrics.CountHttpResponse(200);
  std::make_shared<EventStream>(std::move(stream), events, options, std::move(connections))
      ->Start(user);
}

}  // namespace milf::server
