#include "store/sqlite/sqlite_db.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "store/sqlite/connection_pool.h"
#include "store_fixture.h"

namespace milf::store::sqlite {
namespace {

using milf::store::testing::CodeOf;
using milf::store::testing::TempDir;

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(path(), Access::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    MILF_ASSERT_OK(db_->Exec(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE) STRICT;"
        "CREATE TABLE child (parent_id INTEGER REFERENCES parent(id), "
        "  n INTEGER CHECK (n >= 0), data BLOB) STRICT;"));
  }

  std::string path() const { return (dir_.path() / "test.db").string(); }

  std::string One(const std::string& sql) {
    auto query = db_->Prepare(sql);
    EXPECT_TRUE(query.ok());
    if (!query.ok()) return "";
    auto row = query->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return query->Text(0);
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(DbTest, AppliesTheConnectionPragmas) {
  EXPECT_EQ(One("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(One("PRAGMA foreign_keys"), "1");
  EXPECT_EQ(One("PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_EQ(One("PRAGMA busy_timeout"), "5000");
}

TEST_F(DbTest, ReadOnlyConnectionsRefuseWrites) {
  auto reader = Db::Open(path(), Access::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(CodeOf((*reader)->Exec("INSERT INTO parent (name) VALUES ('x')")), "io");
}

TEST_F(DbTest, BindsAndReadsEveryType) {
  auto insert = db_->Prepare("INSERT INTO parent (id, name) VALUES (?1, ?2)");
  ASSERT_TRUE(insert.ok());
  const std::string with_nul("a\0b", 3);
  MILF_ASSERT_OK(insert->BindInt(1, 7).BindText(2, with_nul).Run());

  auto child = db_->Prepare("INSERT INTO child (parent_id, n, data) VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(child.ok());
  MILF_ASSERT_OK(child->BindInt(1, 7).BindOptInt(2, std::nullopt).BindBlob(3, {}).Run());

  auto query = db_->Prepare(
      "SELECT p.name, c.n, c.data, typeof(c.data), c.parent_id FROM parent p JOIN child c");
  ASSERT_TRUE(query.ok());
  auto row = query->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(query->Text(0), with_nul);
  EXPECT_EQ(query->OptInt(1), std::nullopt);
  EXPECT_TRUE(query->Blob(2).empty());
  EXPECT_EQ(query->Text(3), "blob");  // an empty blob is not NULL
  EXPECT_EQ(query->Int(4), 7);
}

TEST_F(DbTest, MapsConstraintViolationsToStoreCodes) {
  MILF_ASSERT_OK(db_->Exec("INSERT INTO parent (id, name) VALUES (1, 'a')"));
  auto duplicate = db_->Prepare("INSERT INTO parent (name) VALUES ('a')");
  ASSERT_TRUE(duplicate.ok());
  EXPECT_EQ(CodeOf(duplicate->Run()), "conflict");

  auto orphan = db_->Prepare("INSERT INTO child (parent_id, n) VALUES (99, 1)");
  ASSERT_TRUE(orphan.ok());
  EXPECT_EQ(CodeOf(orphan->Run()), "not_found");

  auto negative = db_->Prepare("INSERT INTO child (parent_id, n) VALUES (1, -1)");
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(CodeOf(negative->Run()), "invalid_argument");

  // STRICT tables refuse the wrong type rather than converting it.
  auto wrong_type = db_->Prepare("INSERT INTO child (parent_id, n) VALUES (1, 'many')");
  ASSERT_TRUE(wrong_type.ok());
  EXPECT_NE(CodeOf(wrong_type->Run()), "ok");
}

TEST_F(DbTest, ReportsBadSqlAndBadBindings) {
  auto bad = db_->Prepare("SELEKT 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "io");
  EXPECT_NE(bad.error().message.find("syntax error"), std::string::npos) << bad.error().message;

  auto query = db_->Prepare("SELECT ?1");
  ASSERT_TRUE(query.ok());
  query->BindInt(5, 1);
  auto step = query->Step();
  ASSERT_FALSE(step.ok());
  EXPECT_NE(step.error().message.find("parameter 5"), std::string::npos) << step.error().message;
}

TEST_F(DbTest, SameStatementCanBeUsedWhileAlreadyCheckedOut) {
  MILF_ASSERT_OK(db_->Exec("INSERT INTO parent (name) VALUES ('a'), ('b'), ('c')"));
  const std::string sql = "SELECT name FROM parent ORDER BY id";
  auto outer = db_->Prepare(sql);
  ASSERT_TRUE(outer.ok());
  int pairs = 0;
  while (*outer->Step()) {
    auto inner = db_->Prepare(sql);
    ASSERT_TRUE(inner.ok());
    while (*inner->Step()) ++pairs;
  }
  EXPECT_EQ(pairs, 9);
  // Both are back in a usable state afterwards.
  auto again = db_->Prepare(sql);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again->Step());
  EXPECT_EQ(again->Text(0), "a");
}

TEST_F(DbTest, UncommittedTransactionRollsBack) {
  {
    auto tx = Transaction::Begin(*db_);
    ASSERT_TRUE(tx.ok());
    MILF_ASSERT_OK(db_->Exec("INSERT INTO parent (name) VALUES ('gone')"));
  }
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_EQ(One("SELECT count(*) FROM parent"), "0");
  {
    auto tx = Transaction::Begin(*db_);
    ASSERT_TRUE(tx.ok());
    MILF_ASSERT_OK(db_->Exec("INSERT INTO parent (name) VALUES ('kept')"));
    MILF_ASSERT_OK(tx->Commit());
  }
  EXPECT_EQ(One("SELECT name FROM parent"), "kept");
}

TEST_F(DbTest, ReadersSeeCommittedWritesOnly) {
  ReaderPool pool(path(), 2);
  auto tx = Transaction::Begin(*db_);
  ASSERT_TRUE(tx.ok());
  MILF_ASSERT_OK(db_->Exec("INSERT INTO parent (name) VALUES ('pending')"));
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.error().message;
    auto count = lease->db().Prepare("SELECT count(*) FROM parent");
    ASSERT_TRUE(count.ok());
    ASSERT_TRUE(*count->Step());
    EXPECT_EQ(count->Int(0), 0);  // WAL: the reader runs beside the open write
  }
  MILF_ASSERT_OK(tx->Commit());
  auto lease = pool.Acquire();
  ASSERT_TRUE(lease.ok());
  auto count = lease->db().Prepare("SELECT count(*) FROM parent");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->Int(0), 1);
}

TEST_F(DbTest, ReaderPoolWaitsForAReturnedConnection) {
  ReaderPool pool(path(), 1);
  std::atomic<bool> released{false};
  std::atomic<bool> acquired_early{false};
  auto first = pool.Acquire();
  ASSERT_TRUE(first.ok());
  std::thread second([&] {
    auto lease = pool.Acquire();
    if (!released.load()) acquired_early = true;
    EXPECT_TRUE(lease.ok());
  });
  released = true;
  { auto done = std::move(*first); }
  second.join();
  EXPECT_FALSE(acquired_early.load());
}

TEST(DbOpenTest, RejectsAFileThatIsNotADatabase) {
  TempDir dir;
  const std::string path = (dir.path() / "garbage.db").string();
  std::ofstream(path) << std::string(8192, 'x');
  auto db = Db::Open(path, Access::kReadWrite);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, "io");
  EXPECT_NE(db.error().message.find("not a database"), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find(path), std::string::npos) << db.error().message;
}

TEST(DbOpenTest, FailsClearlyOnImpossiblePaths) {
  TempDir dir;
  auto in_missing_dir = Db::Open((dir.path() / "no" / "such" / "x.db").string(), Access::kReadWrite);
  ASSERT_FALSE(in_missing_dir.ok());
  EXPECT_EQ(in_missing_dir.error().code, "io");
  auto directory = Db::Open(dir.path().string(), Access::kReadWrite);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, "io");
  auto reader_of_missing = Db::Open((dir.path() / "absent.db").string(), Access::kReadOnly);
  EXPECT_FALSE(reader_of_missing.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "absent.db"));
}

}  // namespace
}  // namespace milf::store::sqlite
