// /api/v1/keys: the caller's own API keys.
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

#include "server/api.h"

namespace milf::server {
namespace {

// Enough of a key to tell keys apart in a listing, far too little to guess.
constexpr std::size_t kShownPrefix = 12;

bool IsValidKeyName(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

void HandleList(ApiContext& api, HandlerContext& ctx) {
  auto keys = api.store.ListApiKeys(ctx.principal->user_id);
  if (!keys) return ctx.reply(StoreErrorResponse(keys.error()));
  boost::json::array list;
  for (const store::ApiKey& key : *keys) {
    list.push_back(boost::json::object{{"id", key.id},
                                       {"name", key.name},
                                       {"prefix", key.prefix},
                                       {"created_at", key.created_at},
                                       {"last_used_at", TimeOrNull(key.last_used_at)}});
  }
  ctx.reply(Json(200, boost::json::object{{"keys", std::move(list)}}));
}

void HandleCreate(ApiContext& api, HandlerContext& ctx) {
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  const auto name = StringMember(*body, "name");
  if (!name || !IsValidKeyName(*name)) {
    return ctx.reply(
        ErrorResponse(400, "bad_request", "expected {\"name\"} of 1-64 printable characters"));
  }
  const std::string secret = NewApiKey();
  store::ApiKey key;
  key.user_id = ctx.principal->user_id;
  key.name = *name;
  key.prefix = secret.substr(0, kShownPrefix);
  key.key_hash = HashCredential(secret);
  key.created_at = api.NowMillis();
  auto added = api.store.AddApiKey(key);
  if (!added) return ctx.reply(StoreErrorResponse(added.error()));
  ctx.reply(Json(201, boost::json::object{{"id", added->id}, {"name", added->name}, {"key", secret}}));
}

void HandleDelete(ApiContext& api, HandlerContext& ctx) {
  const std::string& text = ctx.params.at("id");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return ctx.reply(ErrorResponse(404, "not_found", "no such key"));
  }
  if (auto revoked = api.store.RevokeApiKey(ctx.principal->user_id, id); !revoked) {
    return ctx.reply(StoreErrorResponse(revoked.error()));
  }
  ctx.reply(NoContent());
}

}  // namespace

void AddKeyRoutes(Router& router, ApiContext& api) {
  router.Add("GET", "/api/v1/keys", Access::kUser,
             [&api](HandlerContext& ctx) { HandleList(api, ctx); });
  router.Add("POST", "/api/v1/keys", Access::kUser,
             [&api](HandlerContext& ctx) { HandleCreate(api, ctx); });
  router.Add("DELETE", "/api/v1/keys/{id}", Access::kUser,
             [&api](HandlerContext& ctx) { HandleDelete(api, ctx); });
}

}  // namespace milf::server
