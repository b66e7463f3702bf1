// Usage metering and function statistics: the small aggregates the API
// shows, kept apart from the invocation hot path.
#include <algorithm>
#include <string_view>

#include "store/sqlite/errors.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/stats_queries.h"

namespace milf::store::sqlite {
namespace {

bool IsDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "YYYY-MM" with a month from 01 to 12.
bool IsMonth(std::string_view text) {
  return text.size() == 7 && IsDigits(text.substr(0, 4)) && text[4] == '-' &&
         IsDigits(text.substr(5, 2)) && text.substr(5, 2) >= "01" && text.substr(5, 2) <= "12";
}

// "YYYY-MM-DD" with a day from 01 to 31.
bool IsDay(std::string_view text) {
  return text.size() == 10 && IsMonth(text.substr(0, 7)) && text[7] == '-' &&
         IsDigits(text.substr(8, 2)) && text.substr(8, 2) >= "01" && text.substr(8, 2) <= "31";
}

Status Upsert(Db& db, std::string_view sql, std::int64_t user_id, const std::string& period,
              std::int64_t invocations, double compute_mb_seconds, std::uint64_t fuel) {
  auto upsert = db.Prepare(sql);
  if (!upsert) return Fail(std::move(upsert).error());
  // fuel is unsigned; it is stored as the int64 with the same bits.
  upsert->BindInt(1, user_id)
      .BindText(2, period)
      .BindInt(3, invocations)
      .BindDouble(4, compute_mb_seconds)
      .BindInt(5, static_cast<std::int64_t>(fuel));
  if (auto ran = upsert->Run(); !ran) {
    return Fail(Explain(std::move(ran).error(), "not_found", "user not found"));
  }
  return {};
}

constexpr std::string_view kAddMonthSql =
    "INSERT INTO usage (user_id, month, invocations, compute_mb_seconds, fuel) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, month) DO UPDATE SET "
    "invocations = invocations + excluded.invocations, "
    "compute_mb_seconds = compute_mb_seconds + excluded.compute_mb_seconds, "
    "fuel = fuel + excluded.fuel";

constexpr std::string_view kAddDaySql =
    "INSERT INTO usage_days (user_id, day, invocations, compute_mb_seconds, fuel) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, day) DO UPDATE SET "
    "invocations = invocations + excluded.invocations, "
    "compute_mb_seconds = compute_mb_seconds + excluded.compute_mb_seconds, "
    "fuel = fuel + excluded.fuel";

}  // namespace

Status SqliteStore::AddUsage(std::int64_t user_id, const std::string& period,
                             std::int64_t invocations, double compute_mb_seconds,
                             std::uint64_t fuel) {
  const bool is_day = IsDay(period);
  if (!is_day && !IsMonth(period)) {
    return Fail("invalid_argument", "usage period '" + period + "' is not YYYY-MM-DD or YYYY-MM");
  }
  if (invocations < 0 || compute_mb_seconds < 0) {
    return Fail("invalid_argument", "usage amounts must not be negative");
  }
  return Write([&](Db& db) -> Status {
    if (is_day) {
      if (auto day = Upsert(db, kAddDaySql, user_id, period, invocations, compute_mb_seconds, fuel);
          !day) {
        return day;
      }
    }
    return Upsert(db, kAddMonthSql, user_id, period.substr(0, 7), invocations, compute_mb_seconds,
                  fuel);
  });
}

Result<std::vector<Usage>> SqliteStore::ListUsage(std::int64_t user_id) {
  return Read([&](Db& db) -> Result<std::vector<Usage>> {
    auto query = db.Prepare(
        "SELECT month, invocations, compute_mb_seconds, fuel FROM usage WHERE user_id = ?1 "
        "ORDER BY month DESC");
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, user_id);
    return ReadAll<Usage>(*query, [](const Query& row) {
      return Usage{row.Text(0), row.Int(1), row.Double(2), static_cast<std::uint64_t>(row.Int(3))};
    });
  });
}

Result<std::vector<UsageDay>> SqliteStore::ListUsageDays(std::int64_t user_id,
                                                         const std::string& month) {
  if (!IsMonth(month)) {
    return Fail("invalid_argument", "usage month '" + month + "' is not YYYY-MM");
  }
  return Read([&](Db& db) -> Result<std::vector<UsageDay>> {
    auto query = db.Prepare(kUsageDaysSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, user_id).BindText(2, month + "-00").BindText(3, month + "-32");
    return ReadAll<UsageDay>(*query, [](const Query& row) {
      return UsageDay{row.Text(0), row.Int(1), row.Double(2),
                      static_cast<std::uint64_t>(row.Int(3))};
    });
  });
}

Result<std::vector<FunctionStats>> SqliteStore::ListFunctionStats(std::int64_t owner_id,
                                                                  Millis since) {
  return Read([&](Db& db) -> Result<std::vector<FunctionStats>> {
    auto query = db.Prepare(kFunctionStatsSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, owner_id).BindInt(2, since);
    return ReadAll<FunctionStats>(*query, [](const Query& row) -> Result<FunctionStats> {
      FunctionStats stats{row.Int(0), row.Text(1), row.Int(2), row.Int(3), row.Int(4),
                          row.Int(5), std::nullopt};
      if (const auto state = row.OptText(6)) {
        stats.last_final_state = ParseState(*state);
        if (!stats.last_final_state) {
          return Fail("io", "invocation state '" + *state + "' is not a known state");
        }
      }
      return stats;
    });
  });
}

Result<std::vector<NodeTier>> SqliteStore::ListNodeTiers(std::int64_t owner_id,
                                                         std::int64_t function_id,
                                                         std::int64_t version) {
  return Read([&](Db& db) -> Result<std::vector<NodeTier>> {
    auto query = db.Prepare(kNodeTiersSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, owner_id).BindInt(2, function_id).BindInt(3, version);
    return ReadAll<NodeTier>(*query, [](const Query& row) -> Result<NodeTier> {
      return NodeTier{row.Text(0), row.Text(1), row.Int(2)};
    });
  });
}

}  // namespace milf::store::sqlite
