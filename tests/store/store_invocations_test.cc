// Invocations: the queue, transitions and their events, leases, retries,
// listing, retention and cron firing.
#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "store/ids.h"
#include "store_fixture.h"

namespace milf::store::testing {
namespace {

class InvocationsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    alice_ = AddUser("alice");
    bob_ = AddUser("bob");
    fn_ = Deploy(alice_.id, "fn");
  }

  InvocationResult Result(const std::string& status = "ok") {
    InvocationResult result;
    result.status = status;
    result.exit_code = 3;
    result.message = "done";
    result.fuel_used = 1234;
    result.peak_memory_bytes = 65536;
    result.wall_micros = 777;
    result.output = Bytes("output bytes");
    result.stderr_data = {0, 1, 2, 255};
    result.output_truncated = true;
    result.output_sha256 = "abc123";
    return result;
  }

  std::vector<InvocationState> EventStates(const std::string& id) {
    std::vector<InvocationState> states;
    auto events = store_->ListEvents(alice_.id, id);
    EXPECT_TRUE(events.ok());
    if (events.ok()) {
      for (const auto& event : *events) states.push_back(event.state);
    }
    return states;
  }

  User alice_;
  User bob_;
  FunctionVersion fn_;
};

using State = InvocationState;

TEST_F(InvocationsTest, EnqueuedInvocationIsQueuedWithItsEvent) {
  Invocation invocation = MakeInvocation(fn_, alice_.id, "inv-1", 1'000, "hello input");
  invocation.state = State::kSucceeded;  // ignored: enqueued means queued
  invocation.attempts = 9;
  MILF_ASSERT_OK(store_->EnqueueInvocations({invocation}));
  auto found = store_->FindInvocation(alice_.id, "inv-1");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->state, State::kQueued);
  EXPECT_EQ(found->attempts, 0);
  EXPECT_EQ(found->owner_id, alice_.id);
  EXPECT_EQ(found->function_id, fn_.function_id);
  EXPECT_EQ(found->function_name, "fn");
  EXPECT_EQ(found->version, 1);
  EXPECT_EQ(found->input, Bytes("hello input"));
  EXPECT_EQ(found->queued_at, 1'000);
  EXPECT_FALSE(found->node_id || found->dispatched_at || found->started_at ||
               found->finished_at || found->lease_deadline || found->result || found->schedule_id);
  auto events = store_->ListEvents(alice_.id, "inv-1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].state, State::kQueued);
  EXPECT_EQ((*events)[0].at, 1'000);
  EXPECT_EQ((*events)[0].node_id, std::nullopt);
}

TEST_F(InvocationsTest, EnqueueIsAllOrNothing) {
  MILF_ASSERT_OK(store_->EnqueueInvocations({}));
  Enqueue(fn_, alice_.id, "existing");
  const std::vector<Invocation> duplicate = {MakeInvocation(fn_, alice_.id, "new-1", 1),
                                             MakeInvocation(fn_, alice_.id, "existing", 1)};
  EXPECT_EQ(CodeOf(store_->EnqueueInvocations(duplicate)), "conflict");
  EXPECT_EQ(CodeOf(store_->FindInvocation(alice_.id, "new-1")), "not_found");

  Invocation unknown_function = MakeInvocation(fn_, alice_.id, "new-2", 1);
  unknown_function.function_id = 9'999;
  EXPECT_EQ(CodeOf(store_->EnqueueInvocations(
                {MakeInvocation(fn_, alice_.id, "new-3", 1), unknown_function})),
            "not_found");
  EXPECT_EQ(CodeOf(store_->FindInvocation(alice_.id, "new-3")), "not_found");

  Invocation unknown_version = MakeInvocation(fn_, alice_.id, "new-4", 1);
  unknown_version.version = 2;
  EXPECT_EQ(CodeOf(store_->EnqueueInvocations({unknown_version})), "not_found");

  // Bob cannot enqueue against Alice's function under his own name.
  EXPECT_EQ(CodeOf(store_->EnqueueInvocations({MakeInvocation(fn_, bob_.id, "new-5", 1)})),
            "not_found");
  Invocation no_id = MakeInvocation(fn_, alice_.id, "", 1);
  EXPECT_EQ(CodeOf(store_->EnqueueInvocations({no_id})), "invalid_argument");
  EXPECT_EQ(store_->ListQueued(100)->size(), 1u);
}

TEST_F(InvocationsTest, FullLifecycleRecordsEveryTransition) {
  Enqueue(fn_, alice_.id, "inv", 1'000);
  MILF_ASSERT_OK(store_->MarkDispatched("inv", "node-a", 11'000, 1'001));
  auto dispatched = store_->FindInvocation(alice_.id, "inv");
  ASSERT_TRUE(dispatched.ok());
  EXPECT_EQ(dispatched->state, State::kDispatched);
  EXPECT_EQ(dispatched->node_id, "node-a");
  EXPECT_EQ(dispatched->attempts, 1);
  EXPECT_EQ(dispatched->dispatched_at, 1'001);
  EXPECT_EQ(dispatched->lease_deadline, 11'000);

  MILF_ASSERT_OK(store_->MarkRunning("inv", 12'000, 1'002));
  auto running = store_->FindInvocation(alice_.id, "inv");
  EXPECT_EQ(running->state, State::kRunning);
  EXPECT_EQ(running->started_at, 1'002);
  EXPECT_EQ(running->lease_deadline, 12'000);

  InvocationResult result = Result();
  result.fuel_used = (std::uint64_t{1} << 63) + 9;  // survives the int64 column
  MILF_ASSERT_OK(store_->Complete("inv", "node-a", State::kSucceeded, result, 1'003));
  auto done = store_->FindInvocation(alice_.id, "inv");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, State::kSucceeded);
  EXPECT_EQ(done->finished_at, 1'003);
  EXPECT_EQ(done->lease_deadline, std::nullopt);
  ASSERT_TRUE(done->result);
  EXPECT_EQ(done->result->status, "ok");
  EXPECT_EQ(done->result->exit_code, 3);
  EXPECT_EQ(done->result->message, "done");
  EXPECT_EQ(done->result->fuel_used, result.fuel_used);
  EXPECT_EQ(done->result->peak_memory_bytes, 65536u);
  EXPECT_EQ(done->result->wall_micros, 777);
  EXPECT_EQ(done->result->output, Bytes("output bytes"));
  EXPECT_EQ(done->result->stderr_data, (std::vector<std::uint8_t>{0, 1, 2, 255}));
  EXPECT_TRUE(done->result->output_truncated);
  EXPECT_FALSE(done->result->stderr_truncated);
  EXPECT_EQ(done->result->output_sha256, "abc123");

  auto events = store_->ListEvents(alice_.id, "inv");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ(EventStates("inv"), (std::vector<State>{State::kQueued, State::kDispatched,
                                                    State::kRunning, State::kSucceeded}));
  EXPECT_EQ((*events)[1].node_id, "node-a");
  EXPECT_EQ((*events)[1].detail, "attempt 1");
  EXPECT_EQ((*events)[2].node_id, "node-a");
  EXPECT_EQ((*events)[3].at, 1'003);
  EXPECT_EQ((*events)[3].detail, "ok: done");
}

TEST_F(InvocationsTest, CompleteStraightFromDispatched) {
  Enqueue(fn_, alice_.id, "quick");
  MILF_ASSERT_OK(store_->MarkDispatched("quick", "n", 5'000, 2'000));
  MILF_ASSERT_OK(store_->Complete("quick", "n", State::kTimedOut, Result("timeout"), 2'500));
  auto found = store_->FindInvocation(alice_.id, "quick");
  EXPECT_EQ(found->state, State::kTimedOut);
  EXPECT_EQ(found->started_at, std::nullopt);
  EXPECT_EQ(EventStates("quick"),
            (std::vector<State>{State::kQueued, State::kDispatched, State::kTimedOut}));
}

TEST_F(InvocationsTest, StaleTransitionsAreConflicts) {
  Enqueue(fn_, alice_.id, "inv");
  EXPECT_EQ(CodeOf(store_->MarkRunning("inv", 1, 1)), "conflict");
  EXPECT_EQ(CodeOf(store_->Complete("inv", "n", State::kSucceeded, Result(), 1)), "conflict");
  MILF_ASSERT_OK(store_->MarkDispatched("inv", "n", 10'000, 1));
  EXPECT_EQ(CodeOf(store_->MarkDispatched("inv", "n", 10'000, 2)), "conflict");
  EXPECT_EQ(CodeOf(store_->MarkDispatched("inv", "other", 10'000, 2)), "conflict");
  EXPECT_EQ(CodeOf(store_->Complete("inv", "other", State::kSucceeded, Result(), 3)), "conflict");
  MILF_ASSERT_OK(store_->MarkRunning("inv", 10'000, 3));
  EXPECT_EQ(CodeOf(store_->MarkRunning("inv", 10'000, 3)), "conflict");
  EXPECT_EQ(CodeOf(store_->Complete("inv", "n", State::kRunning, Result(), 4)), "invalid_argument");
  MILF_ASSERT_OK(store_->Complete("inv", "n", State::kFailed, Result("trap"), 4));
  EXPECT_EQ(CodeOf(store_->Complete("inv", "n", State::kSucceeded, Result(), 5)), "conflict");
  EXPECT_EQ(store_->FindInvocation(alice_.id, "inv")->state, State::kFailed);
  // Refused transitions left no events behind.
  EXPECT_EQ(EventStates("inv").size(), 4u);

  EXPECT_EQ(CodeOf(store_->MarkDispatched("ghost", "n", 1, 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->MarkRunning("ghost", 1, 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->Complete("ghost", "n", State::kSucceeded, Result(), 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->MarkDispatched("inv", "", 1, 1)), "invalid_argument");
}

TEST_F(InvocationsTest, BatchedTransitionsEachSucceedOrFailAlone) {
  for (const char* id : {"a", "b", "c"}) Enqueue(fn_, alice_.id, id);
  using Kind = Store::Transition::Kind;
  auto dispatch = [](const std::string& id, const std::string& node) {
    Store::Transition t;
    t.kind = Kind::kDispatch;
    t.id = id;
    t.node_id = node;
    t.lease_deadline = 9'000;
    return t;
  };
  auto start = [](const std::string& id) {
    Store::Transition t;
    t.kind = Kind::kStart;
    t.id = id;
    t.lease_deadline = 9'500;
    return t;
  };
  auto complete = [&](const std::string& id, const std::string& node, State state) {
    Store::Transition t;
    t.kind = Kind::kComplete;
    t.id = id;
    t.node_id = node;
    t.final_state = state;
    t.result = Result();
    return t;
  };
  const std::vector<Store::Transition> batch = {
      dispatch("a", "n1"),                      // ok
      dispatch("b", "n2"),                      // ok
      start("a"),                               // ok: sees the dispatch above
      complete("a", "n1", State::kSucceeded),   // ok
      dispatch("a", "n1"),                      // conflict: already finished
      complete("b", "n1", State::kSucceeded),   // conflict: b is on n2
      complete("ghost", "n1", State::kFailed),  // not_found
      complete("b", "n2", State::kRunning),     // invalid_argument
      dispatch("c", ""),                        // invalid_argument
      complete("b", "n2", State::kTimedOut),    // ok
  };
  auto outcomes = store_->ApplyTransitions(batch, 5'000);
  ASSERT_TRUE(outcomes.ok()) << outcomes.error().message;
  std::vector<std::string> codes;
  for (const Status& outcome : *outcomes) codes.push_back(CodeOf(outcome));
  EXPECT_EQ(codes, (std::vector<std::string>{"ok", "ok", "ok", "ok", "conflict", "conflict",
                                             "not_found", "invalid_argument", "invalid_argument",
                                             "ok"}));
  EXPECT_EQ(store_->FindInvocation(alice_.id, "a")->state, State::kSucceeded);
  EXPECT_EQ(store_->FindInvocation(alice_.id, "b")->state, State::kTimedOut);
  EXPECT_EQ(store_->FindInvocation(alice_.id, "c")->state, State::kQueued);
  EXPECT_EQ(EventStates("a"), (std::vector<State>{State::kQueued, State::kDispatched,
                                                  State::kRunning, State::kSucceeded}));
  EXPECT_EQ(EventStates("b"),
            (std::vector<State>{State::kQueued, State::kDispatched, State::kTimedOut}));
  EXPECT_EQ(EventStates("c"), (std::vector<State>{State::kQueued}));
  EXPECT_TRUE(store_->ApplyTransitions({}, 1)->empty());

  // The interface's one-by-one default gives the same answers.
  const std::vector<Store::Transition> again = {dispatch("c", "n3"), start("c"),
                                                complete("c", "n9", State::kSucceeded),
                                                complete("c", "n3", State::kSucceeded)};
  auto defaults = store_->Store::ApplyTransitions(again, 6'000);
  ASSERT_TRUE(defaults.ok());
  codes.clear();
  for (const Status& outcome : *defaults) codes.push_back(CodeOf(outcome));
  EXPECT_EQ(codes, (std::vector<std::string>{"ok", "ok", "conflict", "ok"}));
}

TEST_F(InvocationsTest, ListQueuedIsOldestFirstAndSkipsLeased) {
  Enqueue(fn_, alice_.id, "c", 300);
  Enqueue(fn_, alice_.id, "a", 100);
  Enqueue(fn_, alice_.id, "b", 200);
  Enqueue(fn_, alice_.id, "d", 400);
  MILF_ASSERT_OK(store_->MarkDispatched("b", "n", 9'000, 500));
  auto queued = store_->ListQueued(10);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 3u);
  EXPECT_EQ((*queued)[0].id, "a");
  EXPECT_EQ((*queued)[1].id, "c");
  EXPECT_EQ((*queued)[2].id, "d");
  EXPECT_EQ((*queued)[0].input, Bytes("in"));  // the dispatcher needs the input
  EXPECT_EQ(store_->ListQueued(2)->size(), 2u);
  EXPECT_TRUE(store_->ListQueued(0)->empty());
}

TEST_F(InvocationsTest, ExtendLeasesOnlyForThatNodeAndNeverShortens) {
  Enqueue(fn_, alice_.id, "on-a");
  Enqueue(fn_, alice_.id, "on-b");
  Enqueue(fn_, alice_.id, "done-on-a");
  MILF_ASSERT_OK(store_->MarkDispatched("on-a", "a", 1'000, 1));
  MILF_ASSERT_OK(store_->MarkDispatched("on-b", "b", 1'000, 1));
  MILF_ASSERT_OK(store_->MarkDispatched("done-on-a", "a", 1'000, 1));
  MILF_ASSERT_OK(store_->Complete("done-on-a", "a", State::kSucceeded, Result(), 2));
  MILF_ASSERT_OK(store_->ExtendLeases("a", 5'000));
  EXPECT_EQ(store_->FindInvocation(alice_.id, "on-a")->lease_deadline, 5'000);
  EXPECT_EQ(store_->FindInvocation(alice_.id, "on-b")->lease_deadline, 1'000);
  EXPECT_EQ(store_->FindInvocation(alice_.id, "done-on-a")->lease_deadline, std::nullopt);
  MILF_ASSERT_OK(store_->ExtendLeases("a", 3'000));
  EXPECT_EQ(store_->FindInvocation(alice_.id, "on-a")->lease_deadline, 5'000);
}

TEST_F(InvocationsTest, ExpiredLeasesAreRetriedThenFailedAsLost) {
  Enqueue(fn_, alice_.id, "flaky");
  const int kMaxAttempts = 2;

  MILF_ASSERT_OK(store_->MarkDispatched("flaky", "n1", 1'000, 100));
  MILF_ASSERT_OK(store_->MarkRunning("flaky", 1'000, 110));
  // A lease is live up to its deadline.
  auto none = store_->RequeueExpired(1'000, kMaxAttempts, "lease expired");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->requeued.empty() && none->failed.empty());

  auto first = store_->RequeueExpired(1'001, kMaxAttempts, "lease expired");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->requeued, std::vector<std::string>{"flaky"});
  EXPECT_TRUE(first->failed.empty());
  auto requeued = store_->FindInvocation(alice_.id, "flaky");
  EXPECT_EQ(requeued->state, State::kQueued);
  EXPECT_EQ(requeued->attempts, 1);
  EXPECT_EQ(requeued->node_id, std::nullopt);
  EXPECT_EQ(requeued->dispatched_at, std::nullopt);
  EXPECT_EQ(requeued->started_at, std::nullopt);
  EXPECT_EQ(requeued->lease_deadline, std::nullopt);
  EXPECT_EQ(store_->ListQueued(10)->size(), 1u);
  // The node that lost the lease can no longer complete it.
  EXPECT_EQ(CodeOf(store_->Complete("flaky", "n1", State::kSucceeded, Result(), 1'002)),
            "conflict");

  MILF_ASSERT_OK(store_->MarkDispatched("flaky", "n2", 3'000, 2'000));
  EXPECT_EQ(store_->FindInvocation(alice_.id, "flaky")->attempts, 2);
  auto second = store_->RequeueExpired(3'001, kMaxAttempts, "lease expired");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->requeued.empty());
  EXPECT_EQ(second->failed, std::vector<std::string>{"flaky"});

  auto failed = store_->FindInvocation(alice_.id, "flaky");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->state, State::kFailed);
  EXPECT_EQ(failed->finished_at, 3'001);
  EXPECT_EQ(failed->node_id, "n2");
  ASSERT_TRUE(failed->result);
  EXPECT_EQ(failed->result->status, "lost");
  EXPECT_EQ(failed->result->message, "lease expired");
  EXPECT_TRUE(store_->ListQueued(10)->empty());
  EXPECT_EQ(EventStates("flaky"),
            (std::vector<State>{State::kQueued, State::kDispatched, State::kRunning,
                                State::kQueued, State::kDispatched, State::kFailed}));
  auto events = store_->ListEvents(alice_.id, "flaky");
  EXPECT_EQ((*events)[3].node_id, "n1");
  EXPECT_NE((*events)[3].detail.find("lease expired"), std::string::npos);
  EXPECT_NE((*events)[5].detail.find("lease expired"), std::string::npos);
  // Nothing is leased any more.
  auto after = store_->RequeueExpired(1'000'000, kMaxAttempts, "lease expired");
  EXPECT_TRUE(after->requeued.empty() && after->failed.empty());
}

TEST_F(InvocationsTest, RequeueNodeTakesOnlyThatNodesWork) {
  for (const char* id : {"a1", "a2", "b1", "q"}) Enqueue(fn_, alice_.id, id);
  MILF_ASSERT_OK(store_->MarkDispatched("a1", "node-a", 99'000, 1));
  MILF_ASSERT_OK(store_->MarkDispatched("a2", "node-a", 99'000, 1));
  MILF_ASSERT_OK(store_->MarkRunning("a2", 99'000, 2));
  MILF_ASSERT_OK(store_->MarkDispatched("b1", "node-b", 99'000, 1));
  auto outcome = store_->RequeueNode("node-a", 10, 3, "node disconnected");
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(std::set<std::string>(outcome->requeued.begin(), outcome->requeued.end()),
            (std::set<std::string>{"a1", "a2"}));
  EXPECT_TRUE(outcome->failed.empty());
  EXPECT_EQ(store_->FindInvocation(alice_.id, "b1")->state, State::kDispatched);
  EXPECT_EQ(store_->ListQueued(10)->size(), 3u);

  // With one attempt allowed, a second loss fails it at once.
  MILF_ASSERT_OK(store_->MarkDispatched("a1", "node-b", 99'000, 20));
  auto final_loss = store_->RequeueNode("node-b", 30, 1, "node disconnected");
  ASSERT_TRUE(final_loss.ok());
  EXPECT_EQ(std::set<std::string>(final_loss->failed.begin(), final_loss->failed.end()),
            (std::set<std::string>{"a1", "b1"}));
  EXPECT_EQ(store_->FindInvocation(alice_.id, "a1")->result->status, "lost");
  EXPECT_EQ(store_->FindInvocation(alice_.id, "a1")->result->message, "node disconnected");

  EXPECT_EQ(CodeOf(store_->RequeueNode("node-a", 1, 0, "x")), "invalid_argument");
  EXPECT_EQ(CodeOf(store_->RequeueExpired(1, -1, "x")), "invalid_argument");
}

TEST_F(InvocationsTest, CountsActiveAndRecent) {
  Enqueue(fn_, alice_.id, "old", 100);
  Enqueue(fn_, alice_.id, "mid", 200);
  Enqueue(fn_, alice_.id, "new", 300);
  MILF_ASSERT_OK(store_->MarkDispatched("old", "n", 9'000, 1));
  MILF_ASSERT_OK(store_->Complete("old", "n", State::kSucceeded, Result(), 2));
  MILF_ASSERT_OK(store_->MarkDispatched("mid", "n", 9'000, 3));
  EXPECT_EQ(*store_->CountActive(alice_.id), 2);
  EXPECT_EQ(*store_->CountSince(alice_.id, 200), 2);
  EXPECT_EQ(*store_->CountSince(alice_.id, 0), 3);
  EXPECT_EQ(*store_->CountSince(alice_.id, 301), 0);
  EXPECT_EQ(*store_->CountActive(bob_.id), 0);
  EXPECT_EQ(*store_->CountSince(bob_.id, 0), 0);
}

TEST_F(InvocationsTest, PruneRemovesOnlyFinishedInvocationsBeforeTheCutoff) {
  Enqueue(fn_, alice_.id, "finished-old");
  Enqueue(fn_, alice_.id, "finished-new");
  Enqueue(fn_, alice_.id, "running-old");
  Enqueue(fn_, alice_.id, "queued-old");
  MILF_ASSERT_OK(store_->MarkDispatched("finished-old", "n", 9'000, 10));
  MILF_ASSERT_OK(store_->Complete("finished-old", "n", State::kSucceeded, Result(), 100));
  MILF_ASSERT_OK(store_->MarkDispatched("finished-new", "n", 9'000, 10));
  MILF_ASSERT_OK(store_->Complete("finished-new", "n", State::kFailed, Result(), 500));
  MILF_ASSERT_OK(store_->MarkDispatched("running-old", "n", 9'000, 10));
  MILF_ASSERT_OK(store_->MarkRunning("running-old", 9'000, 20));

  auto pruned = store_->PruneInvocations(500);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(CodeOf(store_->FindInvocation(alice_.id, "finished-old")), "not_found");
  EXPECT_EQ(CodeOf(store_->ListEvents(alice_.id, "finished-old")), "not_found");
  for (const char* kept : {"finished-new", "running-old", "queued-old"}) {
    EXPECT_TRUE(store_->FindInvocation(alice_.id, kept).ok()) << kept;
  }
  EXPECT_EQ(*store_->PruneInvocations(500), 0);
}

TEST_F(InvocationsTest, PruneWorksThroughABacklogLargerThanOneChunk) {
  constexpr int kCount = 1'234;
  std::vector<Invocation> batch;
  for (int i = 0; i < kCount; ++i) {
    batch.push_back(MakeInvocation(fn_, alice_.id, "p" + std::to_string(10'000 + i), i));
  }
  MILF_ASSERT_OK(store_->EnqueueInvocations(batch));
  for (const auto& invocation : batch) {
    ASSERT_TRUE(store_->MarkDispatched(invocation.id, "n", 9'000, 1).ok());
    ASSERT_TRUE(store_->Complete(invocation.id, "n", State::kSucceeded, Result(), 2).ok());
  }
  auto pruned = store_->PruneInvocations(3);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, kCount);
  EXPECT_TRUE(store_->ListInvocations(alice_.id, InvocationFilter{})->empty());
}

TEST_F(InvocationsTest, ListsNewestFirstAndPaginates) {
  InvocationIdGenerator ids;
  std::vector<Invocation> batch;
  std::vector<std::string> made;
  for (int i = 0; i < 120; ++i) {
    made.push_back(ids.Next(1'000 + i / 7));
    batch.push_back(MakeInvocation(fn_, alice_.id, made.back(), 1'000 + i / 7));
  }
  MILF_ASSERT_OK(store_->EnqueueInvocations(batch));

  std::vector<std::string> seen;
  InvocationFilter filter;
  filter.limit = 50;
  std::vector<std::size_t> page_sizes;
  for (;;) {
    auto page = store_->ListInvocations(alice_.id, filter);
    ASSERT_TRUE(page.ok()) << page.error().message;
    page_sizes.push_back(page->size());
    for (const auto& invocation : *page) {
      seen.push_back(invocation.id);
      EXPECT_TRUE(invocation.input.empty());  // listings leave the blobs out
    }
    if (page->size() < static_cast<std::size_t>(filter.limit)) break;
    filter.after_id = page->back().id;
  }
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{50, 50, 20}));
  std::vector<std::string> expected(made.rbegin(), made.rend());
  EXPECT_EQ(seen, expected);
}

TEST_F(InvocationsTest, ListFiltersCombine) {
  const FunctionVersion other = Deploy(alice_.id, "other");
  Enqueue(fn_, alice_.id, "i1", 100);
  Enqueue(other, alice_.id, "i2", 200);
  Enqueue(fn_, alice_.id, "i3", 300);
  Enqueue(fn_, alice_.id, "i4", 400);
  MILF_ASSERT_OK(store_->MarkDispatched("i3", "n", 9'000, 1));
  MILF_ASSERT_OK(store_->Complete("i3", "n", State::kSucceeded, Result(), 2));

  auto ids = [&](const InvocationFilter& filter) {
    std::vector<std::string> out;
    auto listed = store_->ListInvocations(alice_.id, filter);
    EXPECT_TRUE(listed.ok());
    if (listed.ok()) {
      for (const auto& invocation : *listed) out.push_back(invocation.id);
    }
    return out;
  };
  InvocationFilter by_function;
  by_function.function_name = "fn";
  EXPECT_EQ(ids(by_function), (std::vector<std::string>{"i4", "i3", "i1"}));
  InvocationFilter by_state;
  by_state.state = State::kSucceeded;
  EXPECT_EQ(ids(by_state), (std::vector<std::string>{"i3"}));
  auto done = store_->ListInvocations(alice_.id, by_state);
  ASSERT_TRUE(done->front().result);
  EXPECT_TRUE(done->front().result->output.empty());  // no blobs in listings
  EXPECT_EQ(done->front().result->status, "ok");
  InvocationFilter window;
  window.since = 200;
  window.until = 400;  // half-open: [since, until)
  EXPECT_EQ(ids(window), (std::vector<std::string>{"i3", "i2"}));
  InvocationFilter everything;
  everything.function_name = "fn";
  everything.state = State::kQueued;
  everything.since = 0;
  everything.until = 1'000;
  everything.after_id = "i4";
  everything.limit = 5;
  EXPECT_EQ(ids(everything), (std::vector<std::string>{"i1"}));
  InvocationFilter unknown_function;
  unknown_function.function_name = "nope";
  EXPECT_TRUE(ids(unknown_function).empty());
  InvocationFilter huge;
  huge.limit = 1'000'000;
  EXPECT_EQ(ids(huge).size(), 4u);
  InvocationFilter nonpositive;
  nonpositive.limit = -3;
  EXPECT_EQ(ids(nonpositive).size(), 1u);
}

TEST_F(InvocationsTest, OtherUsersSeeNothing) {
  Enqueue(fn_, alice_.id, "secret");
  EXPECT_EQ(CodeOf(store_->FindInvocation(bob_.id, "secret")), "not_found");
  EXPECT_EQ(CodeOf(store_->ListEvents(bob_.id, "secret")), "not_found");
  EXPECT_TRUE(store_->ListInvocations(bob_.id, InvocationFilter{})->empty());
  InvocationFilter by_name;
  by_name.function_name = "fn";
  EXPECT_TRUE(store_->ListInvocations(bob_.id, by_name)->empty());
  EXPECT_EQ(*store_->CountActive(bob_.id), 0);
  // Unknown and foreign look exactly alike.
  EXPECT_EQ(store_->FindInvocation(bob_.id, "secret").error().message,
            store_->FindInvocation(bob_.id, "missing").error().message);
}

TEST_F(InvocationsTest, DeleteUserRemovesEverythingTheyOwn) {
  Schedule schedule{0, fn_.function_id, alice_.id, "* * * * *", {}, 60'000, 1};
  ASSERT_TRUE(store_->AddSchedule(schedule).ok());
  Enqueue(fn_, alice_.id, "mine");
  MILF_ASSERT_OK(store_->MarkDispatched("mine", "n", 9'000, 1));
  const FunctionVersion bobs = Deploy(bob_.id, "bobs");
  Enqueue(bobs, bob_.id, "his");

  MILF_ASSERT_OK(store_->DeleteUser(alice_.id));
  EXPECT_EQ(CodeOf(store_->FindFunction(alice_.id, "fn")), "not_found");
  EXPECT_EQ(CodeOf(store_->FindInvocation(alice_.id, "mine")), "not_found");
  EXPECT_EQ(CodeOf(store_->GetVersion(fn_.function_id, 1)), "not_found");
  EXPECT_TRUE(store_->DueSchedules(1'000'000)->empty());
  // The node that held it learns it is gone.
  EXPECT_EQ(CodeOf(store_->Complete("mine", "n", State::kSucceeded, Result(), 2)), "not_found");
  auto requeue = store_->RequeueNode("n", 3, 3, "gone");
  EXPECT_TRUE(requeue->requeued.empty() && requeue->failed.empty());
  EXPECT_TRUE(store_->FindInvocation(bob_.id, "his").ok());
  EXPECT_EQ(store_->ListQueued(10)->size(), 1u);
  // The module stays: it is content-addressed and may be shared.
  EXPECT_TRUE(store_->GetModule(fn_.module_sha256).ok());
}

TEST_F(InvocationsTest, FireScheduleEnqueuesAndAdvancesAtomically) {
  Schedule schedule{0, fn_.function_id, alice_.id, "* * * * *", Bytes("tick"), 60'000, 1};
  auto added = store_->AddSchedule(schedule);
  ASSERT_TRUE(added.ok());

  Invocation tick = MakeInvocation(fn_, alice_.id, "tick-1", 60'000, "tick");
  MILF_ASSERT_OK(store_->FireSchedule(added->id, 60'000, 120'000, tick));
  auto fired = store_->FindInvocation(alice_.id, "tick-1");
  ASSERT_TRUE(fired.ok());
  EXPECT_EQ(fired->schedule_id, added->id);
  EXPECT_EQ(fired->state, State::kQueued);
  EXPECT_EQ(store_->ListSchedules(alice_.id, fn_.function_id)->front().next_fire_at, 120'000);
  EXPECT_NE(store_->ListEvents(alice_.id, "tick-1")->front().detail.find("schedule"),
            std::string::npos);

  // The same tick again (another server, or a restart) is refused.
  Invocation again = MakeInvocation(fn_, alice_.id, "tick-1b", 60'000);
  EXPECT_EQ(CodeOf(store_->FireSchedule(added->id, 60'000, 120'000, again)), "conflict");
  EXPECT_EQ(CodeOf(store_->FindInvocation(alice_.id, "tick-1b")), "not_found");

  // A failed enqueue leaves the tick unfired.
  Invocation duplicate = MakeInvocation(fn_, alice_.id, "tick-1", 120'000);
  EXPECT_EQ(CodeOf(store_->FireSchedule(added->id, 120'000, 180'000, duplicate)), "conflict");
  EXPECT_EQ(store_->ListSchedules(alice_.id, fn_.function_id)->front().next_fire_at, 120'000);

  // An invocation that is not the schedule's function is refused.
  const FunctionVersion other = Deploy(alice_.id, "other");
  Invocation wrong = MakeInvocation(other, alice_.id, "tick-wrong", 120'000);
  EXPECT_EQ(CodeOf(store_->FireSchedule(added->id, 120'000, 180'000, wrong)), "invalid_argument");
  Invocation foreign = MakeInvocation(fn_, bob_.id, "tick-foreign", 120'000);
  EXPECT_EQ(CodeOf(store_->FireSchedule(added->id, 120'000, 180'000, foreign)), "invalid_argument");
  EXPECT_EQ(store_->ListSchedules(alice_.id, fn_.function_id)->front().next_fire_at, 120'000);

  EXPECT_EQ(CodeOf(store_->FireSchedule(added->id, 120'000, 120'000, tick)), "invalid_argument");
  EXPECT_EQ(CodeOf(store_->FireSchedule(9'999, 1, 2, tick)), "not_found");
}

TEST_F(InvocationsTest, QueueSurvivesRestartAndInFlightWorkIsRecovered) {
  Enqueue(fn_, alice_.id, "waiting", 100);
  Enqueue(fn_, alice_.id, "in-flight", 200);
  Enqueue(fn_, alice_.id, "finished", 300);
  MILF_ASSERT_OK(store_->MarkDispatched("in-flight", "n", 5'000, 400));
  MILF_ASSERT_OK(store_->MarkRunning("in-flight", 5'000, 410));
  MILF_ASSERT_OK(store_->MarkDispatched("finished", "n", 5'000, 400));
  MILF_ASSERT_OK(store_->Complete("finished", "n", State::kSucceeded, Result(), 420));

  Reopen();  // the server restarts

  auto in_flight = store_->FindInvocation(alice_.id, "in-flight");
  ASSERT_TRUE(in_flight.ok());
  EXPECT_EQ(in_flight->state, State::kRunning);
  EXPECT_EQ(EventStates("finished").size(), 3u);
  EXPECT_EQ(store_->FindInvocation(alice_.id, "finished")->result->output, Bytes("output bytes"));
  // On start the scheduler expires every lease of the previous process.
  auto recovered = store_->RequeueExpired(std::numeric_limits<Millis>::max(), 3, "server restarted");
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->requeued, std::vector<std::string>{"in-flight"});
  auto queued = store_->ListQueued(10);
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[0].id, "waiting");
  EXPECT_EQ((*queued)[1].id, "in-flight");
}

}  // namespace
}  // namespace milf::store::testing
