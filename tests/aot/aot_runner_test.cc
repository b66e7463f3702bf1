// Differential runs through wasm::Runner: every example lambda and a set of
// limit-hitting modules, once on the interpreter and once on the AOT tier,
// must give identical records — status, exit code, output, files, results,
// trap attribution and, to the unit, fuel used.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "aot_test_support.h"
#include "support/wat.h"
#include "wasm/aot/aot_engine.h"
#include "wasm/runner.h"

namespace milf::wasm {
namespace {

using milf::testing::Wasm;
using testing::SharedAotOptions;

std::vector<std::uint8_t> Example(std::string_view name) {
  const std::string path = std::string(MILF_BINARY_DIR "/examples/") + std::string(name) + ".wasm";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

std::string Text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// The part of a trap message both tiers share: the interpreter appends
// detail after a colon.
std::string TrapClass(const std::string& message) { return message.substr(0, message.find(':')); }

class AotRunnerTest : public ::testing::Test {
 protected:
  // Runs `request` on both tiers, checks the records agree and returns the
  // AOT one.
  RunRecord RunBoth(const RunRequest& request, bool compare_fuel = true) {
    const RunRecord expected = interp_.Run(request);
    const RunRecord actual = aot_.Run(request);
    EXPECT_EQ(StatusName(actual.status), StatusName(expected.status)) << actual.message;
    EXPECT_EQ(actual.exit_code, expected.exit_code);
    EXPECT_EQ(Text(actual.stdout_data), Text(expected.stdout_data));
    EXPECT_EQ(Text(actual.stderr_data), Text(expected.stderr_data));
    EXPECT_EQ(actual.stdout_truncated, expected.stdout_truncated);
    EXPECT_EQ(actual.stderr_truncated, expected.stderr_truncated);
    EXPECT_EQ(actual.trap_function, expected.trap_function);
    EXPECT_EQ(actual.module_sha256, expected.module_sha256);
    EXPECT_EQ(actual.peak_memory_bytes, expected.peak_memory_bytes);
    if (actual.status == RunStatus::kTrap) {
      EXPECT_EQ(TrapClass(actual.message), TrapClass(expected.message));
    } else {
      EXPECT_EQ(actual.message, expected.message);
    }
    if (compare_fuel) {
      EXPECT_EQ(actual.fuel_used, expected.fuel_used);
    }
    EXPECT_EQ(actual.results.size(), expected.results.size());
    for (std::size_t i = 0; i < actual.results.size() && i < expected.results.size(); ++i) {
      EXPECT_EQ(actual.results[i].type, expected.results[i].type);
      EXPECT_EQ(actual.results[i].bits, expected.results[i].bits);
    }
    EXPECT_EQ(actual.out_files.size(), expected.out_files.size());
    for (std::size_t i = 0; i < actual.out_files.size() && i < expected.out_files.size(); ++i) {
      EXPECT_EQ(actual.out_files[i].path, expected.out_files[i].path);
      EXPECT_EQ(actual.out_files[i].bytes, expected.out_files[i].bytes);
    }
    return actual;
  }

  Runner interp_{NewInterpreterEngine()};
  Runner aot_{NewAotEngine(SharedAotOptions())};
};

TEST_F(AotRunnerTest, Hello) {
  const auto module = Example("hello");
  RunRequest request;
  request.module = module;
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(record.status, RunStatus::kOk) << record.message;
  EXPECT_EQ(Text(record.stdout_data), "Hello from MILF!\n");
  EXPECT_GT(record.fuel_used, 0u);
}

TEST_F(AotRunnerTest, EchoEveryByteValue) {
  const auto module = Example("echo");
  RunRequest request;
  request.module = module;
  for (int round = 0; round < 64; ++round) {
    for (int b = 0; b < 256; ++b) request.input.push_back(static_cast<std::uint8_t>(b));
  }
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(record.stdout_data, request.input);
}

TEST_F(AotRunnerTest, Sha256OfPseudoRandomInput) {
  const auto module = Example("sha256");
  RunRequest request;
  request.module = module;
  std::mt19937 random(7);
  request.input.resize(200 * 1024);
  for (auto& byte : request.input) byte = static_cast<std::uint8_t>(random());
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(record.status, RunStatus::kOk);
  EXPECT_EQ(record.stdout_data.size(), 65u);
}

TEST_F(AotRunnerTest, WordcountOverAMountedTree) {
  const auto module = Example("wordcount");
  RunRequest request;
  request.module = module;
  request.mounts.push_back(Mount{"/in", {}, {{"a.txt", Bytes("hello world\n  second\tline \n")},
                                             {"b.txt", Bytes("no newline at the end")},
                                             {"empty.txt", {}}},
                                 true});
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(Text(record.stdout_data),
            "      2       4      27 a.txt\n"
            "      0       5      21 b.txt\n"
            "      0       0       0 empty.txt\n"
            "      2       9      48 total\n");
  request.mounts.clear();
  EXPECT_EQ(RunBoth(request).exit_code, 1) << "nothing mounted at /in";
}

TEST_F(AotRunnerTest, JsonTransformGoodBadAndHostile) {
  const auto module = Example("json_transform");
  RunRequest request;
  request.module = module;
  for (const std::string& input :
       {std::string(R"({"name":"x","values":[1,2,3.5e2,-0.25]})"), std::string(R"({"values":[1,)"),
        std::string(R"({"values": [1e308, 1e308]})"),
        std::string(100000, '[') + std::string(100000, ']')}) {
    request.input = Bytes(input);
    RunBoth(request);
  }
}

TEST_F(AotRunnerTest, ComputeWithArguments) {
  const auto module = Example("compute");
  RunRequest request;
  request.module = module;
  request.args = {"7", "30000"};
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(Text(record.stdout_data), "queens(7) = 40\nprimes below 30000 = 3245\n");
  request.args = {"eight"};
  EXPECT_EQ(RunBoth(request).exit_code, 2);
}

TEST_F(AotRunnerTest, WasmMainBufferAbi) {
  const auto module = Example("wasm_main");
  RunRequest request;
  request.module = module;
  request.entry = "wasm_main";
  request.input = Bytes("Hello, wasm_main! 123 \xff");
  EXPECT_EQ(Text(RunBoth(request).stdout_data), "HELLO, WASM_MAIN! 123 \xff");
}

TEST_F(AotRunnerTest, DeterministicRunsAreIdenticalAcrossTiers) {
  // Reads the clock and 16 random bytes and prints them: identical output
  // on both tiers, because deterministic time is fuel, and fuel is equal.
  const auto module = Wasm(R"((module
    (import "wasi_snapshot_preview1" "clock_time_get"
      (func $clock (param i32 i64 i32) (result i32)))
    (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write"
      (func $write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "_start") (local i32)
      (loop $spin (local.set 0 (i32.add (local.get 0) (i32.const 1)))
        (br_if $spin (i32.lt_u (local.get 0) (i32.const 5000))))
      (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 0)))
      (drop (call $random (i32.const 8) (i32.const 16)))
      (i32.store (i32.const 100) (i32.const 0))
      (i32.store (i32.const 104) (i32.const 24))
      (drop (call $write (i32.const 1) (i32.const 100) (i32.const 1) (i32.const 200))))))");
  RunRequest request;
  request.module = module;
  request.deterministic = true;
  request.seed = 99;
  const RunRecord first = RunBoth(request);
  EXPECT_EQ(first.stdout_data.size(), 24u);
  EXPECT_EQ(aot_.Run(request).stdout_data, first.stdout_data) << "and the same every time";
}

TEST_F(AotRunnerTest, FuelExhaustionStopsAtTheSameInstruction) {
  const auto module = Example("compute");
  RunRequest request;
  request.module = module;
  request.limits.fuel = 1'234'567;
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(record.status, RunStatus::kFuelExhausted);
  EXPECT_EQ(record.fuel_used, 1'234'567u);
}

TEST_F(AotRunnerTest, TimeoutEndsAnEndlessLoop) {
  const auto module = Wasm(R"((module (func (export "_start") (loop $l (br $l)))))");
  RunRequest request;
  request.module = module;
  request.limits.timeout = std::chrono::milliseconds(200);
  const RunRecord record = RunBoth(request, /*compare_fuel=*/false);
  EXPECT_EQ(record.status, RunStatus::kTimeout);
  EXPECT_GT(record.fuel_used, 0u);
}

TEST_F(AotRunnerTest, MemoryCapHoldsForGrowthAndDeclarations) {
  const auto grower = Wasm(R"((module
    (memory (export "memory") 1)
    (func (export "grow_all") (result i32)
      (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
      memory.size)))");
  RunRequest request;
  request.module = grower;
  request.entry = "grow_all";
  request.limits.memory_bytes = 4 << 20;
  const RunRecord record = RunBoth(request);
  ASSERT_EQ(record.results.size(), 1u);
  EXPECT_EQ(record.results[0].i32(), 64u);
  EXPECT_EQ(record.peak_memory_bytes, 4u << 20);

  const auto greedy = Wasm(R"((module (memory 100) (func (export "_start"))))");
  request.module = greedy;
  request.entry.clear();
  request.limits.memory_bytes = 1 << 20;
  EXPECT_EQ(RunBoth(request).status, RunStatus::kMemoryLimit);
}

TEST_F(AotRunnerTest, TrapsNameTheirFunction) {
  const auto module = Wasm(R"((module
    (memory 1)
    (func $crash (param i32) (result i32) i32.const 7 local.get 0 i32.div_s)
    (func $outer (export "_start") i32.const 0 call $crash drop)))");
  RunRequest request;
  request.module = module;
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(record.status, RunStatus::kTrap);
  EXPECT_EQ(record.trap_function, "crash");
  EXPECT_EQ(record.message, "integer divide by zero");
}

TEST_F(AotRunnerTest, CallDepthLimitIsAStackOverflow) {
  const auto module = Wasm(R"((module (func $f (export "_start") call $f)))");
  RunRequest request;
  request.module = module;
  request.limits.call_depth = 200;
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(record.status, RunStatus::kStackOverflow);
}

TEST_F(AotRunnerTest, OutputLimitUnderFail) {
  const auto module = Example("hello");
  RunRequest request;
  request.module = module;
  request.limits.stdout_bytes = 5;
  request.limits.output_overflow = OverflowPolicy::kFail;
  const RunRecord record = RunBoth(request);
  EXPECT_EQ(record.status, RunStatus::kOutputLimit);
  EXPECT_EQ(Text(record.stdout_data), "Hello");
}

TEST_F(AotRunnerTest, PlainExportWithArguments) {
  const auto module = Wasm(R"((module
    (func (export "mix") (param i32 i64 f64) (result f64 i64)
      local.get 2 local.get 0 f64.convert_i32_s f64.add
      local.get 1 local.get 0 i64.extend_i32_s i64.mul)))");
  RunRequest request;
  request.module = module;
  request.entry = "mix";
  request.invoke_args = {"-3", "0x10", "2.5"};
  const RunRecord record = RunBoth(request);
  ASSERT_EQ(record.results.size(), 2u);
  EXPECT_EQ(record.results[0].bits, Value::F64(-0.5).bits);
  EXPECT_EQ(static_cast<std::int64_t>(record.results[1].i64()), -48);
}

}  // namespace
}  // namespace milf::wasm
