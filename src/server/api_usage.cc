// /api/v1/usage (own) and /api/v1/users/{name}/quota (admin): metered usage
// per month and per day of the current month, and the limits QuotaLedger
// enforces.
#include <boost/json.hpp>

#include <algorithm>
#include <iterator>

#include "server/api.h"
#include "server/cron.h"
#include "server/scheduler_core.h"

namespace milf::server {
namespace {

boost::json::object QuotaJson(const store::Quota& quota) {
  return {{"max_concurrent", quota.max_concurrent},
          {"max_per_day", quota.max_per_day},
          {"max_memory_mb", quota.max_memory_mb}};
}

void HandleUsage(SchedulerCore& core, store::Store& store, HandlerContext& ctx) {
  const std::int64_t user = ctx.principal->user_id;
  // Usage is metered in memory and written on every tick; write it now so
  // the answer includes the invocations that just finished.
  core.FlushUsage();
  const store::Millis now = core.Now();
  auto months = store.ListUsage(user);
  if (!months) return ctx.reply(StoreErrorResponse(months.error()));
  auto days = store.ListUsageDays(user, UtcMonth(now));
  if (!days) return ctx.reply(StoreErrorResponse(days.error()));
  auto quota = store.GetQuota(user);
  if (!quota) return ctx.reply(StoreErrorResponse(quota.error()));
  auto today = store.CountSince(user, UtcDayStart(now));
  if (!today) return ctx.reply(StoreErrorResponse(today.error()));
  auto active = store.CountActive(user);
  if (!active) return ctx.reply(StoreErrorResponse(active.error()));
  boost::json::array list;
  for (const store::Usage& usage : *months) {
    list.push_back(boost::json::object{{"month", usage.month},
                                       {"invocations", usage.invocations},
                                       {"compute_mb_seconds", usage.compute_mb_seconds},
                                       {"fuel", usage.fuel}});
  }
  boost::json::array day_list;
  for (const store::UsageDay& day : *days) {
    day_list.push_back(boost::json::object{{"day", day.day},
                                           {"invocations", day.invocations},
                                           {"compute_mb_seconds", day.compute_mb_seconds},
                                           {"fuel", day.fuel}});
  }
  ctx.reply(Json(200, boost::json::object{{"months", std::move(list)},
                                          {"days", std::move(day_list)},
                                          {"quota", QuotaJson(*quota)},
                                          {"today", boost::json::object{{"invocations", *today}}},
                                          {"active", *active}}));
}

void HandleSetQuota(SchedulerCore& core, store::Store& store, HandlerContext& ctx) {
  const std::string& name = ctx.params.at("name");
  auto user = store.FindUserByName(name);
  if (!user) {
    if (user.error().code == "not_found") {
      return ctx.reply(ErrorResponse(404, "not_found", "no user named '" + name + "'"));
    }
    return ctx.reply(StoreErrorResponse(user.error()));
  }
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  auto quota = store.GetQuota(user->id);
  if (!quota) return ctx.reply(StoreErrorResponse(quota.error()));
  // Fields left out keep their values.
  const std::pair<const char*, std::int64_t*> fields[] = {
      {"max_concurrent", &quota->max_concurrent},
      {"max_per_day", &quota->max_per_day},
      {"max_memory_mb", &quota->max_memory_mb},
  };
  for (const auto& [key, value] : *body) {
    const auto field = std::find_if(std::begin(fields), std::end(fields),
                                    [&](const auto& f) { return key == f.first; });
    if (field == std::end(fields)) {
      return ctx.reply(
          ErrorResponse(400, "bad_request", "unknown quota field '" + std::string(key) + "'"));
    }
    const auto number = IntMember(*body, key);
    if (!number || *number < 0) {
      return ctx.reply(
          ErrorResponse(400, "bad_request", std::string(key) + " must be a non-negative integer"));
    }
    *field->second = *number;
  }
  if (auto set = store.SetQuota(user->id, *quota); !set) {
    return ctx.reply(StoreErrorResponse(set.error()));
  }
  core.ledger().Forget(user->id);
  ctx.reply(NoContent());
}

}  // namespace

void AddUsageRoutes(Router& router, std::shared_ptr<SchedulerCore> core, store::Store& store) {
  router.Add("GET", "/api/v1/usage", Access::kUser,
             [core, &store](HandlerContext& ctx) { HandleUsage(*core, store, ctx); });
  router.Add("PUT", "/api/v1/users/{name}/quota", Access::kAdmin,
             [core, &store](HandlerContext& ctx) { HandleSetQuota(*core, store, ctx); });
}

}  // namespace milf::server
