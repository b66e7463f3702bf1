// The credential file (mode 0600, atomic, reloaded after a restart), the
// enrollment exchange's request and answers, and server URLs.
#include "node/enrollment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include "node/server_url.h"
#include "node_test_support.h"

namespace milf::node {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

TEST(Credential, NoneUntilSaved) {
  TempDir dir;
  auto loaded = LoadCredential(dir.path());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_FALSE(loaded->has_value());
}

TEST(Credential, SavedWithMode0600AndReloaded) {
  TempDir dir;
  ASSERT_TRUE(SaveCredential(dir.path(), {"http://127.0.0.1:8080", "node-7", "s3cr3t"}));
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() / "credential.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto loaded = LoadCredential(dir.path());
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->server, "http://127.0.0.1:8080");
  EXPECT_EQ((*loaded)->node_id, "node-7");
  EXPECT_EQ((*loaded)->secret, "s3cr3t");
  // Saving again replaces it and leaves no partial file behind.
  ASSERT_TRUE(SaveCredential(dir.path(), {"http://127.0.0.1:8080", "node-7", "rotated"}));
  EXPECT_EQ((**LoadCredential(dir.path())).secret, "rotated");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "credential.json.partial"));
}

TEST(Credential, RefusesABrokenFile) {
  TempDir dir;
  testing::WriteFile(dir.path(), "credential.json", "{not json");
  EXPECT_EQ(LoadCredential(dir.path()).error().code, "invalid_credential");
  testing::WriteFile(dir.path(), "credential.json", R"({"node_id": "n"})");
  EXPECT_THAT(LoadCredential(dir.path()).error().message, HasSubstr("secret"));
}

TEST(Credential, AuthorizationHeader) {
  EXPECT_EQ(AuthorizationHeader({"s", "node-1", "abc"}), "Node node-1:abc");
}

TEST(Enrollment, RequestBody) {
  const auto body = boost::json::parse(EnrollRequestBody("tok\"en", "pixel", "aarch64-linux"));
  EXPECT_EQ(body.at("token").as_string(), "tok\"en");
  EXPECT_EQ(body.at("name").as_string(), "pixel");
  EXPECT_EQ(body.at("target").as_string(), "aarch64-linux");
}

TEST(Enrollment, Answers) {
  auto ok = ParseEnrollResponse(201, R"({"node_id":"n1","secret":"s1"})", "http://h:1");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->node_id, "n1");
  EXPECT_EQ(ok->secret, "s1");
  EXPECT_EQ(ok->server, "http://h:1");

  auto refused = ParseEnrollResponse(
      401, R"({"error":{"code":"unauthorized","message":"token expired"}})", "s");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "enrollment_refused");
  EXPECT_THAT(refused.error().message, HasSubstr("token expired"));

  EXPECT_EQ(ParseEnrollResponse(503, "busy", "s").error().code, "unavailable");
  EXPECT_EQ(ParseEnrollResponse(201, "not json", "s").error().code, "unavailable");
  EXPECT_EQ(ParseEnrollResponse(201, R"({"node_id":"n"})", "s").error().code, "unavailable");
  EXPECT_EQ(ParseEnrollResponse(201, R"({"node_id":5,"secret":"s"})", "s").error().code,
            "unavailable");
}

TEST(ServerUrl, Parses) {
  auto url = ParseServerUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->prefix, "");
  EXPECT_EQ(url->text, "http://127.0.0.1:8080");
  EXPECT_EQ(url->Target("/nodes/connect"), "/api/v1/nodes/connect");

  url = ParseServerUrl("ws://example.org/milf/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->prefix, "/milf");
  EXPECT_EQ(url->text, "http://example.org:80/milf");
  EXPECT_EQ(url->Target("/nodes/enroll"), "/milf/api/v1/nodes/enroll");

  url = ParseServerUrl("http://[::1]:9000");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->HostHeader(), "[::1]:9000");
}

TEST(ServerUrl, RefusesWhatTheNodeCannotUse) {
  for (const char* bad : {"", "127.0.0.1:8080", "ftp://h", "https://h", "http://", "http://h:",
                          "http://h:0", "http://h:70000", "http://h:80x", "http://u@h",
                          "http://h/?q=1", "http://::1:80", "http://[::1"}) {
    auto url = ParseServerUrl(bad);
    EXPECT_FALSE(url) << bad;
    if (!url) {
      EXPECT_EQ(url.error().code, "invalid_url") << bad;
    }
  }
  EXPECT_THAT(ParseServerUrl("https://h").error().message, HasSubstr("TLS"));
}

}  // namespace
}  // namespace milf::node
