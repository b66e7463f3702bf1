// Concurrent use: many threads (and several Store instances on one file,
// as separate server processes would be) enqueue, dispatch, complete, fire
// schedules and take tokens at once. Every transition must happen exactly
// once.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "store/ids.h"
#include "store_fixture.h"

namespace milf::store::testing {
namespace {

class ConcurrencyTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    user_ = AddUser("u");
    fn_ = Deploy(user_.id, "fn");
  }

  std::unique_ptr<Store> SecondStore() {
    auto opened = OpenSqliteStore(db_path());
    EXPECT_TRUE(opened.ok());
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  User user_;
  FunctionVersion fn_;
};

TEST_F(ConcurrencyTest, EnqueueDispatchCompleteLoseAndDuplicateNothing) {
  constexpr int kProducers = 3;
  constexpr int kBatches = 40;
  constexpr int kBatchSize = 5;
  constexpr int kTotal = kProducers * kBatches * kBatchSize;
  constexpr int kWorkers = 3;

  std::atomic<int> produced_batches{0};
  std::atomic<int> dispatched{0};
  std::atomic<int> completed{0};
  std::atomic<int> unexpected_errors{0};
  std::mutex completed_ids_mu;
  std::map<std::string, std::string> completed_by;  // id -> node

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Invocation> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(MakeInvocation(fn_, user_.id, NewInvocationId(1'000 + b), 1'000 + b));
        }
        if (!store_->EnqueueInvocations(batch).ok()) ++unexpected_errors;
        ++produced_batches;
      }
      (void)p;
    });
  }
  // Workers race each other for the same queued invocations: exactly one
  // MarkDispatched per invocation may win, the rest see "conflict".
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      const std::string node = "node-" + std::to_string(w);
      while (completed.load() < kTotal) {
        auto queued = store_->ListQueued(8);
        if (!queued.ok()) {
          ++unexpected_errors;
          return;
        }
        if (queued->empty() && produced_batches.load() == kProducers * kBatches &&
            completed.load() >= kTotal) {
          return;
        }
        for (const Invocation& invocation : *queued) {
          auto marked = store_->MarkDispatched(invocation.id, node, 1'000'000, 2'000);
          if (!marked.ok()) {
            if (marked.error().code != "conflict") ++unexpected_errors;
            continue;
          }
          ++dispatched;
          if (!store_->MarkRunning(invocation.id, 1'000'000, 2'001).ok()) ++unexpected_errors;
          InvocationResult result;
          result.status = "ok";
          result.output = Bytes(node);
          if (!store_->Complete(invocation.id, node, InvocationState::kSucceeded, result, 2'002)
                   .ok()) {
            ++unexpected_errors;
          }
          {
            std::lock_guard lock(completed_ids_mu);
            if (!completed_by.emplace(invocation.id, node).second) ++unexpected_errors;
          }
          ++completed;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(unexpected_errors.load(), 0);
  EXPECT_EQ(dispatched.load(), kTotal);
  EXPECT_EQ(completed.load(), kTotal);
  EXPECT_EQ(completed_by.size(), static_cast<std::size_t>(kTotal));
  EXPECT_EQ(*store_->CountActive(user_.id), 0);

  // Every invocation has exactly the four events, and its output names the
  // node that completed it.
  InvocationFilter filter;
  filter.limit = 1'000;
  auto all = store_->ListInvocations(user_.id, filter);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<std::size_t>(kTotal));
  for (const Invocation& invocation : *all) {
    EXPECT_EQ(invocation.state, InvocationState::kSucceeded);
    EXPECT_EQ(invocation.attempts, 1);
    auto events = store_->ListEvents(user_.id, invocation.id);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 4u) << invocation.id;
    EXPECT_EQ((*events)[1].node_id, completed_by[invocation.id]);
    auto full = store_->FindInvocation(user_.id, invocation.id);
    EXPECT_EQ(full->result->output, Bytes(completed_by[invocation.id]));
  }
}

TEST_F(ConcurrencyTest, ScheduleTicksFireExactlyOnceAcrossRacingServers) {
  constexpr int kTicks = 60;
  auto added = store_->AddSchedule(
      Schedule{0, fn_.function_id, user_.id, "* * * * *", Bytes("cron"), 60'000, 1});
  ASSERT_TRUE(added.ok());
  const std::int64_t schedule_id = added->id;
  auto second = SecondStore();
  ASSERT_NE(second, nullptr);

  std::atomic<int> fired{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> unexpected{0};
  // Each "server" walks the ticks as its own cron loop would, firing every
  // tick it sees due; both see every tick.
  auto server = [&](Store& store, const std::string& name) {
    for (int tick = 1; tick <= kTicks; ++tick) {
      const Millis at = tick * 60'000;
      Invocation invocation = MakeInvocation(fn_, user_.id, name + std::to_string(tick), at, "cron");
      auto status = store.FireSchedule(schedule_id, at, at + 60'000, invocation);
      if (status.ok()) {
        ++fired;
      } else if (status.error().code == "conflict") {
        ++conflicts;
      } else {
        ++unexpected;
      }
    }
  };
  std::thread a([&] { server(*store_, "a-"); });
  std::thread b([&] { server(*second, "b-"); });
  std::thread c([&] { server(*store_, "c-"); });
  a.join();
  b.join();
  c.join();

  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(fired.load(), kTicks);
  EXPECT_EQ(conflicts.load(), 2 * kTicks);
  InvocationFilter filter;
  filter.limit = 1'000;
  auto invocations = store_->ListInvocations(user_.id, filter);
  ASSERT_TRUE(invocations.ok());
  ASSERT_EQ(invocations->size(), static_cast<std::size_t>(kTicks));
  std::set<Millis> ticks;
  for (const auto& invocation : *invocations) {
    EXPECT_EQ(invocation.schedule_id, schedule_id);
    ticks.insert(invocation.queued_at);
  }
  EXPECT_EQ(ticks.size(), static_cast<std::size_t>(kTicks));
  EXPECT_EQ(store_->ListSchedules(user_.id, fn_.function_id)->front().next_fire_at,
            (kTicks + 1) * 60'000);
}

TEST_F(ConcurrencyTest, RefreshTokenIsTakenByExactlyOneRacer) {
  constexpr int kTokens = 30;
  for (int i = 0; i < kTokens; ++i) {
    MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"rt" + std::to_string(i), user_.id, 99'999}));
  }
  auto second = SecondStore();
  ASSERT_NE(second, nullptr);
  std::atomic<int> taken{0};
  std::atomic<int> unexpected{0};
  auto racer = [&](Store& store) {
    for (int i = 0; i < kTokens; ++i) {
      auto result = store.TakeRefreshToken("rt" + std::to_string(i), 1);
      if (result.ok()) {
        ++taken;
      } else if (result.error().code != "not_found") {
        ++unexpected;
      }
    }
  };
  std::thread a([&] { racer(*store_); });
  std::thread b([&] { racer(*second); });
  std::thread c([&] { racer(*store_); });
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(taken.load(), kTokens);
}

TEST_F(ConcurrencyTest, LeaseExpiryRacingCompletionNeverDoesBoth) {
  constexpr int kCount = 150;
  std::vector<Invocation> batch;
  for (int i = 0; i < kCount; ++i) {
    batch.push_back(MakeInvocation(fn_, user_.id, "r" + std::to_string(1'000 + i), 1));
  }
  MILF_ASSERT_OK(store_->EnqueueInvocations(batch));
  for (const auto& invocation : batch) {
    ASSERT_TRUE(store_->MarkDispatched(invocation.id, "n", 10, 2).ok());
  }
  std::atomic<int> completed{0};
  std::atomic<int> unexpected{0};
  std::atomic<int> requeued{0};
  std::thread completer([&] {
    for (const auto& invocation : batch) {
      InvocationResult result;
      result.status = "ok";
      auto status = store_->Complete(invocation.id, "n", InvocationState::kSucceeded, result, 20);
      if (status.ok()) {
        ++completed;
      } else if (status.error().code != "conflict") {
        ++unexpected;
      }
    }
  });
  std::thread expirer([&] {
    for (int round = 0; round < 50; ++round) {
      auto outcome = store_->RequeueExpired(100, 5, "lease expired");
      if (!outcome.ok()) {
        ++unexpected;
        return;
      }
      requeued += static_cast<int>(outcome->requeued.size());
    }
  });
  completer.join();
  expirer.join();
  // Drain whatever is still leased so the totals close.
  auto rest = store_->RequeueExpired(100, 5, "lease expired");
  ASSERT_TRUE(rest.ok());
  requeued += static_cast<int>(rest->requeued.size());

  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(completed.load() + requeued.load(), kCount);
  EXPECT_EQ(static_cast<int>(store_->ListQueued(1'000)->size()), requeued.load());
  for (const auto& invocation : batch) {
    auto events = store_->ListEvents(user_.id, invocation.id);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), 3u) << invocation.id;  // queued, dispatched, then one outcome
  }
}

}  // namespace
}  // namespace milf::store::testing
