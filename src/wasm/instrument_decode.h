// Decoding for Instrument (private to instrument*.cc): bytes to a validated
// wabt IR module, or a one-line kInvalidModule failure. Never crashes on
// hostile input: a decode-only pre-scan refuses what wabt's IR builder
// cannot take (bodies nested too deeply for its recursive code, and
// non-constant instructions in constant expressions, which can trip an
// assertion in wabt 1.0.32) before the IR is built.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "base/result.h"
#include "wabt/feature.h"
#include "wabt/ir.h"
#include "wasm/features.h"
#include "wasm/status.h"

namespace milf::wasm {

// Deeper block/loop/if nesting in a function body is refused: wabt's IR
// destructor and binary writer, and Instrument itself, recurse once per
// level; at the limit they need about 2 MB of stack. Instrument's output
// nests at most two levels deeper than its input.
inline constexpr std::uint32_t kMaxBlockNesting = 10'000;

// Function indices in the result are indices (never names), and the name
// section, if any, has filled in Func::name (with wabt's '$' prefix).
Result<std::unique_ptr<wabt::Module>, Failure> DecodeAndValidate(
    std::span<const std::uint8_t> wasm);

}  // namespace milf::wasm
