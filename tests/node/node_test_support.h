// Shared pieces of the node tests: temporary directories, a clock the test
// moves by hand, an in-process executor, small modules, fixture files.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "node/job_runner.h"
#include "wasm/runner.h"

namespace milf::node::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `root`/`relative`, creating directories.
void WriteFile(const std::filesystem::path& root, const std::string& relative, std::string_view text);
std::string ReadFile(const std::filesystem::path& path);

// tests/node/fixtures/<name>: a fake root with proc/ and maybe sys/.
std::filesystem::path Fixture(const std::string& name);

class ManualClock final : public Clock {
 public:
  std::int64_t MonotonicNanos() const override { return now_; }
  std::int64_t RealtimeNanos() const override { return now_; }
  std::int64_t ThreadCpuNanos() const override { return 0; }
  void Advance(std::chrono::nanoseconds by) { now_ += by.count(); }

 private:
  std::atomic<std::int64_t> now_{1'000'000'000};
};

// Runs each request in this process with a fresh interpreter Runner.
class InProcessExecutor final : public JobExecutor {
 public:
  wasm::RunRecord Run(const wasm::RunRequest& request) override;
  int runs() const { return runs_; }

 private:
  std::atomic<int> runs_{0};
};

// Copies stdin to stdout (a WASI command).
const std::vector<std::uint8_t>& EchoModule();
// Spins until its deadline or fuel runs out.
const std::vector<std::uint8_t>& LoopModule();

}  // namespace milf::node::testing
