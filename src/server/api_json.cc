#include <boost/json.hpp>

#include "server/api.h"

namespace milf::server {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsName(std::string_view name, std::string_view extra) {
  if (name.empty() || name.size() > 63 || !IsLowerAlnum(name.front())) return false;
  for (const char c : name) {
    if (!IsLowerAlnum(c) && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

Result<boost::json::object, HttpResponse> ParseJsonBody(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec) return Fail(ErrorResponse(400, "invalid_json", "the body is not JSON: " + ec.message()));
  if (!value.is_object()) {
    return Fail(ErrorResponse(400, "invalid_json", "the body must be a JSON object"));
  }
  return std::move(value.as_object());
}

std::optional<std::string> StringMember(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string(value->as_string());
}

std::optional<std::int64_t> IntMember(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64() && value->as_uint64() <= INT64_MAX) {
    return static_cast<std::int64_t>(value->as_uint64());
  }
  return std::nullopt;
}

HttpResponse StoreErrorResponse(const Error& error) {
  if (error.code == "not_found") return ErrorResponse(404, "not_found", error.message);
  if (error.code == "conflict") return ErrorResponse(409, "conflict", error.message);
  if (error.code == "invalid_argument") return ErrorResponse(400, "bad_request", error.message);
  return ErrorResponse(500, "internal", error.message);
}

HttpResponse Json(int status, const boost::json::value& value) {
  return JsonResponse(status, boost::json::serialize(value));
}

HttpResponse NoContent() {
  HttpResponse response;
  response.status = 204;
  response.content_type.clear();
  return response;
}

HttpResponse AuthErrorResponse(const Error& error) {
  if (error.code == "unauthorized") return ErrorResponse(401, "unauthorized", error.message);
  return ErrorResponse(500, "internal", error.message);
}

std::string RoleName(store::Role role) {
  return role == store::Role::kAdmin ? "admin" : "developer";
}

std::optional<store::Role> ParseRole(std::string_view name) {
  if (name == "admin") return store::Role::kAdmin;
  if (name == "developer") return store::Role::kDeveloper;
  return std::nullopt;
}

bool IsValidUserName(std::string_view name) { return IsName(name, "_.-"); }

bool IsValidFunctionName(std::string_view name) { return IsName(name, "_-"); }

boost::json::value TimeOrNull(const std::optional<store::Millis>& at) {
  if (!at) return nullptr;
  return *at;
}

}  // namespace milf::server
