#include "server/http.h"

#include <boost/json.hpp>

#include <algorithm>

namespace milf::server {
namespace {

// "/a/b/" -> {"a", "b", ""}: empty segments are kept so that they never
// match a {parameter} and "/x//y" stays distinct from "/x/y".
std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> segments;
  if (path.empty() || path.front() != '/') return segments;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) {
      segments.push_back(path.substr(start));
      return segments;
    }
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

bool IsParameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool MatchSegments(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& params) {
  if (pattern.size() != path.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (IsParameter(pattern[i])) {
      if (path[i].empty()) return false;
      found[pattern[i].substr(1, pattern[i].size() - 2)] = path[i];
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

std::optional<std::string> HttpRequest::Query(const std::string& name) const {
  const auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> HttpRequest::Header(const std::string& lowercase_name) const {
  const auto it = headers.find(lowercase_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message) {
  boost::json::object error{{"code", code}, {"message", message}};
  return JsonResponse(status, boost::json::serialize(boost::json::object{{"error", error}}));
}

HttpResponse JsonResponse(int status, const std::string& json) {
  HttpResponse response;
  response.status = status;
  response.body = json;
  return response;
}

void Router::Add(std::string method, std::string pattern, Access access, Handler handler) {
  routes_.push_back(Route{std::move(method), SplitPath(pattern), access, std::move(handler)});
}

Router::Match Router::Find(const std::string& method, const std::string& path) const {
  Match match;
  const std::vector<std::string> segments = SplitPath(path);
  if (segments.empty()) return match;
  // "/nodes/connect" wins over "/nodes/{id}" whatever the order of Add.
  int best_literals = -1;
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchSegments(route.segments, segments, params)) continue;
    match.path_known = true;
    if (route.method != method) continue;
    const int literals = static_cast<int>(
        std::count_if(route.segments.begin(), route.segments.end(),
                      [](const std::string& segment) { return !IsParameter(segment); }));
    if (literals <= best_literals) continue;
    best_literals = literals;
    match.handler = &route.handler;
    match.access = route.access;
    match.params = std::move(params);
  }
  if (!match.path_known && fallback_) {
    match.handler = &*fallback_;
    match.access = Access::kPublic;
  }
  return match;
}

void Router::SetFallback(Handler handler) { fallback_ = std::move(handler); }

}  // namespace milf::server
