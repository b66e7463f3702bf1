// End to end under failure: a node killed with SIGKILL in the middle of a
// job, and the server killed with SIGKILL with work queued and running.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/json.h"
#include "e2e_support.h"

namespace milf::e2e {
namespace {

using client::GetArray;
using client::GetInt;
using client::GetString;

constexpr milliseconds kJobTimeout{60'000};

std::string InvokeAsync(client::ApiClient& api, const std::string& function, const std::string& input) {
  client::HttpRequest request;
  request.method = "POST";
  request.target = "/functions/" + function + "/invoke?async=1";
  request.body = input;
  auto response = api.Call(request);
  if (!response) {
    ADD_FAILURE() << response.error().message;
    return "";
  }
  EXPECT_EQ(response->status, 202);
  return GetString(*client::ParseJson(response->body), "id");
}

TEST(FaultsTest, AJobOnANodeKilledMidRunCompletesOnTheOtherNode) {
  Cluster cluster;
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const std::string first = cluster.StartNode("n1", 1);
  const std::string second = cluster.StartNode("n2", 1);
  ASSERT_FALSE(first.empty() || second.empty());
  cluster.Deploy(cluster.admin(), "sleeper", SleeperPath(), "?timeout_ms=30000");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  const std::string id = InvokeAsync(cluster.admin(), "sleeper", "2000");
  std::string victim_id;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto record = cluster.admin().CallJson("GET", "/invocations/" + id);
        if (!record || GetString(*record, "state") != "running") return false;
        victim_id = GetString(*record, "node_id");
        return true;
      },
      milliseconds(30'000)))
      << "the job never started running";
  const std::string victim = victim_id == first ? "n1" : "n2";
  const std::string survivor_id = victim_id == first ? second : first;
  cluster.node(victim).Signal(SIGKILL);
  ASSERT_TRUE(cluster.node(victim).WaitExit(milliseconds(10'000)));

  const auto record = cluster.WaitFinished(cluster.admin(), id, kJobTimeout);
  EXPECT_EQ(GetString(record, "state"), "succeeded") << boost::json::serialize(record);
  EXPECT_EQ(GetString(record, "node_id"), survivor_id);
  EXPECT_EQ(GetInt(record, "attempts"), 2);
  bool requeued = false;
  bool dispatched_to_victim = false;
  for (const auto& event : GetArray(record, "events")) {
    if (GetString(event, "state") == "dispatched" && GetString(event, "node_id") == victim_id) {
      dispatched_to_victim = true;
    }
    if (dispatched_to_victim && GetString(event, "state") == "queued") requeued = true;
  }
  EXPECT_TRUE(requeued) << boost::json::serialize(record);

  client::HttpRequest request;
  request.target = "/invocations/" + id + "/output";
  auto output = cluster.admin().Call(request);
  ASSERT_TRUE(output);
  EXPECT_EQ(output->body, "slept 2000 ms\n");
}

TEST(FaultsTest, AServerKilledWithWorkQueuedLosesNothing) {
  Cluster cluster;
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ASSERT_FALSE(cluster.StartNode("n1", 2).empty());
  cluster.Deploy(cluster.admin(), "sleeper", SleeperPath(), "?timeout_ms=30000");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(InvokeAsync(cluster.admin(), "sleeper", "400"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto running = cluster.admin().CallJson("GET", "/invocations?state=running");
        return running && !GetArray(*running, "invocations").empty();
      },
      milliseconds(30'000)));
  cluster.KillServer();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  cluster.RestartServer();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  for (const std::string& id : ids) {
    const auto record = cluster.WaitFinished(cluster.admin(), id, kJobTimeout);
    EXPECT_EQ(GetString(record, "state"), "succeeded") << boost::json::serialize(record);
  }
  auto all = cluster.admin().CallJson("GET", "/invocations?function=sleeper&limit=100");
  ASSERT_TRUE(all);
  EXPECT_EQ(GetArray(*all, "invocations").size(), ids.size());
  EXPECT_TRUE(cluster.server().running());
}

}  // namespace
}  // namespace milf::e2e
