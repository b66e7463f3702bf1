// Runs every example lambda through the real `milf run` binary, the way a
// user would, and checks its exact output and exit status.
#include <openssl/evp.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/subprocess.h"

namespace milf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string ExamplePath(std::string_view name) {
  return std::string(MILF_BINARY_DIR "/examples/") + std::string(name) + ".wasm";
}

// `milf run EXAMPLE.wasm flags...` with `input` on its stdin.
ProcessResult MilfRun(std::string_view example, const std::vector<std::string>& flags,
                      std::string_view input = {}) {
  std::vector<std::string> argv = {MILF_BINARY_DIR "/bin/milf", "run", ExamplePath(example)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto result = RunProcess(argv, input);
  if (!result.ok()) {
    ADD_FAILURE() << "cannot run milf: " << result.error().message;
    return {};
  }
  return std::move(result).value();
}

// Same, with `input` given through `--stdin -`.
ProcessResult MilfRunWithStdin(std::string_view example, std::string_view input,
                               std::vector<std::string> flags = {}) {
  flags.insert(flags.begin(), {"--stdin", "-"});
  return MilfRun(example, flags, input);
}

std::string OpenSslSha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr), 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string PseudoRandomBytes(size_t size, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(gen() & 0xff);
  return bytes;
}

// A fresh directory under the test temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::path(::testing::TempDir()) / "milf-examples-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

  void Write(const fs::path& relative, std::string_view content) const {
    std::ofstream file(path_ / relative, std::ios::binary);
    file.write(content.data(), static_cast<std::streamsize>(content.size()));
    ASSERT_TRUE(file.good()) << relative;
  }

 private:
  fs::path path_;
};

TEST(HelloExample, PrintsGreeting) {
  const ProcessResult r = MilfRun("hello", {});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello from MILF!\n");
  EXPECT_THAT(r.err, IsEmpty());
}

TEST(EchoExample, RoundTripsText) {
  const ProcessResult r = MilfRunWithStdin("echo", "hello, echo\nsecond line\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello, echo\nsecond line\n");
}

TEST(EchoExample, RoundTripsEveryByteValue) {
  std::string input;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) input.push_back(static_cast<char>(b));
  }
  const ProcessResult r = MilfRunWithStdin("echo", input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, input);
}

TEST(EchoExample, RoundTripsInputLargerThanItsReadBuffer) {
  const std::string input = PseudoRandomBytes(300 * 1024, 7);
  const ProcessResult r = MilfRunWithStdin("echo", input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.size(), input.size());
  EXPECT_TRUE(r.out == input) << "echoed bytes differ from the input";
}

TEST(EchoExample, EmptyInputGivesEmptyOutput) {
  const ProcessResult r = MilfRunWithStdin("echo", "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, IsEmpty());
}

TEST(WordcountExample, CountsEachFileAndTotalSortedByName) {
  TempDir dir;
  dir.Write("b.txt", "no newline at the end");
  dir.Write("a.txt", "hello world\n  second\tline \n");
  dir.Write("empty.txt", "");
  fs::create_directory(dir.path() / "subdir");
  dir.Write("subdir/skipped.txt", "subdirectories are not counted\n");

  const ProcessResult r = MilfRun("wordcount", {"--dir", dir.path().string() + ":/in:ro"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "      2       4      27 a.txt\n"
            "      0       5      21 b.txt\n"
            "      0       0       0 empty.txt\n"
            "      2       9      48 total\n");
}

TEST(WordcountExample, EmptyDirectoryPrintsZeroTotal) {
  TempDir dir;
  const ProcessResult r = MilfRun("wordcount", {"--dir", dir.path().string() + ":/in:ro"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "      0       0       0 total\n");
}

TEST(WordcountExample, CountsTheDirectoryNamedByItsArgument) {
  TempDir dir;
  dir.Write("one.txt", "one two three\n");
  const ProcessResult r =
      MilfRun("wordcount", {"--dir", dir.path().string() + ":/data:ro", "--arg", "/data"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "      1       3      14 one.txt\n"
            "      1       3      14 total\n");
}

TEST(WordcountExample, FailsWhenNothingIsMountedAtIn) {
  const ProcessResult r = MilfRun("wordcount", {});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_THAT(r.err, HasSubstr("wordcount: cannot open directory /in"));
}

TEST(Sha256Example, MatchesKnownVectors) {
  const struct {
    std::string_view input;
    std::string_view digest;
  } kVectors[] = {
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  for (const auto& v : kVectors) {
    const ProcessResult r = MilfRunWithStdin("sha256", v.input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string(v.digest) + "\n") << "input: \"" << v.input << "\"";
  }
}

TEST(Sha256Example, MatchesOpenSslAroundPaddingBoundaries) {
  // 55/56 and 119/120 bytes decide whether the length fits the last block.
  for (const size_t size : {1, 55, 56, 63, 64, 65, 119, 120, 128}) {
    const std::string input = PseudoRandomBytes(size, static_cast<std::uint32_t>(size));
    const ProcessResult r = MilfRunWithStdin("sha256", input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, OpenSslSha256Hex(input) + "\n") << "size " << size;
  }
}

TEST(Sha256Example, HashesOneMegabyteFromAFileLikeOpenSsl) {
  TempDir dir;
  const std::string input = PseudoRandomBytes(1 << 20, 42);
  dir.Write("input.bin", input);
  const ProcessResult r =
      MilfRun("sha256", {"--stdin", (dir.path() / "input.bin").string(), "--timeout", "120"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, OpenSslSha256Hex(input) + "\n");
}

TEST(JsonTransformExample, SummarizesValues) {
  const ProcessResult r = MilfRunWithStdin("json_transform", R"({"name":"x","values":[1,2,3]})");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"name\":\"x\",\"count\":3,\"sum\":6,\"min\":1,\"max\":3,\"mean\":2}\n");
  EXPECT_THAT(r.err, IsEmpty());
}

TEST(JsonTransformExample, ToleratesWhitespaceUnknownMembersAndEscapes) {
  const ProcessResult r = MilfRunWithStdin("json_transform", R"(
    {
      "id": {"nested": [true, false, null, -0.5e1]},
      "name": "caf\u00e9 \"7\"",
      "values": [ -1.5 , 2, 4.5e0 ]
    }
  )");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"name\":\"caf\xc3\xa9 \\\"7\\\"\",\"count\":3,\"sum\":5,\"min\":-1.5,"
            "\"max\":4.5,\"mean\":1.6666666666666667}\n");
}

TEST(JsonTransformExample, EmptyValuesHaveNullStatistics) {
  const ProcessResult r = MilfRunWithStdin("json_transform", R"({"values": []})");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"name\":null,\"count\":0,\"sum\":0,\"min\":null,\"max\":null,\"mean\":null}\n");
}

TEST(JsonTransformExample, RejectsMalformedJson) {
  const std::string_view kMalformed[] = {
      "",
      "{",
      R"({"name":"x",})",
      R"({"name":"x" "values":[]})",
      R"({"values":[1,2,]})",
      R"({"values":[01]})",
      R"({"name":"unterminated})",
      R"({"name":"\ud800"})",
      R"({"values":[1e999]})",
      R"({"values":[1]} trailing)",
      "{\"name\":\"raw\ncontrol\"}",
  };
  for (const std::string_view input : kMalformed) {
    const ProcessResult r = MilfRunWithStdin("json_transform", input);
    EXPECT_EQ(r.exit_code, 1) << "input: " << input;
    EXPECT_THAT(r.out, IsEmpty()) << "input: " << input;
    EXPECT_THAT(r.err, HasSubstr("json_transform: invalid JSON:")) << "input: " << input;
  }
}

TEST(JsonTransformExample, RejectsHostileNestingWithoutCrashing) {
  const std::string input = std::string(100000, '[') + std::string(100000, ']');
  const ProcessResult r = MilfRunWithStdin("json_transform", input);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nesting too deep at offset 65"));
}

TEST(JsonTransformExample, RejectsWrongMemberTypes) {
  const struct {
    std::string_view input;
    std::string_view message;
  } kCases[] = {
      {"[1, 2, 3]", "input must be a JSON object"},
      {R"({"name": 7})", "\"name\" must be a string"},
      {R"({"values": {"a": 1}})", "\"values\" must be an array of numbers"},
      {R"({"values": [1, "2"]})", "\"values\" must be an array of numbers"},
      {R"({"values": [1e308, 1e308]})", "out of range"},
  };
  for (const auto& c : kCases) {
    const ProcessResult r = MilfRunWithStdin("json_transform", c.input);
    EXPECT_EQ(r.exit_code, 1) << "input: " << c.input;
    EXPECT_THAT(r.out, IsEmpty()) << "input: " << c.input;
    EXPECT_THAT(r.err, HasSubstr(std::string(c.message))) << "input: " << c.input;
  }
}

TEST(ComputeExample, DefaultSizes) {
  const ProcessResult r = MilfRun("compute", {});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "queens(8) = 92\nprimes below 200000 = 17984\n");
}

TEST(ComputeExample, SizesFromArguments) {
  const ProcessResult r = MilfRun("compute", {"--arg", "6", "--arg", "100"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "queens(6) = 4\nprimes below 100 = 25\n");
}

TEST(ComputeExample, RejectsBadArguments) {
  for (const char* bad : {"0", "17", "eight", "8x", ""}) {
    const ProcessResult r = MilfRun("compute", {"--arg", bad});
    EXPECT_EQ(r.exit_code, 2) << "argument: " << bad;
    EXPECT_THAT(r.out, IsEmpty());
    EXPECT_THAT(r.err, HasSubstr("usage: compute")) << "argument: " << bad;
  }
}

TEST(WasmMainExample, UppercasesThroughTheBufferAbi) {
  const ProcessResult r =
      MilfRunWithStdin("wasm_main", "Hello, wasm_main! 123 \xff", {"--invoke", "wasm_main"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "HELLO, WASM_MAIN! 123 \xff");
}

TEST(WasmMainExample, EmptyInputGivesEmptyOutput) {
  const ProcessResult r = MilfRunWithStdin("wasm_main", "", {"--invoke", "wasm_main"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, IsEmpty());
}

}  // namespace
}  // namespace milf::testing
