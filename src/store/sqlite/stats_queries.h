// The SQL of the statistics reads (sqlite_stats.cc), kept here so that a
// test can check their plans with EXPLAIN QUERY PLAN.
#pragma once

#include <string_view>

namespace milf::store::sqlite {

// ?1 owner, ?2 since. One row per function of the owner, by name: id, name,
// invocations, errors, finished, summed wall_micros, and the state of the
// newest finished invocation (NULL if none). The window's rows come from
// invocations_by_owner_queued_at and each function's newest finished one
// from invocations_by_function, walked from the newest id down past the
// few still in flight.
inline constexpr std::string_view kFunctionStatsSql = R"sql(
SELECT f.id, f.name,
       coalesce(w.invocations, 0), coalesce(w.errors, 0), coalesce(w.finished, 0),
       coalesce(w.wall_micros, 0),
       (SELECT l.state FROM invocations AS l INDEXED BY invocations_by_function
         WHERE l.function_id = f.id AND l.finished_at IS NOT NULL
         ORDER BY l.id DESC LIMIT 1)
FROM functions AS f
LEFT JOIN (
  SELECT function_id,
         count(*) AS invocations,
         sum(state IN ('failed', 'timed_out')) AS errors,
         count(finished_at) AS finished,
         sum(CASE WHEN finished_at IS NOT NULL THEN wall_micros END) AS wall_micros
  FROM invocations INDEXED BY invocations_by_owner_queued_at
  WHERE owner_id = ?1 AND queued_at >= ?2
  GROUP BY function_id
) AS w ON w.function_id = f.id
WHERE f.owner_id = ?1
ORDER BY f.name
)sql";

// ?1 user, ?2 and ?3 bound the days (exclusive): the primary key's range.
inline constexpr std::string_view kUsageDaysSql =
    "SELECT day, invocations, compute_mb_seconds, fuel FROM usage_days "
    "WHERE user_id = ?1 AND day > ?2 AND day < ?3 ORDER BY day";

// ?1 owner, ?2 function, ?3 version. Per node: node id, the tier of its
// newest finished invocation of that version, and when that finished.
// SQLite takes the bare column `tier` from the row that holds max().
inline constexpr std::string_view kNodeTiersSql = R"sql(
SELECT node_id, tier, max(finished_at) FROM invocations INDEXED BY invocations_by_function
 WHERE function_id = ?2 AND owner_id = ?1 AND version = ?3
   AND finished_at IS NOT NULL AND tier != ''
 GROUP BY node_id ORDER BY node_id
)sql";

}  // namespace milf::store::sqlite
