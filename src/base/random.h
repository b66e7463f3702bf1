// RandomSource: where guest-visible randomness comes from. The system source
// reads the kernel's CSPRNG; the seeded source is a ChaCha20 keystream
// (libsodium) keyed by the invocation's seed, so the same seed yields the same
// bytes on every machine and architecture. Not safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

namespace milf {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void Fill(std::span<std::uint8_t> out) = 0;
};

std::unique_ptr<RandomSource> NewSystemRandom();
std::unique_ptr<RandomSource> NewSeededRandom(std::uint64_t seed);

}  // namespace milf
