// A Clock that moves only when a test says so.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/clock.h"

namespace milf::testing {

class FakeClock final : public Clock {
 public:
  std::int64_t MonotonicNanos() const override { return nanos_.load(); }
  std::int64_t RealtimeNanos() const override { return kEpochOffset + nanos_.load(); }
  std::int64_t ThreadCpuNanos() const override { return 0; }
  void AdvanceMillis(std::int64_t millis) { nanos_ += millis * 1'000'000; }

 private:
  // 2026-01-01T00:00:00Z, so realtime looks like a real date.
  static constexpr std::int64_t kEpochOffset = 1'767'225'600LL * 1'000'000'000;
  std::atomic<std::int64_t> nanos_{1'000'000'000};
};

}  // namespace milf::testing
