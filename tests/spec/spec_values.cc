#include "spec_values.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <string_view>

#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace milf::spec {
namespace {

using wasm::ValType;
using wasm::Value;

struct TypeName {
  std::string_view name;
  ValType type;
};

constexpr TypeName kTypes[] = {
    {"i32", ValType::kI32},
    {"i64", ValType::kI64},
    {"f32", ValType::kF32},
    {"f64", ValType::kF64},
    {"v128", ValType::kV128},
    {"funcref", ValType::kFuncRef},
    {"externref", ValType::kExternRef},
};

struct ShapeName {
  std::string_view lane_type;
  std::string_view name;
  LaneShape shape;
};

constexpr ShapeName kShapes[] = {
    {"i8", "i8x16", LaneShape::kI8x16},  {"i16", "i16x8", LaneShape::kI16x8},
    {"i32", "i32x4", LaneShape::kI32x4}, {"i64", "i64x2", LaneShape::kI64x2},
    {"f32", "f32x4", LaneShape::kF32x4}, {"f64", "f64x2", LaneShape::kF64x2},
};

unsigned LaneBytes(LaneShape shape) {
  switch (shape) {
    case LaneShape::kI8x16: return 1;
    case LaneShape::kI16x8: return 2;
    case LaneShape::kI32x4:
    case LaneShape::kF32x4: return 4;
    case LaneShape::kI64x2:
    case LaneShape::kF64x2: return 8;
  }
  return 4;
}

unsigned LaneCount(LaneShape shape) { return 16 / LaneBytes(shape); }

std::uint64_t LaneMask(LaneShape shape) {
  const unsigned bits = LaneBytes(shape) * 8;
  return bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

// The shape a scalar is matched and printed with.
LaneShape ScalarShape(ValType type) {
  switch (type) {
    case ValType::kI32: return LaneShape::kI32x4;
    case ValType::kF32: return LaneShape::kF32x4;
    case ValType::kF64: return LaneShape::kF64x2;
    default: return LaneShape::kI64x2;
  }
}

bool IsReference(ValType type) { return type == ValType::kFuncRef || type == ValType::kExternRef; }

std::string_view TypeNameOf(ValType type) {
  for (const auto& entry : kTypes) {
    if (entry.type == type) return entry.name;
  }
  return "?";
}

std::string_view ShapeNameOf(LaneShape shape) {
  for (const auto& entry : kShapes) {
    if (entry.shape == shape) return entry.name;
  }
  return "?";
}

std::string Describe(const boost::json::object& json) { return boost::json::serialize(json); }

std::string_view StringField(const boost::json::object& json, std::string_view key) {
  const auto* field = json.if_contains(key);
  const auto* text = field ? field->if_string() : nullptr;
  return text ? std::string_view(*text) : std::string_view();
}

Result<ValType, std::string> ParseType(const boost::json::object& json) {
  const std::string_view name = StringField(json, "type");
  for (const auto& entry : kTypes) {
    if (entry.name == name) return entry.type;
  }
  return Fail("unsupported value type in " + Describe(json));
}

Result<LaneShape, std::string> ParseShape(const boost::json::object& json) {
  const std::string_view lane_type = StringField(json, "lane_type");
  for (const auto& entry : kShapes) {
    if (entry.lane_type == lane_type) return entry.shape;
  }
  return Fail("unsupported v128 lane type in " + Describe(json));
}

// A decimal bit pattern of `shape`'s lane width.
Result<std::uint64_t, std::string> ParseBits(std::string_view text, LaneShape shape) {
  std::uint64_t bits = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), bits);
  if (error != std::errc() || end != text.data() + text.size() || (bits & ~LaneMask(shape)) != 0) {
    return Fail("bad number \"" + std::string(text) + "\" (want " +
                std::to_string(LaneBytes(shape) * 8) + "-bit unsigned decimal)");
  }
  return bits;
}

bool IsFloatShape(LaneShape shape) {
  return shape == LaneShape::kF32x4 || shape == LaneShape::kF64x2;
}

Result<LanePattern, std::string> ParsePattern(std::string_view text, LaneShape shape) {
  if (IsFloatShape(shape) && text == "nan:canonical") {
    return LanePattern{LanePattern::Kind::kCanonicalNan, 0};
  }
  if (IsFloatShape(shape) && text == "nan:arithmetic") {
    return LanePattern{LanePattern::Kind::kArithmeticNan, 0};
  }
  auto bits = ParseBits(text, shape);
  if (!bits) return Fail(bits.error());
  return LanePattern{LanePattern::Kind::kBits, *bits};
}

// The lane patterns of a value: one for a scalar or reference, one per lane
// for a v128. A reference is "null" (handle 0) or, for externref, an integer
// N that travels as handle N + 1 (see spec_values.h).
Result<ExpectedValue, std::string> ParsePatterns(const boost::json::object& json) {
  auto type = ParseType(json);
  if (!type) return Fail(type.error());
  ExpectedValue expected{*type, ScalarShape(*type), {}};
  const auto* value = json.if_contains("value");
  if (*type == ValType::kV128) {
    auto shape = ParseShape(json);
    const auto* lanes = value ? value->if_array() : nullptr;
    if (!shape || !lanes || lanes->size() != LaneCount(*shape)) {
      return Fail("bad v128 value in " + Describe(json));
    }
    expected.shape = *shape;
    for (const auto& lane : *lanes) {
      const auto* text = lane.if_string();
      if (!text) return Fail("bad v128 lane in " + Describe(json));
      auto pattern = ParsePattern(*text, *shape);
      if (!pattern) return Fail(pattern.error());
      expected.lanes.push_back(*pattern);
    }
    return expected;
  }
  const auto* text = value ? value->if_string() : nullptr;
  if (!text) return Fail("missing value in " + Describe(json));
  if (IsReference(*type)) {
    if (*text == "null") {
      expected.lanes.push_back({LanePattern::Kind::kBits, 0});
      return expected;
    }
    auto index = ParseBits(*text, LaneShape::kI32x4);
    if (*type != ValType::kExternRef || !index) {
      return Fail("unsupported reference value in " + Describe(json));
    }
    expected.lanes.push_back({LanePattern::Kind::kBits, *index + 1});
    return expected;
  }
  auto pattern = ParsePattern(*text, expected.shape);
  if (!pattern) return Fail(pattern.error());
  expected.lanes.push_back(*pattern);
  return expected;
}

std::uint64_t LaneBits(const Value& value, LaneShape shape, unsigned lane) {
  if (value.type != ValType::kV128) return value.bits & LaneMask(shape);
  std::uint64_t bits = 0;
  std::memcpy(&bits, value.v128.data() + lane * LaneBytes(shape), LaneBytes(shape));
  return bits;
}

bool LaneMatches(const LanePattern& pattern, LaneShape shape, std::uint64_t bits) {
  const bool f32 = shape == LaneShape::kF32x4;
  const std::uint64_t sign = f32 ? 0x8000'0000u : 0x8000'0000'0000'0000u;
  const std::uint64_t quiet_nan = f32 ? 0x7fc0'0000u : 0x7ff8'0000'0000'0000u;
  switch (pattern.kind) {
    case LanePattern::Kind::kBits: return bits == pattern.bits;
    case LanePattern::Kind::kCanonicalNan: return (bits & ~sign) == quiet_nan;
    case LanePattern::Kind::kArithmeticNan: return (bits & quiet_nan) == quiet_nan;
  }
  return false;
}

std::string FormatLane(LaneShape shape, std::uint64_t bits) {
  switch (shape) {
    case LaneShape::kF32x4:
      return fmt::format("{}", std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
    case LaneShape::kF64x2: return fmt::format("{}", std::bit_cast<double>(bits));
    default: return std::to_string(bits);
  }
}

std::string FormatPattern(const LanePattern& pattern, LaneShape shape) {
  switch (pattern.kind) {
    case LanePattern::Kind::kCanonicalNan: return "nan:canonical";
    case LanePattern::Kind::kArithmeticNan: return "nan:arithmetic";
    case LanePattern::Kind::kBits: break;
  }
  return FormatLane(shape, pattern.bits);
}

std::string FormatReference(ValType type, std::uint64_t handle) {
  if (handle == 0) return std::string(TypeNameOf(type)) + ":null";
  if (type == ValType::kExternRef) return "externref:" + std::to_string(handle - 1);
  return fmt::format("funcref:handle {:#x}", handle);
}

std::string FormatScalar(ValType type, std::uint64_t bits) {
  switch (type) {
    case ValType::kI32: return fmt::format("i32:{}", static_cast<std::int32_t>(bits));
    case ValType::kI64: return fmt::format("i64:{}", static_cast<std::int64_t>(bits));
    case ValType::kF32:
      return fmt::format("f32:{} ({:#010x})", FormatLane(LaneShape::kF32x4, bits), bits);
    case ValType::kF64:
      return fmt::format("f64:{} ({:#018x})", FormatLane(LaneShape::kF64x2, bits), bits);
    default: return FormatReference(type, bits);
  }
}

}  // namespace

Result<Value, std::string> ParseArgument(const boost::json::object& json) {
  auto parsed = ParsePatterns(json);
  if (!parsed) return Fail(parsed.error());
  Value value;
  value.type = parsed->type;
  for (unsigned lane = 0; lane < parsed->lanes.size(); ++lane) {
    const LanePattern& pattern = parsed->lanes[lane];
    if (pattern.kind != LanePattern::Kind::kBits) {
      return Fail("NaN pattern as an argument in " + Describe(json));
    }
    if (value.type == ValType::kV128) {
      const unsigned bytes = LaneBytes(parsed->shape);
      std::memcpy(value.v128.data() + lane * bytes, &pattern.bits, bytes);
    } else {
      value.bits = pattern.bits;
    }
  }
  return value;
}

Result<ExpectedValue, std::string> ParseExpected(const boost::json::object& json) {
  return ParsePatterns(json);
}

bool Matches(const ExpectedValue& expected, const Value& actual) {
  if (expected.type != actual.type) return false;
  const LaneShape shape =
      expected.type == ValType::kV128 ? expected.shape : ScalarShape(expected.type);
  for (unsigned lane = 0; lane < expected.lanes.size(); ++lane) {
    if (!LaneMatches(expected.lanes[lane], shape, LaneBits(actual, shape, lane))) return false;
  }
  return true;
}

std::string DescribeValue(const Value& value, LaneShape shape) {
  if (value.type != ValType::kV128) return FormatScalar(value.type, value.bits);
  std::string text = "v128:" + std::string(ShapeNameOf(shape));
  for (unsigned lane = 0; lane < LaneCount(shape); ++lane) {
    text += ' ' + FormatLane(shape, LaneBits(value, shape, lane));
  }
  return text;
}

std::string DescribeExpected(const ExpectedValue& expected) {
  if (expected.type == ValType::kV128) {
    std::string text = "v128:" + std::string(ShapeNameOf(expected.shape));
    for (const auto& lane : expected.lanes) text += ' ' + FormatPattern(lane, expected.shape);
    return text;
  }
  const LanePattern& only = expected.lanes.front();
  if (only.kind != LanePattern::Kind::kBits) {
    return std::string(TypeNameOf(expected.type)) + ':' +
           FormatPattern(only, ScalarShape(expected.type));
  }
  return FormatScalar(expected.type, only.bits);
}

}  // namespace milf::spec
