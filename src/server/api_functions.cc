// /api/v1/functions: upload (validated by the execution core, stored
// content-addressed, one immutable version per upload), list, show, delete.
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <span>

#include "base/sha256.h"
#include "server/api.h"
#include "wasm/instrument.h"

namespace milf::server {
namespace {

constexpr std::int64_t kMaxMemoryMb = 4096;
constexpr std::int64_t kMaxTimeoutMs = 15 * 60 * 1000;
constexpr std::int64_t kMaxFuel = 1'000'000'000'000'000;
constexpr std::size_t kMaxEnv = 64;
constexpr std::size_t kMaxEnvEntry = 4096;
constexpr std::size_t kMaxEntry = 256;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;
constexpr std::uint32_t kPagesPerMb = 16;  // 64 KiB WebAssembly pages

std::optional<std::int64_t> ParseInt(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool IsEnvEntry(const std::string& entry) {
  const std::size_t equals = entry.find('=');
  if (equals == 0 || equals == std::string::npos || entry.size() > kMaxEnvEntry) return false;
  const auto is_key_char = [](char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  return !(entry[0] >= '0' && entry[0] <= '9') &&
         std::all_of(entry.begin(), entry.begin() + equals, is_key_char) &&
         entry.find('\0') == std::string::npos;
}

bool IsEntryName(const std::string& entry) {
  return entry.size() <= kMaxEntry &&
         std::all_of(entry.begin(), entry.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

// Settings from the query string, within bounds; the 400 answer otherwise.
// Keys in `also_allowed` are the caller's own and skipped here.
Result<store::FunctionSettings, HttpResponse> ParseSettings(
    const HttpRequest& request, std::span<const std::string_view> also_allowed) {
  const auto bad = [](const std::string& message) {
    return Fail(ErrorResponse(400, "bad_request", message));
  };
  store::FunctionSettings settings;
  for (const auto& [key, value] : request.query) {
    if (key == "memory_mb" || key == "timeout_ms" || key == "fuel") {
      const auto number = ParseInt(value);
      const std::int64_t max =
          key == "memory_mb" ? kMaxMemoryMb : key == "timeout_ms" ? kMaxTimeoutMs : kMaxFuel;
      if (!number || *number < 1 || *number > max) {
        return bad(key + " must be an integer from 1 to " + std::to_string(max));
      }
      if (key == "memory_mb") settings.memory_mb = *number;
      if (key == "timeout_ms") settings.timeout_ms = *number;
      if (key == "fuel") settings.fuel = *number;
    } else if (key == "env") {
      if (!IsEnvEntry(value)) return bad("env entries are KEY=VALUE with KEY of [A-Za-z0-9_]");
      if (settings.env.size() == kMaxEnv) return bad("at most 64 env entries");
      settings.env.push_back(value);
    } else if (key == "tier") {
      if (value != "auto" && value != "interp" && value != "aot") {
        return bad("tier must be auto, interp or aot");
      }
      settings.tier = value;
    } else if (key == "entry") {
      if (!IsEntryName(value)) return bad("entry must be an export name of printable characters");
      settings.entry = value;
    } else if (std::find(also_allowed.begin(), also_allowed.end(), key) == also_allowed.end()) {
      return bad("unknown setting '" + key + "'");
    }
  }
  return settings;
}

boost::json::object SettingsJson(const store::FunctionSettings& settings) {
  boost::json::array env;
  for (const std::string& entry : settings.env) env.push_back(boost::json::string(entry));
  return {{"memory_mb", settings.memory_mb},
          {"timeout_ms", settings.timeout_ms},
          {"fuel", settings.fuel ? boost::json::value(*settings.fuel) : boost::json::value(nullptr)},
          {"env", std::move(env)},
          {"entry", settings.entry},
          {"tier", settings.tier}};
}

boost::json::object VersionJson(const store::FunctionVersion& version) {
  return {{"version", version.version},
          {"module_sha256", version.module_sha256},
          {"module_size", version.module_size},
          {"settings", SettingsJson(version.settings)},
          {"created_at", version.created_at}};
}

}  // namespace

Result<store::FunctionSettings, HttpResponse> CheckDeployRequest(
    ApiContext& api, const HandlerContext& ctx, std::span<const std::string_view> also_allowed) {
  const std::string& name = ctx.params.at("name");
  if (!IsValidFunctionName(name)) {
    return Fail(ErrorResponse(400, "bad_request",
                              "function names are 1-63 of [a-z0-9_-], starting with [a-z0-9]"));
  }
  auto settings = ParseSettings(ctx.request, also_allowed);
  if (!settings) return settings;
  auto quota = api.store.GetQuota(ctx.principal->user_id);
  if (!quota) return Fail(StoreErrorResponse(quota.error()));
  if (settings->memory_mb > quota->max_memory_mb) {
    return Fail(ErrorResponse(
        429, "quota_exceeded",
        "memory per function: " + std::to_string(settings->memory_mb) + " MB asked, " +
            std::to_string(quota->max_memory_mb) + " MB allowed"));
  }
  return settings;
}

Result<DeployedModule, HttpResponse> DeployModule(ApiContext& api, std::int64_t owner,
                                                  const std::string& name,
                                                  std::span<const std::uint8_t> bytes,
                                                  const store::FunctionSettings& settings) {
  wasm::InstrumentOptions options;
  options.max_memory_pages = static_cast<std::uint32_t>(settings.memory_mb) * kPagesPerMb;
  if (auto checked = wasm::Instrument(bytes, options); !checked) {
    return Fail(ErrorResponse(400, "invalid_module", checked.error().message));
  }
  const std::string sha256 = Sha256Hex(bytes);
  const store::Millis now = api.NowMillis();
  if (auto stored = api.store.PutModule(sha256, {bytes.begin(), bytes.end()}, now); !stored) {
    return Fail(StoreErrorResponse(stored.error()));
  }
  auto version = api.store.PutFunction(owner, name, sha256, static_cast<std::int64_t>(bytes.size()),
                                       settings, now);
  if (!version) return Fail(StoreErrorResponse(version.error()));
  if (api.module_deployed) api.module_deployed(sha256, settings.memory_mb);
  boost::json::object json{{"name", name},
                           {"version", version->version},
                           {"module_sha256", sha256},
                           {"module_size", version->module_size},
                           {"settings", SettingsJson(settings)}};
  return DeployedModule{std::move(*version), std::move(json)};
}

namespace {

void HandlePut(ApiContext& api, HandlerContext& ctx) {
  auto settings = CheckDeployRequest(api, ctx, {});
  if (!settings) return ctx.reply(settings.error());
  if (ctx.request.body.empty()) {
    return ctx.reply(ErrorResponse(400, "invalid_module", "the body must be a .wasm module"));
  }
  // The body stays alive in the request until the reply is sent.
  api.run_blocking([&api, reply = ctx.reply, owner = ctx.principal->user_id,
                    name = ctx.params.at("name"), &body = ctx.request.body,
                    settings = std::move(*settings)] {
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(body.data()),
                                              body.size());
    auto deployed = DeployModule(api, owner, name, bytes, settings);
    reply(deployed ? Json(201, deployed->json) : deployed.error());
  });
}

// Per function id, over the owner's invocations of the last 24 hours.
Result<std::map<std::int64_t, store::FunctionStats>> DailyStats(ApiContext& api,
                                                                std::int64_t owner) {
  auto stats = api.store.ListFunctionStats(owner, api.NowMillis() - kDay);
  if (!stats) return Fail(std::move(stats).error());
  std::map<std::int64_t, store::FunctionStats> by_id;
  for (store::FunctionStats& entry : *stats) by_id.emplace(entry.function_id, std::move(entry));
  return by_id;
}

boost::json::object StatsJson(const store::FunctionStats& day) {
  const boost::json::value avg_ms =
      day.finished == 0
          ? boost::json::value(nullptr)
          : boost::json::value(static_cast<double>(day.wall_micros) / day.finished / 1000.0);
  return {{"invocations", day.invocations}, {"errors", day.errors}, {"avg_ms", avg_ms}};
}

void HandleList(ApiContext& api, HandlerContext& ctx) {
  const std::int64_t owner = ctx.principal->user_id;
  auto functions = api.store.ListFunctions(owner);
  if (!functions) return ctx.reply(StoreErrorResponse(functions.error()));
  auto stats = DailyStats(api, owner);
  if (!stats) return ctx.reply(StoreErrorResponse(stats.error()));
  boost::json::array list;
  for (const store::Function& function : *functions) {
    const auto found = stats->find(function.id);
    const store::FunctionStats day = found != stats->end() ? found->second : store::FunctionStats{};
    list.push_back(boost::json::object{
        {"name", function.name},
        {"latest_version", function.latest_version},
        {"updated_at", function.updated_at},
        {"stats_24h", StatsJson(day)},
        {"last_status", day.last_final_state
                            ? boost::json::value(store::StateName(*day.last_final_state))
                            : boost::json::value(nullptr)}});
  }
  ctx.reply(Json(200, boost::json::object{{"functions", std::move(list)}}));
}

void HandleShow(ApiContext& api, HandlerContext& ctx) {
  const std::int64_t owner = ctx.principal->user_id;
  const std::string& name = ctx.params.at("name");
  auto function = api.store.FindFunction(owner, name);
  if (!function) return ctx.reply(StoreErrorResponse(function.error()));
  auto versions = api.store.ListVersions(owner, name);
  if (!versions) return ctx.reply(StoreErrorResponse(versions.error()));
  auto schedules = api.store.ListSchedules(owner, function->id);
  if (!schedules) return ctx.reply(StoreErrorResponse(schedules.error()));
  auto tiers = api.store.ListNodeTiers(owner, function->id, function->latest_version);
  if (!tiers) return ctx.reply(StoreErrorResponse(tiers.error()));
  boost::json::array tier_list;
  for (const store::NodeTier& tier : *tiers) {
    tier_list.push_back(boost::json::object{
        {"node_id", tier.node_id}, {"tier", tier.tier}, {"at", tier.finished_at}});
  }
  boost::json::array version_list;
  for (const store::FunctionVersion& version : *versions) version_list.push_back(VersionJson(version));
  boost::json::array schedule_list;
  for (const store::Schedule& schedule : *schedules) {
    schedule_list.push_back(boost::json::object{
        {"id", schedule.id}, {"cron", schedule.cron}, {"next_fire_at", schedule.next_fire_at}});
  }
  ctx.reply(Json(200, boost::json::object{{"name", function->name},
                                          {"latest_version", function->latest_version},
                                          {"versions", std::move(version_list)},
                                          {"schedules", std::move(schedule_list)},
                                          {"node_tiers", std::move(tier_list)}}));
}

void HandleDelete(ApiContext& api, HandlerContext& ctx) {
  if (auto deleted = api.store.DeleteFunction(ctx.principal->user_id, ctx.params.at("name"));
      !deleted) {
    return ctx.reply(StoreErrorResponse(deleted.error()));
  }
  ctx.reply(NoContent());
}

}  // namespace

void AddFunctionRoutes(Router& router, ApiContext& api) {
  router.Add("GET", "/api/v1/functions", Access::kUser,
             [&api](HandlerContext& ctx) { HandleList(api, ctx); });
  router.Add("PUT", "/api/v1/functions/{name}", Access::kUser,
             [&api](HandlerContext& ctx) { HandlePut(api, ctx); });
  router.Add("GET", "/api/v1/functions/{name}", Access::kUser,
             [&api](HandlerContext& ctx) { HandleShow(api, ctx); });
  router.Add("DELETE", "/api/v1/functions/{name}", Access::kUser,
             [&api](HandlerContext& ctx) { HandleDelete(api, ctx); });
}

}  // namespace milf::server
