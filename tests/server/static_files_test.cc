// The dashboard's static files: the whole server on 127.0.0.1:0 with
// --web pointing at a directory built by each test, driven over HTTP; and
// StaticFiles on its own for its size bound.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "server/server.h"
#include "server/static_files.h"
#include "server/temp_dir.h"
#include "server/test_client.h"

namespace milf::server {
namespace {

namespace fs = std::filesystem;
using milf::testing::HttpClient;
using milf::testing::HttpResult;
using milf::testing::RawConnection;
using milf::testing::TempDir;

constexpr char kIndexHtml[] = "<!doctype html><div id=\"root\"></div>\n";
constexpr char kScript[] = "console.log('dashboard');\n";
constexpr char kSecret[] = "the secret outside the web root\n";

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// The answer to a request written as raw bytes on a connection the server
// closes afterwards: everything the server sent.
std::string RawExchange(std::uint16_t port, const std::string& request) {
  RawConnection connection(port);
  connection.Write(request);
  connection.ReadUntil("never sent by the server");
  return connection.received();
}

int StatusOf(const std::string& raw) {
  return raw.size() > 12 && raw.starts_with("HTTP/1.1 ") ? std::stoi(raw.substr(9, 3)) : 0;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    web_ = fs::path(dir_.path()) / "web";
    outside_ = fs::path(dir_.path()) / "outside";
    WriteFile(web_ / "index.html", kIndexHtml);
    WriteFile(web_ / "assets" / "index-Bx9q2.js", kScript);
    WriteFile(web_ / "assets" / "index-Bx9q2.js.map", "{\"version\":3}");
    WriteFile(web_ / "assets" / "index-C4a1.css", "body{margin:0}");
    WriteFile(web_ / "assets" / "inter-latin.woff2", std::string("wOF2\0\1", 6));
    WriteFile(web_ / "logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    WriteFile(web_ / "icon.PNG", "\x89PNG\r\n");
    WriteFile(web_ / "favicon.ico", std::string("\0\0\1\0", 4));
    WriteFile(web_ / "manifest.json", "{}");
    WriteFile(web_ / "robots.txt", "User-agent: *\n");
    WriteFile(web_ / "LICENSE", "MIT");
    WriteFile(outside_ / "secret.txt", kSecret);
    fs::create_symlink("robots.txt", web_ / "alias.txt");
    fs::create_symlink(outside_ / "secret.txt", web_ / "absolute-leak.txt");
    fs::create_symlink("../outside/secret.txt", web_ / "relative-leak.txt");
    fs::create_symlink("../../outside/secret.txt", web_ / "assets" / "leak.js");
    fs::create_symlink("../outside", web_ / "out");
    StartServer(web_.string());
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  void StartServer(const std::string& web_root) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = (fs::path(dir_.path()) / "data").string();
    options.admin_password = "admin-password-1";
    options.announce = nullptr;
    options.web_root = web_root;
    auto started = Server::Start(std::move(options));
    ASSERT_TRUE(started) << started.error().message;
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  HttpResult Get(const std::string& target, const testing::Headers& headers = {}) {
    return client_->Send("GET", target, "", headers);
  }

  std::uint16_t port() const { return server_->port(); }

  TempDir dir_;
  fs::path web_;
  fs::path outside_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(StaticFilesTest, FilesGetTheContentTypeOfTheirExtension) {
  const std::pair<const char*, const char*> expected[] = {
      {"/index.html", "text/html; charset=utf-8"},
      {"/assets/index-Bx9q2.js", "text/javascript; charset=utf-8"},
      {"/assets/index-Bx9q2.js.map", "application/json"},
      {"/assets/index-C4a1.css", "text/css; charset=utf-8"},
      {"/assets/inter-latin.woff2", "font/woff2"},
      {"/logo.svg", "image/svg+xml"},
      {"/icon.PNG", "image/png"},
      {"/favicon.ico", "image/x-icon"},
      {"/manifest.json", "application/json"},
      {"/robots.txt", "text/plain; charset=utf-8"},
      {"/LICENSE", "application/octet-stream"},
  };
  for (const auto& [path, type] : expected) {
    HttpResult result = Get(path);
    EXPECT_EQ(result.status, 200) << path;
    EXPECT_EQ(result.headers["content-type"], type) << path;
    EXPECT_EQ(result.headers["x-content-type-options"], "nosniff") << path;
  }
  EXPECT_EQ(Get("/assets/index-Bx9q2.js").body, kScript);
  EXPECT_EQ(Get("/assets/inter-latin.woff2").body, std::string("wOF2\0\1", 6));
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableAndTheIndexIsRevalidated) {
  HttpResult asset = Get("/assets/index-Bx9q2.js");
  EXPECT_EQ(asset.headers["cache-control"], "public, max-age=31536000, immutable");
  for (const char* path : {"/", "/index.html", "/functions/hello", "/robots.txt"}) {
    EXPECT_EQ(Get(path).headers["cache-control"], "no-cache") << path;
  }
}

TEST_F(StaticFilesTest, AMatchingEtagGets304) {
  HttpResult first = Get("/");
  const std::string etag = first.headers["etag"];
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Get("/functions/hello").headers["etag"], etag);  // the same index.html

  HttpResult again = Get("/", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.headers["etag"], etag);
  EXPECT_EQ(Get("/", {{"If-None-Match", "\"other\", W/" + etag}}).status, 304);
  EXPECT_EQ(Get("/", {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(Get("/", {{"If-None-Match", "\"stale\""}}).status, 200);

  // Rewritten (as a rebuild does): a new ETag, the new bytes at once.
  WriteFile(web_ / "index.html", "<!doctype html><div id=\"root\"></div><!-- v2 -->\n");
  HttpResult rebuilt = Get("/", {{"If-None-Match", etag}});
  EXPECT_EQ(rebuilt.status, 200);
  EXPECT_NE(rebuilt.headers["etag"], etag);
  EXPECT_NE(rebuilt.body.find("v2"), std::string::npos);
}

TEST_F(StaticFilesTest, OtherPathsGetTheIndexButMissingAssetsDoNot) {
  for (const char* path : {"/", "/functions", "/functions/hello", "/invocations/42?x=1",
                           "/nodes/", "/assets", "/healthzz", "/apis", "/login.php",
                           "/%252e%252e/secret.txt"}) {
    HttpResult result = Get(path);
    EXPECT_EQ(result.status, 200) << path;
    EXPECT_EQ(result.body, kIndexHtml) << path;
    EXPECT_EQ(result.headers["content-type"], "text/html; charset=utf-8") << path;
  }
  for (const char* path : {"/assets/index-old.js", "/assets/", "/assets/sub/x.css"}) {
    HttpResult missing = Get(path);
    EXPECT_EQ(missing.status, 404) << path;
    EXPECT_EQ(missing.ErrorCode(), "not_found") << path;
  }
}

TEST_F(StaticFilesTest, TheApiNamespaceNeverFallsBack) {
  for (const char* path : {"/api", "/api/", "/api/v1", "/api/v1/nope", "/api/v2/functions",
                           "/healthz/x", "/metrics/x"}) {
    HttpResult result = Get(path);
    EXPECT_EQ(result.status, 404) << path;
    EXPECT_EQ(result.headers["content-type"], "application/json") << path;
    EXPECT_EQ(result.ErrorCode(), "not_found") << path;
  }
  EXPECT_EQ(client_->Send("POST", "/api/v1/nope", "{}").status, 404);
  // Real routes still answer, and a known path with another method stays a 405.
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/metrics").status, 200);
  EXPECT_EQ(Get("/api/v1/functions").status, 401);
  EXPECT_EQ(client_->Send("DELETE", "/api/v1/auth/login").status, 405);
}

TEST_F(StaticFilesTest, TraversalIsRefused) {
  for (const char* target :
       {"/../outside/secret.txt", "/assets/../../outside/secret.txt", "/%2e%2e/outside/secret.txt",
        "/assets/%2E%2E/%2e%2e/outside/secret.txt", "/..%2foutside%2fsecret.txt", "/./index.html",
        "/functions/..", "/a%00b", "/index.html%00.png"}) {
    const std::string raw = RawExchange(
        port(), std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(StatusOf(raw), 400) << target << "\n" << raw;
    EXPECT_EQ(raw.find("secret outside"), std::string::npos) << target;
  }
}

TEST_F(StaticFilesTest, SymlinksMayNotLeaveTheRoot) {
  for (const char* path : {"/absolute-leak.txt", "/relative-leak.txt", "/assets/leak.js",
                           "/out/secret.txt"}) {
    HttpResult result = Get(path);
    EXPECT_EQ(result.status, 404) << path;
    EXPECT_EQ(result.body.find("secret outside"), std::string::npos) << path;
  }
  // A link that stays inside is followed.
  HttpResult alias = Get("/alias.txt");
  EXPECT_EQ(alias.status, 200);
  EXPECT_EQ(alias.body, "User-agent: *\n");
}

TEST_F(StaticFilesTest, SpecialFilesAreNotOpenedAsFiles) {
  // Opening a FIFO for reading would wait for a writer: it must not.
  ASSERT_EQ(::mkfifo((web_ / "pipe").c_str(), 0600), 0);
  fs::create_directories(web_ / "docs");
  for (const char* path : {"/pipe", "/docs"}) {
    HttpResult result = Get(path);
    EXPECT_EQ(result.status, 200) << path;
    EXPECT_EQ(result.body, kIndexHtml) << path;
  }
}

TEST_F(StaticFilesTest, HeadSendsTheHeadersWithoutTheBody) {
  const std::string raw = RawExchange(
      port(), "HEAD /assets/index-Bx9q2.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusOf(raw), 200) << raw;
  EXPECT_NE(raw.find("Content-Length: " + std::to_string(std::string(kScript).size()) + "\r\n"),
            std::string::npos)
      << raw;
  EXPECT_NE(raw.find("Content-Type: text/javascript; charset=utf-8\r\n"), std::string::npos);
  EXPECT_TRUE(raw.ends_with("\r\n\r\n")) << raw;

  const std::string deep = RawExchange(
      port(), "HEAD /functions/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusOf(deep), 200) << deep;
  EXPECT_NE(deep.find("Content-Length: " + std::to_string(std::string(kIndexHtml).size())),
            std::string::npos);
  EXPECT_TRUE(deep.ends_with("\r\n\r\n")) << deep;

  // The connection goes on after a HEAD: the next answer is whole.
  const std::string both = RawExchange(port(),
                                       "HEAD /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                                       "GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(both.ends_with("\r\n\r\nUser-agent: *\n")) << both;
}

TEST_F(StaticFilesTest, OtherMethodsGet405) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    for (const char* path : {"/", "/index.html", "/functions/hello", "/assets/index-Bx9q2.js"}) {
      HttpResult result = client_->Send(method, path, "x");
      EXPECT_EQ(result.status, 405) << method << " " << path;
      EXPECT_EQ(result.ErrorCode(), "method_not_allowed") << method << " " << path;
      EXPECT_EQ(result.headers["allow"], "GET, HEAD") << method << " " << path;
    }
  }
}

TEST_F(StaticFilesTest, StartFailsWithoutABuiltDashboard) {
  server_->Stop();
  server_.reset();
  for (const fs::path& root : {fs::path(dir_.path()) / "missing", outside_}) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = (fs::path(dir_.path()) / "data").string();
    options.announce = nullptr;
    options.web_root = root.string();
    auto started = Server::Start(std::move(options));
    ASSERT_FALSE(started) << root;
    EXPECT_EQ(started.error().code, "io");
    EXPECT_NE(started.error().message.find(root.string()), std::string::npos)
        << started.error().message;
  }
}

TEST(StaticFilesUnitTest, FilesOverTheBoundAreNotRead) {
  TempDir dir;
  WriteFile(fs::path(dir.path()) / "index.html", "<p>small</p>");
  WriteFile(fs::path(dir.path()) / "big.js", std::string(64, 'x'));
  auto files = StaticFiles::Open(dir.path(), 32);
  ASSERT_TRUE(files) << files.error().message;
  HttpRequest request;
  request.method = "GET";
  request.path = "/big.js";
  const HttpResponse big = (*files)->Serve(request);
  EXPECT_EQ(big.status, 500);
  EXPECT_EQ(big.body.find("xxxx"), std::string::npos);
  request.path = "/";
  const HttpResponse small = (*files)->Serve(request);
  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(small.body, "<p>small</p>");
}

TEST(StaticFilesUnitTest, WithoutADashboardUnknownPathsStay404) {
  TempDir dir;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.path();
  options.admin_password = "admin-password-1";
  options.announce = nullptr;
  auto started = Server::Start(std::move(options));
  ASSERT_TRUE(started) << started.error().message;
  HttpClient client((*started)->port());
  EXPECT_EQ(client.Get("/").status, 404);
  EXPECT_EQ(client.Get("/functions/hello").status, 404);
  (*started)->Stop();
}

}  // namespace
}  // namespace milf::server
