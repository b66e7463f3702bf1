#include "node/connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>

#include <deque>
#include <exception>
#include <optional>
#include <utility>

#include "node/enrollment.h"
#include "proto/messages.h"

namespace milf::node {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
using WebSocket = websocket::stream<beast::tcp_stream>;

// Completion token: errors come back as values, never as exceptions.
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr const char* kUserAgent = "milf-node/0.1.0";
constexpr std::size_t kMaxEnrollAnswerBytes = 64 * 1024;
// A module frame is the largest message a node accepts.
constexpr std::size_t kMaxFrameBytes = proto::kMaxModuleBytes + 64 + 4096;
constexpr std::chrono::milliseconds kIdleBeforeWelcome{30'000};

// How one attempt (enroll, connect, hello, session) ended.
struct Outcome {
  bool fatal = false;
  bool welcomed = false;  // a session was established: the backoff starts over
  Error error;
};

Outcome Retry(std::string why) { return {false, false, Error{"unavailable", std::move(why)}}; }
Outcome Fatal(Error error) { return {true, false, std::move(error)}; }

}  // namespace

class Connection::Impl final : public Link {
 public:
  Impl(ConnectionOptions options, AgentOptions agent_options, ModuleStore& store,
       JobRunner& runner, TelemetrySource& telemetry, RandomSource& jitter)
      : options_(std::move(options)),
        name_(agent_options.name),
        target_(agent_options.target),
        agent_(std::move(agent_options), store, runner, telemetry,
               [this](std::function<void()> task) { asio::post(io_, std::move(task)); }),
        backoff_(options_.backoff, jitter) {}

  Status Run() {
    auto stored = LoadCredential(options_.data_dir);
    if (!stored) return Fail(std::move(stored).error());
    if (*stored && (*stored)->server == options_.server.text) credential_ = std::move(**stored);
    asio::co_spawn(io_, Main(), [this](std::exception_ptr thrown) {
      if (!thrown) return;
      try {
        std::rethrow_exception(thrown);
      } catch (const std::exception& error) {
        fatal_ = Error{"internal", error.what()};
      }
    });
    io_.run();
    if (fatal_) return Fail(*fatal_);
    return {};
  }

  void Stop() {
    asio::post(io_, [this] {
      if (stopping_) return;
      stopping_ = true;
      agent_.Stop();
      retry_timer_.cancel();
      // A session closes itself once its jobs are done; an attempt still
      // connecting is simply abandoned.
      if (!agent_.attached() && active_stream_ != nullptr) active_stream_->cancel();
    });
  }

  void SendText(std::string text) override {
    outbox_.push_back(std::move(text));
    wake_.cancel();
  }

  void Close(std::string reason) override {
    close_reason_ = std::move(reason);
    wake_.cancel();
  }

 private:
  // Marks the stream of the attempt in progress, so Stop can abandon it.
  class ActiveStream {
   public:
    ActiveStream(Impl& impl, beast::tcp_stream& stream) : impl_(impl) { impl_.active_stream_ = &stream; }
    ~ActiveStream() { impl_.active_stream_ = nullptr; }
    ActiveStream(const ActiveStream&) = delete;
    ActiveStream& operator=(const ActiveStream&) = delete;

   private:
    Impl& impl_;
  };

  awaitable<void> Main() {
    while (!stopping_) {
      const Outcome outcome = co_await Attempt();
      if (outcome.fatal) {
        fatal_ = outcome.error;
        co_return;
      }
      if (stopping_) break;
      if (outcome.welcomed) backoff_.Reset();
      const std::chrono::milliseconds delay = backoff_.Next();
      Log(fmt::format("{}; reconnecting in {} ms", outcome.error.message, delay.count()));
      retry_timer_.expires_after(delay);
      co_await retry_timer_.async_wait(kNoThrow);
    }
  }

  awaitable<Outcome> Attempt() {
    if (!credential_) {
      if (options_.enrollment_token.empty()) {
        co_return Fatal({"unauthorized", "no credential for " + options_.server.text + " in " +
                                             options_.data_dir.string() +
                                             "; enroll the node with --token"});
      }
      auto enrolled = co_await Enroll();
      if (!enrolled) {
        if (enrolled.error().code == "enrollment_refused") co_return Fatal(enrolled.error());
        co_return Retry("enrollment failed: " + enrolled.error().message);
      }
      if (auto saved = SaveCredential(options_.data_dir, *enrolled); !saved) {
        co_return Fatal(saved.error());
      }
      credential_ = std::move(*enrolled);
      Log("enrolled with " + options_.server.text + " as node " + credential_->node_id);
    }

    tcp::resolver resolver(io_);
    auto [resolve_error, endpoints] =
        co_await resolver.async_resolve(options_.server.host, options_.server.port, kNoThrow);
    if (resolve_error) co_return Retry("cannot resolve " + options_.server.host);
    WebSocket ws(io_);
    ActiveStream active(*this, beast::get_lowest_layer(ws));
    if (stopping_) co_return Retry("stopping");
    beast::get_lowest_layer(ws).expires_after(options_.connect_timeout);
    auto [connect_error, endpoint] =
        co_await beast::get_lowest_layer(ws).async_connect(endpoints, kNoThrow);
    if (connect_error) {
      co_return Retry("cannot connect to " + options_.server.text + ": " + connect_error.message());
    }
    beast::get_lowest_layer(ws).expires_never();
    // Jobs and results are small frames sent back to back; without
    // TCP_NODELAY each waits for the peer's delayed ACK (~40 ms).
    beast::error_code nodelay_error;
    beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), nodelay_error);
    ws.set_option(websocket::stream_base::timeout{options_.connect_timeout, kIdleBeforeWelcome, true});
    ws.set_option(websocket::stream_base::decorator(
        [authorization = AuthorizationHeader(*credential_)](websocket::request_type& request) {
          request.set(http::field::authorization, authorization);
          request.set(http::field::user_agent, kUserAgent);
        }));
    ws.read_message_max(kMaxFrameBytes);

    websocket::response_type response;
    auto [handshake_error] = co_await ws.async_handshake(
        response, options_.server.HostHeader(), options_.server.Target("/nodes/connect"), kNoThrow);
    if (handshake_error) {
      const unsigned status = response.result_int();
      if (status == 401 || status == 403) {
        const std::string node_id = credential_->node_id;
        credential_.reset();
        if (options_.enrollment_token.empty()) {
          co_return Fatal({"unauthorized", "the server refused the credential of node " + node_id +
                                               "; enroll the node again with --token"});
        }
        co_return Retry("the server refused the credential of node " + node_id +
                        "; enrolling again");
      }
      co_return Retry("WebSocket handshake with " + options_.server.text + " failed: " +
                      (status != 0 ? "HTTP " + std::to_string(status) : handshake_error.message()));
    }
    co_return co_await Greet(ws);
  }

  // Hello, then the server's Welcome, then the session.
  awaitable<Outcome> Greet(WebSocket& ws) {
    using namespace asio::experimental::awaitable_operators;
    ws.text(true);
    auto [write_error, written] =
        co_await ws.async_write(asio::buffer(proto::Encode(agent_.MakeHello())), kNoThrow);
    if (write_error) co_return Retry("cannot send hello: " + write_error.message());

    beast::flat_buffer buffer;
    asio::steady_timer deadline(io_, options_.welcome_timeout);
    auto first = co_await (ws.async_read(buffer, kNoThrow) || deadline.async_wait(kNoThrow));
    if (first.index() == 1) co_return Retry("no welcome from the server in time");
    if (auto [read_error, read] = std::get<0>(first); read_error) {
      co_return Retry("connection lost before welcome: " + read_error.message());
    }
    if (!ws.got_text()) co_return Retry("the server sent binary data before welcome");
    auto message = proto::Decode(beast::buffers_to_string(buffer.cdata()));
    if (!message) co_return Retry("invalid welcome: " + message.error().message);
    if (const auto* error = std::get_if<proto::ProtocolError>(&*message)) {
      co_return Retry("the server refused the node: " + error->message);
    }
    const auto* welcome = std::get_if<proto::Welcome>(&*message);
    if (welcome == nullptr) co_return Retry("the server answered hello with something else");
    if (welcome->protocol_version != proto::kProtocolVersion) {
      co_return Retry(fmt::format("the server speaks protocol {}, this node {}",
                                  welcome->protocol_version, proto::kProtocolVersion));
    }
    co_return co_await Session(ws, *welcome);
  }

  awaitable<Outcome> Session(WebSocket& ws, const proto::Welcome& welcome) {
    using namespace asio::experimental::awaitable_operators;
    const std::chrono::milliseconds interval(welcome.heartbeat_interval_ms);
    // Silence longer than a lease (or three heartbeats) means the server is
    // gone; Beast pings at half that to tell silence from a quiet server.
    const auto idle = std::max(std::chrono::milliseconds(welcome.lease_ms), 3 * interval);
    ws.set_option(websocket::stream_base::timeout{options_.connect_timeout, idle, true});
    outbox_.clear();
    close_reason_.reset();
    ended_because_ = "the connection ended";
    Log("connected to " + options_.server.text + " as node " + welcome.node_id);
    agent_.Attach(*this, welcome);
    co_await (ReadLoop(ws) || WriteLoop(ws) || HeartbeatLoop(interval));
    agent_.Detach();
    outbox_.clear();
    Outcome outcome = Retry(ended_because_);
    outcome.welcomed = true;
    co_return outcome;
  }

  awaitable<void> ReadLoop(WebSocket& ws) {
    for (;;) {
      beast::flat_buffer buffer;
      auto [error, size] = co_await ws.async_read(buffer, kNoThrow);
      if (error) {
        if (error != websocket::error::closed) {
          ended_because_ = "connection lost: " + error.message();
        } else if (close_reason_) {
          ended_because_ = "closed (" + *close_reason_ + ")";
        } else {
          const std::string reason(ws.reason().reason.c_str());
          ended_because_ = "the server closed the connection" + (reason.empty() ? "" : ": " + reason);
        }
        co_return;
      }
      const auto data = buffer.cdata();
      if (ws.got_text()) {
        agent_.OnText(std::string_view(static_cast<const char*>(data.data()), data.size()));
      } else {
        agent_.OnBinary({static_cast<const std::uint8_t*>(data.data()), data.size()});
      }
    }
  }

  awaitable<void> WriteLoop(WebSocket& ws) {
    bool close_sent = false;
    for (;;) {
      while (!close_sent && !outbox_.empty()) {
        const std::string text = std::move(outbox_.front());
        outbox_.pop_front();
        ws.text(true);
        auto [error, written] = co_await ws.async_write(asio::buffer(text), kNoThrow);
        if (error) {
          ended_because_ = "cannot send: " + error.message();
          co_return;
        }
      }
      if (!close_sent && close_reason_) {
        close_sent = true;
        // The reader sees the server's answering close and ends the session.
        auto [error] = co_await ws.async_close(
            websocket::close_reason(websocket::close_code::normal, *close_reason_), kNoThrow);
        if (error) {
          ended_because_ = "cannot close: " + error.message();
          co_return;
        }
      }
      co_await wake_.async_wait(kNoThrow);
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
        co_return;
      }
    }
  }

  awaitable<void> HeartbeatLoop(std::chrono::milliseconds interval) {
    asio::steady_timer timer(io_);
    for (;;) {
      timer.expires_after(interval);
      auto [error] = co_await timer.async_wait(kNoThrow);
      if (error) co_return;  // cancelled: the session is over
      agent_.Heartbeat();
    }
  }

  awaitable<Result<Credential>> Enroll() {
    tcp::resolver resolver(io_);
    auto [resolve_error, endpoints] =
        co_await resolver.async_resolve(options_.server.host, options_.server.port, kNoThrow);
    if (resolve_error) co_return Fail("unavailable", "cannot resolve " + options_.server.host);
    beast::tcp_stream stream(io_);
    ActiveStream active(*this, stream);
    stream.expires_after(options_.connect_timeout);
    auto [connect_error, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
    if (connect_error) {
      co_return Fail("unavailable", "cannot connect to " + options_.server.text + ": " +
                                        connect_error.message());
    }
    http::request<http::string_body> request{http::verb::post,
                                             options_.server.Target("/nodes/enroll"), 11};
    request.set(http::field::host, options_.server.HostHeader());
    request.set(http::field::user_agent, kUserAgent);
    request.set(http::field::content_type, "application/json");
    request.body() = EnrollRequestBody(options_.enrollment_token, name_, target_);
    request.prepare_payload();
    stream.expires_after(options_.connect_timeout);
    auto [write_error, written] = co_await http::async_write(stream, request, kNoThrow);
    if (write_error) co_return Fail("unavailable", "cannot send enrollment: " + write_error.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxEnrollAnswerBytes);
    auto [read_error, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (read_error) co_return Fail("unavailable", "no enrollment answer: " + read_error.message());
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return ParseEnrollResponse(static_cast<int>(parser.get().result_int()), parser.get().body(),
                                  options_.server.text);
  }

  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  const ConnectionOptions options_;
  const std::string name_;
  const std::string target_;
  asio::io_context io_;
  Agent agent_;
  Backoff backoff_;
  asio::steady_timer retry_timer_{io_};
  // Wakes the writer: never expires, cancelled whenever there is work.
  asio::steady_timer wake_{io_, asio::steady_timer::time_point::max()};
  std::optional<Credential> credential_;
  std::optional<Error> fatal_;
  bool stopping_ = false;
  beast::tcp_stream* active_stream_ = nullptr;
  std::deque<std::string> outbox_;
  std::optional<std::string> close_reason_;
  std::string ended_because_;
};

Connection::Connection(ConnectionOptions options, AgentOptions agent_options, ModuleStore& store,
                       JobRunner& runner, TelemetrySource& telemetry, RandomSource& jitter)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(agent_options), store, runner,
                                   telemetry, jitter)) {}

Connection::~Connection() = default;

Status Connection::Run() { return impl_->Run(); }

void Connection::Stop() { impl_->Stop(); }

}  // namespace milf::node
