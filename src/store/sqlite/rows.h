// Rows: how the store's structs map to SQLite columns. Each k*Columns list
// is the SELECT list its Read* function expects, starting at column 0.
// Read* fail with "io" when a row holds a value the schema's CHECKs should
// have made impossible (a damaged database).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/result.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace milf::store::sqlite {

inline constexpr std::string_view kUserColumns = "id, name, role, password_hash, created_at";
inline constexpr std::string_view kApiKeyColumns =
    "id, user_id, name, prefix, key_hash, created_at, last_used_at";
inline constexpr std::string_view kNodeColumns =
    "id, name, secret_hash, target, created_at, last_seen_at, telemetry_json";
inline constexpr std::string_view kFunctionColumns =
    "id, owner_id, name, latest_version, created_at, updated_at";
inline constexpr std::string_view kVersionColumns =
    "function_id, version, module_sha256, module_size, memory_mb, timeout_ms, fuel, env_json, "
    "entry, created_at, tier";
inline constexpr std::string_view kScheduleColumns =
    "id, function_id, owner_id, cron, input, next_fire_at, created_at";
// Everything, for FindInvocation and the queue.
inline constexpr std::string_view kInvocationColumns =
    "id, owner_id, function_id, function_name, version, state, attempts, node_id, schedule_id, "
    "queued_at, dispatched_at, started_at, finished_at, lease_deadline, result_status, "
    "exit_code, result_message, fuel_used, peak_memory_bytes, wall_micros, output_truncated, "
    "stderr_truncated, output_sha256, input, output, stderr_data, tier";
// The same without the blobs, for listings.
inline constexpr std::string_view kInvocationSummaryColumns =
    "id, owner_id, function_id, function_name, version, state, attempts, node_id, schedule_id, "
    "queued_at, dispatched_at, started_at, finished_at, lease_deadline, result_status, "
    "exit_code, result_message, fuel_used, peak_memory_bytes, wall_micros, output_truncated, "
    "stderr_truncated, output_sha256, NULL, NULL, NULL, tier";
inline constexpr std::string_view kEventColumns = "state, at, node_id, detail";

std::string_view RoleName(Role role);

Result<User> ReadUser(const Query& row);
ApiKey ReadApiKey(const Query& row);
Node ReadNode(const Query& row);
Function ReadFunction(const Query& row);
Result<FunctionVersion> ReadVersion(const Query& row);
Schedule ReadSchedule(const Query& row);
Result<Invocation> ReadInvocation(const Query& row);
Result<InvocationEvent> ReadEvent(const Query& row);

// Function environments are stored as a JSON array of strings.
std::string EncodeEnv(const std::vector<std::string>& env);
Result<std::vector<std::string>> DecodeEnv(std::string_view json);

// Steps `query` to the end, decoding each row with `read` (which returns T
// or Result<T>).
template <class T, class ReadRow>
Result<std::vector<T>> ReadAll(Query& query, ReadRow read) {
  std::vector<T> rows;
  for (;;) {
    auto more = query.Step();
    if (!more) return Fail(std::move(more).error());
    if (!*more) return rows;
    if constexpr (std::is_same_v<decltype(read(query)), T>) {
      rows.push_back(read(query));
    } else {
      auto row = read(query);
      if (!row) return Fail(std::move(row).error());
      rows.push_back(std::move(*row));
    }
  }
}

// Steps `query` once: its first row decoded, or "not_found" with `what`.
template <class T, class ReadRow>
Result<T> ReadOne(Query& query, ReadRow read, std::string_view what) {
  auto more = query.Step();
  if (!more) return Fail(std::move(more).error());
  if (!*more) return Fail("not_found", std::string(what) + " not found");
  return read(query);
}

}  // namespace milf::store::sqlite
