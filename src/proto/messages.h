// The node protocol: every message exchanged between the server and a node
// over the node's WebSocket (/api/v1/nodes/connect). Defined once, here,
// and shared by both sides. docs/protocol.md describes the conversation.
//
// Encoding: each control message is one WebSocket text frame holding a JSON
// object with "type" and the fields below. Module bytes travel in binary
// frames (ModuleFrame). Byte fields inside JSON (inputs, outputs) are
// base64. Every message carries no version of its own: the version is
// agreed once, in Hello/Welcome, and a server refuses a node whose
// kProtocolVersion it does not speak.
//
// Decode* never throws: malformed JSON, a missing or mistyped field, an
// unknown type or an oversized field give an Error with code "malformed".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace milf::proto {

inline constexpr int kProtocolVersion = 1;

// Telemetry a node reports in every heartbeat. Unknown sensor values are
// nullopt ("unknown" on the wire as null).
struct Telemetry {
  double cpu_load = 0;                 // 0..1 over the last interval, all cores
  std::uint64_t mem_total_bytes = 0;
  std::uint64_t mem_free_bytes = 0;    // MemAvailable
  std::optional<double> battery_percent;
  std::optional<bool> charging;
  std::optional<double> temperature_c;
  int slots_total = 0;
  int slots_in_use = 0;
  bool accepting = true;               // the admission policy's verdict
  std::string refusal_reason;          // why not, when not accepting
};

// node -> server, first message after the upgrade.
struct Hello {
  int protocol_version = kProtocolVersion;
  std::string node_name;
  std::string target;                  // "x86_64-linux", "aarch64-linux"
  int slots = 1;
  std::vector<std::string> cached_modules;  // SHA-256 hex of modules held
  std::vector<std::string> running;          // invocation ids still running here
  // Optional: the AOT artifact target this node loads ("x86_64-linux-gnu",
  // "aarch64-linux-gnu"); "" = it runs the interpreter only.
  std::string aot_target;
};

// server -> node, the answer to Hello.
struct Welcome {
  int protocol_version = kProtocolVersion;
  std::string node_id;
  std::int64_t heartbeat_interval_ms = 2'000;
  std::int64_t lease_ms = 10'000;  // a lease lasts this long past each heartbeat
  // Optional: the server's Ed25519 artifact signing key (64 hex digits), ""
  // when it signs none. A node that pinned another key refuses it.
  std::string aot_public_key;
};

struct Heartbeat {
  Telemetry telemetry;
  // Optional: AOT artifacts this node refused (bad signature, hash or
  // container) since it started; the server logs every increase.
  std::uint64_t artifacts_refused = 0;
};

struct JobLimits {
  std::int64_t memory_mb = 64;
  std::int64_t timeout_ms = 5'000;
  std::optional<std::uint64_t> fuel;
  std::uint64_t output_bytes = 1 << 20;
};

// server -> node: run this invocation.
struct Job {
  std::string invocation_id;
  int attempt = 1;
  std::string module_sha256;
  std::uint64_t module_size = 0;
  std::string entry;                  // "" = automatic
  std::vector<std::string> env;
  std::vector<std::uint8_t> input;
  JobLimits limits;
  bool deterministic = false;
  std::uint64_t seed = 0;
  // Optional: the function's tier setting, "auto" (default), "interp" or
  // "aot".
  std::string tier = "auto";
};

// node -> server: send me the module with this hash (answered by a
// ModuleFrame, or by a ModuleMissing).
struct ModuleRequest {
  std::string sha256;
};

struct ModuleMissing {
  std::string sha256;
};

// node -> server: the job is running on this node.
struct JobStarted {
  std::string invocation_id;
};

// node -> server: how the job ended.
struct JobResult {
  std::string invocation_id;
  std::string status;                 // wasm::RunStatus name, or "crashed", ...
  int exit_code = 0;
  std::string message;
  std::uint64_t fuel_used = 0;
  std::uint64_t peak_memory_bytes = 0;
  std::int64_t wall_micros = 0;
  std::vector<std::uint8_t> output;  // stdout
  std::vector<std::uint8_t> stderr_data;
  bool output_truncated = false;
  bool stderr_truncated = false;
  std::string output_sha256;
  // Optional: the tier the job ran on, "interp" or "aot"; "" when it did
  // not run.
  std::string tier;
};

// JobResult::status of a job the node did not take (its admission policy
// refused, it is draining or stopping, or no slot was free); the message
// says why. The server queues the invocation again without counting an
// attempt.
inline constexpr const char* kRejectedStatus = "rejected";

// server -> node: stop taking work, finish what is running, then close.
struct Drain {
  std::string reason;
};

// Either side: a protocol violation; the sender closes the connection next.
struct ProtocolError {
  std::string message;
};

using Message = std::variant<Hello, Welcome, Heartbeat, Job, ModuleRequest, ModuleMissing,
                             JobStarted, JobResult, Drain, ProtocolError>;

std::string Encode(const Message& message);
Result<Message> Decode(std::string_view json);

// Binary frame carrying a module: the 64 ASCII hex digits of its SHA-256,
// then the bytes. DecodeModuleFrame checks the hash against the bytes.
std::vector<std::uint8_t> EncodeModuleFrame(const std::string& sha256,
                                            std::span<const std::uint8_t> bytes);
struct ModuleFrame {
  std::string sha256;
  std::vector<std::uint8_t> bytes;
};
Result<ModuleFrame> DecodeModuleFrame(std::span<const std::uint8_t> frame);

// Largest control message either side accepts (inputs and outputs ride in
// it, base64): 16 MiB.
inline constexpr std::size_t kMaxMessageBytes = 16u << 20;

// Largest module a ModuleFrame carries (the API's upload limit): 64 MiB.
inline constexpr std::size_t kMaxModuleBytes = 64u << 20;

}  // namespace milf::proto
