// The supervisor-worker protocol's codec and messages: every message round
// trips, and every malformed payload (short, oversized, out of range,
// trailing bytes) is refused without trusting its lengths.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "base/sha256.h"
#include "sandbox/codec.h"
#include "sandbox/messages.h"

namespace milf::sandbox {
namespace {

const std::vector<std::uint8_t> kModule = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

wasm::RunRequest FullRequest() {
  wasm::RunRequest request;
  request.program_name = "prog.wasm";
  request.args = {"one", "", "three"};
  request.env = {"A=1", "B="};
  request.input = {1, 2, 3, 0, 255};
  request.mounts.push_back(wasm::Mount{"/in", "", {{"a.txt", {'a'}}, {"d/b.bin", {0, 1}}}, true});
  request.mounts.push_back(wasm::Mount{"/out", "", {}, false});
  request.limits.fuel = 12345;
  request.limits.timeout = std::chrono::milliseconds(1500);
  request.limits.memory_bytes = 3 << 20;
  request.limits.table_elements = 77;
  request.limits.call_depth = 99;
  request.limits.stdout_bytes = 10;
  request.limits.stderr_bytes = 20;
  request.limits.output_overflow = wasm::OverflowPolicy::kFail;
  request.limits.module_bytes = 30;
  request.limits.out_dir_bytes = 40;
  request.deterministic = true;
  request.seed = 0xfeedface;
  request.entry = "run";
  request.invoke_args = {"1", "-2"};
  return request;
}

wasm::RunRecord FullRecord() {
  wasm::RunRecord record;
  record.status = wasm::RunStatus::kExitNonzero;
  record.exit_code = -7;
  record.message = "boom";
  record.trap_function = "f";
  record.fuel_used = 5;
  record.wall_nanos = 6;
  record.cpu_nanos = 7;
  record.peak_memory_bytes = 65536;
  record.stdout_data = {'o', 'u', 't'};
  record.stderr_data = {'e'};
  record.stdout_truncated = true;
  record.results = {wasm::Value::I32(1), wasm::Value::F64(2.5)};
  record.results.push_back(wasm::Value{wasm::ValType::kV128, 0, {1, 2, 3}});
  record.out_files = {{"/out/r.txt", {'r'}}, {"/out/empty", {}}};
  record.module_sha256 = std::string(64, 'a');
  return record;
}

TEST(WireReaderTest, RefusesShortInputAndStaysPoisoned) {
  const std::vector<std::uint8_t> bytes = {1, 2, 3};
  WireReader in(bytes);
  EXPECT_FALSE(in.U32());
  EXPECT_FALSE(in.U8());  // poisoned: even a byte that exists is refused now
  EXPECT_FALSE(in.ok());
}

TEST(WireReaderTest, RefusesALengthPastTheEnd) {
  WireWriter out;
  out.U32(1'000'000);  // claims a megabyte that is not there
  out.U8('x');
  WireReader in(out.bytes());
  EXPECT_FALSE(in.Bytes());
}

TEST(WireReaderTest, RefusesCountsThatCannotFit) {
  WireWriter out;
  out.U32(0xffffffff);
  WireReader in(out.bytes());
  EXPECT_FALSE(in.Count(4));
}

TEST(WireReaderTest, BoolIsZeroOrOne) {
  const std::vector<std::uint8_t> bytes = {2};
  WireReader in(bytes);
  EXPECT_FALSE(in.Bool());
}

TEST(WireReaderTest, DoneNeedsEveryByteConsumed) {
  WireWriter out;
  out.U64(0x0102030405060708);
  out.U8(9);
  WireReader in(out.bytes());
  EXPECT_EQ(*in.U64(), 0x0102030405060708u);
  EXPECT_FALSE(in.Done());
  EXPECT_EQ(*in.U8(), 9);
  EXPECT_TRUE(in.Done());
}

TEST(MessagesTest, InitRoundTrips) {
  InitMessage init{0x7e020000, 1ull << 30, 60, 1u << 20, 8, false};
  auto decoded = DecodeInit(EncodeInit(init));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->namespaces, init.namespaces);
  EXPECT_EQ(decoded->memory_bytes, init.memory_bytes);
  EXPECT_EQ(decoded->cpu_seconds, init.cpu_seconds);
  EXPECT_EQ(decoded->max_job_bytes, init.max_job_bytes);
  EXPECT_EQ(decoded->module_slots, init.module_slots);
  EXPECT_FALSE(decoded->seccomp);
}

TEST(MessagesTest, HelloRoundTrips) {
  HelloMessage hello;
  hello.walls = {{"seccomp", WallState::kActive, "on"},
                 {"cgroup", WallState::kMissing, "no"},
                 {"user_namespace", WallState::kNotNeeded, "root"}};
  auto decoded = DecodeHello(EncodeHello(hello));
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->walls.size(), 3u);
  EXPECT_EQ(decoded->walls[1].name, "cgroup");
  EXPECT_EQ(decoded->walls[1].state, WallState::kMissing);
  EXPECT_EQ(decoded->walls[2].detail, "root");
}

TEST(MessagesTest, HelloRefusesAnUnknownState) {
  auto bytes = EncodeHello(HelloMessage{{{"x", WallState::kActive, ""}}});
  bytes[4 + 4 + 1] = 9;  // count, name length, "x", then the state
  EXPECT_FALSE(DecodeHello(bytes));
}

TEST(MessagesTest, JobRoundTripsWithModule) {
  const wasm::RunRequest request = FullRequest();
  const std::string sha = Sha256Hex(kModule);
  auto bytes = EncodeJob(42, sha, std::span<const std::uint8_t>(kModule), request);
  ASSERT_TRUE(bytes);
  auto job = DecodeJob(*bytes);
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(job->id, 42u);
  EXPECT_EQ(job->module_sha256, sha);
  ASSERT_TRUE(job->module);
  EXPECT_EQ(*job->module, kModule);
  const wasm::RunRequest& got = job->request;
  EXPECT_EQ(got.program_name, request.program_name);
  EXPECT_EQ(got.args, request.args);
  EXPECT_EQ(got.env, request.env);
  EXPECT_EQ(got.input, request.input);
  ASSERT_EQ(got.mounts.size(), 2u);
  EXPECT_EQ(got.mounts[0].guest_path, "/in");
  EXPECT_TRUE(got.mounts[0].read_only);
  EXPECT_EQ(got.mounts[0].files, request.mounts[0].files);
  EXPECT_FALSE(got.mounts[1].read_only);
  EXPECT_EQ(got.limits.fuel, 12345u);
  EXPECT_EQ(got.limits.timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(got.limits.memory_bytes, 3u << 20);
  EXPECT_EQ(got.limits.table_elements, 77u);
  EXPECT_EQ(got.limits.call_depth, 99u);
  EXPECT_EQ(got.limits.stdout_bytes, 10u);
  EXPECT_EQ(got.limits.stderr_bytes, 20u);
  EXPECT_EQ(got.limits.output_overflow, wasm::OverflowPolicy::kFail);
  EXPECT_EQ(got.limits.module_bytes, 30u);
  EXPECT_EQ(got.limits.out_dir_bytes, 40u);
  EXPECT_TRUE(got.deterministic);
  EXPECT_EQ(got.seed, 0xfeedfaceu);
  EXPECT_EQ(got.entry, "run");
  EXPECT_EQ(got.invoke_args, request.invoke_args);
}

TEST(MessagesTest, JobWithoutModuleCarriesOnlyTheHash) {
  auto bytes = EncodeJob(1, Sha256Hex(kModule), std::nullopt, wasm::RunRequest{});
  ASSERT_TRUE(bytes);
  auto job = DecodeJob(*bytes);
  ASSERT_TRUE(job);
  EXPECT_FALSE(job->module);
}

TEST(MessagesTest, JobCannotNameAHostPath) {
  wasm::RunRequest request;
  request.mounts.push_back(wasm::Mount{"/in", "/etc", {}, true});
  auto bytes = EncodeJob(1, Sha256Hex(kModule), std::nullopt, request);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, "invalid_argument");
}

TEST(MessagesTest, JobRefusesABadHash) {
  for (const std::string& sha :
       {std::string(63, 'a'), std::string(64, 'A'), std::string(64, 'g')}) {
    auto bytes = EncodeJob(1, sha, std::nullopt, wasm::RunRequest{});
    ASSERT_TRUE(bytes);
    EXPECT_FALSE(DecodeJob(*bytes)) << sha;
  }
}

TEST(MessagesTest, JobRefusesDuplicateFilesInAMount) {
  WireWriter out;
  out.U64(1);
  out.String(Sha256Hex(kModule));
  out.Bool(false);
  out.String("p");
  out.U32(0);  // args
  out.U32(0);  // env
  out.U32(0);  // input
  out.U32(1);  // one mount
  out.String("/in");
  out.Bool(true);
  out.U32(2);
  out.String("same");
  out.U32(0);
  out.String("same");
  out.U32(0);
  EXPECT_FALSE(DecodeJob(out.bytes()));
}

// Every strict prefix of a valid payload, and the payload plus one byte,
// must be refused.
template <class Decode>
void ExpectOnlyExactPayloadDecodes(const std::vector<std::uint8_t>& bytes, Decode decode) {
  ASSERT_TRUE(decode(bytes));
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode(std::span(bytes).first(size))) << "prefix of " << size << " bytes";
  }
  std::vector<std::uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(decode(longer));
}

TEST(MessagesTest, TruncatedOrPaddedJobsAreRefused) {
  auto bytes =
      EncodeJob(7, Sha256Hex(kModule), std::span<const std::uint8_t>(kModule), FullRequest());
  ASSERT_TRUE(bytes);
  ExpectOnlyExactPayloadDecodes(*bytes, [](auto payload) { return DecodeJob(payload).ok(); });
}

TEST(MessagesTest, ResultRoundTrips) {
  ResultMessage result{9, FullRecord(), 1 << 20, 123456, true};
  auto decoded = DecodeResult(EncodeResult(result));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->id, 9u);
  EXPECT_EQ(decoded->worker_peak_rss_bytes, 1u << 20);
  EXPECT_EQ(decoded->worker_cpu_nanos, 123456);
  EXPECT_TRUE(decoded->retiring);
  const wasm::RunRecord& got = decoded->record;
  const wasm::RunRecord want = FullRecord();
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.message, want.message);
  EXPECT_EQ(got.trap_function, want.trap_function);
  EXPECT_EQ(got.fuel_used, want.fuel_used);
  EXPECT_EQ(got.wall_nanos, want.wall_nanos);
  EXPECT_EQ(got.cpu_nanos, want.cpu_nanos);
  EXPECT_EQ(got.peak_memory_bytes, want.peak_memory_bytes);
  EXPECT_EQ(got.stdout_data, want.stdout_data);
  EXPECT_EQ(got.stderr_data, want.stderr_data);
  EXPECT_TRUE(got.stdout_truncated);
  EXPECT_FALSE(got.stderr_truncated);
  ASSERT_EQ(got.results.size(), 3u);
  EXPECT_EQ(got.results[1].type, wasm::ValType::kF64);
  EXPECT_EQ(got.results[1].bits, want.results[1].bits);
  EXPECT_EQ(got.results[2].v128, want.results[2].v128);
  ASSERT_EQ(got.out_files.size(), 2u);
  EXPECT_EQ(got.out_files[0].path, "/out/r.txt");
  EXPECT_EQ(got.out_files[0].bytes, want.out_files[0].bytes);
  EXPECT_EQ(got.module_sha256, want.module_sha256);
}

TEST(MessagesTest, TruncatedOrPaddedResultsAreRefused) {
  ExpectOnlyExactPayloadDecodes(EncodeResult(ResultMessage{1, FullRecord(), 0, 0, false}),
                                [](auto payload) { return DecodeResult(payload).ok(); });
}

TEST(MessagesTest, ResultRefusesAnUnknownStatus) {
  auto bytes = EncodeResult(ResultMessage{1, FullRecord(), 0, 0, false});
  bytes[8] = 200;  // the status byte follows the id
  EXPECT_FALSE(DecodeResult(bytes));
}

TEST(MessagesTest, ResultRefusesAnExitCodeOutsideInt32) {
  WireWriter out;
  out.U64(1);
  out.U8(0);
  out.I64(std::int64_t{1} << 40);
  EXPECT_FALSE(DecodeResult(out.bytes()));
}

TEST(MessagesTest, ModuleMissingRoundTrips) {
  auto id = DecodeModuleMissing(EncodeModuleMissing(77));
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 77u);
  EXPECT_FALSE(DecodeModuleMissing(std::vector<std::uint8_t>{1, 2, 3}));
}

}  // namespace
}  // namespace milf::sandbox
