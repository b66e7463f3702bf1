// Text encodings for bytes that travel in JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace milf {

std::string Base64Encode(std::span<const std::uint8_t> bytes);
// nullopt when `text` is not valid standard base64.
std::optional<std::vector<std::uint8_t>> Base64Decode(std::string_view text);
bool IsValidUtf8(std::span<const std::uint8_t> bytes);

}  // namespace milf
