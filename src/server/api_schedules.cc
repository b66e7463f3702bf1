// /api/v1/functions/{name}/schedules: cron schedules of a function. Each
// tick fires once (Store::FireSchedule); the scheduler's tick does the
// firing, these routes only keep the list.
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

#include "base/encoding.h"
#include "server/api.h"
#include "server/cron.h"
#include "server/scheduler_core.h"

namespace milf::server {
namespace {

constexpr std::size_t kMaxSchedulesPerFunction = 100;
constexpr std::size_t kMaxScheduleInput = 1u << 20;

boost::json::object ScheduleJson(const store::Schedule& schedule) {
  return {{"id", schedule.id},
          {"cron", schedule.cron},
          {"next_fire_at", schedule.next_fire_at},
          {"created_at", schedule.created_at},
          {"input", Base64Encode(schedule.input)}};
}

// The caller's function {name}, or the 404 answer.
Result<store::Function, HttpResponse> FindOwnFunction(store::Store& store,
                                                      const HandlerContext& ctx) {
  const std::string& name = ctx.params.at("name");
  const auto not_found = [&] {
    return Fail(ErrorResponse(404, "not_found", "no function named '" + name + "'"));
  };
  if (!IsValidFunctionName(name)) return not_found();
  auto function = store.FindFunction(ctx.principal->user_id, name);
  if (!function) {
    if (function.error().code == "not_found") return not_found();
    return Fail(StoreErrorResponse(function.error()));
  }
  return std::move(*function);
}

void HandleList(store::Store& store, HandlerContext& ctx) {
  auto function = FindOwnFunction(store, ctx);
  if (!function) return ctx.reply(function.error());
  auto schedules = store.ListSchedules(ctx.principal->user_id, function->id);
  if (!schedules) return ctx.reply(StoreErrorResponse(schedules.error()));
  boost::json::array list;
  for (const store::Schedule& schedule : *schedules) list.push_back(ScheduleJson(schedule));
  ctx.reply(Json(200, boost::json::object{{"schedules", std::move(list)}}));
}

void HandleAdd(SchedulerCore& core, store::Store& store, HandlerContext& ctx) {
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  const auto text = StringMember(*body, "cron");
  if (!text) return ctx.reply(ErrorResponse(400, "bad_request", "cron must be a string"));
  auto cron = CronExpr::Parse(*text);
  if (!cron) return ctx.reply(ErrorResponse(400, "bad_request", cron.error().message));
  std::vector<std::uint8_t> input;
  if (const boost::json::value* value = body->if_contains("input");
      value != nullptr && !value->is_null()) {
    std::optional<std::vector<std::uint8_t>> decoded;
    if (value->is_string()) {
      const boost::json::string& encoded = value->as_string();
      decoded = Base64Decode(std::string_view(encoded.data(), encoded.size()));
    }
    if (!decoded) return ctx.reply(ErrorResponse(400, "bad_request", "input must be base64"));
    if (decoded->size() > kMaxScheduleInput) {
      return ctx.reply(ErrorResponse(413, "too_large", "a schedule's input is at most 1 MiB"));
    }
    input = std::move(*decoded);
  }
  auto function = FindOwnFunction(store, ctx);
  if (!function) return ctx.reply(function.error());
  auto existing = store.ListSchedules(ctx.principal->user_id, function->id);
  if (!existing) return ctx.reply(StoreErrorResponse(existing.error()));
  if (existing->size() >= kMaxSchedulesPerFunction) {
    return ctx.reply(ErrorResponse(
        400, "bad_request",
        "a function has at most " + std::to_string(kMaxSchedulesPerFunction) + " schedules"));
  }
  const store::Millis now = core.Now();
  const auto next = cron->NextAfter(now);
  if (!next) return ctx.reply(ErrorResponse(400, "bad_request", "the expression never fires"));
  store::Schedule schedule;
  schedule.function_id = function->id;
  schedule.owner_id = ctx.principal->user_id;
  schedule.cron = cron->text();
  schedule.input = std::move(input);
  schedule.next_fire_at = *next;
  schedule.created_at = now;
  auto added = store.AddSchedule(schedule);
  if (!added) return ctx.reply(StoreErrorResponse(added.error()));
  ctx.reply(Json(201, ScheduleJson(*added)));
}

void HandleRemove(store::Store& store, HandlerContext& ctx) {
  const std::string& text = ctx.params.at("id");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  const auto not_found = ErrorResponse(404, "not_found", "no schedule " + text);
  if (ec != std::errc() || end != text.data() + text.size()) return ctx.reply(not_found);
  auto function = FindOwnFunction(store, ctx);
  if (!function) return ctx.reply(function.error());
  auto schedules = store.ListSchedules(ctx.principal->user_id, function->id);
  if (!schedules) return ctx.reply(StoreErrorResponse(schedules.error()));
  if (std::none_of(schedules->begin(), schedules->end(),
                   [&](const store::Schedule& s) { return s.id == id; })) {
    return ctx.reply(not_found);
  }
  auto removed = store.RemoveSchedule(ctx.principal->user_id, id);
  if (!removed) return ctx.reply(StoreErrorResponse(removed.error()));
  ctx.reply(NoContent());
}

}  // namespace

void AddScheduleRoutes(Router& router, std::shared_ptr<SchedulerCore> core, store::Store& store) {
  router.Add("GET", "/api/v1/functions/{name}/schedules", Access::kUser,
             [&store](HandlerContext& ctx) { HandleList(store, ctx); });
  router.Add("POST", "/api/v1/functions/{name}/schedules", Access::kUser,
             [core, &store](HandlerContext& ctx) { HandleAdd(*core, store, ctx); });
  router.Add("DELETE", "/api/v1/functions/{name}/schedules/{id}", Access::kUser,
             [&store](HandlerContext& ctx) { HandleRemove(store, ctx); });
}

}  // namespace milf::server
