// The server a node talks to, from `--server URL`: http://HOST[:PORT][/PREFIX].
// The node speaks plain HTTP and WebSocket (ws://) to it; TLS belongs to a
// reverse proxy in front of the server.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace milf::node {

struct ServerUrl {
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // "80" when not given
  std::string prefix;  // "" or "/path" without a trailing slash
  std::string text;    // normalized: http://host:port/prefix

  // "host:port" as sent in the Host header.
  std::string HostHeader() const;
  // prefix + "/api/v1" + path
  std::string Target(std::string_view api_path) const;
};

// Accepts http:// and ws:// URLs. Errors: "invalid_url".
Result<ServerUrl> ParseServerUrl(std::string_view url);

}  // namespace milf::node
