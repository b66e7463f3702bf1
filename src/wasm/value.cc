#include "wasm/value.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace milf::wasm {

std::string ValTypeName(ValType type) {
  switch (type) {
    case ValType::kI32: return "i32";
    case ValType::kI64: return "i64";
    case ValType::kF32: return "f32";
    case ValType::kF64: return "f64";
    case ValType::kV128: return "v128";
    case ValType::kFuncRef: return "funcref";
    case ValType::kExternRef: return "externref";
  }
  return "unknown";
}

namespace {

std::string FormatFloat(double value, int precision) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buffer[64];
  const auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, precision);
  return error == std::errc() ? std::string(buffer, end) : std::string("?");
}

template <class Int>
std::optional<Int> ParseInteger(const std::string& text) {
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const char* begin = text.data() + (hex ? 2 : 0);
  const char* end = text.data() + text.size();
  Int value{};
  const auto [stop, error] = std::from_chars(begin, end, value, hex ? 16 : 10);
  if (error != std::errc() || stop != end || begin == end) return std::nullopt;
  return value;
}

// Accepts the signed and the unsigned range, as wasm integers have no sign.
template <class Signed, class Unsigned>
std::optional<Unsigned> ParseWasmInteger(const std::string& text) {
  if (auto as_unsigned = ParseInteger<Unsigned>(text)) return as_unsigned;
  if (auto as_signed = ParseInteger<Signed>(text)) return static_cast<Unsigned>(*as_signed);
  return std::nullopt;
}

std::optional<double> ParseFloat(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE) return std::nullopt;
  return value;
}

}  // namespace

std::string FormatValue(const Value& value) {
  switch (value.type) {
    case ValType::kI32: return std::to_string(static_cast<std::int32_t>(value.i32()));
    case ValType::kI64: return std::to_string(static_cast<std::int64_t>(value.i64()));
    case ValType::kF32: {
      float f;
      const std::uint32_t raw = value.i32();
      std::memcpy(&f, &raw, sizeof f);
      return FormatFloat(f, std::numeric_limits<float>::max_digits10);
    }
    case ValType::kF64: {
      double d;
      std::memcpy(&d, &value.bits, sizeof d);
      return FormatFloat(d, std::numeric_limits<double>::max_digits10);
    }
    case ValType::kV128: {
      static constexpr char kDigits[] = "0123456789abcdef";
      std::string hex = "0x";
      for (auto it = value.v128.rbegin(); it != value.v128.rend(); ++it) {
        hex.push_back(kDigits[*it >> 4]);
        hex.push_back(kDigits[*it & 0xf]);
      }
      return hex;
    }
    case ValType::kFuncRef:
    case ValType::kExternRef:
      return value.bits == 0 ? "null" : "ref:" + std::to_string(value.bits);
  }
  return "?";
}

std::optional<Value> ParseValue(ValType type, const std::string& text) {
  switch (type) {
    case ValType::kI32:
      if (auto v = ParseWasmInteger<std::int32_t, std::uint32_t>(text)) return Value::I32(*v);
      return std::nullopt;
    case ValType::kI64:
      if (auto v = ParseWasmInteger<std::int64_t, std::uint64_t>(text)) return Value::I64(*v);
      return std::nullopt;
    case ValType::kF32:
      if (auto v = ParseFloat(text)) return Value::F32(static_cast<float>(*v));
      return std::nullopt;
    case ValType::kF64:
      if (auto v = ParseFloat(text)) return Value::F64(*v);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace milf::wasm
