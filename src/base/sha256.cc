#include "base/sha256.h"

#include <openssl/evp.h>

namespace milf {

Sha256Digest Sha256(std::span<const std::uint8_t> data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

Sha256Digest Sha256(std::string_view data) {
  return Sha256({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
}

std::string ToHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const std::uint8_t byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xf]);
  }
  return hex;
}

std::string Sha256Hex(std::span<const std::uint8_t> data) { return ToHex(Sha256(data)); }

}  // namespace milf
