#include "store/sqlite/sqlite_db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

namespace milf::store::sqlite {
namespace {

constexpr int kBusyTimeoutMs = 5'000;
constexpr int kDefaultAutocheckpointFrames = 1'000;  // SQLite's own default

std::string_view CodeFor(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return "conflict";
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return "not_found";
    default:
      return (rc & 0xff) == SQLITE_CONSTRAINT ? "invalid_argument" : "io";
  }
}

// SQLite keeps process-wide allocation statistics behind a mutex it takes
// on every malloc and free; nothing in MILF reads them, and with Debian's
// build (no lookaside allocator) that lock costs about a quarter of a
// write's CPU time. sqlite3_config only works before SQLite initializes:
// if something else in the process initialized it first, the call fails
// harmlessly and the statistics stay on.
void TuneSqliteOnce() {
  static const int tuned = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)tuned;
}

// The database holds credential hashes and users' data, so only its owner
// may read it. SQLite creates a database with mode 0644 (less the umask)
// but gives the -wal and -shm files it creates the database file's mode, so
// creating the file here first is enough for new databases; an existing
// one, and companions left by an earlier build, are tightened in place.
Status RestrictToOwner(const std::string& path) {
  if (path.empty() || path == ":memory:") return {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Fail("io", path + ": " + std::strerror(errno));
  struct stat info {};
  const bool restricted = ::fstat(fd, &info) == 0 &&
                          ((info.st_mode & 077) == 0 || ::fchmod(fd, info.st_mode & 0700) == 0);
  const int error = errno;
  ::close(fd);
  if (!restricted) {
    return Fail("io", path + ": cannot make it private to its owner: " + std::strerror(error));
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string companion = path + suffix;
    if (::chmod(companion.c_str(), 0600) != 0 && errno != ENOENT) {
      return Fail("io", companion + ": cannot make it private to its owner: " +
                            std::strerror(errno));
    }
  }
  return {};
}

}  // namespace

Query::Query(const Db& db, sqlite3_stmt* stmt, bool* in_use)
    : db_(&db), stmt_(stmt), in_use_(in_use) {}

Query::Query(Query&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      bind_error_(other.bind_error_),
      bind_error_index_(other.bind_error_index_) {}

Query::~Query() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

void Query::NoteBind(int rc, int index) {
  if (rc != SQLITE_OK && bind_error_ == 0) {
    bind_error_ = rc;
    bind_error_index_ = index;
  }
}

Query& Query::BindInt(int index, std::int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Query& Query::BindDouble(int index, double value) {
  NoteBind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Query& Query::BindText(int index, std::string_view value) {
  NoteBind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8),
           index);
  return *this;
}

Query& Query::BindBlob(int index, std::span<const std::uint8_t> value) {
  // A zero-length blob must still be a blob, not NULL: sqlite3_bind_blob64
  // treats a null pointer as NULL.
  static constexpr std::uint8_t kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  NoteBind(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT), index);
  return *this;
}

Query& Query::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Query& Query::BindOptInt(int index, const std::optional<std::int64_t>& value) {
  return value ? BindInt(index, *value) : BindNull(index);
}

Query& Query::BindOptText(int index, const std::optional<std::string>& value) {
  return value ? BindText(index, *value) : BindNull(index);
}

Result<bool> Query::Step() {
  if (bind_error_ != 0) {
    return Fail(db_->ErrorFor(bind_error_, "binding parameter " + std::to_string(bind_error_index_)));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(db_->ErrorFor(rc, sqlite3_sql(stmt_)));
}

Status Query::Run() {
  for (;;) {
    auto row = Step();
    if (!row) return Fail(std::move(row).error());
    if (!*row) return {};
  }
}

bool Query::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::int64_t Query::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

double Query::Double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Query::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> Query::Blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::vector<std::uint8_t>(data, data + size);
}

std::optional<std::int64_t> Query::OptInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

std::optional<std::string> Query::OptText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

Db::Db(sqlite3* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

Db::~Db() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(handle_);
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, Access access) {
  TuneSqliteOnce();
  if (access == Access::kReadWrite) {
    if (auto restricted = RestrictToOwner(path); !restricted) return Fail(restricted.error());
  }
  sqlite3* handle = nullptr;
  // Read connections open read-write too: in WAL mode a reader updates the
  // shared-memory index. query_only keeps them from writing.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                    (access == Access::kReadWrite ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = path + ": " +
                          (handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_close(handle);
    return Fail("io", std::move(message));
  }
  sqlite3_extended_result_codes(handle, 1);
  std::unique_ptr<Db> db(new Db(handle, path));
  if (auto configured = db->Configure(access); !configured) {
    return Fail(std::move(configured).error());
  }
  return db;
}

Status Db::Configure(Access access) {
  sqlite3_busy_timeout(handle_, kBusyTimeoutMs);
  // Only the writer switches the file to WAL (a persistent setting); a
  // reader finds it already done. Reading the mode back also proves the
  // file is a database at all.
  if (access == Access::kReadWrite) {
    if (auto switched = SwitchToWal(); !switched) return switched;
  }
  // synchronous=NORMAL in WAL mode: a commit is durable against a process
  // crash at once and against power loss from the next checkpoint on.
  return Exec(access == Access::kReadWrite
                  ? "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384; "
                    "PRAGMA journal_size_limit=67108864; SELECT count(*) FROM sqlite_schema;"
                  : "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                    "PRAGMA cache_size=-8192; PRAGMA query_only=ON; "
                    "SELECT count(*) FROM sqlite_schema;");
}

// Switching the journal mode needs an exclusive lock and SQLite answers
// SQLITE_BUSY at once, without its busy handler, while another connection
// is opening the same new file; so the switch is retried until the busy
// timeout.
Status Db::SwitchToWal() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  while (true) {
    auto mode = Prepare("PRAGMA journal_mode=WAL");
    if (!mode) return Fail(std::move(mode).error());
    auto row = mode->Step();
    if (row) {
      if (*row && mode->Text(0) == "wal") return {};
      return Fail("io", path_ + ": cannot switch the database to WAL mode (journal_mode is " +
                            (*row ? mode->Text(0) : std::string("unknown")) + ")");
    }
    const bool busy = (sqlite3_errcode(handle_) & 0xff) == SQLITE_BUSY;
    if (!busy || std::chrono::steady_clock::now() >= deadline) {
      return Fail(std::move(row).error());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Result<Query> Db::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  const bool inserted = it == cache_.end();
  if (inserted) it = cache_.emplace(std::string(sql), CachedStatement{}).first;
  CachedStatement& cached = it->second;
  if (!inserted && !cached.in_use) {
    cached.in_use = true;
    return Query(*this, cached.stmt, &cached.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()),
                                    inserted ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    if (inserted) cache_.erase(it);
    return Fail(ErrorFor(rc, sql));
  }
  if (!inserted) return Query(*this, stmt, nullptr);
  cached.stmt = stmt;
  cached.in_use = true;
  return Query(*this, stmt, &cached.in_use);
}

Status Db::Exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(handle_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Fail(std::string(CodeFor(sqlite3_extended_errcode(handle_))), path_ + ": " + detail);
}

void Db::SetWalHook(std::function<void(Db&, int)> hook) {
  wal_hook_ = std::move(hook);
  if (wal_hook_) {
    sqlite3_wal_hook(handle_, &Db::WalHookTrampoline, this);
  } else {
    sqlite3_wal_autocheckpoint(handle_, kDefaultAutocheckpointFrames);
  }
}

int Db::WalHookTrampoline(void* self, sqlite3*, const char*, int frames) {
  auto* db = static_cast<Db*>(self);
  db->wal_hook_(*db, frames);
  return SQLITE_OK;
}

Result<int> Db::Checkpoint(CheckpointMode mode) {
  int wal_frames = 0;
  int backfilled = 0;
  const int rc = sqlite3_wal_checkpoint_v2(
      handle_, nullptr,
      mode == CheckpointMode::kRestart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE,
      &wal_frames, &backfilled);
  if (rc != SQLITE_OK) return Fail(ErrorFor(rc, "checkpoint"));
  return backfilled;
}

std::int64_t Db::Changes() const { return sqlite3_changes64(handle_); }

bool Db::InTransaction() const { return sqlite3_get_autocommit(handle_) == 0; }

Error Db::ErrorFor(int rc, std::string_view what) const {
  // The connection's message is more precise (it names the constraint), but
  // only describes `rc` if it was the connection's last error.
  const bool current = sqlite3_extended_errcode(handle_) == rc;
  std::string message = path_ + ": " + (current ? sqlite3_errmsg(handle_) : sqlite3_errstr(rc));
  if (!what.empty()) message += " (" + std::string(what) + ")";
  return Error{std::string(CodeFor(rc)), std::move(message)};
}

Result<Transaction> Transaction::Begin(Db& db) {
  auto begin = db.Prepare("BEGIN IMMEDIATE");
  if (!begin) return Fail(std::move(begin).error());
  if (auto ran = begin->Run(); !ran) return Fail(std::move(ran).error());
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  // SQLite may already have rolled back on its own after certain errors
  // (SQLITE_FULL, SQLITE_IOERR, ...).
  if (db_ != nullptr && db_->InTransaction()) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  auto commit = db_->Prepare("COMMIT");
  if (!commit) return Fail(std::move(commit).error());
  if (auto ran = commit->Run(); !ran) return ran;
  db_ = nullptr;
  return {};
}

}  // namespace milf::store::sqlite
