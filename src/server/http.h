// The server's HTTP vocabulary, independent of Beast: what a handler sees
// and what it answers. The I/O layer (http_server.cc) parses requests into
// HttpRequest, authenticates, routes, and writes HttpResponse back; handlers
// never touch sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace milf::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path, no query: "/api/v1/functions/echo"
  std::multimap<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;     // names lowercased
  std::string body;
  std::string remote_address;

  std::optional<std::string> Query(const std::string& name) const;
  std::optional<std::string> Header(const std::string& lowercase_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error":{"code":..., "message":...}} with `status`.
HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message);
HttpResponse JsonResponse(int status, const std::string& json);

// Who is calling: a user (through a JWT or an API key).
struct Principal {
  std::int64_t user_id = 0;
  std::string name;
  store::Role role = store::Role::kDeveloper;
  bool is_admin() const { return role == store::Role::kAdmin; }
};

// Answers a request exactly once, from any thread.
using Reply = std::function<void(HttpResponse)>;

struct HandlerContext {
  const HttpRequest& request;
  std::map<std::string, std::string> params;  // from the route pattern, e.g. {name}
  std::optional<Principal> principal;         // set unless the route is public
  Reply reply;
};

using Handler = std::function<void(HandlerContext&)>;

enum class Access { kPublic, kUser, kAdmin };

// Method + pattern ("/api/v1/functions/{name}/invoke") -> handler.
// Matching is exact per segment; {x} matches one non-empty segment.
// Thread-safety: set up before serving; Find may then run concurrently.
class Router {
 public:
  void Add(std::string method, std::string pattern, Access access, Handler handler);

  struct Match {
    const Handler* handler = nullptr;
    Access access = Access::kPublic;
    std::map<std::string, std::string> params;
    bool path_known = false;  // some route has this path (405 vs 404)
  };
  Match Find(const std::string& method, const std::string& path) const;

  // Answers, as a public route, every request whose path no route has (a
  // path some route has with another method still gets 405).
  void SetFallback(Handler handler);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Access access;
    Handler handler;
  };
  std::vector<Route> routes_;
  std::optional<Handler> fallback_;
};

}  // namespace milf::server
