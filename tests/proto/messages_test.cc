// The node protocol's wire format: every message survives a round trip
// field for field, and hostile input (bad JSON, wrong types, missing
// fields, unknown types, oversized values, bad base64, a module frame whose
// bytes do not match its hash) is refused with "malformed", never a crash.
#include "proto/messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <limits>
#include <string>
#include <vector>

#include "base/sha256.h"

namespace milf::proto {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kHashA(64, 'a');
const std::string kHashB = Sha256Hex(std::vector<std::uint8_t>{1, 2, 3});

template <class T>
T RoundTrip(const T& message) {
  const std::string text = Encode(message);
  auto decoded = Decode(text);
  EXPECT_TRUE(decoded) << decoded.error().message << "\n" << text;
  if (!decoded) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*decoded)) << text;
  if (!std::holds_alternative<T>(*decoded)) return T{};
  // Encoding is deterministic: the decoded message encodes to the same text.
  EXPECT_EQ(Encode(*decoded), text);
  return std::get<T>(std::move(*decoded));
}

Job MakeJob(std::string id, std::vector<std::uint8_t> input = {}) {
  Job job;
  job.invocation_id = std::move(id);
  job.module_sha256 = kHashA;
  job.input = std::move(input);
  return job;
}

Error DecodeError(std::string_view text) {
  auto decoded = Decode(text);
  EXPECT_FALSE(decoded) << text;
  if (decoded) return {};
  EXPECT_EQ(decoded.error().code, "malformed");
  return decoded.error();
}

TEST(ProtoRoundTrip, Hello) {
  Hello in;
  in.node_name = "pixel-7";
  in.target = "aarch64-linux";
  in.slots = 6;
  in.cached_modules = {kHashA, kHashB};
  in.running = {"inv-1", "inv-2"};
  const Hello out = RoundTrip(in);
  EXPECT_EQ(out.protocol_version, kProtocolVersion);
  EXPECT_EQ(out.node_name, "pixel-7");
  EXPECT_EQ(out.target, "aarch64-linux");
  EXPECT_EQ(out.slots, 6);
  EXPECT_THAT(out.cached_modules, ElementsAre(kHashA, kHashB));
  EXPECT_THAT(out.running, ElementsAre("inv-1", "inv-2"));
}

TEST(ProtoRoundTrip, Welcome) {
  Welcome in;
  in.node_id = "node-42";
  in.heartbeat_interval_ms = 750;
  in.lease_ms = 4'500;
  const Welcome out = RoundTrip(in);
  EXPECT_EQ(out.protocol_version, kProtocolVersion);
  EXPECT_EQ(out.node_id, "node-42");
  EXPECT_EQ(out.heartbeat_interval_ms, 750);
  EXPECT_EQ(out.lease_ms, 4'500);
}

TEST(ProtoRoundTrip, HeartbeatWithEverySensor) {
  Heartbeat in;
  Telemetry& t = in.telemetry;
  t.cpu_load = 0.375;
  t.mem_total_bytes = 8ull << 30;
  t.mem_free_bytes = 3ull << 30;
  t.battery_percent = 57.5;
  t.charging = false;
  t.temperature_c = 36.6;
  t.slots_total = 4;
  t.slots_in_use = 3;
  t.accepting = false;
  t.refusal_reason = "battery 57.5% below minimum 60%";
  const Telemetry out = RoundTrip(in).telemetry;
  EXPECT_DOUBLE_EQ(out.cpu_load, 0.375);
  EXPECT_EQ(out.mem_total_bytes, 8ull << 30);
  EXPECT_EQ(out.mem_free_bytes, 3ull << 30);
  EXPECT_EQ(out.battery_percent, 57.5);
  EXPECT_EQ(out.charging, false);
  EXPECT_EQ(out.temperature_c, 36.6);
  EXPECT_EQ(out.slots_total, 4);
  EXPECT_EQ(out.slots_in_use, 3);
  EXPECT_FALSE(out.accepting);
  EXPECT_EQ(out.refusal_reason, "battery 57.5% below minimum 60%");
}

TEST(ProtoRoundTrip, HeartbeatWithUnknownSensors) {
  Heartbeat in;
  in.telemetry.slots_total = 1;
  const std::string text = Encode(in);
  EXPECT_THAT(text, HasSubstr(R"("battery_percent":null)"));
  EXPECT_THAT(text, HasSubstr(R"("charging":null)"));
  const Telemetry out = RoundTrip(in).telemetry;
  EXPECT_FALSE(out.battery_percent.has_value());
  EXPECT_FALSE(out.charging.has_value());
  EXPECT_FALSE(out.temperature_c.has_value());
  EXPECT_TRUE(out.accepting);
}

TEST(ProtoRoundTrip, Job) {
  Job in;
  in.invocation_id = "inv-7";
  in.attempt = 2;
  in.module_sha256 = kHashB;
  in.module_size = 1234;
  in.entry = "wasm_main";
  in.env = {"A=1", "B=two words"};
  in.input = {0, 1, 2, 0xff, 0xfe};
  in.limits.memory_mb = 128;
  in.limits.timeout_ms = 2'500;
  in.limits.fuel = 1'000'000;
  in.limits.output_bytes = 4096;
  in.deterministic = true;
  in.seed = std::numeric_limits<std::uint64_t>::max();
  const Job out = RoundTrip(in);
  EXPECT_EQ(out.invocation_id, "inv-7");
  EXPECT_EQ(out.attempt, 2);
  EXPECT_EQ(out.module_sha256, kHashB);
  EXPECT_EQ(out.module_size, 1234u);
  EXPECT_EQ(out.entry, "wasm_main");
  EXPECT_THAT(out.env, ElementsAre("A=1", "B=two words"));
  EXPECT_EQ(out.input, in.input);
  EXPECT_EQ(out.limits.memory_mb, 128);
  EXPECT_EQ(out.limits.timeout_ms, 2'500);
  EXPECT_EQ(out.limits.fuel, 1'000'000u);
  EXPECT_EQ(out.limits.output_bytes, 4096u);
  EXPECT_TRUE(out.deterministic);
  EXPECT_EQ(out.seed, std::numeric_limits<std::uint64_t>::max());
}

TEST(ProtoRoundTrip, JobWithoutFuelOrInput) {
  Job in;
  in.invocation_id = "inv-8";
  in.module_sha256 = kHashA;
  const Job out = RoundTrip(in);
  EXPECT_FALSE(out.limits.fuel.has_value());
  EXPECT_TRUE(out.input.empty());
  EXPECT_FALSE(out.deterministic);
}

TEST(ProtoRoundTrip, ModuleRequestAndMissing) {
  EXPECT_EQ(RoundTrip(ModuleRequest{kHashA}).sha256, kHashA);
  EXPECT_EQ(RoundTrip(ModuleMissing{kHashB}).sha256, kHashB);
}

TEST(ProtoRoundTrip, JobStarted) { EXPECT_EQ(RoundTrip(JobStarted{"inv-9"}).invocation_id, "inv-9"); }

TEST(ProtoRoundTrip, JobResult) {
  JobResult in;
  in.invocation_id = "inv-10";
  in.status = "exit_nonzero";
  in.exit_code = -3;
  in.message = "proc_exit(-3)";
  in.fuel_used = 99;
  in.peak_memory_bytes = 65536;
  in.wall_micros = 1500;
  in.output = {'o', 'k', 0};
  in.stderr_data = {'e', 'r', 'r'};
  in.output_truncated = true;
  in.stderr_truncated = true;
  in.output_sha256 = Sha256Hex(in.output);
  const JobResult out = RoundTrip(in);
  EXPECT_EQ(out.invocation_id, "inv-10");
  EXPECT_EQ(out.status, "exit_nonzero");
  EXPECT_EQ(out.exit_code, -3);
  EXPECT_EQ(out.message, "proc_exit(-3)");
  EXPECT_EQ(out.fuel_used, 99u);
  EXPECT_EQ(out.peak_memory_bytes, 65536u);
  EXPECT_EQ(out.wall_micros, 1500);
  EXPECT_EQ(out.output, in.output);
  EXPECT_EQ(out.stderr_data, in.stderr_data);
  EXPECT_TRUE(out.output_truncated);
  EXPECT_TRUE(out.stderr_truncated);
  EXPECT_EQ(out.output_sha256, in.output_sha256);
}

TEST(ProtoRoundTrip, DrainAndError) {
  EXPECT_EQ(RoundTrip(Drain{"server shutting down"}).reason, "server shutting down");
  EXPECT_EQ(RoundTrip(ProtocolError{"unexpected hello"}).message, "unexpected hello");
}

TEST(ProtoRoundTrip, EveryTypeHasItsOwnName) {
  const std::vector<std::pair<Message, std::string>> cases = {
      {Hello{}, "hello"},
      {Welcome{}, "welcome"},
      {Heartbeat{}, "heartbeat"},
      {Job{}, "job"},
      {ModuleRequest{}, "module_request"},
      {ModuleMissing{}, "module_missing"},
      {JobStarted{}, "job_started"},
      {JobResult{}, "job_result"},
      {Drain{}, "drain"},
      {ProtocolError{}, "error"}};
  ASSERT_EQ(cases.size(), std::variant_size_v<Message>);
  for (const auto& [message, name] : cases) {
    EXPECT_THAT(Encode(message), HasSubstr(R"("type":")" + name + R"(")"));
  }
}

TEST(ProtoDecode, IgnoresUnknownFields) {
  auto decoded = Decode(R"({"type":"drain","reason":"r","later_field":[1,2]})");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Drain>(*decoded).reason, "r");
}

TEST(ProtoDecode, RefusesBadJson) {
  EXPECT_THAT(DecodeError("").message, HasSubstr("invalid JSON"));
  EXPECT_THAT(DecodeError("{").message, HasSubstr("invalid JSON"));
  EXPECT_THAT(DecodeError(R"({"type":"drain","reason":"r"} trailing)").message,
              HasSubstr("invalid JSON"));
  EXPECT_THAT(DecodeError("\"a string\"").message, HasSubstr("object"));
  EXPECT_THAT(DecodeError("[1,2]").message, HasSubstr("object"));
  // Invalid UTF-8 inside a string.
  EXPECT_THAT(DecodeError("{\"type\":\"drain\",\"reason\":\"\xff\xfe\"}").message,
              HasSubstr("invalid JSON"));
}

TEST(ProtoDecode, RefusesDeepNesting) {
  std::string deep = R"({"type":"drain","reason":"r","x":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  DecodeError(deep);
}

TEST(ProtoDecode, RefusesUnknownOrMissingType) {
  EXPECT_THAT(DecodeError(R"({"type":"launch_missiles"})").message,
              HasSubstr("unknown message type 'launch_missiles'"));
  EXPECT_THAT(DecodeError(R"({"reason":"r"})").message, HasSubstr("type"));
  EXPECT_THAT(DecodeError(R"({"type":7})").message, HasSubstr("type"));
}

TEST(ProtoDecode, RefusesMissingFields) {
  EXPECT_EQ(DecodeError(R"({"type":"drain"})").message, "drain.reason: missing");
  EXPECT_EQ(DecodeError(R"({"type":"job_started"})").message, "job_started.invocation_id: missing");
  // A job whose limits lack the timeout.
  std::string job = Encode(MakeJob("i"));
  const std::string timeout = R"("timeout_ms":5000,)";
  ASSERT_NE(job.find(timeout), std::string::npos);
  job.erase(job.find(timeout), timeout.size());
  EXPECT_EQ(DecodeError(job).message, "job.limits.timeout_ms: missing");
  // A heartbeat without its telemetry.
  EXPECT_EQ(DecodeError(R"({"type":"heartbeat"})").message, "heartbeat.telemetry: missing");
}

TEST(ProtoDecode, RefusesWrongTypes) {
  EXPECT_THAT(DecodeError(R"({"type":"drain","reason":5})").message,
              HasSubstr("drain.reason: expected a string"));
  EXPECT_THAT(DecodeError(R"({"type":"welcome","protocol_version":"1","node_id":"n",
                              "heartbeat_interval_ms":1,"lease_ms":1})")
                  .message,
              HasSubstr("welcome.protocol_version: expected an integer"));
  EXPECT_THAT(DecodeError(R"({"type":"welcome","protocol_version":1.5,"node_id":"n",
                              "heartbeat_interval_ms":1,"lease_ms":1})")
                  .message,
              HasSubstr("expected an integer"));
  EXPECT_THAT(DecodeError(R"({"type":"hello","protocol_version":1,"node_name":"n","target":"t",
                              "slots":1,"cached_modules":"abc","running":[]})")
                  .message,
              HasSubstr("hello.cached_modules: expected an array"));
  EXPECT_THAT(DecodeError(R"({"type":"hello","protocol_version":1,"node_name":"n","target":"t",
                              "slots":1,"cached_modules":["not-a-hash"],"running":[]})")
                  .message,
              HasSubstr("SHA-256"));
  EXPECT_THAT(DecodeError(R"({"type":"module_request","sha256":"ABCDEF"})").message,
              HasSubstr("module_request.sha256"));
}

TEST(ProtoDecode, RefusesOutOfRangeNumbers) {
  Welcome welcome;
  welcome.node_id = "n";
  welcome.heartbeat_interval_ms = 0;
  EXPECT_THAT(DecodeError(Encode(welcome)).message,
              HasSubstr("welcome.heartbeat_interval_ms: out of range"));

  Heartbeat heartbeat;
  heartbeat.telemetry.battery_percent = 140;
  EXPECT_THAT(DecodeError(Encode(heartbeat)).message,
              HasSubstr("heartbeat.telemetry.battery_percent: out of range"));

  Job job = MakeJob("i");
  job.limits.memory_mb = -1;
  EXPECT_THAT(DecodeError(Encode(job)).message, HasSubstr("job.limits.memory_mb: out of range"));

  Hello hello;
  hello.slots = 0;
  EXPECT_THAT(DecodeError(Encode(hello)).message, HasSubstr("hello.slots: out of range"));

  EXPECT_THAT(DecodeError(R"({"type":"job_result","invocation_id":"i","status":"ok",
      "exit_code":1,"message":"","fuel_used":-5,"peak_memory_bytes":0,"wall_micros":0,
      "output":"","stderr":"","output_truncated":false,"stderr_truncated":false,
      "output_sha256":")" + kHashA + R"("})")
                  .message,
              HasSubstr("job_result.fuel_used: expected a non-negative integer"));
}

TEST(ProtoDecode, RefusesOversizedMessagesAndFields) {
  const std::string huge(kMaxMessageBytes + 1, ' ');
  EXPECT_THAT(DecodeError(huge).message, HasSubstr("over the limit"));

  Job job = MakeJob(std::string(129, 'i'));
  EXPECT_THAT(DecodeError(Encode(job)).message,
              HasSubstr("job.invocation_id: longer than 128 bytes"));

  Hello hello;
  hello.running.assign(4097, "inv");
  EXPECT_THAT(DecodeError(Encode(hello)).message, HasSubstr("hello.running: more than 4096"));

  Drain drain{std::string(64 * 1024 + 1, 'r')};
  EXPECT_THAT(DecodeError(Encode(drain)).message, HasSubstr("drain.reason: longer than"));
}

TEST(ProtoDecode, RefusesEmptyIdentifiers) {
  EXPECT_THAT(DecodeError(Encode(JobStarted{""})).message,
              HasSubstr("job_started.invocation_id: must not be empty"));
}

TEST(ProtoDecode, RefusesBadBase64) {
  std::string job = Encode(MakeJob("i", {1, 2, 3}));
  const std::string input = R"("input":"AQID")";
  ASSERT_NE(job.find(input), std::string::npos) << job;
  for (const char* bad : {R"("input":"AQI*")", R"("input":"AQIDx")", R"("input":7)"}) {
    std::string corrupted = job;
    corrupted.replace(corrupted.find(input), input.size(), bad);
    EXPECT_THAT(DecodeError(corrupted).message, HasSubstr("job.input")) << bad;
  }
}

TEST(ProtoModuleFrame, RoundTrips) {
  const std::vector<std::uint8_t> module = {0, 'a', 's', 'm', 1, 0, 0, 0};
  const std::string hash = Sha256Hex(module);
  const std::vector<std::uint8_t> frame = EncodeModuleFrame(hash, module);
  ASSERT_EQ(frame.size(), 64 + module.size());
  EXPECT_EQ(std::string(frame.begin(), frame.begin() + 64), hash);
  auto decoded = DecodeModuleFrame(frame);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->sha256, hash);
  EXPECT_EQ(decoded->bytes, module);
}

TEST(ProtoModuleFrame, EmptyModuleRoundTrips) {
  const std::string hash = Sha256Hex(std::vector<std::uint8_t>{});
  auto decoded = DecodeModuleFrame(EncodeModuleFrame(hash, {}));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_TRUE(decoded->bytes.empty());
}

TEST(ProtoModuleFrame, RefusesHashMismatch) {
  const std::vector<std::uint8_t> module = {1, 2, 3};
  std::vector<std::uint8_t> frame = EncodeModuleFrame(Sha256Hex(module), module);
  frame.back() ^= 1;
  auto decoded = DecodeModuleFrame(frame);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, "malformed");
  EXPECT_THAT(decoded.error().message, HasSubstr("do not match"));
}

TEST(ProtoModuleFrame, RefusesShortOrNonHexHeader) {
  const std::vector<std::uint8_t> short_frame(63, 'a');
  EXPECT_THAT(DecodeModuleFrame(short_frame).error().message, HasSubstr("shorter"));
  const std::vector<std::uint8_t> module = {1, 2, 3};
  std::string upper = Sha256Hex(module);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_THAT(DecodeModuleFrame(EncodeModuleFrame(upper, module)).error().message,
              HasSubstr("hex digest"));
}

TEST(ProtoModuleFrame, RefusesOversizedModule) {
  const std::vector<std::uint8_t> frame(64 + kMaxModuleBytes + 1, 'a');
  auto decoded = DecodeModuleFrame(frame);
  ASSERT_FALSE(decoded);
  EXPECT_THAT(decoded.error().message, HasSubstr("over the limit"));
}

}  // namespace
}  // namespace milf::proto
