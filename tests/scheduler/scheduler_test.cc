// The scheduler's placement, leases, retries, restart recovery and cron
// firing, driven through fake node channels and a manual clock.
#include "server/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "fixtures.h"

namespace milf::server {
namespace {

using store::InvocationState;
using testing::FakeNode;
using testing::Harness;
using testing::Telemetry;
using testing::WaitFor;

class SchedulerTest : public ::testing::Test {
 protected:
  explicit SchedulerTest(SchedulerOptions options = Harness::Options())
      : h_(std::make_unique<Harness>(dir_.path() / "milf.db", options)) {
    user_ = h().AddUser("ada");
    h().Deploy(user_, "fn");
  }

  Harness& h() { return *h_; }
  InvocationState State(const std::string& id) { return h().Find(user_, id).state; }
  bool WaitForState(const std::string& id, InvocationState state) {
    return WaitFor([&] { return State(id) == state; });
  }
  std::vector<std::string> EventDetails(const std::string& id) {
    std::vector<std::string> out;
    auto events = h().store->ListEvents(user_, id);
    EXPECT_TRUE(events.ok());
    for (const auto& event : *events) {
      out.push_back(store::StateName(event.state) + (event.detail.empty() ? "" : ": ") +
                    event.detail);
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Harness> h_;
  std::int64_t user_ = 0;
};

TEST_F(SchedulerTest, DispatchesOldestFirstWithinFreeSlots) {
  FakeNode a(h(), "node-a");
  a.SendHello(2);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(h().InvokeAsync(user_, "fn", "in" + std::to_string(i)));

  ASSERT_EQ(a.AwaitJobIds(2), (std::vector<std::string>{ids[0], ids[1]}));
  const proto::Job job = a.Jobs()[0];
  EXPECT_EQ(job.attempt, 1);
  EXPECT_EQ(job.module_sha256, h().module_sha256);
  EXPECT_EQ(job.module_size, h().module.size());
  EXPECT_EQ(job.input, (std::vector<std::uint8_t>{'i', 'n', '0'}));
  EXPECT_EQ(job.env, std::vector<std::string>{"GREETING=hi"});
  EXPECT_EQ(job.limits.memory_mb, 64);
  EXPECT_EQ(job.limits.timeout_ms, 5'000);
  EXPECT_EQ(State(ids[0]), InvocationState::kDispatched);
  EXPECT_EQ(State(ids[2]), InvocationState::kQueued);

  Gauges gauges = h().scheduler->gauges();
  EXPECT_EQ(gauges.queue_depth, 3);
  EXPECT_EQ(gauges.nodes_online, 1);
  EXPECT_EQ(gauges.slots_total, 2);
  EXPECT_EQ(gauges.slots_free, 0);

  a.SendStarted(ids[0]);
  EXPECT_TRUE(WaitForState(ids[0], InvocationState::kRunning));
  a.SendResult(ids[0], "ok", "out");
  EXPECT_TRUE(WaitForState(ids[0], InvocationState::kSucceeded));
  ASSERT_EQ(a.AwaitJobIds(3).size(), 3u);
  EXPECT_EQ(a.JobIds()[2], ids[2]);
  EXPECT_EQ(h().scheduler->gauges().queue_depth, 2);

  const store::Invocation done = h().Find(user_, ids[0]);
  EXPECT_EQ(done.node_id, "node-a");
  ASSERT_TRUE(done.result.has_value());
  EXPECT_EQ(done.result->status, "ok");
  EXPECT_EQ(std::string(done.result->output.begin(), done.result->output.end()), "out");
  EXPECT_EQ(done.result->fuel_used, 1234u);
}

TEST_F(SchedulerTest, HeartbeatSlotCountChangesCapacity) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  for (int i = 0; i < 4; ++i) h().InvokeAsync(user_, "fn");
  EXPECT_EQ(a.AwaitJobs(1).size(), 1u);
  a.SendHeartbeat(Telemetry(3));
  EXPECT_EQ(a.AwaitJobs(3).size(), 3u);
  EXPECT_EQ(h().scheduler->gauges().slots_total, 3);
}

TEST_F(SchedulerTest, NodeThatRefusesWorkGetsNone) {
  FakeNode a(h(), "node-a");
  a.SendHello(4);
  a.SendHeartbeat(Telemetry(4, /*accepting=*/false));
  const std::string id = h().InvokeAsync(user_, "fn");
  EXPECT_TRUE(a.Jobs().empty());
  EXPECT_EQ(h().scheduler->gauges().slots_free, 0);
  EXPECT_EQ(State(id), InvocationState::kQueued);

  a.SendHeartbeat(Telemetry(4, /*accepting=*/true));
  EXPECT_EQ(a.AwaitJobIds(1), std::vector<std::string>{id});
}

TEST_F(SchedulerTest, RejectedJobsAreRequeuedWithoutAnAttemptAndGoElsewhere) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_EQ(a.AwaitJobIds(1), std::vector<std::string>{id});
  FakeNode b(h(), "node-b");
  b.SendHello(1);
  // node-a turns the job down (its policy no longer admits work).
  a.SendResult(id, proto::kRejectedStatus);

  // Back in the queue, as if never dispatched, and placed on node-b: node-a
  // takes nothing until its next heartbeat says it admits work again.
  ASSERT_EQ(b.AwaitJobIds(1), std::vector<std::string>{id});
  EXPECT_EQ(b.Jobs()[0].attempt, 1);
  EXPECT_EQ(a.Jobs().size(), 1u);
  b.SendStarted(id);
  b.SendResult(id, "ok", "done");
  ASSERT_TRUE(h().WaitFinished(id));
  const store::Invocation done = h().Find(user_, id);
  EXPECT_EQ(done.state, InvocationState::kSucceeded);
  EXPECT_EQ(done.attempts, 1);
  EXPECT_EQ(done.node_id, "node-b");
  const std::vector<std::string> events = EventDetails(id);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0], "queued");
  EXPECT_EQ(events[1], "dispatched: attempt 1");
  EXPECT_EQ(events[2], "queued: returned unrun by the node: it went rejected");
  EXPECT_EQ(events[3], "dispatched: attempt 1");
  EXPECT_EQ(events[4], "running");
  EXPECT_EQ(events[5], "succeeded: ok");
}

TEST_F(SchedulerTest, ANodeThatRejectedAJobGetsWorkAfterItsNextHeartbeat) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_EQ(a.AwaitJobIds(1), std::vector<std::string>{id});
  a.SendResult(id, proto::kRejectedStatus);
  ASSERT_TRUE(WaitFor([&] { return h().scheduler->gauges().queue_depth == 1; }));
  EXPECT_EQ(State(id), InvocationState::kQueued);
  EXPECT_EQ(h().Find(user_, id).attempts, 0);
  EXPECT_EQ(h().scheduler->gauges().slots_free, 0);  // not admitting until it says so

  a.SendHeartbeat(Telemetry(1));
  ASSERT_EQ(a.AwaitJobIds(2), (std::vector<std::string>{id, id}));
  EXPECT_EQ(a.Jobs()[1].attempt, 1);
}

TEST_F(SchedulerTest, FunctionMemoryMustFitTheNode) {
  h().Deploy(user_, "big", /*memory_mb=*/512);
  FakeNode small(h(), "node-small");
  small.SendHello(4);
  small.SendHeartbeat(Telemetry(4, true, /*mem_free_mb=*/256));
  const std::string big = h().InvokeAsync(user_, "big");
  EXPECT_TRUE(small.Jobs().empty());
  // A small job behind the big one still runs.
  const std::string little = h().InvokeAsync(user_, "fn");
  EXPECT_EQ(small.AwaitJobIds(1), std::vector<std::string>{little});

  FakeNode roomy(h(), "node-roomy");
  roomy.SendHello(4);
  roomy.SendHeartbeat(Telemetry(4, true, /*mem_free_mb=*/4096));
  EXPECT_EQ(roomy.AwaitJobIds(1), std::vector<std::string>{big});
}

TEST_F(SchedulerTest, MemoryPlacedSinceTheLastHeartbeatCounts) {
  h().Deploy(user_, "big", /*memory_mb=*/512);
  FakeNode a(h(), "node-a");
  a.SendHello(4);
  a.SendHeartbeat(Telemetry(4, true, /*mem_free_mb=*/800));
  h().InvokeAsync(user_, "big");
  h().InvokeAsync(user_, "big");
  EXPECT_EQ(a.AwaitJobs(1).size(), 1u);  // 800 - 512 leaves no room for another
  // The node reports its memory again: the running job is in that figure.
  a.SendHeartbeat(Telemetry(4, true, /*mem_free_mb=*/600));
  EXPECT_EQ(a.AwaitJobs(2).size(), 2u);
}

TEST_F(SchedulerTest, PrefersNodesHoldingTheModule) {
  FakeNode plain(h(), "node-plain");
  plain.SendHello(2);
  FakeNode holder(h(), "node-holder");
  holder.SendHello(2, {}, {h().module_sha256});
  const std::string first = h().InvokeAsync(user_, "fn");
  const std::string second = h().InvokeAsync(user_, "fn");
  const std::string third = h().InvokeAsync(user_, "fn");
  EXPECT_EQ(holder.AwaitJobIds(2), (std::vector<std::string>{first, second}));
  EXPECT_EQ(plain.AwaitJobIds(1), std::vector<std::string>{third});
}

TEST_F(SchedulerTest, SpreadsLoadAcrossNodes) {
  FakeNode a(h(), "node-a");
  a.SendHello(4);
  FakeNode b(h(), "node-b");
  b.SendHello(4);
  for (int i = 0; i < 6; ++i) h().InvokeAsync(user_, "fn");
  EXPECT_EQ(a.AwaitJobs(3).size(), 3u);
  EXPECT_EQ(b.AwaitJobs(3).size(), 3u);
}

TEST_F(SchedulerTest, DisconnectRequeuesJobsWhichCompleteElsewhere) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_EQ(a.AwaitJobIds(1), std::vector<std::string>{id});
  a.SendStarted(id);
  a.Disconnect();
  EXPECT_EQ(State(id), InvocationState::kQueued);
  EXPECT_EQ(h().scheduler->gauges().nodes_online, 0);

  FakeNode b(h(), "node-b");
  b.SendHello(1);
  ASSERT_EQ(b.AwaitJobIds(1), std::vector<std::string>{id});
  EXPECT_EQ(b.Jobs()[0].attempt, 2);
  b.SendStarted(id);
  b.SendResult(id, "ok", "done");
  ASSERT_TRUE(WaitForState(id, InvocationState::kSucceeded));
  const store::Invocation done = h().Find(user_, id);
  EXPECT_EQ(done.state, InvocationState::kSucceeded);
  EXPECT_EQ(done.node_id, "node-b");
  EXPECT_EQ(done.attempts, 2);
  const auto details = EventDetails(id);
  EXPECT_TRUE(std::any_of(details.begin(), details.end(), [](const std::string& d) {
    return d.find("node disconnected") != std::string::npos;
  })) << ::testing::PrintToString(details);
}

TEST_F(SchedulerTest, MissedHeartbeatsExpireLeases) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_EQ(a.AwaitJobIds(1), std::vector<std::string>{id});
  // The node stops taking work, then goes silent.
  a.SendHeartbeat(Telemetry(1, /*accepting=*/false));
  FakeNode b(h(), "node-b");
  b.SendHello(1);
  EXPECT_TRUE(b.Jobs().empty());

  h().clock.Advance(h().options.lease_ms - 1);
  h().AwaitTicks();
  EXPECT_EQ(State(id), InvocationState::kDispatched);  // not yet
  b.SendHeartbeat(Telemetry(1));                       // b keeps its own (empty) leases alive
  h().clock.Advance(2);
  ASSERT_TRUE(b.WaitForJobs(1));
  EXPECT_EQ(b.AwaitJobIds(1), std::vector<std::string>{id});
  EXPECT_EQ(b.Jobs()[0].attempt, 2);

  // The silent node wakes up with a result: too late, it is not counted.
  a.SendResult(id, "ok", "stale");
  EXPECT_EQ(State(id), InvocationState::kDispatched);
  b.SendResult(id, "ok", "fresh");
  ASSERT_TRUE(WaitForState(id, InvocationState::kSucceeded));
  const store::Invocation done = h().Find(user_, id);
  EXPECT_EQ(done.state, InvocationState::kSucceeded);
  EXPECT_EQ(done.node_id, "node-b");
  EXPECT_EQ(std::string(done.result->output.begin(), done.result->output.end()), "fresh");
}

TEST_F(SchedulerTest, HeartbeatsKeepLeasesAlive) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  a.AwaitJobs(1);
  for (int i = 0; i < 5; ++i) {
    h().clock.Advance(h().options.lease_ms / 2);
    a.SendHeartbeat(Telemetry(1));
    h().AwaitTicks();
  }
  EXPECT_EQ(State(id), InvocationState::kDispatched);
  a.SendResult(id);
  EXPECT_TRUE(WaitForState(id, InvocationState::kSucceeded));
}

TEST_F(SchedulerTest, FailedRunsMapToFinalStates) {
  FakeNode a(h(), "node-a");
  a.SendHello(3);
  const std::string trap = h().InvokeAsync(user_, "fn");
  const std::string slow = h().InvokeAsync(user_, "fn");
  const std::string fine = h().InvokeAsync(user_, "fn");
  a.SendResult(trap, "trap");
  a.SendResult(slow, "timeout");
  a.SendResult(fine, "ok");
  for (const auto& id : {trap, slow, fine}) ASSERT_TRUE(h().WaitFinished(id));
  EXPECT_TRUE(WaitForState(trap, InvocationState::kFailed));
  EXPECT_TRUE(WaitForState(slow, InvocationState::kTimedOut));
  EXPECT_TRUE(WaitForState(fine, InvocationState::kSucceeded));
  const std::string metrics = h().metrics.RenderPrometheus();
  EXPECT_NE(metrics.find("milf_invocations_total{status=\"failed\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("milf_invocations_total{status=\"timed_out\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("milf_invocations_total{status=\"succeeded\"} 1"), std::string::npos);
}

TEST_F(SchedulerTest, ResultsForJobsNotOnThatNodeAreIgnored) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  FakeNode b(h(), "node-b");
  b.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_TRUE(WaitFor([&] { return a.Jobs().size() + b.Jobs().size() == 1; }));
  FakeNode& holder = a.Jobs().empty() ? b : a;
  FakeNode& other = a.Jobs().empty() ? a : b;
  other.SendStarted(id);
  other.SendResult(id, "ok", "forged");
  EXPECT_EQ(State(id), InvocationState::kDispatched);
  holder.SendResult(id, "ok", "real");
  EXPECT_TRUE(WaitForState(id, InvocationState::kSucceeded));
}

TEST_F(SchedulerTest, StoreFailureOnDispatchIsRetriedByTheTimer) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  h().store->failing_mark_dispatched = 1;
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_TRUE(a.WaitForJobs(1));
  EXPECT_EQ(a.AwaitJobIds(1), std::vector<std::string>{id});
  EXPECT_EQ(a.Jobs()[0].attempt, 1);
}

TEST_F(SchedulerTest, RunningJobsOfAnEarlierConnectionHoldSlots) {
  FakeNode a(h(), "node-a");
  const std::string ghost = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
  a.SendHello(2, {ghost});
  h().InvokeAsync(user_, "fn");
  h().InvokeAsync(user_, "fn");
  EXPECT_EQ(a.AwaitJobs(1).size(), 1u);
  a.SendResult(ghost);
  EXPECT_EQ(a.AwaitJobs(2).size(), 2u);
}

TEST_F(SchedulerTest, ASecondConnectionReplacesTheFirst) {
  FakeNode first(h(), "node-a");
  first.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_EQ(first.AwaitJobIds(1), std::vector<std::string>{id});

  FakeNode second(h(), "node-a");
  second.SendHello(1);
  EXPECT_TRUE(first.channel().closed());
  EXPECT_NE(first.channel().close_reason().find("replaced"), std::string::npos);
  // The job did not come with the new connection's hello: it runs again.
  ASSERT_EQ(second.AwaitJobIds(1), std::vector<std::string>{id});
  EXPECT_EQ(second.Jobs()[0].attempt, 2);
  // The old connection's close does not disturb the new one.
  first.Disconnect();
  EXPECT_EQ(h().scheduler->gauges().nodes_online, 1);
  second.SendResult(id);
  EXPECT_TRUE(WaitForState(id, InvocationState::kSucceeded));
}

TEST_F(SchedulerTest, AReconnectingNodeKeepsTheJobsItStillRuns) {
  FakeNode first(h(), "node-a");
  first.SendHello(2);
  const std::string kept = h().InvokeAsync(user_, "fn");
  const std::string lost = h().InvokeAsync(user_, "fn");
  first.SendStarted(kept);
  first.Disconnect();

  FakeNode again(h(), "node-a");
  again.SendHello(2, {kept});
  // Only the job the node no longer has is sent again.
  EXPECT_EQ(again.AwaitJobIds(1), std::vector<std::string>{lost});
  again.SendResult(kept, "ok", "kept");
  again.SendResult(lost, "ok", "lost");
  EXPECT_TRUE(WaitForState(kept, InvocationState::kSucceeded));
  EXPECT_TRUE(WaitForState(lost, InvocationState::kSucceeded));
}

TEST_F(SchedulerTest, PublishesInvocationAndNodeEvents) {
  std::mutex mutex;
  std::vector<Event> seen;
  const auto token = h().events.Subscribe(std::nullopt, [&](const Event& event) {
    std::lock_guard lock(mutex);
    seen.push_back(event);
  });
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  a.SendStarted(id);
  a.SendHeartbeat(Telemetry(1));
  a.SendResult(id, "ok");
  ASSERT_TRUE(h().WaitFinished(id));
  a.Disconnect();
  h().events.Unsubscribe(token);

  std::lock_guard lock(mutex);
  std::vector<std::string> states;
  std::vector<std::string> nodes;
  for (const Event& event : seen) {
    if (event.type == "invocation") {
      EXPECT_EQ(event.owner, user_);
      EXPECT_NE(event.json.find(id), std::string::npos);
      const auto at = event.json.find("\"state\":\"");
      states.push_back(event.json.substr(at + 9, event.json.find('"', at + 9) - at - 9));
    } else {
      EXPECT_EQ(event.type, "node");
      EXPECT_FALSE(event.owner.has_value());
      nodes.push_back(event.json);
    }
  }
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "dispatched", "running", "succeeded"}));
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_NE(nodes[0].find("\"online\":true"), std::string::npos);
  EXPECT_NE(nodes[1].find("\"telemetry\""), std::string::npos);
  EXPECT_NE(nodes[2].find("\"online\":false"), std::string::npos);
}

class RetryTest : public SchedulerTest {
 protected:
  static SchedulerOptions TwoAttempts() {
    SchedulerOptions options = Harness::Options();
    options.max_attempts = 2;
    return options;
  }
  RetryTest() : SchedulerTest(TwoAttempts()) {}
};

TEST_F(RetryTest, BoundedRetriesThenFailedWithTheReason) {
  const std::string id = h().InvokeAsync(user_, "fn");
  for (const char* node : {"node-a", "node-b"}) {
    FakeNode n(h(), node);
    n.SendHello(1);
    ASSERT_EQ(n.AwaitJobIds(1), std::vector<std::string>{id});
    n.Disconnect();
  }
  const store::Invocation failed = h().Find(user_, id);
  EXPECT_EQ(failed.state, InvocationState::kFailed);
  EXPECT_EQ(failed.attempts, 2);
  ASSERT_TRUE(failed.result.has_value());
  EXPECT_EQ(failed.result->status, "lost");
  EXPECT_NE(failed.result->message.find("node disconnected"), std::string::npos)
      << failed.result->message;
  // Nothing is left to place.
  FakeNode c(h(), "node-c");
  c.SendHello(1);
  EXPECT_TRUE(c.Jobs().empty());
  EXPECT_NE(h().metrics.RenderPrometheus().find("milf_invocations_total{status=\"failed\"} 1"),
            std::string::npos);
}

TEST_F(RetryTest, ExpiredLeasesAlsoCountAsAttempts) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_TRUE(a.WaitForJobs(1));
  h().clock.Advance(h().options.lease_ms + 1);
  ASSERT_TRUE(a.WaitForJobs(2));  // re-queued, and placed on the only node again
  EXPECT_EQ(a.Jobs()[1].attempt, 2);
  h().clock.Advance(h().options.lease_ms + 1);
  ASSERT_TRUE(WaitForState(id, InvocationState::kFailed));
  EXPECT_NE(h().Find(user_, id).result->message.find("lease expired"), std::string::npos);
}

TEST_F(RetryTest, RejectionsDoNotUseUpAttempts) {
  FakeNode a(h(), "node-a");
  a.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  for (std::size_t round = 1; round <= 3; ++round) {
    ASSERT_EQ(a.AwaitJobs(round).size(), round);
    EXPECT_EQ(a.Jobs().back().attempt, 1);
    a.SendResult(id, proto::kRejectedStatus);
    ASSERT_TRUE(WaitFor([&] { return h().scheduler->gauges().queue_depth == 1; }));
    a.SendHeartbeat(Telemetry(1));
  }
  ASSERT_EQ(a.AwaitJobs(4).size(), 4u);
  a.SendResult(id, "ok");
  ASSERT_TRUE(h().WaitFinished(id));
  EXPECT_EQ(State(id), InvocationState::kSucceeded);
}

TEST_F(SchedulerTest, RestartRequeuesJobsOfNodesThatReconnect) {
  FakeNode old(h(), "node-a");
  old.SendHello(1);
  const std::string running = h().InvokeAsync(user_, "fn");
  const std::string queued = h().InvokeAsync(user_, "fn");
  ASSERT_EQ(old.AwaitJobIds(1), std::vector<std::string>{running});

  h().Restart();
  EXPECT_EQ(State(running), InvocationState::kDispatched);
  EXPECT_EQ(h().scheduler->gauges().queue_depth, 1);  // loaded from the store

  FakeNode back(h(), "node-a");
  back.SendHello(2);  // it lost its job in the meantime
  const std::vector<std::string> jobs = back.AwaitJobIds(2);
  EXPECT_EQ(std::set<std::string>(jobs.begin(), jobs.end()),
            (std::set<std::string>{running, queued}));
  for (const std::string& id : back.JobIds()) back.SendResult(id);
  EXPECT_TRUE(WaitForState(running, InvocationState::kSucceeded));
  EXPECT_TRUE(WaitForState(queued, InvocationState::kSucceeded));
  EXPECT_EQ(h().Find(user_, running).attempts, 2);
}

TEST_F(SchedulerTest, RestartAdoptsJobsANodeStillRuns) {
  FakeNode old(h(), "node-a");
  old.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_EQ(old.AwaitJobIds(1), std::vector<std::string>{id});

  h().Restart();
  FakeNode back(h(), "node-a");
  back.SendHello(1, {id});
  EXPECT_TRUE(back.Jobs().empty());
  back.SendResult(id, "ok", "survived");
  ASSERT_TRUE(WaitForState(id, InvocationState::kSucceeded));
  const store::Invocation done = h().Find(user_, id);
  EXPECT_EQ(done.state, InvocationState::kSucceeded);
  EXPECT_EQ(std::string(done.result->output.begin(), done.result->output.end()), "survived");
}

TEST_F(SchedulerTest, RestartRequeuesJobsOfNodesThatNeverReturn) {
  FakeNode old(h(), "node-gone");
  old.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  ASSERT_EQ(old.AwaitJobIds(1), std::vector<std::string>{id});

  h().Restart();
  FakeNode other(h(), "node-b");
  other.SendHello(1);
  EXPECT_TRUE(other.Jobs().empty());  // the lease still runs
  h().clock.Advance(h().options.lease_ms + 1);
  ASSERT_TRUE(other.WaitForJobs(1));
  EXPECT_EQ(other.AwaitJobIds(1), std::vector<std::string>{id});
  other.SendResult(id);
  EXPECT_TRUE(WaitForState(id, InvocationState::kSucceeded));
}

TEST_F(SchedulerTest, LeasesThatRanOutWhileDownAreRequeuedAtStart) {
  FakeNode old(h(), "node-gone");
  old.SendHello(1);
  const std::string id = h().InvokeAsync(user_, "fn");
  h().Stop();
  h().clock.Advance(h().options.lease_ms * 3);
  h().Restart();
  EXPECT_EQ(State(id), InvocationState::kQueued);
  FakeNode other(h(), "node-b");
  other.SendHello(1);
  EXPECT_EQ(other.AwaitJobIds(1), std::vector<std::string>{id});
}

class CronFiringTest : public SchedulerTest {
 protected:
  // Every minute, starting at 2024-01-01 00:01 (the harness starts at 00:00:30).
  std::int64_t AddEveryMinute() {
    auto function = h().store->FindFunction(user_, "fn");
    EXPECT_TRUE(function.ok());
    store::Schedule schedule;
    schedule.function_id = function->id;
    schedule.owner_id = user_;
    schedule.cron = "* * * * *";
    schedule.input = {'t', 'i', 'c', 'k'};
    schedule.next_fire_at = testing::kEpoch2024 + 60'000;
    schedule.created_at = h().clock.NowMs();
    auto added = h().store->AddSchedule(schedule);
    EXPECT_TRUE(added.ok());
    function_id_ = function->id;
    return added->id;
  }
  std::vector<store::Invocation> Fired() {
    auto list = h().store->ListInvocations(user_, store::InvocationFilter{});
    EXPECT_TRUE(list.ok());
    return *list;
  }
  store::Millis NextFire() {
    auto schedules = h().store->ListSchedules(user_, function_id_);
    EXPECT_TRUE(schedules.ok() && schedules->size() == 1);
    return schedules->front().next_fire_at;
  }
  std::int64_t function_id_ = 0;
};

TEST_F(CronFiringTest, EachTickFiresOnceEvenAcrossRestarts) {
  const std::int64_t schedule = AddEveryMinute();
  h().AwaitTicks();
  EXPECT_TRUE(Fired().empty());

  h().clock.Advance(40'000);  // 00:01:10
  ASSERT_TRUE(WaitFor([&] { return Fired().size() == 1; }));
  const store::Invocation fired = h().Find(user_, Fired()[0].id);
  EXPECT_EQ(fired.schedule_id, schedule);
  EXPECT_EQ(fired.input, (std::vector<std::uint8_t>{'t', 'i', 'c', 'k'}));
  EXPECT_EQ(NextFire(), testing::kEpoch2024 + 120'000);
  h().AwaitTicks();
  EXPECT_EQ(Fired().size(), 1u);

  h().Restart();
  h().AwaitTicks();
  EXPECT_EQ(Fired().size(), 1u);

  // Down from 00:01:10 to 00:05:30: the missed ticks fire once, not four times.
  h().Stop();
  h().clock.Advance(260'000);
  h().Restart();
  h().AwaitTicks();
  EXPECT_EQ(Fired().size(), 2u);
  EXPECT_EQ(NextFire(), testing::kEpoch2024 + 360'000);

  // A fired invocation runs like any other.
  FakeNode a(h(), "node-a");
  a.SendHello(2);
  EXPECT_EQ(a.AwaitJobs(2).size(), 2u);
}

}  // namespace
}  // namespace milf::server
