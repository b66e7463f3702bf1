// The "spectest" module that spec scripts import from: do-nothing print
// functions, global_i32/i64/f32/f64 (666, 666.6), a funcref table (10..20)
// and a memory (1..2 pages).
//
// The Engine links only host functions and instances, so spectest is a real
// module: its WebAssembly text is assembled with wabt's text parser
// (testing::WatToWasm), it imports the print functions from host module "spectest_host"
// and exports everything under the spec's names.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "wasm/engine.h"

namespace milf::spec {

// The spectest module's binary. Pure; fails only if wabt rejects the text.
Result<std::vector<std::uint8_t>, std::string> AssembleSpectest();

// Compiles and instantiates `binary` (from AssembleSpectest) on `engine`,
// supplying the print functions. The Instance belongs to the caller and
// must not outlive `engine`.
Result<std::unique_ptr<wasm::Instance>, std::string> InstantiateSpectest(
    wasm::Engine& engine, std::span<const std::uint8_t> binary);

}  // namespace milf::spec
