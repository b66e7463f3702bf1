// The HTTP API's handlers, one file per resource (docs/api.md), and what
// they share. Each Add*Routes registers its routes on a Router; handlers
// answer through HandlerContext::reply, exactly once, and never throw.
// The request (and the HandlerContext) stay valid until the reply is sent,
// so a handler that answers later, from another thread, may keep
// references to them; it must keep a copy of ctx.reply, though: a request
// whose every copy of the reply is gone unanswered gets a 500.
//
// The scheduler's routes (invocations, schedules, usage, quotas) are
// registered by AddInvocationRoutes in scheduler.h.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "base/clock.h"
#include "base/result.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/metrics.h"
#include "store/store.h"

namespace milf::compiler {
class SourceCompiler;
}  // namespace milf::compiler

namespace milf::server {

// Everything handlers use; owned by the Server, outlives the router.
struct ApiContext {
  store::Store& store;
  const Clock& clock;
  const JwtSigner& signer;
  const Authenticator& authenticator;
  LoginRateLimiter& login_limiter;
  Metrics& metrics;
  // Runs CPU-heavy work (password hashing, module validation) off the I/O
  // threads; the work replies itself.
  std::function<void(std::function<void()>)> run_blocking;
  std::int64_t access_token_ttl_seconds = 15 * 60;
  std::int64_t refresh_token_ttl_ms = 30LL * 24 * 3600 * 1000;
  // A node seen within this window counts as online.
  std::int64_t node_online_window_ms = 10'000;
  // The AOT artifact signing key's public half, given to enrolling nodes
  // ("" when none).
  std::string aot_public_key{};
  // Told about every deployed version (module hash, memory_mb), from a
  // blocking thread: the AOT builder queues its artifacts.
  std::function<void(const std::string& module_sha256, std::int64_t memory_mb)> module_deployed{};

  store::Millis NowMillis() const { return clock.RealtimeNanos() / 1'000'000; }
};

void AddHealthRoutes(Router& router, Metrics& metrics);
void AddAuthRoutes(Router& router, ApiContext& api);
void AddUserRoutes(Router& router, ApiContext& api);
void AddKeyRoutes(Router& router, ApiContext& api);
void AddNodeRoutes(Router& router, ApiContext& api);
void AddFunctionRoutes(Router& router, ApiContext& api);
void AddModuleRoutes(Router& router, ApiContext& api);

// POST /functions/{name}/source, GET /functions/{name}/source and POST
// /compile (api_source.cc): the compiler service over HTTP. The getter is
// called from blocking threads, on each compile; it may set the compiler
// up on first use, and returns null when this host cannot (no jail): the
// compile routes then answer 503.
using SourceCompilerGetter = std::function<compiler::SourceCompiler*()>;
void AddSourceRoutes(Router& router, ApiContext& api, SourceCompilerGetter compiler);

// Deploying a module, shared by PUT /functions/{name} and the compiler
// service (api_functions.cc).
struct DeployedModule {
  store::FunctionVersion version;
  boost::json::object json;  // the 201 answer's body
};
// The name, the settings in the query string (keys in `also_allowed` are
// the caller's and skipped) and the memory quota; the 400/429 answer
// otherwise.
Result<store::FunctionSettings, HttpResponse> CheckDeployRequest(
    ApiContext& api, const HandlerContext& ctx, std::span<const std::string_view> also_allowed);
// Validates `wasm`, stores it and appends a version; the error answer
// otherwise. Blocking: call from ApiContext::run_blocking.
Result<DeployedModule, HttpResponse> DeployModule(ApiContext& api, std::int64_t owner,
                                                  const std::string& name,
                                                  std::span<const std::uint8_t> wasm,
                                                  const store::FunctionSettings& settings);

// Shared helpers (api_json.cc).

// The body as a JSON object, or the 400 invalid_json answer to send.
Result<boost::json::object, HttpResponse> ParseJsonBody(const std::string& body);
// A string member, or nullopt when absent or not a string.
std::optional<std::string> StringMember(const boost::json::object& object, std::string_view key);
std::optional<std::int64_t> IntMember(const boost::json::object& object, std::string_view key);
// A store error as an HTTP answer: not_found 404, conflict 409,
// invalid_argument 400, anything else 500.
HttpResponse StoreErrorResponse(const Error& error);
HttpResponse Json(int status, const boost::json::value& value);
HttpResponse NoContent();
// An internal error or a user error ("unauthorized") from the Authenticator.
HttpResponse AuthErrorResponse(const Error& error);

std::string RoleName(store::Role role);
std::optional<store::Role> ParseRole(std::string_view name);
// User names: [a-z0-9][a-z0-9_.-]{0,62}. Function names: [a-z0-9][a-z0-9_-]{0,62}.
bool IsValidUserName(std::string_view name);
bool IsValidFunctionName(std::string_view name);
// Unix milliseconds, or null.
boost::json::value TimeOrNull(const std::optional<store::Millis>& at);

}  // namespace milf::server
