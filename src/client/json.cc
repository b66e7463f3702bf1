#include "client/json.h"

#include <fmt/format.h>

namespace milf::client {

Result<boost::json::value> ParseJson(std::string_view text) {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text, error);
  if (error) return Fail("invalid_json", "invalid JSON: " + error.message());
  return value;
}

const boost::json::value* Member(const boost::json::value& value, std::string_view key) {
  const boost::json::object* object = value.if_object();
  return object == nullptr ? nullptr : object->if_contains(key);
}

std::string GetString(const boost::json::value& value, std::string_view key,
                      std::string_view fallback) {
  const boost::json::value* member = Member(value, key);
  if (member == nullptr || !member->is_string()) return std::string(fallback);
  return std::string(member->get_string());
}

std::optional<std::int64_t> GetInt(const boost::json::value& value, std::string_view key) {
  const boost::json::value* member = Member(value, key);
  if (member == nullptr) return std::nullopt;
  if (const auto* i = member->if_int64()) return *i;
  if (const auto* u = member->if_uint64()) return static_cast<std::int64_t>(*u);
  if (const auto* d = member->if_double()) return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

std::optional<double> GetNumber(const boost::json::value& value, std::string_view key) {
  const boost::json::value* member = Member(value, key);
  if (member == nullptr) return std::nullopt;
  if (const auto* i = member->if_int64()) return static_cast<double>(*i);
  if (const auto* u = member->if_uint64()) return static_cast<double>(*u);
  if (const auto* d = member->if_double()) return *d;
  return std::nullopt;
}

std::optional<bool> GetBool(const boost::json::value& value, std::string_view key) {
  const boost::json::value* member = Member(value, key);
  if (member == nullptr || !member->is_bool()) return std::nullopt;
  return member->get_bool();
}

const boost::json::array& GetArray(const boost::json::value& value, std::string_view key) {
  static const boost::json::array kEmpty;
  const boost::json::value* member = Member(value, key);
  if (member == nullptr || !member->is_array()) return kEmpty;
  return member->get_array();
}

std::string ScalarText(const boost::json::value* value) {
  if (value == nullptr || value->is_null()) return "-";
  if (const auto* s = value->if_string()) return std::string(*s);
  if (const auto* b = value->if_bool()) return *b ? "yes" : "no";
  if (const auto* i = value->if_int64()) return std::to_string(*i);
  if (const auto* u = value->if_uint64()) return std::to_string(*u);
  if (const auto* d = value->if_double()) return fmt::format("{:g}", *d);
  return boost::json::serialize(*value);
}

}  // namespace milf::client
