// HttpServer: the server's sockets. HTTP/1.1 on Boost.Beast with
// keep-alive; requests on a connection are answered one at a time, in
// order, so pipelined requests are safe. For each request it enforces the
// body limit (413), authenticates the caller (401, 403 for admin routes)
// and hands the request to the Router's handler (404 or 405 when there is
// none); a handler that throws or drops its reply gets a 500 and the
// connection keeps serving. A HEAD request's answer is sent without its
// body (handlers answer it as they would GET). Two paths leave plain HTTP:
//  - GET /api/v1/nodes/connect with a WebSocket upgrade and a node
//    credential becomes a NodeChannel handed to the NodeChannelHandler;
//  - GET /api/v1/events becomes a Server-Sent Events stream of the
//    caller's events from the EventBus.
//
// The server runs on an io_context that the caller owns and runs (on as
// many threads as it likes); every connection is serialised on its own
// strand. Everything passed to the constructor must outlive the
// io_context's last handler.
//
// Thread-safety: Listen and Stop may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "server/auth.h"
#include "server/event_bus.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/node_channel.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace milf::server {

struct HttpServerOptions {
  std::uint64_t upload_body_limit = 64u << 20;  // PUT /api/v1/functions/{name}
  std::uint64_t body_limit = 16u << 20;         // every other request
  std::uint32_t header_limit = 64u << 10;
  // Idle keep-alive connections and slow headers are closed after this.
  std::chrono::milliseconds header_timeout{30'000};
  // The whole body must arrive within this (a 64 MiB upload on a slow link).
  std::chrono::milliseconds body_timeout{300'000};
  std::chrono::milliseconds write_timeout{60'000};
  // WebSocket: a ping after half of this with no traffic; closed after all
  // of it with no answer.
  std::chrono::milliseconds node_idle_timeout{30'000};
  // SSE: a comment line this often keeps proxies and clients from timing out.
  std::chrono::milliseconds event_heartbeat{15'000};
  // Events queued per SSE subscriber; past it the oldest are dropped.
  std::size_t event_buffer = 1'024;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, const Router& router,
             const Authenticator& authenticator, NodeChannelHandler& nodes, EventBus& events,
             Metrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds "HOST:PORT" ("[V6]:PORT" for IPv6; port 0 picks a free one) and
  // starts accepting. Returns the bound port; Error "io" when the address is
  // malformed or cannot be bound.
  Result<std::uint16_t> Listen(const std::string& address);

  // Stops accepting and closes every connection: WebSockets with a
  // "going away" close frame, everything else at once. Returns without
  // waiting; the connections wind down on the io_context's threads.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace milf::server
