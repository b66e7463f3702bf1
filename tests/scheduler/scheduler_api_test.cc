// The scheduler's HTTP routes (docs/api.md): invoke (sync, async, batch),
// the invocation sink, schedules, usage and quotas.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "fixtures.h"
#include "server/scheduler.h"

namespace milf::server {
namespace {

using store::InvocationState;
using testing::Answer;
using testing::FakeNode;
using testing::Harness;

boost::json::object Body(const HttpResponse& response) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(response.body, ec);
  if (ec || !value.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << response.body;
    return {};
  }
  return value.as_object();
}

std::string ErrorCode(const HttpResponse& response) {
  const auto body = Body(response);
  if (!body.contains("error")) return "";
  return std::string(body.at("error").at("code").as_string());
}

std::string ErrorMessage(const HttpResponse& response) {
  const auto body = Body(response);
  if (!body.contains("error")) return "";
  return std::string(body.at("error").at("message").as_string());
}

std::optional<std::string> HeaderOf(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

class ApiTest : public ::testing::Test {
 protected:
  explicit ApiTest(SchedulerOptions options = Harness::Options())
      : h_(std::make_unique<Harness>(dir_.path() / "milf.db", options)) {
    user_ = h().AddUser("ada");
    other_ = h().AddUser("bob");
    admin_ = h().AddUser("root", store::Role::kAdmin);
    h().Deploy(user_, "fn");
  }

  Harness& h() { return *h_; }
  HttpResponse Get(const std::string& target, std::int64_t user = 0) {
    return h().Request(user == 0 ? user_ : user, "GET", target);
  }
  HttpResponse Post(const std::string& target, const std::string& body, std::int64_t user = 0) {
    return h().Request(user == 0 ? user_ : user, "POST", target, body);
  }
  HttpResponse SetQuota(const std::string& name, const std::string& body) {
    return h().Request(admin_, "PUT", "/api/v1/users/" + name + "/quota", body,
                       store::Role::kAdmin);
  }

  testing::TempDir dir_;
  std::unique_ptr<Harness> h_;
  std::int64_t user_ = 0;
  std::int64_t other_ = 0;
  std::int64_t admin_ = 0;
};

TEST_F(ApiTest, SyncInvokeAnswersWhenTheNodeFinishes) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  Answer answer = h().Call(user_, "POST", "/api/v1/functions/fn/invoke", "hello");
  const proto::Job job = a.AwaitJobs(1).at(0);
  EXPECT_EQ(job.input, (std::vector<std::uint8_t>{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_FALSE(answer.ready());

  a.SendStarted(job.invocation_id);
  EXPECT_FALSE(answer.ready());
  a.SendResult(job.invocation_id, "ok", "HELLO");
  const HttpResponse response = answer.Get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "HELLO");
  EXPECT_EQ(response.content_type, "application/octet-stream");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Invocation-Id"), job.invocation_id);
  EXPECT_EQ(HeaderOf(response, "X-Milf-Status"), "succeeded");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Run-Status"), "ok");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Duration-Ms"), "2500.000");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Fuel"), "1234");
  EXPECT_EQ(answer.calls(), 1);
}

TEST_F(ApiTest, SyncInvokeOfAFailedRunAnswers200WithItsStatus) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  Answer answer = h().Call(user_, "POST", "/api/v1/functions/fn/invoke", "");
  a.SendResult(a.AwaitJobs(1).at(0).invocation_id, "trap", "partial");
  const HttpResponse response = answer.Get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "partial");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Status"), "failed");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Run-Status"), "trap");
}

TEST_F(ApiTest, SyncInvokeWaitsPastTheTimeoutThenAnswers504) {
  h().Deploy(user_, "quick", 64, /*timeout_ms=*/1'000);
  Answer answer = h().Call(user_, "POST", "/api/v1/functions/quick/invoke", "");
  h().AwaitTicks();
  EXPECT_FALSE(answer.ready());
  h().clock.Advance(30'999);
  h().AwaitTicks();
  EXPECT_FALSE(answer.ready());
  h().clock.Advance(2);
  const HttpResponse response = answer.Get();
  EXPECT_EQ(response.status, 504);
  EXPECT_EQ(ErrorCode(response), "timeout");
  const auto id = HeaderOf(response, "X-Milf-Invocation-Id");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(Body(response).at("id").as_string(), *id);
  EXPECT_NE(ErrorMessage(response).find(*id), std::string::npos);

  // It still runs later; the request is not answered twice.
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  ASSERT_EQ(a.AwaitJobIds(1), std::vector<std::string>{*id});
  a.SendResult(*id);
  EXPECT_TRUE(h().WaitFinished(*id));
  EXPECT_EQ(h().Find(user_, *id).state, InvocationState::kSucceeded);
  EXPECT_EQ(answer.calls(), 1);
}

TEST_F(ApiTest, SyncWaitersAreAnsweredWhenTheSchedulerStops) {
  Answer answer = h().Call(user_, "POST", "/api/v1/functions/fn/invoke", "");
  EXPECT_FALSE(answer.ready());
  h().Stop();
  const HttpResponse response = answer.Get();
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(ErrorCode(response), "unavailable");
  EXPECT_TRUE(HeaderOf(response, "X-Milf-Invocation-Id").has_value());
}

class OneAttemptApiTest : public ApiTest {
 protected:
  static SchedulerOptions OneAttempt() {
    SchedulerOptions options = Harness::Options();
    options.max_attempts = 1;
    return options;
  }
  OneAttemptApiTest() : ApiTest(OneAttempt()) {}
};

TEST_F(OneAttemptApiTest, SyncInvokeOfALostJobAnswersFailed) {
  Answer answer = h().Call(user_, "POST", "/api/v1/functions/fn/invoke", "");
  {
    FakeNode a(h(), "node-a");
    a.SendHello(1);
    ASSERT_EQ(a.AwaitJobs(1).size(), 1u);
  }  // disconnects
  const HttpResponse response = answer.Get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderOf(response, "X-Milf-Status"), "failed");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Run-Status"), "lost");
}

TEST_F(ApiTest, SyncInvokeOfADeletedFunctionAnswersWhenNoticed) {
  Answer answer = h().Call(user_, "POST", "/api/v1/functions/fn/invoke", "");
  ASSERT_TRUE(h().store->DeleteFunction(user_, "fn").ok());
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const HttpResponse response = answer.Get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderOf(response, "X-Milf-Status"), "failed");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Run-Status"), "lost");
  EXPECT_TRUE(a.Jobs().empty());
  EXPECT_EQ(h().scheduler->gauges().slots_free, 1);
}

TEST_F(ApiTest, AsyncInvokeAnswers202WithTheId) {
  const HttpResponse response = Post("/api/v1/functions/fn/invoke?async=1", "x");
  EXPECT_EQ(response.status, 202);
  const auto body = Body(response);
  const std::string id(body.at("id").as_string());
  EXPECT_EQ(body.at("state").as_string(), "queued");
  EXPECT_EQ(HeaderOf(response, "X-Milf-Invocation-Id"), id);
  const store::Invocation stored = h().Find(user_, id);
  EXPECT_EQ(stored.state, InvocationState::kQueued);
  EXPECT_EQ(stored.input, std::vector<std::uint8_t>{'x'});
  EXPECT_EQ(stored.function_name, "fn");
  EXPECT_EQ(stored.version, 1);
}

TEST_F(ApiTest, InvokingAnUnknownOrForeignFunctionIs404) {
  EXPECT_EQ(Post("/api/v1/functions/nope/invoke", "").status, 404);
  EXPECT_EQ(Post("/api/v1/functions/NOPE!/invoke", "").status, 404);
  const HttpResponse foreign = Post("/api/v1/functions/fn/invoke?async=1", "", other_);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(ErrorCode(foreign), "not_found");
  EXPECT_EQ(Post("/api/v1/functions/fn/batch", R"({"inputs":[""]})", other_).status, 404);
}

TEST_F(ApiTest, OversizedInputIs413) {
  const HttpResponse response =
      Post("/api/v1/functions/fn/invoke?async=1", std::string(13u << 20, 'x'));
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(ErrorCode(response), "too_large");
}

TEST_F(ApiTest, ConcurrencyQuotaAnswers429NamingTheLimit) {
  ASSERT_EQ(SetQuota("ada", R"({"max_concurrent":1})").status, 204);
  const std::string first = h().InvokeAsync(user_, "fn");
  const HttpResponse refused = Post("/api/v1/functions/fn/invoke?async=1", "");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(ErrorCode(refused), "quota_exceeded");
  EXPECT_EQ(ErrorMessage(refused), "concurrent invocations: 1 of 1 in use");
  // Another user has their own quota.
  h().Deploy(other_, "fn");
  EXPECT_EQ(Post("/api/v1/functions/fn/invoke?async=1", "", other_).status, 202);

  // Finishing frees the slot.
  FakeNode a(h(), "node-a");
  a.SendHello(4);
  a.AwaitJobs(2);
  a.SendResult(first);
  ASSERT_TRUE(h().WaitFinished(first));
  EXPECT_EQ(Post("/api/v1/functions/fn/invoke?async=1", "").status, 202);
}

TEST_F(ApiTest, DailyAndMemoryQuotas) {
  ASSERT_EQ(SetQuota("ada", R"({"max_per_day":2,"max_memory_mb":32})").status, 204);
  const HttpResponse memory = Post("/api/v1/functions/fn/invoke?async=1", "");
  EXPECT_EQ(memory.status, 429);
  EXPECT_EQ(ErrorMessage(memory), "memory per function: 64 MB asked, 32 MB allowed");
  ASSERT_EQ(SetQuota("ada", R"({"max_memory_mb":64})").status, 204);
  const HttpResponse batch = Post("/api/v1/functions/fn/batch", R"({"inputs":["","",""]})");
  EXPECT_EQ(batch.status, 429);
  EXPECT_EQ(ErrorMessage(batch), "invocations per day: 0 of 2 used, 3 more requested");
  EXPECT_EQ(Post("/api/v1/functions/fn/batch", R"({"inputs":["",""]})").status, 202);
  EXPECT_EQ(ErrorMessage(Post("/api/v1/functions/fn/invoke?async=1", "")),
            "invocations per day: 2 of 2 used");
}

TEST_F(ApiTest, QuotaUpdatesAreValidated) {
  EXPECT_EQ(SetQuota("nobody", R"({"max_concurrent":1})").status, 404);
  EXPECT_EQ(ErrorCode(SetQuota("ada", "not json")), "invalid_json");
  EXPECT_EQ(SetQuota("ada", R"({"max_concurrent":-1})").status, 400);
  EXPECT_EQ(SetQuota("ada", R"({"max_concurrent":"many"})").status, 400);
  EXPECT_EQ(SetQuota("ada", R"({"max_bananas":1})").status, 400);
  ASSERT_EQ(SetQuota("ada", R"({"max_concurrent":7})").status, 204);
  auto quota = h().store->GetQuota(user_);
  ASSERT_TRUE(quota.ok());
  EXPECT_EQ(quota->max_concurrent, 7);
  EXPECT_EQ(quota->max_per_day, store::Quota{}.max_per_day);  // left out, kept
}

TEST_F(ApiTest, BatchEnqueuesOneInvocationPerInput) {
  FakeNode a(h(), "node-a");
  a.SendHello(8);
  const HttpResponse response =
      Post("/api/v1/functions/fn/batch", R"({"inputs":["aGk=","","eW8="]})");
  ASSERT_EQ(response.status, 202);
  const auto ids = Body(response).at("ids").as_array();
  ASSERT_EQ(ids.size(), 3u);
  const auto jobs = a.AwaitJobs(3);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].invocation_id, ids[0].as_string());
  EXPECT_EQ(jobs[0].input, (std::vector<std::uint8_t>{'h', 'i'}));
  EXPECT_TRUE(jobs[1].input.empty());
  EXPECT_EQ(jobs[2].input, (std::vector<std::uint8_t>{'y', 'o'}));
}

TEST_F(ApiTest, MalformedBatchesAre400) {
  EXPECT_EQ(ErrorCode(Post("/api/v1/functions/fn/batch", "{")), "invalid_json");
  EXPECT_EQ(ErrorCode(Post("/api/v1/functions/fn/batch", "[]")), "invalid_json");
  EXPECT_EQ(Post("/api/v1/functions/fn/batch", R"({"inputs":"aGk="})").status, 400);
  EXPECT_EQ(Post("/api/v1/functions/fn/batch", R"({"inputs":[]})").status, 400);
  EXPECT_EQ(Post("/api/v1/functions/fn/batch", R"({})").status, 400);
  const HttpResponse bad = Post("/api/v1/functions/fn/batch", R"({"inputs":["aGk=","***"]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorMessage(bad), "inputs[1] is not base64");
  EXPECT_EQ(Post("/api/v1/functions/fn/batch", R"({"inputs":["aGk=",7]})").status, 400);
  std::string many = R"({"inputs":[)";
  for (int i = 0; i < 1001; ++i) many += i == 0 ? R"("")" : R"(,"")";
  many += "]}";
  EXPECT_EQ(Post("/api/v1/functions/fn/batch", many).status, 400);
  // Nothing was enqueued by any of these.
  auto listed = h().store->ListInvocations(user_, store::InvocationFilter{});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(ApiTest, ListsNewestFirstWithCursorsAndFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(h().InvokeAsync(user_, "fn"));

  std::vector<std::string> seen;
  std::string target = "/api/v1/invocations?limit=3";
  for (int page = 0; page < 5; ++page) {
    const HttpResponse response = Get(target);
    ASSERT_EQ(response.status, 200) << response.body;
    const auto body = Body(response);
    for (const auto& item : body.at("invocations").as_array()) {
      seen.emplace_back(item.at("id").as_string());
      EXPECT_EQ(item.at("function").as_string(), "fn");
      EXPECT_EQ(item.at("state").as_string(), "queued");
      EXPECT_TRUE(item.at("result").is_null());
    }
    if (body.at("next").is_null()) break;
    target = "/api/v1/invocations?limit=3&after=" + std::string(body.at("next").as_string());
  }
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(seen.front(), ids.back());

  // Another user sees none of them.
  EXPECT_TRUE(Body(Get("/api/v1/invocations", other_)).at("invocations").as_array().empty());
  EXPECT_EQ(Body(Get("/api/v1/invocations?state=succeeded")).at("invocations").as_array().size(),
            0u);
  EXPECT_EQ(Body(Get("/api/v1/invocations?function=fn&state=queued&limit=1000"))
                .at("invocations")
                .as_array()
                .size(),
            7u);
  EXPECT_EQ(Body(Get("/api/v1/invocations?function=&state=&since=&until=&after=&limit="))
                .at("invocations")
                .as_array()
                .size(),
            7u);
  EXPECT_EQ(Get("/api/v1/invocations?state=sleeping").status, 400);
  EXPECT_EQ(Get("/api/v1/invocations?limit=0").status, 400);
  EXPECT_EQ(Get("/api/v1/invocations?limit=1001").status, 400);
  EXPECT_EQ(Get("/api/v1/invocations?limit=ten").status, 400);
  EXPECT_EQ(Get("/api/v1/invocations?since=yesterday").status, 400);
  EXPECT_EQ(Get("/api/v1/invocations?after=';DROP").status, 400);
  EXPECT_EQ(Get("/api/v1/invocations?colour=red").status, 400);
}

TEST_F(ApiTest, ShowsAnInvocationWithItsEventsOutputAndLogs) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn", "in");
  EXPECT_EQ(Get("/api/v1/invocations/" + id + "/output").status, 409);
  EXPECT_EQ(Get("/api/v1/invocations/" + id + "/logs").status, 409);
  a.SendStarted(id);
  a.SendResult(id, "ok", "out");
  ASSERT_TRUE(h().WaitFinished(id));

  const HttpResponse shown = Get("/api/v1/invocations/" + id);
  ASSERT_EQ(shown.status, 200);
  const auto body = Body(shown);
  EXPECT_EQ(body.at("id").as_string(), id);
  EXPECT_EQ(body.at("state").as_string(), "succeeded");
  EXPECT_EQ(body.at("attempts").as_int64(), 1);
  EXPECT_EQ(body.at("node_id").as_string(), "node-a");
  EXPECT_TRUE(body.at("finished_at").is_int64());
  const auto& result = body.at("result").as_object();
  EXPECT_EQ(result.at("status").as_string(), "ok");
  EXPECT_EQ(result.at("wall_ms").as_double(), 2500.0);
  EXPECT_EQ(result.at("fuel_used").to_number<std::int64_t>(), 1234);
  std::vector<std::string> states;
  for (const auto& event : body.at("events").as_array()) {
    states.emplace_back(event.at("state").as_string());
  }
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "dispatched", "running", "succeeded"}));

  const HttpResponse output = Get("/api/v1/invocations/" + id + "/output");
  EXPECT_EQ(output.status, 200);
  EXPECT_EQ(output.body, "out");
  EXPECT_EQ(output.content_type, "application/octet-stream");
  const auto logs = Body(Get("/api/v1/invocations/" + id + "/logs"));
  EXPECT_EQ(logs.at("stdout").as_string(), "out");
  EXPECT_EQ(logs.at("stderr").as_string(), "err");
  EXPECT_EQ(logs.at("encoding").as_string(), "utf8");

  // Another user, or an id that is no id, gets 404.
  EXPECT_EQ(Get("/api/v1/invocations/" + id, other_).status, 404);
  EXPECT_EQ(Get("/api/v1/invocations/" + id + "/output", other_).status, 404);
  EXPECT_EQ(Get("/api/v1/invocations/" + id + "/logs", other_).status, 404);
  EXPECT_EQ(Get("/api/v1/invocations/..%2F..%2Fetc").status, 404);
  EXPECT_EQ(Get("/api/v1/invocations/01HZZZZZZZZZZZZZZZZZZZZZZZ").status, 404);
}

TEST_F(ApiTest, BinaryLogsComeBase64) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  a.SendResult(id, "ok", std::string("\xff\xfe", 2));
  ASSERT_TRUE(h().WaitFinished(id));
  const auto logs = Body(Get("/api/v1/invocations/" + id + "/logs"));
  EXPECT_EQ(logs.at("encoding").as_string(), "base64");
  EXPECT_EQ(logs.at("stdout").as_string(), "//4=");
  EXPECT_EQ(logs.at("stderr").as_string(), "ZXJy");
}

TEST_F(ApiTest, UsageIsMeteredOnCompletion) {
  FakeNode a(h(), "node-a");
  a.SendHello(2);
  const std::string first = h().InvokeAsync(user_, "fn");
  const std::string second = h().InvokeAsync(user_, "fn");
  a.SendResult(first);  // 2.5 s at 64 MB, fuel 1234
  ASSERT_TRUE(h().WaitFinished(first));
  const auto usage = Body(Get("/api/v1/usage"));
  const auto& months = usage.at("months").as_array();
  ASSERT_EQ(months.size(), 1u);
  EXPECT_EQ(months[0].at("month").as_string(), "2024-01");
  EXPECT_EQ(months[0].at("invocations").as_int64(), 1);
  EXPECT_DOUBLE_EQ(months[0].at("compute_mb_seconds").as_double(), 160.0);
  EXPECT_EQ(months[0].at("fuel").to_number<std::int64_t>(), 1234);
  const auto& days = usage.at("days").as_array();
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(std::string(days[0].at("day").as_string()).substr(0, 8), "2024-01-");
  EXPECT_EQ(days[0].at("invocations").as_int64(), 1);
  EXPECT_DOUBLE_EQ(days[0].at("compute_mb_seconds").as_double(), 160.0);
  EXPECT_EQ(usage.at("today").at("invocations").as_int64(), 2);
  EXPECT_EQ(usage.at("active").as_int64(), 1);
  EXPECT_EQ(usage.at("quota").at("max_concurrent").as_int64(), 64);
  a.SendResult(second);
  ASSERT_TRUE(h().WaitFinished(second));
  const auto after = Body(Get("/api/v1/usage"));
  EXPECT_EQ(after.at("months").as_array()[0].at("invocations").as_int64(), 2);
  EXPECT_EQ(after.at("active").as_int64(), 0);
  EXPECT_TRUE(Body(Get("/api/v1/usage", other_)).at("months").as_array().empty());
}

TEST_F(ApiTest, SchedulesCanBeAddedListedAndRemoved) {
  const HttpResponse added =
      Post("/api/v1/functions/fn/schedules", R"({"cron":"*/5 * * * *","input":"aGk="})");
  ASSERT_EQ(added.status, 201) << added.body;
  const auto schedule = Body(added);
  EXPECT_EQ(schedule.at("cron").as_string(), "*/5 * * * *");
  EXPECT_EQ(schedule.at("next_fire_at").as_int64(), testing::kEpoch2024 + 5 * 60'000);
  EXPECT_EQ(schedule.at("input").as_string(), "aGk=");
  const std::int64_t id = schedule.at("id").as_int64();

  const auto listed = Body(Get("/api/v1/functions/fn/schedules")).at("schedules").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("id").as_int64(), id);
  EXPECT_EQ(Get("/api/v1/functions/fn/schedules", other_).status, 404);
  const std::string path = "/api/v1/functions/fn/schedules/" + std::to_string(id);
  EXPECT_EQ(h().Request(other_, "DELETE", path).status, 404);
  EXPECT_EQ(h().Request(user_, "DELETE", path).status, 204);
  EXPECT_EQ(h().Request(user_, "DELETE", path).status, 404);
  EXPECT_EQ(h().Request(user_, "DELETE", "/api/v1/functions/fn/schedules/x1").status, 404);
  EXPECT_TRUE(Body(Get("/api/v1/functions/fn/schedules")).at("schedules").as_array().empty());
}

TEST_F(ApiTest, BadSchedulesAre400) {
  const HttpResponse bad = Post("/api/v1/functions/fn/schedules", R"({"cron":"61 * * * *"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorMessage(bad), "cron: minute: 61 is out of range 0-59");
  EXPECT_EQ(Post("/api/v1/functions/fn/schedules", R"({"cron":5})").status, 400);
  EXPECT_EQ(Post("/api/v1/functions/fn/schedules", R"({})").status, 400);
  EXPECT_EQ(Post("/api/v1/functions/fn/schedules", "cron").status, 400);
  EXPECT_EQ(Post("/api/v1/functions/fn/schedules", R"({"cron":"* * * * *","input":"@@"})").status,
            400);
  EXPECT_EQ(Post("/api/v1/functions/nope/schedules", R"({"cron":"* * * * *"})").status, 404);
}

}  // namespace
}  // namespace milf::server
