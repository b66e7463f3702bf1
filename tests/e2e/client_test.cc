// The API client library against a scripted HTTP server: URL parsing, the
// credentials file, keep-alive and its retry, timeouts, streamed uploads,
// error mapping and the access-token refresh.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "client/api_client.h"
#include "client/credentials.h"
#include "client/http_client.h"
#include "client/json.h"
#include "client/url.h"

namespace milf::client {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Received {
  std::string method;
  std::string target;
  std::string head;  // request line and headers
  std::string body;
  int connection = 0;
  std::string HeaderValue(const std::string& name) const {
    const std::string key = "\r\n" + name + ": ";
    const auto at = head.find(key);
    if (at == std::string::npos) return "";
    const auto start = at + key.size();
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

struct Reply {
  std::string raw;           // the whole answer; empty = say nothing
  bool close_after = false;  // close the connection after answering
};

std::string Answer(int status, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " Status\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra_headers + "\r\n" + body;
}

// One thread serving connections one at a time with scripted replies.
class ScriptedServer {
 public:
  using Handler = std::function<Reply(const Received&)>;

  // With `answer_before_body`, each request is answered as soon as its
  // headers arrived, and the connection closed without reading the body.
  explicit ScriptedServer(Handler handler, bool answer_before_body = false)
      : handler_(std::move(handler)), answer_before_body_(answer_before_body) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_, 16), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }

  std::uint16_t port() const { return port_; }
  ServerUrl url() const { return *ParseServerUrl("http://127.0.0.1:" + std::to_string(port_)); }
  std::vector<Received> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int connections() const { return connections_; }

 private:
  bool Readable(int fd) {
    pollfd entry{fd, POLLIN, 0};
    while (!stop_) {
      if (::poll(&entry, 1, 20) > 0) return true;
    }
    return false;
  }

  void Serve() {
    while (Readable(listener_)) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      ServeConnection(fd);
      ::close(fd);
    }
  }

  void ServeConnection(int fd) {
    std::string buffer;
    for (;;) {
      std::size_t head_end;
      while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!ReadMore(fd, buffer)) return;
      }
      Received request;
      request.head = buffer.substr(0, head_end + 2);
      request.connection = connections_;
      request.method = request.head.substr(0, request.head.find(' '));
      const auto target_start = request.method.size() + 1;
      request.target = request.head.substr(target_start, request.head.find(' ', target_start) - target_start);
      const std::string length = request.HeaderValue("Content-Length");
      const std::size_t body_size = length.empty() ? 0 : std::stoul(length);
      buffer.erase(0, head_end + 4);
      if (answer_before_body_) {
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
        }
        const Reply reply = handler_(request);
        ::send(fd, reply.raw.data(), reply.raw.size(), MSG_NOSIGNAL);
        return;
      }
      while (buffer.size() < body_size) {
        if (!ReadMore(fd, buffer)) return;
      }
      request.body = buffer.substr(0, body_size);
      buffer.erase(0, body_size);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      const Reply reply = handler_(request);
      if (reply.raw.empty()) {
        while (ReadMore(fd, buffer)) {
        }
        return;
      }
      if (::send(fd, reply.raw.data(), reply.raw.size(), MSG_NOSIGNAL) < 0 || reply.close_after) return;
    }
  }

  bool ReadMore(int fd, std::string& buffer) {
    if (!Readable(fd)) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  Handler handler_;
  bool answer_before_body_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_ = false;
  std::atomic<int> connections_ = 0;
  std::mutex mutex_;
  std::vector<Received> requests_;
  std::thread thread_;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "milf-client-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::int64_t unix_ms) : ms_(unix_ms) {}
  std::int64_t MonotonicNanos() const override { return ms_ * 1'000'000; }
  std::int64_t RealtimeNanos() const override { return ms_ * 1'000'000; }
  std::int64_t ThreadCpuNanos() const override { return 0; }

 private:
  std::int64_t ms_;
};

TEST(ServerUrlTest, ParsesWhatUsersType) {
  auto url = ParseServerUrl("http://example.org:8080/milf/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "example.org");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->base_path, "/milf");
  EXPECT_EQ(url->ToString(), "http://example.org:8080/milf");

  url = ParseServerUrl("127.0.0.1:9000");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, Scheme::kHttp);
  EXPECT_EQ(url->ToString(), "http://127.0.0.1:9000");

  url = ParseServerUrl("https://[::1]");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->HostHeader(), "[::1]:443");
}

TEST(ServerUrlTest, RejectsMalformedUrls) {
  for (const char* bad : {"", "http://", "ftp://host", "http://host:0", "http://host:65536", "http://host:8x",
                          "http://user:pw@host", "http://host/?q=1", "http://[::1", "http://host#frag"}) {
    auto url = ParseServerUrl(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_EQ(url.error().code, "usage");
  }
}

TEST(ServerUrlTest, PercentEncodesSegmentsAndQueries) {
  EXPECT_EQ(PercentEncode("a b/c?d&e=é"), "a%20b%2Fc%3Fd%26e%3D%C3%A9");
  EXPECT_EQ(PercentEncode("safe-._~AZ09"), "safe-._~AZ09");
  EXPECT_EQ(QueryString({}), "");
  EXPECT_EQ(QueryString({{"env", "K=V 1"}, {"fuel", "10"}}), "?env=K%3DV%201&fuel=10");
}

TEST(CredentialsTest, PathHonoursXdgConfigHome) {
  EXPECT_EQ(*CredentialsPath(std::string("/x/config"), std::string("/home/u")), "/x/config/milf/credentials");
  // The XDG spec ignores relative values.
  EXPECT_EQ(*CredentialsPath(std::string("relative"), std::string("/home/u")), "/home/u/.config/milf/credentials");
  EXPECT_EQ(*CredentialsPath(std::nullopt, std::string("/home/u")), "/home/u/.config/milf/credentials");
  EXPECT_FALSE(CredentialsPath(std::nullopt, std::nullopt));
}

TEST(CredentialsTest, SavesPrivatelyAndLoadsBack) {
  TempDir temp;
  const std::string path = (temp.path() / "cfg" / "milf" / "credentials").string();
  auto missing = LoadCredentials(path);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);

  const Credentials saved{"http://127.0.0.1:8080", "ann", "access", 1234, "refresh"};
  ASSERT_TRUE(SaveCredentials(path, saved));
  struct stat info{};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  ASSERT_EQ(::stat((temp.path() / "cfg" / "milf").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700);

  auto loaded = LoadCredentials(path);
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ((*loaded)->server, saved.server);
  EXPECT_EQ((*loaded)->user, "ann");
  EXPECT_EQ((*loaded)->access_token, "access");
  EXPECT_EQ((*loaded)->access_expires_at_ms, 1234);
  EXPECT_EQ((*loaded)->refresh_token, "refresh");

  ASSERT_TRUE(RemoveCredentials(path));
  EXPECT_TRUE(RemoveCredentials(path));
  EXPECT_FALSE(*LoadCredentials(path));
}

TEST(CredentialsTest, DamagedFileIsAnErrorNotACrash) {
  TempDir temp;
  const fs::path path = temp.path() / "credentials";
  for (const char* content : {"", "{", "[1,2]", "{\"user\":\"x\"}", "\xff\xfe"}) {
    std::ofstream(path) << content;
    auto loaded = LoadCredentials(path.string());
    ASSERT_FALSE(loaded) << content;
    EXPECT_EQ(loaded.error().code, "invalid_credentials");
    EXPECT_THAT(loaded.error().message, HasSubstr("milf login"));
  }
}

TEST(HttpClientTest, KeepsTheConnectionAlive) {
  ScriptedServer server([](const Received& request) { return Reply{Answer(200, "you asked " + request.target)}; });
  auto client = HttpClient::Create(server.url());
  ASSERT_TRUE(client);
  for (int i = 0; i < 3; ++i) {
    HttpRequest request;
    request.target = "/thing/" + std::to_string(i);
    auto response = (*client)->Send(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "you asked /thing/" + std::to_string(i));
    EXPECT_EQ(response->Header("content-length"), std::to_string(response->body.size()));
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, RetriesOnceWhenTheServerDroppedAnIdleConnection) {
  // The server closes after every answer without saying so, like a server
  // whose keep-alive timer fired between two requests.
  ScriptedServer server([](const Received&) { return Reply{Answer(200, "ok"), true}; });
  auto client = HttpClient::Create(server.url());
  ASSERT_TRUE(client);
  for (int i = 0; i < 3; ++i) {
    HttpRequest request;
    request.method = "POST";
    request.target = "/x";
    request.body = "payload";
    auto response = (*client)->Send(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->body, "ok");
  }
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClientTest, TimesOutOnASilentServer) {
  ScriptedServer server([](const Received&) { return Reply{}; });
  HttpClientOptions options;
  options.request_timeout_ms = 300;
  auto client = HttpClient::Create(server.url(), options);
  ASSERT_TRUE(client);
  auto response = (*client)->Send(HttpRequest{});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, "timeout");
  EXPECT_THAT(response.error().message, HasSubstr("timed out"));
}

TEST(HttpClientTest, ReportsRefusedConnections) {
  std::uint16_t port;
  {
    ScriptedServer closed([](const Received&) { return Reply{}; });
    port = closed.port();
  }
  auto client = HttpClient::Create(*ParseServerUrl("http://127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(client);
  auto response = (*client)->Send(HttpRequest{});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, "connect");
  EXPECT_THAT(response.error().message, HasSubstr("127.0.0.1"));
}

TEST(HttpClientTest, RefusesHttpsUntilTlsExists) {
  auto client = HttpClient::Create(*ParseServerUrl("https://127.0.0.1:1"));
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, "unsupported");
}

TEST(HttpClientTest, RejectsGarbageAndOversizedAnswers) {
  ScriptedServer garbage([](const Received&) { return Reply{"SMTP ready\r\n\r\n", true}; });
  auto client = HttpClient::Create(garbage.url());
  auto response = (*client)->Send(HttpRequest{});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, "protocol");

  ScriptedServer big([](const Received&) { return Reply{Answer(200, std::string(4096, 'x'))}; });
  HttpClientOptions options;
  options.max_response_bytes = 1024;
  auto small_client = HttpClient::Create(big.url(), options);
  response = (*small_client)->Send(HttpRequest{});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, "too_large");
}

TEST(HttpClientTest, StreamsAFileWithProgress) {
  TempDir temp;
  const fs::path file = temp.path() / "module.wasm";
  std::string content;
  for (int i = 0; i < 300'000; ++i) content += static_cast<char>(i * 7);
  std::ofstream(file, std::ios::binary) << content;

  ScriptedServer server([](const Received& request) { return Reply{Answer(201, std::to_string(request.body.size()))}; });
  auto client = HttpClient::Create(server.url());
  auto body = FileBody(file.string());
  ASSERT_TRUE(body);
  std::vector<std::uint64_t> progress;
  HttpRequest request;
  request.method = "PUT";
  request.target = "/api/v1/functions/f";
  request.content_type = "application/wasm";
  request.stream = body->get();
  request.progress = [&](std::uint64_t done, std::uint64_t total) {
    EXPECT_EQ(total, content.size());
    progress.push_back(done);
  };
  auto response = (*client)->Send(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 201);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].body, content);
  EXPECT_EQ(server.requests()[0].HeaderValue("Content-Type"), "application/wasm");
  ASSERT_GE(progress.size(), 3u);
  EXPECT_EQ(progress.front(), 0u);
  EXPECT_EQ(progress.back(), content.size());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));

  EXPECT_FALSE(FileBody((temp.path() / "missing.wasm").string()));
}

TEST(HttpClientTest, ReturnsAnAnswerSentBeforeTheBodyWasRead) {
  ScriptedServer server(
      [](const Received&) {
        return Reply{Answer(413, R"({"error":{"code":"too_large","message":"body over 16 MiB"}})",
                            "Connection: close\r\n")};
      },
      true);
  auto client = HttpClient::Create(server.url());
  HttpRequest request;
  request.method = "POST";
  request.target = "/api/v1/auth/login";
  request.body = std::string(32u << 20, 'x');
  auto response = (*client)->Send(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(ErrorFromResponse(*response).code, "too_large");
}

TEST(ApiErrorTest, TurnsErrorAnswersIntoOneLine) {
  HttpResponse response;
  response.status = 404;
  response.body = R"({"error":{"code":"not_found","message":"no function 'x'"}})";
  Error error = ErrorFromResponse(response);
  EXPECT_EQ(error.code, "not_found");
  EXPECT_EQ(error.message, "no function 'x' (404 not_found)");

  response.status = 502;
  response.reason = "Bad Gateway";
  response.body = "<html>upstream down\nmore</html>";
  error = ErrorFromResponse(response);
  EXPECT_EQ(error.code, "internal");
  EXPECT_EQ(error.message, "the server answered 502 Bad Gateway: <html>upstream down");

  response.status = 413;
  response.reason = "";
  response.body = std::string("\x01\x02binary", 8);
  EXPECT_EQ(ErrorFromResponse(response).message, "the server answered 413");
}

// A server that accepts "good" tokens and rotates refresh tokens.
class AuthServer {
 public:
  AuthServer()
      : server_([this](const Received& request) { return Handle(request); }) {}

  Reply Handle(const Received& request) {
    if (request.target == "/api/v1/auth/refresh") {
      if (request.body != R"({"refresh_token":")" + refresh_ + R"("})") {
        return {Answer(401, R"({"error":{"code":"unauthorized","message":"bad refresh token"}})")};
      }
      ++generation_;
      refresh_ = "refresh-" + std::to_string(generation_);
      return {Answer(200, R"({"access_token":"access-)" + std::to_string(generation_) +
                              R"(","expires_in":900,"refresh_token":")" + refresh_ + R"(","user":{"name":"ann"}})")};
    }
    if (request.HeaderValue("Authorization") != "Bearer access-" + std::to_string(generation_)) {
      return {Answer(401, R"({"error":{"code":"unauthorized","message":"token expired"}})")};
    }
    return {Answer(200, R"({"functions":[]})")};
  }

  ScriptedServer server_;
  std::atomic<int> generation_ = 1;
  std::string refresh_ = "refresh-1";
};

TEST(ApiClientTest, RefreshesAnExpiredAccessTokenAndSavesTheRotation) {
  AuthServer auth;
  TempDir temp;
  const ClientEnvironment env{std::nullopt, std::nullopt, (temp.path() / "credentials").string()};
  const std::int64_t now = 1'800'000'000'000;
  // Expired by our clock: refreshed before the request is sent.
  ASSERT_TRUE(SaveCredentials(env.credentials_path,
                              {auth.server_.url().ToString(), "ann", "access-1", now - 1, "refresh-1"}));
  FixedClock clock(now);
  auto api = ApiClient::Open(env, {}, clock);
  ASSERT_TRUE(api) << api.error().message;
  auto answer = (*api)->CallJson("GET", "/functions");
  ASSERT_TRUE(answer) << answer.error().message;
  auto saved = LoadCredentials(env.credentials_path);
  EXPECT_EQ((*saved)->access_token, "access-2");
  EXPECT_EQ((*saved)->refresh_token, "refresh-2");
  EXPECT_EQ((*saved)->access_expires_at_ms, now + 900'000);

  // Revoked early (the server says 401): refreshed and retried once.
  auth.generation_ = 5;
  auth.refresh_ = "refresh-2";
  answer = (*api)->CallJson("GET", "/functions");
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ((*LoadCredentials(env.credentials_path))->access_token, "access-6");
}

TEST(ApiClientTest, AskForALoginWhenTheRefreshTokenIsRefused) {
  AuthServer auth;
  TempDir temp;
  const ClientEnvironment env{std::nullopt, std::nullopt, (temp.path() / "credentials").string()};
  ASSERT_TRUE(SaveCredentials(env.credentials_path,
                              {auth.server_.url().ToString(), "ann", "stale", 0, "stolen-and-used"}));
  auto api = ApiClient::Open(env);
  ASSERT_TRUE(api);
  auto answer = (*api)->CallJson("GET", "/functions");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, "unauthorized");
  EXPECT_THAT(answer.error().message, HasSubstr("milf login --server " + auth.server_.url().ToString()));
}

TEST(ApiClientTest, EnvironmentKeyWinsAndTokensStayWithTheirServer) {
  ScriptedServer server([](const Received& request) {
    return Reply{Answer(200, "{\"auth\":\"" + request.HeaderValue("Authorization") + "\"}")};
  });
  TempDir temp;
  const std::string path = (temp.path() / "credentials").string();
  ASSERT_TRUE(SaveCredentials(path, {"http://10.0.0.1:8080", "ann", "secret-access", 0, "secret-refresh"}));

  ClientEnvironment env{server.url().ToString(), std::string("milf_key"), path};
  auto api = ApiClient::Open(env);
  ASSERT_TRUE(api);
  auto answer = (*api)->CallJson("GET", "/auth/me");
  ASSERT_TRUE(answer);
  EXPECT_EQ(GetString(*answer, "auth"), "Bearer milf_key");
  EXPECT_EQ(server.requests().back().target, "/api/v1/auth/me");

  // MILF_SERVER names another server than the saved session: no key, no login.
  env.api_key.reset();
  auto refused = ApiClient::Open(env);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "unauthorized");
  EXPECT_THAT(refused.error().message, HasSubstr("not logged in to " + server.url().ToString()));

  // Nothing at all.
  auto nothing = ApiClient::Open({std::nullopt, std::nullopt, (temp.path() / "none").string()});
  ASSERT_FALSE(nothing);
  EXPECT_THAT(nothing.error().message, HasSubstr("milf login --server URL"));
}

}  // namespace
}  // namespace milf::client
