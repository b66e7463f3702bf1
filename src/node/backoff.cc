#include "node/backoff.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace milf::node {

Backoff::Backoff(BackoffOptions options, RandomSource& random)
    : options_(options), random_(random) {}

std::chrono::milliseconds Backoff::Next() {
  const double max = static_cast<double>(options_.max.count());
  const double grown = static_cast<double>(options_.initial.count()) *
                       std::pow(std::max(options_.multiplier, 1.0), failures_);
  const auto step = static_cast<std::int64_t>(std::min(max, grown));
  ++failures_;
  std::array<std::uint8_t, 8> bytes{};
  random_.Fill(bytes);
  std::uint64_t draw = 0;
  for (const std::uint8_t byte : bytes) draw = (draw << 8) | byte;
  const std::int64_t half = step / 2;
  const std::int64_t spread = step - half;
  const auto jitter = static_cast<std::int64_t>(draw % static_cast<std::uint64_t>(spread + 1));
  return std::chrono::milliseconds(half + jitter);
}

}  // namespace milf::node
