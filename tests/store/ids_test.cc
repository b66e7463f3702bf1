#include "store/ids.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

namespace milf::store {
namespace {

TEST(InvocationIdTest, HasTheCanonicalForm) {
  InvocationIdGenerator generator;
  const std::string id = generator.Next(1'700'000'000'000);
  EXPECT_EQ(id.size(), kInvocationIdLength);
  EXPECT_TRUE(IsInvocationId(id)) << id;
  EXPECT_EQ(id.find_first_of("ILOUilou"), std::string::npos) << id;
  EXPECT_EQ(InvocationIdTime(id), 1'700'000'000'000);
}

TEST(InvocationIdTest, EncodesTheTimeInTheFirstTenCharacters) {
  // Known ULID time prefixes: 0 and the largest 48-bit time.
  InvocationIdGenerator generator;
  EXPECT_EQ(generator.Next(0).substr(0, 10), "0000000000");
  EXPECT_EQ(generator.Next((std::int64_t{1} << 48) - 1).substr(0, 10), "7ZZZZZZZZZ");
}

TEST(InvocationIdTest, SortsByCreationTimeAcrossMilliseconds) {
  InvocationIdGenerator generator;
  std::vector<std::string> ids;
  for (Millis ms : {5, 6, 1'000, 1'001, 99'999'999}) ids.push_back(generator.Next(ms));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(InvocationIdTest, IsStrictlyIncreasingWithinOneMillisecond) {
  InvocationIdGenerator generator;
  std::string previous = generator.Next(42);
  for (int i = 0; i < 10'000; ++i) {
    const std::string next = generator.Next(42);
    ASSERT_LT(previous, next);
    ASSERT_EQ(InvocationIdTime(next), 42);
    previous = next;
  }
}

TEST(InvocationIdTest, StaysIncreasingWhenTheClockStepsBack) {
  InvocationIdGenerator generator;
  const std::string later = generator.Next(10'000);
  const std::string after_step_back = generator.Next(9'000);
  EXPECT_LT(later, after_step_back);
}

TEST(InvocationIdTest, ClampsTimesOutsideFortyEightBits) {
  InvocationIdGenerator generator;
  EXPECT_EQ(InvocationIdTime(generator.Next(-5)), 0);
  EXPECT_EQ(InvocationIdTime(generator.Next(std::int64_t{1} << 50)), (std::int64_t{1} << 48) - 1);
}

TEST(InvocationIdTest, SeededGeneratorsAgree) {
  InvocationIdGenerator a(NewSeededRandom(7));
  InvocationIdGenerator b(NewSeededRandom(7));
  EXPECT_EQ(a.Next(123), b.Next(123));
  EXPECT_EQ(a.Next(123), b.Next(123));
}

TEST(InvocationIdTest, ProcessWideIdsAreUniqueAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2'000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kPerThread; ++i) made[t].push_back(NewInvocationId(77));
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& ids : made) {
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(InvocationIdTest, RejectsAnythingElse) {
  InvocationIdGenerator generator;
  std::string good = generator.Next(1);
  EXPECT_FALSE(IsInvocationId(""));
  EXPECT_FALSE(IsInvocationId(good.substr(1)));
  EXPECT_FALSE(IsInvocationId(good + "0"));
  std::string lower = good;
  lower[12] = 'a';
  EXPECT_FALSE(IsInvocationId(lower));
  for (char excluded : {'I', 'L', 'O', 'U', '-', '/', '\0'}) {
    std::string bad = good;
    bad[20] = excluded;
    EXPECT_FALSE(IsInvocationId(bad)) << excluded;
  }
  std::string overflow = good;
  overflow[0] = '8';  // would need 130 bits
  EXPECT_FALSE(IsInvocationId(overflow));
  EXPECT_EQ(InvocationIdTime("../../etc/passwd"), std::nullopt);
}

TEST(StateNameTest, RoundTripsEveryState) {
  for (InvocationState state :
       {InvocationState::kQueued, InvocationState::kDispatched, InvocationState::kRunning,
        InvocationState::kSucceeded, InvocationState::kFailed, InvocationState::kTimedOut}) {
    EXPECT_EQ(ParseState(StateName(state)), state) << StateName(state);
  }
  EXPECT_EQ(StateName(InvocationState::kTimedOut), "timed_out");
  EXPECT_EQ(ParseState("Queued"), std::nullopt);
  EXPECT_EQ(ParseState(""), std::nullopt);
  EXPECT_EQ(ParseState("unknown"), std::nullopt);
}

}  // namespace
}  // namespace milf::store
