#include "sandbox/messages.h"

#include <utility>

#include "sandbox/codec.h"

namespace milf::sandbox {
namespace {

// Smallest wire size of one item, for WireReader::Count.
constexpr std::size_t kMinString = 4;
constexpr std::size_t kMinFile = 8;    // path + bytes
constexpr std::size_t kMinMount = 9;   // guest path + read_only + file count
constexpr std::size_t kMinValue = 25;  // type + bits + v128
constexpr std::size_t kMinWall = 9;    // name + state + detail

Unexpected<Error> Malformed(const char* what) {
  return Fail("protocol", std::string("malformed ") + what + " message");
}

bool IsSha256Hex(const std::string& text) {
  if (text.size() != 64) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void PutStrings(WireWriter& out, const std::vector<std::string>& strings) {
  out.U32(static_cast<std::uint32_t>(strings.size()));
  for (const std::string& text : strings) out.String(text);
}

std::optional<std::vector<std::string>> GetStrings(WireReader& in) {
  const auto count = in.Count(kMinString);
  if (!count) return std::nullopt;
  std::vector<std::string> strings;
  strings.reserve(*count);
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto text = in.String();
    if (!text) return std::nullopt;
    strings.push_back(std::move(*text));
  }
  return strings;
}

void PutLimits(WireWriter& out, const wasm::Limits& limits) {
  out.U64(limits.fuel);
  out.I64(limits.timeout.count());
  out.U64(limits.memory_bytes);
  out.U32(limits.table_elements);
  out.U32(limits.call_depth);
  out.U64(limits.stdout_bytes);
  out.U64(limits.stderr_bytes);
  out.U8(static_cast<std::uint8_t>(limits.output_overflow));
  out.U64(limits.module_bytes);
  out.U64(limits.out_dir_bytes);
}

bool GetLimits(WireReader& in, wasm::Limits& limits) {
  const auto fuel = in.U64();
  const auto timeout = in.I64();
  const auto memory = in.U64();
  const auto table = in.U32();
  const auto depth = in.U32();
  const auto stdout_bytes = in.U64();
  const auto stderr_bytes = in.U64();
  const auto overflow = in.U8();
  const auto module_bytes = in.U64();
  const auto out_dir_bytes = in.U64();
  if (!in.ok() || *timeout < 0 ||
      *overflow > static_cast<std::uint8_t>(wasm::OverflowPolicy::kFail)) {
    return false;
  }
  limits.fuel = *fuel;
  limits.timeout = std::chrono::nanoseconds(*timeout);
  limits.memory_bytes = *memory;
  limits.table_elements = *table;
  limits.call_depth = *depth;
  limits.stdout_bytes = *stdout_bytes;
  limits.stderr_bytes = *stderr_bytes;
  limits.output_overflow = static_cast<wasm::OverflowPolicy>(*overflow);
  limits.module_bytes = *module_bytes;
  limits.out_dir_bytes = *out_dir_bytes;
  return true;
}

std::optional<wasm::Mount> GetMount(WireReader& in) {
  wasm::Mount mount;
  auto guest = in.String();
  const auto read_only = in.Bool();
  const auto files = in.Count(kMinFile);
  if (!files) return std::nullopt;
  mount.guest_path = std::move(*guest);
  mount.read_only = *read_only;
  for (std::uint32_t i = 0; i < *files; ++i) {
    auto path = in.String();
    auto bytes = in.Bytes();
    if (!bytes) return std::nullopt;
    if (!mount.files.emplace(std::move(*path), std::move(*bytes)).second) return std::nullopt;
  }
  return mount;
}

void PutValue(WireWriter& out, const wasm::Value& value) {
  out.U8(static_cast<std::uint8_t>(value.type));
  out.U64(value.bits);
  out.Raw(value.v128);
}

std::optional<wasm::Value> GetValue(WireReader& in) {
  wasm::Value value;
  const auto type = in.U8();
  const auto bits = in.U64();
  if (!in.Raw(value.v128) || *type > static_cast<std::uint8_t>(wasm::ValType::kExternRef)) {
    return std::nullopt;
  }
  value.type = static_cast<wasm::ValType>(*type);
  value.bits = *bits;
  return value;
}

void PutRecord(WireWriter& out, const wasm::RunRecord& record) {
  out.U8(static_cast<std::uint8_t>(record.status));
  out.I64(record.exit_code);
  out.String(record.message);
  out.String(record.trap_function);
  out.U64(record.fuel_used);
  out.I64(record.wall_nanos);
  out.I64(record.cpu_nanos);
  out.U64(record.peak_memory_bytes);
  out.Bytes(record.stdout_data);
  out.Bytes(record.stderr_data);
  out.Bool(record.stdout_truncated);
  out.Bool(record.stderr_truncated);
  out.U32(static_cast<std::uint32_t>(record.results.size()));
  for (const wasm::Value& value : record.results) PutValue(out, value);
  out.U32(static_cast<std::uint32_t>(record.out_files.size()));
  for (const wasm::OutputFile& file : record.out_files) {
    out.String(file.path);
    out.Bytes(file.bytes);
  }
  out.String(record.module_sha256);
}

bool GetRecord(WireReader& in, wasm::RunRecord& record) {
  const auto status = in.U8();
  const auto exit_code = in.I64();
  auto message = in.String();
  auto trap_function = in.String();
  const auto fuel = in.U64();
  const auto wall = in.I64();
  const auto cpu = in.I64();
  const auto peak = in.U64();
  auto out = in.Bytes();
  auto err = in.Bytes();
  const auto out_truncated = in.Bool();
  const auto err_truncated = in.Bool();
  const auto value_count = in.Count(kMinValue);
  if (!value_count || *status > static_cast<std::uint8_t>(wasm::RunStatus::kSandboxViolation) ||
      *exit_code < INT32_MIN || *exit_code > INT32_MAX) {
    return false;
  }
  record.status = static_cast<wasm::RunStatus>(*status);
  record.exit_code = static_cast<int>(*exit_code);
  record.message = std::move(*message);
  record.trap_function = std::move(*trap_function);
  record.fuel_used = *fuel;
  record.wall_nanos = *wall;
  record.cpu_nanos = *cpu;
  record.peak_memory_bytes = *peak;
  record.stdout_data = std::move(*out);
  record.stderr_data = std::move(*err);
  record.stdout_truncated = *out_truncated;
  record.stderr_truncated = *err_truncated;
  for (std::uint32_t i = 0; i < *value_count; ++i) {
    auto value = GetValue(in);
    if (!value) return false;
    record.results.push_back(*value);
  }
  const auto file_count = in.Count(kMinFile);
  if (!file_count) return false;
  for (std::uint32_t i = 0; i < *file_count; ++i) {
    auto path = in.String();
    auto bytes = in.Bytes();
    if (!bytes) return false;
    record.out_files.push_back(wasm::OutputFile{std::move(*path), std::move(*bytes)});
  }
  auto sha = in.String();
  if (!sha) return false;
  record.module_sha256 = std::move(*sha);
  return true;
}

}  // namespace

std::vector<std::uint8_t> EncodeInit(const InitMessage& message) {
  WireWriter out;
  out.U32(message.namespaces);
  out.U64(message.memory_bytes);
  out.U64(message.cpu_seconds);
  out.U32(message.max_job_bytes);
  out.U32(message.module_slots);
  out.Bool(message.seccomp);
  out.Bool(message.aot);
  return std::move(out).Take();
}

Result<InitMessage> DecodeInit(std::span<const std::uint8_t> payload) {
  WireReader in(payload);
  InitMessage message;
  const auto namespaces = in.U32();
  const auto memory = in.U64();
  const auto cpu = in.U64();
  const auto max_job = in.U32();
  const auto slots = in.U32();
  const auto seccomp = in.Bool();
  const auto aot = in.Bool();
  if (!in.Done()) return Malformed("init");
  message.aot = *aot;
  message.namespaces = *namespaces;
  message.memory_bytes = *memory;
  message.cpu_seconds = *cpu;
  message.max_job_bytes = *max_job;
  message.module_slots = *slots;
  message.seccomp = *seccomp;
  return message;
}

std::vector<std::uint8_t> EncodeHello(const HelloMessage& message) {
  WireWriter out;
  out.U32(static_cast<std::uint32_t>(message.walls.size()));
  for (const Wall& wall : message.walls) {
    out.String(wall.name);
    out.U8(static_cast<std::uint8_t>(wall.state));
    out.String(wall.detail);
  }
  return std::move(out).Take();
}

Result<HelloMessage> DecodeHello(std::span<const std::uint8_t> payload) {
  WireReader in(payload);
  HelloMessage message;
  const auto count = in.Count(kMinWall);
  if (!count) return Malformed("hello");
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto name = in.String();
    const auto state = in.U8();
    auto detail = in.String();
    if (!detail || *state > static_cast<std::uint8_t>(WallState::kNotNeeded)) {
      return Malformed("hello");
    }
    message.walls.push_back(
        Wall{std::move(*name), static_cast<WallState>(*state), std::move(*detail)});
  }
  if (!in.Done()) return Malformed("hello");
  return message;
}

Result<std::vector<std::uint8_t>> EncodeJob(std::uint64_t id, const std::string& module_sha256,
                                            std::optional<std::span<const std::uint8_t>> module,
                                            const wasm::RunRequest& request,
                                            const JobTier& tier) {
  WireWriter out;
  out.U64(id);
  out.String(module_sha256);
  out.Bool(module.has_value());
  if (module) out.Bytes(*module);
  out.String(request.program_name);
  PutStrings(out, request.args);
  PutStrings(out, request.env);
  out.Bytes(request.input);
  out.U32(static_cast<std::uint32_t>(request.mounts.size()));
  for (const wasm::Mount& mount : request.mounts) {
    if (!mount.host_path.empty()) {
      return Fail("invalid_argument", "mount " + mount.guest_path + " names a host path");
    }
    out.String(mount.guest_path);
    out.Bool(mount.read_only);
    out.U32(static_cast<std::uint32_t>(mount.files.size()));
    for (const auto& [path, bytes] : mount.files) {
      out.String(path);
      out.Bytes(bytes);
    }
  }
  PutLimits(out, request.limits);
  out.Bool(request.deterministic);
  out.U64(request.seed);
  out.String(request.entry);
  PutStrings(out, request.invoke_args);
  out.Bool(tier.aot);
  out.String(tier.artifact_sha256);
  out.Bool(tier.artifact.has_value());
  if (tier.artifact) out.Bytes(*tier.artifact);
  return std::move(out).Take();
}

Result<JobMessage> DecodeJob(std::span<const std::uint8_t> payload) {
  WireReader in(payload);
  JobMessage job;
  const auto id = in.U64();
  auto sha = in.String();
  const auto has_module = in.Bool();
  if (!has_module || !IsSha256Hex(*sha)) return Malformed("job");
  job.id = *id;
  job.module_sha256 = std::move(*sha);
  if (*has_module) {
    job.module = in.Bytes();
    if (!job.module) return Malformed("job");
  }
  wasm::RunRequest& request = job.request;
  auto program = in.String();
  auto args = GetStrings(in);
  auto env = GetStrings(in);
  auto input = in.Bytes();
  const auto mounts = in.Count(kMinMount);
  if (!mounts) return Malformed("job");
  request.program_name = std::move(*program);
  request.args = std::move(*args);
  request.env = std::move(*env);
  request.input = std::move(*input);
  for (std::uint32_t i = 0; i < *mounts; ++i) {
    auto mount = GetMount(in);
    if (!mount) return Malformed("job");
    request.mounts.push_back(std::move(*mount));
  }
  if (!GetLimits(in, request.limits)) return Malformed("job");
  const auto deterministic = in.Bool();
  const auto seed = in.U64();
  auto entry = in.String();
  auto invoke_args = GetStrings(in);
  const auto aot = in.Bool();
  auto artifact_sha256 = in.String();
  const auto has_artifact = in.Bool();
  if (!has_artifact) return Malformed("job");
  if (*has_artifact) job.artifact = in.Bytes();
  if (!invoke_args || !in.Done() || (*has_artifact && !job.artifact)) return Malformed("job");
  if (*aot && !IsSha256Hex(*artifact_sha256)) return Malformed("job");
  if (!*aot && (!artifact_sha256->empty() || *has_artifact)) return Malformed("job");
  job.aot = *aot;
  job.artifact_sha256 = std::move(*artifact_sha256);
  request.deterministic = *deterministic;
  request.seed = *seed;
  request.entry = std::move(*entry);
  request.invoke_args = std::move(*invoke_args);
  return job;
}

std::vector<std::uint8_t> EncodeResult(const ResultMessage& message) {
  WireWriter out;
  out.U64(message.id);
  PutRecord(out, message.record);
  out.U64(message.worker_peak_rss_bytes);
  out.I64(message.worker_cpu_nanos);
  out.Bool(message.retiring);
  out.Bool(message.ran_aot);
  return std::move(out).Take();
}

Result<ResultMessage> DecodeResult(std::span<const std::uint8_t> payload) {
  WireReader in(payload);
  ResultMessage message;
  const auto id = in.U64();
  if (!id || !GetRecord(in, message.record)) return Malformed("result");
  const auto rss = in.U64();
  const auto cpu = in.I64();
  const auto retiring = in.Bool();
  const auto ran_aot = in.Bool();
  if (!in.Done()) return Malformed("result");
  message.ran_aot = *ran_aot;
  message.id = *id;
  message.worker_peak_rss_bytes = *rss;
  message.worker_cpu_nanos = *cpu;
  message.retiring = *retiring;
  return message;
}

std::vector<std::uint8_t> EncodeModuleMissing(std::uint64_t id) {
  WireWriter out;
  out.U64(id);
  return std::move(out).Take();
}

Result<std::uint64_t> DecodeModuleMissing(std::span<const std::uint8_t> payload) {
  WireReader in(payload);
  const auto id = in.U64();
  if (!in.Done()) return Malformed("module_missing");
  return *id;
}

}  // namespace milf::sandbox
