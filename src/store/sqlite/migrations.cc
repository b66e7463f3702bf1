#include "store/sqlite/migrations.h"

#include <array>
#include <string>

#include "base/sha256.h"

namespace milf::store::sqlite {
namespace {

// Version 1: the initial schema.
//
// Tenancy is in the keys: functions belong to a user, and invocations and
// schedules reference (function, owner) together, so a row can never pair
// one user's function with another user's ownership, and deleting a user or
// a function cascades to everything under it.
//
// invocations keeps its blobs (input, output, stderr) as the last columns:
// SQLite reads a row's columns in order, so the scalar columns the hot
// queries need are read without touching the blobs' overflow pages.
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE,
  role          TEXT    NOT NULL CHECK (role IN ('admin', 'developer')),
  password_hash TEXT    NOT NULL,
  created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE quotas (
  user_id        INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  max_concurrent INTEGER NOT NULL,
  max_per_day    INTEGER NOT NULL,
  max_memory_mb  INTEGER NOT NULL
) STRICT;

CREATE TABLE refresh_tokens (
  token_hash TEXT    PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_user ON refresh_tokens(user_id);

CREATE TABLE api_keys (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  prefix       TEXT    NOT NULL,
  key_hash     TEXT    NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;
CREATE INDEX api_keys_by_user ON api_keys(user_id);

CREATE TABLE enrollment_tokens (
  token_hash   TEXT    PRIMARY KEY,
  created_by   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at   INTEGER NOT NULL,
  used_by_node TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX enrollment_tokens_by_creator ON enrollment_tokens(created_by);

CREATE TABLE nodes (
  id             TEXT    PRIMARY KEY,
  name           TEXT    NOT NULL,
  secret_hash    TEXT    NOT NULL,
  target         TEXT    NOT NULL,
  created_at     INTEGER NOT NULL,
  last_seen_at   INTEGER NOT NULL,
  telemetry_json TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE modules (
  sha256     TEXT    PRIMARY KEY,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  bytes      BLOB    NOT NULL
) STRICT;

CREATE TABLE functions (
  id             INTEGER PRIMARY KEY,
  owner_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name           TEXT    NOT NULL,
  latest_version INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (owner_id, name),
  UNIQUE (id, owner_id)
) STRICT;

CREATE TABLE function_versions (
  function_id   INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
  version       INTEGER NOT NULL,
  module_sha256 TEXT    NOT NULL REFERENCES modules(sha256),
  module_size   INTEGER NOT NULL,
  memory_mb     INTEGER NOT NULL,
  timeout_ms    INTEGER NOT NULL,
  fuel          INTEGER,
  env_json      TEXT    NOT NULL,
  entry         TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (function_id, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE schedules (
  id           INTEGER PRIMARY KEY,
  function_id  INTEGER NOT NULL,
  owner_id     INTEGER NOT NULL,
  cron         TEXT    NOT NULL,
  next_fire_at INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  input        BLOB    NOT NULL,
  FOREIGN KEY (function_id, owner_id) REFERENCES functions(id, owner_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX schedules_by_function ON schedules(function_id);
CREATE INDEX schedules_by_next_fire ON schedules(next_fire_at);

CREATE TABLE invocations (
  id                TEXT    PRIMARY KEY NOT NULL,
  owner_id          INTEGER NOT NULL,
  function_id       INTEGER NOT NULL,
  function_name     TEXT    NOT NULL,
  version           INTEGER NOT NULL,
  state             TEXT    NOT NULL CHECK (state IN ('queued', 'dispatched', 'running',
                                                      'succeeded', 'failed', 'timed_out')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  event_seq         INTEGER NOT NULL DEFAULT 1,  -- seq of its latest event
  node_id           TEXT,
  schedule_id       INTEGER,
  queued_at         INTEGER NOT NULL,
  dispatched_at     INTEGER,
  started_at        INTEGER,
  finished_at       INTEGER,
  lease_deadline    INTEGER,
  result_status     TEXT,
  exit_code         INTEGER,
  result_message    TEXT,
  fuel_used         INTEGER,
  peak_memory_bytes INTEGER,
  wall_micros       INTEGER,
  output_truncated  INTEGER,
  stderr_truncated  INTEGER,
  output_sha256     TEXT,
  input             BLOB    NOT NULL,
  output            BLOB,
  stderr_data       BLOB,
  CHECK ((state = 'queued') = (node_id IS NULL AND finished_at IS NULL)),
  CHECK ((state IN ('succeeded', 'failed', 'timed_out')) = (finished_at IS NOT NULL)),
  FOREIGN KEY (function_id, owner_id) REFERENCES functions(id, owner_id) ON DELETE CASCADE,
  FOREIGN KEY (function_id, version) REFERENCES function_versions(function_id, version)
) STRICT;
-- An owner's invocations newest first (ListInvocations), and its daily count.
CREATE INDEX invocations_by_owner ON invocations(owner_id, id);
CREATE INDEX invocations_by_owner_queued_at ON invocations(owner_id, queued_at);
-- One function's invocations newest first; also serves the cascade on
-- function delete.
CREATE INDEX invocations_by_function ON invocations(function_id, id);
-- The live work. The partial indexes are keyed on node_id and finished_at
-- rather than state (the CHECK above makes them equivalent): an UPDATE
-- rewrites every index whose columns or WHERE it assigns, and state
-- changes on every transition while these change at most twice, so
-- MarkRunning touches no index at all. They only hold live rows, so they
-- stay as small as the live work.
--   queued:             node_id IS NULL     AND finished_at IS NULL
--   dispatched/running: node_id IS NOT NULL AND finished_at IS NULL
--   final:              finished_at IS NOT NULL
CREATE INDEX invocations_queue ON invocations(queued_at, id)
  WHERE node_id IS NULL AND finished_at IS NULL;
CREATE INDEX invocations_active_by_owner ON invocations(owner_id) WHERE finished_at IS NULL;
-- Leased work by node. Lease expiry scans this index too: the leased set
-- is bounded by the nodes' slots, and leaving lease_deadline unindexed
-- keeps heartbeats (ExtendLeases) from rewriting any index.
CREATE INDEX invocations_leased ON invocations(node_id)
  WHERE node_id IS NOT NULL AND finished_at IS NULL;
CREATE INDEX invocations_finished ON invocations(finished_at) WHERE finished_at IS NOT NULL;

-- Clustered by invocation: one b-tree, and an invocation's events sit
-- together in order.
CREATE TABLE invocation_events (
  invocation_id TEXT    NOT NULL REFERENCES invocations(id) ON DELETE CASCADE,
  seq           INTEGER NOT NULL,
  state         TEXT    NOT NULL,
  at            INTEGER NOT NULL,
  node_id       TEXT,
  detail        TEXT    NOT NULL,
  PRIMARY KEY (invocation_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage (
  user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  month              TEXT    NOT NULL,
  invocations        INTEGER NOT NULL,
  compute_mb_seconds REAL    NOT NULL,
  fuel               INTEGER NOT NULL,
  PRIMARY KEY (user_id, month)
) STRICT, WITHOUT ROWID;
)sql";

// Version 2: usage per user per UTC day, beside the monthly totals, for the
// current month's daily breakdown.
constexpr std::string_view kDailyUsage = R"sql(
CREATE TABLE usage_days (
  user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  day                TEXT    NOT NULL,
  invocations        INTEGER NOT NULL,
  compute_mb_seconds REAL    NOT NULL,
  fuel               INTEGER NOT NULL,
  PRIMARY KEY (user_id, day)
) STRICT, WITHOUT ROWID;
)sql";

// Version 3: the source file a version was compiled from (compiler service).
constexpr std::string_view kFunctionSources = R"sql(
CREATE TABLE function_sources (
  function_id INTEGER NOT NULL,
  version     INTEGER NOT NULL,
  filename    TEXT    NOT NULL,
  text        TEXT    NOT NULL,
  PRIMARY KEY (function_id, version),
  FOREIGN KEY (function_id, version) REFERENCES function_versions (function_id, version)
    ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
)sql";

// Version 4: the tier (interpreter or AOT) each invocation ran on, and the
// tier setting of each function version.
constexpr std::string_view kInvocationTier = R"sql(
ALTER TABLE invocations ADD COLUMN tier TEXT NOT NULL DEFAULT '';
ALTER TABLE function_versions ADD COLUMN tier TEXT NOT NULL DEFAULT 'auto';
)sql";

constexpr std::array<Migration, 4> kMigrations{{
    {1, "initial schema", kInitialSchema},
    {2, "daily usage", kDailyUsage},
    {3, "function sources", kFunctionSources},
    {4, "invocation tier", kInvocationTier},
}};

constexpr std::string_view kCreateVersionTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  checksum   TEXT    NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT;
)sql";

std::string Checksum(std::string_view sql) { return ToHex(Sha256(sql)); }

Status CheckNumbering(std::span<const Migration> migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<std::int64_t>(i) + 1) {
      return Fail("invalid_argument", "migration " + std::to_string(i + 1) + " is numbered " +
                                          std::to_string(migrations[i].version));
    }
  }
  return {};
}

// Every applied step must be one this build knows, with the same SQL.
Status CheckApplied(Db& db, std::span<const Migration> migrations) {
  auto applied = db.Prepare("SELECT version, name, checksum FROM schema_version ORDER BY version");
  if (!applied) return Fail(std::move(applied).error());
  const auto known = static_cast<std::int64_t>(migrations.size());
  for (;;) {
    auto row = applied->Step();
    if (!row) return Fail(std::move(row).error());
    if (!*row) return {};
    const std::int64_t version = applied->Int(0);
    if (version < 1 || version > known) {
      return Fail("io", db.path() + ": the database has schema version " +
                            std::to_string(version) + " (" + applied->Text(1) +
                            ") but this build of milf only knows versions up to " +
                            std::to_string(known) + "; use a newer milf");
    }
    const Migration& migration = migrations[static_cast<std::size_t>(version - 1)];
    if (applied->Text(2) != Checksum(migration.sql)) {
      return Fail("io", db.path() + ": schema migration " + std::to_string(version) + " (" +
                            std::string(migration.name) +
                            ") differs from the one applied to this database");
    }
  }
}

Status Apply(Db& db, const Migration& migration) {
  auto tx = Transaction::Begin(db);
  if (!tx) return Fail(std::move(tx).error());
  // Another process may have applied it since we looked.
  auto current = SchemaVersion(db);
  if (!current) return Fail(std::move(current).error());
  if (*current >= migration.version) return {};
  if (auto ran = db.Exec(migration.sql); !ran) {
    return Fail("io", "schema migration " + std::to_string(migration.version) + " (" +
                          std::string(migration.name) + ") failed: " + ran.error().message);
  }
  auto record = db.Prepare(
      "INSERT INTO schema_version (version, name, checksum, applied_at) "
      "VALUES (?1, ?2, ?3, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))");
  if (!record) return Fail(std::move(record).error());
  record->BindInt(1, migration.version)
      .BindText(2, migration.name)
      .BindText(3, Checksum(migration.sql));
  if (auto ran = record->Run(); !ran) return ran;
  return tx->Commit();
}

}  // namespace

std::span<const Migration> StoreMigrations() { return kMigrations; }

Result<std::int64_t> SchemaVersion(Db& db) {
  auto query = db.Prepare("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!query) return Fail(std::move(query).error());
  auto row = query->Step();
  if (!row) return Fail(std::move(row).error());
  return query->Int(0);
}

Result<std::int64_t> ApplyMigrations(Db& db, std::span<const Migration> migrations) {
  if (auto numbered = CheckNumbering(migrations); !numbered) return Fail(std::move(numbered).error());
  if (auto created = db.Exec(kCreateVersionTable); !created) return Fail(std::move(created).error());
  if (auto checked = CheckApplied(db, migrations); !checked) return Fail(std::move(checked).error());
  auto current = SchemaVersion(db);
  if (!current) return current;
  for (const Migration& migration : migrations) {
    if (migration.version <= *current) continue;
    if (auto applied = Apply(db, migration); !applied) return Fail(std::move(applied).error());
  }
  return SchemaVersion(db);
}

}  // namespace milf::store::sqlite
