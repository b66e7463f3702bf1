// Private to the server's I/O files (http_server.cc, node_socket.cc,
// event_stream.cc): the Beast types they share and the hand-offs from an
// HTTP connection to the two long-lived kinds of connection.
#pragma once

#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "server/event_bus.h"
#include "server/http_server.h"
#include "server/node_channel.h"

namespace milf::server {

using TcpStream = boost::beast::tcp_stream;
using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Every open connection, so that Stop can close them all. A connection
// registers a closer (which must not keep the connection alive) and
// removes it when it ends. Thread-safe.
class Connections {
 public:
  // 0 when the registry is already closed: the caller closes at once.
  std::uint64_t Add(std::function<void()> close);
  void Remove(std::uint64_t id);
  // Runs every closer once; later Adds fail.
  void CloseAll();

 private:
  std::mutex mutex_;
  bool closed_ = false;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::function<void()>> closers_;
};

// Accepts the WebSocket upgrade `request` on `stream` for the node
// `node_id` and serves it as a NodeChannel of `handler`.
void StartNodeSocket(TcpStream stream, BeastRequest request, std::string node_id,
                     NodeChannelHandler& handler, const HttpServerOptions& options,
                     std::shared_ptr<Connections> connections);

// Answers the request just read from `stream` with an endless
// text/event-stream of the events `user` may see.
void StartEventStream(TcpStream stream, std::int64_t user,
                      EventBus& events, const HttpServerOptions& options, Metrics& metrics,
                      std::shared_ptr<Connections> connections);

}  // namespace milf::server
