#include "sandbox/pool.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <list>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/sha256.h"
#include "sandbox/cgroup.h"
#include "sandbox/channel.h"
#include "sandbox/host_files.h"
#include "sandbox/messages.h"
#include "sandbox/spawn.h"

namespace milf::sandbox {
namespace {

constexpr std::uint32_t kMaxHelloBytes = 64 * 1024;
constexpr std::uint64_t kMinWorkerMemory = 64ull << 20;
// Room in a result frame for everything but the outputs themselves.
constexpr std::uint64_t kResultSlack = 1ull << 20;
// How long a worker whose channel closed gets to finish dying on its own
// before it is killed (it closes the channel only by exiting).
constexpr std::chrono::milliseconds kExitWait{200};

std::int64_t Nanos(std::chrono::nanoseconds duration) { return duration.count(); }

std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

// The largest result a worker may send for a job under `limits`: wasm_main
// output is appended to stdout, so stdout counts twice.
std::uint32_t ResultBound(const wasm::Limits& limits) {
  std::uint64_t bound = SaturatingAdd(limits.stdout_bytes, limits.stdout_bytes);
  bound = SaturatingAdd(bound, limits.stderr_bytes);
  bound = SaturatingAdd(bound, limits.out_dir_bytes);
  bound = SaturatingAdd(bound, kResultSlack);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(bound, UINT32_MAX));
}

wasm::RunRecord Failed(wasm::RunStatus status, std::string message) {
  wasm::RunRecord record;
  record.status = status;
  record.message = std::move(message);
  return record;
}

// How a worker that ended by itself ended, as a job's record.
wasm::RunRecord DescribeDeath(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    if (signal == SIGSYS) {
      return Failed(wasm::RunStatus::kSandboxViolation,
                    "the worker made a forbidden system call; seccomp killed it");
    }
    return Failed(wasm::RunStatus::kCrashed,
                  fmt::format("the worker died of {}", SignalName(signal)));
  }
  return Failed(
      wasm::RunStatus::kCrashed,
      fmt::format("the worker exited with status {} during the job", WEXITSTATUS(wait_status)));
}

std::string DescribeStartFailure(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    return fmt::format("it died of {} while starting", SignalName(WTERMSIG(wait_status)));
  }
  switch (WEXITSTATUS(wait_status)) {
    case kExitNamespaceSetup:
      return "it could not map its user namespace";
    case kExitChannelSetup:
      return "it could not set up its channel";
    case kExitExecFailed:
      return "the worker binary could not be executed";
    default:
      return fmt::format("it exited with status {} while starting", WEXITSTATUS(wait_status));
  }
}

}  // namespace

struct PoolSlot {
  std::size_t index = 0;
  std::atomic<pid_t> pid{-1};  // read by worker_pids() from other threads
  std::unique_ptr<Channel> channel;
  std::uint64_t jobs = 0;
  std::int64_t cpu_nanos = 0;
  std::uint64_t peak_rss = 0;
  std::list<std::string> modules;  // what the worker holds, most recent first
};

class Pool::Impl {
 public:
  Impl(PoolOptions options, NamespacePlan plan, std::unique_ptr<CgroupTree> cgroup)
      : options_(std::move(options)), plan_(std::move(plan)), cgroup_(std::move(cgroup)) {
    for (std::size_t i = 0; i < options_.workers; ++i) {
      slots_.push_back(std::make_unique<PoolSlot>());
      slots_.back()->index = i;
      idle_.push_back(slots_.back().get());
    }
  }

  ~Impl() {
    for (auto& slot : slots_) Stop(*slot);
  }

  // Starts the worker of an empty slot and waits for its Hello.
  Result<Walls> StartWorker(PoolSlot& slot);
  bool aot_enabled() const { return options_.aot; }

  // `aot`: the job's AOT artifact and where to say whether it was used;
  // null for the interpreter.
  struct AotRun {
    std::span<const std::uint8_t> artifact;
    std::string artifact_sha256;
    bool* ran_aot = nullptr;
  };
  wasm::RunRecord Run(const wasm::RunRequest& request, const AotRun* aot = nullptr);

  PoolStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  std::vector<pid_t> pids() const {
    std::vector<pid_t> pids;
    for (const auto& slot : slots_) {
      if (const pid_t pid = slot->pid; pid > 0) pids.push_back(pid);
    }
    return pids;
  }

  std::vector<std::unique_ptr<PoolSlot>>& slots() { return slots_; }

 private:
  PoolSlot& Acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty(); });
    PoolSlot* slot = idle_.back();
    idle_.pop_back();
    return *slot;
  }

  void Release(PoolSlot& slot) {
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(&slot);
    }
    available_.notify_one();
  }

  void Count(std::uint64_t PoolStats::*field) {
    std::lock_guard lock(mutex_);
    ++(stats_.*field);
  }

  wasm::RunRecord Dispatch(PoolSlot& slot, const wasm::RunRequest& request,
                           const std::string& sha256, const AotRun* aot);
  wasm::RunRecord Exchange(PoolSlot& slot, const wasm::RunRequest& request,
                           const std::string& sha256, std::int64_t deadline, bool& lost,
                           const AotRun* aot);
  Status Prepare(PoolSlot& slot, const wasm::Limits& limits);
  void AfterJob(PoolSlot& slot, const ResultMessage& result);
  int Reap(PoolSlot& slot, bool kill_first);
  void Stop(PoolSlot& slot);
  bool DiedWhileIdle(const PoolSlot& slot) const;

  const PoolOptions options_;
  const NamespacePlan plan_;
  const std::unique_ptr<CgroupTree> cgroup_;
  std::vector<std::unique_ptr<PoolSlot>> slots_;
  std::atomic<std::uint64_t> next_job_id_{1};

  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<PoolSlot*> idle_;  // guarded by mutex_
  PoolStats stats_;              // guarded by mutex_
};

Result<Walls> Pool::Impl::StartWorker(PoolSlot& slot) {
  auto process = SpawnWorker(options_.worker_command, plan_.flags);
  if (!process) return Fail(std::move(process).error());
  slot.pid = process->pid;
  slot.channel = std::make_unique<Channel>(std::move(process->channel));
  slot.jobs = 0;
  slot.cpu_nanos = 0;
  slot.peak_rss = 0;
  slot.modules.clear();
  Count(&PoolStats::workers_started);
  std::string cgroup_error;
  if (cgroup_) {
    if (auto placed = cgroup_->Place(slot.index, slot.pid, options_.worker_memory_bytes); !placed) {
      cgroup_error = placed.error().message;
    }
  }

  InitMessage init;
  init.namespaces = plan_.flags;
  init.memory_bytes = options_.worker_memory_bytes;
  init.cpu_seconds = options_.worker_cpu_seconds;
  init.max_job_bytes = options_.max_job_bytes;
  init.module_slots = options_.module_slots;
  init.seccomp = options_.seccomp;
  init.aot = options_.aot;
  const std::int64_t deadline = DeadlineAfter(Nanos(options_.start_timeout));
  auto hello = [&]() -> Result<HelloMessage> {
    if (auto sent = slot.channel->Send(FrameType::kInit, EncodeInit(init), deadline); !sent) {
      return Fail(std::move(sent).error());
    }
    auto frame = slot.channel->Receive(kMaxHelloBytes, deadline);
    if (!frame) return Fail(std::move(frame).error());
    if (frame->type != FrameType::kHello) return Fail("protocol", "expected Hello");
    return DecodeHello(frame->payload);
  }();
  if (!hello) {
    const bool alive = hello.error().code == "timeout" || hello.error().code == "protocol";
    const int status = Reap(slot, alive);
    return Fail("spawn", fmt::format("the sandbox worker did not start: {}",
                                     alive ? hello.error().message : DescribeStartFailure(status)));
  }
  Walls walls = std::move(hello->walls);
  if (cgroup_) {
    walls.push_back(
        cgroup_error.empty()
            ? Wall{"cgroup", WallState::kActive,
                   fmt::format("memory.max {} MiB, pids.max 1 under {}",
                               options_.worker_memory_bytes >> 20, cgroup_->path().string())}
            : Wall{"cgroup", WallState::kMissing, cgroup_error});
  }
  return walls;
}

int Pool::Impl::Reap(PoolSlot& slot, bool kill_first) {
  int status = 0;
  if (kill_first) ::kill(slot.pid, SIGKILL);
  const auto give_up = std::chrono::steady_clock::now() + kExitWait;
  for (;;) {
    const pid_t done = ::waitpid(slot.pid, &status, kill_first ? 0 : WNOHANG);
    if (done == slot.pid) break;
    if (done < 0 && errno != EINTR) break;
    if (done == 0) {
      if (std::chrono::steady_clock::now() >= give_up) {
        ::kill(slot.pid, SIGKILL);
        kill_first = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  slot.pid = -1;
  slot.channel.reset();
  slot.modules.clear();
  return status;
}

void Pool::Impl::Stop(PoolSlot& slot) {
  if (slot.pid > 0) Reap(slot, true);
}

// An idle worker has nothing to say: a readable or hung-up channel means
// it died (or misbehaves) between jobs, and must not take this job down.
bool Pool::Impl::DiedWhileIdle(const PoolSlot& slot) const {
  pollfd entry{slot.channel->fd(), POLLIN, 0};
  return ::poll(&entry, 1, 0) != 0;
}

// A worker ready for a job of `limits`: started if the slot is empty,
// replaced if it died idle or if the job could outlast its CPU quota.
Status Pool::Impl::Prepare(PoolSlot& slot, const wasm::Limits& limits) {
  if (slot.pid > 0 && DiedWhileIdle(slot)) {
    Reap(slot, true);
    Count(&PoolStats::workers_lost);
  }
  const std::int64_t cpu_quota = static_cast<std::int64_t>(
      std::min<std::uint64_t>(options_.worker_cpu_seconds, INT64_MAX / 1'000'000'000) *
      1'000'000'000);
  const std::int64_t job_budget = Nanos(limits.timeout) + Nanos(options_.deadline_grace);
  if (slot.pid > 0 && slot.cpu_nanos > cpu_quota - std::min(job_budget, cpu_quota)) {
    Reap(slot, true);
    Count(&PoolStats::workers_recycled);
  }
  if (slot.pid > 0) return {};
  auto started = StartWorker(slot);
  if (!started) return Fail(std::move(started).error());
  return {};
}

void Pool::Impl::AfterJob(PoolSlot& slot, const ResultMessage& result) {
  ++slot.jobs;
  slot.cpu_nanos = result.worker_cpu_nanos;
  slot.peak_rss = result.worker_peak_rss_bytes;
  if (result.retiring || slot.jobs >= options_.recycle_after_jobs ||
      slot.peak_rss >= options_.recycle_rss_bytes) {
    Reap(slot, !result.retiring);
    Count(&PoolStats::workers_recycled);
  }
}

wasm::RunRecord Pool::Impl::Exchange(PoolSlot& slot, const wasm::RunRequest& request,
                                     const std::string& sha256, std::int64_t deadline, bool& lost,
                                     const AotRun* aot) {
  const std::uint64_t id = next_job_id_.fetch_add(1);
  const auto holds = [&slot](const std::string& hash) {
    return std::find(slot.modules.begin(), slot.modules.end(), hash) != slot.modules.end();
  };
  bool send_module = !holds(sha256);
  // Artifacts are held by hash in the same list as modules.
  bool send_artifact = aot != nullptr && !holds(aot->artifact_sha256);
  for (int attempt = 0; attempt < 2; ++attempt) {
    JobTier tier;
    if (aot != nullptr) {
      tier.aot = true;
      tier.artifact_sha256 = aot->artifact_sha256;
      if (send_artifact) tier.artifact = aot->artifact;
    }
    auto job = EncodeJob(id, sha256, send_module ? std::optional(request.module) : std::nullopt,
                         request, tier);
    if (!job) return Failed(wasm::RunStatus::kInternalError, job.error().message);
    if (job->size() > options_.max_job_bytes) {
      return Failed(wasm::RunStatus::kInternalError,
                    fmt::format("the job is {} bytes, over the sandbox's bound of {}", job->size(),
                                options_.max_job_bytes));
    }
    if (send_module) Count(&PoolStats::modules_sent);
    auto sent = slot.channel->Send(FrameType::kJob, *job, deadline);
    Result<Frame> frame = sent ? slot.channel->Receive(ResultBound(request.limits), deadline)
                               : Result<Frame>(Fail(std::move(sent).error()));
    if (!frame) {
      lost = true;
      if (frame.error().code == "timeout") {
        Reap(slot, true);
        return Failed(wasm::RunStatus::kTimeout,
                      fmt::format("the sandbox killed the worker at the hard deadline "
                                  "({:.3f} s: the time limit plus {:.3f} s of grace)",
                                  std::chrono::duration<double>(request.limits.timeout).count(),
                                  std::chrono::duration<double>(options_.deadline_grace).count()));
      }
      const int status = Reap(slot, false);
      if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && frame.error().code == "protocol") {
        return Failed(wasm::RunStatus::kInternalError,
                      "the worker broke the protocol (" + frame.error().message + ")");
      }
      return DescribeDeath(status);
    }
    const auto missing = frame->type == FrameType::kModuleMissing
                             ? DecodeModuleMissing(frame->payload)
                             : Result<std::uint64_t>(Fail("protocol", ""));
    if (missing && *missing == id && !(send_module && (aot == nullptr || send_artifact))) {
      slot.modules.remove(sha256);
      if (aot != nullptr) slot.modules.remove(aot->artifact_sha256);
      send_module = true;
      send_artifact = aot != nullptr;
      continue;
    }
    auto result = frame->type == FrameType::kResult ? DecodeResult(frame->payload)
                                                    : Result<ResultMessage>(Fail("protocol", ""));
    if (!result || result->id != id) {
      lost = true;
      Reap(slot, true);
      return Failed(wasm::RunStatus::kInternalError, "the worker broke the protocol");
    }
    slot.modules.remove(sha256);
    slot.modules.push_front(sha256);
    if (aot != nullptr) {
      slot.modules.remove(aot->artifact_sha256);
      slot.modules.push_front(aot->artifact_sha256);
      *aot->ran_aot = result->ran_aot;
    }
    // The worker keeps as many modules and artifacts each; the shared list
    // may forget some it holds, which costs a resend, never a wrong run.
    while (slot.modules.size() > options_.module_slots) slot.modules.pop_back();
    AfterJob(slot, *result);
    return std::move(result->record);
  }
  lost = true;
  Reap(slot, true);
  return Failed(wasm::RunStatus::kInternalError, "the worker refused the module twice");
}

wasm::RunRecord Pool::Impl::Dispatch(PoolSlot& slot, const wasm::RunRequest& request,
                                     const std::string& sha256, const AotRun* aot) {
  if (auto ready = Prepare(slot, request.limits); !ready) {
    return Failed(wasm::RunStatus::kInternalError, ready.error().message);
  }
  const std::int64_t timeout = Nanos(request.limits.timeout);
  const std::int64_t grace = Nanos(options_.deadline_grace);
  const std::int64_t deadline =
      DeadlineAfter(timeout > kNoDeadline - grace ? kNoDeadline : timeout + grace);
  bool lost = false;
  wasm::RunRecord record = Exchange(slot, request, sha256, deadline, lost, aot);
  if (lost) {
    Count(&PoolStats::workers_lost);
    // Replace it now, so the next job finds a worker ready; if that fails,
    // the next Prepare tries again.
    (void)StartWorker(slot);
  } else if (slot.pid < 0) {
    (void)StartWorker(slot);
  }
  return record;
}

wasm::RunRecord Pool::Impl::Run(const wasm::RunRequest& request, const AotRun* aot) {
  const std::int64_t started = MonotonicNow();
  if (request.module.size() > request.limits.module_bytes) {
    return Failed(wasm::RunStatus::kModuleTooLarge,
                  fmt::format("module is {} bytes, the limit is {}", request.module.size(),
                              request.limits.module_bytes));
  }
  std::optional<StagedRequest> staged;
  if (NeedsStaging(request)) {
    auto staging = StageRequest(request, options_.max_input_bytes);
    if (!staging) return Failed(wasm::RunStatus::kInternalError, staging.error().message);
    staged = std::move(*staging);
  }
  const wasm::RunRequest& sent = staged ? staged->request : request;
  const std::string sha256 = Sha256Hex(request.module);

  PoolSlot& slot = Acquire();
  wasm::RunRecord record = Dispatch(slot, sent, sha256, aot);
  Release(slot);
  Count(&PoolStats::jobs);

  if (record.module_sha256.empty()) record.module_sha256 = sha256;
  if (record.wall_nanos == 0) record.wall_nanos = MonotonicNow() - started;
  if (staged && staged->out_dir && !record.out_files.empty()) {
    if (auto written = WriteOutFiles(*staged->out_dir, record.out_files); !written) {
      record.status = wasm::RunStatus::kInternalError;
      record.message = written.error().message;
    }
    record.out_files.clear();
  }
  return record;
}

Pool::Pool(std::unique_ptr<Impl> impl, Walls walls)
    : impl_(std::move(impl)), walls_(std::move(walls)) {}

Pool::~Pool() = default;

wasm::RunRecord Pool::Run(const wasm::RunRequest& request) { return impl_->Run(request); }

wasm::RunRecord Pool::Run(const wasm::RunRequest& request, std::span<const std::uint8_t> artifact,
                          bool* ran_aot) {
  bool used = false;
  if (!impl_->aot_enabled()) {
    if (ran_aot != nullptr) *ran_aot = false;
    return impl_->Run(request);
  }
  const Impl::AotRun aot{artifact, Sha256Hex(artifact), &used};
  wasm::RunRecord record = impl_->Run(request, &aot);
  if (ran_aot != nullptr) *ran_aot = used;
  return record;
}

PoolStats Pool::stats() const { return impl_->stats(); }

std::vector<pid_t> Pool::worker_pids() const { return impl_->pids(); }

Result<std::unique_ptr<Pool>> Pool::Start(PoolOptions options) {
  if (options.workers == 0) return Fail("invalid_argument", "a pool needs at least one worker");
  if (options.worker_command.empty() || options.worker_command[0].empty() ||
      options.worker_command[0][0] != '/') {
    return Fail("invalid_argument", "the worker command must start with an absolute path");
  }
  if (options.worker_memory_bytes < kMinWorkerMemory) {
    return Fail("invalid_argument",
                fmt::format("a worker needs at least {} MiB of memory", kMinWorkerMemory >> 20));
  }
  if (options.module_slots == 0 || options.recycle_after_jobs == 0 ||
      options.worker_cpu_seconds == 0) {
    return Fail("invalid_argument",
                "module_slots, recycle_after_jobs and worker_cpu_seconds "
                "must be positive");
  }
  NamespacePlan plan = PlanNamespaces(options.namespaces);
  Walls walls = plan.walls;
  std::unique_ptr<CgroupTree> cgroup;
  if (!options.cgroup) {
    walls.push_back({"cgroup", WallState::kNotNeeded, "turned off by the pool's options"});
  } else if (auto tree = CgroupTree::Create(options.workers); !tree) {
    walls.push_back({"cgroup", WallState::kMissing, tree.error().message});
  } else {
    cgroup = std::move(*tree);
  }
  auto impl = std::make_unique<Impl>(options, std::move(plan), std::move(cgroup));
  for (auto& slot : impl->slots()) {
    auto worker_walls = impl->StartWorker(*slot);
    if (!worker_walls) return Fail(std::move(worker_walls).error());
    if (slot->index == 0) walls.insert(walls.end(), worker_walls->begin(), worker_walls->end());
  }
  if (options.warn) {
    for (const Wall& wall : walls) {
      // cgroups are optional by design: sandbox-check reports them.
      if (wall.state == WallState::kMissing && wall.name != "cgroup") {
        options.warn(fmt::format("sandbox wall {} is missing: {}", wall.name, wall.detail));
      }
    }
  }
  return std::unique_ptr<Pool>(new Pool(std::move(impl), std::move(walls)));
}

Result<std::vector<std::string>> SelfWorkerCommand() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return Fail("io", "cannot read /proc/self/exe: " + error.message());
  return std::vector<std::string>{self.string(), kWorkerModeArgument};
}

}  // namespace milf::sandbox
