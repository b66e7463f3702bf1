#include "client/url.h"

#include <charconv>

namespace milf::client {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

Result<std::uint16_t> ParsePort(std::string_view text, std::string_view url) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return Fail("usage", "invalid port in server URL '" + std::string(url) + "'");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string ServerUrl::ToString() const {
  std::string out = scheme == Scheme::kHttps ? "https://" : "http://";
  out += HostHeader();
  out += base_path;
  return out;
}

std::string ServerUrl::HostHeader() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ServerUrl> ParseServerUrl(std::string_view text) {
  ServerUrl url;
  std::string_view rest = text;
  if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
    const std::string_view scheme = rest.substr(0, sep);
    if (scheme == "http") {
      url.scheme = Scheme::kHttp;
    } else if (scheme == "https") {
      url.scheme = Scheme::kHttps;
    } else {
      return Fail("usage", "server URL '" + std::string(text) + "' must start with http:// or https://");
    }
    rest.remove_prefix(sep + 3);
  }
  url.port = url.scheme == Scheme::kHttps ? 443 : 80;
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos || rest.find_first_of("?#") != std::string_view::npos) {
    return Fail("usage", "server URL '" + std::string(text) + "' must not carry credentials, a query or a fragment");
  }
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Fail("usage", "unclosed '[' in server URL '" + std::string(text) + "'");
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Fail("usage", "invalid server URL '" + std::string(text) + "'");
      auto port = ParsePort(after.substr(1), text);
      if (!port) return Fail(std::move(port).error());
      url.port = *port;
    }
  } else {
    const auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      auto port = ParsePort(authority.substr(colon + 1), text);
      if (!port) return Fail(std::move(port).error());
      url.port = *port;
    }
  }
  if (url.host.empty()) return Fail("usage", "server URL '" + std::string(text) + "' has no host");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = std::string(path);
  return url;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    out += out.empty() ? '?' : '&';
    out += PercentEncode(name);
    out += '=';
    out += PercentEncode(value);
  }
  return out;
}

}  // namespace milf::client
