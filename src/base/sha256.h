// SHA-256 digests (OpenSSL) and their lowercase hex form. Content addressing
// across MILF (module cache, stored modules, output hashes) uses these.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace milf {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest Sha256(std::span<const std::uint8_t> data);
Sha256Digest Sha256(std::string_view data);
std::string ToHex(std::span<const std::uint8_t> bytes);
std::string Sha256Hex(std::span<const std::uint8_t> data);

}  // namespace milf
