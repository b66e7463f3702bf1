#include "store/sqlite/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "store_fixture.h"

namespace milf::store::sqlite {
namespace {

using milf::store::testing::TempDir;

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open((dir_.path() / "g.db").string(), Access::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    MILF_ASSERT_OK(db_->Exec("CREATE TABLE t (x INTEGER UNIQUE) STRICT"));
  }

  static Status Insert(Db& db, std::int64_t x) {
    auto insert = db.Prepare("INSERT INTO t (x) VALUES (?1)");
    if (!insert) return Fail(std::move(insert).error());
    return insert->BindInt(1, x).Run();
  }

  std::vector<std::int64_t> Rows() {
    std::vector<std::int64_t> rows;
    auto query = db_->Prepare("SELECT x FROM t ORDER BY x");
    EXPECT_TRUE(query.ok());
    while (*query->Step()) rows.push_back(query->Int(0));
    return rows;
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(GroupCommitTest, LoneWriteCommitsOrRollsBackWhole) {
  GroupCommitter committer(*db_, 16);
  MILF_ASSERT_OK(committer.Run([](Db& db) { return Insert(db, 1); }));
  auto failed = committer.Run([](Db& db) -> Status {
    if (auto inserted = Insert(db, 2); !inserted) return inserted;
    return Fail("conflict", "changed my mind");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "changed my mind");
  EXPECT_EQ(Rows(), (std::vector<std::int64_t>{1}));
  EXPECT_FALSE(db_->InTransaction());
}

// Writes queued behind a slow leader share the next transaction; each one's
// failure (a constraint violation, or a body that gives up after writing)
// undoes that write only.
TEST_F(GroupCommitTest, WritesSharingATransactionFailAlone) {
  GroupCommitter committer(*db_, 64);
  constexpr std::size_t kFollowers = 12;
  std::atomic<bool> all_queued{false};
  std::atomic<bool> leading{false};
  std::thread leader([&] {
    auto status = committer.Run([&](Db& db) -> Status {
      leading = true;
      // Hold the writer until every follower waits in the queue, so that
      // they all share the next transaction.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (committer.queued() < kFollowers && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      all_queued = committer.queued() == kFollowers;
      return Insert(db, 0);
    });
    EXPECT_TRUE(status.ok());
  });
  // The followers start once the leader holds the writer.
  while (!leading.load()) std::this_thread::yield();
  std::vector<Status> outcomes(kFollowers);
  std::vector<std::thread> followers;
  for (int i = 1; i <= static_cast<int>(kFollowers); ++i) {
    followers.emplace_back([&, i] {
      outcomes[i - 1] = committer.Run([i](Db& db) -> Status {
        if (i % 3 == 0) return Insert(db, 0);  // duplicate of the leader's: conflict
        if (auto inserted = Insert(db, i); !inserted) return inserted;
        if (i % 3 == 1) return Fail("invalid_argument", "gave up after writing");
        return {};
      });
    });
  }
  leader.join();
  for (auto& follower : followers) follower.join();
  EXPECT_TRUE(all_queued.load());

  std::vector<std::int64_t> expected = {0};
  for (int i = 1; i <= static_cast<int>(kFollowers); ++i) {
    const Status& outcome = outcomes[i - 1];
    if (i % 3 == 0) {
      ASSERT_FALSE(outcome.ok()) << i;
      EXPECT_EQ(outcome.error().code, "conflict");
    } else if (i % 3 == 1) {
      ASSERT_FALSE(outcome.ok()) << i;
      EXPECT_EQ(outcome.error().code, "invalid_argument");
    } else {
      EXPECT_TRUE(outcome.ok()) << i;
      expected.push_back(i);
    }
  }
  EXPECT_EQ(Rows(), expected);
  EXPECT_FALSE(db_->InTransaction());
}

TEST_F(GroupCommitTest, ManyThreadsLoseNothing) {
  GroupCommitter committer(*db_, 8);
  constexpr int kThreads = 6;
  constexpr int kPerThread = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!committer.Run([&](Db& db) { return Insert(db, t * kPerThread + i); }).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Rows().size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace milf::store::sqlite
