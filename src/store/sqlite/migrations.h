// Schema migrations: an ordered, append-only list of SQL steps. Step N
// turns schema N-1 into schema N; a released step is never edited, only
// followed by a new one. Each step runs in its own transaction together with
// its row in schema_version (version, name, checksum of the SQL, time), so a
// failed step leaves the database exactly at the previous version.
//
// Opening a database whose schema is newer than the steps this build knows
// fails, as does one where an applied step's SQL no longer matches its
// recorded checksum (someone edited a released migration).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/result.h"
#include "store/sqlite/sqlite_db.h"

namespace milf::store::sqlite {

struct Migration {
  std::int64_t version;  // 1, 2, ... without gaps
  std::string_view name;
  std::string_view sql;
};

// The store's schema history.
std::span<const Migration> StoreMigrations();

// Brings `db` up to the last of `migrations` (which must be numbered 1..N
// in order); returns the schema version the database is at afterwards.
// Safe to run from several processes at once: each step re-checks the
// version inside its transaction.
Result<std::int64_t> ApplyMigrations(Db& db, std::span<const Migration> migrations);

// The highest version recorded in schema_version; 0 for a new database.
Result<std::int64_t> SchemaVersion(Db& db);

}  // namespace milf::store::sqlite
