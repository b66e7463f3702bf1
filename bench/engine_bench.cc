// Execution-core benchmarks: compile, cached instantiation, call overhead,
// metering overhead (metered vs the same module unmetered, same engine, same
// run), and hello's _start end to end.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "wasm/engine.h"
#include "wasm/fuel_meter.h"
#include "wasm/instrument.h"
#include "wasm/runner.h"

namespace milf::wasm {
namespace {

std::vector<std::uint8_t> Load(const std::string& relative) {
  const std::string path = std::string(MILF_BINARY_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "missing %s: build first (make build)\n", path.c_str());
    std::exit(1);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::vector<std::uint8_t>& Kernels() {
  static const std::vector<std::uint8_t> bytes = Load("bench/bench_kernels.wasm");
  return bytes;
}

const std::vector<std::uint8_t>& Hello() {
  static const std::vector<std::uint8_t> bytes = Load("examples/hello.wasm");
  return bytes;
}

void BM_CompileHello(benchmark::State& state) {
  auto engine = NewInterpreterEngine();
  for (auto _ : state) {
    auto instrumented = Instrument(Hello(), InstrumentOptions{});
    auto module = engine->Compile(instrumented->wasm);
    benchmark::DoNotOptimize(module);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * Hello().size()));
}
BENCHMARK(BM_CompileHello)->Unit(benchmark::kMicrosecond);

void BM_InstrumentOnlyHello(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Instrument(Hello(), InstrumentOptions{}));
}
BENCHMARK(BM_InstrumentOnlyHello)->Unit(benchmark::kMicrosecond);

void BM_InstantiateCached(benchmark::State& state) {
  auto engine = NewInterpreterEngine();
  ModuleCache cache(*engine);
  const InstrumentOptions options;
  Imports imports;
  FuelMeter meter(kUnlimitedFuel, INT64_MAX, SystemClock());
  meter.Register(imports);
  for (auto _ : state) {
    auto loaded = cache.Load(Kernels(), options);  // a hit after the first round
    auto instance = engine->Instantiate((*loaded)->compiled, imports);
    benchmark::DoNotOptimize(instance);
  }
}
BENCHMARK(BM_InstantiateCached)->Unit(benchmark::kMicrosecond);

struct Loaded {
  std::unique_ptr<Engine> engine = NewInterpreterEngine();
  Imports imports;
  FuelMeter meter{kUnlimitedFuel, INT64_MAX, SystemClock()};
  std::unique_ptr<Instance> instance;

  explicit Loaded(bool metered) {
    meter.Register(imports);
    std::vector<std::uint8_t> bytes = Kernels();
    if (metered) bytes = Instrument(bytes, InstrumentOptions{})->wasm;
    auto module = engine->Compile(bytes);
    instance = std::move(engine->Instantiate(*module, imports)).value();
    meter.Attach(instance.get());
  }
};

void BM_CallEmptyExport(benchmark::State& state) {
  Loaded loaded(state.range(0) != 0);
  for (auto _ : state) benchmark::DoNotOptimize(loaded.instance->Call("nop", {}));
  state.SetLabel(state.range(0) ? "metered" : "unmetered");
}
BENCHMARK(BM_CallEmptyExport)->Arg(0)->Arg(1);

void RunKernel(benchmark::State& state, const char* name, std::uint32_t arg) {
  Loaded loaded(state.range(0) != 0);
  const Value args[] = {Value::I32(arg)};
  const std::span<const Value> call_args(args, name == std::string("matmul") ? 0 : 1);
  for (auto _ : state) benchmark::DoNotOptimize(loaded.instance->Call(name, call_args));
  state.SetLabel(state.range(0) ? "metered" : "unmetered");
}

void BM_KernelMix(benchmark::State& state) { RunKernel(state, "mix", 1'000'000); }
BENCHMARK(BM_KernelMix)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_KernelFib(benchmark::State& state) { RunKernel(state, "fib", 22); }
BENCHMARK(BM_KernelFib)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_KernelMatmul(benchmark::State& state) { RunKernel(state, "matmul", 0); }
BENCHMARK(BM_KernelMatmul)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_HelloEndToEnd(benchmark::State& state) {
  Runner runner(NewInterpreterEngine());
  RunRequest request;
  request.module = Hello();
  for (auto _ : state) {
    RunRecord record = runner.Run(request);
    if (record.status != RunStatus::kOk) state.SkipWithError(record.message.c_str());
    benchmark::DoNotOptimize(record);
  }
}
BENCHMARK(BM_HelloEndToEnd)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace milf::wasm

BENCHMARK_MAIN();
