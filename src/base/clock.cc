#include "base/clock.h"

#include <time.h>

namespace milf {
namespace {

std::int64_t ReadClock(clockid_t id) {
  timespec now{};
  clock_gettime(id, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

class HostClock final : public Clock {
 public:
  std::int64_t MonotonicNanos() const override { return ReadClock(CLOCK_MONOTONIC); }
  std::int64_t RealtimeNanos() const override { return ReadClock(CLOCK_REALTIME); }
  std::int64_t ThreadCpuNanos() const override { return ReadClock(CLOCK_THREAD_CPUTIME_ID); }
};

}  // namespace

const Clock& SystemClock() {
  static const HostClock clock;
  return clock;
}

}  // namespace milf
