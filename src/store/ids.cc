#include "store/ids.h"

#include <algorithm>

namespace milf::store {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr Millis kMaxMillis = (Millis{1} << 48) - 1;
constexpr std::size_t kTimeChars = 10;

// The 128-bit id (16 big-endian bytes) as 26 base32 digits; the two bits
// above 128 are zero.
std::string Encode(const std::array<std::uint8_t, 16>& bytes) {
  std::string out(kInvocationIdLength, '0');
  unsigned __int128 value = 0;
  for (std::uint8_t b : bytes) value = (value << 8) | b;
  for (std::size_t i = kInvocationIdLength; i-- > 0;) {
    out[i] = kAlphabet[static_cast<std::size_t>(value & 31)];
    value >>= 5;
  }
  return out;
}

int DigitValue(char c) {
  const std::size_t pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Adds one to a big-endian counter; false when it wrapped to zero.
bool Increment(std::array<std::uint8_t, 10>& counter) {
  for (std::size_t i = counter.size(); i-- > 0;) {
    if (++counter[i] != 0) return true;
  }
  return false;
}

}  // namespace

InvocationIdGenerator::InvocationIdGenerator() : random_(NewSystemRandom()) {}

InvocationIdGenerator::InvocationIdGenerator(std::unique_ptr<RandomSource> random)
    : random_(std::move(random)) {}

std::string InvocationIdGenerator::Next(Millis now) {
  const Millis clamped = std::clamp<Millis>(now, 0, kMaxMillis);
  std::lock_guard lock(mu_);
  if (clamped > last_ms_) {
    last_ms_ = clamped;
    random_->Fill(last_random_);
  } else if (!Increment(last_random_)) {
    // 2^80 ids in one millisecond: borrow the next millisecond rather than
    // repeat an id. Saturating at the end of time keeps the ids unique.
    last_ms_ = std::min(last_ms_ + 1, kMaxMillis);
    random_->Fill(last_random_);
  }
  std::array<std::uint8_t, 16> bytes{};
  for (int i = 0; i < 6; ++i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(last_ms_ >> (8 * (5 - i)));
  }
  std::copy(last_random_.begin(), last_random_.end(), bytes.begin() + 6);
  return Encode(bytes);
}

std::string NewInvocationId(Millis now) {
  static InvocationIdGenerator generator;
  return generator.Next(now);
}

bool IsInvocationId(std::string_view id) {
  if (id.size() != kInvocationIdLength) return false;
  // The first digit carries only 3 bits (128 = 26 * 5 - 2).
  if (DigitValue(id[0]) < 0 || DigitValue(id[0]) > 7) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return DigitValue(c) >= 0; });
}

std::optional<Millis> InvocationIdTime(std::string_view id) {
  if (!IsInvocationId(id)) return std::nullopt;
  Millis ms = 0;
  for (std::size_t i = 0; i < kTimeChars; ++i) ms = (ms << 5) | DigitValue(id[i]);
  // The 10 time digits hold 50 bits, the top 2 always zero.
  return ms;
}

}  // namespace milf::store
