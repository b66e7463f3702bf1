// Usage by day and month, per-function statistics, the plans of their
// queries, password changes revoking refresh tokens, and the database
// files being private to their owner.
#include <sys/stat.h>

#include <filesystem>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/stats_queries.h"
#include "store_fixture.h"

namespace milf::store::testing {
namespace {

using State = InvocationState;

class StatsTest : public StoreTest {
 protected:
  // Runs `id` to `state` on node "n" with `wall_micros`.
  void Finish(const std::string& id, State state, std::int64_t wall_micros, Millis at) {
    MILF_ASSERT_OK(store_->MarkDispatched(id, "n", at + 10'000, at));
    InvocationResult result;
    result.status = state == State::kSucceeded ? "ok" : "trap";
    result.wall_micros = wall_micros;
    MILF_ASSERT_OK(store_->Complete(id, "n", state, result, at));
  }

  const FunctionStats* StatsOf(const std::vector<FunctionStats>& all, const std::string& name) {
    for (const FunctionStats& stats : all) {
      if (stats.name == name) return &stats;
    }
    return nullptr;
  }
};

TEST_F(StatsTest, UsageIsKeptPerDayAndPerMonth) {
  const User user = AddUser("ada");
  const User other = AddUser("bob");
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-11-02", 2, 1.5, 10));
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-11-02", 1, 0.5, 5));
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-11-30", 4, 4.0, 40));
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-10-31", 8, 8.0, 80));
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-11", 16, 16.0, 160));  // month only
  MILF_ASSERT_OK(store_->AddUsage(other.id, "2026-11-02", 32, 32.0, 320));

  auto days = store_->ListUsageDays(user.id, "2026-11");
  MILF_ASSERT_OK(days);
  ASSERT_EQ(days->size(), 2u);
  EXPECT_EQ((*days)[0].day, "2026-11-02");
  EXPECT_EQ((*days)[0].invocations, 3);
  EXPECT_DOUBLE_EQ((*days)[0].compute_mb_seconds, 2.0);
  EXPECT_EQ((*days)[0].fuel, 15u);
  EXPECT_EQ((*days)[1].day, "2026-11-30");
  EXPECT_EQ((*days)[1].invocations, 4);

  // Days count toward their month; the months hold everything.
  auto months = store_->ListUsage(user.id);
  MILF_ASSERT_OK(months);
  ASSERT_EQ(months->size(), 2u);
  EXPECT_EQ((*months)[0].month, "2026-11");
  EXPECT_EQ((*months)[0].invocations, 3 + 4 + 16);
  EXPECT_DOUBLE_EQ((*months)[0].compute_mb_seconds, 22.0);
  EXPECT_EQ((*months)[0].fuel, 215u);
  EXPECT_EQ((*months)[1].month, "2026-10");
  EXPECT_EQ((*months)[1].invocations, 8);

  auto october = store_->ListUsageDays(user.id, "2026-10");
  MILF_ASSERT_OK(october);
  ASSERT_EQ(october->size(), 1u);
  EXPECT_EQ((*october)[0].day, "2026-10-31");
  auto empty = store_->ListUsageDays(user.id, "2026-12");
  MILF_ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());

  MILF_ASSERT_OK(store_->DeleteUser(user.id));
  auto gone = store_->ListUsageDays(user.id, "2026-11");
  MILF_ASSERT_OK(gone);
  EXPECT_TRUE(gone->empty());
  auto others = store_->ListUsageDays(other.id, "2026-11");
  MILF_ASSERT_OK(others);
  ASSERT_EQ(others->size(), 1u);
  EXPECT_EQ((*others)[0].invocations, 32);
}

TEST_F(StatsTest, UsagePeriodsAreChecked) {
  const User user = AddUser("ada");
  for (const char* bad : {"November", "2026-13", "2026-00", "2026-11-32", "2026-11-00",
                          "2026-11-1", "2026-11-01T00", "20261101", "", "2026-1a-01"}) {
    EXPECT_EQ(CodeOf(store_->AddUsage(user.id, bad, 1, 1, 1)), "invalid_argument") << bad;
  }
  EXPECT_EQ(CodeOf(store_->AddUsage(user.id, "2026-11-05", -1, 1, 1)), "invalid_argument");
  EXPECT_EQ(CodeOf(store_->AddUsage(999, "2026-11-05", 1, 1, 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->ListUsageDays(user.id, "2026-11-05")), "invalid_argument");
  EXPECT_EQ(CodeOf(store_->ListUsageDays(user.id, "nope")), "invalid_argument");
  // Nothing was half-written by the refused calls.
  auto months = store_->ListUsage(user.id);
  MILF_ASSERT_OK(months);
  EXPECT_TRUE(months->empty());
}

TEST_F(StatsTest, FunctionStatsCoverTheWindowAndTheLastFinalState) {
  const User user = AddUser("ada");
  const User other = AddUser("bob");
  const FunctionVersion f = Deploy(user.id, "f", "module f");
  const FunctionVersion g = Deploy(user.id, "g", "module g");
  Deploy(user.id, "idle", "module idle");
  const FunctionVersion h = Deploy(other.id, "h", "module h");
  // Before the window (since = 1'000): counted only for the last state.
  Enqueue(f, user.id, "F00", 500);
  Finish("F00", State::kSucceeded, 9'000'000, 600);
  // In the window: two succeeded, one failed, one timed out, one queued.
  Enqueue(f, user.id, "F01", 1'000);
  Finish("F01", State::kSucceeded, 2'000, 1'100);
  Enqueue(f, user.id, "F02", 1'200);
  Finish("F02", State::kFailed, 4'000, 1'300);
  Enqueue(f, user.id, "F03", 1'400);
  Finish("F03", State::kSucceeded, 6'000, 1'500);
  Enqueue(f, user.id, "F04", 1'600);
  Finish("F04", State::kTimedOut, 8'000, 1'700);
  Enqueue(f, user.id, "F05", 1'800);  // still queued, and the newest
  Enqueue(g, user.id, "G01", 500);    // out of the window, never finished
  Enqueue(h, other.id, "H01", 1'500);
  Finish("H01", State::kFailed, 1, 1'600);

  auto stats = store_->ListFunctionStats(user.id, 1'000);
  MILF_ASSERT_OK(stats);
  ASSERT_EQ(stats->size(), 3u);
  EXPECT_EQ((*stats)[0].name, "f");
  EXPECT_EQ((*stats)[1].name, "g");
  EXPECT_EQ((*stats)[2].name, "idle");
  const FunctionStats* fs = StatsOf(*stats, "f");
  EXPECT_EQ(fs->function_id, f.function_id);
  EXPECT_EQ(fs->invocations, 5);
  EXPECT_EQ(fs->errors, 2);
  EXPECT_EQ(fs->finished, 4);
  EXPECT_EQ(fs->wall_micros, 2'000 + 4'000 + 6'000 + 8'000);
  ASSERT_TRUE(fs->last_final_state.has_value());
  EXPECT_EQ(*fs->last_final_state, State::kTimedOut);
  const FunctionStats* gs = StatsOf(*stats, "g");
  EXPECT_EQ(gs->invocations, 0);
  EXPECT_FALSE(gs->last_final_state.has_value());
  const FunctionStats* idle = StatsOf(*stats, "idle");
  EXPECT_EQ(idle->invocations, 0);
  EXPECT_EQ(idle->errors, 0);
  EXPECT_EQ(idle->finished, 0);
  EXPECT_EQ(idle->wall_micros, 0);
  EXPECT_FALSE(idle->last_final_state.has_value());

  // A wider window takes in the older run; the other user sees only theirs.
  auto all = store_->ListFunctionStats(user.id, 0);
  MILF_ASSERT_OK(all);
  EXPECT_EQ(StatsOf(*all, "f")->invocations, 6);
  EXPECT_EQ(StatsOf(*all, "f")->wall_micros, 9'020'000);
  EXPECT_EQ(StatsOf(*all, "g")->invocations, 1);
  auto theirs = store_->ListFunctionStats(other.id, 0);
  MILF_ASSERT_OK(theirs);
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].name, "h");
  EXPECT_EQ((*theirs)[0].errors, 1);
  EXPECT_EQ(*(*theirs)[0].last_final_state, State::kFailed);
  auto nobody = store_->ListFunctionStats(999, 0);
  MILF_ASSERT_OK(nobody);
  EXPECT_TRUE(nobody->empty());
}

TEST_F(StatsTest, StatsQueriesUseTheirIndexes) {
  store_.reset();
  auto db = sqlite::Db::Open(db_path(), sqlite::Access::kReadWrite);
  MILF_ASSERT_OK(db);
  for (const std::string_view sql : {sqlite::kFunctionStatsSql, sqlite::kUsageDaysSql}) {
    auto plan = (*db)->Prepare("EXPLAIN QUERY PLAN " + std::string(sql));
    MILF_ASSERT_OK(plan);
    std::string details;
    while (*plan->Step()) details += plan->Text(3) + "\n";
    EXPECT_EQ(details.find("SCAN invocations\n"), std::string::npos) << sql << "\n" << details;
    EXPECT_EQ(details.find("SCAN usage_days"), std::string::npos) << details;
    EXPECT_EQ(details.find("SCAN f\n"), std::string::npos) << details;
    if (sql == sqlite::kFunctionStatsSql) {
      EXPECT_NE(details.find("invocations_by_owner_queued_at"), std::string::npos) << details;
      EXPECT_NE(details.find("invocations_by_function"), std::string::npos) << details;
    }
  }
}

TEST_F(StatsTest, ChangingThePasswordRevokesRefreshTokens) {
  const User user = AddUser("ada");
  const User other = AddUser("bob");
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"laptop", user.id, 5'000}));
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"phone", user.id, 5'000}));
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"theirs", other.id, 5'000}));
  MILF_ASSERT_OK(store_->UpdatePassword(user.id, "new-hash"));
  EXPECT_EQ(CodeOf(store_->TakeRefreshToken("laptop", 1'000)), "not_found");
  EXPECT_EQ(CodeOf(store_->TakeRefreshToken("phone", 1'000)), "not_found");
  MILF_ASSERT_OK(store_->TakeRefreshToken("theirs", 1'000));
  auto found = store_->FindUserById(user.id);
  MILF_ASSERT_OK(found);
  EXPECT_EQ(found->password_hash, "new-hash");
  // Tokens issued after the change work.
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"after", user.id, 5'000}));
  MILF_ASSERT_OK(store_->TakeRefreshToken("after", 1'000));
  EXPECT_EQ(CodeOf(store_->UpdatePassword(999, "x")), "not_found");
}

mode_t ModeOf(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

TEST(StoreFilesTest, TheDatabaseAndItsCompanionsArePrivate) {
  TempDir dir;
  const std::filesystem::path path = dir.path() / "milf.db";
  const mode_t old_mask = ::umask(022);
  {
    auto store = OpenSqliteStore(path.string());
    MILF_ASSERT_OK(store);
    MILF_ASSERT_OK((*store)->CreateUser("ada", Role::kAdmin, "hash", 1));
    ASSERT_TRUE(std::filesystem::exists(path.string() + "-wal"));
    EXPECT_EQ(ModeOf(path), 0600u);
    EXPECT_EQ(ModeOf(path.string() + "-wal"), 0600u);
    EXPECT_EQ(ModeOf(path.string() + "-shm"), 0600u);
  }
  // A database an earlier build left readable by others is tightened.
  {
    auto store = OpenSqliteStore(path.string());
    MILF_ASSERT_OK(store);
    MILF_ASSERT_OK((*store)->CreateUser("bob", Role::kDeveloper, "hash", 1));
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    ASSERT_EQ(::chmod((path.string() + "-wal").c_str(), 0644), 0);
    auto second = OpenSqliteStore(path.string());
    MILF_ASSERT_OK(second);
    EXPECT_EQ(ModeOf(path), 0600u);
    EXPECT_EQ(ModeOf(path.string() + "-wal"), 0600u);
    auto users = (*second)->ListUsers();
    MILF_ASSERT_OK(users);
    EXPECT_EQ(users->size(), 2u);
  }
  ::umask(old_mask);
}

}  // namespace
}  // namespace milf::store::testing
