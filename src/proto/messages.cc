#include "proto/messages.h"

#include <boost/json.hpp>

#include <cmath>
#include <limits>
#include <utility>

#include "base/encoding.h"
#include "base/sha256.h"

namespace milf::proto {
namespace {

namespace json = boost::json;

// Bounds on single fields, well inside kMaxMessageBytes, so that a hostile
// peer cannot make the other side keep megabytes of names or thousands of
// list entries.
constexpr std::size_t kMaxIdBytes = 128;
constexpr std::size_t kMaxNameBytes = 256;
constexpr std::size_t kMaxTextBytes = 64 * 1024;
constexpr std::size_t kMaxEnvEntries = 1024;
constexpr std::size_t kMaxEnvEntryBytes = 32 * 1024;
constexpr std::size_t kMaxCachedModules = 65'536;
constexpr std::size_t kMaxRunning = 4'096;
constexpr int kMaxSlots = 1'024;
constexpr std::int64_t kMaxIntervalMs = 24LL * 3600 * 1000;
constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kHashChars = 64;

bool IsSha256Hex(std::string_view text) {
  if (text.size() != kHashChars) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// ---- Encoding --------------------------------------------------------------

json::value Optional(const std::optional<double>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  out.reserve(items.size());
  for (const std::string& item : items) out.emplace_back(item);
  return out;
}

json::string Bytes(const std::vector<std::uint8_t>& bytes) {
  return json::string(Base64Encode(bytes));
}

json::object ToJson(const Telemetry& t) {
  return {{"cpu_load", t.cpu_load},
          {"mem_total_bytes", t.mem_total_bytes},
          {"mem_free_bytes", t.mem_free_bytes},
          {"battery_percent", Optional(t.battery_percent)},
          {"charging", t.charging ? json::value(*t.charging) : json::value(nullptr)},
          {"temperature_c", Optional(t.temperature_c)},
          {"slots_total", t.slots_total},
          {"slots_in_use", t.slots_in_use},
          {"accepting", t.accepting},
          {"refusal_reason", t.refusal_reason}};
}

json::object ToJson(const Hello& m) {
  return {{"type", "hello"},
          {"protocol_version", m.protocol_version},
          {"node_name", m.node_name},
          {"target", m.target},
          {"slots", m.slots},
          {"cached_modules", Strings(m.cached_modules)},
          {"running", Strings(m.running)},
          {"aot_target", m.aot_target}};
}

json::object ToJson(const Welcome& m) {
  return {{"type", "welcome"},
          {"protocol_version", m.protocol_version},
          {"node_id", m.node_id},
          {"heartbeat_interval_ms", m.heartbeat_interval_ms},
          {"lease_ms", m.lease_ms},
          {"aot_public_key", m.aot_public_key}};
}

json::object ToJson(const Heartbeat& m) {
  return {{"type", "heartbeat"},
          {"telemetry", ToJson(m.telemetry)},
          {"artifacts_refused", m.artifacts_refused}};
}

json::object ToJson(const Job& m) {
  const JobLimits& l = m.limits;
  json::object limits{{"memory_mb", l.memory_mb},
                      {"timeout_ms", l.timeout_ms},
                      {"fuel", l.fuel ? json::value(*l.fuel) : json::value(nullptr)},
                      {"output_bytes", l.output_bytes}};
  return {{"type", "job"},
          {"invocation_id", m.invocation_id},
          {"attempt", m.attempt},
          {"module_sha256", m.module_sha256},
          {"module_size", m.module_size},
          {"entry", m.entry},
          {"env", Strings(m.env)},
          {"input", Bytes(m.input)},
          {"limits", std::move(limits)},
          {"deterministic", m.deterministic},
          {"seed", m.seed},
          {"tier", m.tier}};
}

json::object ToJson(const ModuleRequest& m) {
  return {{"type", "module_request"}, {"sha256", m.sha256}};
}

json::object ToJson(const ModuleMissing& m) {
  return {{"type", "module_missing"}, {"sha256", m.sha256}};
}

json::object ToJson(const JobStarted& m) {
  return {{"type", "job_started"}, {"invocation_id", m.invocation_id}};
}

json::object ToJson(const JobResult& m) {
  return {{"type", "job_result"},
          {"invocation_id", m.invocation_id},
          {"status", m.status},
          {"exit_code", m.exit_code},
          {"message", m.message},
          {"fuel_used", m.fuel_used},
          {"peak_memory_bytes", m.peak_memory_bytes},
          {"wall_micros", m.wall_micros},
          {"output", Bytes(m.output)},
          {"stderr", Bytes(m.stderr_data)},
          {"output_truncated", m.output_truncated},
          {"stderr_truncated", m.stderr_truncated},
          {"output_sha256", m.output_sha256},
          {"tier", m.tier}};
}

json::object ToJson(const Drain& m) { return {{"type", "drain"}, {"reason", m.reason}}; }

json::object ToJson(const ProtocolError& m) {
  return {{"type", "error"}, {"message", m.message}};
}

// ---- Decoding --------------------------------------------------------------

// Reads the fields of one JSON object. The first problem is recorded (with
// the field's path) and every later read returns a default, so a decoder
// reads all its fields and checks ok() once at the end.
class Reader {
 public:
  Reader(const json::object& object, std::string where, std::string& error)
      : object_(object), where_(std::move(where)), error_(error) {}

  bool ok() const { return error_.empty(); }

  std::string String(std::string_view key, std::size_t max_bytes, bool allow_empty = true) {
    const json::value* value = Find(key);
    if (value == nullptr) return {};
    if (!value->is_string()) return Reject(key, "expected a string"), std::string();
    const json::string& text = value->get_string();
    if (text.size() > max_bytes) {
      return Reject(key, "longer than " + std::to_string(max_bytes) + " bytes"), std::string();
    }
    if (!allow_empty && text.empty()) return Reject(key, "must not be empty"), std::string();
    return std::string(text);
  }

  std::string Hash(std::string_view key) {
    std::string text = String(key, kHashChars);
    if (ok() && !IsSha256Hex(text)) Reject(key, "expected 64 lowercase hex digits");
    return text;
  }

  std::string Id(std::string_view key) { return String(key, kMaxIdBytes, false); }

  // An optional string: `fallback` when absent or null.
  std::string OptionalString(std::string_view key, std::size_t max_bytes, std::string fallback) {
    const json::value* value = FindOptional(key);
    if (value == nullptr) return fallback;
    if (!value->is_string()) return Reject(key, "expected a string"), std::string();
    if (value->get_string().size() > max_bytes) {
      return Reject(key, "longer than " + std::to_string(max_bytes) + " bytes"), std::string();
    }
    return std::string(value->get_string());
  }

  std::int64_t Int(std::string_view key, std::int64_t min, std::int64_t max) {
    const json::value* value = Find(key);
    if (value == nullptr) return min;
    std::int64_t number = 0;
    if (value->is_int64()) {
      number = value->get_int64();
    } else if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(kMaxInt)) {
      number = static_cast<std::int64_t>(value->get_uint64());
    } else {
      return Reject(key, "expected an integer"), min;
    }
    if (number < min || number > max) {
      return Reject(key, "out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]"),
             min;
    }
    return number;
  }

  int SmallInt(std::string_view key, int min, int max) {
    return static_cast<int>(Int(key, min, max));
  }

  std::uint64_t Unsigned(std::string_view key) {
    const json::value* value = Find(key);
    return value == nullptr ? 0 : ToUnsigned(key, *value);
  }

  std::optional<std::uint64_t> OptionalUnsigned(std::string_view key) {
    const json::value* value = FindOptional(key);
    if (value == nullptr) return std::nullopt;
    return ToUnsigned(key, *value);
  }

  double Number(std::string_view key, double min, double max) {
    const json::value* value = Find(key);
    return value == nullptr ? min : ToNumber(key, *value, min, max);
  }

  std::optional<double> OptionalNumber(std::string_view key, double min, double max) {
    const json::value* value = FindOptional(key);
    if (value == nullptr) return std::nullopt;
    return ToNumber(key, *value, min, max);
  }

  bool Bool(std::string_view key) {
    const json::value* value = Find(key);
    if (value == nullptr) return false;
    if (!value->is_bool()) return Reject(key, "expected true or false"), false;
    return value->get_bool();
  }

  std::optional<bool> OptionalBool(std::string_view key) {
    const json::value* value = FindOptional(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_bool()) return Reject(key, "expected true, false or null"), std::nullopt;
    return value->get_bool();
  }

  std::vector<std::string> Strings(std::string_view key, std::size_t max_items,
                                   std::size_t max_bytes, bool hashes = false) {
    const json::value* value = Find(key);
    if (value == nullptr) return {};
    if (!value->is_array()) return Reject(key, "expected an array"), std::vector<std::string>();
    const json::array& items = value->get_array();
    if (items.size() > max_items) {
      return Reject(key, "more than " + std::to_string(max_items) + " entries"),
             std::vector<std::string>();
    }
    std::vector<std::string> out;
    out.reserve(items.size());
    for (const json::value& item : items) {
      if (!item.is_string() || item.get_string().size() > max_bytes ||
          (hashes && !IsSha256Hex(item.get_string()))) {
        return Reject(key, hashes ? "expected an array of SHA-256 hex digests"
                                  : "expected an array of short strings"),
               std::vector<std::string>();
      }
      out.emplace_back(item.get_string());
    }
    return out;
  }

  std::vector<std::uint8_t> Bytes(std::string_view key) {
    const json::value* value = Find(key);
    if (value == nullptr) return {};
    if (!value->is_string()) return Reject(key, "expected a base64 string"), Empty();
    auto bytes = Base64Decode(value->get_string());
    if (!bytes) return Reject(key, "invalid base64"), Empty();
    return std::move(*bytes);
  }

  const json::object* Object(std::string_view key) {
    const json::value* value = Find(key);
    if (value == nullptr) return nullptr;
    if (!value->is_object()) return Reject(key, "expected an object"), nullptr;
    return &value->get_object();
  }

  std::string Path(std::string_view key) const { return where_ + "." + std::string(key); }

 private:
  static std::vector<std::uint8_t> Empty() { return {}; }

  void Reject(std::string_view key, const std::string& what) {
    if (ok()) error_ = Path(key) + ": " + what;
  }

  const json::value* Find(std::string_view key) {
    if (!ok()) return nullptr;
    const json::value* value = object_.if_contains(key);
    if (value == nullptr) Reject(key, "missing");
    return value;
  }

  // Optional fields may be absent or null.
  const json::value* FindOptional(std::string_view key) {
    if (!ok()) return nullptr;
    const json::value* value = object_.if_contains(key);
    return value == nullptr || value->is_null() ? nullptr : value;
  }

  std::uint64_t ToUnsigned(std::string_view key, const json::value& value) {
    if (value.is_uint64()) return value.get_uint64();
    if (value.is_int64() && value.get_int64() >= 0) {
      return static_cast<std::uint64_t>(value.get_int64());
    }
    return Reject(key, "expected a non-negative integer"), 0;
  }

  double ToNumber(std::string_view key, const json::value& value, double min, double max) {
    double number = 0;
    if (value.is_double()) {
      number = value.get_double();
    } else if (value.is_int64()) {
      number = static_cast<double>(value.get_int64());
    } else if (value.is_uint64()) {
      number = static_cast<double>(value.get_uint64());
    } else {
      return Reject(key, "expected a number"), min;
    }
    if (!std::isfinite(number) || number < min || number > max) {
      return Reject(key, "out of range"), min;
    }
    return number;
  }

  const json::object& object_;
  std::string where_;
  std::string& error_;
};

Telemetry ReadTelemetry(Reader& r, std::string& error) {
  Telemetry t;
  const json::object* object = r.Object("telemetry");
  if (object == nullptr) return t;
  Reader f(*object, r.Path("telemetry"), error);
  t.cpu_load = f.Number("cpu_load", 0, 1);
  t.mem_total_bytes = f.Unsigned("mem_total_bytes");
  t.mem_free_bytes = f.Unsigned("mem_free_bytes");
  t.battery_percent = f.OptionalNumber("battery_percent", 0, 100);
  t.charging = f.OptionalBool("charging");
  t.temperature_c = f.OptionalNumber("temperature_c", -100, 200);
  t.slots_total = f.SmallInt("slots_total", 0, kMaxSlots);
  t.slots_in_use = f.SmallInt("slots_in_use", 0, kMaxSlots);
  t.accepting = f.Bool("accepting");
  t.refusal_reason = f.String("refusal_reason", kMaxTextBytes);
  return t;
}

Hello ReadHello(Reader& r) {
  Hello m;
  m.protocol_version = r.SmallInt("protocol_version", 1, 1'000'000);
  m.node_name = r.String("node_name", kMaxNameBytes);
  m.target = r.String("target", kMaxNameBytes);
  m.slots = r.SmallInt("slots", 1, kMaxSlots);
  m.cached_modules = r.Strings("cached_modules", kMaxCachedModules, kHashChars, true);
  m.running = r.Strings("running", kMaxRunning, kMaxIdBytes);
  m.aot_target = r.OptionalString("aot_target", kMaxNameBytes, "");
  return m;
}

Welcome ReadWelcome(Reader& r) {
  Welcome m;
  m.protocol_version = r.SmallInt("protocol_version", 1, 1'000'000);
  m.node_id = r.Id("node_id");
  m.heartbeat_interval_ms = r.Int("heartbeat_interval_ms", 1, kMaxIntervalMs);
  m.lease_ms = r.Int("lease_ms", 1, kMaxIntervalMs);
  m.aot_public_key = r.OptionalString("aot_public_key", kHashChars, "");
  return m;
}

JobLimits ReadLimits(Reader& r, std::string& error) {
  JobLimits l;
  const json::object* object = r.Object("limits");
  if (object == nullptr) return l;
  Reader f(*object, r.Path("limits"), error);
  l.memory_mb = f.Int("memory_mb", 1, 1 << 20);
  l.timeout_ms = f.Int("timeout_ms", 1, kMaxIntervalMs);
  l.fuel = f.OptionalUnsigned("fuel");
  l.output_bytes = f.Unsigned("output_bytes");
  return l;
}

Job ReadJob(Reader& r, std::string& error) {
  Job m;
  m.invocation_id = r.Id("invocation_id");
  m.attempt = r.SmallInt("attempt", 1, 1'000'000);
  m.module_sha256 = r.Hash("module_sha256");
  m.module_size = r.Unsigned("module_size");
  m.entry = r.String("entry", kMaxNameBytes);
  m.env = r.Strings("env", kMaxEnvEntries, kMaxEnvEntryBytes);
  m.input = r.Bytes("input");
  m.limits = ReadLimits(r, error);
  m.deterministic = r.Bool("deterministic");
  m.seed = r.Unsigned("seed");
  m.tier = r.OptionalString("tier", kMaxNameBytes, "auto");
  return m;
}

JobResult ReadJobResult(Reader& r) {
  JobResult m;
  m.invocation_id = r.Id("invocation_id");
  m.status = r.String("status", kMaxNameBytes, false);
  m.exit_code = static_cast<int>(
      r.Int("exit_code", std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
  m.message = r.String("message", kMaxTextBytes);
  m.fuel_used = r.Unsigned("fuel_used");
  m.peak_memory_bytes = r.Unsigned("peak_memory_bytes");
  m.wall_micros = r.Int("wall_micros", 0, kMaxInt);
  m.output = r.Bytes("output");
  m.stderr_data = r.Bytes("stderr");
  m.output_truncated = r.Bool("output_truncated");
  m.stderr_truncated = r.Bool("stderr_truncated");
  m.output_sha256 = r.Hash("output_sha256");
  m.tier = r.OptionalString("tier", kMaxNameBytes, "");
  return m;
}

Result<Message> ReadMessage(const json::object& object) {
  const json::value* type_value = object.if_contains("type");
  if (type_value == nullptr || !type_value->is_string()) {
    return Fail("malformed", "type: missing or not a string");
  }
  const std::string type(std::string_view(type_value->get_string()).substr(0, kMaxNameBytes));
  std::string error;
  Reader body(object, type, error);
  Message message;
  if (type == "hello") {
    message = ReadHello(body);
  } else if (type == "welcome") {
    message = ReadWelcome(body);
  } else if (type == "heartbeat") {
    Heartbeat heartbeat{ReadTelemetry(body, error)};
    heartbeat.artifacts_refused = body.OptionalUnsigned("artifacts_refused").value_or(0);
    message = heartbeat;
  } else if (type == "job") {
    message = ReadJob(body, error);
  } else if (type == "module_request") {
    message = ModuleRequest{body.Hash("sha256")};
  } else if (type == "module_missing") {
    message = ModuleMissing{body.Hash("sha256")};
  } else if (type == "job_started") {
    message = JobStarted{body.Id("invocation_id")};
  } else if (type == "job_result") {
    message = ReadJobResult(body);
  } else if (type == "drain") {
    message = Drain{body.String("reason", kMaxTextBytes)};
  } else if (type == "error") {
    message = ProtocolError{body.String("message", kMaxTextBytes)};
  } else {
    return Fail("malformed", "unknown message type '" + type + "'");
  }
  if (!error.empty()) return Fail("malformed", error);
  return message;
}

}  // namespace

std::string Encode(const Message& message) {
  return json::serialize(std::visit([](const auto& m) { return ToJson(m); }, message));
}

Result<Message> Decode(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    return Fail("malformed", "message of " + std::to_string(text.size()) +
                                 " bytes is over the limit of " +
                                 std::to_string(kMaxMessageBytes));
  }
  json::parse_options options;
  options.max_depth = 8;
  std::error_code parse_error;
  const json::value value = json::parse(text, parse_error, json::storage_ptr(), options);
  if (parse_error) return Fail("malformed", "invalid JSON: " + parse_error.message());
  if (!value.is_object()) return Fail("malformed", "expected a JSON object");
  return ReadMessage(value.get_object());
}

std::vector<std::uint8_t> EncodeModuleFrame(const std::string& sha256,
                                            std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> frame;
  frame.reserve(sha256.size() + bytes.size());
  frame.insert(frame.end(), sha256.begin(), sha256.end());
  frame.insert(frame.end(), bytes.begin(), bytes.end());
  return frame;
}

Result<ModuleFrame> DecodeModuleFrame(std::span<const std::uint8_t> frame) {
  if (frame.size() < kHashChars) {
    return Fail("malformed", "module frame of " + std::to_string(frame.size()) +
                                 " bytes is shorter than its hash");
  }
  if (frame.size() - kHashChars > kMaxModuleBytes) {
    return Fail("malformed", "module of " + std::to_string(frame.size() - kHashChars) +
                                 " bytes is over the limit of " + std::to_string(kMaxModuleBytes));
  }
  ModuleFrame out;
  out.sha256.assign(frame.begin(), frame.begin() + kHashChars);
  if (!IsSha256Hex(out.sha256)) {
    return Fail("malformed", "module frame does not start with a SHA-256 hex digest");
  }
  const auto bytes = frame.subspan(kHashChars);
  if (Sha256Hex(bytes) != out.sha256) {
    return Fail("malformed", "module frame bytes do not match their hash " + out.sha256);
  }
  out.bytes.assign(bytes.begin(), bytes.end());
  return out;
}

}  // namespace milf::proto
