// Values that cross between hosts and guests: WebAssembly's number, vector
// and reference types. Kept C++17-clean: the wabt backend includes it.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace milf::wasm {

enum class ValType : std::uint8_t { kI32, kI64, kF32, kF64, kV128, kFuncRef, kExternRef };

std::string ValTypeName(ValType type);

// A tagged value. Numbers are stored as raw bits so that NaN payloads survive
// a round trip through the host (the spec tests check them). References are
// opaque: 0 is null, anything else is a backend-defined handle.
struct Value {
  ValType type = ValType::kI32;
  std::uint64_t bits = 0;                  // i32, i64, f32, f64 bit patterns; ref handle
  std::array<std::uint8_t, 16> v128{};     // only for kV128

  static Value I32(std::uint32_t v) { return {ValType::kI32, v, {}}; }
  static Value I64(std::uint64_t v) { return {ValType::kI64, v, {}}; }
  static Value F32Bits(std::uint32_t v) { return {ValType::kF32, v, {}}; }
  static Value F64Bits(std::uint64_t v) { return {ValType::kF64, v, {}}; }
  static Value F32(float f) {
    std::uint32_t raw;
    std::memcpy(&raw, &f, sizeof raw);
    return F32Bits(raw);
  }
  static Value F64(double d) {
    std::uint64_t raw;
    std::memcpy(&raw, &d, sizeof raw);
    return F64Bits(raw);
  }

  std::uint32_t i32() const { return static_cast<std::uint32_t>(bits); }
  std::uint64_t i64() const { return bits; }
};

struct FuncSig {
  std::vector<ValType> params;
  std::vector<ValType> results;
};

inline bool operator==(const FuncSig& a, const FuncSig& b) {
  return a.params == b.params && a.results == b.results;
}
inline bool operator!=(const FuncSig& a, const FuncSig& b) { return !(a == b); }

// Human-readable text of a value: decimal for integers (i32/i64 signed),
// shortest round-trip decimal for floats (nan/inf spelled out), hex for v128.
std::string FormatValue(const Value& value);

// Parses `text` as a value of `type` (numbers only: i32, i64, f32, f64).
// Integers accept decimal (optionally negative) or 0x hex. nullopt on
// malformed or out-of-range text.
std::optional<Value> ParseValue(ValType type, const std::string& text);

}  // namespace milf::wasm
