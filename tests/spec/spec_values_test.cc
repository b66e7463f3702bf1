#include "spec_values.h"

#include <cstdint>
#include <cstring>
#include <string_view>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace milf::spec {
namespace {

using wasm::ValType;
using wasm::Value;

boost::json::object Json(std::string_view text) { return boost::json::parse(text).as_object(); }

Value Arg(std::string_view text) {
  auto value = ParseArgument(Json(text));
  EXPECT_TRUE(value.ok()) << text << ": " << (value.ok() ? "" : value.error());
  return value.ok() ? *value : Value{};
}

ExpectedValue Expect(std::string_view text) {
  auto value = ParseExpected(Json(text));
  EXPECT_TRUE(value.ok()) << text << ": " << (value.ok() ? "" : value.error());
  return value.ok() ? *value : ExpectedValue{};
}

TEST(SpecValues, ScalarsAreDecimalBitPatterns) {
  EXPECT_EQ(Arg(R"({"type":"i32","value":"4294967295"})").bits, 0xffff'ffffu);
  EXPECT_EQ(Arg(R"({"type":"i64","value":"18446744073709551615"})").bits, ~std::uint64_t{0});
  const Value f32 = Arg(R"({"type":"f32","value":"2143289345"})");
  EXPECT_EQ(f32.type, ValType::kF32);
  EXPECT_EQ(f32.bits, 0x7fc0'0001u);  // a NaN payload survives
  EXPECT_EQ(Arg(R"({"type":"f64","value":"9221120237041090560"})").bits, 0x7ff8'0000'0000'0000u);
}

TEST(SpecValues, RejectsMalformedScalars) {
  for (const char* text : {
           R"({"type":"i32","value":"4294967296"})",  // wider than 32 bits
           R"({"type":"i32","value":"-1"})",          // wast2json writes unsigned bits
           R"({"type":"i32","value":"12abc"})", R"({"type":"i32","value":""})",
           R"({"type":"i32","value":7})",  // a number, not a string
           R"({"type":"i32"})", R"({"type":"i31","value":"1"})", R"({"value":"1"})",
           R"({"type":"f32","value":"nan:canonical"})",  // a pattern, not an argument
       }) {
    EXPECT_FALSE(ParseArgument(Json(text)).ok()) << text;
  }
}

TEST(SpecValues, V128LanesAreLittleEndian) {
  const Value v = Arg(R"({"type":"v128","lane_type":"i16","value":
      ["1","2","3","4","5","6","7","65535"]})");
  ASSERT_EQ(v.type, ValType::kV128);
  EXPECT_EQ(v.v128[0], 1);
  EXPECT_EQ(v.v128[1], 0);
  EXPECT_EQ(v.v128[2], 2);
  EXPECT_EQ(v.v128[14], 0xff);
  EXPECT_EQ(v.v128[15], 0xff);
}

TEST(SpecValues, RejectsMalformedV128) {
  for (const char* text : {
           R"({"type":"v128","lane_type":"i32","value":["1","2","3"]})",
           R"({"type":"v128","lane_type":"i8","value":["256","0","0","0","0","0","0","0",
               "0","0","0","0","0","0","0","0"]})",
           R"({"type":"v128","lane_type":"i128","value":["1"]})",
           R"({"type":"v128","value":["1","2","3","4"]})",
           R"({"type":"v128","lane_type":"i64","value":"1"})",
           R"({"type":"v128","lane_type":"i64","value":[1, 2]})",
       }) {
    EXPECT_FALSE(ParseArgument(Json(text)).ok()) << text;
  }
}

TEST(SpecValues, ExternrefIndexIsShiftedPastNull) {
  EXPECT_EQ(Arg(R"({"type":"externref","value":"null"})").bits, 0u);
  EXPECT_EQ(Arg(R"({"type":"externref","value":"0"})").bits, 1u);
  EXPECT_EQ(Arg(R"({"type":"funcref","value":"null"})").bits, 0u);
  EXPECT_FALSE(ParseArgument(Json(R"({"type":"funcref","value":"3"})")).ok());
  EXPECT_FALSE(ParseArgument(Json(R"({"type":"externref","value":"nil"})")).ok());
}

TEST(SpecValues, CanonicalNanMatchesEitherSignOnly) {
  const ExpectedValue f32 = Expect(R"({"type":"f32","value":"nan:canonical"})");
  EXPECT_TRUE(Matches(f32, Value::F32Bits(0x7fc0'0000)));
  EXPECT_TRUE(Matches(f32, Value::F32Bits(0xffc0'0000)));
  EXPECT_FALSE(Matches(f32, Value::F32Bits(0x7fc0'0001)));
  EXPECT_FALSE(Matches(f32, Value::F32Bits(0x7f80'0000)));  // infinity
  const ExpectedValue f64 = Expect(R"({"type":"f64","value":"nan:canonical"})");
  EXPECT_TRUE(Matches(f64, Value::F64Bits(0xfff8'0000'0000'0000)));
  EXPECT_FALSE(Matches(f64, Value::F64Bits(0x7ff8'0000'0000'0001)));
  EXPECT_FALSE(Matches(f64, Value::F32Bits(0x7fc0'0000)));  // wrong type
}

TEST(SpecValues, ArithmeticNanNeedsTheQuietBit) {
  const ExpectedValue f32 = Expect(R"({"type":"f32","value":"nan:arithmetic"})");
  EXPECT_TRUE(Matches(f32, Value::F32Bits(0x7fc0'0001)));
  EXPECT_TRUE(Matches(f32, Value::F32Bits(0xffff'ffff)));
  EXPECT_FALSE(Matches(f32, Value::F32Bits(0x7f80'0001)));  // signalling
  const ExpectedValue f64 = Expect(R"({"type":"f64","value":"nan:arithmetic"})");
  EXPECT_TRUE(Matches(f64, Value::F64Bits(0x7ffc'0000'0000'0000)));
  EXPECT_FALSE(Matches(f64, Value::F64Bits(0x7ff0'0000'0000'0001)));
}

TEST(SpecValues, FloatsCompareByBits) {
  const ExpectedValue zero = Expect(R"({"type":"f32","value":"0"})");
  EXPECT_TRUE(Matches(zero, Value::F32(0.0f)));
  EXPECT_FALSE(Matches(zero, Value::F32(-0.0f)));
  const ExpectedValue nan = Expect(R"({"type":"f32","value":"2143289345"})");
  EXPECT_TRUE(Matches(nan, Value::F32Bits(0x7fc0'0001)));
  EXPECT_FALSE(Matches(nan, Value::F32Bits(0x7fc0'0000)));
}

TEST(SpecValues, V128MatchesPerLane) {
  const ExpectedValue expected = Expect(R"({"type":"v128","lane_type":"f32","value":
      ["nan:canonical","1065353216","nan:arithmetic","0"]})");
  Value actual;
  actual.type = ValType::kV128;
  const std::uint32_t lanes[4] = {0xffc0'0000, 0x3f80'0000, 0x7fc0'1234, 0};
  std::memcpy(actual.v128.data(), lanes, sizeof lanes);
  EXPECT_TRUE(Matches(expected, actual));
  actual.v128[12] = 1;
  EXPECT_FALSE(Matches(expected, actual));
  EXPECT_FALSE(Matches(expected, Value::I32(0)));
}

TEST(SpecValues, ReferencesMatchByHandle) {
  EXPECT_TRUE(
      Matches(Expect(R"({"type":"externref","value":"4"})"), Value{ValType::kExternRef, 5, {}}));
  EXPECT_FALSE(
      Matches(Expect(R"({"type":"externref","value":"null"})"), Value{ValType::kExternRef, 1, {}}));
  EXPECT_FALSE(
      Matches(Expect(R"({"type":"funcref","value":"null"})"), Value{ValType::kExternRef, 0, {}}));
}

TEST(SpecValues, DescriptionsNameTypeAndValue) {
  EXPECT_EQ(DescribeValue(Value::I32(0xffff'ffff)), "i32:-1");
  EXPECT_EQ(DescribeValue(Value::F32(1.5f)), "f32:1.5 (0x3fc00000)");
  EXPECT_EQ(DescribeValue(Value{ValType::kExternRef, 8, {}}), "externref:7");
  EXPECT_EQ(DescribeValue(Value{ValType::kFuncRef, 0, {}}), "funcref:null");
  EXPECT_EQ(DescribeExpected(Expect(R"({"type":"f64","value":"nan:arithmetic"})")),
            "f64:nan:arithmetic");
  EXPECT_EQ(DescribeExpected(Expect(R"({"type":"v128","lane_type":"i64","value":["1","2"]})")),
            "v128:i64x2 1 2");
}

}  // namespace
}  // namespace milf::spec
