// Clock: the one way MILF code reads time, so tests can substitute a manual
// clock and exercise deadlines and timeouts without sleeping.
// Implementations must be safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace milf {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds from an arbitrary origin; never goes backwards.
  virtual std::int64_t MonotonicNanos() const = 0;
  // Nanoseconds since the Unix epoch (may jump when the host clock is set).
  virtual std::int64_t RealtimeNanos() const = 0;
  // CPU time consumed by the calling thread, in nanoseconds.
  virtual std::int64_t ThreadCpuNanos() const = 0;
};

// The host's clocks. The returned object lives for the whole program.
const Clock& SystemClock();

}  // namespace milf
