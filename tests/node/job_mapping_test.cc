// Job -> RunRequest and RunRecord -> JobResult, and the runner's slots
// running real jobs off the caller's thread.
#include "node/job_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "base/sha256.h"
#include "node/job_runner.h"
#include "node_test_support.h"

namespace milf::node {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

proto::Job FullJob() {
  proto::Job job;
  job.invocation_id = "inv-1";
  job.module_sha256 = std::string(64, 'a');
  job.entry = "wasm_main";
  job.env = {"K=V"};
  job.input = {1, 2, 3};
  job.limits.memory_mb = 32;
  job.limits.timeout_ms = 1'500;
  job.limits.fuel = 12345;
  job.limits.output_bytes = 4096;
  job.deterministic = true;
  job.seed = 99;
  return job;
}

TEST(JobMapping, JobToRunRequest) {
  const std::vector<std::uint8_t> module = {0, 'a', 's', 'm'};
  const wasm::RunRequest request = ToRunRequest(FullJob(), module);
  EXPECT_EQ(request.module.data(), module.data());
  EXPECT_EQ(request.module.size(), module.size());
  EXPECT_EQ(request.entry, "wasm_main");
  EXPECT_THAT(request.env, ElementsAre("K=V"));
  EXPECT_THAT(request.input, ElementsAre(1, 2, 3));
  EXPECT_TRUE(request.deterministic);
  EXPECT_EQ(request.seed, 99u);
  EXPECT_EQ(request.limits.memory_bytes, 32ull << 20);
  EXPECT_EQ(request.limits.timeout, std::chrono::milliseconds(1'500));
  EXPECT_EQ(request.limits.fuel, 12345u);
  EXPECT_EQ(request.limits.stdout_bytes, 4096u);
  EXPECT_EQ(request.limits.stderr_bytes, 4096u);
}

TEST(JobMapping, NoFuelMeansUnlimitedAndHugeOutputsAreCapped) {
  proto::Job job = FullJob();
  job.limits.fuel.reset();
  job.limits.output_bytes = 1ull << 40;
  const wasm::RunRequest request = ToRunRequest(job, {});
  EXPECT_EQ(request.limits.fuel, wasm::kUnlimitedFuel);
  EXPECT_EQ(request.limits.stdout_bytes, kMaxStdoutBytes);
  EXPECT_EQ(request.limits.stderr_bytes, kMaxStderrBytes);
}

TEST(JobMapping, RunRecordToJobResult) {
  wasm::RunRecord record;
  record.status = wasm::RunStatus::kTrap;
  record.exit_code = 0;
  record.message = "integer divide by zero";
  record.trap_function = "divide";
  record.fuel_used = 777;
  record.peak_memory_bytes = 65536;
  record.wall_nanos = 2'500'000;
  record.stdout_data = {'h', 'i'};
  record.stderr_data = {'!'};
  record.stdout_truncated = true;
  const proto::JobResult result = ToJobResult("inv-9", record);
  EXPECT_EQ(result.invocation_id, "inv-9");
  EXPECT_EQ(result.status, "trap");
  EXPECT_EQ(result.message, "integer divide by zero (in function divide)");
  EXPECT_EQ(result.fuel_used, 777u);
  EXPECT_EQ(result.peak_memory_bytes, 65536u);
  EXPECT_EQ(result.wall_micros, 2'500);
  EXPECT_THAT(result.output, ElementsAre('h', 'i'));
  EXPECT_THAT(result.stderr_data, ElementsAre('!'));
  EXPECT_TRUE(result.output_truncated);
  EXPECT_FALSE(result.stderr_truncated);
  EXPECT_EQ(result.output_sha256, Sha256Hex(record.stdout_data));
  // The result always encodes into a message the server accepts.
  EXPECT_TRUE(proto::Decode(proto::Encode(result)));
}

TEST(JobMapping, LongMessagesAreCutToFitTheProtocol) {
  wasm::RunRecord record;
  record.message = std::string(200'000, 'm');
  const proto::JobResult result = ToJobResult("inv", record);
  EXPECT_LT(result.message.size(), 64u * 1024);
  EXPECT_TRUE(proto::Decode(proto::Encode(result)));
}

TEST(JobMapping, NotRunResultsAreWellFormed) {
  const proto::JobResult result = NotRunResult("inv", proto::kRejectedStatus, "battery low");
  EXPECT_EQ(result.status, "rejected");
  EXPECT_EQ(result.message, "battery low");
  EXPECT_EQ(result.output_sha256, Sha256Hex(std::vector<std::uint8_t>{}));
  EXPECT_TRUE(proto::Decode(proto::Encode(result)));
}

TEST(JobRunner, RunsJobsOnItsOwnThreadsAndReportsResults) {
  testing::InProcessExecutor executor;
  const auto module = std::make_shared<const std::vector<std::uint8_t>>(testing::EchoModule());
  std::mutex mutex;
  std::condition_variable done;
  std::vector<proto::JobResult> results;
  std::set<std::thread::id> threads;
  {
    JobRunner runner(executor, 2);
    EXPECT_EQ(runner.slots(), 2);
    for (int i = 0; i < 6; ++i) {
      proto::Job job = FullJob();
      job.invocation_id = "inv-" + std::to_string(i);
      job.entry = "";
      job.limits.fuel.reset();
      job.input = {static_cast<std::uint8_t>('0' + i)};
      runner.Submit(job, module, [&](proto::JobResult result) {
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
        results.push_back(std::move(result));
        done.notify_all();
      });
    }
    runner.WaitIdle();
    std::lock_guard lock(mutex);
    EXPECT_EQ(results.size(), 6u);
  }
  EXPECT_FALSE(threads.contains(std::this_thread::get_id()));
  EXPECT_LE(threads.size(), 2u);
  for (const proto::JobResult& result : results) {
    EXPECT_EQ(result.status, "ok") << result.message;
    ASSERT_EQ(result.output.size(), 1u);
    EXPECT_EQ("inv-" + std::string(1, static_cast<char>(result.output[0])), result.invocation_id);
    EXPECT_EQ(result.output_sha256, Sha256Hex(result.output));
  }
  EXPECT_EQ(executor.runs(), 6);
}

TEST(JobRunner, DestructionFinishesQueuedJobs) {
  testing::InProcessExecutor executor;
  const auto module = std::make_shared<const std::vector<std::uint8_t>>(testing::EchoModule());
  std::atomic<int> finished{0};
  {
    JobRunner runner(executor, 1);
    for (int i = 0; i < 3; ++i) {
      proto::Job job = FullJob();
      job.entry = "";
      job.limits.fuel.reset();
      runner.Submit(job, module, [&](proto::JobResult) { ++finished; });
    }
  }
  EXPECT_EQ(finished, 3);
}

}  // namespace
}  // namespace milf::node
