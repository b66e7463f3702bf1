// Invocation ids: 26 characters of Crockford base32 in the ULID layout. The
// first 10 characters encode the creation time in Unix milliseconds (48
// bits), the last 16 eighty random bits, so ids sort by creation time as
// plain strings and the store can list invocations newest first by id.
//
// Within one millisecond a generator counts the random part up instead of
// drawing new bits, so the ids it hands out are strictly increasing even
// when many are made in the same millisecond or the clock steps back.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/random.h"
#include "store/store.h"

namespace milf::store {

inline constexpr std::size_t kInvocationIdLength = 26;

// Thread-safe.
class InvocationIdGenerator {
 public:
  // Draws from the kernel's CSPRNG.
  InvocationIdGenerator();
  // Draws from `random` (a seeded source makes ids reproducible in tests).
  explicit InvocationIdGenerator(std::unique_ptr<RandomSource> random);

  // An id for an invocation created at `now`; times outside
  // [0, 2^48) are clamped into it.
  std::string Next(Millis now);

 private:
  std::mutex mu_;
  std::unique_ptr<RandomSource> random_;
  Millis last_ms_ = -1;
  std::array<std::uint8_t, 10> last_random_{};
};

// The next id from the process-wide generator. One generator serves the
// whole process because monotonic order only means something if every id
// of the process comes from the same sequence.
std::string NewInvocationId(Millis now);

// True when `id` is in the canonical form NewInvocationId produces
// (upper case, 26 characters, time within 48 bits).
bool IsInvocationId(std::string_view id);

// The creation time encoded in a canonical id; nullopt for anything else.
std::optional<Millis> InvocationIdTime(std::string_view id);

}  // namespace milf::store
