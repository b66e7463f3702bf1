// Hostile input: Instrument must refuse malformed or invalid modules with
// kInvalidModule and a one-line message, never crash or hang, and whatever
// it accepts must come out valid.
#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "wasm/instrument.h"
#include "wasm/instrument_decode.h"
#include "wat.h"

namespace milf::wasm {
namespace {

using ::testing::HasSubstr;
using testing::ReadWasm;
using testing::WatToWasm;

const std::vector<std::uint8_t> kHeader = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

void ExpectInvalid(std::span<const std::uint8_t> wasm, std::string_view what) {
  const auto result = Instrument(wasm, {});
  ASSERT_FALSE(result) << what;
  EXPECT_EQ(result.error().status, RunStatus::kInvalidModule) << what;
  EXPECT_FALSE(result.error().message.empty()) << what;
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos) << what;
}

// Either refused with a status Instrument documents, or accepted with an
// output that validates.
void ExpectRefusedOrValid(std::span<const std::uint8_t> wasm, std::string_view what) {
  const auto result = Instrument(wasm, {});
  if (result) {
    EXPECT_NE(ReadWasm(result->wasm), nullptr) << what;
    return;
  }
  EXPECT_THAT(
      result.error().status,
      ::testing::AnyOf(RunStatus::kInvalidModule, RunStatus::kMemoryLimit, RunStatus::kTableLimit))
      << what;
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos) << what;
}

std::uint32_t ReadLeb(std::span<const std::uint8_t> bytes, std::size_t& pos) {
  std::uint32_t value = 0;
  for (int shift = 0; pos < bytes.size(); shift += 7) {
    const std::uint8_t byte = bytes[pos++];
    value |= static_cast<std::uint32_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
  }
  return value;
}

// Offsets where a section ends: the only places where a truncated module
// can still be whole.
std::set<std::size_t> SectionEnds(std::span<const std::uint8_t> wasm) {
  std::set<std::size_t> ends = {kHeader.size()};
  std::size_t pos = kHeader.size();
  while (pos < wasm.size()) {
    ++pos;  // section id
    const std::uint32_t size = ReadLeb(wasm, pos);
    pos += size;
    ends.insert(pos);
  }
  return ends;
}

// Where the payload of the first section with `id` starts (0 if none).
std::size_t SectionPayload(std::span<const std::uint8_t> wasm, std::uint8_t id) {
  std::size_t pos = kHeader.size();
  while (pos < wasm.size()) {
    const std::uint8_t this_id = wasm[pos++];
    const std::uint32_t size = ReadLeb(wasm, pos);
    if (this_id == id) return pos;
    pos += size;
  }
  return 0;
}

std::vector<std::uint8_t> Sample() { return testing::ReadFileBytes(MILF_INSTRUMENT_SAMPLE_WASM); }

// One function of type () -> () whose body nests `depth` empty blocks.
std::vector<std::uint8_t> NestedBlocks(std::size_t depth) {
  auto leb = [](std::vector<std::uint8_t>& out, std::size_t value) {
    do {
      std::uint8_t byte = value & 0x7f;
      value >>= 7;
      out.push_back(value ? byte | 0x80 : byte);
    } while (value);
  };
  std::vector<std::uint8_t> body = {0x00};  // no locals
  for (std::size_t i = 0; i < depth; ++i) body.insert(body.end(), {0x02, 0x40});
  body.insert(body.end(), depth + 1, 0x0b);
  std::vector<std::uint8_t> code;
  leb(code, 1);
  leb(code, body.size());
  code.insert(code.end(), body.begin(), body.end());
  std::vector<std::uint8_t> wasm = kHeader;
  wasm.insert(wasm.end(), {0x01, 0x04, 0x01, 0x60, 0x00, 0x00});  // type () -> ()
  wasm.insert(wasm.end(), {0x03, 0x02, 0x01, 0x00});              // func 0: type 0
  wasm.push_back(0x0a);
  leb(wasm, code.size());
  wasm.insert(wasm.end(), code.begin(), code.end());
  return wasm;
}

TEST(InstrumentInvalid, EmptyInput) { ExpectInvalid({}, "empty"); }

TEST(InstrumentInvalid, HeaderOnlyIsAValidEmptyModule) {
  const auto result = Instrument(kHeader, {});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_NE(ReadWasm(result->wasm), nullptr);
  EXPECT_THAT(result->function_names,
              ::testing::ElementsAre("milf.fuel_refill", "milf.call_depth_exceeded"));
}

TEST(InstrumentInvalid, RandomBytes) {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 400);
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::uint8_t> blob(length(rng));
    for (auto& b : blob) b = static_cast<std::uint8_t>(byte(rng));
    ExpectInvalid(blob, "random blob " + std::to_string(i));
  }
}

TEST(InstrumentInvalid, RandomBytesAfterAValidHeader) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(1, 400);
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::uint8_t> blob = kHeader;
    const std::size_t n = length(rng);
    for (std::size_t j = 0; j < n; ++j) blob.push_back(static_cast<std::uint8_t>(byte(rng)));
    ExpectRefusedOrValid(blob, "header + random " + std::to_string(i));
  }
}

TEST(InstrumentInvalid, EveryTruncationOfARealModule) {
  const auto wasm = Sample();
  ASSERT_GT(wasm.size(), 1000u);
  const std::set<std::size_t> ends = SectionEnds(wasm);
  std::size_t accepted = 0;
  for (std::size_t size = 0; size < wasm.size(); ++size) {
    const std::span<const std::uint8_t> prefix(wasm.data(), size);
    const auto result = Instrument(prefix, {});
    if (result) {
      ++accepted;
      EXPECT_TRUE(ends.contains(size)) << "accepted a truncation inside a section at " << size;
      EXPECT_NE(ReadWasm(result->wasm), nullptr) << size;
    } else {
      EXPECT_EQ(result.error().status, RunStatus::kInvalidModule) << size;
      EXPECT_EQ(result.error().message.find('\n'), std::string::npos) << size;
    }
  }
  EXPECT_LE(accepted, ends.size());
}

TEST(InstrumentInvalid, MutationsOfARealModule) {
  const auto wasm = Sample();
  ASSERT_FALSE(wasm.empty());
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> position(0, wasm.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> flips(1, 4);
  for (int i = 0; i < 1500; ++i) {
    std::vector<std::uint8_t> mutant = wasm;
    for (int n = flips(rng); n > 0; --n)
      mutant[position(rng)] = static_cast<std::uint8_t>(byte(rng));
    ExpectRefusedOrValid(mutant, "mutant " + std::to_string(i));
  }
}

// Found by mutation: with this global initializer (i32.const turned into
// i64.eq, so the LEB bytes after it decode as more instructions), wabt
// 1.0.32's IR builder hits an assertion unless the pre-scan refuses first.
TEST(InstrumentInvalid, NonConstantInitializerIsRefusedBeforeTheIrIsBuilt) {
  std::vector<std::uint8_t> wasm = Sample();
  const std::size_t globals = SectionPayload(wasm, 6);
  ASSERT_NE(globals, 0u);
  // count, value type, mutability, then the initializer's first opcode.
  ASSERT_EQ(wasm[globals + 3], 0x41);
  wasm[globals + 3] = 0x51;
  const auto result = Instrument(wasm, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, RunStatus::kInvalidModule);
  EXPECT_THAT(result.error().message, HasSubstr("i64.eq is not allowed in a constant expression"));
}

// Found by mutation: wabt 1.0.32 reads a table of typed references (0x6b,
// function-references proposal) even with the proposal off, validates it,
// and then cannot write it back.
TEST(InstrumentInvalid, TypedReferenceTableIsRefused) {
  std::vector<std::uint8_t> wasm = kHeader;
  wasm.insert(wasm.end(), {0x04, 0x04, 0x01, 0x6b, 0x00, 0x02});  // table (ref ?) 2
  const auto result = Instrument(wasm, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, RunStatus::kInvalidModule);
  EXPECT_THAT(result.error().message, HasSubstr("unsupported type"));

  wasm[kHeader.size() + 3] = 0x6f;  // externref: fine
  EXPECT_TRUE(Instrument(wasm, {}));
}

// Found by mutation: a name section naming a local the function does not
// have is kept by wabt 1.0.32's reader and trips an assertion in its writer.
// Names are advisory, so the module is accepted without the stray name.
TEST(InstrumentInvalid, StrayLocalNameIsDropped) {
  std::vector<std::uint8_t> wasm = WatToWasm("(module (func $f (param $a i32) (local $b i32)))");
  const std::vector<std::uint8_t> local_b = {0x01, 0x01, 'b'};  // index 1, "b"
  const auto at = std::search(wasm.begin(), wasm.end(), local_b.begin(), local_b.end());
  ASSERT_NE(at, wasm.end());
  *at = 5;
  const auto result = Instrument(wasm, {});
  ASSERT_TRUE(result) << result.error().message;
  auto module = ReadWasm(result->wasm);
  ASSERT_NE(module, nullptr);
  const wabt::Func& f = *module->funcs.back();
  EXPECT_EQ(f.bindings.FindIndex(std::string("$a")), 0u);
  EXPECT_EQ(f.bindings.count("$b"), 0u);
}

TEST(InstrumentInvalid, ValidationErrorCarriesWabtMessage) {
  const auto wasm = WatToWasm("(module (func (result i32) i32.const 0))");
  ASSERT_FALSE(wasm.empty());
  // Patch the body's i32.const (0x41) into i64.const (0x42): decodes, but the
  // result type no longer matches.
  std::vector<std::uint8_t> bad = wasm;
  const auto op = std::find(bad.rbegin(), bad.rend(), 0x41);
  ASSERT_NE(op, bad.rend());
  *op = 0x42;
  const auto result = Instrument(bad, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, RunStatus::kInvalidModule);
  EXPECT_THAT(result.error().message, HasSubstr("type mismatch"));
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos);
}

TEST(InstrumentInvalid, ManyValidationErrorsStayOneShortLine) {
  // Eight functions whose bodies leave the wrong type.
  std::string wat = "(module";
  for (int i = 0; i < 8; ++i) wat += " (func (result i32) i32.const 0)";
  wat += ")";
  std::vector<std::uint8_t> bad = WatToWasm(wat);
  ASSERT_FALSE(bad.empty());
  for (auto& byte : bad) {
    if (byte == 0x41) byte = 0x42;  // i32.const -> i64.const
  }
  const auto result = Instrument(bad, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, RunStatus::kInvalidModule);
  EXPECT_THAT(result.error().message, ::testing::EndsWith("and 3 more"));
}

TEST(InstrumentInvalid, TailCallsAreNotAccepted) {
  const auto wasm = WatToWasm(R"((module
    (func $f (result i32) i32.const 1)
    (func (result i32) return_call $f)))",
                              /*tail_calls=*/true);
  ASSERT_FALSE(wasm.empty());
  ExpectInvalid(wasm, "return_call");
}

TEST(InstrumentInvalid, ThreadsAreNotAccepted) {
  std::vector<std::uint8_t> wasm = kHeader;
  wasm.insert(wasm.end(), {0x05, 0x04, 0x01, 0x03, 0x01, 0x01});  // shared memory 1..1
  ExpectInvalid(wasm, "shared memory");
}

TEST(InstrumentInvalid, ReservedHostModuleImport) {
  const auto result = Instrument(
      WatToWasm(R"((module (import "milf" "fuel_refill" (func (param i64) (result i64)))))"), {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, RunStatus::kInvalidModule);
  EXPECT_THAT(result.error().message, HasSubstr("reserved"));
}

TEST(InstrumentInvalid, ReservedExportName) {
  const auto result =
      Instrument(WatToWasm(R"((module (global (export "__milf_fuel") i64 (i64.const 5))))"), {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, RunStatus::kInvalidModule);
  EXPECT_THAT(result.error().message, HasSubstr("__milf_fuel"));
}

TEST(InstrumentInvalid, InstrumentingTwiceIsRefused) {
  const auto once = Instrument(WatToWasm("(module (func (export \"f\")))"), {});
  ASSERT_TRUE(once);
  ExpectInvalid(once->wasm, "instrumented output");
}

TEST(InstrumentInvalid, NestingUpToTheLimitIsAccepted) {
  const auto result = Instrument(NestedBlocks(kMaxBlockNesting), {});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_NE(ReadWasm(result->wasm), nullptr);
}

TEST(InstrumentInvalid, NestingBeyondTheLimitIsRefused) {
  for (std::size_t depth : {std::size_t{kMaxBlockNesting} + 1, std::size_t{1'000'000}}) {
    const auto result = Instrument(NestedBlocks(depth), {});
    ASSERT_FALSE(result) << depth;
    EXPECT_EQ(result.error().status, RunStatus::kInvalidModule);
    EXPECT_THAT(result.error().message, HasSubstr("deeper than"));
  }
}

}  // namespace
}  // namespace milf::wasm
