#include "store/sqlite/migrations.h"

#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store_fixture.h"

namespace milf::store::sqlite {
namespace {

using milf::store::testing::CodeOf;
using milf::store::testing::TempDir;

constexpr Migration kCreateA{1, "create a", "CREATE TABLE a (x INTEGER) STRICT;"};
constexpr Migration kCreateB{2, "create b", "CREATE TABLE b (y INTEGER) STRICT;"};

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(path(), Access::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
  }

  std::string path() const { return (dir_.path() / "m.db").string(); }

  bool HasTable(const std::string& name) {
    auto query = db_->Prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1");
    EXPECT_TRUE(query.ok());
    query->BindText(1, name);
    EXPECT_TRUE(*query->Step());
    return query->Int(0) == 1;
  }

  std::int64_t VersionRows() {
    auto query = db_->Prepare("SELECT count(*) FROM schema_version");
    EXPECT_TRUE(query.ok());
    EXPECT_TRUE(*query->Step());
    return query->Int(0);
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(MigrationsTest, StoreMigrationsAreNumberedWithoutGaps) {
  const auto migrations = StoreMigrations();
  ASSERT_FALSE(migrations.empty());
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<std::int64_t>(i) + 1);
    EXPECT_FALSE(migrations[i].name.empty());
  }
}

TEST_F(MigrationsTest, FreshDatabaseGetsEveryStepOnceAndReapplyingIsANoOp) {
  const auto known = static_cast<std::int64_t>(StoreMigrations().size());
  auto first = ApplyMigrations(*db_, StoreMigrations());
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, known);
  EXPECT_TRUE(HasTable("invocations"));
  EXPECT_TRUE(HasTable("invocation_events"));
  auto again = ApplyMigrations(*db_, StoreMigrations());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, known);
  EXPECT_EQ(VersionRows(), known);
}

TEST_F(MigrationsTest, UpgradesStepByStep) {
  auto v1 = ApplyMigrations(*db_, std::array{kCreateA});
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(*v1, 1);
  EXPECT_FALSE(HasTable("b"));
  auto v2 = ApplyMigrations(*db_, std::array{kCreateA, kCreateB});
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(*v2, 2);
  EXPECT_TRUE(HasTable("a"));
  EXPECT_TRUE(HasTable("b"));
  EXPECT_EQ(VersionRows(), 2);
}

TEST_F(MigrationsTest, FailedStepLeavesThePreviousVersion) {
  ASSERT_TRUE(ApplyMigrations(*db_, std::array{kCreateA}).ok());
  constexpr Migration kBroken{2, "broken", "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);"};
  auto failed = ApplyMigrations(*db_, std::array{kCreateA, kBroken});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "io");
  EXPECT_NE(failed.error().message.find("migration 2 (broken)"), std::string::npos)
      << failed.error().message;
  EXPECT_FALSE(HasTable("c"));  // the step's first statement was rolled back too
  auto version = SchemaVersion(*db_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 1);
}

TEST_F(MigrationsTest, NewerDatabaseIsRefused) {
  ASSERT_TRUE(ApplyMigrations(*db_, std::array{kCreateA, kCreateB}).ok());
  auto older_build = ApplyMigrations(*db_, std::array{kCreateA});
  ASSERT_FALSE(older_build.ok());
  EXPECT_EQ(older_build.error().code, "io");
  EXPECT_NE(older_build.error().message.find("schema version 2"), std::string::npos)
      << older_build.error().message;
  EXPECT_NE(older_build.error().message.find("newer milf"), std::string::npos);
}

TEST_F(MigrationsTest, EditedReleasedStepIsRefused) {
  ASSERT_TRUE(ApplyMigrations(*db_, std::array{kCreateA}).ok());
  constexpr Migration kEdited{1, "create a", "CREATE TABLE a (x INTEGER, extra TEXT) STRICT;"};
  auto edited = ApplyMigrations(*db_, std::array{kEdited});
  ASSERT_FALSE(edited.ok());
  EXPECT_NE(edited.error().message.find("differs"), std::string::npos) << edited.error().message;
}

TEST_F(MigrationsTest, MisnumberedListIsRefused) {
  constexpr Migration kThree{3, "three", "SELECT 1;"};
  EXPECT_EQ(CodeOf(ApplyMigrations(*db_, std::array{kCreateA, kThree})), "invalid_argument");
  EXPECT_FALSE(HasTable("a"));
}

TEST(StoreOpenTest, RefusesADatabaseFromANewerMilf) {
  TempDir dir;
  const std::string path = (dir.path() / "milf.db").string();
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  {
    auto db = Db::Open(path, Access::kReadWrite);
    ASSERT_TRUE(db.ok());
    MILF_ASSERT_OK((*db)->Exec(
        "INSERT INTO schema_version VALUES (999, 'from the future', 'x', 0)"));
  }
  auto store = OpenSqliteStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "io");
  EXPECT_NE(store.error().message.find("999"), std::string::npos) << store.error().message;
}

TEST(StoreOpenTest, ConcurrentFirstOpensMigrateOnce) {
  TempDir dir;
  const std::string path = (dir.path() / "milf.db").string();
  std::vector<std::thread> threads;
  std::array<bool, 4> opened{};
  for (std::size_t i = 0; i < opened.size(); ++i) {
    threads.emplace_back([&, i] { opened[i] = OpenSqliteStore(path).ok(); });
  }
  for (auto& thread : threads) thread.join();
  for (bool ok : opened) EXPECT_TRUE(ok);
  auto db = Db::Open(path, Access::kReadWrite);
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Prepare("SELECT count(*) FROM schema_version");
  ASSERT_TRUE(rows.ok());
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->Int(0), static_cast<std::int64_t>(StoreMigrations().size()));
}

TEST(StoreOpenTest, GarbageFileGivesAClearError) {
  TempDir dir;
  const std::string path = (dir.path() / "milf.db").string();
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 131 + 7) & 0xff));
  }
  auto store = OpenSqliteStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "io");
  EXPECT_NE(store.error().message.find("not a database"), std::string::npos)
      << store.error().message;
}

TEST(StoreOpenTest, DamagedPagesGiveAClearError) {
  TempDir dir;
  const std::string path = (dir.path() / "milf.db").string();
  {
    auto store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE((*store)->CreateUser("user" + std::to_string(i), Role::kDeveloper, "h", 1).ok());
    }
  }  // closing the last connection checkpoints the WAL into the main file
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 4096u * 2);
  {
    // Keep page 1 (header and schema) and overwrite every page after it.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    for (std::uintmax_t i = 4096; i < size; ++i) file.put(static_cast<char>(0xA5));
  }
  auto store = OpenSqliteStore(path);
  if (!store.ok()) {
    EXPECT_EQ(store.error().code, "io");
    EXPECT_FALSE(store.error().message.empty());
    return;
  }
  auto users = (*store)->ListUsers();
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.error().code, "io");
  EXPECT_NE(users.error().message.find("malformed"), std::string::npos) << users.error().message;
}

TEST(StoreOpenTest, EmptyFileBecomesAFreshStore) {
  TempDir dir;
  const std::string path = (dir.path() / "milf.db").string();
  std::ofstream(path).close();
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE((*store)->CreateUser("a", Role::kAdmin, "h", 1).ok());
}

// The writer checkpoints itself past the hard limit, so the WAL stays
// bounded however far behind the background checkpoint falls.
TEST(StoreOpenTest, WalStaysBoundedUnderSustainedWrites) {
  TempDir dir;
  const std::string path = (dir.path() / "milf.db").string();
  SqliteStoreOptions options;
  options.checkpoints.background_frames = 20;
  options.checkpoints.hard_limit_frames = 100;
  auto store = SqliteStore::Open(path, options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  for (int i = 0; i < 1'500; ++i) {
    ASSERT_TRUE((*store)->CreateUser("user" + std::to_string(i), Role::kDeveloper,
                                     std::string(200, 'h'), i)
                    .ok());
  }
  // Without checkpoints this WAL would hold several thousand frames.
  const auto wal_bytes = std::filesystem::file_size(path + "-wal");
  EXPECT_LT(wal_bytes, 200u * 4'120u) << wal_bytes;
  EXPECT_EQ((*store)->ListUsers()->size(), 1'500u);
}

TEST(StoreOpenTest, EmptyPathIsRefused) {
  EXPECT_EQ(CodeOf(OpenSqliteStore("")), "invalid_argument");
}

// The hot queries must be served by their indexes, not table scans.
TEST(StoreOpenTest, HotQueriesUseTheirIndexes) {
  TempDir dir;
  const std::string path = (dir.path() / "milf.db").string();
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  auto db = Db::Open(path, Access::kReadWrite);
  ASSERT_TRUE(db.ok());
  const std::vector<std::pair<std::string, std::string>> expectations = {
      {"SELECT id FROM invocations WHERE node_id IS NULL AND finished_at IS NULL "
       "ORDER BY queued_at, id LIMIT 10",
       "invocations_queue"},
      {"SELECT id FROM invocations WHERE owner_id = 1 ORDER BY id DESC LIMIT 50",
       "invocations_by_owner"},
      {"SELECT id FROM invocations WHERE owner_id = 1 AND function_id = (SELECT id FROM "
       "functions WHERE owner_id = 1 AND name = 'f') ORDER BY id DESC LIMIT 50",
       "invocations_by_function"},
      {"SELECT count(*) FROM invocations WHERE owner_id = 1 AND finished_at IS NULL",
       "invocations_active_by_owner"},
      {"SELECT count(*) FROM invocations WHERE owner_id = 1 AND queued_at >= 5",
       "invocations_by_owner_queued_at"},
      {"SELECT id FROM invocations WHERE node_id = 'n' AND finished_at IS NULL",
       "invocations_leased"},
      {"SELECT id FROM invocations INDEXED BY invocations_leased WHERE node_id IS NOT NULL "
       "AND finished_at IS NULL AND lease_deadline < 5",
       "invocations_leased"},
      {"SELECT rowid FROM invocations WHERE finished_at < 5 AND state IN ('succeeded', "
       "'failed', 'timed_out') LIMIT 500",
       "invocations_finished"},
      {"SELECT id FROM schedules WHERE next_fire_at <= 5 ORDER BY next_fire_at, id",
       "schedules_by_next_fire"},
      {"SELECT state FROM invocation_events WHERE invocation_id = 'x' ORDER BY seq",
       "PRIMARY KEY"},
  };
  for (const auto& [sql, index] : expectations) {
    auto plan = (*db)->Prepare("EXPLAIN QUERY PLAN " + sql);
    ASSERT_TRUE(plan.ok()) << sql;
    std::string details;
    while (*plan->Step()) details += plan->Text(3) + "\n";
    EXPECT_NE(details.find(index), std::string::npos) << sql << "\n" << details;
    EXPECT_EQ(details.find("SCAN invocations\n"), std::string::npos) << sql << "\n" << details;
  }
}

}  // namespace
}  // namespace milf::store::sqlite
