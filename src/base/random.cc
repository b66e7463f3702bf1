#include "base/random.h"

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <vector>

namespace milf {
namespace {

class SystemRandom final : public RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override { randombytes_buf(out.data(), out.size()); }
};

// Keystream position is tracked in bytes so that consecutive Fill calls of any
// sizes concatenate to one stream: Fill(3)+Fill(5) == Fill(8).
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) {
    std::array<std::uint8_t, 8> seed_bytes{};
    for (int i = 0; i < 8; ++i) seed_bytes[i] = static_cast<std::uint8_t>(seed >> (8 * i));
    crypto_generichash(key_.data(), key_.size(), seed_bytes.data(), seed_bytes.size(), nullptr, 0);
  }

  void Fill(std::span<std::uint8_t> out) override {
    constexpr std::uint64_t kBlock = 64;
    const std::uint64_t first_block = position_ / kBlock;
    const std::uint64_t skip = position_ % kBlock;
    std::vector<std::uint8_t> stream(skip + out.size());
    crypto_stream_chacha20_ietf_xor_ic(stream.data(), stream.data(), stream.size(), nonce_.data(),
                                       static_cast<std::uint32_t>(first_block), key_.data());
    std::copy(stream.begin() + static_cast<std::ptrdiff_t>(skip), stream.end(), out.begin());
    position_ += out.size();
  }

 private:
  std::array<std::uint8_t, crypto_stream_chacha20_ietf_KEYBYTES> key_{};
  std::array<std::uint8_t, crypto_stream_chacha20_ietf_NONCEBYTES> nonce_{};
  std::uint64_t position_ = 0;
};

}  // namespace

std::unique_ptr<RandomSource> NewSystemRandom() {
  // sodium_init only fails when the kernel offers no entropy source at all;
  // handing a guest predictable "random" bytes would be worse than stopping.
  if (sodium_init() < 0) std::abort();
  return std::make_unique<SystemRandom>();
}

std::unique_ptr<RandomSource> NewSeededRandom(std::uint64_t seed) {
  return std::make_unique<SeededRandom>(seed);
}

}  // namespace milf
