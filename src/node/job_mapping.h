// The translation between the node protocol and the execution core: a
// proto::Job becomes a wasm::RunRequest for the sandbox, and the RunRecord
// that comes back becomes the proto::JobResult sent to the server.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "proto/messages.h"
#include "wasm/runner.h"

namespace milf::node {

// Caps on what one result carries, whatever the job asks for, so that the
// result (base64 in JSON) always fits in one control message.
inline constexpr std::uint64_t kMaxStdoutBytes = 8u << 20;
inline constexpr std::uint64_t kMaxStderrBytes = 1u << 20;

// `module` must outlive the request (the request only views it).
wasm::RunRequest ToRunRequest(const proto::Job& job, std::span<const std::uint8_t> module);

// output_sha256 is the SHA-256 of the (possibly truncated) stdout.
proto::JobResult ToJobResult(const std::string& invocation_id, const wasm::RunRecord& record);

// A result for a job that did not run: status `status`, the reason as its message.
proto::JobResult NotRunResult(const std::string& invocation_id, const std::string& status,
                              const std::string& reason);

}  // namespace milf::node
