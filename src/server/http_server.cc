#include "server/http_server.h"

#include <fcntl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <exception>
#include <optional>

#include "server/api.h"
#include "server/http_io.h"

namespace milf::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kNodeConnectPath = "/api/v1/nodes/connect";
constexpr std::string_view kEventsPath = "/api/v1/events";
constexpr std::string_view kFunctionsPrefix = "/api/v1/functions/";

// What every connection of one server shares. Everything referenced
// outlives the io_context's handlers (see http_server.h).
struct Shared {
  HttpServerOptions options;
  const Router& router;
  const Authenticator& authenticator;
  NodeChannelHandler& nodes;
  EventBus& events;
  Metrics& metrics;
  std::shared_ptr<Connections> connections;
};

// Asio opens sockets without close-on-exec: without it, a process the
// server starts (a compiler, say) inherits them, and one that outlives a
// killed server keeps its port bound.
void KeepFromChildren(int fd) { ::fcntl(fd, F_SETFD, FD_CLOEXEC); }

std::string Lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Uploads of function modules get the larger body limit.
bool IsUpload(const http::request_parser<http::string_body>::value_type& header) {
  if (header.method() != http::verb::put) return false;
  const std::string_view target = header.target();
  if (!target.starts_with(kFunctionsPrefix)) return false;
  const std::string_view rest = target.substr(kFunctionsPrefix.size());
  return rest.substr(0, rest.find('?')).find('/') == std::string_view::npos;
}

// The parts of a Beast request a handler sees; nullopt for a malformed target.
std::optional<HttpRequest> Translate(BeastRequest& request, const std::string& remote_address) {
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target) return std::nullopt;
  HttpRequest out;
  out.method = std::string(request.method_string());
  out.path = target->path();
  for (const auto& param : target->params()) out.query.emplace(param.key, param.value);
  for (const auto& field : request) {
    auto [it, inserted] = out.headers.emplace(Lowercase(field.name_string()), field.value());
    if (!inserted) it->second += ", " + std::string(field.value());
  }
  out.body = std::move(request.body());
  out.remote_address = remote_address;
  return out;
}

class HttpSession;

// The one answer to a request. When every copy of the reply is gone
// without an answer, the handler dropped the request: answer 500 so that
// the connection keeps serving.
struct ReplyState {
  explicit ReplyState(std::shared_ptr<HttpSession> session) : session(std::move(session)) {}
  ~ReplyState();
  void Answer(HttpResponse response);

  std::shared_ptr<HttpSession> session;
  std::atomic<bool> done{false};
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<const Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
    KeepFromChildren(stream_.socket().native_handle());
  }

  ~HttpSession() { shared_->connections->Remove(registration_); }

  void Start() {
    std::weak_ptr<HttpSession> weak = weak_from_this();
    registration_ = shared_->connections->Add([weak] {
      if (auto self = weak.lock()) {
        net::post(self->stream_.get_executor(), [self] { self->Close(); });
      }
    });
    if (registration_ == 0) return Close();
    ReadHeader();
  }

  // From any thread: answers the request being served.
  void Deliver(HttpResponse response) {
    net::post(stream_.get_executor(), [self = shared_from_this(), response = std::move(response)] {
      self->Write(response, self->pending_ ? self->pending_->keep_alive : false);
    });
  }

 private:
  // The request being answered and its handler's view of it; they live
  // until the answer is written (see api.h).
  struct Pending {
    HttpRequest request;
    bool keep_alive = false;
    std::unique_ptr<HandlerContext> context;
  };

  void ReadHeader() {
    head_ = false;
    parser_.emplace();
    parser_->header_limit(shared_->options.header_limit);
    // The real limit depends on the route; it is set once the header is in.
    parser_->body_limit(std::max(shared_->options.upload_body_limit, shared_->options.body_limit));
    stream_.expires_after(shared_->options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    const std::uint64_t limit =
        IsUpload(header) ? shared_->options.upload_body_limit : shared_->options.body_limit;
    const auto length = parser_->content_length();
    if (length && *length > limit) return RefuseTooLarge();
    parser_->body_limit(limit);
    if (header[http::field::expect] == "100-continue" && !parser_->is_done()) {
      return SendContinue();
    }
    ReadBody();
  }

  void SendContinue() {
    auto response = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    stream_.expires_after(shared_->options.write_timeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                        if (ec) return self->Close();
                        self->ReadBody();
                      });
  }

  void ReadBody() {
    stream_.expires_after(shared_->options.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return RefuseTooLarge();
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == http::error::partial_message) {
      return Close();
    }
    if (ec == http::error::header_limit) {
      return Write(ErrorResponse(431, "bad_request", "request header too large"), false);
    }
    Write(ErrorResponse(400, "bad_request", "malformed HTTP request: " + ec.message()), false);
  }

  void RefuseTooLarge() {
    const std::uint64_t limit = IsUpload(parser_->get()) ? shared_->options.upload_body_limit
                                                         : shared_->options.body_limit;
    Write(ErrorResponse(413, "too_large",
                        "request body over " + std::to_string(limit >> 20) + " MiB"),
          false);
  }

  void Dispatch() {
    BeastRequest request = parser_->release();
    const bool keep_alive = request.keep_alive();
    head_ = request.method() == http::verb::head;
    auto translated = Translate(request, remote_address_);
    if (!translated) {
      return Write(ErrorResponse(400, "bad_request", "malformed request target"), false);
    }
    if (translated->path == kNodeConnectPath && beast::websocket::is_upgrade(request)) {
      return UpgradeNode(std::move(request), *translated);
    }
    if (translated->path == kEventsPath && translated->method == "GET") {
      return StreamEvents(*translated);
    }
    Route(std::move(*translated), keep_alive);
  }

  void UpgradeNode(BeastRequest request, const HttpRequest& translated) {
    auto node = shared_->authenticator.AuthenticateNode(translated);
    if (!node) return Write(AuthErrorResponse(node.error()), false);
    HandOff();
    StartNodeSocket(std::move(stream_), std::move(request), std::move(*node), shared_->nodes,
                    shared_->options, shared_->connections);
  }

  void StreamEvents(const HttpRequest& translated) {
    auto principal = shared_->authenticator.AuthenticateUser(translated, true);
    if (!principal) return Write(AuthErrorResponse(principal.error()), false);
    HandOff();
    StartEventStream(std::move(stream_), principal->user_id, shared_->events,
                     shared_->options, shared_->metrics, shared_->connections);
  }

  // The stream now belongs to a longer-lived connection.
  void HandOff() {
    handed_off_ = true;
    shared_->connections->Remove(registration_);
    registration_ = 0;
  }

  void Route(HttpRequest request, bool keep_alive) {
    const Router::Match match = shared_->router.Find(request.method, request.path);
    if (match.handler == nullptr) {
      if (match.path_known) {
        return Write(ErrorResponse(405, "method_not_allowed",
                                   request.method + " is not allowed on " + request.path),
                     keep_alive);
      }
      return Write(ErrorResponse(404, "not_found", "no route for " + request.path), keep_alive);
    }
    std::optional<Principal> principal;
    if (match.access != Access::kPublic) {
      auto who = shared_->authenticator.AuthenticateUser(request, false);
      if (!who) return Write(AuthErrorResponse(who.error()), keep_alive);
      if (match.access == Access::kAdmin && !who->is_admin()) {
        return Write(ErrorResponse(403, "forbidden", "this needs the admin role"), keep_alive);
      }
      principal = std::move(*who);
    }
    Invoke(*match.handler, std::move(request), match.params, std::move(principal), keep_alive);
  }

  void Invoke(const Handler& handler, HttpRequest request, std::map<std::string, std::string> params,
              std::optional<Principal> principal, bool keep_alive) {
    pending_ = std::make_unique<Pending>();
    pending_->request = std::move(request);
    pending_->keep_alive = keep_alive;
    auto state = std::make_shared<ReplyState>(shared_from_this());
    pending_->context = std::make_unique<HandlerContext>(HandlerContext{
        pending_->request, std::move(params), std::move(principal),
        [state](HttpResponse response) { state->Answer(std::move(response)); }});
    try {
      handler(*pending_->context);
    } catch (const std::exception& error) {
      state->Answer(ErrorResponse(500, "internal", std::string("handler failed: ") + error.what()));
    } catch (...) {
      state->Answer(ErrorResponse(500, "internal", "handler failed"));
    }
    // Only the handler's own copies keep the reply alive from here on.
    std::weak_ptr<ReplyState> weak = state;
    pending_->context->reply = [weak](HttpResponse response) {
      if (auto live = weak.lock()) live->Answer(std::move(response));
    };
  }

  void Write(const HttpResponse& answer, bool keep_alive) {
    if (handed_off_) return;
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(answer.status), 11);
    response->set(http::field::server, "milf/0.1.0");
    if (!answer.content_type.empty()) response->set(http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) response->insert(name, value);
    response->body() = answer.body;
    response->keep_alive(keep_alive);
    response->prepare_payload();
    // A handler answers HEAD as it would GET: the headers, Content-Length
    // included, stay those of the full answer, the body is not sent.
    if (head_) response->body().clear();
    shared_->metrics.CountHttpResponse(answer.status);
    stream_.expires_after(shared_->options.write_timeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                        self->OnWrite(ec, response->keep_alive());
                      });
  }

  void OnWrite(beast::error_code ec, bool keep_alive) {
    pending_.reset();
    if (ec) return Close();
    if (!keep_alive) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return Close();
    }
    ReadHeader();
  }

  void Close() {
    if (handed_off_) return;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  TcpStream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<const Shared> shared_;
  std::string remote_address_;
  std::uint64_t registration_ = 0;
  bool handed_off_ = false;
  bool head_ = false;  // the request being answered is a HEAD
  std::unique_ptr<Pending> pending_;
};

ReplyState::~ReplyState() {
  if (!done.exchange(true)) {
    session->Deliver(ErrorResponse(500, "internal", "the handler did not answer"));
  }
}

void ReplyState::Answer(HttpResponse response) {
  if (!done.exchange(true)) session->Deliver(std::move(response));
}

Result<tcp::endpoint> ParseEndpoint(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return Fail("io", "expected HOST:PORT, got '" + address + "'");
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const net::ip::address ip = net::ip::make_address(host, ec);
  unsigned port = 0;
  const auto [end, parse_ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec || parse_ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535 || port_text.empty()) {
    return Fail("io", "expected HOST:PORT with a numeric host, got '" + address + "'");
  }
  return tcp::endpoint(ip, static_cast<unsigned short>(port));
}

}  // namespace

std::uint64_t Connections::Add(std::function<void()> close) {
  const std::lock_guard lock(mutex_);
  if (closed_) return 0;
  const std::uint64_t id = next_id_++;
  closers_.emplace(id, std::move(close));
  return id;
}

void Connections::Remove(std::uint64_t id) {
  if (id == 0) return;
  const std::lock_guard lock(mutex_);
  closers_.erase(id);
}

void Connections::CloseAll() {
  std::map<std::uint64_t, std::function<void()>> closers;
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    closers.swap(closers_);
  }
  // Outside the lock: a closer may end the last reference to its
  // connection, whose destructor calls Remove.
  for (auto& [id, close] : closers) close();
}

struct HttpServer::Impl {
  Impl(net::io_context& io, std::shared_ptr<const Shared> shared)
      : io(io), shared(std::move(shared)), acceptor(net::make_strand(io)), retry(acceptor.get_executor()) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of descriptors, most likely: wait for some to be freed.
        retry.expires_after(std::chrono::milliseconds(50));
        return retry.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) Accept();
        });
      }
      std::make_shared<HttpSession>(std::move(socket), shared)->Start();
      Accept();
    });
  }

  net::io_context& io;
  std::shared_ptr<const Shared> shared;
  tcp::acceptor acceptor;
  net::steady_timer retry;
};

HttpServer::HttpServer(net::io_context& io, HttpServerOptions options, const Router& router,
                       const Authenticator& authenticator, NodeChannelHandler& nodes,
                       EventBus& events, Metrics& metrics)
    : impl_(std::make_unique<Impl>(
          io, std::make_shared<const Shared>(Shared{std::move(options), router, authenticator,
                                                    nodes, events, metrics,
                                                    std::make_shared<Connections>()}))) {}

HttpServer::~HttpServer() = default;

Result<std::uint16_t> HttpServer::Listen(const std::string& address) {
  auto endpoint = ParseEndpoint(address);
  if (!endpoint) return Fail(endpoint.error());
  beast::error_code ec;
  tcp::acceptor& acceptor = impl_->acceptor;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) KeepFromChildren(acceptor.native_handle());
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;  // the reason is ec's, not the close's
    acceptor.close(ignored);
    return Fail("io", "cannot listen on " + address + ": " + ec.message());
  }
  const std::uint16_t port = acceptor.local_endpoint(ec).port();
  net::post(acceptor.get_executor(), [impl = impl_.get()] { impl->Accept(); });
  return port;
}

void HttpServer::Stop() {
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->retry.cancel();
  });
  impl_->shared->connections->CloseAll();
}

}  // namespace milf::server
