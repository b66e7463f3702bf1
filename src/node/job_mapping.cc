#include "node/job_mapping.h"

#include <algorithm>
#include <chrono>

#include "base/sha256.h"
#include "wasm/status.h"

namespace milf::node {
namespace {

// The decoder on the server refuses longer messages (proto's kMaxTextBytes).
constexpr std::size_t kMaxMessageChars = 60 * 1024;

}  // namespace

wasm::RunRequest ToRunRequest(const proto::Job& job, std::span<const std::uint8_t> module) {
  wasm::RunRequest request;
  request.module = module;
  request.env = job.env;
  request.input = job.input;
  request.entry = job.entry;
  request.deterministic = job.deterministic;
  request.seed = job.seed;
  wasm::Limits& limits = request.limits;
  limits.memory_bytes = static_cast<std::uint64_t>(job.limits.memory_mb) << 20;
  limits.timeout = std::chrono::milliseconds(job.limits.timeout_ms);
  limits.fuel = job.limits.fuel.value_or(wasm::kUnlimitedFuel);
  limits.stdout_bytes = std::min(job.limits.output_bytes, kMaxStdoutBytes);
  limits.stderr_bytes = std::min(job.limits.output_bytes, kMaxStderrBytes);
  return request;
}

proto::JobResult ToJobResult(const std::string& invocation_id, const wasm::RunRecord& record) {
  proto::JobResult result;
  result.invocation_id = invocation_id;
  result.status = std::string(wasm::StatusName(record.status));
  result.exit_code = record.exit_code;
  std::string message = record.message;
  if (!record.trap_function.empty()) message += " (in function " + record.trap_function + ")";
  result.message = message.substr(0, kMaxMessageChars);
  result.fuel_used = record.fuel_used;
  result.peak_memory_bytes = record.peak_memory_bytes;
  result.wall_micros = record.wall_nanos / 1000;
  result.output = record.stdout_data;
  result.stderr_data = record.stderr_data;
  result.output_truncated = record.stdout_truncated;
  result.stderr_truncated = record.stderr_truncated;
  result.output_sha256 = Sha256Hex(record.stdout_data);
  return result;
}

proto::JobResult NotRunResult(const std::string& invocation_id, const std::string& status,
                              const std::string& reason) {
  proto::JobResult result;
  result.invocation_id = invocation_id;
  result.status = status;
  result.message = reason.substr(0, kMaxMessageChars);
  result.output_sha256 = Sha256Hex(std::span<const std::uint8_t>());
  return result;
}

}  // namespace milf::node
