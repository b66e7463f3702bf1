// Strict reading of the node's small JSON configuration files (the device
// profile, the admission policy): unknown keys and mistyped or out-of-range
// values are errors that name the key, so a typo in a policy file cannot
// silently leave a device unprotected.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace milf::node {

// Reads the whole file (at most 1 MiB). Errors: "io".
Result<std::string> ReadConfigFile(const std::filesystem::path& path);

// The errors below carry `code` and a message starting with the key's path.
class ConfigReader {
 public:
  ConfigReader(std::string code, std::string path) : code_(std::move(code)), path_(std::move(path)) {}

  // `text` must be one JSON object.
  Result<boost::json::object> ParseObject(std::string_view text) const;
  // Every key of `object` is in `allowed`.
  Status CheckKeys(const boost::json::object& object, std::initializer_list<std::string_view> allowed) const;
  // An optional number in [min, max] (absent or null gives nullopt).
  Result<std::optional<double>> Number(const boost::json::object& object, std::string_view key,
                                       double min, double max) const;
  Result<std::optional<bool>> Bool(const boost::json::object& object, std::string_view key) const;

  ConfigReader Nested(std::string_view key) const { return {code_, Join(key)}; }

 private:
  std::string Join(std::string_view key) const;
  Unexpected<Error> Reject(std::string_view key, const std::string& what) const;

  std::string code_;
  std::string path_;
};

}  // namespace milf::node
