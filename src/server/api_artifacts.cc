// /api/v1/artifacts/{module_sha256}/{target}: signed AOT artifacts for nodes
// (node credentials only). docs/api.md, docs/aot.md.
#include <algorithm>
#include <charconv>

#include "server/aot_builder.h"
#include "server/api.h"

namespace milf::server {
namespace {

constexpr std::int64_t kDefaultMemoryMb = 64;
constexpr std::int64_t kMaxMemoryMb = 4096;

bool IsSha256Hex(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<std::int64_t> MemoryMb(const HttpRequest& request) {
  const auto text = request.Query("memory_mb");
  if (!text) return kDefaultMemoryMb;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > kMaxMemoryMb) {
    return std::nullopt;
  }
  return value;
}

HttpResponse Answer(const ArtifactLookup& lookup, const std::string& sha256) {
  switch (lookup.state) {
    case ArtifactLookup::State::kReady: {
      HttpResponse response;
      response.content_type = "application/vnd.milf.signed-artifact";
      response.body.assign(lookup.signed_artifact.begin(), lookup.signed_artifact.end());
      response.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
      return response;
    }
    case ArtifactLookup::State::kUnsupported:
      // 422: the request is fine, this module can never have an artifact;
      // nodes stop asking.
      return ErrorResponse(422, "aot_unsupported", lookup.message);
    case ArtifactLookup::State::kUnknownTarget:
      return ErrorResponse(422, "aot_unsupported", lookup.message);
    case ArtifactLookup::State::kPending: break;
  }
  return ErrorResponse(404, "not_found", "no artifact of module " + sha256 + " yet");
}

void HandleGet(ApiContext& api, AotBuilder& builder, HandlerContext& ctx) {
  if (auto node = api.authenticator.AuthenticateNode(ctx.request); !node) {
    return ctx.reply(AuthErrorResponse(node.error()));
  }
  const std::string sha256 = ctx.params.at("sha256");
  const std::string target = ctx.params.at("target");
  if (!IsSha256Hex(sha256)) return ctx.reply(ErrorResponse(404, "not_found", "no such module"));
  const auto memory_mb = MemoryMb(ctx.request);
  if (!memory_mb) {
    return ctx.reply(ErrorResponse(400, "bad_request", "memory_mb must be an integer from 1 to 4096"));
  }
  // Reading the file is disk work: off the I/O thread.
  api.run_blocking([&builder, reply = ctx.reply, sha256, target, memory_mb = *memory_mb] {
    reply(Answer(builder.Find(sha256, memory_mb, target), sha256));
  });
}

}  // namespace

void AddArtifactRoutes(Router& router, ApiContext& api, AotBuilder& builder) {
  // Public to the router: nodes are not users, so the handler checks the
  // node credential itself.
  router.Add("GET", "/api/v1/artifacts/{sha256}/{target}", Access::kPublic,
             [&api, &builder](HandlerContext& ctx) { HandleGet(api, builder, ctx); });
}

}  // namespace milf::server
