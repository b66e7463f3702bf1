// JobRunner: the node's execution slots. A fixed set of threads, one per
// slot, takes jobs in order and runs each through a JobExecutor (in a real
// node, the sandboxed worker pool), so jobs never run on the I/O thread and
// a slow job holds only its own slot.
//
// Thread-safety: Submit and WaitIdle may be called from any thread. Each
// `done` callback runs on a runner thread, outside any lock of the runner.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "node/module_store.h"
#include "proto/messages.h"
#include "sandbox/pool.h"
#include "wasm/runner.h"

namespace milf::node {

// Runs one request to completion. Must be safe for concurrent use.
class JobExecutor {
 public:
  virtual ~JobExecutor() = default;
  virtual wasm::RunRecord Run(const wasm::RunRequest& request) = 0;
  // On the AOT tier with `artifact` (a verified container); `ran_aot` says
  // whether it was used. By default: the interpreter.
  virtual wasm::RunRecord RunAot(const wasm::RunRequest& request,
                                 std::span<const std::uint8_t> artifact, bool* ran_aot) {
    *ran_aot = false;
    return Run(request);
  }
};

// Every job through the sandbox: `pool` must outlive the executor.
std::unique_ptr<JobExecutor> NewPoolExecutor(sandbox::Pool& pool);

class JobRunner {
 public:
  using Done = std::function<void(proto::JobResult result)>;

  // `executor` must outlive the runner. slots >= 1.
  JobRunner(JobExecutor& executor, int slots);
  // Finishes every submitted job (calling its `done`), then joins the threads.
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Queues `job` with its module's bytes; `done` gets the result.
  // With `artifact`, the job runs on the AOT tier (artifact_store.h).
  void Submit(proto::Job job, ModuleStore::Bytes module, Done done,
              ModuleStore::Bytes artifact = nullptr);

  // Blocks until no job is queued or running.
  void WaitIdle();

  int slots() const { return static_cast<int>(threads_.size()); }

 private:
  struct Task {
    proto::Job job;
    ModuleStore::Bytes module;
    Done done;
    ModuleStore::Bytes artifact;
  };
  void Loop();

  JobExecutor& executor_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable idle_;
  std::deque<Task> queue_;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace milf::node
