// Limits: every resource bound on one execution. Each bound, when hit, ends
// the run with its own RunStatus (see status.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace milf::wasm {

enum class OverflowPolicy {
  kTruncate,  // keep the first N bytes, set the truncated flag, carry on
  kFail,      // end the run with status output_limit
};

inline constexpr std::uint64_t kUnlimitedFuel = std::numeric_limits<std::int64_t>::max();
inline constexpr std::uint64_t kWasmPageBytes = 64 * 1024;

struct Limits {
  std::uint64_t fuel = kUnlimitedFuel;               // metered instruction units
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);
  std::uint64_t memory_bytes = 64ull << 20;          // linear memory cap
  std::uint32_t table_elements = 100'000;            // per table
  std::uint32_t call_depth = 1'000;                  // nested wasm calls
  std::uint64_t stdout_bytes = 1ull << 20;
  std::uint64_t stderr_bytes = 1ull << 20;
  OverflowPolicy output_overflow = OverflowPolicy::kTruncate;
  std::uint64_t module_bytes = 32ull << 20;
  std::uint64_t out_dir_bytes = 64ull << 20;         // quota on files written to /out

  std::uint32_t memory_pages() const {
    return static_cast<std::uint32_t>(memory_bytes / kWasmPageBytes);
  }
};

}  // namespace milf::wasm
