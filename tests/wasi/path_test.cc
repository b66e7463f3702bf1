#include "wasm/wasi/path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace milf::wasm::wasi {
namespace {

std::vector<std::string> Components(std::string_view path) {
  auto parsed = ParseRelativePath(path);
  EXPECT_TRUE(parsed.ok()) << path;
  return parsed ? parsed->components : std::vector<std::string>{};
}

TEST(ParseRelativePath, SplitsOnSlashesAndKeepsDots) {
  EXPECT_EQ(Components("a"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Components("a/b/c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Components("a//b///c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Components("./a/../b"), (std::vector<std::string>{".", "a", "..", "b"}));
  EXPECT_EQ(Components("."), (std::vector<std::string>{"."}));
}

TEST(ParseRelativePath, RecordsTrailingSlash) {
  auto plain = ParseRelativePath("dir");
  auto slashed = ParseRelativePath("dir//");
  ASSERT_TRUE(plain && slashed);
  EXPECT_FALSE(plain->trailing_slash);
  EXPECT_TRUE(slashed->trailing_slash);
  EXPECT_EQ(slashed->components, (std::vector<std::string>{"dir"}));
}

TEST(ParseRelativePath, LeafIsDot) {
  EXPECT_TRUE(ParseRelativePath("a/.")->leaf_is_dot());
  EXPECT_TRUE(ParseRelativePath("a/..")->leaf_is_dot());
  EXPECT_FALSE(ParseRelativePath("a/..b")->leaf_is_dot());
  EXPECT_FALSE(ParseRelativePath("../a")->leaf_is_dot());
}

TEST(ParseRelativePath, RejectsHostilePaths) {
  EXPECT_EQ(ParseRelativePath("").error(), Errno::kNoent);
  EXPECT_EQ(ParseRelativePath("/etc/passwd").error(), Errno::kNotcapable);
  EXPECT_EQ(ParseRelativePath("//etc").error(), Errno::kNotcapable);
  EXPECT_EQ(ParseRelativePath(std::string_view("ok.txt\0../../etc/passwd", 23)).error(),
            Errno::kInval);
  EXPECT_EQ(ParseRelativePath(std::string(kMaxPathBytes + 1, 'a')).error(), Errno::kNametoolong);
  EXPECT_EQ(ParseRelativePath("a/" + std::string(kMaxNameBytes + 1, 'b')).error(),
            Errno::kNametoolong);
  EXPECT_TRUE(ParseRelativePath(std::string(kMaxNameBytes, 'b')).ok());
}

TEST(JoinComponents, JoinsARangeOrGivesDot) {
  const std::vector<std::string> parts{"a", "b", "c"};
  EXPECT_EQ(JoinComponents(parts, 0, 3), "a/b/c");
  EXPECT_EQ(JoinComponents(parts, 1, 2), "b");
  EXPECT_EQ(JoinComponents(parts, 0, 0), ".");
}

}  // namespace
}  // namespace milf::wasm::wasi
