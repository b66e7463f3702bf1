// /api/v1/functions/{name}/invoke and /batch, /api/v1/invocations...: the
// ways in to the scheduler, and the sink's read side (docs/api.md).
//
// A sync invoke never blocks an I/O thread: it registers a completion
// waiter with the scheduler and returns; whichever thread finishes the
// invocation (a node session's strand, or the scheduler's tick for a
// lost job or a wait past its deadline) sends the answer.
#include <boost/json.hpp>

#include <charconv>
#include <cstdio>
#include <string_view>

#include "base/encoding.h"
#include "proto/messages.h"
#include "server/api.h"
#include "server/scheduler_core.h"
#include "store/ids.h"

namespace milf::server {
namespace {

using store::InvocationState;

// An input must fit, base64-encoded, in one node protocol message.
constexpr std::size_t kMaxInputBytes = (proto::kMaxMessageBytes - (64u << 10)) / 4 * 3;
constexpr std::size_t kMaxBatch = 1'000;
constexpr int kMaxListLimit = 1'000;
// A sync invoke waits the function's timeout plus this much queueing time.
constexpr store::Millis kSyncGraceMs = 30'000;

std::string AsString(const std::vector<std::uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

HttpResponse SubmitErrorResponse(const Error& error) {
  if (error.code == "quota_exceeded") return ErrorResponse(429, "quota_exceeded", error.message);
  return StoreErrorResponse(error);
}

std::optional<std::int64_t> ParseInt(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string Millis3(std::int64_t micros) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(micros) / 1000.0);
  return text;
}

// The function `name` of the caller, with its latest version; or the answer.
Result<Submission, HttpResponse> Resolve(SchedulerCore& core, store::Store& store,
                                         const HandlerContext& ctx) {
  const std::string& name = ctx.params.at("name");
  if (!IsValidFunctionName(name)) {
    return Fail(ErrorResponse(404, "not_found", "no function named '" + name + "'"));
  }
  auto function = store.FindFunction(ctx.principal->user_id, name);
  if (!function) {
    if (function.error().code == "not_found") {
      return Fail(ErrorResponse(404, "not_found", "no function named '" + name + "'"));
    }
    return Fail(StoreErrorResponse(function.error()));
  }
  auto version = core.Version(function->id, function->latest_version);
  if (!version) return Fail(StoreErrorResponse(version.error()));
  Submission submission;
  submission.owner_id = ctx.principal->user_id;
  submission.function_name = name;
  submission.version = std::move(*version);
  return submission;
}

HttpResponse SyncResponse(const Completion& completion, std::int64_t wait_seconds) {
  if (completion.end != WaitEnd::kFinished) {
    const bool expired = completion.end == WaitEnd::kExpired;
    const std::string message =
        expired ? "invocation " + completion.id + " did not finish within " +
                      std::to_string(wait_seconds) + " s; it is still queued or running"
                : "the server is shutting down; invocation " + completion.id +
                      " will run after the restart";
    boost::json::object error{{"code", expired ? "timeout" : "unavailable"}, {"message", message}};
    HttpResponse response =
        Json(expired ? 504 : 503, boost::json::object{{"error", error}, {"id", completion.id}});
    response.headers.emplace_back("X-Milf-Invocation-Id", completion.id);
    return response;
  }
  const store::InvocationResult& result = completion.result;
  HttpResponse response;
  response.status = 200;
  response.content_type = "application/octet-stream";
  response.body = AsString(result.output);
  response.headers = {
      {"X-Milf-Invocation-Id", completion.id},
      {"X-Milf-Status", store::StateName(completion.state)},
      {"X-Milf-Run-Status", result.status},
      {"X-Milf-Duration-Ms", Millis3(result.wall_micros)},
      {"X-Milf-Fuel", std::to_string(result.fuel_used)},
  };
  return response;
}

void HandleInvoke(const std::shared_ptr<SchedulerCore>& core, store::Store& store,
                  HandlerContext& ctx) {
  if (ctx.request.body.size() > kMaxInputBytes) {
    return ctx.reply(ErrorResponse(413, "too_large",
                                   "input is " + std::to_string(ctx.request.body.size()) +
                                       " bytes; the limit is " + std::to_string(kMaxInputBytes)));
  }
  auto submission = Resolve(*core, store, ctx);
  if (!submission) return ctx.reply(submission.error());
  const auto& input = ctx.request.body;
  submission->inputs.emplace_back(input.begin(), input.end());

  // The answer comes once the invocation is stored (async: 202) or has
  // finished (sync), from whichever thread gets there.
  const auto async = ctx.request.Query("async");
  if (async && (*async == "1" || *async == "true")) {
    return core->Submit(std::move(*submission),
                        [reply = ctx.reply](Result<std::vector<std::string>> ids) {
                          if (!ids) return reply(SubmitErrorResponse(ids.error()));
                          HttpResponse response = Json(
                              202, boost::json::object{{"id", ids->front()}, {"state", "queued"}});
                          response.headers.emplace_back("X-Milf-Invocation-Id", ids->front());
                          reply(std::move(response));
                        });
  }
  const store::Millis wait_ms = submission->version->settings.timeout_ms + kSyncGraceMs;
  const std::int64_t wait_seconds = wait_ms / 1000;
  core->Submit(
      std::move(*submission),
      [reply = ctx.reply](Result<std::vector<std::string>> ids) {
        if (!ids) reply(SubmitErrorResponse(ids.error()));
      },
      [reply = ctx.reply, wait_seconds](const Completion& completion) {
        reply(SyncResponse(completion, wait_seconds));
      },
      core->Now() + wait_ms);
}

void HandleBatch(const std::shared_ptr<SchedulerCore>& core, store::Store& store,
                 HandlerContext& ctx) {
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  const boost::json::value* inputs = body->if_contains("inputs");
  if (inputs == nullptr || !inputs->is_array()) {
    return ctx.reply(
        ErrorResponse(400, "bad_request", "inputs must be an array of base64 strings"));
  }
  const boost::json::array& array = inputs->as_array();
  if (array.empty() || array.size() > kMaxBatch) {
    return ctx.reply(ErrorResponse(400, "bad_request",
                                   "a batch holds 1 to " + std::to_string(kMaxBatch) + " inputs"));
  }
  auto submission = Resolve(*core, store, ctx);
  if (!submission) return ctx.reply(submission.error());
  for (std::size_t i = 0; i < array.size(); ++i) {
    std::optional<std::vector<std::uint8_t>> decoded;
    if (array[i].is_string()) {
      const boost::json::string& text = array[i].as_string();
      decoded = Base64Decode(std::string_view(text.data(), text.size()));
    }
    if (!decoded) {
      return ctx.reply(
          ErrorResponse(400, "bad_request", "inputs[" + std::to_string(i) + "] is not base64"));
    }
    if (decoded->size() > kMaxInputBytes) {
      return ctx.reply(ErrorResponse(413, "too_large",
                                     "inputs[" + std::to_string(i) + "] is over the input limit"));
    }
    submission->inputs.push_back(std::move(*decoded));
  }
  core->Submit(std::move(*submission), [reply = ctx.reply](Result<std::vector<std::string>> ids) {
    if (!ids) return reply(SubmitErrorResponse(ids.error()));
    boost::json::array list;
    list.reserve(ids->size());
    for (const std::string& id : *ids) list.emplace_back(id);
    reply(Json(202, boost::json::object{{"ids", std::move(list)}}));
  });
}

boost::json::value ResultJson(const std::optional<store::InvocationResult>& result) {
  if (!result) return nullptr;
  return boost::json::object{
      {"status", result->status},
      {"exit_code", result->exit_code},
      {"message", result->message},
      {"fuel_used", result->fuel_used},
      {"peak_memory_bytes", result->peak_memory_bytes},
      {"wall_ms", static_cast<double>(result->wall_micros) / 1000.0},
      {"output_sha256", result->output_sha256},
      {"output_truncated", result->output_truncated},
      {"stderr_truncated", result->stderr_truncated},
      {"tier", result->tier},
  };
}

boost::json::object InvocationJson(const store::Invocation& invocation) {
  return {
      {"id", invocation.id},
      {"function", invocation.function_name},
      {"version", invocation.version},
      {"state", store::StateName(invocation.state)},
      {"attempts", invocation.attempts},
      {"node_id",
       invocation.node_id ? boost::json::value(*invocation.node_id) : boost::json::value(nullptr)},
      {"schedule_id", invocation.schedule_id ? boost::json::value(*invocation.schedule_id)
                                             : boost::json::value(nullptr)},
      {"queued_at", invocation.queued_at},
      {"dispatched_at", TimeOrNull(invocation.dispatched_at)},
      {"started_at", TimeOrNull(invocation.started_at)},
      {"finished_at", TimeOrNull(invocation.finished_at)},
      {"result", ResultJson(invocation.result)},
  };
}

Result<store::InvocationFilter, HttpResponse> ParseFilter(const HttpRequest& request) {
  const auto bad = [](const std::string& message) {
    return Fail(ErrorResponse(400, "bad_request", message));
  };
  store::InvocationFilter filter;
  for (const auto& [key, value] : request.query) {
    if (value.empty()) continue;  // "?function=&state=" filters nothing
    if (key == "function") {
      if (!IsValidFunctionName(value)) return bad("function must be a function name");
      filter.function_name = value;
    } else if (key == "state") {
      filter.state = store::ParseState(value);
      if (!filter.state) {
        return bad(
            "state must be one of queued, dispatched, running, succeeded, failed, "
            "timed_out");
      }
    } else if (key == "since" || key == "until") {
      const auto at = ParseInt(value);
      if (!at || *at < 0) return bad(key + " must be Unix milliseconds");
      (key == "since" ? filter.since : filter.until) = *at;
    } else if (key == "after") {
      if (!value.empty() && !store::IsInvocationId(value))
        return bad("after must be an invocation id");
      filter.after_id = value;
    } else if (key == "limit") {
      const auto limit = ParseInt(value);
      if (!limit || *limit < 1 || *limit > kMaxListLimit) {
        return bad("limit must be from 1 to " + std::to_string(kMaxListLimit));
      }
      filter.limit = static_cast<int>(*limit);
    } else {
      return bad("unknown filter '" + key + "'");
    }
  }
  return filter;
}

void HandleList(store::Store& store, HandlerContext& ctx) {
  auto filter = ParseFilter(ctx.request);
  if (!filter) return ctx.reply(filter.error());
  const int limit = filter->limit;
  filter->limit = limit + 1;  // one more tells whether there is a next page
  auto invocations = store.ListInvocations(ctx.principal->user_id, *filter);
  if (!invocations) return ctx.reply(StoreErrorResponse(invocations.error()));
  // The extra row tells whether a next page exists. A store may cap its
  // answers at the largest page, so a full page of that size always carries
  // a cursor (and the page after it may be empty).
  const std::size_t page = static_cast<std::size_t>(limit);
  boost::json::value next = nullptr;
  if (invocations->size() > page || (invocations->size() == page && limit == kMaxListLimit)) {
    invocations->resize(page);
    next = boost::json::string(invocations->back().id);
  }
  boost::json::array list;
  list.reserve(invocations->size());
  for (const store::Invocation& invocation : *invocations)
    list.push_back(InvocationJson(invocation));
  ctx.reply(Json(200, boost::json::object{{"invocations", std::move(list)}, {"next", next}}));
}

// The caller's invocation {id}, or the 404 answer.
Result<store::Invocation, HttpResponse> FindOwn(store::Store& store, const HandlerContext& ctx) {
  const std::string& id = ctx.params.at("id");
  const auto not_found = [&] {
    return Fail(ErrorResponse(404, "not_found", "no invocation " + id));
  };
  if (!store::IsInvocationId(id)) return not_found();
  auto invocation = store.FindInvocation(ctx.principal->user_id, id);
  if (!invocation) {
    if (invocation.error().code == "not_found") return not_found();
    return Fail(StoreErrorResponse(invocation.error()));
  }
  return std::move(*invocation);
}

void HandleShow(store::Store& store, HandlerContext& ctx) {
  auto invocation = FindOwn(store, ctx);
  if (!invocation) return ctx.reply(invocation.error());
  auto events = store.ListEvents(ctx.principal->user_id, invocation->id);
  if (!events) return ctx.reply(StoreErrorResponse(events.error()));
  boost::json::array list;
  for (const store::InvocationEvent& event : *events) {
    list.push_back(boost::json::object{
        {"state", store::StateName(event.state)},
        {"at", event.at},
        {"node_id",
         event.node_id ? boost::json::value(*event.node_id) : boost::json::value(nullptr)},
        {"detail", event.detail},
    });
  }
  boost::json::object json = InvocationJson(*invocation);
  json["events"] = std::move(list);
  ctx.reply(Json(200, json));
}

Result<store::InvocationResult, HttpResponse> FinishedResult(const store::Invocation& invocation) {
  if (!invocation.result) {
    return Fail(ErrorResponse(409, "conflict",
                              "invocation " + invocation.id + " is " +
                                  store::StateName(invocation.state) + "; it has no output yet"));
  }
  return *invocation.result;
}

void HandleOutput(store::Store& store, HandlerContext& ctx) {
  auto invocation = FindOwn(store, ctx);
  if (!invocation) return ctx.reply(invocation.error());
  auto result = FinishedResult(*invocation);
  if (!result) return ctx.reply(result.error());
  HttpResponse response;
  response.content_type = "application/octet-stream";
  response.body = AsString(result->output);
  response.headers = {{"X-Milf-Invocation-Id", invocation->id},
                      {"X-Milf-Status", store::StateName(invocation->state)},
                      {"X-Milf-Run-Status", result->status}};
  ctx.reply(std::move(response));
}

void HandleLogs(store::Store& store, HandlerContext& ctx) {
  auto invocation = FindOwn(store, ctx);
  if (!invocation) return ctx.reply(invocation.error());
  auto result = FinishedResult(*invocation);
  if (!result) return ctx.reply(result.error());
  const bool utf8 = IsValidUtf8(result->output) && IsValidUtf8(result->stderr_data);
  const auto text = [&](const std::vector<std::uint8_t>& bytes) {
    return utf8 ? AsString(bytes) : Base64Encode(bytes);
  };
  ctx.reply(Json(200, boost::json::object{{"stdout", text(result->output)},
                                          {"stderr", text(result->stderr_data)},
                                          {"encoding", utf8 ? "utf8" : "base64"}}));
}

}  // namespace

void AddInvocationRoutes(Router& router, Scheduler& scheduler, store::Store& store) {
  std::shared_ptr<SchedulerCore> core = scheduler.impl_->core;
  router.Add("POST", "/api/v1/functions/{name}/invoke", Access::kUser,
             [core, &store](HandlerContext& ctx) { HandleInvoke(core, store, ctx); });
  router.Add("POST", "/api/v1/functions/{name}/batch", Access::kUser,
             [core, &store](HandlerContext& ctx) { HandleBatch(core, store, ctx); });
  router.Add("GET", "/api/v1/invocations", Access::kUser,
             [&store](HandlerContext& ctx) { HandleList(store, ctx); });
  router.Add("GET", "/api/v1/invocations/{id}", Access::kUser,
             [&store](HandlerContext& ctx) { HandleShow(store, ctx); });
  router.Add("GET", "/api/v1/invocations/{id}/output", Access::kUser,
             [&store](HandlerContext& ctx) { HandleOutput(store, ctx); });
  router.Add("GET", "/api/v1/invocations/{id}/logs", Access::kUser,
             [&store](HandlerContext& ctx) { HandleLogs(store, ctx); });
  AddScheduleRoutes(router, core, store);
  AddUsageRoutes(router, core, store);
}

}  // namespace milf::server
