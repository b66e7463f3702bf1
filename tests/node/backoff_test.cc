// The reconnect schedule: exponential, capped, jittered within the upper
// half of each step, reproducible with a seeded source, and reset after a
// success.
#include "node/backoff.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace milf::node {
namespace {

using std::chrono::milliseconds;

BackoffOptions Options() {
  BackoffOptions options;
  options.initial = milliseconds(100);
  options.max = milliseconds(2'000);
  options.multiplier = 2;
  return options;
}

TEST(Backoff, GrowsExponentiallyWithinTheUpperHalfAndIsCapped) {
  auto random = NewSeededRandom(7);
  Backoff backoff(Options(), *random);
  const std::vector<std::int64_t> steps = {100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000};
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const std::int64_t delay = backoff.Next().count();
    EXPECT_GE(delay, steps[i] / 2) << "attempt " << i;
    EXPECT_LE(delay, steps[i]) << "attempt " << i;
  }
  EXPECT_EQ(backoff.failures(), static_cast<int>(steps.size()));
}

TEST(Backoff, StaysBoundedAfterManyFailures) {
  auto random = NewSeededRandom(1);
  Backoff backoff(Options(), *random);
  for (int i = 0; i < 10'000; ++i) {
    const milliseconds delay = backoff.Next();
    ASSERT_LE(delay, milliseconds(2'000));
    ASSERT_GE(delay, milliseconds(50));
  }
}

TEST(Backoff, IsJittered) {
  auto random = NewSeededRandom(3);
  std::set<std::int64_t> capped;
  Backoff backoff(Options(), *random);
  for (int i = 0; i < 50; ++i) {
    const std::int64_t delay = backoff.Next().count();
    if (i >= 5) capped.insert(delay);
  }
  // Forty-five draws from [1000, 2000]: a fleet does not retry in lockstep.
  EXPECT_GT(capped.size(), 30u);
}

TEST(Backoff, TheSameSeedGivesTheSameSchedule) {
  auto a = NewSeededRandom(42);
  auto b = NewSeededRandom(42);
  Backoff first(Options(), *a), second(Options(), *b);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(first.Next(), second.Next());
}

TEST(Backoff, ResetStartsOver) {
  auto random = NewSeededRandom(9);
  Backoff backoff(Options(), *random);
  for (int i = 0; i < 6; ++i) (void)backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0);
  const milliseconds delay = backoff.Next();
  EXPECT_GE(delay, milliseconds(50));
  EXPECT_LE(delay, milliseconds(100));
}

TEST(Backoff, ATinyInitialDelayStillWorks) {
  auto random = NewSeededRandom(5);
  BackoffOptions options = Options();
  options.initial = milliseconds(1);
  Backoff backoff(options, *random);
  EXPECT_LE(backoff.Next(), milliseconds(1));
  options.initial = milliseconds(0);
  Backoff zero(options, *random);
  EXPECT_EQ(zero.Next(), milliseconds(0));
}

}  // namespace
}  // namespace milf::node
