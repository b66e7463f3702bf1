// /api/v1/modules/{sha256}: module bytes for nodes (node credentials only),
// the HTTP alternative to receiving them over the node's WebSocket.
#include <algorithm>

#include "server/api.h"

namespace milf::server {
namespace {

bool IsSha256Hex(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void HandleGet(ApiContext& api, HandlerContext& ctx) {
  if (auto node = api.authenticator.AuthenticateNode(ctx.request); !node) {
    return ctx.reply(AuthErrorResponse(node.error()));
  }
  const std::string& sha256 = ctx.params.at("sha256");
  if (!IsSha256Hex(sha256)) return ctx.reply(ErrorResponse(404, "not_found", "no such module"));
  auto bytes = api.store.GetModule(sha256);
  if (!bytes) return ctx.reply(StoreErrorResponse(bytes.error()));
  HttpResponse response;
  response.content_type = "application/wasm";
  response.body.assign(bytes->begin(), bytes->end());
  response.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  ctx.reply(std::move(response));
}

}  // namespace

void AddModuleRoutes(Router& router, ApiContext& api) {
  // Public to the router: nodes are not users, so the handler checks the
  // node credential itself.
  router.Add("GET", "/api/v1/modules/{sha256}", Access::kPublic,
             [&api](HandlerContext& ctx) { HandleGet(api, ctx); });
}

}  // namespace milf::server
