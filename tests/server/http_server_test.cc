// The I/O layer on its own: HttpServer with a test router, a real SQLite
// store behind the Authenticator, and a test-local NodeChannelHandler that
// echoes frames.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "server/auth.h"
#include "server/event_bus.h"
#include "server/fake_clock.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/temp_dir.h"
#include "server/test_client.h"
#include "store/store.h"

namespace milf::server {
namespace {

using milf::testing::Bearer;
using milf::testing::HttpClient;
using milf::testing::RawConnection;
using milf::testing::TempDir;
using milf::testing::WsClient;

constexpr auto kWait = std::chrono::seconds(20);

// Echoes every frame back ("echo:" before text) and counts connections.
class EchoNodes : public NodeChannelHandler {
 public:
  NodeChannelEvents OnConnected(const std::string& node_id,
                                std::shared_ptr<NodeChannel> channel) override {
    {
      const std::lock_guard lock(mutex_);
      connected_.push_back(node_id);
    }
    std::weak_ptr<NodeChannel> weak = channel;
    return NodeChannelEvents{
        [weak](std::string text) {
          if (auto live = weak.lock()) live->SendText("echo:" + text);
        },
        [weak](std::vector<std::uint8_t> bytes) {
          if (auto live = weak.lock()) live->SendBinary(std::move(bytes));
        },
        [this] {
          const std::lock_guard lock(mutex_);
          ++closed_;
          changed_.notify_all();
        }};
  }

  bool WaitClosed(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return closed_ >= count; });
  }

  std::vector<std::string> connected() {
    const std::lock_guard lock(mutex_);
    return connected_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> connected_;
  int closed_ = 0;
};

HttpResponse Text(std::string body) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::OpenSqliteStore(dir_.path() + "/milf.db");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    auto alice = store_->CreateUser("alice", store::Role::kDeveloper, "unused", 1);
    auto root = store_->CreateUser("root", store::Role::kAdmin, "unused", 1);
    ASSERT_TRUE(alice && root);
    alice_ = *alice;
    root_ = *root;
    store::Node node;
    node.id = "node-1";
    node.name = "phone";
    node.target = "x86_64-linux";
    node.secret_hash = HashCredential("right-secret");
    node.created_at = 1;
    ASSERT_TRUE(store_->UpsertNode(node));
    signer_ = std::make_unique<JwtSigner>(std::vector<std::uint8_t>(32, 9));
    authenticator_ = std::make_unique<Authenticator>(*store_, *signer_, clock_);
    AddRoutes();

    HttpServerOptions options;
    options.body_limit = 1u << 20;
    options.upload_body_limit = 4u << 20;
    options.header_timeout = std::chrono::seconds(3);
    options.event_heartbeat = std::chrono::milliseconds(100);
    server_ = std::make_unique<HttpServer>(io_, options, router_, *authenticator_, nodes_, events_,
                                           metrics_);
    auto port = server_->Listen("127.0.0.1:0");
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    work_.reset();
    for (std::thread& thread : threads_) thread.join();
    for (std::thread& thread : helpers_) thread.join();
  }

  void AddRoutes() {
    router_.Add("GET", "/public", Access::kPublic,
                [](HandlerContext& ctx) { ctx.reply(Text("ok")); });
    router_.Add("GET", "/user", Access::kUser,
                [](HandlerContext& ctx) { ctx.reply(Text(ctx.principal->name)); });
    router_.Add("GET", "/admin", Access::kAdmin,
                [](HandlerContext& ctx) { ctx.reply(Text("admin:" + ctx.principal->name)); });
    router_.Add("POST", "/echo", Access::kPublic, [](HandlerContext& ctx) {
      ctx.reply(Text(ctx.request.body + "|" + ctx.request.Query("q").value_or("") + "|" +
                     ctx.request.path));
    });
    router_.Add("PUT", "/api/v1/functions/{name}", Access::kPublic, [](HandlerContext& ctx) {
      ctx.reply(Text(std::to_string(ctx.request.body.size())));
    });
    router_.Add("GET", "/throw", Access::kPublic,
                [](HandlerContext&) -> void { throw std::runtime_error("boom"); });
    router_.Add("GET", "/drop", Access::kPublic, [](HandlerContext&) {});
    router_.Add("GET", "/later", Access::kPublic, [this](HandlerContext& ctx) {
      // Answers from another thread, after the handler has returned.
      helpers_.emplace_back([reply = ctx.reply, &request = ctx.request] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        reply(Text("later:" + request.path));
      });
    });
  }

  std::string Token(const store::User& user) {
    AccessClaims claims;
    claims.user_id = user.id;
    claims.name = user.name;
    claims.role = user.role;
    claims.issued_at = clock_.RealtimeNanos() / 1'000'000'000;
    claims.expires_at = claims.issued_at + 600;
    return signer_->Sign(claims);
  }

  TempDir dir_;
  milf::testing::FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  store::User alice_, root_;
  std::unique_ptr<JwtSigner> signer_;
  std::unique_ptr<Authenticator> authenticator_;
  Router router_;
  EventBus events_;
  Metrics metrics_;
  EchoNodes nodes_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  std::vector<std::thread> helpers_;  // touched on the io threads only, joined after them
};

TEST_F(HttpServerTest, ServesAndKeepsTheConnectionAlive) {
  HttpClient client(port_);
  for (int i = 0; i < 3; ++i) {
    const auto result = client.Get("/public");
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.body, "ok");
    EXPECT_EQ(result.headers.at("content-type"), "text/plain");
  }
  const auto echoed = client.Send("POST", "/echo?q=a%20b", "payload");
  EXPECT_EQ(echoed.body, "payload|a b|/echo");
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  HttpClient client(port_);
  const auto results = client.SendRawMany(
      "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /public HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
      3);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].body, "later:/later");
  EXPECT_EQ(results[1].body, "ok");
  EXPECT_EQ(results[2].body, "abc||/echo");
}

TEST_F(HttpServerTest, ThrowingOrSilentHandlersGet500AndTheConnectionLives) {
  HttpClient client(port_);
  const auto thrown = client.Get("/throw");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.ErrorCode(), "internal");
  EXPECT_EQ(client.Get("/public").status, 200);
  const auto dropped = client.Get("/drop");
  EXPECT_EQ(dropped.status, 500);
  EXPECT_EQ(dropped.ErrorCode(), "internal");
  EXPECT_EQ(client.Get("/public").status, 200);
}

TEST_F(HttpServerTest, UnknownRoutesAndWrongMethods) {
  HttpClient client(port_);
  const auto unknown = client.Get("/nothing/here");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.ErrorCode(), "not_found");
  EXPECT_EQ(unknown.headers.at("content-type"), "application/json");
  const auto wrong = client.Send("DELETE", "/public");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(client.Get("/public").status, 200);
}

TEST_F(HttpServerTest, AuthenticatesUsersAndEnforcesRoles) {
  HttpClient client(port_);
  EXPECT_EQ(client.Get("/user").status, 401);
  EXPECT_EQ(client.Get("/user", "garbage").status, 401);
  EXPECT_EQ(client.Send("GET", "/user", "", {{"Authorization", "Basic abc"}}).status, 401);
  const auto user = client.Get("/user", Token(alice_));
  EXPECT_EQ(user.status, 200);
  EXPECT_EQ(user.body, "alice");
  const auto forbidden = client.Get("/admin", Token(alice_));
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(forbidden.ErrorCode(), "forbidden");
  EXPECT_EQ(client.Get("/admin", Token(root_)).body, "admin:root");
  // The scheme name is case-insensitive.
  EXPECT_EQ(client.Send("GET", "/user", "", {{"Authorization", "bearer " + Token(alice_)}}).status,
            200);
}

TEST_F(HttpServerTest, ApiKeysAuthenticateTheirOwner) {
  const std::string key = NewApiKey();
  store::ApiKey record;
  record.user_id = alice_.id;
  record.name = "ci";
  record.prefix = key.substr(0, 12);
  record.key_hash = HashCredential(key);
  record.created_at = 1;
  ASSERT_TRUE(store_->AddApiKey(record));
  HttpClient client(port_);
  EXPECT_EQ(client.Get("/user", key).body, "alice");
  EXPECT_EQ(client.Get("/user", NewApiKey()).status, 401);
}

TEST_F(HttpServerTest, TokensOfDeletedUsersStopWorking) {
  const std::string token = Token(alice_);
  HttpClient client(port_);
  EXPECT_EQ(client.Get("/user", token).status, 200);
  ASSERT_TRUE(store_->DeleteUser(alice_.id));
  EXPECT_EQ(client.Get("/user", token).status, 401);
}

TEST_F(HttpServerTest, BodiesOverTheLimitGet413) {
  HttpClient client(port_);
  // Declared too large: refused from the header alone.
  const auto declared =
      client.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n");
  EXPECT_EQ(declared.status, 413);
  EXPECT_EQ(declared.ErrorCode(), "too_large");
  EXPECT_TRUE(client.ClosedByServer());

  // Chunked, so only the bytes tell.
  HttpClient chunked(port_);
  std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 17; ++i) request += "10000\r\n" + chunk + "\r\n";
  request += "0\r\n\r\n";
  EXPECT_EQ(chunked.SendRaw(request).status, 413);

  // Uploads have the larger limit.
  HttpClient uploader(port_);
  const auto upload = uploader.Send("PUT", "/api/v1/functions/big", std::string(2u << 20, 'w'));
  EXPECT_EQ(upload.status, 200);
  EXPECT_EQ(upload.body, std::to_string(2u << 20));
  const auto too_big = uploader.SendRaw(
      "PUT /api/v1/functions/big HTTP/1.1\r\nHost: x\r\nContent-Length: 4194305\r\n\r\n");
  EXPECT_EQ(too_big.status, 413);
  // ... but only the upload route itself.
  HttpClient other(port_);
  EXPECT_EQ(other.SendRaw("PUT /api/v1/functions/big/x HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 2097152\r\n\r\n")
                .status,
            413);

  HttpClient after(port_);
  EXPECT_EQ(after.Get("/public").status, 200);
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndTheServerGoesOn) {
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"),
        std::string("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
        std::string("GET /public HTTP/1.1\r\n") + std::string(70'000, 'a') + "\r\n\r\n"}) {
    HttpClient client(port_);
    const auto result = client.SendRaw(garbage);
    EXPECT_GE(result.status, 400) << garbage.substr(0, 40);
    EXPECT_LT(result.status, 500) << garbage.substr(0, 40);
    HttpClient next(port_);
    EXPECT_EQ(next.Get("/public").status, 200);
  }
}

TEST_F(HttpServerTest, ExpectContinueIsHonoured) {
  RawConnection connection(port_);
  connection.Write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(connection.ReadUntil("100 Continue\r\n\r\n"));
  connection.Write("hello");
  const auto received = connection.ReadUntil("hello||/echo");
  ASSERT_TRUE(received);
  EXPECT_NE(received->find("HTTP/1.1 200 OK"), std::string::npos);
}

TEST_F(HttpServerTest, NodeSocketNeedsTheNodeCredential) {
  EXPECT_EQ(WsClient().Connect(port_, "Node node-1:wrong-secret"), 401);
  EXPECT_EQ(WsClient().Connect(port_, "Node node-2:right-secret"), 401);
  EXPECT_EQ(WsClient().Connect(port_, "Node node-1"), 401);
  EXPECT_EQ(WsClient().Connect(port_, Bearer(Token(root_))), 401);
  EXPECT_TRUE(nodes_.connected().empty());
  HttpClient client(port_);
  EXPECT_EQ(client.Get("/public").status, 200);
}

TEST_F(HttpServerTest, NodeSocketCarriesTextAndBinaryFrames) {
  WsClient ws;
  ASSERT_EQ(ws.Connect(port_, "Node node-1:right-secret"), 101);
  ws.SendText(R"({"type":"hello"})");
  auto reply = ws.Read();
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->first);
  EXPECT_EQ(reply->second, R"(echo:{"type":"hello"})");
  const std::vector<std::uint8_t> bytes = {0, 1, 2, 255, 0};
  ws.SendBinary(bytes);
  reply = ws.Read();
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->first);
  EXPECT_EQ(reply->second, std::string(bytes.begin(), bytes.end()));
  EXPECT_EQ(nodes_.connected(), std::vector<std::string>{"node-1"});
  ws.Close();
  EXPECT_TRUE(nodes_.WaitClosed(1));
}

TEST_F(HttpServerTest, EventStreamDeliversOnlyTheCallersEvents) {
  RawConnection stream(port_);
  stream.Write("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + Token(alice_) +
               "\r\n\r\n");
  const auto opened = stream.ReadUntil(": connected\n\n");
  ASSERT_TRUE(opened);
  EXPECT_NE(opened->find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(opened->find("Content-Type: text/event-stream"), std::string::npos);

  events_.Publish({"invocation", root_.id, R"({"id":"not-yours"})"});
  events_.Publish({"invocation", alice_.id, R"({"id":"yours"})"});
  events_.Publish({"node", std::nullopt, R"({"id":"node-1","online":true})"});
  const auto received = stream.ReadUntil("event: node\ndata: {\"id\":\"node-1\",\"online\":true}\n\n");
  ASSERT_TRUE(received);
  EXPECT_NE(received->find("event: invocation\ndata: {\"id\":\"yours\"}\n\n"), std::string::npos);
  EXPECT_EQ(received->find("not-yours"), std::string::npos);
  EXPECT_TRUE(stream.ReadUntil(": heartbeat\n\n"));
}

TEST_F(HttpServerTest, EventStreamAcceptsAQueryTokenButNeedsOne) {
  RawConnection refused(port_);
  refused.Write("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto answer = refused.ReadUntil("\r\n\r\n");
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 401"));

  RawConnection stream(port_);
  stream.Write("GET /api/v1/events?access_token=" + Token(alice_) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(stream.ReadUntil(": connected\n\n"));
  // The query token is for event streams only.
  HttpClient client(port_);
  EXPECT_EQ(client.Get("/user?access_token=" + Token(alice_)).status, 401);
}

TEST_F(HttpServerTest, StopClosesEveryConnection) {
  HttpClient idle(port_);
  ASSERT_EQ(idle.Get("/public").status, 200);
  WsClient ws;
  ASSERT_EQ(ws.Connect(port_, "Node node-1:right-secret"), 101);
  RawConnection stream(port_);
  stream.Write("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + Token(alice_) +
               "\r\n\r\n");
  ASSERT_TRUE(stream.ReadUntil(": connected\n\n"));

  server_->Stop();
  EXPECT_FALSE(ws.Read());  // the close frame ends the reads
  EXPECT_TRUE(idle.ClosedByServer());
  EXPECT_FALSE(stream.ReadUntil("never sent"));
  EXPECT_TRUE(nodes_.WaitClosed(1));
  // Stop returns before the listening socket is closed, so a connection
  // may still be taken, but it is never served.
  EXPECT_NE(WsClient().Connect(port_, "Node node-1:right-secret"), 101);
}

}  // namespace
}  // namespace milf::server
