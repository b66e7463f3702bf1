// Instrument: the WebAssembly-to-WebAssembly rewrite that makes limits hold
// on every tier. Applied once per module at load time, before the module is
// handed to any Engine; the output is an ordinary, valid module.
//
// What it adds:
//  - Fuel metering. A mutable i64 global, exported as kFuelGlobal, is the
//    fuel left in the current slice. At each function entry it is decremented
//    by the number of instructions of the function body that lie outside any
//    loop; at each loop header, by the number of instructions of that loop's
//    body that lie outside nested loops. When it goes negative the module
//    calls the import kHostModule.kFuelRefillImport (i64 counter) -> i64,
//    which either returns a new counter or stops the run. The count is a
//    deterministic function of the module and its control flow.
//  - Call depth. An i32 global counts nested calls; entering a function past
//    max_call_depth calls kHostModule.kCallDepthImport () -> ().
//  - Trap attribution. An i32 global, exported as kFunctionGlobal, holds the
//    index of the function currently executing, so a trap can be reported
//    "in function NAME".
//  - Caps. Every defined memory's maximum becomes min(declared, cap); a
//    declared minimum above the cap is refused (kMemoryLimit). Tables
//    likewise (kTableLimit).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "wasm/status.h"

namespace milf::wasm {

inline constexpr std::string_view kHostModule = "milf";
inline constexpr std::string_view kFuelRefillImport = "fuel_refill";
inline constexpr std::string_view kCallDepthImport = "call_depth_exceeded";
inline constexpr std::string_view kFuelGlobal = "__milf_fuel";
inline constexpr std::string_view kFunctionGlobal = "__milf_function";

struct InstrumentOptions {
  std::uint32_t max_memory_pages = 1024;
  std::uint32_t max_table_elements = 100'000;
  std::uint32_t max_call_depth = 1'000;
};

struct InstrumentedModule {
  std::vector<std::uint8_t> wasm;
  // Indexed by function index (imports first): the name from the name
  // section, else an export name, else "func[N]".
  std::vector<std::string> function_names;
};

// kInvalidModule (with the validator's message) for malformed or invalid
// input; kMemoryLimit / kTableLimit for caps the module cannot meet.
Result<InstrumentedModule, Failure> Instrument(std::span<const std::uint8_t> wasm,
                                               const InstrumentOptions& options);

}  // namespace milf::wasm
