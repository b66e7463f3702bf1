// Execution tests: instrumented modules run on the wabt interpreter engine
// with a test host that implements the refill protocol, and must compute
// what the originals compute while metering fuel and depth exactly.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "wasm/engine.h"
#include "wasm/instrument.h"
#include "wat.h"

namespace milf::wasm {
namespace {

using testing::WatToWasm;

// The host side of the imports Instrument adds: hands out fuel in slices
// and records what the guest asked for.
class TestHost {
 public:
  explicit TestHost(std::int64_t slice) : slice_(slice) {}

  void Register(Imports& imports) {
    imports.AddFunction(
        HostFunction{std::string(kHostModule), std::string(kFuelRefillImport),
                     FuncSig{{ValType::kI64}, {ValType::kI64}},
                     [this](HostContext&, std::span<const Value> args, std::span<Value> results) {
                       ++refills_;
                       granted_ += slice_;
                       results[0] = Value::I64(args[0].i64() + static_cast<std::uint64_t>(slice_));
                       return HostAction::kContinue;
                     }});
    imports.AddFunction(
        HostFunction{std::string(kHostModule), std::string(kCallDepthImport), FuncSig{},
                     [this](HostContext&, std::span<const Value>, std::span<Value>) {
                       ++depth_exceeded_;
                       return stop_on_depth_ ? HostAction::kStop : HostAction::kContinue;
                     }});
  }

  // Fuel the guest has spent so far: everything granted minus what is left.
  std::int64_t FuelUsed(const Instance& instance) const {
    return granted_ - static_cast<std::int64_t>(instance.GetGlobal(kFuelGlobal)->i64());
  }

  int refills() const { return refills_; }
  int depth_exceeded() const { return depth_exceeded_; }
  void set_stop_on_depth(bool stop) { stop_on_depth_ = stop; }

 private:
  const std::int64_t slice_;
  std::int64_t granted_ = 0;
  int refills_ = 0;
  int depth_exceeded_ = 0;
  bool stop_on_depth_ = true;
};

class InstrumentExec : public ::testing::Test {
 protected:
  // Instruments and instantiates `wasm`; `extra` adds the module's own
  // imports.
  std::unique_ptr<Instance> Load(const std::vector<std::uint8_t>& wasm,
                                 const InstrumentOptions& options, TestHost& host,
                                 const std::vector<HostFunction>& extra = {}) {
    auto instrumented = Instrument(wasm, options);
    if (!instrumented) {
      ADD_FAILURE() << "Instrument: " << instrumented.error().message;
      return nullptr;
    }
    names_ = instrumented->function_names;
    return Instantiate(instrumented->wasm, extra, &host);
  }

  // `env`, if given, provides the module's non-function imports from "env".
  std::unique_ptr<Instance> Instantiate(const std::vector<std::uint8_t>& wasm,
                                        const std::vector<HostFunction>& extra, TestHost* host,
                                        const Instance* env = nullptr) {
    Imports imports;
    if (host) host->Register(imports);
    for (const HostFunction& function : extra) imports.AddFunction(function);
    if (env) imports.AddInstance("env", *env);
    auto compiled = engine_->Compile(wasm);
    if (!compiled) {
      ADD_FAILURE() << "Compile: " << compiled.error().message;
      return nullptr;
    }
    modules_.push_back(*compiled);
    auto instance = engine_->Instantiate(*compiled, imports);
    if (!instance) {
      ADD_FAILURE() << "Instantiate: " << instance.error().message;
      return nullptr;
    }
    return std::move(instance).value();
  }

  static std::uint32_t CallI32(Instance& instance, std::string_view name, std::vector<Value> args) {
    auto results = instance.Call(name, args);
    if (!results) {
      ADD_FAILURE() << name << ": " << results.error().message;
      return 0;
    }
    return results->at(0).i32();
  }

  static std::uint32_t Depth(const Instance& instance) {
    return instance.GetGlobal("__milf_depth")->i32();
  }

  // The function the guest was in, by name.
  std::string CurrentFunction(const Instance& instance) const {
    const std::uint32_t index = instance.GetGlobal(kFunctionGlobal)->i32();
    return index < names_.size() ? names_[index] : "none";
  }

  std::unique_ptr<Engine> engine_ = NewInterpreterEngine();
  std::vector<std::shared_ptr<const CompiledModule>> modules_;
  std::vector<std::string> names_;
};

constexpr const char* kCounterWat = R"((module
  (func (export "count") (param i32) (local i32)
    loop $l
      local.get 1 i32.const 1 i32.add local.tee 1
      local.get 0 i32.lt_s br_if $l
    end))
)";

TEST_F(InstrumentExec, LoopFuelIsExactWhateverTheSlice) {
  for (std::int64_t slice : {1, 7, 1000, 1'000'000}) {
    TestHost host(slice);
    auto instance = Load(WatToWasm(kCounterWat), {}, host);
    ASSERT_NE(instance, nullptr);
    std::int64_t before = host.FuelUsed(*instance);
    for (std::int32_t k : {1, 10, 1000}) {
      ASSERT_TRUE(instance->Call("count", {{Value::I32(k)}})) << slice;
      const std::int64_t used = host.FuelUsed(*instance);
      // One for the loop instruction at entry, seven per iteration.
      EXPECT_EQ(used - before, 1 + 7 * k) << "slice " << slice << ", k " << k;
      before = used;
    }
    EXPECT_GT(host.refills(), 0);
    EXPECT_EQ(Depth(*instance), 0u);
  }
}

TEST_F(InstrumentExec, RenumberedModuleComputesWhatTheOriginalDoes) {
  const auto wasm = WatToWasm(R"((module
    (type $unary (func (param i32) (result i32)))
    (import "env" "add_one" (func $add_one (param i32) (result i32)))
    (import "env" "seed" (global $seed i32))
    (table $t 4 funcref)
    (global $started (mut i32) (i32.const 0))
    (global $ref funcref (ref.func $triple))
    (elem (table $t) (i32.const 0) func $double $triple $via_import)
    (elem declare func $double)
    (func $double (type $unary) local.get 0 i32.const 2 i32.mul)
    (func $triple (type $unary) local.get 0 i32.const 3 i32.mul)
    (func $via_import (type $unary) local.get 0 call $add_one)
    (func $init (global.set $started (call $add_one (global.get $seed))))
    (func (export "dispatch") (param i32 i32) (result i32)
      local.get 1 local.get 0 call_indirect (type $unary))
    (func (export "through_ref") (param i32) (result i32)
      (table.set $t (i32.const 3) (global.get $ref))
      (call_indirect (type $unary) (local.get 0) (i32.const 3)))
    (func (export "ref_double") (param i32) (result i32)
      (table.set $t (i32.const 3) (ref.func $double))
      (call_indirect (type $unary) (local.get 0) (i32.const 3)))
    (func (export "started") (result i32) global.get $started)
    (start $init)))");
  const std::vector<HostFunction> env = {
      HostFunction{"env", "add_one", FuncSig{{ValType::kI32}, {ValType::kI32}},
                   [](HostContext&, std::span<const Value> args, std::span<Value> results) {
                     results[0] = Value::I32(args[0].i32() + 1);
                     return HostAction::kContinue;
                   }}};
  // Globals can only be imported from instances; supply the seed through a
  // tiny exporter module.
  auto seed_exporter = Instantiate(
      WatToWasm(R"((module (global (export "seed") i32 (i32.const 41))))"), {}, nullptr);
  ASSERT_NE(seed_exporter, nullptr);

  TestHost host(100);
  auto instrumented = Instrument(wasm, {});
  ASSERT_TRUE(instrumented) << instrumented.error().message;
  auto original = Instantiate(wasm, env, nullptr, seed_exporter.get());
  auto rewritten = Instantiate(instrumented->wasm, env, &host, seed_exporter.get());
  ASSERT_NE(original, nullptr);
  ASSERT_NE(rewritten, nullptr);

  for (auto* instance : {original.get(), rewritten.get()}) {
    EXPECT_EQ(CallI32(*instance, "started", {}), 42u);
    EXPECT_EQ(CallI32(*instance, "dispatch", {Value::I32(0), Value::I32(5)}), 10u);
    EXPECT_EQ(CallI32(*instance, "dispatch", {Value::I32(1), Value::I32(5)}), 15u);
    EXPECT_EQ(CallI32(*instance, "dispatch", {Value::I32(2), Value::I32(5)}), 6u);
    EXPECT_EQ(CallI32(*instance, "through_ref", {Value::I32(7)}), 21u);
    EXPECT_EQ(CallI32(*instance, "ref_double", {Value::I32(7)}), 14u);
  }
  EXPECT_EQ(Depth(*rewritten), 0u);
  EXPECT_GT(host.FuelUsed(*rewritten), 0);
}

constexpr const char* kRecursionWat = R"((module
  (func $down (export "down") (param i32) (result i32)
    local.get 0
    i32.eqz
    if
      i32.const 0
      return
    end
    local.get 0 i32.const 1 i32.sub call $down
    i32.const 1 i32.add)
  (func $leave (export "leave") (param i32) (result i32)
    i32.const 7 local.get 0 br_if 0 drop i32.const 8)
  (func $boom (unreachable))
  (func (export "trap") (param i32) (result i32)
    local.get 0
    call $down
    call $boom))
)";

TEST_F(InstrumentExec, EveryExitRestoresTheCallDepth) {
  TestHost host(1000);
  auto instance = Load(WatToWasm(kRecursionWat), {.max_call_depth = 50}, host);
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(CallI32(*instance, "down", {Value::I32(30)}), 30u);
  EXPECT_EQ(Depth(*instance), 0u);
  EXPECT_EQ(CallI32(*instance, "leave", {Value::I32(1)}), 7u);
  EXPECT_EQ(CallI32(*instance, "leave", {Value::I32(0)}), 8u);
  EXPECT_EQ(Depth(*instance), 0u);
  EXPECT_EQ(host.depth_exceeded(), 0);
}

TEST_F(InstrumentExec, CallDepthLimitCallsTheHost) {
  TestHost host(1000);
  auto instance = Load(WatToWasm(kRecursionWat), {.max_call_depth = 20}, host);
  ASSERT_NE(instance, nullptr);
  // down(19) nests 20 calls: at the limit, not past it.
  EXPECT_EQ(CallI32(*instance, "down", {Value::I32(19)}), 19u);
  EXPECT_EQ(host.depth_exceeded(), 0);

  const auto stopped = instance->Call("down", {{Value::I32(20)}});
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().status, RunStatus::kTrap);
  EXPECT_EQ(host.depth_exceeded(), 1);
  EXPECT_EQ(Depth(*instance), 21u);
  EXPECT_EQ(CurrentFunction(*instance), "down");
}

TEST_F(InstrumentExec, HostMayLetTheGuestGoDeeper) {
  TestHost host(1000);
  host.set_stop_on_depth(false);
  auto instance = Load(WatToWasm(kRecursionWat), {.max_call_depth = 20}, host);
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(CallI32(*instance, "down", {Value::I32(25)}), 25u);
  // down(25) nests 26 calls: entries at depths 21 through 26 are past it.
  EXPECT_EQ(host.depth_exceeded(), 6);
  EXPECT_EQ(Depth(*instance), 0u);
}

TEST_F(InstrumentExec, TrapsAreAttributedToTheTrappingFunction) {
  TestHost host(1000);
  auto instance = Load(WatToWasm(kRecursionWat), {}, host);
  ASSERT_NE(instance, nullptr);
  const auto trapped = instance->Call("trap", {{Value::I32(3)}});
  ASSERT_FALSE(trapped);
  EXPECT_EQ(trapped.error().status, RunStatus::kTrap);
  // $down ran and returned before $boom trapped.
  EXPECT_EQ(CurrentFunction(*instance), "boom");
}

std::vector<HostFunction> WasiStubs() {
  auto no_args = [](HostContext&, std::span<const Value>, std::span<Value> results) {
    results[0] = Value::I32(0);
    return HostAction::kContinue;
  };
  const FuncSig two_pointers{{ValType::kI32, ValType::kI32}, {ValType::kI32}};
  return {
      HostFunction{"wasi_snapshot_preview1", "args_get", two_pointers, no_args},
      HostFunction{"wasi_snapshot_preview1", "args_sizes_get", two_pointers, no_args},
      HostFunction{
          "wasi_snapshot_preview1", "proc_exit", FuncSig{{ValType::kI32}, {}},
          [](HostContext&, std::span<const Value>, std::span<Value>) { return HostAction::kStop; }},
  };
}

TEST_F(InstrumentExec, RealClangModuleComputesTheSameResults) {
  const auto wasm = testing::ReadFileBytes(MILF_INSTRUMENT_SAMPLE_WASM);
  ASSERT_FALSE(wasm.empty());
  TestHost host(10'000);
  auto original = Instantiate(wasm, WasiStubs(), nullptr);
  auto rewritten = Load(wasm, {}, host, WasiStubs());
  ASSERT_NE(original, nullptr);
  ASSERT_NE(rewritten, nullptr);
  for (std::int32_t n : {0, 1, 10, 20}) {
    EXPECT_EQ(CallI32(*rewritten, "fib", {Value::I32(n)}),
              CallI32(*original, "fib", {Value::I32(n)}))
        << n;
    EXPECT_EQ(CallI32(*rewritten, "sum_ops", {Value::I32(n)}),
              CallI32(*original, "sum_ops", {Value::I32(n)}))
        << n;
  }
  EXPECT_EQ(Depth(*rewritten), 0u);

  // The same call costs the same fuel every time.
  std::int64_t before = host.FuelUsed(*rewritten);
  CallI32(*rewritten, "fib", {Value::I32(15)});
  const std::int64_t first = host.FuelUsed(*rewritten) - before;
  before = host.FuelUsed(*rewritten);
  CallI32(*rewritten, "fib", {Value::I32(15)});
  EXPECT_EQ(host.FuelUsed(*rewritten) - before, first);
  EXPECT_GT(first, 1000);
}

TEST_F(InstrumentExec, RealClangModuleHitsTheDepthLimit) {
  const auto wasm = testing::ReadFileBytes(MILF_INSTRUMENT_SAMPLE_WASM);
  ASSERT_FALSE(wasm.empty());
  TestHost host(10'000);
  auto instance = Load(wasm, {.max_call_depth = 10}, host, WasiStubs());
  ASSERT_NE(instance, nullptr);
  const auto stopped = instance->Call("fib", {{Value::I32(20)}});
  ASSERT_FALSE(stopped);
  EXPECT_EQ(host.depth_exceeded(), 1);
  EXPECT_EQ(CurrentFunction(*instance), "fib");
}

}  // namespace
}  // namespace milf::wasm
