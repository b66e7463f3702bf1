#include "server/api.h"

namespace milf::server {

void AddHealthRoutes(Router& router, Metrics& metrics) {
  router.Add("GET", "/healthz", Access::kPublic, [](HandlerContext& ctx) {
    ctx.reply(JsonResponse(200, R"({"status":"ok","version":"0.1.0"})"));
  });
  router.Add("GET", "/metrics", Access::kPublic, [&metrics](HandlerContext& ctx) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4";
    response.body = metrics.RenderPrometheus();
    ctx.reply(std::move(response));
  });
}

}  // namespace milf::server
