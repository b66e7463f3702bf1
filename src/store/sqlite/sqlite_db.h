// Db: one SQLite connection with its cache of prepared statements, and the
// small RAII pieces the SQLite store is written with (Query, Transaction).
//
// A Db is not safe for concurrent use: the store hands each connection to
// one thread at a time, so connections are opened without SQLite's own
// per-connection mutex. Errors are milf::Error with the store's codes:
// unique violations are "conflict", foreign-key violations "not_found",
// other constraint violations "invalid_argument", everything else "io".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace milf::store::sqlite {

enum class Access { kReadWrite, kReadOnly };

class Db;

// A statement checked out of a Db for one execution. Bind errors are kept
// and reported by the next Step or Run. Destroying the Query resets the
// statement for the next user. Must not outlive its Db.
class Query {
 public:
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  ~Query();

  // Parameters are numbered from 1, as in the SQL (?1, ?2, ...).
  Query& BindInt(int index, std::int64_t value);
  Query& BindDouble(int index, double value);
  Query& BindText(int index, std::string_view value);
  Query& BindBlob(int index, std::span<const std::uint8_t> value);
  Query& BindNull(int index);
  // NULL when the value is absent.
  Query& BindOptInt(int index, const std::optional<std::int64_t>& value);
  Query& BindOptText(int index, const std::optional<std::string>& value);

  // True when a row is ready to read, false when the statement is done.
  Result<bool> Step();
  // Steps until done, ignoring any rows.
  Status Run();

  // Columns of the current row, numbered from 0. NULL reads as 0, "" or
  // empty unless the accessor is optional.
  bool IsNull(int column) const;
  std::int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::vector<std::uint8_t> Blob(int column) const;
  std::optional<std::int64_t> OptInt(int column) const;
  std::optional<std::string> OptText(int column) const;

 private:
  friend class Db;
  // `in_use` is the cache slot's flag to clear when done; nullptr for a
  // one-off statement, which is finalized instead.
  Query(const Db& db, sqlite3_stmt* stmt, bool* in_use);
  void NoteBind(int rc, int index);

  const Db* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
  int bind_error_ = 0;
  int bind_error_index_ = 0;
};

class Db {
 public:
  // Opens `path`, creating it when `access` allows writing, and applies the
  // connection's PRAGMAs (WAL, synchronous=NORMAL, foreign keys,
  // busy_timeout). A writing open also makes the file and its -wal and -shm
  // companions private to their owner (mode 0600). Fails with "io" when the
  // file is not a database or cannot be made private.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Access access);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A cached prepared statement for `sql` (one statement). A statement that
  // is already checked out is prepared afresh for this use only, so nested
  // use of the same SQL is safe.
  Result<Query> Prepare(std::string_view sql);
  // Runs one or more statements without parameters; nothing is cached.
  Status Exec(std::string_view sql);

  // Calls `hook` after every commit on this connection with the number of
  // frames in the WAL. Replaces SQLite's automatic checkpoints, so the
  // hook decides when to call Checkpoint.
  void SetWalHook(std::function<void(Db&, int wal_frames)> hook);
  // kPassive copies into the database file every WAL frame no reader still
  // needs, without waiting for anyone. kRestart waits (up to the busy
  // timeout) for other checkpoints and readers so that it can copy the
  // whole WAL, and the next write starts the WAL over. Returns how many
  // frames the database file now holds.
  enum class CheckpointMode { kPassive, kRestart };
  Result<int> Checkpoint(CheckpointMode mode);

  // Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t Changes() const;
  bool InTransaction() const;
  const std::string& path() const { return path_; }

  // `rc` (an SQLite result code) as an Error, with `what` as context.
  Error ErrorFor(int rc, std::string_view what) const;

 private:
  friend class Query;
  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  // Looks statements up by the caller's string_view without copying it.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };

  Db(sqlite3* handle, std::string path);
  Status Configure(Access access);
  Status SwitchToWal();

  static int WalHookTrampoline(void* self, sqlite3* handle, const char* schema, int frames);

  sqlite3* handle_;
  std::string path_;
  std::function<void(Db&, int)> wal_hook_;
  std::unordered_map<std::string, CachedStatement, SqlHash, std::equal_to<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT. Taking the write lock up front means a
// transaction never has to upgrade from reading to writing, which is where
// SQLite would otherwise report SQLITE_BUSY without waiting. Destroying an
// uncommitted Transaction rolls it back.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Db& db) : db_(&db) {}
  Db* db_;
};

}  // namespace milf::store::sqlite
