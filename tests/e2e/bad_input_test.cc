// End to end with hostile and broken input: every bad request gets a clear
// 4xx JSON error, and the server keeps serving afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "client/json.h"
#include "e2e_support.h"
#include "server/auth.h"

namespace milf::e2e {
namespace {

using client::GetString;
using ::testing::HasSubstr;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>();
    ASSERT_FALSE(HasFatalFailure());
    auto url = client::ParseServerUrl(cluster_->url());
    auto http = client::HttpClient::Create(*url);
    ASSERT_TRUE(http);
    raw_ = std::move(*http);
  }

  // Sends a request as is (no session), under /api/v1 unless `target` is absolute.
  client::HttpResponse Send(const std::string& method, const std::string& target, std::string body = "",
                            client::Headers headers = {}) {
    client::HttpRequest request;
    request.method = method;
    request.target = target.starts_with("/healthz") ? target : std::string(client::kApiPrefix) + target;
    request.body = std::move(body);
    request.headers = std::move(headers);
    auto response = raw_->Send(request);
    if (!response) {
      ADD_FAILURE() << method << " " << target << ": " << response.error().message;
      return {};
    }
    return *response;
  }

  // `response` is a JSON error with `status` and `code`, and the server
  // still answers /healthz.
  void ExpectError(const client::HttpResponse& response, int status, const std::string& code) {
    EXPECT_EQ(response.status, status) << response.body;
    auto json = client::ParseJson(response.body);
    ASSERT_TRUE(json) << "not JSON: " << response.body;
    const auto* error = client::Member(*json, "error");
    ASSERT_NE(error, nullptr) << response.body;
    EXPECT_EQ(GetString(*error, "code"), code) << response.body;
    const std::string message = GetString(*error, "message");
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find('\n'), std::string::npos);
    const auto health = Send("GET", "/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_THAT(health.body, HasSubstr("\"ok\""));
  }

  client::Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  std::string AdminToken() {
    auto url = client::ParseServerUrl(cluster_->url());
    auto http = client::HttpClient::Create(*url);
    auto credentials = client::Login(**http, "admin", Cluster::kAdminPassword, SystemClock());
    return credentials ? credentials->access_token : "";
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<client::HttpClient> raw_;
};

TEST_F(BadInputTest, MalformedJsonIsRejected) {
  ExpectError(Send("POST", "/auth/login", "{\"user\": \"admin\", "), 400, "invalid_json");
  ExpectError(Send("POST", "/auth/login", "[]"), 400, "invalid_json");
  ExpectError(Send("POST", "/auth/login", std::string("\xff\xfe\0", 3)), 400, "invalid_json");
  const std::string token = AdminToken();
  ExpectError(Send("POST", "/users", "{\"name\":", Bearer(token)), 400, "invalid_json");
  ExpectError(Send("POST", "/functions/x/batch", "{\"inputs\": [1,", Bearer(token)), 400, "invalid_json");
}

TEST_F(BadInputTest, OversizedBodiesAreRejected) {
  ExpectError(Send("POST", "/auth/login", std::string((16u << 20) + 1, 'x')), 413, "too_large");
  const std::string token = AdminToken();
  ExpectError(Send("PUT", "/functions/huge", std::string((64u << 20) + 1, '\0'), Bearer(token)), 413, "too_large");
}

TEST_F(BadInputTest, InvalidModulesAreRejectedWithTheValidatorsMessage) {
  const std::string token = AdminToken();
  ExpectError(Send("PUT", "/functions/bad", "this is not wasm", Bearer(token)), 400, "invalid_module");
  // A valid header with a truncated section.
  ExpectError(Send("PUT", "/functions/bad", std::string("\0asm\x01\0\0\0\x01\x05", 10), Bearer(token)), 400,
              "invalid_module");
  ExpectError(Send("PUT", "/functions/Bad%20Name", "\0asm", Bearer(token)), 400, "bad_request");

  const std::string module = (cluster_->dir() / "bad.wasm").string();
  std::ofstream(module) << "garbage";
  const CommandResult cli = RunMilf({"fn", "deploy", "bad", module},
                                    cluster_->CliEnvFor("admin", Cluster::kAdminPassword));
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_THAT(cli.err, ::testing::StartsWith("milf: "));
  EXPECT_THAT(cli.err, HasSubstr("(400 invalid_module)\n"));
  EXPECT_EQ(std::count(cli.err.begin(), cli.err.end(), '\n'), 1);
}

TEST_F(BadInputTest, UnknownFunctionsAreNotFound) {
  const std::string token = AdminToken();
  ExpectError(Send("POST", "/functions/nope/invoke", "x", Bearer(token)), 404, "not_found");
  ExpectError(Send("GET", "/functions/nope", "", Bearer(token)), 404, "not_found");
  ExpectError(Send("GET", "/invocations/01ARZ3NDEKTSV4RRFFQ69G5FAV", "", Bearer(token)), 404, "not_found");
  const CommandResult cli =
      RunMilf({"invoke", "nope", "--data", "x"}, cluster_->CliEnvFor("admin", Cluster::kAdminPassword));
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_THAT(cli.err, ::testing::MatchesRegex("milf: .*\\(404 not_found\\)\n"));
}

TEST_F(BadInputTest, ExpiredAndForgedTokensAreUnauthorized) {
  const std::string token = AdminToken();
  auto me = client::ParseJson(Send("GET", "/auth/me", "", Bearer(token)).body);
  ASSERT_TRUE(me);
  server::AccessClaims claims;
  claims.user_id = *client::GetInt(*me, "id");
  claims.name = "admin";
  claims.role = store::Role::kAdmin;
  const std::int64_t now = SystemClock().RealtimeNanos() / 1'000'000'000;

  auto secret = server::LoadOrCreateJwtSecret((cluster_->data_dir() / "jwt.key").string());
  ASSERT_TRUE(secret) << secret.error().message;
  const server::JwtSigner real(*secret);
  // Signed with the server's own key and still valid: accepted, so the
  // failures below are about expiry and signature alone.
  claims.issued_at = now - 10;
  claims.expires_at = now + 600;
  EXPECT_EQ(Send("GET", "/functions", "", Bearer(real.Sign(claims))).status, 200);

  claims.issued_at = now - 3600;
  claims.expires_at = now - 60;
  ExpectError(Send("GET", "/functions", "", Bearer(real.Sign(claims))), 401, "unauthorized");

  claims.issued_at = now - 10;
  claims.expires_at = now + 600;
  const server::JwtSigner forger(std::vector<std::uint8_t>(32, 0x42));
  ExpectError(Send("GET", "/functions", "", Bearer(forger.Sign(claims))), 401, "unauthorized");
  // Claims edited after signing.
  std::string tampered = real.Sign(claims);
  tampered[tampered.find('.') + 3] ^= 1;
  ExpectError(Send("GET", "/functions", "", Bearer(tampered)), 401, "unauthorized");
  ExpectError(Send("GET", "/functions", "", Bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOjF9.")), 401, "unauthorized");
  ExpectError(Send("GET", "/functions", "", Bearer("milf_" + std::string(40, 'A'))), 401, "unauthorized");
  ExpectError(Send("GET", "/functions"), 401, "unauthorized");
}

TEST_F(BadInputTest, ANodeWithAWrongSecretIsRefused) {
  const std::string token = AdminToken();
  auto enrollment = client::ParseJson(Send("POST", "/tokens/node", "{}", Bearer(token)).body);
  ASSERT_TRUE(enrollment);
  auto enrolled = client::ParseJson(
      Send("POST", "/nodes/enroll",
           boost::json::serialize(boost::json::object{
               {"token", GetString(*enrollment, "token")}, {"name", "probe"}, {"target", "x86_64-linux"}}))
          .body);
  ASSERT_TRUE(enrolled);
  const std::string node_id = GetString(*enrolled, "node_id");
  const std::string secret = GetString(*enrolled, "secret");
  ASSERT_FALSE(node_id.empty() || secret.empty());

  const auto upgrade = [&](const std::string& credential) {
    auto url = client::ParseServerUrl(cluster_->url());
    auto http = client::HttpClient::Create(*url);
    client::HttpRequest request;
    request.target = std::string(client::kApiPrefix) + "/nodes/connect";
    request.headers = {{"Upgrade", "websocket"},
                       {"Connection", "Upgrade"},
                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                       {"Sec-WebSocket-Version", "13"},
                       {"Authorization", credential}};
    auto response = (*http)->Send(request);
    EXPECT_TRUE(response) << response.error().message;
    return response ? *response : client::HttpResponse{};
  };
  // The right secret upgrades, so the refusals below are about the secret.
  EXPECT_EQ(upgrade("Node " + node_id + ":" + secret).status, 101);
  ExpectError(upgrade("Node " + node_id + ":" + std::string(secret.size(), 'x')), 401, "unauthorized");
  ExpectError(upgrade("Node node-unknown:" + secret), 401, "unauthorized");
  ExpectError(upgrade("Node garbage"), 401, "unauthorized");
  ExpectError(upgrade("Bearer " + token), 401, "unauthorized");

  ExpectError(Send("POST", "/nodes/enroll",
                   R"({"token":"not-a-token","name":"intruder","target":"x86_64-linux"})"),
              401, "unauthorized");
  ExpectError(Send("GET", "/modules/" + std::string(64, 'a'), "", {{"Authorization", "Node " + node_id + ":wrong"}}),
              401, "unauthorized");
}

}  // namespace
}  // namespace milf::e2e
