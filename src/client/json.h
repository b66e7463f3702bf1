// Small, non-throwing accessors over Boost.JSON values as the API returns
// them. A missing field or one of another type reads as the fallback, so
// output code can format what it finds without checking every member.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace milf::client {

// Parses `text`; fails with code "invalid_json" and the parser's reason.
Result<boost::json::value> ParseJson(std::string_view text);

// The member `key` of `value` when `value` is an object, else nullptr.
const boost::json::value* Member(const boost::json::value& value, std::string_view key);

std::string GetString(const boost::json::value& value, std::string_view key,
                      std::string_view fallback = "");
std::optional<std::int64_t> GetInt(const boost::json::value& value, std::string_view key);
std::optional<double> GetNumber(const boost::json::value& value, std::string_view key);
std::optional<bool> GetBool(const boost::json::value& value, std::string_view key);
// The array member `key`, or an empty array.
const boost::json::array& GetArray(const boost::json::value& value, std::string_view key);

// A scalar as table text: strings as they are, numbers without a trailing
// ".0", booleans as yes/no, null or missing as "-".
std::string ScalarText(const boost::json::value* value);

}  // namespace milf::client
