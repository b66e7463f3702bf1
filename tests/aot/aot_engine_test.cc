// The Engine contract on the AOT backend: compile, link, call, traps,
// globals, memory, host functions, stack exhaustion, threads. Where the
// interpreter defines the expected behaviour, the test asks it.
#include "wasm/aot/aot_engine.h"

#include <gtest/gtest.h>

#include <thread>

#include "aot_test_support.h"
#include "support/wat.h"

namespace milf::wasm {
namespace {

using milf::testing::Wasm;
using testing::SharedAotOptions;

Value I32(std::int32_t v) { return Value::I32(static_cast<std::uint32_t>(v)); }

class AotEngineTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CompiledModule> Compile(std::string_view wat) {
    auto module = engine_->Compile(Wasm(wat));
    EXPECT_TRUE(module.ok()) << module.error().message;
    return module.ok() ? *module : nullptr;
  }

  std::unique_ptr<Instance> Instantiate(std::string_view wat, const Imports& imports = {}) {
    auto module = Compile(wat);
    if (module == nullptr) return nullptr;
    auto instance = engine_->Instantiate(module, imports);
    EXPECT_TRUE(instance.ok()) << instance.error().message;
    return instance.ok() ? std::move(instance).value() : nullptr;
  }

  std::unique_ptr<Engine> engine_ = NewAotEngine(SharedAotOptions());
};

TEST_F(AotEngineTest, CallsWithEveryNumberType) {
  auto instance = Instantiate(R"((module
    (func (export "mix") (param i32 i64 f32 f64) (result i64)
      local.get 0 i64.extend_i32_s local.get 1 i64.add
      local.get 2 i64.trunc_f32_s i64.add local.get 3 i64.trunc_f64_s i64.add)
    (func (export "f32id") (param f32) (result f32) local.get 0)
    (func (export "f64id") (param f64) (result f64) local.get 0)
    (func (export "neg") (param i32) (result i32) i32.const 0 local.get 0 i32.sub)))");
  ASSERT_NE(instance, nullptr);
  const Value args[] = {I32(-5), Value::I64(100), Value::F32(2.5f), Value::F64(-1.75)};
  auto mixed = instance->Call("mix", args);
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  EXPECT_EQ((*mixed)[0].type, ValType::kI64);
  EXPECT_EQ(static_cast<std::int64_t>((*mixed)[0].i64()), 96);
  // NaN payloads and signalling NaNs pass through untouched.
  const Value nan32 = Value::F32Bits(0x7fa00001);
  EXPECT_EQ((*instance->Call("f32id", std::span(&nan32, 1)))[0].i32(), 0x7fa00001u);
  const Value nan64 = Value::F64Bits(0xfff0000000000123ull);
  EXPECT_EQ((*instance->Call("f64id", std::span(&nan64, 1)))[0].i64(), 0xfff0000000000123ull);
  const Value seven = I32(7);
  auto negated = instance->Call("neg", std::span(&seven, 1));
  EXPECT_EQ((*negated)[0].bits, 0xfffffff9u) << "i32 results keep 32 bits";
}

TEST_F(AotEngineTest, MultiValueResults) {
  auto instance = Instantiate(R"((module
    (func (export "swap") (param i32 f64) (result f64 i32 i64)
      local.get 1 local.get 0 i64.const -1)))");
  const Value args[] = {I32(3), Value::F64(0.5)};
  auto results = instance->Call("swap", args);
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->size(), 3u);
  EXPECT_EQ((*results)[0].type, ValType::kF64);
  EXPECT_EQ((*results)[0].bits, Value::F64(0.5).bits);
  EXPECT_EQ((*results)[1].i32(), 3u);
  EXPECT_EQ((*results)[2].i64(), ~0ull);
}

TEST_F(AotEngineTest, WrongArgumentsAreRefused) {
  auto instance = Instantiate(R"((module (func (export "f") (param i32))))");
  auto missing_arg = instance->Call("f", {});
  ASSERT_FALSE(missing_arg.ok());
  EXPECT_NE(missing_arg.error().message.find("takes 1 arguments"), std::string::npos);
  const Value wrong = Value::I64(1);
  EXPECT_FALSE(instance->Call("f", std::span(&wrong, 1)).ok());
  auto missing = instance->Call("missing", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().status, RunStatus::kLinkError);
}

constexpr std::string_view kTrappers = R"((module
  (type $ii (func (param i32) (result i32)))
  (memory 1)
  (table $t 4 funcref)
  (table $e 2 externref)
  (elem (table $t) (i32.const 0) func $id)
  (func $id (param i32) (result i32) local.get 0)
  (func $other (param i64) (result i64) local.get 0)
  (func (export "div0") (result i32) i32.const 1 i32.const 0 i32.div_u)
  (func (export "rem0") (result i64) i64.const 1 i64.const 0 i64.rem_s)
  (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
  (func (export "nan") (result i32) f32.const nan i32.trunc_f32_s)
  (func (export "big") (result i32) f64.const 1e30 i32.trunc_f64_u)
  (func (export "unreachable") unreachable)
  (func (export "load") (result i32) i32.const 65534 i32.load)
  (func (export "store") i32.const -1 i64.const 0 i64.store offset=1)
  (func (export "fill") i32.const 65000 i32.const 0 i32.const 1000 memory.fill)
  (func (export "table_get") (result funcref) i32.const 4 table.get $t)
  (func (export "table_set") i32.const 9 ref.null extern table.set $e)
  (func (export "null_call") (result i32) i32.const 1 i32.const 1 call_indirect $t (type $ii))
  (func (export "past_end") (result i32) i32.const 1 i32.const 7 call_indirect $t (type $ii))
  (func (export "mismatch") (result i64)
    i64.const 1 i32.const 0 call_indirect $t (param i64) (result i64))
  (func (export "ok") (result i32) i32.const 5 i32.const 0 call_indirect $t (type $ii)))
)";

TEST_F(AotEngineTest, TrapsMatchTheInterpretersStatusAndWording) {
  auto aot = Instantiate(kTrappers);
  ASSERT_NE(aot, nullptr);
  auto interp_engine = NewInterpreterEngine();
  auto interp = std::move(
      interp_engine->Instantiate(*interp_engine->Compile(Wasm(kTrappers)), {}).value());
  const std::string_view calls[] = {"div0",  "rem0",      "overflow",  "nan",       "big",
                                    "unreachable", "load", "store", "fill", "table_get",
                                    "table_set", "null_call", "past_end", "mismatch"};
  for (const std::string_view name : calls) {
    auto expected = interp->Call(name, {});
    auto actual = aot->Call(name, {});
    ASSERT_FALSE(expected.ok()) << name;
    ASSERT_FALSE(actual.ok()) << name;
    EXPECT_EQ(actual.error().status, expected.error().status) << name;
    // The interpreter adds detail after a colon; the class of trap before
    // it is the same words, and wasm-rt's one call_indirect code lists the
    // interpreter's three messages.
    const std::string& wanted = expected.error().message;
    EXPECT_NE(actual.error().message.find(wanted.substr(0, wanted.find(':'))), std::string::npos)
        << name << ": interpreter \"" << wanted << "\", aot \"" << actual.error().message << "\"";
  }
  auto ok = aot->Call("ok", {});
  ASSERT_TRUE(ok.ok()) << "a trap leaves the instance usable: " << ok.error().message;
  EXPECT_EQ((*ok)[0].i32(), 5u);
}

TEST_F(AotEngineTest, DeepRecursionIsAStackOverflowNotACrash) {
  auto instance = Instantiate(R"((module
    (type $v (func))
    (table 1 funcref)
    (elem (i32.const 0) $indirect)
    (func $f (export "f") call $f)
    (func $wide (export "wide") (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
      (local.set 0 (i64.const 1)) call $wide)
    (func $indirect (export "indirect") i32.const 0 call_indirect (type $v))
    (func $sum (export "sum") (param i32) (result i64)
      local.get 0 i32.eqz
      if (result i64) i64.const 0
      else local.get 0 i32.const 1 i32.sub call $sum local.get 0 i64.extend_i32_u i64.add end)))");
  for (const std::string_view name : {"f", "wide", "indirect"}) {
    auto result = instance->Call(name, {});
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().status, RunStatus::kStackOverflow) << name;
    EXPECT_EQ(result.error().message, "call stack exhausted");
  }
  // Legitimate recursion well inside the stack still works afterwards.
  const Value depth = I32(20000);
  auto sum = instance->Call("sum", std::span(&depth, 1));
  ASSERT_TRUE(sum.ok()) << sum.error().message;
  EXPECT_EQ((*sum)[0].i64(), 20000ull * 20001 / 2);
}

Imports PrintImports(std::string& seen) {
  Imports imports;
  imports.AddFunction(HostFunction{
      "env", "print", FuncSig{{ValType::kI32, ValType::kI32}, {ValType::kI32}},
      [&seen](HostContext& context, std::span<const Value> args, std::span<Value> results) {
        const auto text = context.Memory().String(args[0].i32(), args[1].i32());
        seen = text ? std::string(*text) : "<bad pointer>";
        results[0] = Value::I32(static_cast<std::uint32_t>(seen.size()));
        return HostAction::kContinue;
      }});
  return imports;
}

TEST_F(AotEngineTest, HostFunctionsSeeArgumentsAndCallerMemory) {
  std::string seen;
  auto instance = Instantiate(R"((module
    (import "env" "print" (func $print (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "hello, host")
    (func (export "go") (result i32) i32.const 16 i32.const 11 call $print)))",
                              PrintImports(seen));
  auto result = instance->Call("go", {});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(seen, "hello, host");
  EXPECT_EQ((*result)[0].i32(), 11u);
}

TEST_F(AotEngineTest, HostFunctionsTakeManyValuesBothWays) {
  Imports imports;
  imports.AddFunction(HostFunction{
      "env", "spread",
      FuncSig{std::vector<ValType>(10, ValType::kI64), std::vector<ValType>(9, ValType::kI32)},
      [](HostContext&, std::span<const Value> args, std::span<Value> results) {
        for (std::size_t i = 0; i < results.size(); ++i) {
          results[i] = Value::I32(static_cast<std::uint32_t>(args[i].i64() + args[i + 1].i64()));
        }
        return HostAction::kContinue;
      }});
  auto instance = Instantiate(R"((module
    (import "env" "spread" (func $spread (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
                                         (result i32 i32 i32 i32 i32 i32 i32 i32 i32)))
    (func (export "go") (result i32 i32 i32 i32 i32 i32 i32 i32 i32)
      i64.const 0 i64.const 1 i64.const 2 i64.const 3 i64.const 4
      i64.const 5 i64.const 6 i64.const 7 i64.const 8 i64.const 9 call $spread)))",
                              imports);
  auto results = instance->Call("go", {});
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->size(), 9u);
  for (std::uint32_t i = 0; i < 9; ++i) EXPECT_EQ((*results)[i].i32(), 2 * i + 1);
}

TEST_F(AotEngineTest, HostStopUnwindsTheGuest) {
  int calls_after = 0;
  Imports imports;
  imports.AddFunction(HostFunction{"env", "stop", FuncSig{},
                                   [](HostContext&, std::span<const Value>, std::span<Value>) {
                                     return HostAction::kStop;
                                   }});
  imports.AddFunction(HostFunction{"env", "after", FuncSig{},
                                   [&calls_after](HostContext&, std::span<const Value>,
                                                  std::span<Value>) {
                                     ++calls_after;
                                     return HostAction::kContinue;
                                   }});
  auto instance = Instantiate(R"((module
    (import "env" "stop" (func $stop))
    (import "env" "after" (func $after))
    (func $deep (param i32) local.get 0 if local.get 0 i32.const 1 i32.sub call $deep
      else call $stop end)
    (func (export "go") i32.const 50 call $deep call $after)
    (func (export "fine") call $after)))",
                              imports);
  auto result = instance->Call("go", {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().status, RunStatus::kTrap);
  EXPECT_EQ(result.error().message, kHostStopMessage);
  EXPECT_EQ(calls_after, 0);
  EXPECT_TRUE(instance->Call("fine", {}).ok());
  EXPECT_EQ(calls_after, 1);
}

TEST_F(AotEngineTest, MissingOrMistypedImportsAreLinkErrors) {
  auto module = Compile(R"((module (import "env" "f" (func (param i32)))))");
  auto missing = engine_->Instantiate(module, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().status, RunStatus::kLinkError);
  EXPECT_NE(missing.error().message.find("env.f"), std::string::npos);

  Imports imports;
  imports.AddFunction(HostFunction{"env", "f", FuncSig{{ValType::kI64}, {}},
                                   [](HostContext&, std::span<const Value>, std::span<Value>) {
                                     return HostAction::kContinue;
                                   }});
  auto mistyped = engine_->Instantiate(module, imports);
  ASSERT_FALSE(mistyped.ok());
  EXPECT_EQ(mistyped.error().status, RunStatus::kLinkError);

  auto interp_engine = NewInterpreterEngine();
  auto foreign = std::move(
      interp_engine
          ->Instantiate(*interp_engine->Compile(Wasm(R"((module (func (export "f") (param i32))))")),
                        {})
          .value());
  Imports cross_engine;
  cross_engine.AddInstance("env", *foreign);
  auto crossed = engine_->Instantiate(module, cross_engine);
  ASSERT_FALSE(crossed.ok());
  EXPECT_EQ(crossed.error().status, RunStatus::kLinkError);
}

TEST_F(AotEngineTest, StartFunctionRunsAndItsTrapFailsInstantiation) {
  auto started = Instantiate(R"((module
    (global (export "g") (mut i32) (i32.const 0))
    (func $s i32.const 42 global.set 0) (start $s)))");
  EXPECT_EQ(started->GetGlobal("g")->i32(), 42u);
  auto module = Compile(R"((module (func $s unreachable) (start $s)))");
  auto instance = engine_->Instantiate(module, {});
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().status, RunStatus::kTrap);
  EXPECT_EQ(instance.error().message, "unreachable executed");
}

TEST_F(AotEngineTest, GlobalsReadAndWriteThroughExports) {
  auto instance = Instantiate(R"((module
    (global $g (export "g") (mut i64) (i64.const 41))
    (global (export "c") i32 (i32.const 1))
    (global (export "f") (mut f32) (f32.const 1.5))
    (func (export "bump") (result i64) global.get $g i64.const 1 i64.add)))");
  EXPECT_EQ(instance->GetGlobal("g")->i64(), 41u);
  EXPECT_TRUE(instance->SetGlobal("g", Value::I64(99)));
  EXPECT_EQ((*instance->Call("bump", {}))[0].i64(), 100u);
  EXPECT_EQ(instance->GetGlobal("f")->bits, Value::F32(1.5f).bits);
  EXPECT_FALSE(instance->SetGlobal("c", Value::I32(2)));  // immutable
  EXPECT_FALSE(instance->SetGlobal("g", Value::I32(2)));  // wrong type
  EXPECT_FALSE(instance->GetGlobal("nope").has_value());
  EXPECT_FALSE(instance->GetGlobal("bump").has_value());  // not a global
}

TEST_F(AotEngineTest, MemoryViewTracksGrowthUpToTheMaximum) {
  auto instance = Instantiate(R"((module
    (memory (export "memory") 1 4)
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)))");
  EXPECT_EQ(instance->Memory().size(), 65536u);
  const Value two = I32(2);
  EXPECT_EQ((*instance->Call("grow", std::span(&two, 1)))[0].i32(), 1u);
  EXPECT_EQ(instance->Memory().size(), 3u * 65536);
  EXPECT_EQ((*instance->Call("grow", std::span(&two, 1)))[0].i32(), 0xffffffffu);
  EXPECT_EQ(instance->Memory().size(), 3u * 65536);
  ASSERT_TRUE(instance->Memory().Store<std::uint32_t>(3 * 65536 - 4, 0xabcd));
}

TEST_F(AotEngineTest, InstancesLinkFunctionsMemoriesGlobalsAndTables) {
  auto provider = Instantiate(R"((module
    (type $ii (func (param i32) (result i32)))
    (func $double (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
    (memory (export "mem") 1)
    (global (export "counter") (mut i32) (i32.const 10))
    (table (export "tab") 2 funcref)
    (elem (i32.const 0) $double)
    (func (export "peek") (result i32) i32.const 100 i32.load)))");
  Imports imports;
  imports.AddInstance("lib", *provider);
  auto consumer = Instantiate(R"((module
    (type $ii (func (param i32) (result i32)))
    (import "lib" "double" (func $double (param i32) (result i32)))
    (import "lib" "mem" (memory 1))
    (import "lib" "counter" (global $counter (mut i32)))
    (import "lib" "tab" (table 2 funcref))
    (elem (i32.const 1) $triple)
    (func $triple (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
    (func (export "go") (result i32)
      i32.const 100 i32.const 77 i32.store
      global.get $counter i32.const 1 i32.add global.set $counter
      i32.const 5 call $double
      i32.const 5 i32.const 0 call_indirect (type $ii) i32.add
      i32.const 5 i32.const 1 call_indirect (type $ii) i32.add)))",
                              imports);
  ASSERT_NE(consumer, nullptr);
  auto result = consumer->Call("go", {});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)[0].i32(), 10u + 10 + 15);
  EXPECT_EQ((*provider->Call("peek", {}))[0].i32(), 77u) << "memory is shared";
  EXPECT_EQ(provider->GetGlobal("counter")->i32(), 11u) << "the global is shared";
}

TEST_F(AotEngineTest, ElementSegmentsApplyBeforeDataSegments) {
  // WebAssembly 2.0: a failed instantiation keeps the element segments it
  // applied before the data segment that trapped.
  constexpr std::string_view kTable = R"((module
    (type $i (func (result i32)))
    (table (export "tab") 4 funcref)
    (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $i))))";
  constexpr std::string_view kFailing = R"((module
    (table (import "lib" "tab") 4 funcref)
    (func $f (result i32) i32.const 42)
    (elem (i32.const 2) $f)
    (memory 1)
    (data (i32.const 65536) "x")))";
  auto interp_engine = NewInterpreterEngine();
  for (Engine* engine : {engine_.get(), interp_engine.get()}) {
    auto table = std::move(engine->Instantiate(*engine->Compile(Wasm(kTable)), {}).value());
    Imports imports;
    imports.AddInstance("lib", *table);
    auto failing = engine->Instantiate(*engine->Compile(Wasm(kFailing)), imports);
    ASSERT_FALSE(failing.ok());
    EXPECT_EQ(failing.error().status, RunStatus::kTrap);
    EXPECT_NE(failing.error().message.find("out of bounds memory access"), std::string::npos);
    const Value slot = I32(2);
    auto called = table->Call("call", std::span(&slot, 1));
    ASSERT_TRUE(called.ok()) << called.error().message;
    EXPECT_EQ((*called)[0].i32(), 42u);
  }
}

TEST_F(AotEngineTest, IncompatibleObjectImportsAreLinkErrors) {
  auto provider = Instantiate(R"((module
    (memory (export "mem") 1 2)
    (global (export "g") i32 (i32.const 1))
    (table (export "tab") 2 funcref)))");
  Imports imports;
  imports.AddInstance("lib", *provider);
  for (const std::string_view wat : {
           R"((module (import "lib" "mem" (memory 2))))",          // too small
           R"((module (import "lib" "mem" (memory 1 1))))",        // max too large
           R"((module (import "lib" "g" (global (mut i32)))))",    // mutability
           R"((module (import "lib" "g" (global i64))))",          // type
           R"((module (import "lib" "tab" (table 2 externref))))",  // element type
           R"((module (import "lib" "tab" (memory 1))))",          // kind
       }) {
    auto module = Compile(wat);
    auto instance = engine_->Instantiate(module, imports);
    ASSERT_FALSE(instance.ok()) << wat;
    EXPECT_EQ(instance.error().status, RunStatus::kLinkError) << wat;
  }
}

TEST_F(AotEngineTest, ImportedHostFunctionsWorkThroughTables) {
  std::string seen;
  auto instance = Instantiate(R"((module
    (type $p (func (param i32 i32) (result i32)))
    (import "env" "print" (func $print (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 0) "via table")
    (table 1 funcref)
    (elem (i32.const 0) $print)
    (func (export "go") (result i32) i32.const 0 i32.const 9 i32.const 0 call_indirect (type $p))
    (func (export "ref") (result funcref) ref.func $print)
    (elem declare func $print)))",
                              PrintImports(seen));
  auto result = instance->Call("go", {});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(seen, "via table");
  EXPECT_EQ((*result)[0].i32(), 9u);
  auto ref = instance->Call("ref", {});
  ASSERT_TRUE(ref.ok());
  EXPECT_NE((*ref)[0].bits, 0u);
}

TEST_F(AotEngineTest, ReferencesRoundTripAsHandles) {
  auto instance = Instantiate(R"((module
    (type $i (func (result i32)))
    (table $t 2 funcref)
    (func $nine (result i32) i32.const 9)
    (elem declare func $nine)
    (func (export "id") (param externref) (result externref) local.get 0)
    (func (export "get") (result funcref) ref.func $nine)
    (func (export "null") (result funcref) ref.null func)
    (func (export "call") (param funcref) (result i32)
      i32.const 1 local.get 0 table.set $t i32.const 1 call_indirect $t (type $i))))");
  Value handle{ValType::kExternRef, 1234, {}};
  EXPECT_EQ((*instance->Call("id", std::span<const Value>(&handle, 1)))[0].bits, 1234u);
  EXPECT_EQ((*instance->Call("null", {}))[0].bits, 0u);
  auto ref = instance->Call("get", {});
  ASSERT_TRUE(ref.ok());
  ASSERT_NE((*ref)[0].bits, 0u);
  EXPECT_EQ((*instance->Call("get", {}))[0].bits, (*ref)[0].bits) << "one handle per function";
  auto called = instance->Call("call", std::span<const Value>(&(*ref)[0], 1));
  ASSERT_TRUE(called.ok()) << called.error().message;
  EXPECT_EQ((*called)[0].i32(), 9u);
}

TEST_F(AotEngineTest, OddExportNamesAreReachable) {
  auto instance = Instantiate(R"((module
    (func (export "") (result i32) i32.const 1)
    (func (export "a-b\c3\bf") (result i32) i32.const 2)
    (func (export "Z_Z") (result i32) i32.const 3)
    (func (export "\00x") (result i32) i32.const 4)))");
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ((*instance->Call("", {}))[0].i32(), 1u);
  EXPECT_EQ((*instance->Call("a-b\xc3\xbf", {}))[0].i32(), 2u);
  EXPECT_EQ((*instance->Call("Z_Z", {}))[0].i32(), 3u);
  EXPECT_EQ((*instance->Call(std::string_view("\0x", 2), {}))[0].i32(), 4u);
}

TEST_F(AotEngineTest, InvalidModulesGetTheValidatorsVerdict) {
  const std::vector<std::uint8_t> bytes = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // header
      0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,        // type: () -> i32
      0x03, 0x02, 0x01, 0x00,                          // func 0: type 0
      0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b,  // code: i64.const 0
  };
  auto module = engine_->Compile(bytes);
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().status, RunStatus::kInvalidModule);
  EXPECT_EQ(module.error().message, NewInterpreterEngine()->Compile(bytes).error().message);
  auto truncated = engine_->Compile(std::span(bytes.data(), 12));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().status, RunStatus::kInvalidModule);
}

TEST_F(AotEngineTest, SimdIsRefusedAsUnsupported) {
  for (const std::string_view wat : {
           R"((module (func (export "f") (param v128) (result v128) local.get 0)))",
           R"((module (func (export "f") (result i32)
                v128.const i32x4 1 2 3 4 i32x4.extract_lane 2)))",
       }) {
    auto module = engine_->Compile(Wasm(wat));
    ASSERT_FALSE(module.ok()) << wat;
    EXPECT_EQ(module.error().status, RunStatus::kInvalidModule);
    EXPECT_NE(module.error().message.find("unsupported by the AOT tier"), std::string::npos)
        << module.error().message;
  }
}

TEST_F(AotEngineTest, EnginesOnSeparateThreadsRunIndependently) {
  constexpr std::string_view kWat = R"((module
    (func $f (export "f") call $f)
    (func $fib (export "fib") (param i32) (result i32)
      local.get 0 i32.const 2 i32.lt_u if (result i32) local.get 0
      else local.get 0 i32.const 1 i32.sub call $fib local.get 0 i32.const 2 i32.sub call $fib
        i32.add end)
    (func (export "div") (param i32) (result i32) i32.const 100 local.get 0 i32.div_u)))";
  Compile(kWat);  // builds the artifact once, before the threads race for it
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&failures, t, kWat] {
      auto engine = NewAotEngine(SharedAotOptions());
      auto module = engine->Compile(Wasm(kWat));
      if (!module.ok()) return void(++failures[t]);
      auto instance = engine->Instantiate(*module, {});
      if (!instance.ok()) return void(++failures[t]);
      for (int round = 0; round < 20; ++round) {
        const Value n = I32(15 + t);
        auto fib = (*instance)->Call("fib", std::span(&n, 1));
        const std::uint32_t expected[] = {610, 987, 1597, 2584};
        if (!fib.ok() || (*fib)[0].i32() != expected[t]) ++failures[t];
        auto overflow = (*instance)->Call("f", {});
        if (overflow.ok() || overflow.error().status != RunStatus::kStackOverflow) ++failures[t];
        const Value zero = I32(0);
        auto divided = (*instance)->Call("div", std::span(&zero, 1));
        if (divided.ok() || divided.error().message != "integer divide by zero") ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(NewEngineForTier, NamesTheTwoTiers) {
  EXPECT_TRUE(NewEngineForTier("interp").ok());
  EXPECT_TRUE(NewEngineForTier("aot", SharedAotOptions()).ok());
  auto unknown = NewEngineForTier("jit");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "usage");
}

}  // namespace
}  // namespace milf::wasm
