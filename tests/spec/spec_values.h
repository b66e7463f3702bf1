// Values of the spec scripts as wast2json writes them: {"type", "value"}
// objects whose numbers are decimal strings of bit patterns, v128 values as
// a lane type plus one string per lane, and references as "null" or an
// integer (externref only). Expected results may also be the NaN patterns
// "nan:canonical" and "nan:arithmetic", per scalar or per float lane.
//
// Reference encoding: an Engine Value carries a reference as an opaque
// handle with 0 meaning null (value.h). The scripts' host reference
// `ref.extern N` is therefore passed as handle N + 1, and a returned handle
// H != 0 reads back as `ref.extern H - 1`; this relies on the backend
// handing host externref handles back unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "base/result.h"
#include "wasm/value.h"

namespace milf::spec {

// How the 128 bits of a v128 are split for parsing, matching and printing.
// Scalars use the shape of their own type.
enum class LaneShape { kI8x16, kI16x8, kI32x4, kI64x2, kF32x4, kF64x2 };

struct LanePattern {
  enum class Kind { kBits, kCanonicalNan, kArithmeticNan };
  Kind kind = Kind::kBits;
  std::uint64_t bits = 0;
};

struct ExpectedValue {
  wasm::ValType type = wasm::ValType::kI32;
  LaneShape shape = LaneShape::kI32x4;  // for v128 only
  std::vector<LanePattern> lanes;       // one for scalars and references
};

// Parses an argument of an action. Errors name the offending JSON.
Result<wasm::Value, std::string> ParseArgument(const boost::json::object& json);

// Parses one entry of an assertion's "expected" list.
Result<ExpectedValue, std::string> ParseExpected(const boost::json::object& json);

// True when `actual` has the expected type and every lane matches: bit
// equality for numbers (floats included, as the reference interpreter
// does), the NaN classes for the NaN patterns.
bool Matches(const ExpectedValue& expected, const wasm::Value& actual);

// "i32:-1", "f32:1.5 (0x3fc00000)", "v128:i32x4 1 2 3 4", "externref:7",
// "funcref:null". A v128 prints in `shape`; other types ignore it.
std::string DescribeValue(const wasm::Value& value, LaneShape shape = LaneShape::kI32x4);
std::string DescribeExpected(const ExpectedValue& expected);

}  // namespace milf::spec
