// Devices: enrollment tokens (admin), enrollment (a node trades a token for
// its credential), and the node list.
#include <boost/json.hpp>

#include <algorithm>

#include "server/api.h"

namespace milf::server {
namespace {

constexpr std::int64_t kDefaultTokenTtlSeconds = 24 * 3600;
constexpr std::int64_t kMaxTokenTtlSeconds = 30LL * 24 * 3600;

// The same token and device name always give the same node id, so a device
// that enrolls again (after losing its secret) stays the same node.
std::string NodeIdFor(const std::string& token_hash, const std::string& name) {
  return "node-" + HashCredential("node\n" + token_hash + "\n" + name).substr(0, 16);
}

bool IsPrintable(const std::string& text, std::size_t max_size) {
  return !text.empty() && text.size() <= max_size &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

void HandleCreateToken(ApiContext& api, HandlerContext& ctx) {
  std::int64_t ttl = kDefaultTokenTtlSeconds;
  if (!ctx.request.body.empty()) {
    auto body = ParseJsonBody(ctx.request.body);
    if (!body) return ctx.reply(body.error());
    if (body->contains("ttl_seconds")) {
      const auto requested = IntMember(*body, "ttl_seconds");
      if (!requested || *requested < 60 || *requested > kMaxTokenTtlSeconds) {
        return ctx.reply(ErrorResponse(400, "bad_request",
                                       "ttl_seconds must be between 60 and 2592000"));
      }
      ttl = *requested;
    }
  }
  const std::string token = NewSecret();
  const store::Millis expires_at = api.NowMillis() + ttl * 1000;
  if (auto added = api.store.AddEnrollmentToken(
          {HashCredential(token), ctx.principal->user_id, expires_at, std::nullopt});
      !added) {
    return ctx.reply(StoreErrorResponse(added.error()));
  }
  ctx.reply(Json(201, boost::json::object{{"token", token}, {"expires_at", expires_at}}));
}

void HandleEnroll(ApiContext& api, HandlerContext& ctx) {
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  const auto token = StringMember(*body, "token");
  const auto name = StringMember(*body, "name");
  const auto target = StringMember(*body, "target");
  if (!token || !name || !target || !IsPrintable(*name, 64) || !IsPrintable(*target, 64)) {
    return ctx.reply(ErrorResponse(
        400, "bad_request", "expected {\"token\",\"name\",\"target\"} (printable, 1-64 chars)"));
  }
  const store::Millis now = api.NowMillis();
  const std::string token_hash = HashCredential(*token);
  const std::string node_id = NodeIdFor(token_hash, *name);
  if (auto used = api.store.UseEnrollmentToken(token_hash, node_id, now); !used) {
    if (used.error().code == "not_found") {
      return ctx.reply(ErrorResponse(401, "unauthorized",
                                     "unknown, expired or already used enrollment token"));
    }
    return ctx.reply(StoreErrorResponse(used.error()));
  }
  const std::string secret = NewSecret();
  store::Node node;
  if (auto existing = api.store.FindNode(node_id)) node = std::move(*existing);
  node.id = node_id;
  node.name = *name;
  node.target = *target;
  node.secret_hash = HashCredential(secret);
  if (node.created_at == 0) node.created_at = now;
  if (auto stored = api.store.UpsertNode(node); !stored) {
    return ctx.reply(StoreErrorResponse(stored.error()));
  }
  ctx.reply(Json(201, boost::json::object{{"node_id", node_id},
                                          {"secret", secret},
                                          {"aot_public_key", api.aot_public_key}}));
}

boost::json::value TelemetryJson(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return boost::json::object{};
  return value;
}

void HandleList(ApiContext& api, HandlerContext& ctx) {
  auto nodes = api.store.ListNodes();
  if (!nodes) return ctx.reply(StoreErrorResponse(nodes.error()));
  const store::Millis now = api.NowMillis();
  boost::json::array list;
  for (const store::Node& node : *nodes) {
    const bool online = node.last_seen_at > 0 && now - node.last_seen_at <= api.node_online_window_ms;
    list.push_back(boost::json::object{
        {"id", node.id},
        {"name", node.name},
        {"target", node.target},
        {"online", online},
        {"last_seen_at", TimeOrNull(node.last_seen_at > 0 ? std::optional(node.last_seen_at)
                                                          : std::nullopt)},
        {"telemetry", TelemetryJson(node.telemetry_json)}});
  }
  ctx.reply(Json(200, boost::json::object{{"nodes", std::move(list)}}));
}

}  // namespace

void AddNodeRoutes(Router& router, ApiContext& api) {
  router.Add("POST", "/api/v1/tokens/node", Access::kAdmin,
             [&api](HandlerContext& ctx) { HandleCreateToken(api, ctx); });
  router.Add("POST", "/api/v1/nodes/enroll", Access::kPublic,
             [&api](HandlerContext& ctx) { HandleEnroll(api, ctx); });
  router.Add("GET", "/api/v1/nodes", Access::kUser,
             [&api](HandlerContext& ctx) { HandleList(api, ctx); });
  // Upgrades never reach the router; a plain GET here is a client mistake.
  router.Add("GET", "/api/v1/nodes/connect", Access::kPublic, [](HandlerContext& ctx) {
    ctx.reply(ErrorResponse(400, "bad_request", "this endpoint needs a WebSocket upgrade"));
  });
}

}  // namespace milf::server
