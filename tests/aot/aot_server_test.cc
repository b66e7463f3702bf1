// The server's side of AOT distribution (server/aot_builder.h): after a
// deploy it builds, signs and serves the module's artifact to nodes; it
// refuses what cannot be translated; the tier is a function setting.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "base/sha256.h"
#include "compiler/aot/signature.h"
#include "compiler/aot/toolchain.h"
#include "server/server.h"
#include "server/temp_dir.h"
#include "server/test_client.h"
#include "support/wat.h"
#include "wasm/instrument.h"
#include "wasm/runner.h"

namespace milf::server {
namespace {

using milf::testing::Bearer;
using milf::testing::HttpClient;
using milf::testing::HttpResult;
using milf::testing::TempDir;

constexpr char kAdminPassword[] = "admin-password-1";
constexpr char kWat[] = R"((module (func (export "_start") (local i32)
  (local.set 0 (i32.const 7)) (drop (i32.mul (local.get 0) (local.get 0))))))";
constexpr char kSimdWat[] = R"((module (func (export "_start") (drop (v128.const i64x2 1 2)))))";

std::string Field(const HttpResult& result, const char* name) {
  const auto json = result.Json();
  if (!json.is_object() || !json.as_object().contains(name)) return "";
  const auto& value = json.as_object().at(name);
  return value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value);
}

std::string Bytes(std::string_view wat) {
  const auto bytes = milf::testing::Wasm(wat);
  return std::string(bytes.begin(), bytes.end());
}

class AotServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  void Start() {
    if (server_) server_->Stop();
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path();
    options.admin_password = kAdminPassword;
    options.announce = nullptr;
    options.aot_targets = {aot::HostTarget().triple};
    auto started = Server::Start(std::move(options));
    ASSERT_TRUE(started) << started.error().message;
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  std::string Admin() {
    // A connection of its own, retried once or more if it went unanswered:
    // a login must not depend on the state of the test's kept-alive one.
    HttpResult login;
    for (int attempt = 0; attempt < 5 && login.status == 0; ++attempt) {
      HttpClient fresh(server_->port());
      login = fresh.PostJson("/api/v1/auth/login", R"({"user":"admin","password":"admin-password-1"})");
    }
    EXPECT_EQ(login.status, 200) << login.body;
    return Field(login, "access_token");
  }

  // Enrolls a node; returns its Authorization header and sets public_key_.
  std::string EnrollNode() {
    const auto token = client_->PostJson("/api/v1/tokens/node", R"({"ttl_seconds":600})", Admin());
    EXPECT_EQ(token.status, 201) << token.body;
    boost::json::object request{{"token", Field(token, "token")}, {"name", "n" + std::to_string(++nodes_)}, {"target", "x86_64-linux"}};
    const auto enrolled = client_->PostJson("/api/v1/nodes/enroll", boost::json::serialize(request));
    EXPECT_EQ(enrolled.status, 201) << enrolled.body;
    public_key_ = Field(enrolled, "aot_public_key");
    return "Node " + Field(enrolled, "node_id") + ":" + Field(enrolled, "secret");
  }

  std::string Deploy(const std::string& name, const std::string& bytes, const std::string& query = "") {
    const auto put = client_->Send("PUT", "/api/v1/functions/" + name + query, bytes,
                                   {{"Authorization", Bearer(Admin())}, {"Content-Type", "application/wasm"}});
    EXPECT_EQ(put.status, 201) << put.body;
    return Field(put, "module_sha256");
  }

  // Polls the artifact route until it answers something other than 404.
  HttpResult Fetch(const std::string& auth, const std::string& sha, const std::string& query = "") {
    const std::string target = "/api/v1/artifacts/" + sha + "/" + aot::HostTarget().triple + query;
    HttpResult result;
    for (int i = 0; i < 1200; ++i) {
      result = client_->Send("GET", target, "", {{"Authorization", auth}});
      if (result.status != 404) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return result;
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpClient> client_;
  std::string public_key_;
  int nodes_ = 0;
};

TEST_F(AotServerTest, BuildsSignsAndServesAnArtifactAfterADeploy) {
  const std::string auth = EnrollNode();
  ASSERT_TRUE(aot::IsPublicKeyHex(public_key_)) << public_key_;
  struct stat info {};
  ASSERT_EQ(::stat((dir_.path() + "/aot-signing.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  const std::string module = Bytes(kWat);
  const std::string sha = Deploy("f", module, "?memory_mb=32");
  const std::string route = "/api/v1/artifacts/" + sha + "/" + aot::HostTarget().triple;
  EXPECT_EQ(client_->Get(route + "?memory_mb=32").status, 401);
  EXPECT_EQ(client_->Send("GET", route + "?memory_mb=0", "", {{"Authorization", auth}}).status, 400);

  const HttpResult fetched = Fetch(auth, sha, "?memory_mb=32");
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  auto parsed = aot::ParseSignedArtifact(
      std::span(reinterpret_cast<const std::uint8_t*>(fetched.body.data()), fetched.body.size()));
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto verified = aot::VerifySignedArtifact(*parsed, public_key_, sha, aot::HostTarget().triple);
  ASSERT_TRUE(verified) << verified.error().message;
  // Built from the module as a node's Runner instruments it for 32 MB.
  wasm::Limits limits;
  limits.memory_bytes = 32ull << 20;
  const auto wasm = milf::testing::Wasm(kWat);
  auto instrumented = wasm::Instrument(wasm, wasm::StaticLimits(limits));
  ASSERT_TRUE(instrumented);
  EXPECT_EQ(verified->info.module_sha256, Sha256Hex(instrumented->wasm));
  // Another variant was never deployed; another target is not built here.
  EXPECT_EQ(client_->Send("GET", route + "?memory_mb=16", "", {{"Authorization", auth}}).status, 404);
  const auto other = client_->Send("GET", "/api/v1/artifacts/" + sha + "/mips-linux-gnu", "",
                                   {{"Authorization", auth}});
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(other.ErrorCode(), "aot_unsupported");
}

TEST_F(AotServerTest, UntranslatableModulesAreRefusedOnce) {
  const std::string auth = EnrollNode();
  const std::string sha = Deploy("simd", Bytes(kSimdWat));
  const HttpResult fetched = Fetch(auth, sha);
  EXPECT_EQ(fetched.status, 422) << fetched.body;
  EXPECT_EQ(fetched.ErrorCode(), "aot_unsupported");
}

TEST_F(AotServerTest, KeyIsKeptAndMissingArtifactsAreRebuiltOnStart) {
  std::string auth = EnrollNode();
  const std::string first_key = public_key_;
  const std::string sha = Deploy("f", Bytes(kWat));
  ASSERT_EQ(Fetch(auth, sha).status, 200);
  server_->Stop();
  std::filesystem::remove_all(dir_.path() + "/artifacts/signed");
  std::filesystem::create_directories(dir_.path() + "/artifacts/signed");
  Start();
  auth = EnrollNode();
  EXPECT_EQ(public_key_, first_key);
  const HttpResult fetched = Fetch(auth, sha);
  ASSERT_EQ(fetched.status, 200) << fetched.body;
}

TEST_F(AotServerTest, TierIsAFunctionSetting) {
  const std::string module = Bytes(kWat);
  Deploy("f", module, "?tier=interp");
  const auto shown = client_->Get("/api/v1/functions/f", Admin());
  ASSERT_EQ(shown.status, 200) << shown.body;
  const boost::json::value json = shown.Json();
  EXPECT_EQ(json.at("versions").as_array().at(0).at("settings").at("tier").as_string(), "interp");
  Deploy("g", module);
  const auto defaulted = client_->Get("/api/v1/functions/g", Admin());
  const boost::json::value defaulted_json = defaulted.Json();
  EXPECT_EQ(defaulted_json.at("versions").as_array().at(0).at("settings").at("tier").as_string(), "auto");
  // Last: the server answers before reading the body and closes the connection.
  const auto bad = client_->Send("PUT", "/api/v1/functions/h?tier=fast", module,
                                 {{"Authorization", Bearer(Admin())}, {"Content-Type", "application/wasm"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
}

}  // namespace
}  // namespace milf::server
