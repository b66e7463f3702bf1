#include "fake_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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
#include <boost/json.hpp>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "base/sha256.h"

namespace milf::node::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Outside the coroutines: g++ 12 cannot keep this initializer list in a
// coroutine frame.
std::string EnrollAnswer(const std::string& node_id, const std::string& secret) {
  return boost::json::serialize(boost::json::object{{"node_id", node_id}, {"secret", secret}});
}

struct Frame {
  bool binary = false;
  std::string data;
};

struct Session {
  explicit Session(beast::tcp_stream stream)
      : ws(std::move(stream)), wake(ws.get_executor(), asio::steady_timer::time_point::max()) {}
  websocket::stream<beast::tcp_stream> ws;
  asio::steady_timer wake;
  std::deque<Frame> outbox;

  void Push(Frame frame) {
    outbox.push_back(std::move(frame));
    wake.cancel();
  }
};

}  // namespace

const proto::JobResult* FakeServer::Log::Result(const std::string& invocation_id) const {
  for (const proto::JobResult& result : results) {
    if (result.invocation_id == invocation_id) return &result;
  }
  return nullptr;
}

struct FakeServer::Impl {
  explicit Impl(Options o) : options(std::move(o)) {}

  Options options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  Log log;                                              // under mutex
  std::string secret = "secret-0";                      // under mutex
  int generation = 0;                                   // under mutex
  std::map<std::string, std::vector<std::uint8_t>> modules;  // under mutex
  bool corrupt = false;                                 // under mutex
  std::shared_ptr<Session> current;                     // I/O thread only

  template <class F>
  void Record(F&& change) {
    {
      std::lock_guard lock(mutex);
      change(log);
    }
    changed.notify_all();
  }

  awaitable<void> Accept() {
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(kNoThrow);
      if (error) co_return;
      asio::co_spawn(io, Serve(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  awaitable<void> Respond(beast::tcp_stream& stream, http::status status, std::string body) {
    http::response<http::string_body> response{status, 11};
    response.set(http::field::content_type, "application/json");
    response.body() = std::move(body);
    response.prepare_payload();
    co_await http::async_write(stream, response, kNoThrow);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  awaitable<void> Serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [error, read] = co_await http::async_read(stream, buffer, request, kNoThrow);
    if (error) co_return;
    if (websocket::is_upgrade(request)) {
      std::string expected;
      {
        std::lock_guard lock(mutex);
        expected = "Node " + options.node_id + ":" + secret;
      }
      if (request.target() != "/api/v1/nodes/connect" ||
          request[http::field::authorization] != expected) {
        Record([](Log& log) { ++log.refused_upgrades; });
        co_await Respond(stream, http::status::unauthorized,
                         R"({"error":{"code":"unauthorized","message":"bad node credential"}})");
        co_return;
      }
      auto session = std::make_shared<Session>(std::move(stream));
      session->ws.read_message_max(proto::kMaxMessageBytes);
      auto [accept_error] = co_await session->ws.async_accept(request, kNoThrow);
      if (accept_error) co_return;
      co_await RunSession(session);
      co_return;
    }
    if (request.method() == http::verb::post && request.target() == "/api/v1/nodes/enroll") {
      co_await Enroll(stream, request.body());
      co_return;
    }
    co_await Respond(stream, http::status::not_found, R"({"error":{"code":"not_found"}})");
  }

  awaitable<void> Enroll(beast::tcp_stream& stream, const std::string& body) {
    std::error_code error;
    const boost::json::value value = boost::json::parse(body, error);
    const boost::json::object* object = error ? nullptr : value.if_object();
    const auto field = [&](const char* key) -> std::string {
      const boost::json::value* v = object ? object->if_contains(key) : nullptr;
      return v && v->is_string() ? std::string(v->get_string()) : "";
    };
    if (field("token") != options.token || field("name").empty() || field("target").empty()) {
      Record([](Log& log) { ++log.refused_enrollments; });
      co_await Respond(stream, http::status::unauthorized,
                       R"({"error":{"code":"unauthorized","message":"invalid or expired token"}})");
      co_return;
    }
    std::string secret_now;
    {
      std::lock_guard lock(mutex);
      secret = "secret-" + std::to_string(++generation);
      secret_now = secret;
    }
    Record([&](Log& log) {
      ++log.enrollments;
      log.enroll_names.push_back(field("name"));
    });
    co_await Respond(stream, http::status::created, EnrollAnswer(options.node_id, secret_now));
  }

  awaitable<void> RunSession(std::shared_ptr<Session> session) {
    using namespace asio::experimental::awaitable_operators;
    co_await (Reader(session) || Writer(session));
    if (current == session) current.reset();
    Record([](Log& log) { ++log.sessions_ended; });
  }

  awaitable<void> Reader(std::shared_ptr<Session> session) {
    for (;;) {
      beast::flat_buffer buffer;
      auto [error, size] = co_await session->ws.async_read(buffer, kNoThrow);
      if (error) {
        if (error == websocket::error::closed) Record([](Log& log) { ++log.closes_by_node; });
        co_return;
      }
      auto message = proto::Decode(beast::buffers_to_string(buffer.cdata()));
      if (!message) {
        Record([&](Log& log) { log.errors.push_back("server could not decode: " + message.error().message); });
        continue;
      }
      Handle(session, std::move(*message));
    }
  }

  void Handle(const std::shared_ptr<Session>& session, proto::Message message) {
    if (auto* hello = std::get_if<proto::Hello>(&message)) {
      current = session;
      proto::Welcome welcome;
      welcome.protocol_version = options.protocol_version;
      welcome.node_id = options.node_id;
      welcome.heartbeat_interval_ms = options.heartbeat_interval_ms;
      welcome.lease_ms = options.lease_ms;
      session->Push({false, proto::Encode(welcome)});
      Record([&](Log& log) {
        log.hellos.push_back(*hello);
        ++log.welcomes;
      });
    } else if (auto* heartbeat = std::get_if<proto::Heartbeat>(&message)) {
      Record([&](Log& log) { log.heartbeats.push_back(heartbeat->telemetry); });
    } else if (auto* started = std::get_if<proto::JobStarted>(&message)) {
      Record([&](Log& log) { log.started.push_back(started->invocation_id); });
    } else if (auto* result = std::get_if<proto::JobResult>(&message)) {
      Record([&](Log& log) { log.results.push_back(*result); });
    } else if (auto* request = std::get_if<proto::ModuleRequest>(&message)) {
      ServeModule(session, request->sha256);
      Record([&](Log& log) { log.module_requests.push_back(request->sha256); });
    } else if (auto* error = std::get_if<proto::ProtocolError>(&message)) {
      Record([&](Log& log) { log.errors.push_back(error->message); });
    }
  }

  void ServeModule(const std::shared_ptr<Session>& session, const std::string& hash) {
    std::vector<std::uint8_t> bytes;
    bool found = false;
    bool corrupt_now = false;
    {
      std::lock_guard lock(mutex);
      if (auto it = modules.find(hash); it != modules.end()) {
        bytes = it->second;
        found = true;
      }
      corrupt_now = corrupt;
    }
    if (!found) {
      session->Push({false, proto::Encode(proto::ModuleMissing{hash})});
      return;
    }
    if (corrupt_now && !bytes.empty()) bytes.back() ^= 0xff;
    const std::vector<std::uint8_t> frame = proto::EncodeModuleFrame(hash, bytes);
    session->Push({true, std::string(frame.begin(), frame.end())});
  }

  awaitable<void> Writer(std::shared_ptr<Session> session) {
    for (;;) {
      while (!session->outbox.empty()) {
        const Frame frame = std::move(session->outbox.front());
        session->outbox.pop_front();
        session->ws.binary(frame.binary);
        auto [error, written] = co_await session->ws.async_write(asio::buffer(frame.data), kNoThrow);
        if (error) co_return;
      }
      co_await session->wake.async_wait(kNoThrow);
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
        co_return;
      }
    }
  }
};

FakeServer::FakeServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

FakeServer::~FakeServer() {
  impl_->io.stop();
  impl_->thread.join();
}

std::string FakeServer::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port());
}

std::string FakeServer::AddModule(std::vector<std::uint8_t> bytes) {
  std::string hash = Sha256Hex(bytes);
  std::lock_guard lock(impl_->mutex);
  impl_->modules[hash] = std::move(bytes);
  return hash;
}

void FakeServer::CorruptModuleFrames() {
  std::lock_guard lock(impl_->mutex);
  impl_->corrupt = true;
}

void FakeServer::RevokeSecret() {
  std::lock_guard lock(impl_->mutex);
  impl_->secret = "revoked-" + std::to_string(++impl_->generation);
}

void FakeServer::Send(const proto::Message& message) { SendText(proto::Encode(message)); }

void FakeServer::SendText(std::string text) {
  asio::post(impl_->io, [impl = impl_.get(), text = std::move(text)]() mutable {
    if (impl->current) impl->current->Push({false, std::move(text)});
  });
}

void FakeServer::Drop() {
  asio::post(impl_->io, [impl = impl_.get()] {
    if (!impl->current) return;
    beast::error_code ignored;
    beast::get_lowest_layer(impl->current->ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(impl->current->ws).socket().close(ignored);
    impl->current.reset();
  });
}

bool FakeServer::WaitFor(const std::function<bool(const Log&)>& condition,
                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return condition(impl_->log); });
}

FakeServer::Log FakeServer::log() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

}  // namespace milf::node::testing
