#include "node/config_json.h"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <iterator>

namespace milf::node {

namespace json = boost::json;

Result<std::string> ReadConfigFile(const std::filesystem::path& path) {
  constexpr std::streamsize kMaxBytes = 1 << 20;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("io", "cannot open " + path.string());
  std::string text(static_cast<std::size_t>(kMaxBytes) + 1, '\0');
  in.read(text.data(), kMaxBytes + 1);
  if (in.bad()) return Fail("io", "cannot read " + path.string());
  if (in.gcount() > kMaxBytes) return Fail("io", path.string() + " is larger than 1 MiB");
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

Result<json::object> ConfigReader::ParseObject(std::string_view text) const {
  std::error_code error;
  json::value value = json::parse(text, error);
  const std::string where = path_.empty() ? "" : path_ + ": ";
  if (error) return Fail(code_, where + "invalid JSON: " + error.message());
  if (!value.is_object()) return Fail(code_, where + "expected a JSON object");
  return std::move(value.get_object());
}

Status ConfigReader::CheckKeys(const json::object& object,
                               std::initializer_list<std::string_view> allowed) const {
  for (const auto& entry : object) {
    bool known = false;
    for (std::string_view key : allowed) known = known || key == entry.key();
    if (!known) return Reject(entry.key(), "unknown key");
  }
  return {};
}

Result<std::optional<double>> ConfigReader::Number(const json::object& object, std::string_view key,
                                                   double min, double max) const {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<double>();
  if (!value->is_number()) return Reject(key, "expected a number");
  const double number = value->to_number<double>();
  if (!std::isfinite(number) || number < min || number > max) {
    return Reject(key, fmt::format("must be between {} and {}", min, max));
  }
  return std::optional<double>(number);
}

Result<std::optional<bool>> ConfigReader::Bool(const json::object& object,
                                               std::string_view key) const {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<bool>();
  if (!value->is_bool()) return Reject(key, "expected true or false");
  return std::optional<bool>(value->get_bool());
}

std::string ConfigReader::Join(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Unexpected<Error> ConfigReader::Reject(std::string_view key, const std::string& what) const {
  return Fail(code_, Join(key) + ": " + what);
}

}  // namespace milf::node
