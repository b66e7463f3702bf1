#include "node/job_runner.h"

#include <utility>

#include "node/job_mapping.h"

namespace milf::node {
namespace {

class PoolExecutor final : public JobExecutor {
 public:
  explicit PoolExecutor(sandbox::Pool& pool) : pool_(pool) {}
  wasm::RunRecord Run(const wasm::RunRequest& request) override { return pool_.Run(request); }
  wasm::RunRecord RunAot(const wasm::RunRequest& request, std::span<const std::uint8_t> artifact,
                         bool* ran_aot) override {
    return pool_.Run(request, artifact, ran_aot);
  }

 private:
  sandbox::Pool& pool_;
};

}  // namespace

std::unique_ptr<JobExecutor> NewPoolExecutor(sandbox::Pool& pool) {
  return std::make_unique<PoolExecutor>(pool);
}

JobRunner::JobRunner(JobExecutor& executor, int slots) : executor_(executor) {
  threads_.reserve(static_cast<std::size_t>(slots));
  for (int i = 0; i < slots; ++i) threads_.emplace_back([this] { Loop(); });
}

JobRunner::~JobRunner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void JobRunner::Submit(proto::Job job, ModuleStore::Bytes module, Done done,
                       ModuleStore::Bytes artifact) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Task{std::move(job), std::move(module), std::move(done), std::move(artifact)});
  }
  work_.notify_one();
}

void JobRunner::WaitIdle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

void JobRunner::Loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to finish
    Task task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    bool ran_aot = false;
    const wasm::RunRecord record =
        task.artifact ? executor_.RunAot(ToRunRequest(task.job, *task.module), *task.artifact, &ran_aot)
                      : executor_.Run(ToRunRequest(task.job, *task.module));
    proto::JobResult result = ToJobResult(task.job.invocation_id, record);
    result.tier = ran_aot ? "aot" : "interp";
    task.done(std::move(result));
    lock.lock();
    --running_;
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace milf::node
