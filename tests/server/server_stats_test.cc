// The server's aggregates over HTTP, on a clock the test sets: usage per
// day of the current month, per-function 24-hour statistics and last
// status; a password change ending the user's sessions; the database files
// private to their owner. Usage and invocations are written straight into
// the server's store, so no node is needed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include "server/fake_clock.h"
#include "server/server.h"
#include "server/temp_dir.h"
#include "server/test_client.h"
#include "store/ids.h"
#include "support/wat.h"

namespace milf::server {
namespace {

using milf::testing::FakeClock;
using milf::testing::HttpClient;
using milf::testing::HttpResult;
using milf::testing::TempDir;
using store::InvocationState;

constexpr char kAdminPassword[] = "admin-password-1";
constexpr std::int64_t kHourMs = 3600 * 1000;
// FakeClock starts at 2026-01-01T00:00:01Z.
constexpr store::Millis kStart = 1'767'225'601'000;

class ServerStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path();
    options.admin_password = kAdminPassword;
    options.announce = nullptr;
    options.clock = &clock_;
    options.aot_builds = false;
    auto started = Server::Start(std::move(options));
    ASSERT_TRUE(started) << started.error().message;
    server_ = std::move(*started);
    client_ = std::make_unique<HttpClient>(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  HttpResult Login(const std::string& user, const std::string& password) {
    return client_->PostJson("/api/v1/auth/login",
                             boost::json::serialize(boost::json::object{
                                 {"user", user}, {"password", password}}));
  }

  // Creates developer `name` (password NAME-password); returns its id.
  std::int64_t Developer(const std::string& name) {
    const auto admin = Login("admin", kAdminPassword);
    EXPECT_EQ(admin.status, 200) << admin.body;
    const std::string token(admin.Json().at("access_token").as_string());
    boost::json::object body{{"name", name}, {"password", name + "-password"}};
    const auto created = client_->PostJson("/api/v1/users", boost::json::serialize(body), token);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.Json().at("id").as_int64();
  }

  std::string Token(const std::string& name) {
    const auto login = Login(name, name + "-password");
    EXPECT_EQ(login.status, 200) << login.body;
    return std::string(login.Json().at("access_token").as_string());
  }

  void Deploy(const std::string& name, const std::string& token) {
    const auto wasm = milf::testing::Wasm(R"((module (func (export "_start"))))");
    const auto put = client_->Send(
        "PUT", "/api/v1/functions/" + name, std::string(wasm.begin(), wasm.end()),
        {{"Authorization", milf::testing::Bearer(token)}, {"Content-Type", "application/wasm"}});
    ASSERT_EQ(put.status, 201) << put.body;
  }

  // One invocation of `function`, queued at `queued_at` and, unless
  // `final_state` is queued, run to it in `wall_ms`.
  void Invocation(std::int64_t owner, const std::string& function, store::Millis queued_at,
                  InvocationState final_state, std::int64_t wall_ms = 0) {
    store::Store& store = server_->store();
    auto found = store.FindFunction(owner, function);
    ASSERT_TRUE(found) << found.error().message;
    store::Invocation invocation;
    invocation.id = store::NewInvocationId(queued_at);
    invocation.owner_id = owner;
    invocation.function_id = found->id;
    invocation.function_name = function;
    invocation.version = found->latest_version;
    invocation.queued_at = queued_at;
    ASSERT_TRUE(store.EnqueueInvocations({invocation}));
    if (final_state == InvocationState::kQueued) return;
    const store::Millis now = clock_.RealtimeNanos() / 1'000'000;
    ASSERT_TRUE(store.MarkDispatched(invocation.id, "node", now + kHourMs, now));
    store::InvocationResult result;
    result.status = final_state == InvocationState::kSucceeded ? "ok" : "trap";
    result.wall_micros = wall_ms * 1000;
    ASSERT_TRUE(store.Complete(invocation.id, "node", final_state, result, now));
  }

  FakeClock clock_;
  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ServerStatsTest, UsageListsTheDaysOfTheCurrentMonth) {
  const std::int64_t alice = Developer("alice");
  const std::int64_t bob = Developer("bob");
  store::Store& store = server_->store();
  ASSERT_TRUE(store.AddUsage(alice, "2026-01-01", 2, 3.5, 100));
  ASSERT_TRUE(store.AddUsage(alice, "2026-01-03", 1, 0.25, 7));
  ASSERT_TRUE(store.AddUsage(alice, "2025-12-31", 4, 8, 16));
  ASSERT_TRUE(store.AddUsage(bob, "2026-01-01", 64, 64, 64));

  const auto usage = client_->Get("/api/v1/usage", Token("alice"));
  ASSERT_EQ(usage.status, 200) << usage.body;
  const auto json = usage.Json();
  EXPECT_EQ(boost::json::serialize(json.at("days")),
            R"([{"day":"2026-01-01","invocations":2,"compute_mb_seconds":3.5E0,"fuel":100},)"
            R"({"day":"2026-01-03","invocations":1,"compute_mb_seconds":2.5E-1,"fuel":7}])");
  const auto& months = json.at("months").as_array();
  ASSERT_EQ(months.size(), 2u);
  EXPECT_EQ(months[0].at("month").as_string(), "2026-01");
  EXPECT_EQ(months[0].at("invocations").as_int64(), 3);
  EXPECT_EQ(months[1].at("month").as_string(), "2025-12");

  // A new month starts with no days.
  clock_.AdvanceMillis(31 * 24 * kHourMs);
  const auto next = client_->Get("/api/v1/usage", Token("alice"));
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_TRUE(next.Json().at("days").as_array().empty());
  EXPECT_EQ(next.Json().at("months").as_array().size(), 2u);
}

TEST_F(ServerStatsTest, FunctionListShowsTheLast24HoursAndTheLastStatus) {
  const std::int64_t alice = Developer("alice");
  const std::string token = Token("alice");
  Deploy("busy", token);
  Deploy("quiet", token);
  Invocation(alice, "busy", kStart - 25 * kHourMs, InvocationState::kSucceeded, 1000);
  Invocation(alice, "busy", kStart - 2 * kHourMs, InvocationState::kSucceeded, 10);
  Invocation(alice, "busy", kStart - kHourMs, InvocationState::kSucceeded, 30);
  Invocation(alice, "busy", kStart - 1000, InvocationState::kFailed, 50);
  Invocation(alice, "busy", kStart - 500, InvocationState::kQueued);
  Invocation(alice, "quiet", kStart - 25 * kHourMs, InvocationState::kTimedOut, 5000);

  const auto listed = client_->Get("/api/v1/functions", token);
  ASSERT_EQ(listed.status, 200) << listed.body;
  const auto json = listed.Json();
  const auto& functions = json.at("functions").as_array();
  ASSERT_EQ(functions.size(), 2u);
  const auto& busy = functions[0].as_object();
  EXPECT_EQ(busy.at("name").as_string(), "busy");
  EXPECT_EQ(busy.at("stats_24h").at("invocations").as_int64(), 4);
  EXPECT_EQ(busy.at("stats_24h").at("errors").as_int64(), 1);
  EXPECT_DOUBLE_EQ(busy.at("stats_24h").at("avg_ms").as_double(), 30.0);
  EXPECT_EQ(busy.at("last_status").as_string(), "failed");
  // Nothing in the window, but a last status from before it.
  const auto& quiet = functions[1].as_object();
  EXPECT_EQ(quiet.at("stats_24h").at("invocations").as_int64(), 0);
  EXPECT_EQ(quiet.at("stats_24h").at("errors").as_int64(), 0);
  EXPECT_TRUE(quiet.at("stats_24h").at("avg_ms").is_null());
  EXPECT_EQ(quiet.at("last_status").as_string(), "timed_out");

  // Another user sees only their own.
  Developer("bob");
  const std::string bob = Token("bob");
  Deploy("busy", bob);
  const auto theirs = client_->Get("/api/v1/functions", bob);
  ASSERT_EQ(theirs.status, 200) << theirs.body;
  const auto theirs_json = theirs.Json();
  const auto& bobs = theirs_json.at("functions").as_array();
  ASSERT_EQ(bobs.size(), 1u);
  EXPECT_EQ(bobs[0].at("stats_24h").at("invocations").as_int64(), 0);
  EXPECT_TRUE(bobs[0].at("last_status").is_null());
}

TEST_F(ServerStatsTest, ChangingThePasswordEndsEverySessionAtItsAccessTokensExpiry) {
  Developer("alice");
  const auto laptop = Login("alice", "alice-password");
  const auto phone = Login("alice", "alice-password");
  ASSERT_EQ(laptop.status, 200);
  ASSERT_EQ(phone.status, 200);
  const std::string access(laptop.Json().at("access_token").as_string());
  const auto refresh = [&](const HttpResult& login) {
    return client_->PostJson(
        "/api/v1/auth/refresh",
        boost::json::serialize(boost::json::object{
            {"refresh_token", login.Json().at("refresh_token").as_string()}}));
  };
  const boost::json::object change{{"old_password", "alice-password"},
                                   {"new_password", "a-new-password"}};
  ASSERT_EQ(client_->PostJson("/api/v1/auth/password", boost::json::serialize(change), access)
                .status,
            204);
  EXPECT_EQ(refresh(laptop).status, 401);
  EXPECT_EQ(refresh(phone).status, 401);
  // The access token is a stateless JWT: good until it expires.
  EXPECT_EQ(client_->Get("/api/v1/auth/me", access).status, 200);
  clock_.AdvanceMillis(15 * 60 * 1000 + 1000);
  EXPECT_EQ(client_->Get("/api/v1/auth/me", access).status, 401);
  // A session started with the new password renews as usual.
  const auto fresh = Login("alice", "a-new-password");
  ASSERT_EQ(fresh.status, 200);
  EXPECT_EQ(refresh(fresh).status, 200);
}

TEST_F(ServerStatsTest, TheDatabaseFilesArePrivate) {
  Developer("alice");  // a write, so the WAL exists
  for (const char* name : {"milf.db", "milf.db-wal", "milf.db-shm"}) {
    struct stat info {};
    ASSERT_EQ(::stat((dir_.path() + "/" + name).c_str(), &info), 0) << name;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << name;
  }
}

}  // namespace
}  // namespace milf::server
