// Test helpers: WebAssembly text to binary, and binary back to wabt IR, so
// instrument tests can build inputs from readable WAT and inspect outputs
// structurally.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "wabt/ir.h"

namespace milf::wasm::testing {

// Assembles `wat` with the proposals MILF accepts (plus tail calls when
// asked, to build inputs MILF must refuse), keeping names in a name
// section. Fails the current test and returns {} on a parse error.
std::vector<std::uint8_t> WatToWasm(std::string_view wat, bool tail_calls = false);

// Decodes (names included) and validates with MILF's proposals. Fails the
// current test and returns nullptr on any error.
std::unique_ptr<wabt::Module> ReadWasm(std::span<const std::uint8_t> wasm);

// The whole file; fails the current test and returns {} if unreadable.
std::vector<std::uint8_t> ReadFileBytes(const std::filesystem::path& path);

}  // namespace milf::wasm::testing
