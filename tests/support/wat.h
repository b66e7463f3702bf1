// Test support: WebAssembly text to binary with libwabt's parser, so tests
// can state their modules inline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace milf::testing {

// The binary module for `wat` (parsed and validated with MILF's feature
// set, plus tail calls when asked, to build modules MILF must refuse), or an
// Error carrying wabt's diagnostics. The name section is kept.
Result<std::vector<std::uint8_t>> WatToWasm(std::string_view wat, bool tail_calls = false);

// Like WatToWasm but aborts the test binary on a parse error: for modules
// that are part of a test's fixture and must be valid.
std::vector<std::uint8_t> Wasm(std::string_view wat);

}  // namespace milf::testing
