// /api/v1/users (admin): list, create, delete.
#include <boost/json.hpp>

#include "server/api.h"

namespace milf::server {
namespace {

boost::json::object UserJson(const store::User& user) {
  return {{"id", user.id},
          {"name", user.name},
          {"role", RoleName(user.role)},
          {"created_at", user.created_at}};
}

void HandleList(ApiContext& api, HandlerContext& ctx) {
  auto users = api.store.ListUsers();
  if (!users) return ctx.reply(StoreErrorResponse(users.error()));
  boost::json::array list;
  for (const store::User& user : *users) list.push_back(UserJson(user));
  ctx.reply(Json(200, boost::json::object{{"users", std::move(list)}}));
}

HttpResponse Create(ApiContext& api, const std::string& name, store::Role role,
                    const std::string& password) {
  auto hash = HashPassword(password);
  if (!hash) return ErrorResponse(500, "internal", hash.error().message);
  auto user = api.store.CreateUser(name, role, *hash, api.NowMillis());
  if (!user) {
    if (user.error().code == "conflict") {
      return ErrorResponse(409, "conflict", "user '" + name + "' already exists");
    }
    return StoreErrorResponse(user.error());
  }
  return Json(201, UserJson(*user));
}

void HandleCreate(ApiContext& api, HandlerContext& ctx) {
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  auto name = StringMember(*body, "name");
  auto password = StringMember(*body, "password");
  const auto role_name = body->contains("role") ? StringMember(*body, "role")
                                                : std::optional<std::string>("developer");
  if (!name || !password || !role_name) {
    return ctx.reply(ErrorResponse(400, "bad_request", "expected {\"name\",\"password\",\"role\"}"));
  }
  if (!IsValidUserName(*name)) {
    return ctx.reply(ErrorResponse(400, "bad_request",
                                   "user names are 1-63 of [a-z0-9_.-], starting with [a-z0-9]"));
  }
  const auto role = ParseRole(*role_name);
  if (!role) {
    return ctx.reply(ErrorResponse(400, "bad_request", "role must be 'admin' or 'developer'"));
  }
  if (password->size() < 8 || password->size() > 1024) {
    return ctx.reply(ErrorResponse(400, "bad_request", "passwords have 8 to 1024 characters"));
  }
  api.run_blocking([&api, reply = ctx.reply, name = std::move(*name), role = *role,
                    password = std::move(*password)] { reply(Create(api, name, role, password)); });
}

void HandleDelete(ApiContext& api, HandlerContext& ctx) {
  const std::string& name = ctx.params.at("name");
  auto user = api.store.FindUserByName(name);
  if (!user) return ctx.reply(StoreErrorResponse(user.error()));
  // Deleting oneself could leave the server without an administrator.
  if (user->id == ctx.principal->user_id) {
    return ctx.reply(ErrorResponse(409, "conflict", "you cannot delete your own account"));
  }
  if (auto deleted = api.store.DeleteUser(user->id); !deleted) {
    return ctx.reply(StoreErrorResponse(deleted.error()));
  }
  ctx.reply(NoContent());
}

}  // namespace

void AddUserRoutes(Router& router, ApiContext& api) {
  router.Add("GET", "/api/v1/users", Access::kAdmin,
             [&api](HandlerContext& ctx) { HandleList(api, ctx); });
  router.Add("POST", "/api/v1/users", Access::kAdmin,
             [&api](HandlerContext& ctx) { HandleCreate(api, ctx); });
  router.Add("DELETE", "/api/v1/users/{name}", Access::kAdmin,
             [&api](HandlerContext& ctx) { HandleDelete(api, ctx); });
}

}  // namespace milf::server
