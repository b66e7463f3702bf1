// The whole server in-process on 127.0.0.1:0 with a real SQLite store in a
// temporary directory, driven over HTTP like any client.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <ctime>
#include <fstream>

#include "base/sha256.h"
#include "server/auth.h"
#include "server/server.h"
#include "server/temp_dir.h"
#include "server/test_client.h"
#include "support/wat.h"
#include "wasm/instrument.h"

namespace milf::server {
namespace {

using milf::testing::Bearer;
using milf::testing::HttpClient;
using milf::testing::HttpResult;
using milf::testing::RawConnection;
using milf::testing::TempDir;
using milf::testing::WsClient;

constexpr char kAdminPassword[] = "admin-password-1";
constexpr char kWat[] = R"((module (func (export "_start"))))";

std::string Field(const HttpResult& result, const char* name) {
  const auto json = result.Json();
  if (!json.is_object() || !json.as_object().contains(name)) return "";
  const auto& value = json.as_object().at(name);
  if (value.is_string()) return std::string(value.as_string());
  return boost::json::serialize(value);
}

std::string ModuleBytes(std::string_view wat) {
  const auto bytes = milf::testing::Wasm(wat);
  return std::string(bytes.begin(), bytes.end());
}

std::string ReadLine(const std::string& path) {
  std::string line;
  std::getline(std::ifstream(path), line);
  return line;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(kAdminPassword); }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  void StartServer(std::optional<std::string> admin_password) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path();
    options.admin_password = std::move(admin_password);
    options.announce = nullptr;
    auto started = Server::Start(std::move(options));
    ASSERT_TRUE(started) << started.error().message;
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  HttpResult Login(const std::string& user, const std::string& password) {
    boost::json::object body{{"user", user}, {"password", password}};
    return client_->PostJson("/api/v1/auth/login", boost::json::serialize(body));
  }

  std::string LoginToken(const std::string& user, const std::string& password) {
    const auto result = Login(user, password);
    EXPECT_EQ(result.status, 200) << result.body;
    return Field(result, "access_token");
  }

  std::string AdminToken() { return LoginToken("admin", kAdminPassword); }

  // A developer account; returns its access token.
  std::string Developer(const std::string& name) {
    const std::string password = name + "-password";
    boost::json::object body{{"name", name}, {"password", password}, {"role", "developer"}};
    const auto created =
        client_->PostJson("/api/v1/users", boost::json::serialize(body), AdminToken());
    EXPECT_EQ(created.status, 201) << created.body;
    return LoginToken(name, password);
  }

  HttpResult Upload(const std::string& name, const std::string& bytes, const std::string& token,
                    const std::string& query = "") {
    return client_->Send("PUT", "/api/v1/functions/" + name + query, bytes,
                         {{"Authorization", Bearer(token)}, {"Content-Type", "application/wasm"}});
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ServerTest, HealthAndMetricsNeedNoAuth) {
  const auto health = client_->Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok","version":"0.1.0"})");
  const auto metrics = client_->Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_TRUE(metrics.headers.at("content-type").starts_with("text/plain"));
  for (const char* name : {"milf_queue_depth ", "milf_nodes_online ", "milf_slots_free ",
                           "milf_invocation_duration_seconds_count ",
                           "milf_http_requests_total{code=\"200\"} "}) {
    EXPECT_NE(metrics.body.find(name), std::string::npos) << name << "\n" << metrics.body;
  }
}

TEST_F(ServerTest, UnknownRouteIs404Json) {
  const auto result = client_->Get("/api/v1/nope", AdminToken());
  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.ErrorCode(), "not_found");
  EXPECT_EQ(client_->Get("/healthz").status, 200);
}

TEST_F(ServerTest, LoginAndRefreshRotation) {
  const auto login = Login("admin", kAdminPassword);
  ASSERT_EQ(login.status, 200) << login.body;
  const auto json = login.Json().as_object();
  EXPECT_EQ(json.at("expires_in").as_int64(), 900);
  EXPECT_EQ(json.at("user").at("name").as_string(), "admin");
  EXPECT_EQ(json.at("user").at("role").as_string(), "admin");
  const std::string access = Field(login, "access_token");
  const std::string refresh = Field(login, "refresh_token");

  const auto me = client_->Get("/api/v1/auth/me", access);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(Field(me, "name"), "admin");

  const boost::json::object body{{"refresh_token", refresh}};
  const auto refreshed = client_->PostJson("/api/v1/auth/refresh", boost::json::serialize(body));
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string next_refresh = Field(refreshed, "refresh_token");
  EXPECT_NE(next_refresh, refresh);
  EXPECT_EQ(client_->Get("/api/v1/auth/me", Field(refreshed, "access_token")).status, 200);

  // The old refresh token was used up; the new one works once.
  const auto reused = client_->PostJson("/api/v1/auth/refresh", boost::json::serialize(body));
  EXPECT_EQ(reused.status, 401);
  EXPECT_EQ(reused.ErrorCode(), "unauthorized");
  const boost::json::object next{{"refresh_token", next_refresh}};
  EXPECT_EQ(client_->PostJson("/api/v1/auth/refresh", boost::json::serialize(next)).status, 200);
  EXPECT_EQ(client_->PostJson("/api/v1/auth/refresh", boost::json::serialize(next)).status, 401);
}

TEST_F(ServerTest, WrongPasswordsAndUnknownUsersGet401) {
  EXPECT_EQ(Login("admin", "wrong").status, 401);
  EXPECT_EQ(Login("nobody", "whatever").status, 401);
  EXPECT_EQ(Login("nobody", "whatever").ErrorCode(), "unauthorized");
}

TEST_F(ServerTest, LoginIsRateLimited) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Login("admin", "wrong").status, 401) << i;
  const auto limited = Login("admin", kAdminPassword);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.ErrorCode(), "rate_limited");
  EXPECT_EQ(client_->Get("/healthz").status, 200);
}

TEST_F(ServerTest, BadTokensGet401) {
  const std::string good = AdminToken();
  EXPECT_EQ(client_->Get("/api/v1/auth/me").status, 401);
  EXPECT_EQ(client_->Get("/api/v1/auth/me", "garbage").status, 401);
  EXPECT_EQ(client_->Get("/api/v1/auth/me", good + "x").status, 401);

  AccessClaims claims;
  claims.user_id = client_->Get("/api/v1/auth/me", good).Json().at("id").as_int64();
  claims.name = "admin";
  claims.role = store::Role::kAdmin;
  claims.issued_at = std::time(nullptr);
  claims.expires_at = claims.issued_at + 600;

  // Signed with another secret.
  const JwtSigner stranger(std::vector<std::uint8_t>(32, 1));
  EXPECT_EQ(client_->Get("/api/v1/auth/me", stranger.Sign(claims)).status, 401);

  // Signed with the server's own key: valid until it expires.
  std::vector<std::uint8_t> key(32);
  const std::string hex = ReadLine(dir_.path() + "/jwt.key");
  ASSERT_EQ(sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, nullptr,
                           nullptr),
            0);
  const JwtSigner server_key(key);
  const std::string minted = server_key.Sign(claims);
  EXPECT_EQ(client_->Get("/api/v1/auth/me", minted).status, 200);

  // The same claims under alg "none", unsigned.
  const std::size_t first_dot = minted.find('.');
  const std::string payload = minted.substr(first_dot + 1, minted.rfind('.') - first_dot - 1);
  const auto unsigned_token =
      client_->Get("/api/v1/auth/me", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + ".");
  EXPECT_EQ(unsigned_token.status, 401);

  claims.issued_at -= 3600;
  claims.expires_at = claims.issued_at + 900;
  const auto expired = client_->Get("/api/v1/auth/me", server_key.Sign(claims));
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.ErrorCode(), "unauthorized");
  EXPECT_NE(expired.body.find("expired"), std::string::npos);
  EXPECT_EQ(client_->Get("/api/v1/auth/me", good).status, 200);
}

TEST_F(ServerTest, AdminRoutesAre403ForDevelopers) {
  const std::string alice = Developer("alice");
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/users"},
           {"POST", "/api/v1/users"},
           {"DELETE", "/api/v1/users/admin"},
           {"POST", "/api/v1/tokens/node"}}) {
    const auto result = client_->Send(method, target, "{}", {{"Authorization", Bearer(alice)}});
    EXPECT_EQ(result.status, 403) << method << " " << target;
    EXPECT_EQ(result.ErrorCode(), "forbidden");
  }
  EXPECT_EQ(client_->Get("/api/v1/users", AdminToken()).status, 200);
}

TEST_F(ServerTest, UserAdministration) {
  const std::string admin = AdminToken();
  const boost::json::object carol{{"name", "carol"}, {"password", "carol-pass"}, {"role", "admin"}};
  const auto created = client_->PostJson("/api/v1/users", boost::json::serialize(carol), admin);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Field(created, "role"), "admin");
  EXPECT_EQ(client_->PostJson("/api/v1/users", boost::json::serialize(carol), admin).status, 409);
  const boost::json::object bad_name{{"name", "../etc"}, {"password", "long-enough"}};
  EXPECT_EQ(client_->PostJson("/api/v1/users", boost::json::serialize(bad_name), admin).status, 400);
  const boost::json::object bad_role{{"name", "dave"}, {"password", "long-enough"}, {"role", "root"}};
  EXPECT_EQ(client_->PostJson("/api/v1/users", boost::json::serialize(bad_role), admin).status, 400);

  const auto users = client_->Get("/api/v1/users", admin);
  ASSERT_EQ(users.status, 200);
  EXPECT_EQ(users.Json().at("users").as_array().size(), 2u);

  EXPECT_EQ(client_->Send("DELETE", "/api/v1/users/admin", "", {{"Authorization", Bearer(admin)}})
                .status,
            409);
  const std::string carol_token = LoginToken("carol", "carol-pass");
  EXPECT_EQ(client_->Send("DELETE", "/api/v1/users/admin", "",
                          {{"Authorization", Bearer(carol_token)}})
                .status,
            204);
  EXPECT_EQ(client_->Get("/api/v1/auth/me", admin).status, 401);
}

TEST_F(ServerTest, PasswordChange) {
  const std::string alice = Developer("alice");
  const boost::json::object wrong{{"old_password", "nope"}, {"new_password", "new-password"}};
  EXPECT_EQ(client_->PostJson("/api/v1/auth/password", boost::json::serialize(wrong), alice).status,
            401);
  const boost::json::object right{{"old_password", "alice-password"},
                                  {"new_password", "new-password"}};
  EXPECT_EQ(client_->PostJson("/api/v1/auth/password", boost::json::serialize(right), alice).status,
            204);
  EXPECT_EQ(Login("alice", "alice-password").status, 401);
  EXPECT_EQ(Login("alice", "new-password").status, 200);
}

TEST_F(ServerTest, MalformedJsonIs400AndTheConnectionGoesOn) {
  const std::string admin = AdminToken();
  for (const std::string& body : {std::string("{"), std::string("[1,2]"), std::string(""),
                                  std::string("{\"user\": 1}"), std::string("\xff\xfe")}) {
    const auto login = client_->PostJson("/api/v1/auth/login", body);
    EXPECT_EQ(login.status, 400) << body;
    const auto users = client_->PostJson("/api/v1/users", body, admin);
    EXPECT_EQ(users.status, 400) << body;
    EXPECT_EQ(client_->Get("/healthz").status, 200);
  }
  EXPECT_EQ(client_->PostJson("/api/v1/auth/login", "{").ErrorCode(), "invalid_json");
}

TEST_F(ServerTest, FunctionUploadVersionsAndShow) {
  const std::string alice = Developer("alice");
  const std::string module = ModuleBytes(kWat);
  const auto first = Upload("echo", module, alice, "?memory_mb=32&timeout_ms=1000&env=A%3D1&env=B%3D2");
  ASSERT_EQ(first.status, 201) << first.body;
  const auto json = first.Json().as_object();
  EXPECT_EQ(json.at("version").as_int64(), 1);
  EXPECT_EQ(json.at("module_sha256").as_string(),
            Sha256Hex({reinterpret_cast<const std::uint8_t*>(module.data()), module.size()}));
  EXPECT_EQ(json.at("module_size").as_int64(), static_cast<std::int64_t>(module.size()));
  EXPECT_EQ(json.at("settings").at("memory_mb").as_int64(), 32);
  EXPECT_EQ(json.at("settings").at("env").as_array().size(), 2u);
  EXPECT_EQ(json.at("settings").at("env").as_array()[0].as_string(), "A=1");

  const auto second = Upload("echo", module, alice);
  ASSERT_EQ(second.status, 201);
  EXPECT_EQ(second.Json().at("version").as_int64(), 2);

  const auto shown = client_->Get("/api/v1/functions/echo", alice);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(shown.Json().at("latest_version").as_int64(), 2);
  const auto shown_json = shown.Json();
  const auto& versions = shown_json.at("versions").as_array();
  ASSERT_EQ(versions.size(), 2u);

  const auto listed = client_->Get("/api/v1/functions", alice);
  ASSERT_EQ(listed.status, 200);
  const auto listed_json = listed.Json();
  const auto& functions = listed_json.at("functions").as_array();
  ASSERT_EQ(functions.size(), 1u);
  EXPECT_EQ(functions[0].at("name").as_string(), "echo");
  EXPECT_EQ(functions[0].at("stats_24h").at("invocations").as_int64(), 0);

  EXPECT_EQ(client_->Send("DELETE", "/api/v1/functions/echo", "", {{"Authorization", Bearer(alice)}})
                .status,
            204);
  EXPECT_EQ(client_->Get("/api/v1/functions/echo", alice).status, 404);
}

TEST_F(ServerTest, InvalidModuleIs400WithTheValidatorsMessage) {
  const std::string alice = Developer("alice");
  // A type section that claims 5 bytes and holds 4.
  const std::string garbage("\0asm\x01\0\0\0\x01\x05\x01\x60\x00\x00", 14);
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(garbage.data()),
                                            garbage.size());
  auto expected = wasm::Instrument(bytes, wasm::InstrumentOptions{});
  ASSERT_FALSE(expected);
  const auto result = Upload("bad", garbage, alice);
  EXPECT_EQ(result.status, 400);
  EXPECT_EQ(result.ErrorCode(), "invalid_module");
  EXPECT_EQ(result.Json().at("error").at("message").as_string(), expected.error().message);

  const auto text = Upload("bad", "definitely not wasm", alice);
  EXPECT_EQ(text.status, 400);
  EXPECT_EQ(text.ErrorCode(), "invalid_module");
  EXPECT_EQ(Upload("bad", "", alice).ErrorCode(), "invalid_module");
  EXPECT_EQ(client_->Get("/api/v1/functions/bad", alice).status, 404);
  EXPECT_EQ(client_->Get("/healthz").status, 200);
}

TEST_F(ServerTest, UploadSettingsAreChecked) {
  const std::string alice = Developer("alice");
  const std::string module = ModuleBytes(kWat);
  for (const char* query :
       {"?memory_mb=0", "?memory_mb=abc", "?timeout_ms=-1", "?fuel=0", "?colour=blue",
        "?env=NOEQUALS", "?env=%3Dvalue", "?entry=has%20space"}) {
    const auto result = Upload("f", module, alice, query);
    EXPECT_EQ(result.status, 400) << query << " " << result.body;
    EXPECT_EQ(result.ErrorCode(), "bad_request") << query;
  }
  const auto over_quota = Upload("f", module, alice, "?memory_mb=4000");
  EXPECT_EQ(over_quota.status, 429);
  EXPECT_EQ(over_quota.ErrorCode(), "quota_exceeded");
  EXPECT_NE(over_quota.body.find("memory per function"), std::string::npos);
  EXPECT_EQ(Upload("Bad.Name", module, alice).status, 400);
  EXPECT_EQ(Upload("f", module, alice, "?fuel=1000&entry=_start").status, 201);
}

TEST_F(ServerTest, OtherUsersFunctionsAre404) {
  const std::string alice = Developer("alice");
  const std::string bob = Developer("bob");
  const std::string module = ModuleBytes(kWat);
  ASSERT_EQ(Upload("secret", module, alice).status, 201);

  EXPECT_EQ(client_->Get("/api/v1/functions/secret", bob).status, 404);
  EXPECT_EQ(client_->Get("/api/v1/functions/secret", bob).ErrorCode(), "not_found");
  EXPECT_EQ(client_->Send("DELETE", "/api/v1/functions/secret", "",
                          {{"Authorization", Bearer(bob)}})
                .status,
            404);
  EXPECT_TRUE(client_->Get("/api/v1/functions", bob).Json().at("functions").as_array().empty());
  // Bob's own "secret" is a different function.
  const auto own = Upload("secret", module, bob);
  ASSERT_EQ(own.status, 201);
  EXPECT_EQ(own.Json().at("version").as_int64(), 1);
  const auto alices = client_->Get("/api/v1/functions/secret", alice);
  EXPECT_EQ(alices.Json().at("versions").as_array().size(), 1u);
}

TEST_F(ServerTest, OversizedBodiesAre413) {
  const std::string alice = Developer("alice");
  const auto upload = client_->SendRaw(
      "PUT /api/v1/functions/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice +
      "\r\nContent-Length: " + std::to_string((64u << 20) + 1) + "\r\n\r\n");
  EXPECT_EQ(upload.status, 413);
  EXPECT_EQ(upload.ErrorCode(), "too_large");
  const auto other = client_->SendRaw(
      "POST /api/v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice +
      "\r\nContent-Length: " + std::to_string((16u << 20) + 1) + "\r\n\r\n");
  EXPECT_EQ(other.status, 413);
  EXPECT_EQ(client_->Get("/healthz").status, 200);
}

TEST_F(ServerTest, ApiKeysAreShownOnceAndRevocable) {
  const std::string alice = Developer("alice");
  const auto created =
      client_->PostJson("/api/v1/keys", R"({"name":"ci"})", alice);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string key = Field(created, "key");
  EXPECT_TRUE(LooksLikeApiKey(key));
  const auto me = client_->Get("/api/v1/auth/me", key);
  EXPECT_EQ(Field(me, "name"), "alice");

  const auto listed = client_->Get("/api/v1/keys", key);
  ASSERT_EQ(listed.status, 200);
  const auto listed_json = listed.Json();
  const auto& keys = listed_json.at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].at("prefix").as_string(), key.substr(0, 12));
  EXPECT_FALSE(keys[0].at("last_used_at").is_null());
  EXPECT_EQ(listed.body.find(key), std::string::npos);

  const std::string id = Field(created, "id");
  const std::string bob = Developer("bob");
  EXPECT_EQ(client_->Send("DELETE", "/api/v1/keys/" + id, "", {{"Authorization", Bearer(bob)}})
                .status,
            404);
  EXPECT_EQ(client_->Send("DELETE", "/api/v1/keys/" + id, "", {{"Authorization", Bearer(alice)}})
                .status,
            204);
  EXPECT_EQ(client_->Get("/api/v1/auth/me", key).status, 401);
}

TEST_F(ServerTest, EnrollmentAndNodeAuthentication) {
  const std::string admin = AdminToken();
  const auto token = client_->PostJson("/api/v1/tokens/node", R"({"ttl_seconds":600})", admin);
  ASSERT_EQ(token.status, 201) << token.body;
  const std::string enrollment = Field(token, "token");

  boost::json::object request{{"token", enrollment}, {"name", "phone-1"}, {"target", "aarch64-linux"}};
  const auto first = client_->PostJson("/api/v1/nodes/enroll", boost::json::serialize(request));
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string node_id = Field(first, "node_id");
  const std::string old_secret = Field(first, "secret");
  const auto again = client_->PostJson("/api/v1/nodes/enroll", boost::json::serialize(request));
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(Field(again, "node_id"), node_id);
  const std::string secret = Field(again, "secret");
  EXPECT_NE(secret, old_secret);

  // The token belongs to that device now, and made-up tokens get nowhere.
  request["name"] = "phone-2";
  EXPECT_EQ(client_->PostJson("/api/v1/nodes/enroll", boost::json::serialize(request)).status, 401);
  request["token"] = "made-up";
  EXPECT_EQ(client_->PostJson("/api/v1/nodes/enroll", boost::json::serialize(request)).status, 401);

  // Modules by hash, for nodes only.
  const std::string alice = Developer("alice");
  const std::string module = ModuleBytes(kWat);
  const std::string sha = Field(Upload("f", module, alice), "module_sha256");
  const auto fetched =
      client_->Send("GET", "/api/v1/modules/" + sha, "", {{"Authorization", "Node " + node_id + ":" + secret}});
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.body, module);
  EXPECT_EQ(fetched.headers.at("content-type"), "application/wasm");
  for (const std::string& wrong : {"Node " + node_id + ":" + old_secret, "Node " + node_id + ":x",
                                   "Node nobody:" + secret, Bearer(alice)}) {
    EXPECT_EQ(client_->Send("GET", "/api/v1/modules/" + sha, "", {{"Authorization", wrong}}).status,
              401)
        << wrong;
  }
  EXPECT_EQ(client_->Send("GET", "/api/v1/modules/" + std::string(64, '0'), "",
                          {{"Authorization", "Node " + node_id + ":" + secret}})
                .status,
            404);

  // The node's WebSocket.
  EXPECT_EQ(WsClient().Connect(server_->port(), "Node " + node_id + ":" + old_secret), 401);
  EXPECT_EQ(WsClient().Connect(server_->port(), "Node " + node_id + ":" + secret), 101);

  const auto nodes = client_->Get("/api/v1/nodes", alice);
  ASSERT_EQ(nodes.status, 200);
  const auto nodes_json = nodes.Json();
  const auto& list = nodes_json.at("nodes").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("id").as_string(), node_id);
  EXPECT_EQ(list[0].at("name").as_string(), "phone-1");
  EXPECT_EQ(list[0].at("target").as_string(), "aarch64-linux");
  EXPECT_EQ(list[0].as_object().count("secret_hash"), 0u);
}

TEST_F(ServerTest, EventStreamDeliversPublishedEvents) {
  const std::string alice = Developer("alice");
  const auto me = client_->Get("/api/v1/auth/me", alice);
  const std::int64_t alice_id = me.Json().at("id").as_int64();
  RawConnection stream(server_->port());
  stream.Write("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice +
               "\r\n\r\n");
  ASSERT_TRUE(stream.ReadUntil(": connected\n\n"));
  server_->events().Publish({"invocation", alice_id + 1, R"({"id":"other"})"});
  server_->events().Publish({"invocation", alice_id, R"({"id":"mine","state":"queued"})"});
  const auto received = stream.ReadUntil(R"({"id":"mine","state":"queued"})");
  ASSERT_TRUE(received);
  EXPECT_EQ(received->find("other"), std::string::npos);
}

TEST(ServerFirstStartTest, GeneratedAdminPasswordIsWrittenOnceAndWorks) {
  TempDir dir;
  ::unsetenv("MILF_ADMIN_PASSWORD");
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.path() + "/data";
  options.announce = nullptr;
  auto first = Server::Start(options);
  ASSERT_TRUE(first) << first.error().message;
  const auto password = (*first)->generated_admin_password();
  ASSERT_TRUE(password);
  EXPECT_EQ(password->size(), 20u);
  const std::string file = options.data_dir + "/admin-password";
  EXPECT_EQ(ReadLine(file), *password);
  struct stat info{};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  ASSERT_EQ(::stat((options.data_dir + "/jwt.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  {
    HttpClient client((*first)->port());
    const boost::json::object body{{"user", "admin"}, {"password", *password}};
    EXPECT_EQ(client.PostJson("/api/v1/auth/login", boost::json::serialize(body)).status, 200);
  }
  (*first)->Stop();

  // A second start finds the administrator and generates nothing; the
  // JWT key, and so the sessions, survive the restart.
  auto second = Server::Start(options);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE((*second)->generated_admin_password());
  EXPECT_EQ(ReadLine(file), *password);
  HttpClient client((*second)->port());
  const boost::json::object body{{"user", "admin"}, {"password", *password}};
  EXPECT_EQ(client.PostJson("/api/v1/auth/login", boost::json::serialize(body)).status, 200);
}

TEST(ServerFirstStartTest, AdminPasswordFromTheEnvironment) {
  TempDir dir;
  ::setenv("MILF_ADMIN_PASSWORD", "from-the-environment", 1);
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.path();
  options.announce = nullptr;
  auto server = Server::Start(options);
  ::unsetenv("MILF_ADMIN_PASSWORD");
  ASSERT_TRUE(server) << server.error().message;
  EXPECT_FALSE((*server)->generated_admin_password());
  struct stat info{};
  EXPECT_NE(::stat((dir.path() + "/admin-password").c_str(), &info), 0);
  HttpClient client((*server)->port());
  const boost::json::object body{{"user", "admin"}, {"password", "from-the-environment"}};
  EXPECT_EQ(client.PostJson("/api/v1/auth/login", boost::json::serialize(body)).status, 200);
}

TEST(ServerFirstStartTest, BusyPortIsAnError) {
  TempDir dir;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.path();
  options.admin_password = "whatever-pass";
  options.announce = nullptr;
  auto first = Server::Start(options);
  ASSERT_TRUE(first);
  TempDir other;
  options.data_dir = other.path();
  options.listen = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = Server::Start(options);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, "io");
  options.listen = "not an address";
  EXPECT_FALSE(Server::Start(options));
}

}  // namespace
}  // namespace milf::server
