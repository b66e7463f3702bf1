// args, environ, clocks, random_get, sched_yield, proc_exit, poll_oneoff.
#include <gtest/gtest.h>

#include <cstring>

#include "wasi_test_support.h"

namespace milf::wasm::wasi {
namespace {

using testing::WasiHarness;

// An address past the end of guest memory, and one straddling it.
constexpr std::uint32_t kOutside = WasiHarness::kMemoryBytes + 16;
constexpr std::uint32_t kStraddle = WasiHarness::kMemoryBytes - 2;

WasiConfig ArgsConfig() {
  WasiConfig config;
  config.args = {"prog", "--flag", ""};
  config.env = {"A=1", "EMPTY="};
  return config;
}

TEST(WasiArgs, SizesAndContents) {
  WasiHarness h(ArgsConfig());
  const std::uint32_t count = h.Alloc(4);
  const std::uint32_t size = h.Alloc(4);
  ASSERT_EQ(h.Call("args_sizes_get", {count, size}), Errno::kSuccess);
  EXPECT_EQ(h.U32(count), 3u);
  EXPECT_EQ(h.U32(size), 5u + 7u + 1u);

  const std::uint32_t argv = h.Alloc(12);
  const std::uint32_t buffer = h.Alloc(13);
  ASSERT_EQ(h.Call("args_get", {argv, buffer}), Errno::kSuccess);
  EXPECT_EQ(h.U32(argv), buffer);
  EXPECT_EQ(h.Bytes(h.U32(argv), 5), std::string("prog\0", 5));
  EXPECT_EQ(h.Bytes(h.U32(argv + 4), 7), std::string("--flag\0", 7));
  EXPECT_EQ(h.U8(h.U32(argv + 8)), 0);
}

TEST(WasiArgs, BadPointersAreFaults) {
  WasiHarness h(ArgsConfig());
  const std::uint32_t ok = h.Alloc(64);
  EXPECT_EQ(h.Call("args_sizes_get", {kOutside, ok}), Errno::kFault);
  EXPECT_EQ(h.Call("args_sizes_get", {ok, kStraddle}), Errno::kFault);
  EXPECT_EQ(h.Call("args_get", {kOutside, ok}), Errno::kFault);
  EXPECT_EQ(h.Call("args_get", {ok, kStraddle}), Errno::kFault);
  EXPECT_EQ(h.Call("args_get", {ok, 0xFFFFFFFF}), Errno::kFault);
}

TEST(WasiEnviron, SizesAndContents) {
  WasiHarness h(ArgsConfig());
  const std::uint32_t count = h.Alloc(4);
  const std::uint32_t size = h.Alloc(4);
  ASSERT_EQ(h.Call("environ_sizes_get", {count, size}), Errno::kSuccess);
  EXPECT_EQ(h.U32(count), 2u);
  EXPECT_EQ(h.U32(size), 4u + 7u);
  const std::uint32_t envp = h.Alloc(8);
  const std::uint32_t buffer = h.Alloc(11);
  ASSERT_EQ(h.Call("environ_get", {envp, buffer}), Errno::kSuccess);
  EXPECT_EQ(h.Bytes(h.U32(envp), 4), std::string("A=1\0", 4));
  EXPECT_EQ(h.Bytes(h.U32(envp + 4), 7), std::string("EMPTY=\0", 7));
  EXPECT_EQ(h.Call("environ_get", {kOutside, buffer}), Errno::kFault);
  EXPECT_EQ(h.Call("environ_sizes_get", {count, kOutside}), Errno::kFault);
}

TEST(WasiEnviron, EmptyListsWork) {
  WasiHarness h;
  const std::uint32_t count = h.Alloc(4);
  const std::uint32_t size = h.Alloc(4);
  ASSERT_EQ(h.Call("environ_sizes_get", {count, size}), Errno::kSuccess);
  EXPECT_EQ(h.U32(count), 0u);
  EXPECT_EQ(h.U32(size), 0u);
  EXPECT_EQ(h.Call("environ_get", {count, size}), Errno::kSuccess);
}

TEST(WasiClock, TimeComesFromTheEnvironment) {
  WasiHarness h;
  h.env.realtime = 1'234'567'890'123;
  h.env.monotonic = 42;
  const std::uint32_t out = h.Alloc(8);
  ASSERT_EQ(h.Call("clock_time_get", {0, 1, out}), Errno::kSuccess);
  EXPECT_EQ(h.U64(out), 1'234'567'890'123u);
  for (std::uint32_t id : {1u, 2u, 3u}) {
    ASSERT_EQ(h.Call("clock_time_get", {id, 0, out}), Errno::kSuccess);
    EXPECT_EQ(h.U64(out), 42u);
  }
  EXPECT_EQ(h.Call("clock_time_get", {4, 0, out}), Errno::kInval);
  EXPECT_EQ(h.Call("clock_time_get", {0, 0, kOutside}), Errno::kFault);
  EXPECT_EQ(h.Call("clock_time_get", {0, 0, kStraddle}), Errno::kFault);
}

TEST(WasiClock, Resolution) {
  WasiHarness h;
  const std::uint32_t out = h.Alloc(8);
  ASSERT_EQ(h.Call("clock_res_get", {1, out}), Errno::kSuccess);
  EXPECT_GT(h.U64(out), 0u);
  EXPECT_EQ(h.Call("clock_res_get", {99, out}), Errno::kInval);
  EXPECT_EQ(h.Call("clock_res_get", {0, kOutside}), Errno::kFault);
}

TEST(WasiRandom, FillsFromTheEnvironment) {
  WasiHarness h;
  h.env.next_random = 7;
  const std::uint32_t out = h.Alloc(4);
  ASSERT_EQ(h.Call("random_get", {out, 4}), Errno::kSuccess);
  EXPECT_EQ(h.U32(out), 0x0A090807u);
  EXPECT_EQ(h.Call("random_get", {out, 0}), Errno::kSuccess);
  EXPECT_EQ(h.Call("random_get", {kStraddle, 4}), Errno::kFault);
  EXPECT_EQ(h.Call("random_get", {0, 0xFFFFFFFF}), Errno::kFault);
  EXPECT_EQ(h.env.next_random, 11);  // failed calls drew nothing
}

TEST(WasiSched, YieldSucceeds) {
  WasiHarness h;
  EXPECT_EQ(h.Call("sched_yield", {}), Errno::kSuccess);
  EXPECT_EQ(h.action(), HostAction::kContinue);
}

TEST(WasiProcExit, ZeroStopsWithOk) {
  WasiHarness h;
  h.Call("proc_exit", {0});
  EXPECT_EQ(h.action(), HostAction::kStop);
  ASSERT_TRUE(h.host.stop().has_value());
  EXPECT_EQ(h.host.stop()->status, RunStatus::kOk);
  EXPECT_EQ(h.host.stop()->exit_code, 0);
}

TEST(WasiProcExit, NonzeroStopsWithExitCode) {
  WasiHarness h;
  h.Call("proc_exit", {3});
  EXPECT_EQ(h.action(), HostAction::kStop);
  ASSERT_TRUE(h.host.stop().has_value());
  EXPECT_EQ(h.host.stop()->status, RunStatus::kExitNonzero);
  EXPECT_EQ(h.host.stop()->exit_code, 3);
  EXPECT_EQ(h.host.stop()->message, "proc_exit(3)");
  EXPECT_TRUE(h.Find("proc_exit")->sig.results.empty());
}

TEST(WasiProcExit, FirstStopReasonWins) {
  WasiHarness h;
  h.Call("proc_exit", {5});
  h.Call("proc_exit", {0});
  EXPECT_EQ(h.host.stop()->exit_code, 5);
  EXPECT_EQ(h.Call("sched_yield", {}), Errno::kSuccess);
  EXPECT_EQ(h.action(), HostAction::kContinue);
}

// Writes a clock subscription at `sub`.
void PutClock(WasiHarness& h, std::uint32_t sub, std::uint64_t userdata, std::uint32_t clock,
              std::uint64_t timeout, std::uint16_t flags = 0) {
  std::memset(h.memory.data() + sub, 0, layout::kSubscriptionSize);
  std::memcpy(h.memory.data() + sub, &userdata, 8);
  h.memory[sub + 8] = static_cast<std::uint8_t>(EventType::kClock);
  std::memcpy(h.memory.data() + sub + 16, &clock, 4);
  std::memcpy(h.memory.data() + sub + 24, &timeout, 8);
  std::memcpy(h.memory.data() + sub + 40, &flags, 2);
}

void PutFd(WasiHarness& h, std::uint32_t sub, std::uint64_t userdata, EventType type,
           std::uint32_t fd) {
  std::memset(h.memory.data() + sub, 0, layout::kSubscriptionSize);
  std::memcpy(h.memory.data() + sub, &userdata, 8);
  h.memory[sub + 8] = static_cast<std::uint8_t>(type);
  std::memcpy(h.memory.data() + sub + 16, &fd, 4);
}

struct PollBuffers {
  std::uint32_t in, out, nevents;
};

PollBuffers AllocPoll(WasiHarness& h, std::uint32_t count) {
  return {h.Alloc(count * layout::kSubscriptionSize), h.Alloc(count * layout::kEventSize),
          h.Alloc(4)};
}

TEST(WasiPoll, RelativeClockSleepsThroughTheEnvironment) {
  WasiHarness h;
  const auto p = AllocPoll(h, 1);
  PutClock(h, p.in, 0xABCD, 1, 1'000'000);
  ASSERT_EQ(h.Call("poll_oneoff", {p.in, p.out, 1, p.nevents}), Errno::kSuccess);
  EXPECT_EQ(h.action(), HostAction::kContinue);
  EXPECT_EQ(h.env.sleeps, std::vector<std::int64_t>{1'000'000});
  ASSERT_EQ(h.U32(p.nevents), 1u);
  EXPECT_EQ(h.U64(p.out), 0xABCDu);
  EXPECT_EQ(h.U16(p.out + 8), 0u);
  EXPECT_EQ(h.U8(p.out + 10), static_cast<std::uint8_t>(EventType::kClock));
}

TEST(WasiPoll, EarliestOfSeveralClocksFires) {
  WasiHarness h;
  const auto p = AllocPoll(h, 3);
  PutClock(h, p.in, 1, 1, 5'000);
  PutClock(h, p.in + 48, 2, 1, 2'000);
  PutClock(h, p.in + 96, 3, 1, 2'000);
  ASSERT_EQ(h.Call("poll_oneoff", {p.in, p.out, 3, p.nevents}), Errno::kSuccess);
  EXPECT_EQ(h.env.sleeps, std::vector<std::int64_t>{2'000});
  ASSERT_EQ(h.U32(p.nevents), 2u);
  EXPECT_EQ(h.U64(p.out), 2u);
  EXPECT_EQ(h.U64(p.out + 32), 3u);
}

TEST(WasiPoll, AbsoluteClockInThePastFiresWithoutSleeping) {
  WasiHarness h;
  h.env.monotonic = 10'000;
  const auto p = AllocPoll(h, 1);
  PutClock(h, p.in, 9, 1, 9'999, kSubclockAbstime);
  ASSERT_EQ(h.Call("poll_oneoff", {p.in, p.out, 1, p.nevents}), Errno::kSuccess);
  EXPECT_TRUE(h.env.sleeps.empty());
  EXPECT_EQ(h.U32(p.nevents), 1u);
}

TEST(WasiPoll, AbsoluteClockInTheFutureSleepsTheDifference) {
  WasiHarness h;
  h.env.realtime = 1'000;
  const auto p = AllocPoll(h, 1);
  PutClock(h, p.in, 9, 0, 1'500, kSubclockAbstime);
  ASSERT_EQ(h.Call("poll_oneoff", {p.in, p.out, 1, p.nevents}), Errno::kSuccess);
  EXPECT_EQ(h.env.sleeps, std::vector<std::int64_t>{500});
}

TEST(WasiPoll, SleepingPastTheDeadlineStopsWithTimeout) {
  WasiHarness h;
  h.env.deadline = h.env.monotonic + 1'000;
  const auto p = AllocPoll(h, 1);
  PutClock(h, p.in, 1, 1, 60'000'000'000);
  h.Call("poll_oneoff", {p.in, p.out, 1, p.nevents});
  EXPECT_EQ(h.action(), HostAction::kStop);
  ASSERT_TRUE(h.host.stop().has_value());
  EXPECT_EQ(h.host.stop()->status, RunStatus::kTimeout);
}

TEST(WasiPoll, FdSubscriptionsAreReadyAtOnce) {
  WasiConfig config;
  config.stdin_data = {'a', 'b', 'c'};
  WasiHarness h(config);
  const auto p = AllocPoll(h, 4);
  PutClock(h, p.in, 1, 1, 1'000'000);
  PutFd(h, p.in + 48, 2, EventType::kFdRead, 0);
  PutFd(h, p.in + 96, 3, EventType::kFdWrite, 1);
  PutFd(h, p.in + 144, 4, EventType::kFdRead, 77);
  ASSERT_EQ(h.Call("poll_oneoff", {p.in, p.out, 4, p.nevents}), Errno::kSuccess);
  EXPECT_TRUE(h.env.sleeps.empty());
  ASSERT_EQ(h.U32(p.nevents), 3u);
  EXPECT_EQ(h.U64(p.out), 2u);
  EXPECT_EQ(h.U16(p.out + 8), 0u);
  EXPECT_EQ(h.U8(p.out + 10), static_cast<std::uint8_t>(EventType::kFdRead));
  EXPECT_EQ(h.U64(p.out + 16), 3u);  // stdin bytes available
  EXPECT_EQ(h.U64(p.out + 32), 3u);
  EXPECT_EQ(h.U16(p.out + 32 + 8), 0u);
  EXPECT_EQ(h.U64(p.out + 64), 4u);
  EXPECT_EQ(static_cast<Errno>(h.U16(p.out + 64 + 8)), Errno::kBadf);
}

TEST(WasiPoll, ExhaustedStdinReportsHangup) {
  WasiHarness h;
  const auto p = AllocPoll(h, 1);
  PutFd(h, p.in, 1, EventType::kFdRead, 0);
  ASSERT_EQ(h.Call("poll_oneoff", {p.in, p.out, 1, p.nevents}), Errno::kSuccess);
  EXPECT_EQ(h.U16(p.out + 24), kEventFdReadwriteHangup);
}

TEST(WasiPoll, UnsupportedSubscriptionsReportPerEvent) {
  WasiHarness h;
  const auto p = AllocPoll(h, 3);
  PutFd(h, p.in, 1, EventType::kFdWrite, 0);        // stdin is not writable
  PutClock(h, p.in + 48, 2, 42, 1);                  // no such clock
  PutFd(h, p.in + 96, 3, EventType::kFdRead, 0);
  h.memory[p.in + 96 + 8] = 9;                       // no such event type
  ASSERT_EQ(h.Call("poll_oneoff", {p.in, p.out, 3, p.nevents}), Errno::kSuccess);
  ASSERT_EQ(h.U32(p.nevents), 3u);
  EXPECT_EQ(static_cast<Errno>(h.U16(p.out + 8)), Errno::kNotsup);
  EXPECT_EQ(static_cast<Errno>(h.U16(p.out + 32 + 8)), Errno::kInval);
  EXPECT_EQ(static_cast<Errno>(h.U16(p.out + 64 + 8)), Errno::kInval);
}

TEST(WasiPoll, BadArguments) {
  WasiHarness h;
  const auto p = AllocPoll(h, 1);
  PutClock(h, p.in, 1, 1, 10);
  EXPECT_EQ(h.Call("poll_oneoff", {p.in, p.out, 0, p.nevents}), Errno::kInval);
  EXPECT_EQ(h.Call("poll_oneoff", {kOutside, p.out, 1, p.nevents}), Errno::kFault);
  EXPECT_EQ(h.Call("poll_oneoff", {p.in, kStraddle, 1, p.nevents}), Errno::kFault);
  EXPECT_EQ(h.Call("poll_oneoff", {p.in, p.out, 1, kOutside}), Errno::kFault);
  EXPECT_EQ(h.Call("poll_oneoff", {p.in, p.out, 0x10000000, p.nevents}), Errno::kFault);
  EXPECT_TRUE(h.env.sleeps.empty());
}

}  // namespace
}  // namespace milf::wasm::wasi
