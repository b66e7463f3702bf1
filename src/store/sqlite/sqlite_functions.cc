// Modules, functions with their versions, and schedules.
#include "base/sha256.h"
#include "store/sqlite/errors.h"
#include "store/sqlite/sqlite_store.h"

namespace milf::store::sqlite {
namespace {

Status CheckSettings(const FunctionSettings& settings) {
  if (settings.memory_mb <= 0) return Fail("invalid_argument", "memory_mb must be positive");
  if (settings.timeout_ms <= 0) return Fail("invalid_argument", "timeout_ms must be positive");
  if (settings.fuel && *settings.fuel < 0) {
    return Fail("invalid_argument", "fuel must not be negative");
  }
  return {};
}

}  // namespace

Status SqliteStore::PutModule(const std::string& sha256, const std::vector<std::uint8_t>& bytes,
                              Millis now) {
  // Content addressing is only as good as the address: a wrong hash would
  // let one upload shadow another module.
  if (Sha256Hex(bytes) != sha256) {
    return Fail("invalid_argument", "module hash " + sha256 + " does not match its bytes");
  }
  return Write([&](Db& db) -> Status {
    auto insert = db.Prepare(
        "INSERT INTO modules (sha256, size, created_at, bytes) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (sha256) DO NOTHING");
    if (!insert) return Fail(std::move(insert).error());
    return insert->BindText(1, sha256)
        .BindInt(2, static_cast<std::int64_t>(bytes.size()))
        .BindInt(3, now)
        .BindBlob(4, bytes)
        .Run();
  });
}

Result<std::vector<std::uint8_t>> SqliteStore::GetModule(const std::string& sha256) {
  return Read([&](Db& db) -> Result<std::vector<std::uint8_t>> {
    auto query = db.Prepare("SELECT bytes FROM modules WHERE sha256 = ?1");
    if (!query) return Fail(std::move(query).error());
    query->BindText(1, sha256);
    return ReadOne<std::vector<std::uint8_t>>(
        *query, [](const Query& row) { return row.Blob(0); }, "module");
  });
}

Result<FunctionVersion> SqliteStore::PutFunction(std::int64_t owner_id, const std::string& name,
                                                 const std::string& module_sha256,
                                                 std::int64_t module_size,
                                                 const FunctionSettings& settings, Millis now) {
  if (name.empty()) return Fail("invalid_argument", "the function name is empty");
  if (module_size < 0) return Fail("invalid_argument", "module_size must not be negative");
  if (auto checked = CheckSettings(settings); !checked) return Fail(std::move(checked).error());
  return Write([&](Db& db) -> Result<FunctionVersion> {
    auto upsert = db.Prepare(
        "INSERT INTO functions (owner_id, name, latest_version, created_at, updated_at) "
        "VALUES (?1, ?2, 1, ?3, ?3) ON CONFLICT (owner_id, name) DO UPDATE SET "
        "latest_version = latest_version + 1, updated_at = excluded.updated_at "
        "RETURNING id, latest_version");
    if (!upsert) return Fail(std::move(upsert).error());
    upsert->BindInt(1, owner_id).BindText(2, name).BindInt(3, now);
    auto row = upsert->Step();
    if (!row) return Fail(Explain(std::move(row).error(), "not_found", "user not found"));
    FunctionVersion version{upsert->Int(0), upsert->Int(1), module_sha256, module_size, settings,
                            now};
    auto insert = db.Prepare(
        "INSERT INTO function_versions (function_id, version, module_sha256, module_size, "
        "memory_mb, timeout_ms, fuel, env_json, entry, created_at, tier) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!insert) return Fail(std::move(insert).error());
    insert->BindInt(1, version.function_id)
        .BindInt(2, version.version)
        .BindText(3, module_sha256)
        .BindInt(4, module_size)
        .BindInt(5, settings.memory_mb)
        .BindInt(6, settings.timeout_ms)
        .BindOptInt(7, settings.fuel)
        .BindText(8, EncodeEnv(settings.env))
        .BindText(9, settings.entry)
        .BindInt(10, now)
        .BindText(11, settings.tier);
    if (auto ran = insert->Run(); !ran) {
      return Fail(Explain(std::move(ran).error(), "not_found",
                          "module " + module_sha256 + " is not stored"));
    }
    return version;
  });
}

Result<Function> SqliteStore::FindFunction(std::int64_t owner_id, const std::string& name) {
  return Read([&](Db& db) -> Result<Function> {
    static const std::string kSql = "SELECT " + std::string(kFunctionColumns) +
                                    " FROM functions WHERE owner_id = ?1 AND name = ?2";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, owner_id).BindText(2, name);
    return ReadOne<Function>(*query, ReadFunction, "function");
  });
}

Result<std::vector<Function>> SqliteStore::ListFunctions(std::int64_t owner_id) {
  return Read([&](Db& db) -> Result<std::vector<Function>> {
    static const std::string kSql = "SELECT " + std::string(kFunctionColumns) +
                                    " FROM functions WHERE owner_id = ?1 ORDER BY name";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, owner_id);
    return ReadAll<Function>(*query, ReadFunction);
  });
}

Result<std::vector<FunctionVersion>> SqliteStore::ListVersions(std::int64_t owner_id,
                                                               const std::string& name) {
  auto versions = Read([&](Db& db) -> Result<std::vector<FunctionVersion>> {
    auto query = db.Prepare(
        "SELECT v.function_id, v.version, v.module_sha256, v.module_size, v.memory_mb, "
        "v.timeout_ms, v.fuel, v.env_json, v.entry, v.created_at, v.tier "
        "FROM function_versions v JOIN functions f ON f.id = v.function_id "
        "WHERE f.owner_id = ?1 AND f.name = ?2 ORDER BY v.version");
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, owner_id).BindText(2, name);
    return ReadAll<FunctionVersion>(*query, ReadVersion);
  });
  // Every function has at least one version, so none means no function.
  if (versions && versions->empty()) return Fail("not_found", "function not found");
  return versions;
}

Result<FunctionVersion> SqliteStore::GetVersion(std::int64_t function_id, std::int64_t version) {
  return Read([&](Db& db) -> Result<FunctionVersion> {
    static const std::string kSql = "SELECT " + std::string(kVersionColumns) +
                                    " FROM function_versions WHERE function_id = ?1 AND version = ?2";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, function_id).BindInt(2, version);
    return ReadOne<FunctionVersion>(*query, ReadVersion, "function version");
  });
}

Status SqliteStore::DeleteFunction(std::int64_t owner_id, const std::string& name) {
  // Cascades to the function's versions, schedules and invocations.
  return Write([&](Db& db) -> Status {
    auto remove = db.Prepare("DELETE FROM functions WHERE owner_id = ?1 AND name = ?2");
    if (!remove) return Fail(std::move(remove).error());
    if (auto ran = remove->BindInt(1, owner_id).BindText(2, name).Run(); !ran) return ran;
    return NotFoundUnlessChanged(db, "function");
  });
}

Result<Schedule> SqliteStore::AddSchedule(const Schedule& schedule) {
  if (schedule.cron.empty()) return Fail("invalid_argument", "the cron expression is empty");
  return Write([&](Db& db) -> Result<Schedule> {
    auto insert = db.Prepare(
        "INSERT INTO schedules (function_id, owner_id, cron, input, next_fire_at, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id");
    if (!insert) return Fail(std::move(insert).error());
    insert->BindInt(1, schedule.function_id)
        .BindInt(2, schedule.owner_id)
        .BindText(3, schedule.cron)
        .BindBlob(4, schedule.input)
        .BindInt(5, schedule.next_fire_at)
        .BindInt(6, schedule.created_at);
    auto row = insert->Step();
    if (!row) return Fail(Explain(std::move(row).error(), "not_found", "function not found"));
    Schedule added = schedule;
    added.id = insert->Int(0);
    return added;
  });
}

Result<std::vector<Schedule>> SqliteStore::ListSchedules(std::int64_t owner_id,
                                                         std::int64_t function_id) {
  return Read([&](Db& db) -> Result<std::vector<Schedule>> {
    static const std::string kSql =
        "SELECT " + std::string(kScheduleColumns) +
        " FROM schedules WHERE function_id = ?1 AND owner_id = ?2 ORDER BY id";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, function_id).BindInt(2, owner_id);
    return ReadAll<Schedule>(*query, ReadSchedule);
  });
}

Status SqliteStore::RemoveSchedule(std::int64_t owner_id, std::int64_t schedule_id) {
  return Write([&](Db& db) -> Status {
    auto remove = db.Prepare("DELETE FROM schedules WHERE id = ?1 AND owner_id = ?2");
    if (!remove) return Fail(std::move(remove).error());
    if (auto ran = remove->BindInt(1, schedule_id).BindInt(2, owner_id).Run(); !ran) return ran;
    return NotFoundUnlessChanged(db, "schedule");
  });
}

Result<std::vector<Schedule>> SqliteStore::DueSchedules(Millis now) {
  return Read([&](Db& db) -> Result<std::vector<Schedule>> {
    static const std::string kSql = "SELECT " + std::string(kScheduleColumns) +
                                    " FROM schedules WHERE next_fire_at <= ?1 "
                                    "ORDER BY next_fire_at, id";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, now);
    return ReadAll<Schedule>(*query, ReadSchedule);
  });
}

}  // namespace milf::store::sqlite
