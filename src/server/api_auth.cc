// /api/v1/auth: login, refresh, me, password.
#include <boost/json.hpp>

#include "server/api.h"

namespace milf::server {
namespace {

constexpr std::size_t kMaxPasswordBytes = 1024;
constexpr std::size_t kMinPasswordBytes = 8;

// Verifying against this when the user does not exist makes a login for an
// unknown name cost as much as one with a wrong password.
const std::string& DummyHash() {
  static const std::string hash = [] {
    auto hashed = HashPassword("milf: no such user");
    return hashed ? *hashed : std::string();
  }();
  return hash;
}

boost::json::object UserJson(std::int64_t id, const std::string& name, store::Role role) {
  return {{"id", id}, {"name", name}, {"role", RoleName(role)}};
}

HttpResponse IssueTokens(ApiContext& api, const store::User& user) {
  const store::Millis now = api.NowMillis();
  AccessClaims claims;
  claims.user_id = user.id;
  claims.name = user.name;
  claims.role = user.role;
  claims.issued_at = now / 1000;
  claims.expires_at = claims.issued_at + api.access_token_ttl_seconds;
  const std::string refresh = NewSecret();
  if (auto added = api.store.AddRefreshToken(
          {HashCredential(refresh), user.id, now + api.refresh_token_ttl_ms});
      !added) {
    return StoreErrorResponse(added.error());
  }
  return Json(200, boost::json::object{{"access_token", api.signer.Sign(claims)},
                                       {"expires_in", api.access_token_ttl_seconds},
                                       {"refresh_token", refresh},
                                       {"user", UserJson(user.id, user.name, user.role)}});
}

HttpResponse Login(ApiContext& api, const std::string& name, const std::string& password,
                   const std::string& address) {
  if (!api.login_limiter.Allowed(name, address)) {
    return ErrorResponse(429, "rate_limited",
                         "login: too many failed attempts for this user, try again in a minute");
  }
  auto user = api.store.FindUserByName(name);
  if (!user && user.error().code != "not_found") return StoreErrorResponse(user.error());
  const bool valid = user ? VerifyPassword(password, user->password_hash)
                          : (VerifyPassword(password, DummyHash()), false);
  if (!valid) {
    api.login_limiter.RecordFailure(name, address);
    return ErrorResponse(401, "unauthorized", "wrong user name or password");
  }
  api.login_limiter.RecordSuccess(name, address);
  return IssueTokens(api, *user);
}

void HandleLogin(ApiContext& api, HandlerContext& ctx) {
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  auto name = StringMember(*body, "user");
  auto password = StringMember(*body, "password");
  if (!name || !password || password->size() > kMaxPasswordBytes) {
    return ctx.reply(ErrorResponse(400, "bad_request", "expected {\"user\",\"password\"}"));
  }
  api.run_blocking([&api, reply = ctx.reply, name = std::move(*name),
                    password = std::move(*password), address = ctx.request.remote_address] {
    reply(Login(api, name, password, address));
  });
}

void HandleRefresh(ApiContext& api, HandlerContext& ctx) {
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  const auto refresh = StringMember(*body, "refresh_token");
  if (!refresh) return ctx.reply(ErrorResponse(400, "bad_request", "expected {\"refresh_token\"}"));
  auto token = api.store.TakeRefreshToken(HashCredential(*refresh), api.NowMillis());
  if (!token) {
    if (token.error().code == "not_found") {
      return ctx.reply(ErrorResponse(401, "unauthorized", "unknown, used or expired refresh token"));
    }
    return ctx.reply(StoreErrorResponse(token.error()));
  }
  auto user = api.store.FindUserById(token->user_id);
  if (!user) {
    if (user.error().code == "not_found") {
      return ctx.reply(ErrorResponse(401, "unauthorized", "the user no longer exists"));
    }
    return ctx.reply(StoreErrorResponse(user.error()));
  }
  ctx.reply(IssueTokens(api, *user));
}

// The store revokes the user's refresh tokens with the new hash, so every
// session (this one included) ends when its access token expires; access
// tokens are stateless JWTs and stay valid until then. API keys are
// separate credentials and keep working.
HttpResponse ChangePassword(ApiContext& api, std::int64_t user_id, const std::string& old_password,
                            const std::string& new_password) {
  auto user = api.store.FindUserById(user_id);
  if (!user) return StoreErrorResponse(user.error());
  if (!VerifyPassword(old_password, user->password_hash)) {
    return ErrorResponse(401, "unauthorized", "the old password is wrong");
  }
  auto hash = HashPassword(new_password);
  if (!hash) return ErrorResponse(500, "internal", hash.error().message);
  if (auto updated = api.store.UpdatePassword(user_id, *hash); !updated) {
    return StoreErrorResponse(updated.error());
  }
  return NoContent();
}

void HandlePassword(ApiContext& api, HandlerContext& ctx) {
  auto body = ParseJsonBody(ctx.request.body);
  if (!body) return ctx.reply(body.error());
  auto old_password = StringMember(*body, "old_password");
  auto new_password = StringMember(*body, "new_password");
  if (!old_password || !new_password || old_password->size() > kMaxPasswordBytes) {
    return ctx.reply(
        ErrorResponse(400, "bad_request", "expected {\"old_password\",\"new_password\"}"));
  }
  if (new_password->size() < kMinPasswordBytes || new_password->size() > kMaxPasswordBytes) {
    return ctx.reply(ErrorResponse(400, "bad_request",
                                   "the new password must have 8 to 1024 characters"));
  }
  api.run_blocking([&api, reply = ctx.reply, user_id = ctx.principal->user_id,
                    old_password = std::move(*old_password),
                    new_password = std::move(*new_password)] {
    reply(ChangePassword(api, user_id, old_password, new_password));
  });
}

}  // namespace

void AddAuthRoutes(Router& router, ApiContext& api) {
  router.Add("POST", "/api/v1/auth/login", Access::kPublic,
             [&api](HandlerContext& ctx) { HandleLogin(api, ctx); });
  router.Add("POST", "/api/v1/auth/refresh", Access::kPublic,
             [&api](HandlerContext& ctx) { HandleRefresh(api, ctx); });
  router.Add("GET", "/api/v1/auth/me", Access::kUser, [](HandlerContext& ctx) {
    const Principal& who = *ctx.principal;
    ctx.reply(Json(200, UserJson(who.user_id, who.name, who.role)));
  });
  router.Add("POST", "/api/v1/auth/password", Access::kUser,
             [&api](HandlerContext& ctx) { HandlePassword(api, ctx); });
}

}  // namespace milf::server
