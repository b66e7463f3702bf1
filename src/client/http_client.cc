// The Beast I/O behind HttpClient. Operations are started asynchronously and
// driven to completion by running the client's own io_context, which is how
// Beast applies a deadline (tcp_stream::expires_at) to each of them.
#include "client/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

namespace milf::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::size_t kChunkBytes = 64 * 1024;

class FileSource final : public BodySource {
 public:
  FileSource(std::ifstream in, std::uint64_t size, std::string path)
      : in_(std::move(in)), size_(size), path_(std::move(path)) {}

  std::uint64_t size() const override { return size_; }

  Result<std::size_t> Read(std::span<char> out) override {
    in_.read(out.data(), static_cast<std::streamsize>(out.size()));
    if (in_.bad()) return Fail("io", "cannot read " + path_ + ": " + std::strerror(errno));
    return static_cast<std::size_t>(in_.gcount());
  }

  bool Rewind() override {
    in_.clear();
    in_.seekg(0);
    return static_cast<bool>(in_);
  }

 private:
  std::ifstream in_;
  std::uint64_t size_;
  std::string path_;
};

// Runs the asynchronous operation started by `initiate` to completion on
// `io` and returns its error code.
template <class Initiate>
beast::error_code RunOp(asio::io_context& io, Initiate&& initiate) {
  beast::error_code result;
  initiate([&result](beast::error_code error, auto&&...) { result = error; });
  io.restart();
  io.run();
  return result;
}

std::string Lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error IoError(const beast::error_code& error, const std::string& what) {
  if (error == beast::error::timeout) return {"timeout", what + " timed out"};
  if (error == http::error::body_limit) return {"too_large", what + ": the answer is too large"};
  if (error == http::error::end_of_stream || error == http::error::partial_message) {
    return {"io", what + ": the server closed the connection"};
  }
  if (error.category() == beast::error_code(http::error::end_of_stream).category()) {
    return {"protocol", what + ": not a valid HTTP answer (" + error.message() + ")"};
  }
  return {"io", what + ": " + error.message()};
}

template <class Fields>
void SetCommonFields(Fields& request, const HttpRequest& in, const std::string& host,
                     const std::string& user_agent) {
  request.set(http::field::host, host);
  request.set(http::field::user_agent, user_agent);
  if (!in.content_type.empty()) request.set(http::field::content_type, in.content_type);
  for (const auto& [name, value] : in.headers) request.set(name, value);
  request.keep_alive(true);
}

}  // namespace

struct HttpClient::Impl {
  ServerUrl url;
  HttpClientOptions options;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;  // engaged while connected
  beast::flat_buffer buffer;

  void Disconnect() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
    }
    stream.reset();
    buffer.clear();
  }

  Status Connect(SteadyTime deadline) {
    const std::string what = "connecting to " + url.ToString();
    tcp::resolver resolver(io);
    tcp::resolver::results_type endpoints;
    asio::steady_timer resolve_timer(io, std::min(deadline, std::chrono::steady_clock::now() +
                                                                std::chrono::milliseconds(options.connect_timeout_ms)));
    resolve_timer.async_wait([&resolver](beast::error_code error) {
      if (!error) resolver.cancel();
    });
    beast::error_code error;
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&](beast::error_code e, tcp::resolver::results_type results) {
                             error = e;
                             endpoints = std::move(results);
                             resolve_timer.cancel();
                           });
    io.restart();
    io.run();
    if (error == asio::error::operation_aborted) return Fail("timeout", what + ": name lookup timed out");
    if (error) return Fail("connect", what + ": " + error.message());

    stream.emplace(io);
    stream->expires_at(std::min(deadline, std::chrono::steady_clock::now() +
                                              std::chrono::milliseconds(options.connect_timeout_ms)));
    error = RunOp(io, [&](auto handler) { stream->async_connect(endpoints, std::move(handler)); });
    if (error) {
      stream.reset();
      if (error == beast::error::timeout) return Fail("timeout", what + " timed out");
      return Fail("connect", what + ": " + error.message());
    }
    stream->socket().set_option(tcp::no_delay(true), error);
    return {};
  }

  // Writes the request line, headers and body.
  Status Write(const HttpRequest& in, http::verb verb, const std::string& target, SteadyTime deadline) {
    const std::string host = url.HostHeader();
    stream->expires_at(deadline);
    if (in.stream == nullptr) {
      http::request<http::string_body> request{verb, target, 11};
      SetCommonFields(request, in, host, options.user_agent);
      request.body() = in.body;
      request.prepare_payload();
      const auto error = RunOp(io, [&](auto handler) { http::async_write(*stream, request, std::move(handler)); });
      if (error) return Fail(IoError(error, "sending the request"));
      return {};
    }
    http::request<http::empty_body> request{verb, target, 11};
    SetCommonFields(request, in, host, options.user_agent);
    const std::uint64_t total = in.stream->size();
    request.content_length(total);
    http::request_serializer<http::empty_body> serializer{request};
    auto error = RunOp(io, [&](auto handler) { http::async_write_header(*stream, serializer, std::move(handler)); });
    if (error) return Fail(IoError(error, "sending the request"));
    std::array<char, kChunkBytes> chunk;
    std::uint64_t sent = 0;
    if (in.progress) in.progress(0, total);
    while (sent < total) {
      auto got = in.stream->Read(chunk);
      if (!got) return Fail(std::move(got).error());
      if (*got == 0) return Fail("io", "the upload ended early: the file shrank while being sent");
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(*got, total - sent));
      error = RunOp(io, [&](auto handler) { asio::async_write(*stream, asio::buffer(chunk.data(), n), std::move(handler)); });
      if (error) return Fail(IoError(error, "sending the request body"));
      sent += n;
      if (in.progress) in.progress(sent, total);
    }
    return {};
  }

  // Reads one answer. `got_some` tells whether any byte of it arrived.
  Result<HttpResponse> Read(bool head, SteadyTime deadline, bool& got_some) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_response_bytes);
    parser.skip(head);
    stream->expires_at(deadline);
    const auto error = RunOp(io, [&](auto handler) { http::async_read(*stream, buffer, parser, std::move(handler)); });
    got_some = parser.got_some();
    if (error) return Fail(IoError(error, "reading the answer"));
    http::response<http::string_body> message = parser.release();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    response.reason = std::string(message.reason());
    for (const auto& field : message) {
      response.headers.emplace_back(Lowercase(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    if (!message.keep_alive()) Disconnect();
    return response;
  }

  Result<HttpResponse> SendOnce(const HttpRequest& in, http::verb verb, const std::string& target,
                                SteadyTime deadline, bool& retryable) {
    retryable = false;
    const bool reused = stream.has_value();
    if (!reused) {
      if (auto connected = Connect(deadline); !connected) return Fail(std::move(connected).error());
    }
    bool got_some = false;
    if (auto written = Write(in, verb, target, deadline); !written) {
      // A server may answer before reading the whole body (413, 401) and
      // close; its answer is what the caller needs, not the broken pipe.
      if (written.error().code == "io") {
        auto early = Read(verb == http::verb::head, deadline, got_some);
        if (early) {
          Disconnect();
          return early;
        }
      }
      retryable = reused && !got_some && written.error().code == "io";
      Disconnect();
      return Fail(std::move(written).error());
    }
    auto response = Read(verb == http::verb::head, deadline, got_some);
    if (!response) {
      retryable = reused && !got_some && response.error().code == "io";
      Disconnect();
    }
    return response;
  }
};

Result<std::unique_ptr<BodySource>> FileBody(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Fail("io", "cannot open " + path + ": " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  if (size < 0) return Fail("io", "cannot read the size of " + path);
  in.seekg(0);
  return std::unique_ptr<BodySource>(
      std::make_unique<FileSource>(std::move(in), static_cast<std::uint64_t>(size), path));
}

std::optional<std::string> HttpResponse::Header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return value;
  }
  return std::nullopt;
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(ServerUrl url, HttpClientOptions options) {
  if (url.scheme == Scheme::kHttps) {
    return Fail("unsupported", "https:// is not supported yet: use http:// (a TLS-terminating proxy can sit in front)");
  }
  auto impl = std::make_unique<Impl>();
  impl->url = std::move(url);
  impl->options = std::move(options);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() { impl_->Disconnect(); }

const ServerUrl& HttpClient::url() const { return impl_->url; }

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  const http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) return Fail("usage", "unknown HTTP method " + request.method);
  const std::string target = impl_->url.base_path + request.target;
  const std::int64_t timeout_ms = request.timeout_ms.value_or(impl_->options.request_timeout_ms);
  const SteadyTime deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool retryable = false;
  auto response = impl_->SendOnce(request, verb, target, deadline, retryable);
  if (!response && retryable && (request.stream == nullptr || request.stream->Rewind())) {
    response = impl_->SendOnce(request, verb, target, deadline, retryable);
  }
  if (!response && response.error().code == "timeout") {
    return Fail("timeout", "request to " + impl_->url.ToString() + " timed out after " +
                               std::to_string((timeout_ms + 999) / 1000) + " s");
  }
  return response;
}

}  // namespace milf::client
