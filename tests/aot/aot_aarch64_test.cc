// The aarch64 artifact: an instrumented module translated for
// aarch64-linux-gnu with Debian's cross gcc, loaded by a small C harness
// (aarch64_harness.c) under qemu-aarch64, must compute what the interpreter
// computes here, with the same fuel. Skipped when gcc-aarch64-linux-gnu or
// qemu-user is not installed.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "aot_test_support.h"
#include "compiler/aot/aot_abi.h"
#include "compiler/aot/toolchain.h"
#include "compiler/aot/translator.h"
#include "support/wat.h"
#include "wasm/fuel_meter.h"
#include "wasm/instrument.h"
#include "wasm/limits.h"

namespace milf::wasm {
namespace {

namespace fs = std::filesystem;
using milf::testing::Wasm;
using testing::ScratchDir;

constexpr std::string_view kQemuSysroot = "/usr/aarch64-linux-gnu";

bool OnPath(const std::string& tool) {
  auto run = aot::RunTool({"sh", "-c", "command -v " + tool}, ".", std::chrono::seconds(10));
  return run.ok() && run->exit_code == 0;
}

constexpr std::string_view kModule = R"((module
  (memory 1)
  (func $fib (export "fib") (param i32) (result i64) (local i64 i64 i32)
    (local.set 2 (i64.const 1))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get 3) (local.get 0)))
      (local.set 2 (i64.add (local.get 1) (local.tee 1 (local.get 2))))
      (local.set 3 (i32.add (local.get 3) (i32.const 1)))
      (br $next)))
    (local.get 1))
  (func $fill (export "checksum") (param i32) (result i32) (local i32 i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get 1) (local.get 0)))
      (i32.store8 (local.get 1) (i32.mul (local.get 1) (i32.const 31)))
      (local.set 2 (i32.add (i32.rotl (local.get 2) (i32.const 5)) (i32.load8_u (local.get 1))))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br $next)))
    (local.get 2))
  (func $sqrt (export "sqrt") (param i64) (result i64)
    (i64.trunc_f64_s (f64.sqrt (f64.convert_i64_s (local.get 0)))))
  (func $div (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $deep (export "deep") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1))))))))
)";


// What the interpreter says, in the harness's output format.
std::string InterpreterLine(std::span<const std::uint8_t> wasm, std::string_view name,
                            std::span<const Value> args) {
  auto engine = NewInterpreterEngine();
  Imports imports;
  FuelMeter meter(kUnlimitedFuel, INT64_MAX, SystemClock());
  meter.Register(imports);
  auto instance = engine->Instantiate(*engine->Compile(wasm), imports);
  EXPECT_TRUE(instance.ok());
  meter.Attach(instance->get());
  auto results = (*instance)->Call(name, args);
  std::ostringstream line;
  if (!results.ok()) {
    const bool stopped = results.error().message == kHostStopMessage;
    line << "trap " << (stopped ? MILF_AOT_UNWIND_HOST_STOP : WASM_RT_TRAP_DIV_BY_ZERO);
  } else {
    line << "results";
    for (const Value& value : *results) line << " " << value.bits;
  }
  line << " fuel " << meter.FuelUsed();
  return line.str();
}

TEST(AotAarch64, ArtifactRunsUnderQemuWithTheInterpretersResultsAndFuel) {
  const auto target = aot::FindTarget("aarch64-linux-gnu");
  ASSERT_TRUE(target.has_value());
  if (!OnPath(target->cc) || !OnPath("qemu-aarch64")) {
    GTEST_SKIP() << "needs gcc-aarch64-linux-gnu and qemu-user";
  }
  ScratchDir dir;
  auto instrumented = Instrument(Wasm(kModule), InstrumentOptions{});
  ASSERT_TRUE(instrumented.ok()) << instrumented.error().message;
  const aot::Toolchain toolchain(*target);
  auto object = aot::Translate(instrumented->wasm, toolchain, dir.path());
  ASSERT_TRUE(object.ok()) << object.error().message;
  ASSERT_GT(object->size(), 20u);
  EXPECT_EQ((*object)[18] | ((*object)[19] << 8), 183) << "ELF machine is EM_AARCH64";
  {
    std::ofstream out(dir.path() / "module.so", std::ios::binary);
    out.write(reinterpret_cast<const char*>(object->data()), static_cast<std::streamsize>(object->size()));
  }
  auto harness = aot::RunTool({target->cc, "-O2", "-std=gnu11", "-I" MILF_AOT_ABI_DIR,
                               "-I" + toolchain.paths().runtime_dir.string(),
                               MILF_AOT_HARNESS_SOURCE, "-o", "harness", "-ldl", "-lpthread"},
                              dir.path(), std::chrono::seconds(120));
  ASSERT_TRUE(harness.ok());
  ASSERT_EQ(harness->exit_code, 0) << harness->output;

  const struct {
    std::string_view name;
    int results;
    std::vector<Value> args;
  } kCalls[] = {
      {"fib", 1, {Value::I32(90)}},
      {"checksum", 1, {Value::I32(60000)}},
      {"sqrt", 1, {Value::I64(1'000'000'007ull * 3)}},
      {"div", 1, {Value::I32(7), Value::I32(0)}},
      {"deep", 1, {Value::I32(500)}},
      {"deep", 1, {Value::I32(5000)}},  // past the call-depth limit: a host stop
  };
  for (const auto& call : kCalls) {
    std::vector<std::string> argv = {"qemu-aarch64", "-L", std::string(kQemuSysroot), "./harness",
                                     "./module.so", std::string(call.name),
                                     std::to_string(call.results)};
    for (const Value& arg : call.args) {
      argv.push_back((arg.type == ValType::kI64 ? "i64:" : "i32:") + std::to_string(arg.bits));
    }
    auto run = aot::RunTool(argv, dir.path(), std::chrono::seconds(120));
    ASSERT_TRUE(run.ok());
    ASSERT_EQ(run->exit_code, 0) << run->output;
    std::string line = run->output.substr(0, run->output.find('\n'));
    EXPECT_EQ(line, InterpreterLine(instrumented->wasm, call.name, call.args)) << call.name;
  }
}

}  // namespace
}  // namespace milf::wasm
