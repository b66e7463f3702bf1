// Runner: limits, entry models, statuses and determinism, on small modules
// written in WAT that talk WASI directly.
#include "wasm/runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "support/wat.h"

namespace milf::wasm {
namespace {

using milf::testing::Wasm;

// A clock whose monotonic time advances 1 ms at every reading, so deadlines
// arrive after a known number of fuel refills without any real waiting.
class SteppingClock final : public Clock {
 public:
  std::int64_t MonotonicNanos() const override { return now_ += 1'000'000; }
  std::int64_t RealtimeNanos() const override { return now_; }
  std::int64_t ThreadCpuNanos() const override { return 0; }

 private:
  mutable std::atomic<std::int64_t> now_{0};
};

// fd_write of a string at offset 100; iovec at 0.
constexpr std::string_view kWasiPrelude = R"(
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $print (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
)";

std::vector<std::uint8_t> Module(std::string_view body) {
  return Wasm("(module " + std::string(kWasiPrelude) + std::string(body) + ")");
}

class RunnerTest : public ::testing::Test {
 protected:
  RunRecord Run(const std::vector<std::uint8_t>& module) {
    request_.module = module;
    return runner_.Run(request_);
  }

  static std::string Text(const std::vector<std::uint8_t>& bytes) {
    return std::string(bytes.begin(), bytes.end());
  }

  RunRequest request_;
  Runner runner_{NewInterpreterEngine()};
};

const std::string kInfiniteLoop = R"((func (export "_start") (loop $l (br $l))))";

TEST_F(RunnerTest, CommandWritesStdoutAndSucceeds) {
  const RunRecord record = Run(Module(R"(
    (data (i32.const 100) "hi there\n")
    (func (export "_start") (call $print (i32.const 1) (i32.const 100) (i32.const 9))))"));
  EXPECT_EQ(record.status, RunStatus::kOk) << record.message;
  EXPECT_EQ(Text(record.stdout_data), "hi there\n");
  EXPECT_GT(record.fuel_used, 0u);
  EXPECT_EQ(record.peak_memory_bytes, 65536u);
  EXPECT_EQ(record.module_sha256.size(), 64u);
}

TEST_F(RunnerTest, ProcExitCodeBecomesTheStatus) {
  EXPECT_EQ(Run(Module(R"((func (export "_start") (call $proc_exit (i32.const 0)) unreachable))"))
                .status,
            RunStatus::kOk);
  const RunRecord record =
      Run(Module(R"((func (export "_start") (call $proc_exit (i32.const 3)) unreachable))"));
  EXPECT_EQ(record.status, RunStatus::kExitNonzero);
  EXPECT_EQ(record.exit_code, 3);
}

TEST_F(RunnerTest, TrapNamesTheFunction) {
  const RunRecord record = Run(Module(R"(
    (func $compute (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
    (func (export "_start") (drop (call $compute (i32.const 0)))))"));
  EXPECT_EQ(record.status, RunStatus::kTrap);
  EXPECT_EQ(record.message, "integer divide by zero");
  EXPECT_EQ(record.trap_function, "compute");
}

TEST_F(RunnerTest, TrapAfterACallNamesTheCaller) {
  const RunRecord record = Run(Module(R"(
    (func $helper)
    (func $outer (call $helper) unreachable)
    (func (export "_start") (call $outer)))"));
  EXPECT_EQ(record.status, RunStatus::kTrap);
  EXPECT_EQ(record.trap_function, "outer");
}

TEST_F(RunnerTest, FuelBudgetStopsAnInfiniteLoop) {
  request_.limits.fuel = 1'000'000;
  const RunRecord record = Run(Module(kInfiniteLoop));
  EXPECT_EQ(record.status, RunStatus::kFuelExhausted);
  EXPECT_EQ(record.fuel_used, 1'000'000u);
}

TEST_F(RunnerTest, FuelCountsAreDeterministic) {
  const auto module = Module(R"(
    (func (export "_start") (local $i i32)
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 50000))))))");
  const RunRecord first = Run(module);
  const RunRecord second = Run(module);
  ASSERT_EQ(first.status, RunStatus::kOk);
  EXPECT_EQ(first.fuel_used, second.fuel_used);
  // The entry charges 1 (the loop instruction); each of the 50000
  // iterations charges the loop body's 8 instructions.
  EXPECT_EQ(first.fuel_used, 1 + 50'000u * 8);
}

TEST_F(RunnerTest, ExactBudgetIsEnoughAndOneLessIsNot) {
  const auto module = Module(R"(
    (func (export "_start") (local $i i32)
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))))");
  const std::uint64_t needed = Run(module).fuel_used;
  request_.limits.fuel = needed;
  EXPECT_EQ(Run(module).status, RunStatus::kOk);
  request_.limits.fuel = needed - 1;
  EXPECT_EQ(Run(module).status, RunStatus::kFuelExhausted);
}

TEST(RunnerDeadline, TimeoutStopsAnInfiniteLoop) {
  SteppingClock clock;
  Runner runner(NewInterpreterEngine(), clock);
  RunRequest request;
  const auto module = Module(kInfiniteLoop);
  request.module = module;
  request.limits.timeout = std::chrono::milliseconds(5);
  const RunRecord record = runner.Run(request);
  EXPECT_EQ(record.status, RunStatus::kTimeout);
  EXPECT_NE(record.message.find("time limit"), std::string::npos);
}

TEST_F(RunnerTest, MemoryGrowthStopsAtTheCap) {
  request_.limits.memory_bytes = 4 * kWasmPageBytes;
  const RunRecord record = Run(Module(R"(
    (func (export "_start")
      (if (i32.ne (memory.grow (i32.const 3)) (i32.const 1)) (then (call $proc_exit (i32.const 10))))
      (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then (call $proc_exit (i32.const 11))))))"));
  EXPECT_EQ(record.status, RunStatus::kOk) << record.exit_code;
  EXPECT_EQ(record.peak_memory_bytes, 4 * kWasmPageBytes);
}

TEST_F(RunnerTest, ModuleNeedingMoreMemoryThanTheCapIsRefused) {
  request_.limits.memory_bytes = 1 << 20;  // 16 pages
  const RunRecord record = Run(Wasm(R"((module (memory 17) (func (export "_start"))))"));
  EXPECT_EQ(record.status, RunStatus::kMemoryLimit);
  EXPECT_FALSE(record.message.empty());
}

TEST_F(RunnerTest, TableOverTheCapIsRefused) {
  request_.limits.table_elements = 10;
  const RunRecord record = Run(Wasm(R"((module (table 11 funcref) (func (export "_start"))))"));
  EXPECT_EQ(record.status, RunStatus::kTableLimit);
}

TEST_F(RunnerTest, CallDepthLimit) {
  request_.limits.call_depth = 100;
  const std::string recurse = R"(
    (func $down (param i32) (if (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1))))))
    (func (export "_start") (call $down (i32.const DEPTH))))";
  std::string shallow = recurse;
  shallow.replace(shallow.find("DEPTH"), 5, "90");
  EXPECT_EQ(Run(Module(shallow)).status, RunStatus::kOk);
  std::string deep = recurse;
  deep.replace(deep.find("DEPTH"), 5, "150");
  const RunRecord record = Run(Module(deep));
  EXPECT_EQ(record.status, RunStatus::kStackOverflow);
}

TEST_F(RunnerTest, OutputOverflowTruncatesOrFails) {
  const auto module = Module(R"(
    (data (i32.const 100) "0123456789")
    (func (export "_start")
      (call $print (i32.const 1) (i32.const 100) (i32.const 10))
      (call $print (i32.const 1) (i32.const 100) (i32.const 10))))");
  request_.limits.stdout_bytes = 15;
  RunRecord record = Run(module);
  EXPECT_EQ(record.status, RunStatus::kOk);
  EXPECT_EQ(Text(record.stdout_data), "012345678901234");
  EXPECT_TRUE(record.stdout_truncated);

  request_.limits.output_overflow = OverflowPolicy::kFail;
  record = Run(module);
  EXPECT_EQ(record.status, RunStatus::kOutputLimit);
  EXPECT_LE(record.stdout_data.size(), 15u);
}

TEST_F(RunnerTest, OversizedModuleIsRefusedBeforeDecoding) {
  request_.limits.module_bytes = 16;
  const RunRecord record = Run(Module(kInfiniteLoop));
  EXPECT_EQ(record.status, RunStatus::kModuleTooLarge);
}

TEST_F(RunnerTest, GarbageIsAnInvalidModule) {
  const RunRecord record = Run(std::vector<std::uint8_t>{'n', 'o', 't', ' ', 'w', 'a', 's', 'm'});
  EXPECT_EQ(record.status, RunStatus::kInvalidModule);
  EXPECT_FALSE(record.message.empty());
}

TEST_F(RunnerTest, UnknownImportIsALinkError) {
  const RunRecord record = Run(Wasm(R"((module
    (import "env" "nothing" (func))
    (func (export "_start"))))"));
  EXPECT_EQ(record.status, RunStatus::kLinkError);
  EXPECT_NE(record.message.find("env.nothing"), std::string::npos);
}

TEST_F(RunnerTest, MissingEntryPointIsALinkError) {
  const RunRecord record = Run(Wasm(R"((module (func (export "other"))))"));
  EXPECT_EQ(record.status, RunStatus::kLinkError);
}

TEST_F(RunnerTest, InvokeCallsAnExportWithParsedArguments) {
  request_.entry = "mul";
  request_.invoke_args = {"-6", "7"};
  const auto module = Wasm(R"((module
    (func (export "mul") (param i32 i64) (result i64)
      (i64.mul (i64.extend_i32_s (local.get 0)) (local.get 1)))))");
  RunRecord record = Run(module);
  ASSERT_EQ(record.status, RunStatus::kOk) << record.message;
  ASSERT_EQ(record.results.size(), 1u);
  EXPECT_EQ(static_cast<std::int64_t>(record.results[0].i64()), -42);

  request_.invoke_args = {"six", "7"};
  record = Run(module);
  EXPECT_EQ(record.status, RunStatus::kLinkError);
  EXPECT_NE(record.message.find("'six'"), std::string::npos);
}

// wasm_main(in, in_len, out, out_cap): uppercases its input.
constexpr std::string_view kWasmMainModule = R"((module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "wasm_main") (param $in i32) (param $len i32) (param $out i32) (param $cap i32)
    (result i32) (local $i i32) (local $c i32)
    (if (i32.gt_u (local.get $len) (local.get $cap)) (then (return (i32.const -2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $c (i32.load8_u (i32.add (local.get $in) (local.get $i))))
      (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
        (then (local.set $c (i32.sub (local.get $c) (i32.const 32)))))
      (i32.store8 (i32.add (local.get $out) (local.get $i)) (local.get $c))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $len)))
)";

TEST_F(RunnerTest, WasmMainAbiTurnsInputIntoOutput) {
  const std::string input = "hello, wasm_main";
  request_.input.assign(input.begin(), input.end());
  const RunRecord record = Run(Wasm(kWasmMainModule));
  ASSERT_EQ(record.status, RunStatus::kOk) << record.message;
  EXPECT_EQ(Text(record.stdout_data), "HELLO, WASM_MAIN");
}

TEST_F(RunnerTest, WasmMainNegativeResultIsAnError) {
  request_.input.assign(100, 'x');
  request_.limits.stdout_bytes = 10;  // the output buffer is smaller than the input
  const RunRecord record = Run(Wasm(kWasmMainModule));
  EXPECT_EQ(record.status, RunStatus::kExitNonzero);
  EXPECT_EQ(record.exit_code, -2);
}

// Prints the realtime clock and 16 random bytes.
constexpr std::string_view kClockAndRandom = R"(
  (func (export "_start") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 200)))
    (drop (call $random (i32.const 208) (i32.const 16)))
    (call $print (i32.const 1) (i32.const 200) (i32.const 24)))
)";

TEST_F(RunnerTest, DeterministicRunsAreByteIdentical) {
  request_.deterministic = true;
  request_.seed = 7;
  const auto module = Module(kClockAndRandom);
  const RunRecord first = Run(module);
  const RunRecord second = Run(module);
  ASSERT_EQ(first.status, RunStatus::kOk) << first.message;
  EXPECT_EQ(first.stdout_data.size(), 24u);
  EXPECT_EQ(first.stdout_data, second.stdout_data);
  EXPECT_EQ(first.fuel_used, second.fuel_used);

  request_.seed = 8;
  const RunRecord other_seed = Run(module);
  EXPECT_NE(std::vector<std::uint8_t>(first.stdout_data.begin() + 8, first.stdout_data.end()),
            std::vector<std::uint8_t>(other_seed.stdout_data.begin() + 8, other_seed.stdout_data.end()));
}

TEST_F(RunnerTest, DeterministicClockStartsAtTheEpochAndFollowsFuel) {
  request_.deterministic = true;
  const RunRecord record = Run(Module(kClockAndRandom));
  ASSERT_EQ(record.status, RunStatus::kOk);
  std::uint64_t nanos = 0;
  std::memcpy(&nanos, record.stdout_data.data(), sizeof nanos);
  constexpr std::uint64_t kEpoch = 946'684'800ull * 1'000'000'000;
  EXPECT_GT(nanos, kEpoch);
  EXPECT_LE(nanos, kEpoch + record.fuel_used);
}

TEST_F(RunnerTest, LiveRunsSeeTheRealClock) {
  const RunRecord record = Run(Module(kClockAndRandom));
  ASSERT_EQ(record.status, RunStatus::kOk);
  std::uint64_t nanos = 0;
  std::memcpy(&nanos, record.stdout_data.data(), sizeof nanos);
  EXPECT_GT(nanos, 1'700'000'000ull * 1'000'000'000);  // after 2023
}

TEST_F(RunnerTest, CachedModuleIsReused) {
  const auto module = Module(R"((func (export "_start")))");
  Run(module);
  Run(module);
  EXPECT_EQ(runner_.cache().misses(), 1u);
  EXPECT_EQ(runner_.cache().hits(), 1u);
}

}  // namespace
}  // namespace milf::wasm
