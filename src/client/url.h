// Server addresses as users type them ("http://host:port[/prefix]") and the
// percent-encoding of path segments and query values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace milf::client {

enum class Scheme { kHttp, kHttps };

struct ServerUrl {
  Scheme scheme = Scheme::kHttp;
  std::string host;         // name or address; IPv6 without brackets
  std::uint16_t port = 80;
  std::string base_path;    // "" or "/prefix" (no trailing slash)

  // "http://host:port/prefix", the canonical form stored in credentials.
  std::string ToString() const;
  // host:port as a Host header wants it (IPv6 in brackets).
  std::string HostHeader() const;
};

// Accepts "http://h", "http://h:8080/", "https://h/x", "h:8080" (http
// assumed) and "[::1]:8080". Fails with code "usage" naming what is wrong.
Result<ServerUrl> ParseServerUrl(std::string_view text);

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string PercentEncode(std::string_view text);

// "?a=1&b=x%20y" from name/value pairs (empty pairs: "").
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace milf::client
