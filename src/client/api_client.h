// ApiClient: calls to the MILF HTTP API (docs/api.md) as a signed-in user.
//
// A session comes from, in order: MILF_SERVER + MILF_API_KEY in the
// environment (an API key never expires and is never refreshed), or the
// credentials saved by `milf login` (an access token, refreshed with the
// refresh token shortly before it expires or when the server answers 401;
// the rotated tokens are saved back at once). MILF_SERVER alone picks the
// server; stored tokens are only ever sent to the server they came from.
//
// Errors: an HTTP answer >= 400 becomes one Error whose code is the API's
// error code and whose message is one line for a human, e.g.
// "function 'x' not found (404 not_found)". Transport errors keep the
// HttpClient codes. "unauthorized" with a hint to log in when no session
// is usable.
//
// Thread-safety: not safe for concurrent use.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "client/credentials.h"
#include "client/http_client.h"

namespace milf::client {

inline constexpr char kApiPrefix[] = "/api/v1";

// The one line an error answer means; for any status >= 400.
Error ErrorFromResponse(const HttpResponse& response);

// POST /auth/login; returns the session to save. `server` is the canonical URL.
Result<Credentials> Login(HttpClient& http, const std::string& user, const std::string& password,
                          const Clock& clock);

class ApiClient {
 public:
  // The session the environment and stored credentials give (see above).
  static Result<std::unique_ptr<ApiClient>> Open(const ClientEnvironment& env,
                                                 HttpClientOptions options = {},
                                                 const Clock& clock = SystemClock());
  // A session with a fixed bearer token (an API key or an access token).
  static Result<std::unique_ptr<ApiClient>> WithToken(const ServerUrl& url, std::string token,
                                                      HttpClientOptions options = {},
                                                      const Clock& clock = SystemClock());
  ~ApiClient();

  // Sends `request` with its target under /api/v1 and the session's
  // Authorization; answers of every status come back as responses.
  Result<HttpResponse> Send(HttpRequest request);
  // Like Send, but an answer >= 400 is an Error (ErrorFromResponse).
  Result<HttpResponse> Call(HttpRequest request);
  // Call, then parse the body as JSON (null for an empty body, e.g. 204).
  Result<boost::json::value> CallJson(const std::string& method, const std::string& target,
                                      const std::optional<boost::json::value>& body = std::nullopt);

  const ServerUrl& server() const;
  HttpClient& http();

 private:
  struct Session;
  ApiClient(std::unique_ptr<HttpClient> http, std::unique_ptr<Session> session, const Clock& clock);
  Status Refresh(const std::string& rejected_token);
  std::optional<std::string> Authorization() const;

  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Session> session_;
  const Clock& clock_;
};

}  // namespace milf::client
