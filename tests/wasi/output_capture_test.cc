#include "wasm/wasi/output_capture.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace milf::wasm::wasi {
namespace {

std::span<const std::uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(OutputCapture, KeepsEverythingUnderTheCap) {
  OutputCapture capture(10);
  EXPECT_TRUE(capture.Append(Bytes("hello")));
  EXPECT_TRUE(capture.Append(Bytes("world")));
  EXPECT_EQ(capture.text(), "helloworld");
  EXPECT_FALSE(capture.truncated());
  EXPECT_EQ(capture.room(), 0u);
}

TEST(OutputCapture, KeepsTheFirstCapBytesAndFlagsTruncation) {
  OutputCapture capture(8);
  EXPECT_TRUE(capture.Append(Bytes("12345")));
  EXPECT_FALSE(capture.Append(Bytes("67890")));
  EXPECT_EQ(capture.text(), "12345678");
  EXPECT_TRUE(capture.truncated());
  EXPECT_FALSE(capture.Append(Bytes("x")));
  EXPECT_EQ(capture.text(), "12345678");
}

TEST(OutputCapture, StopsAtTheCapAcrossManyWrites) {
  OutputCapture capture(1000);
  const std::string chunk(300, 'x');
  for (int i = 0; i < 10; ++i) capture.Append(Bytes(chunk));
  EXPECT_EQ(capture.bytes().size(), 1000u);
  EXPECT_TRUE(capture.truncated());
}

TEST(OutputCapture, ZeroCapKeepsNothing) {
  OutputCapture capture(0);
  EXPECT_TRUE(capture.Append({}));
  EXPECT_FALSE(capture.truncated());
  EXPECT_FALSE(capture.Append(Bytes("a")));
  EXPECT_TRUE(capture.bytes().empty());
  EXPECT_TRUE(capture.truncated());
}

}  // namespace
}  // namespace milf::wasm::wasi
