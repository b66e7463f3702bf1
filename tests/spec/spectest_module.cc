#include "spectest_module.h"

#include <string_view>

#include "support/wat.h"

namespace milf::spec {
namespace {

using wasm::ValType;

constexpr std::string_view kHostModule = "spectest_host";

struct PrintFunction {
  std::string_view name;
  std::vector<ValType> params;
};

std::vector<PrintFunction> PrintFunctions() {
  return {
      {"print", {}},
      {"print_i32", {ValType::kI32}},
      {"print_i64", {ValType::kI64}},
      {"print_f32", {ValType::kF32}},
      {"print_f64", {ValType::kF64}},
      {"print_i32_f32", {ValType::kI32, ValType::kF32}},
      {"print_f64_f64", {ValType::kF64, ValType::kF64}},
  };
}

std::string_view WatName(ValType type) {
  switch (type) {
    case ValType::kI64: return "i64";
    case ValType::kF32: return "f32";
    case ValType::kF64: return "f64";
    default: return "i32";
  }
}

// The print functions are re-exported imports, so the text is generated
// from the same table that supplies the host side.
std::string SpectestWat() {
  std::string wat = "(module\n";
  for (const auto& print : PrintFunctions()) {
    wat += "  (func (export \"" + std::string(print.name) + "\") (import \"" +
           std::string(kHostModule) + "\" \"" + std::string(print.name) + "\") (param";
    for (const ValType param : print.params) wat += " " + std::string(WatName(param));
    wat += "))\n";
  }
  wat += R"(  (global (export "global_i32") i32 (i32.const 666))
  (global (export "global_i64") i64 (i64.const 666))
  (global (export "global_f32") f32 (f32.const 666.6))
  (global (export "global_f64") f64 (f64.const 666.6))
  (table (export "table") 10 20 funcref)
  (memory (export "memory") 1 2))
)";
  return wat;
}

}  // namespace

Result<std::vector<std::uint8_t>, std::string> AssembleSpectest() {
  auto binary = testing::WatToWasm(SpectestWat());
  if (!binary) return Fail("spectest module: " + binary.error().message);
  return std::move(binary).value();
}

Result<std::unique_ptr<wasm::Instance>, std::string> InstantiateSpectest(
    wasm::Engine& engine, std::span<const std::uint8_t> binary) {
  auto module = engine.Compile(binary);
  if (!module) return Fail("spectest module does not compile: " + module.error().message);
  wasm::Imports imports;
  for (auto& print : PrintFunctions()) {
    imports.AddFunction(wasm::HostFunction{
        std::string(kHostModule),
        std::string(print.name),
        wasm::FuncSig{std::move(print.params), {}},
        [](wasm::HostContext&, std::span<const wasm::Value>, std::span<wasm::Value>) {
          return wasm::HostAction::kContinue;
        },
    });
  }
  auto instance = engine.Instantiate(*module, imports);
  if (!instance) return Fail("spectest module does not instantiate: " + instance.error().message);
  return std::move(*instance);
}

}  // namespace milf::spec
