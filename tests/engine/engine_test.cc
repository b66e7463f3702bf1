// The Engine contract on the interpreter backend: compile, link, call,
// traps, globals, memory, host functions.
#include "wasm/engine.h"

#include <gtest/gtest.h>

#include <random>

#include "support/wat.h"

namespace milf::wasm {
namespace {

using milf::testing::Wasm;

class EngineTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CompiledModule> Compile(std::string_view wat) {
    auto module = engine_->Compile(Wasm(wat));
    EXPECT_TRUE(module.ok()) << module.error().message;
    return module.ok() ? *module : nullptr;
  }

  std::unique_ptr<Instance> Instantiate(std::string_view wat, const Imports& imports = {}) {
    auto module = Compile(wat);
    auto instance = engine_->Instantiate(module, imports);
    EXPECT_TRUE(instance.ok()) << instance.error().message;
    return instance.ok() ? std::move(instance).value() : nullptr;
  }

  std::unique_ptr<Engine> engine_ = NewInterpreterEngine();
};

TEST_F(EngineTest, CallsAnExportWithArgumentsAndResults) {
  auto instance = Instantiate(R"((module
    (func (export "add") (param i32 i64) (result i64)
      local.get 0 i64.extend_i32_s local.get 1 i64.add)))");
  const Value args[] = {Value::I32(static_cast<std::uint32_t>(-5)), Value::I64(12)};
  auto results = instance->Call("add", args);
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].type, ValType::kI64);
  EXPECT_EQ((*results)[0].i64(), 7u);
}

TEST_F(EngineTest, MultiValueAndFloatBitsSurvive) {
  auto instance = Instantiate(R"((module
    (func (export "pair") (param f32 f64) (result f64 f32) local.get 1 local.get 0)))");
  const Value args[] = {Value::F32Bits(0x7fa00001), Value::F64(2.5)};
  auto results = instance->Call("pair", args);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].type, ValType::kF64);
  EXPECT_EQ((*results)[1].i32(), 0x7fa00001u);  // NaN payload kept
}

TEST_F(EngineTest, TrapsBecomeFailures) {
  auto instance = Instantiate(R"((module
    (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
    (func (export "oob") (result i32) i32.const 70000 i32.load)
    (memory 1)))");
  const Value args[] = {Value::I32(1), Value::I32(0)};
  auto divided = instance->Call("div", args);
  ASSERT_FALSE(divided.ok());
  EXPECT_EQ(divided.error().status, RunStatus::kTrap);
  EXPECT_EQ(divided.error().message, "integer divide by zero");
  auto loaded = instance->Call("oob", {});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().status, RunStatus::kTrap);
  EXPECT_NE(loaded.error().message.find("out of bounds"), std::string::npos);
}

TEST_F(EngineTest, UnboundedRecursionIsAStackOverflow) {
  auto instance = Instantiate(R"((module (func $f (export "f") call $f)))");
  auto result = instance->Call("f", {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().status, RunStatus::kStackOverflow);
}

TEST_F(EngineTest, WrongArgumentCountIsRefused) {
  auto instance = Instantiate(R"((module (func (export "f") (param i32))))");
  auto result = instance->Call("f", {});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("takes 1 arguments"), std::string::npos);
  EXPECT_FALSE(instance->Call("missing", {}).ok());
}

TEST_F(EngineTest, ReportsImportsAndExports) {
  auto module = Compile(R"((module
    (import "env" "log" (func (param i32)))
    (memory (export "memory") 1)
    (global (export "g") (mut i32) (i32.const 3))
    (func (export "run") (param i64) (result i32) i32.const 0)))");
  const ModuleInfo& info = module->info();
  ASSERT_EQ(info.imports.size(), 1u);
  EXPECT_EQ(info.imports[0].module, "env");
  EXPECT_EQ(info.imports[0].sig.params, std::vector<ValType>{ValType::kI32});
  const ExportInfo* run = info.FindExport("run");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->kind, ExternKind::kFunc);
  EXPECT_EQ(run->sig, (FuncSig{{ValType::kI64}, {ValType::kI32}}));
  EXPECT_EQ(info.FindExport("memory")->kind, ExternKind::kMemory);
  EXPECT_EQ(info.FindExport("g")->kind, ExternKind::kGlobal);
}

TEST_F(EngineTest, HostFunctionsSeeArgumentsAndCallerMemory) {
  std::string seen;
  Imports imports;
  imports.AddFunction(HostFunction{
      "env", "print", FuncSig{{ValType::kI32, ValType::kI32}, {ValType::kI32}},
      [&seen](HostContext& context, std::span<const Value> args, std::span<Value> results) {
        const auto text = context.Memory().String(args[0].i32(), args[1].i32());
        seen = text ? std::string(*text) : "<bad pointer>";
        results[0] = Value::I32(static_cast<std::uint32_t>(seen.size()));
        return HostAction::kContinue;
      }});
  auto instance = Instantiate(R"((module
    (import "env" "print" (func $print (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "hello, host")
    (func (export "go") (result i32) i32.const 16 i32.const 11 call $print)))",
                              imports);
  auto result = instance->Call("go", {});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(seen, "hello, host");
  EXPECT_EQ((*result)[0].i32(), 11u);
}

TEST_F(EngineTest, HostStopUnwindsTheGuest) {
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
    (func (export "go") call $stop call $after)))",
                              imports);
  auto result = instance->Call("go", {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().status, RunStatus::kTrap);
  EXPECT_EQ(result.error().message, kHostStopMessage);
  EXPECT_EQ(calls_after, 0);
}

TEST_F(EngineTest, MissingOrMistypedImportsAreLinkErrors) {
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
}

TEST_F(EngineTest, StartFunctionTrapFailsInstantiation) {
  auto module = Compile(R"((module (func $s unreachable) (start $s)))");
  auto instance = engine_->Instantiate(module, {});
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().status, RunStatus::kTrap);
}

TEST_F(EngineTest, GlobalsReadAndWriteThroughExports) {
  auto instance = Instantiate(R"((module
    (global $g (export "g") (mut i64) (i64.const 41))
    (global (export "c") i32 (i32.const 1))
    (func (export "bump") (result i64) global.get $g i64.const 1 i64.add)))");
  EXPECT_EQ(instance->GetGlobal("g")->i64(), 41u);
  EXPECT_TRUE(instance->SetGlobal("g", Value::I64(99)));
  EXPECT_EQ((*instance->Call("bump", {}))[0].i64(), 100u);
  EXPECT_FALSE(instance->SetGlobal("c", Value::I32(2)));             // immutable
  EXPECT_FALSE(instance->SetGlobal("g", Value::I32(2)));             // wrong type
  EXPECT_FALSE(instance->GetGlobal("nope").has_value());
}

TEST_F(EngineTest, MemoryViewTracksGrowth) {
  auto instance = Instantiate(R"((module
    (memory (export "memory") 1 4)
    (func (export "grow") (result i32) i32.const 2 memory.grow)))");
  EXPECT_EQ(instance->Memory().size(), 65536u);
  EXPECT_EQ((*instance->Call("grow", {}))[0].i32(), 1u);
  EXPECT_EQ(instance->Memory().size(), 3u * 65536);
}

TEST_F(EngineTest, InstancesLinkThroughRegisteredExports) {
  auto provider = Instantiate(R"((module
    (func (export "seven") (result i32) i32.const 7)
    (memory (export "mem") 1)))");
  Imports imports;
  imports.AddInstance("lib", *provider);
  auto consumer = Instantiate(R"((module
    (import "lib" "seven" (func $seven (result i32)))
    (import "lib" "mem" (memory 1))
    (func (export "go") (result i32) call $seven)))",
                              imports);
  EXPECT_EQ((*consumer->Call("go", {}))[0].i32(), 7u);
}

TEST_F(EngineTest, ExternRefsRoundTripAsHandles) {
  auto instance = Instantiate(R"((module
    (func (export "id") (param externref) (result externref) local.get 0)))");
  Value handle{ValType::kExternRef, 1234, {}};
  auto result = instance->Call("id", std::span<const Value>(&handle, 1));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)[0].bits, 1234u);
  Value null{ValType::kExternRef, 0, {}};
  EXPECT_EQ((*instance->Call("id", std::span<const Value>(&null, 1)))[0].bits, 0u);
}

TEST_F(EngineTest, MalformedModulesAreInvalidNeverCrashes) {
  const std::vector<std::uint8_t> valid = Wasm(R"((module
    (memory 1) (global (mut i32) (i32.const 0))
    (func (export "f") (param i32) (result i32)
      local.get 0 i32.const 1 i32.add global.set 0 global.get 0)))");
  // A cut at a section boundary leaves a shorter but valid module; every
  // other cut must be refused as invalid.
  std::size_t refused = 0;
  for (std::size_t cut = 0; cut < valid.size(); ++cut) {
    auto module = engine_->Compile(std::span(valid.data(), cut));
    if (module.ok()) continue;
    ++refused;
    EXPECT_EQ(module.error().status, RunStatus::kInvalidModule) << "cut at " << cut;
    EXPECT_FALSE(module.error().message.empty());
  }
  EXPECT_GE(refused, valid.size() - 8) << "only section boundaries may decode";
  EXPECT_FALSE(engine_->Compile(std::span(valid.data(), 7)).ok());
  std::mt19937 random(42);
  for (int round = 0; round < 500; ++round) {
    std::vector<std::uint8_t> bytes(random() % 256);
    for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random());
    if (round % 2 == 0 && bytes.size() >= 8) {  // a plausible header, garbage after
      std::copy(valid.begin(), valid.begin() + 8, bytes.begin());
    }
    auto module = engine_->Compile(bytes);
    if (!module.ok()) {
      EXPECT_EQ(module.error().status, RunStatus::kInvalidModule);
    }
  }
}

TEST_F(EngineTest, ValidationErrorsCarryTheValidatorsMessage) {
  // (func (result i32) i64.const 0): a type mismatch, written as raw bytes
  // because the text parser would refuse it too.
  const std::vector<std::uint8_t> bytes = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // header
      0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,        // type: () -> i32
      0x03, 0x02, 0x01, 0x00,                          // func 0: type 0
      0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b,  // code: i64.const 0
  };
  auto module = engine_->Compile(bytes);
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().status, RunStatus::kInvalidModule);
  EXPECT_NE(module.error().message.find("type mismatch"), std::string::npos)
      << module.error().message;
}

}  // namespace
}  // namespace milf::wasm
