// The messages of the supervisor-worker protocol (framing in channel.h,
// version kProtocolVersion). Each has an encoder and a strict decoder: a
// decoder fails with code "protocol" on a short, oversized, out-of-range or
// trailing-byte payload and never trusts a length it has not checked.
//
// A job carries everything the worker needs in memory: there is no field
// for a host path, so a worker cannot be asked to open one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/walls.h"
#include "wasm/runner.h"

namespace milf::sandbox {

// Supervisor -> worker, once, before lockdown.
struct InitMessage {
  std::uint32_t namespaces = 0;     // CLONE_NEW* flags the worker was created with
  std::uint64_t memory_bytes = 0;   // RLIMIT_AS
  std::uint64_t cpu_seconds = 0;    // RLIMIT_CPU
  std::uint32_t max_job_bytes = 0;  // bound on a job frame's payload
  std::uint32_t module_slots = 0;   // modules the worker keeps by hash
  bool seccomp = true;
  // The worker may load AOT artifacts: a private tmpfs to dlopen them from,
  // and the few more calls that takes (docs/sandbox.md).
  bool aot = false;
};

// A job's AOT tier: the artifact container (compiler/aot/artifact.h), which
// the node verified, travels once per worker and then by its SHA-256, like
// modules.
struct JobTier {
  bool aot = false;
  std::string artifact_sha256;  // of the container bytes
  std::optional<std::span<const std::uint8_t>> artifact;  // sent when given
};

// Worker -> supervisor, once, after lockdown.
struct HelloMessage {
  Walls walls;
};

struct JobMessage {
  std::uint64_t id = 0;
  std::string module_sha256;  // lowercase hex
  // The module bytes; absent when the worker is expected to hold them.
  std::optional<std::vector<std::uint8_t>> module;
  // Everything but `module`; every mount is in memory (host_path empty).
  wasm::RunRequest request;
  bool aot = false;             // run on the AOT tier
  std::string artifact_sha256;  // the artifact's container, when aot
  std::optional<std::vector<std::uint8_t>> artifact;
};

struct ResultMessage {
  std::uint64_t id = 0;
  wasm::RunRecord record;
  std::uint64_t worker_peak_rss_bytes = 0;  // the worker's high-water mark
  std::int64_t worker_cpu_nanos = 0;        // all the worker's CPU time so far
  bool retiring = false;                    // the worker exits after this result
  bool ran_aot = false;                     // the job ran on the AOT tier
};

std::vector<std::uint8_t> EncodeInit(const InitMessage& message);
Result<InitMessage> DecodeInit(std::span<const std::uint8_t> payload);

std::vector<std::uint8_t> EncodeHello(const HelloMessage& message);
Result<HelloMessage> DecodeHello(std::span<const std::uint8_t> payload);

// `module` is sent when given. Fails with "invalid_argument" when a mount
// names a host path.
Result<std::vector<std::uint8_t>> EncodeJob(std::uint64_t id, const std::string& module_sha256,
                                            std::optional<std::span<const std::uint8_t>> module,
                                            const wasm::RunRequest& request,
                                            const JobTier& tier = {});
Result<JobMessage> DecodeJob(std::span<const std::uint8_t> payload);

std::vector<std::uint8_t> EncodeResult(const ResultMessage& message);
Result<ResultMessage> DecodeResult(std::span<const std::uint8_t> payload);

// The worker holds neither the module nor the artifact by that hash (one
// of them): the job is resent with both.
std::vector<std::uint8_t> EncodeModuleMissing(std::uint64_t id);
Result<std::uint64_t> DecodeModuleMissing(std::span<const std::uint8_t> payload);

}  // namespace milf::sandbox
