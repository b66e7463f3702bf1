#include "node/server_url.h"

#include <algorithm>
#include <cctype>

namespace milf::node {

std::string ServerUrl::HostHeader() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + port;
}

std::string ServerUrl::Target(std::string_view api_path) const {
  return prefix + "/api/v1" + std::string(api_path);
}

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  const auto invalid = [&](const std::string& why) {
    return Fail("invalid_url", "server URL '" + std::string(url) + "': " + why);
  };
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("ws://")) {
    rest.remove_prefix(5);
  } else if (rest.starts_with("https://") || rest.starts_with("wss://")) {
    return invalid("TLS is not supported by the node; put it in a proxy and use http://");
  } else {
    return invalid("expected http://HOST[:PORT]");
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) return invalid("no query or fragment");
  while (path.ends_with('/')) path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) return invalid("no user info");

  ServerUrl out;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unclosed [");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return invalid("expected :PORT after ]");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (out.host.find(':') != std::string::npos) return invalid("IPv6 addresses go in brackets");
  }
  if (out.host.empty()) return invalid("no host");
  out.port = has_port ? std::string(port) : "80";
  if (out.port.empty() || !std::all_of(out.port.begin(), out.port.end(), [](unsigned char c) { return std::isdigit(c); }) ||
      out.port.size() > 5 || std::stoi(out.port) == 0 || std::stoi(out.port) > 65535) {
    return invalid("bad port");
  }
  out.prefix = std::string(path);
  out.text = "http://" + out.HostHeader() + out.prefix;
  return out;
}

}  // namespace milf::node
