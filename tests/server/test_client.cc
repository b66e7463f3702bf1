#include "server/test_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace milf::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr int kTimeoutSeconds = 20;

void SetTimeouts(int fd) {
  timeval timeout{kTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

HttpResult FromBeast(const http::response<http::string_body>& response) {
  HttpResult result;
  result.status = response.result_int();
  result.body = response.body();
  for (const auto& field : response) {
    result.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
  }
  return result;
}

}  // namespace

boost::json::value HttpResult::Json() const {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec) return nullptr;
  return value;
}

std::string HttpResult::ErrorCode() const {
  const auto value = Json();
  if (!value.is_object()) return "";
  const auto* error = value.as_object().if_contains("error");
  if (error == nullptr || !error->is_object()) return "";
  const auto* code = error->as_object().if_contains("code");
  if (code == nullptr || !code->is_string()) return "";
  return std::string(code->as_string());
}

std::string Bearer(const std::string& token) { return "Bearer " + token; }

struct HttpClient::Impl {
  explicit Impl(std::uint16_t port) : port(port), socket(io) {}

  bool Connect() {
    beast::error_code ec;
    socket.close(ec);
    buffer.clear();
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return false;
    SetTimeouts(socket.native_handle());
    connected = true;
    return true;
  }

  std::optional<HttpResult> ReadOne() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    beast::error_code ec;
    http::read(socket, buffer, parser, ec);
    if (ec) {
      connected = false;
      return std::nullopt;
    }
    if (!parser.get().keep_alive()) connected = false;
    return FromBeast(parser.get());
  }

  bool WriteAll(const std::string& bytes) {
    beast::error_code ec;
    net::write(socket, net::buffer(bytes), ec);
    return !ec;
  }

  std::uint16_t port;
  net::io_context io;
  tcp::socket socket;
  beast::flat_buffer buffer;
  bool connected = false;
};

HttpClient::HttpClient(std::uint16_t port) : impl_(std::make_unique<Impl>(port)) {}
HttpClient::~HttpClient() = default;

HttpResult HttpClient::Send(const std::string& method, const std::string& target,
                            const std::string& body, const Headers& headers) {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = impl_->connected;
    if (!impl_->connected && !impl_->Connect()) return {};
    beast::error_code ec;
    http::write(impl_->socket, request, ec);
    if (!ec) {
      if (auto result = impl_->ReadOne()) return *result;
    }
    impl_->connected = false;
    // A kept-alive connection the server closed meanwhile: one retry.
    if (!reused) break;
  }
  return {};
}

HttpResult HttpClient::Get(const std::string& target, const std::string& token) {
  Headers headers;
  if (!token.empty()) headers.emplace_back("Authorization", Bearer(token));
  return Send("GET", target, "", headers);
}

HttpResult HttpClient::PostJson(const std::string& target, const std::string& json,
                                const std::string& token) {
  Headers headers{{"Content-Type", "application/json"}};
  if (!token.empty()) headers.emplace_back("Authorization", Bearer(token));
  return Send("POST", target, json, headers);
}

HttpResult HttpClient::SendRaw(const std::string& bytes) {
  auto results = SendRawMany(bytes, 1);
  return results.empty() ? HttpResult{} : results.front();
}

std::vector<HttpResult> HttpClient::SendRawMany(const std::string& bytes, int count) {
  std::vector<HttpResult> results;
  if (!impl_->connected && !impl_->Connect()) return results;
  if (!impl_->WriteAll(bytes)) return results;
  for (int i = 0; i < count; ++i) {
    auto result = impl_->ReadOne();
    if (!result) break;
    results.push_back(std::move(*result));
  }
  return results;
}

bool HttpClient::ClosedByServer() {
  if (!impl_->connected) return true;
  pollfd poller{impl_->socket.native_handle(), POLLIN, 0};
  if (::poll(&poller, 1, kTimeoutSeconds * 1000) <= 0) return false;
  char byte;
  return ::recv(impl_->socket.native_handle(), &byte, 1, MSG_PEEK) <= 0;
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  SetTimeouts(fd_);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void RawConnection::Write(const std::string& bytes) {
  std::size_t written = 0;
  while (fd_ >= 0 && written < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + written, bytes.size() - written, MSG_NOSIGNAL);
    if (n <= 0) return;
    written += static_cast<std::size_t>(n);
  }
}

std::optional<std::string> RawConnection::ReadUntil(const std::string& needle) {
  while (received_.find(needle) == std::string::npos) {
    char chunk[4096];
    const ssize_t n = fd_ < 0 ? -1 : ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return std::nullopt;
    received_.append(chunk, static_cast<std::size_t>(n));
  }
  return received_;
}

struct WsClient::Impl {
  Impl() : ws(io) {}
  net::io_context io;
  websocket::stream<tcp::socket> ws;
  beast::flat_buffer buffer;
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() = default;

int WsClient::Connect(std::uint16_t port, const std::string& authorization) {
  beast::error_code ec;
  auto& socket = impl_->ws.next_layer();
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return 0;
  SetTimeouts(socket.native_handle());
  impl_->ws.set_option(websocket::stream_base::decorator(
      [authorization](websocket::request_type& request) {
        request.set(http::field::authorization, authorization);
      }));
  impl_->ws.read_message_max(64u << 20);
  websocket::response_type response;
  impl_->ws.handshake(response, "127.0.0.1", "/api/v1/nodes/connect", ec);
  return response.result_int();
}

void WsClient::SendText(const std::string& text) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(net::buffer(text), ec);
}

void WsClient::SendBinary(const std::vector<std::uint8_t>& bytes) {
  beast::error_code ec;
  impl_->ws.binary(true);
  impl_->ws.write(net::buffer(bytes), ec);
}

std::optional<std::pair<bool, std::string>> WsClient::Read() {
  beast::error_code ec;
  impl_->buffer.clear();
  impl_->ws.read(impl_->buffer, ec);
  if (ec) return std::nullopt;
  return std::make_pair(impl_->ws.got_text(), beast::buffers_to_string(impl_->buffer.data()));
}

void WsClient::Close() {
  beast::error_code ec;
  impl_->ws.close(websocket::close_code::normal, ec);
}

}  // namespace milf::testing
