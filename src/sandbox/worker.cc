#include "sandbox/worker.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <list>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/random.h"
#include "base/sha256.h"
#include "sandbox/channel.h"
#include "sandbox/lockdown.h"
#include "sandbox/messages.h"
#include "wasm/aot/aot_engine.h"

namespace milf::sandbox {
namespace {

constexpr std::uint32_t kMaxInitBytes = 4096;
// Module bytes kept by hash are bounded in total as well as in number.
constexpr std::uint64_t kModuleStoreBytes = 64ull << 20;
// Where a worker that runs AOT jobs writes artifacts for dlopen: a private
// tmpfs (lockdown.h), the only writable place it has.
constexpr char kAotLoadDir[] = "/aot";

// Modules by SHA-256, least recently used evicted first.
class ModuleStore {
 public:
  explicit ModuleStore(std::size_t slots) : slots_(slots) {}

  const std::vector<std::uint8_t>* Find(const std::string& sha256) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first != sha256) continue;
      entries_.splice(entries_.begin(), entries_, it);
      return &entries_.front().second;
    }
    return nullptr;
  }

  const std::vector<std::uint8_t>& Put(const std::string& sha256, std::vector<std::uint8_t> bytes) {
    if (const auto* held = Find(sha256)) return *held;
    bytes_ += bytes.size();
    entries_.emplace_front(sha256, std::move(bytes));
    while (entries_.size() > 1 && (entries_.size() > slots_ || bytes_ > kModuleStoreBytes)) {
      bytes_ -= entries_.back().second.size();
      entries_.pop_back();
    }
    return entries_.front().second;
  }

 private:
  const std::size_t slots_;
  std::list<std::pair<std::string, std::vector<std::uint8_t>>> entries_;
  std::uint64_t bytes_ = 0;
};

// Signals come through exec with the supervisor's mask and ignored
// dispositions; a worker starts from the defaults.
void ResetSignals() {
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) ::signal(signal, SIG_DFL);
  }
}

int ParseChannel(std::span<char* const> args) {
  if (args.size() != 2 || std::strcmp(args[0], "--fd") != 0) return -1;
  const std::string_view text = args[1];
  int fd = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), fd);
  if (error != std::errc() || end != text.data() + text.size() || fd < 3) return -1;
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) return -1;
  return fd;
}

// Everything lazily initialised on first use that would touch files or
// make calls the seccomp policy refuses, done while it still may.
void WarmUp(bool aot) {
  NewSystemRandom();  // sodium_init: probes getrandom, may open /dev/urandom
  if (aot) wasm::PrepareAotThread();  // reads /proc/self/maps and RLIMIT_STACK
  std::uint8_t byte = 0;
  (void)Sha256Hex({&byte, 1});  // OpenSSL loads its configuration once
}

void AddUsage(ResultMessage& result) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  result.worker_peak_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  const auto nanos = [](const timeval& time) {
    return static_cast<std::int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_usec * 1000;
  };
  result.worker_cpu_nanos = nanos(usage.ru_utime) + nanos(usage.ru_stime);
}

class Worker {
 public:
  Worker(Channel& channel, const InitMessage& init, const WorkerHooks& hooks)
      : channel_(channel),
        init_(init),
        hooks_(hooks),
        runner_(wasm::NewInterpreterEngine()),
        modules_(init.module_slots),
        artifacts_(init.module_slots) {}

  int Serve() {
    for (;;) {
      auto frame = channel_.Receive(init_.max_job_bytes, kNoDeadline);
      if (!frame) return frame.error().code == "closed" ? 0 : kWorkerExitProtocol;
      if (frame->type != FrameType::kJob) return kWorkerExitProtocol;
      auto job = DecodeJob(frame->payload);
      if (!job) return kWorkerExitProtocol;
      const std::vector<std::uint8_t>* module = nullptr;
      if (job->module) {
        if (Sha256Hex(*job->module) != job->module_sha256) return kWorkerExitProtocol;
        module = &modules_.Put(job->module_sha256, std::move(*job->module));
      } else {
        module = modules_.Find(job->module_sha256);
      }
      if (module == nullptr) {
        if (!channel_.Send(FrameType::kModuleMissing, EncodeModuleMissing(job->id), kNoDeadline)) {
          return 0;
        }
        continue;
      }
      const std::vector<std::uint8_t>* artifact = nullptr;
      if (job->aot) {
        if (job->artifact) {
          if (Sha256Hex(*job->artifact) != job->artifact_sha256) return kWorkerExitProtocol;
          artifact = &artifacts_.Put(job->artifact_sha256, std::move(*job->artifact));
        } else {
          artifact = artifacts_.Find(job->artifact_sha256);
        }
        if (artifact == nullptr) {
          if (!channel_.Send(FrameType::kModuleMissing, EncodeModuleMissing(job->id), kNoDeadline)) {
            return 0;
          }
          continue;
        }
      }
      job->request.module = *module;
      ResultMessage result = Run(*job, artifact);
      AddUsage(result);
      if (!channel_.Send(FrameType::kResult, EncodeResult(result), kNoDeadline)) return 0;
      if (result.retiring) return 0;
    }
  }

 private:
  // On the AOT tier when `artifact` is given and this worker may load it;
  // when the artifact turns out unusable (not this module's instrumented
  // form, or it does not load) nothing has run yet, and the job runs on the
  // interpreter instead.
  ResultMessage Run(const JobMessage& job, const std::vector<std::uint8_t>* artifact) {
    ResultMessage result;
    result.id = job.id;
    if (hooks_.intercept && hooks_.intercept(job.request, result.record)) return result;
    // The engine reports its own limits as statuses; an allocation the
    // address-space quota refuses surfaces as bad_alloc from deep inside
    // it, with the engine's state unknown, so the worker retires.
    try {
      if (artifact != nullptr && init_.aot) {
        artifact_ = artifact;
        artifact_unusable_ = false;
        result.record = AotRunner().Run(job.request);
        artifact_ = nullptr;
        result.ran_aot = !artifact_unusable_;
      }
      if (!result.ran_aot) result.record = runner_.Run(job.request);
    } catch (const std::bad_alloc&) {
      result.record = wasm::RunRecord{};
      result.record.status = wasm::RunStatus::kMemoryLimit;
      result.record.message = fmt::format("the worker's memory quota (RLIMIT_AS, {} MiB) ran out",
                                          init_.memory_bytes >> 20);
      result.record.module_sha256 = job.module_sha256;
      result.retiring = true;
    }
    return result;
  }

  wasm::Runner& AotRunner() {
    if (!aot_runner_) {
      wasm::AotOptions options;
      options.load_dir = kAotLoadDir;
      options.artifact_source = [this](const std::string& sha256) -> Result<aot::Artifact> {
        auto parsed = artifact_ != nullptr ? aot::ParseArtifact(*artifact_)
                                           : Result<aot::Artifact>(Fail("missing", "no artifact"));
        if (!parsed || parsed->info.module_sha256 != sha256) {
          artifact_unusable_ = true;
          return Fail("refused", parsed ? "the artifact is for another instrumented module"
                                        : parsed.error().message);
        }
        return parsed;
      };
      aot_runner_ = std::make_unique<wasm::Runner>(wasm::NewAotEngine(std::move(options)));
    }
    return *aot_runner_;
  }

  Channel& channel_;
  const InitMessage init_;
  const WorkerHooks& hooks_;
  wasm::Runner runner_;
  ModuleStore modules_;
  ModuleStore artifacts_;  // artifact containers by the SHA-256 of their bytes
  std::unique_ptr<wasm::Runner> aot_runner_;
  const std::vector<std::uint8_t>* artifact_ = nullptr;  // the running job's
  bool artifact_unusable_ = false;
};

}  // namespace

int RunWorker(std::span<char* const> args, const WorkerHooks& hooks) {
  ResetSignals();
  const int fd = ParseChannel(args);
  if (fd < 0) return kWorkerExitUsage;
  Channel channel{UniqueFd(fd)};
  auto frame = channel.Receive(kMaxInitBytes, kNoDeadline);
  if (!frame || frame->type != FrameType::kInit) return kWorkerExitProtocol;
  auto init = DecodeInit(frame->payload);
  if (!init) return kWorkerExitProtocol;

  WarmUp(init->aot);
  Worker worker(channel, *init, hooks);
  HelloMessage hello;
  hello.walls = Lockdown(LockdownConfig{fd, init->namespaces, init->memory_bytes, init->cpu_seconds,
                                        init->seccomp, init->aot});
  // From here on the process must leave with _exit: returning would run
  // destructors and exit handlers whose calls (close, the libraries'
  // cleanups) the seccomp policy does not allow, and nothing needs them.
  if (!channel.Send(FrameType::kHello, EncodeHello(hello), kNoDeadline)) ::_exit(0);
  ::_exit(worker.Serve());
}

}  // namespace milf::sandbox
