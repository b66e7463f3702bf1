// Sandbox overhead: one job's round trip through the worker pool (a
// locked-down `milf __worker` that already holds the compiled module)
// against the same job run in-process and in a fork per job, plus a fresh
// worker per job (the pool recycling after every job), and jobs/s with two
// workers. Each round-trip benchmark reports p50 and p99 in microseconds
// over its iterations.
//
// Modules: "empty" is (module (func (export "_start"))), the cost of the
// machinery alone; "hello" is examples/hello.wasm, a real WASI command.
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/messages.h"
#include "sandbox/pool.h"
#include "support/wat.h"
#include "wasm/runner.h"

namespace milf::sandbox {
namespace {

const std::vector<std::uint8_t>& Module(int which) {
  static const std::vector<std::uint8_t> empty =
      testing::Wasm(R"((module (func (export "_start"))))");
  static const std::vector<std::uint8_t> hello = [] {
    const std::string path = MILF_BINARY_DIR "/examples/hello.wasm";
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "missing %s: build the examples first\n", path.c_str());
      std::exit(1);
    }
    return std::vector<std::uint8_t>{std::istreambuf_iterator<char>(in),
                                     std::istreambuf_iterator<char>()};
  }();
  return which == 0 ? empty : hello;
}

const char* ModuleName(int which) { return which == 0 ? "empty" : "hello"; }

wasm::RunRequest Request(int which) {
  wasm::RunRequest request;
  request.module = Module(which);
  return request;
}

std::unique_ptr<Pool> StartPool(std::size_t workers, std::uint64_t recycle_after_jobs) {
  PoolOptions options;
  options.worker_command = {MILF_BINARY_DIR "/bin/milf", kWorkerModeArgument};
  options.workers = workers;
  options.recycle_after_jobs = recycle_after_jobs;
  auto pool = Pool::Start(std::move(options));
  if (!pool) {
    std::fprintf(stderr, "cannot start the pool: %s\n", pool.error().message.c_str());
    std::exit(1);
  }
  return std::move(*pool);
}

// Times each iteration of `job` and reports p50/p99 in microseconds.
template <class Job>
void Measure(benchmark::State& state, Job job) {
  std::vector<double> micros;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const wasm::RunRecord record = job();
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
    if (record.status != wasm::RunStatus::kOk) {
      state.SkipWithError(("job failed: " + record.message).c_str());
      return;
    }
  }
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  state.SetLabel(ModuleName(static_cast<int>(state.range(0))));
}

void BM_InProcess(benchmark::State& state) {
  wasm::Runner runner(wasm::NewInterpreterEngine());
  const wasm::RunRequest request = Request(static_cast<int>(state.range(0)));
  runner.Run(request);  // compile once, as a warm worker has
  Measure(state, [&] { return runner.Run(request); });
}
BENCHMARK(BM_InProcess)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_Pool(benchmark::State& state) {
  auto pool = StartPool(1, UINT64_MAX);
  const wasm::RunRequest request = Request(static_cast<int>(state.range(0)));
  pool->Run(request);
  Measure(state, [&] { return pool->Run(request); });
}
BENCHMARK(BM_Pool)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// The baseline without a pool: fork the warm process per job, run it in the
// child, ship the record back over a pipe in the pool's own encoding.
void BM_ForkPerJob(benchmark::State& state) {
  wasm::Runner runner(wasm::NewInterpreterEngine());
  const wasm::RunRequest request = Request(static_cast<int>(state.range(0)));
  runner.Run(request);
  Measure(state, [&] {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      const auto bytes = EncodeResult(ResultMessage{1, runner.Run(request), 0, 0, false});
      for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t wrote = ::write(fds[1], bytes.data() + done, bytes.size() - done);
        if (wrote <= 0) ::_exit(1);
        done += static_cast<std::size_t>(wrote);
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    std::vector<std::uint8_t> bytes;
    std::uint8_t buffer[4096];
    for (ssize_t got; (got = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
      bytes.insert(bytes.end(), buffer, buffer + got);
    }
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    auto result = DecodeResult(bytes);
    return result ? result->record : wasm::RunRecord{};
  });
}
BENCHMARK(BM_ForkPerJob)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// A fresh locked-down worker for every job: what the pool saves.
void BM_FreshWorkerPerJob(benchmark::State& state) {
  auto pool = StartPool(1, 1);
  const wasm::RunRequest request = Request(static_cast<int>(state.range(0)));
  Measure(state, [&] { return pool->Run(request); });
}
BENCHMARK(BM_FreshWorkerPerJob)->Arg(0)->Unit(benchmark::kMicrosecond);

// Jobs/s through a two-worker pool from 1 and 2 submitting threads. Google
// Benchmark starts every thread's loop together, after thread 0 built the
// pool, and stops them together before thread 0 tears it down.
std::unique_ptr<Pool> shared_pool;

void BM_PoolThroughput(benchmark::State& state) {
  if (state.thread_index() == 0) shared_pool = StartPool(2, UINT64_MAX);
  const wasm::RunRequest request = Request(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    if (shared_pool->Run(request).status != wasm::RunStatus::kOk) {
      state.SkipWithError("job failed");
      break;
    }
  }
  state.counters["jobs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(ModuleName(static_cast<int>(state.range(0))));
  if (state.thread_index() == 0) shared_pool.reset();
}
BENCHMARK(BM_PoolThroughput)
    ->Arg(0)
    ->Arg(1)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace milf::sandbox

BENCHMARK_MAIN();
