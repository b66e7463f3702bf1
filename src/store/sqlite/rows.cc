#include "store/sqlite/rows.h"

#include <boost/json.hpp>

namespace milf::store::sqlite {
namespace {

Error Damaged(std::string_view what) {
  return Error{"io", "the database holds an invalid " + std::string(what)};
}

InvocationResult ReadResult(const Query& row) {
  InvocationResult result;
  result.status = row.Text(14);
  result.exit_code = static_cast<int>(row.Int(15));
  result.message = row.Text(16);
  // Unsigned counters are stored as their two's-complement int64.
  result.fuel_used = static_cast<std::uint64_t>(row.Int(17));
  result.peak_memory_bytes = static_cast<std::uint64_t>(row.Int(18));
  result.wall_micros = row.Int(19);
  result.output_truncated = row.Int(20) != 0;
  result.stderr_truncated = row.Int(21) != 0;
  result.output_sha256 = row.Text(22);
  result.output = row.Blob(24);
  result.stderr_data = row.Blob(25);
  result.tier = row.Text(26);
  return result;
}

}  // namespace

std::string_view RoleName(Role role) { return role == Role::kAdmin ? "admin" : "developer"; }

Result<User> ReadUser(const Query& row) {
  User user;
  user.id = row.Int(0);
  user.name = row.Text(1);
  const std::string role = row.Text(2);
  if (role == "admin") {
    user.role = Role::kAdmin;
  } else if (role == "developer") {
    user.role = Role::kDeveloper;
  } else {
    return Fail(Damaged("role '" + role + "'"));
  }
  user.password_hash = row.Text(3);
  user.created_at = row.Int(4);
  return user;
}

ApiKey ReadApiKey(const Query& row) {
  ApiKey key;
  key.id = row.Int(0);
  key.user_id = row.Int(1);
  key.name = row.Text(2);
  key.prefix = row.Text(3);
  key.key_hash = row.Text(4);
  key.created_at = row.Int(5);
  key.last_used_at = row.OptInt(6);
  return key;
}

Node ReadNode(const Query& row) {
  Node node;
  node.id = row.Text(0);
  node.name = row.Text(1);
  node.secret_hash = row.Text(2);
  node.target = row.Text(3);
  node.created_at = row.Int(4);
  node.last_seen_at = row.Int(5);
  node.telemetry_json = row.Text(6);
  return node;
}

Function ReadFunction(const Query& row) {
  Function function;
  function.id = row.Int(0);
  function.owner_id = row.Int(1);
  function.name = row.Text(2);
  function.latest_version = row.Int(3);
  function.created_at = row.Int(4);
  function.updated_at = row.Int(5);
  return function;
}

Result<FunctionVersion> ReadVersion(const Query& row) {
  FunctionVersion version;
  version.function_id = row.Int(0);
  version.version = row.Int(1);
  version.module_sha256 = row.Text(2);
  version.module_size = row.Int(3);
  version.settings.memory_mb = row.Int(4);
  version.settings.timeout_ms = row.Int(5);
  version.settings.fuel = row.OptInt(6);
  auto env = DecodeEnv(row.Text(7));
  if (!env) return Fail(std::move(env).error());
  version.settings.env = std::move(*env);
  version.settings.entry = row.Text(8);
  version.created_at = row.Int(9);
  version.settings.tier = row.Text(10);
  return version;
}

Schedule ReadSchedule(const Query& row) {
  Schedule schedule;
  schedule.id = row.Int(0);
  schedule.function_id = row.Int(1);
  schedule.owner_id = row.Int(2);
  schedule.cron = row.Text(3);
  schedule.input = row.Blob(4);
  schedule.next_fire_at = row.Int(5);
  schedule.created_at = row.Int(6);
  return schedule;
}

Result<Invocation> ReadInvocation(const Query& row) {
  Invocation invocation;
  invocation.id = row.Text(0);
  invocation.owner_id = row.Int(1);
  invocation.function_id = row.Int(2);
  invocation.function_name = row.Text(3);
  invocation.version = row.Int(4);
  const std::string state = row.Text(5);
  const auto parsed = ParseState(state);
  if (!parsed) return Fail(Damaged("invocation state '" + state + "'"));
  invocation.state = *parsed;
  invocation.attempts = static_cast<int>(row.Int(6));
  invocation.node_id = row.OptText(7);
  invocation.schedule_id = row.OptInt(8);
  invocation.queued_at = row.Int(9);
  invocation.dispatched_at = row.OptInt(10);
  invocation.started_at = row.OptInt(11);
  invocation.finished_at = row.OptInt(12);
  invocation.lease_deadline = row.OptInt(13);
  if (!row.IsNull(14)) invocation.result = ReadResult(row);
  invocation.input = row.Blob(23);
  return invocation;
}

Result<InvocationEvent> ReadEvent(const Query& row) {
  InvocationEvent event;
  const std::string state = row.Text(0);
  const auto parsed = ParseState(state);
  if (!parsed) return Fail(Damaged("event state '" + state + "'"));
  event.state = *parsed;
  event.at = row.Int(1);
  event.node_id = row.OptText(2);
  event.detail = row.Text(3);
  return event;
}

std::string EncodeEnv(const std::vector<std::string>& env) {
  boost::json::array array;
  array.reserve(env.size());
  for (const std::string& entry : env) array.emplace_back(entry);
  return boost::json::serialize(array);
}

Result<std::vector<std::string>> DecodeEnv(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_array()) return Fail(Damaged("function environment"));
  std::vector<std::string> env;
  for (const boost::json::value& entry : value.as_array()) {
    if (!entry.is_string()) return Fail(Damaged("function environment"));
    env.emplace_back(entry.as_string());
  }
  return env;
}

}  // namespace milf::store::sqlite
