#include <gtest/gtest.h>

#include <string>

#include "server/http.h"

namespace milf::server {
namespace {

// Each route's handler records its name so a test can see which one matched.
class RouterTest : public ::testing::Test {
 protected:
  void Add(const std::string& method, const std::string& pattern, Access access = Access::kUser) {
    router_.Add(method, pattern, access, [this, pattern](HandlerContext&) { called_ = pattern; });
  }

  std::string Call(const Router::Match& match) {
    called_.clear();
    if (match.handler == nullptr) return "";
    HttpRequest request;
    HandlerContext context{request, match.params, std::nullopt, [](HttpResponse) {}};
    (*match.handler)(context);
    return called_;
  }

  Router router_;
  std::string called_;
};

TEST_F(RouterTest, MatchesLiteralPaths) {
  Add("GET", "/healthz", Access::kPublic);
  Add("GET", "/api/v1/functions");
  const auto match = router_.Find("GET", "/api/v1/functions");
  EXPECT_EQ(Call(match), "/api/v1/functions");
  EXPECT_EQ(match.access, Access::kUser);
  EXPECT_TRUE(match.params.empty());
  EXPECT_EQ(router_.Find("GET", "/healthz").access, Access::kPublic);
}

TEST_F(RouterTest, CapturesParameters) {
  Add("POST", "/api/v1/functions/{name}/invoke");
  Add("DELETE", "/api/v1/functions/{name}/schedules/{id}");
  auto match = router_.Find("POST", "/api/v1/functions/echo/invoke");
  EXPECT_EQ(Call(match), "/api/v1/functions/{name}/invoke");
  EXPECT_EQ(match.params.at("name"), "echo");

  match = router_.Find("DELETE", "/api/v1/functions/f-1/schedules/42");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.params.at("name"), "f-1");
  EXPECT_EQ(match.params.at("id"), "42");
}

TEST_F(RouterTest, ParameterNeverMatchesAnEmptySegment) {
  Add("GET", "/api/v1/functions/{name}");
  EXPECT_EQ(router_.Find("GET", "/api/v1/functions/").handler, nullptr);
  EXPECT_EQ(router_.Find("GET", "/api/v1/functions//").handler, nullptr);
  EXPECT_EQ(router_.Find("GET", "/api/v1/functions/a/b").handler, nullptr);
}

TEST_F(RouterTest, SegmentsMatchExactly) {
  Add("GET", "/api/v1/functions");
  EXPECT_EQ(router_.Find("GET", "/api/v1/function").handler, nullptr);
  EXPECT_EQ(router_.Find("GET", "/api/v1/functionsx").handler, nullptr);
  EXPECT_EQ(router_.Find("GET", "/api/v1/functions/").handler, nullptr);
  EXPECT_EQ(router_.Find("GET", "/API/v1/functions").handler, nullptr);
  EXPECT_EQ(router_.Find("GET", "api/v1/functions").handler, nullptr);
  EXPECT_EQ(router_.Find("GET", "").handler, nullptr);
}

TEST_F(RouterTest, TellsUnknownPathsFromWrongMethods) {
  Add("GET", "/api/v1/functions/{name}");
  const auto wrong_method = router_.Find("PATCH", "/api/v1/functions/echo");
  EXPECT_EQ(wrong_method.handler, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  const auto unknown = router_.Find("GET", "/api/v1/nothing");
  EXPECT_EQ(unknown.handler, nullptr);
  EXPECT_FALSE(unknown.path_known);
}

TEST_F(RouterTest, LiteralRouteWinsOverParameterWhateverTheOrder) {
  Add("GET", "/api/v1/nodes/{id}");
  Add("GET", "/api/v1/nodes/connect", Access::kPublic);
  EXPECT_EQ(Call(router_.Find("GET", "/api/v1/nodes/connect")), "/api/v1/nodes/connect");
  EXPECT_EQ(Call(router_.Find("GET", "/api/v1/nodes/n1")), "/api/v1/nodes/{id}");
}

TEST_F(RouterTest, MethodsAreDistinct) {
  Add("GET", "/api/v1/keys");
  Add("POST", "/api/v1/keys", Access::kAdmin);
  EXPECT_EQ(router_.Find("GET", "/api/v1/keys").access, Access::kUser);
  EXPECT_EQ(router_.Find("POST", "/api/v1/keys").access, Access::kAdmin);
  EXPECT_EQ(router_.Find("get", "/api/v1/keys").handler, nullptr);
}

TEST(HttpRequestTest, QueryAndHeaderLookups) {
  HttpRequest request;
  request.query.emplace("env", "A=1");
  request.query.emplace("env", "B=2");
  request.headers["content-type"] = "application/wasm";
  EXPECT_EQ(request.Query("env"), "A=1");
  EXPECT_EQ(request.Query("missing"), std::nullopt);
  EXPECT_EQ(request.Header("content-type"), "application/wasm");
  EXPECT_EQ(request.Header("Content-Type"), std::nullopt);
}

TEST(HttpResponseTest, ErrorResponseIsTheDocumentedShape) {
  const HttpResponse response = ErrorResponse(404, "not_found", "no \"such\" thing");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":{"code":"not_found","message":"no \"such\" thing"}})");
}

}  // namespace
}  // namespace milf::server
