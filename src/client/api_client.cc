#include "client/api_client.h"

#include <algorithm>

#include "client/json.h"

namespace milf::client {
namespace {

// Refresh this long before the access token expires, so a request does not
// race its expiry in flight.
constexpr std::int64_t kRefreshMarginMs = 30'000;

std::int64_t NowMs(const Clock& clock) { return clock.RealtimeNanos() / 1'000'000; }

std::string FirstLine(const std::string& text, std::size_t limit) {
  std::string line = text.substr(0, std::min(text.find('\n'), limit));
  const bool printable = std::all_of(line.begin(), line.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
  return printable ? line : "";
}

Error NotLoggedIn(const std::string& detail) {
  return {"unauthorized", detail + ": run `milf login --server URL`, or set MILF_SERVER and MILF_API_KEY"};
}

// Fills `credentials` from a login or refresh answer.
Status ReadTokens(const HttpResponse& response, const Clock& clock, Credentials& credentials) {
  auto json = ParseJson(response.body);
  if (!json) return Fail("protocol", "the server's login answer is not JSON");
  credentials.access_token = GetString(*json, "access_token");
  credentials.refresh_token = GetString(*json, "refresh_token");
  const std::int64_t expires_in_s = GetInt(*json, "expires_in").value_or(0);
  credentials.access_expires_at_ms = NowMs(clock) + expires_in_s * 1000;
  if (const auto* user = Member(*json, "user")) {
    const std::string name = GetString(*user, "name");
    if (!name.empty()) credentials.user = name;
  }
  if (credentials.access_token.empty()) return Fail("protocol", "the server's login answer has no access token");
  return {};
}

}  // namespace

struct ApiClient::Session {
  bool stored = false;         // tokens from `milf login`, refreshable
  std::string static_token;    // API key or fixed token when !stored
  std::string credentials_path;
  Credentials credentials;
};

Error ErrorFromResponse(const HttpResponse& response) {
  const std::string status = std::to_string(response.status);
  if (auto json = ParseJson(response.body); json) {
    if (const auto* error = Member(*json, "error")) {
      const std::string code = GetString(*error, "code", "error");
      std::string message = GetString(*error, "message");
      if (message.empty()) message = "the server refused the request";
      return {code, message + " (" + status + " " + code + ")"};
    }
  }
  std::string message = "the server answered " + status;
  if (!response.reason.empty()) message += " " + response.reason;
  if (const std::string line = FirstLine(response.body, 200); !line.empty()) message += ": " + line;
  const std::string code = response.status == 401 ? "unauthorized" : response.status >= 500 ? "internal" : "http_error";
  return {code, message};
}

Result<Credentials> Login(HttpClient& http, const std::string& user, const std::string& password,
                          const Clock& clock) {
  HttpRequest request;
  request.method = "POST";
  request.target = std::string(kApiPrefix) + "/auth/login";
  request.content_type = "application/json";
  request.body = boost::json::serialize(boost::json::object{{"user", user}, {"password", password}});
  auto response = http.Send(request);
  if (!response) return Fail(std::move(response).error());
  if (response->status >= 400) return Fail(ErrorFromResponse(*response));
  Credentials credentials;
  credentials.server = http.url().ToString();
  credentials.user = user;
  if (auto read = ReadTokens(*response, clock, credentials); !read) return Fail(std::move(read).error());
  return credentials;
}

Result<std::unique_ptr<ApiClient>> ApiClient::Open(const ClientEnvironment& env,
                                                   HttpClientOptions options, const Clock& clock) {
  auto stored = LoadCredentials(env.credentials_path);
  if (!stored) return Fail(std::move(stored).error());
  std::string server_text;
  if (env.server) {
    server_text = *env.server;
  } else if (*stored) {
    server_text = (*stored)->server;
  } else {
    return Fail(NotLoggedIn("not logged in"));
  }
  auto url = ParseServerUrl(server_text);
  if (!url) return Fail(std::move(url).error());
  auto session = std::make_unique<Session>();
  if (env.api_key) {
    session->static_token = *env.api_key;
  } else if (*stored && (*stored)->server == url->ToString()) {
    session->stored = true;
    session->credentials_path = env.credentials_path;
    session->credentials = **stored;
  } else {
    return Fail(NotLoggedIn("not logged in to " + url->ToString()));
  }
  auto http = HttpClient::Create(*url, std::move(options));
  if (!http) return Fail(std::move(http).error());
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(*http), std::move(session), clock));
}

Result<std::unique_ptr<ApiClient>> ApiClient::WithToken(const ServerUrl& url, std::string token,
                                                        HttpClientOptions options, const Clock& clock) {
  auto http = HttpClient::Create(url, std::move(options));
  if (!http) return Fail(std::move(http).error());
  auto session = std::make_unique<Session>();
  session->static_token = std::move(token);
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(*http), std::move(session), clock));
}

ApiClient::ApiClient(std::unique_ptr<HttpClient> http, std::unique_ptr<Session> session, const Clock& clock)
    : http_(std::move(http)), session_(std::move(session)), clock_(clock) {}

ApiClient::~ApiClient() = default;

const ServerUrl& ApiClient::server() const { return http_->url(); }

HttpClient& ApiClient::http() { return *http_; }

std::optional<std::string> ApiClient::Authorization() const {
  const std::string& token = session_->stored ? session_->credentials.access_token : session_->static_token;
  if (token.empty()) return std::nullopt;
  return "Bearer " + token;
}

Status ApiClient::Refresh(const std::string& rejected_token) {
  Session& session = *session_;
  const std::string server = session.credentials.server;
  const Error expired = {"unauthorized", "the session for " + server + " has expired: run `milf login --server " +
                                             server + "` again"};
  auto lock = CredentialsLock::Acquire(session.credentials_path);
  if (!lock) return Fail(std::move(lock).error());
  // Another milf process may have refreshed already; its tokens are ours too.
  auto on_disk = LoadCredentials(session.credentials_path);
  if (on_disk && *on_disk && (*on_disk)->server == server) {
    session.credentials = **on_disk;
    if (session.credentials.access_token != rejected_token &&
        session.credentials.access_expires_at_ms - NowMs(clock_) > kRefreshMarginMs) {
      return {};
    }
  }
  if (session.credentials.refresh_token.empty()) return Fail(expired);
  HttpRequest request;
  request.method = "POST";
  request.target = std::string(kApiPrefix) + "/auth/refresh";
  request.content_type = "application/json";
  request.body = boost::json::serialize(boost::json::object{{"refresh_token", session.credentials.refresh_token}});
  auto response = http_->Send(request);
  if (!response) return Fail(std::move(response).error());
  if (response->status == 401 || response->status == 400) return Fail(expired);
  if (response->status >= 400) return Fail(ErrorFromResponse(*response));
  if (auto read = ReadTokens(*response, clock_, session.credentials); !read) return read;
  return SaveCredentials(session.credentials_path, session.credentials);
}

Result<HttpResponse> ApiClient::Send(HttpRequest request) {
  request.target = kApiPrefix + request.target;
  const auto authorize = [&] {
    std::erase_if(request.headers, [](const auto& header) { return header.first == "Authorization"; });
    if (auto value = Authorization()) request.headers.emplace_back("Authorization", *value);
  };
  if (session_->stored &&
      session_->credentials.access_expires_at_ms - NowMs(clock_) < kRefreshMarginMs) {
    if (auto refreshed = Refresh(session_->credentials.access_token); !refreshed) {
      return Fail(std::move(refreshed).error());
    }
  }
  authorize();
  const std::string sent_token = session_->credentials.access_token;
  auto response = http_->Send(request);
  if (!response || response->status != 401 || !session_->stored) return response;
  if (auto refreshed = Refresh(sent_token); !refreshed) return Fail(std::move(refreshed).error());
  if (request.stream != nullptr && !request.stream->Rewind()) return response;
  authorize();
  return http_->Send(request);
}

Result<HttpResponse> ApiClient::Call(HttpRequest request) {
  auto response = Send(std::move(request));
  if (!response) return response;
  if (response->status >= 400) return Fail(ErrorFromResponse(*response));
  return response;
}

Result<boost::json::value> ApiClient::CallJson(const std::string& method, const std::string& target,
                                               const std::optional<boost::json::value>& body) {
  HttpRequest request;
  request.method = method;
  request.target = target;
  if (body) {
    request.content_type = "application/json";
    request.body = boost::json::serialize(*body);
  }
  auto response = Call(std::move(request));
  if (!response) return Fail(std::move(response).error());
  if (response->body.empty()) return boost::json::value(nullptr);
  auto json = ParseJson(response->body);
  if (!json) return Fail("protocol", "the server's answer to " + method + " " + target + " is not JSON");
  return json;
}

}  // namespace milf::client
