// Differential spec-suite runs: every command of a converted .wast script
// (wast2json output, see tests/spec/) runs on the interpreter and on the AOT
// tier in lockstep, and the two must agree — results (bit for bit; two NaNs
// of one type agree), trap or failure status, link and instantiation
// verdicts. The AOT side must also meet the script's own expectation
// (assert_return values, assert_trap, assert_exhaustion, ...).
//
// Instrumented mode runs every script module through Instrument first (as
// the Runner does) with a fuel meter that always refills, and compares the
// fuel each action used on each tier (the drop of every instance's counter
// plus refills). One difference is allowed: a call chain whose native frames
// exhaust the AOT tier's stack before the instrumented call-depth limit
// (docs/aot.md) stops there, without a fuel comparison.
//
// A module the AOT tier refuses as unsupported (SIMD) and every command that
// needs it count as skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace milf::wasm::testing {

struct DiffOptions {
  bool instrumented = false;
  std::filesystem::path aot_cache_dir;
  int build_threads = 2;  // artifacts of a script are built ahead in parallel
};

struct DiffReport {
  int passed = 0;   // agreed, and the AOT side met the expectation
  int failed = 0;
  int skipped = 0;  // text assert_malformed, or unsupported by the AOT tier
  std::vector<std::string> failures;   // "line N: command: why"
  std::map<std::string, int> tallies;  // remarks on passes and skips

  void Add(const DiffReport& other);
};

DiffReport RunDifferential(const std::filesystem::path& json,
                           std::span<const std::uint8_t> spectest_wasm, const DiffOptions& options);

// Converts `wast` with wast2json into a temporary directory and runs it.
// A file wast2json cannot convert counts as one skipped command.
DiffReport RunDifferentialWast(const std::filesystem::path& wast,
                               std::span<const std::uint8_t> spectest_wasm,
                               const DiffOptions& options);

}  // namespace milf::wasm::testing
