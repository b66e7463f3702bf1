// AOT benchmark (issue 6): five compute kernels (bench/guests/aot_kernels.c)
// natively with gcc -O2, on the interpreter and on the AOT tier, all in one
// run, plus compile latency (source to wasm, wasm to artifact).
//
// Tiers, for every kernel:
//   native          the kernel compiled into this binary (the baseline)
//   native_novec    the same with -fno-tree-vectorize: wasm2c's checked
//                   loads keep gcc from vectorizing, so this shows how much
//                   of a gap is vectorization
//   interp          the wabt interpreter, instrumented module (as in a run)
//   aot             the AOT tier, instrumented module (as in a run)
//   aot_unmetered   the AOT tier without instrumentation: what metering costs
//   aot_unchecked   the AOT tier, instrumented, built without bounds checks:
//                   what the explicit checks cost (guard pages would cost
//                   about nothing in steady state)
//   aot_O3          the AOT tier, instrumented, artifacts built with -O3
// After the usual table, a summary gives each tier's time over native.
// Every wasm result is checked against the native checksum.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "compiler/aot/artifact_cache.h"
#include "compiler/aot/toolchain.h"
#include "wasm/aot/aot_engine.h"
#include "wasm/engine.h"
#include "wasm/fuel_meter.h"
#include "wasm/instrument.h"
#include "wasm/limits.h"

extern "C" {
std::uint64_t aot_kernel_integer(std::uint32_t);
std::uint64_t aot_kernel_linked_list(std::uint32_t);
std::uint64_t aot_kernel_matrix(std::uint32_t);
std::uint64_t aot_kernel_state_machine(std::uint32_t);
std::uint64_t aot_kernel_crc32(std::uint32_t);
std::uint64_t aot_kernel_novec_integer(std::uint32_t);
std::uint64_t aot_kernel_novec_linked_list(std::uint32_t);
std::uint64_t aot_kernel_novec_matrix(std::uint32_t);
std::uint64_t aot_kernel_novec_state_machine(std::uint32_t);
std::uint64_t aot_kernel_novec_crc32(std::uint32_t);
}

namespace milf::wasm {
namespace {

namespace fs = std::filesystem;

struct Kernel {
  const char* name;
  std::uint64_t (*native)(std::uint32_t);
  std::uint64_t (*native_novec)(std::uint32_t);
  std::uint32_t arg;
};

// Sizes give the native baseline some milliseconds to tens of milliseconds.
constexpr Kernel kKernels[] = {
    {"integer", aot_kernel_integer, aot_kernel_novec_integer, 20'000'000},
    {"linked_list", aot_kernel_linked_list, aot_kernel_novec_linked_list, 300},
    {"matrix", aot_kernel_matrix, aot_kernel_novec_matrix, 256},
    {"state_machine", aot_kernel_state_machine, aot_kernel_novec_state_machine, 20'000'000},
    {"crc32", aot_kernel_crc32, aot_kernel_novec_crc32, 300},
};

std::vector<std::uint8_t> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "missing %s: build it first\n", path.c_str());
    std::exit(1);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::vector<std::uint8_t>& KernelsWasm() {
  static const std::vector<std::uint8_t> bytes =
      ReadFile(fs::path(MILF_BINARY_DIR) / "bench" / "aot_kernels.wasm");
  return bytes;
}

fs::path BenchCacheDir() { return fs::path(MILF_BINARY_DIR) / "aot-bench-cache"; }

// One tier's live instance of the kernels module.
struct Tier {
  std::unique_ptr<Engine> engine;
  Imports imports;
  FuelMeter meter{kUnlimitedFuel, INT64_MAX, SystemClock()};
  std::unique_ptr<Instance> instance;

  Tier(std::unique_ptr<Engine> made, bool metered) : engine(std::move(made)) {
    meter.Register(imports);
    std::vector<std::uint8_t> bytes = KernelsWasm();
    if (metered) bytes = Instrument(bytes, InstrumentOptions{})->wasm;
    auto module = engine->Compile(bytes);
    if (!module) {
      std::fprintf(stderr, "compile: %s\n", module.error().message.c_str());
      std::exit(1);
    }
    auto made_instance = engine->Instantiate(*module, imports);
    if (!made_instance) {
      std::fprintf(stderr, "instantiate: %s\n", made_instance.error().message.c_str());
      std::exit(1);
    }
    instance = std::move(made_instance).value();
    meter.Attach(instance.get());
  }
};

AotOptions BenchAotOptions(std::vector<std::string> cflags = {}) {
  AotOptions options;
  options.cache_dir = BenchCacheDir();
  options.extra_cflags = std::move(cflags);
  return options;
}

Tier& TierNamed(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tier>> tiers;
  auto& tier = tiers[name];
  if (!tier) {
    if (name == "interp") tier = std::make_unique<Tier>(NewInterpreterEngine(), true);
    if (name == "aot") tier = std::make_unique<Tier>(NewAotEngine(BenchAotOptions()), true);
    if (name == "aot_unmetered") {
      tier = std::make_unique<Tier>(NewAotEngine(BenchAotOptions()), false);
    }
    if (name == "aot_O3") {
      tier = std::make_unique<Tier>(NewAotEngine(BenchAotOptions({"-O3"})), true);
    }
    if (name == "aot_unchecked") {
      tier = std::make_unique<Tier>(
          NewAotEngine(BenchAotOptions({"-DMILF_AOT_UNCHECKED_MEMORY_FOR_BENCHMARKS"})), true);
    }
  }
  return *tier;
}

void BM_Native(benchmark::State& state, std::uint64_t (*kernel)(std::uint32_t),
               std::uint32_t arg) {
  for (auto _ : state) benchmark::DoNotOptimize(kernel(arg));
}

void BM_Wasm(benchmark::State& state, const Kernel& kernel, const std::string& tier_name) {
  Tier& tier = TierNamed(tier_name);
  const std::uint64_t expected = kernel.native(kernel.arg);
  const Value arg = Value::I32(kernel.arg);
  for (auto _ : state) {
    auto result = tier.instance->Call(kernel.name, std::span(&arg, 1));
    if (!result || (*result)[0].i64() != expected) {
      state.SkipWithError(result ? "checksum differs from native" : result.error().message.c_str());
      break;
    }
  }
}

// Wasm to artifact: translation and C compilation of one module, with the
// compiled runtime already cached (as it is after the first build).
void BM_WasmToArtifact(benchmark::State& state, const std::string& module_path, bool instrument) {
  std::vector<std::uint8_t> bytes = ReadFile(module_path);
  if (instrument) bytes = Instrument(bytes, InstrumentOptions{})->wasm;
  const fs::path dir = fs::path(MILF_BINARY_DIR) / "aot-bench-cold";
  aot::ArtifactCache cache(dir);
  const aot::Toolchain toolchain(aot::HostTarget());
  const fs::path path = *cache.PathFor(bytes, toolchain);
  double c_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::error_code ignored;
    fs::remove(path, ignored);
    state.ResumeTiming();
    auto outcome = cache.LoadOrBuild(bytes, toolchain);
    if (!outcome || outcome->hit) {
      state.SkipWithError(outcome ? "unexpected cache hit" : outcome.error().message.c_str());
      break;
    }
    c_bytes = static_cast<double>(outcome->stats.c_bytes);
  }
  state.counters["wasm_bytes"] = static_cast<double>(bytes.size());
  state.counters["c_bytes"] = c_bytes;
}

// A cache hit: validation, artifact verification and dlopen.
void BM_LoadCachedArtifact(benchmark::State& state) {
  const std::vector<std::uint8_t> bytes = Instrument(KernelsWasm(), InstrumentOptions{})->wasm;
  auto engine = NewAotEngine(BenchAotOptions());
  for (auto _ : state) {
    auto module = engine->Compile(bytes);
    if (!module) {
      state.SkipWithError(module.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(module);
  }
}

// Source to wasm: clang for wasm32-wasi on the kernels' C source.
void BM_SourceToWasm(benchmark::State& state) {
  const fs::path out = fs::path(MILF_BINARY_DIR) / "aot-bench-cold" / "kernels.wasm";
  fs::create_directories(out.parent_path());
  for (auto _ : state) {
    auto run = aot::RunTool({MILF_WASM_CLANG, "--target=wasm32-wasi", "--sysroot=" MILF_WASI_SYSROOT,
                             "-O2", "-mexec-model=reactor", "-nostartfiles", "-Wl,--no-entry",
                             MILF_AOT_KERNELS_SOURCE, "-o", out.string()},
                            ".", std::chrono::seconds(120));
    if (!run || run->exit_code != 0) {
      state.SkipWithError(run ? run->output.c_str() : run.error().message.c_str());
      break;
    }
  }
}

// Collects each kernel benchmark's CPU time for the summary: the median of
// five repetitions, and CPU rather than wall time, so that other load on
// the machine skews the ratios as little as possible.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      // The median of the repetitions, or the single run of the interpreter.
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
      if (run.error_occurred || !(median || single)) continue;
      const std::string& name = run.run_name.function_name;  // kernel/NAME/TIER
      if (name.rfind("kernel/", 0) != 0) continue;
      const std::string rest = name.substr(7);
      const auto slash = rest.find('/');
      if (slash == std::string::npos) continue;
      times_[rest.substr(0, slash)][rest.substr(slash + 1)] = run.GetAdjustedCPUTime();
    }
  }

  void PrintSummary() const {
    const char* tiers[] = {"native",        "native_novec",  "interp", "aot",
                           "aot_unmetered", "aot_unchecked", "aot_O3"};
    std::printf("\n%-14s %10s %13s %10s %10s %14s %14s %10s   (CPU time / native)\n", "kernel",
                "native ms", "native_novec", "interp", "aot", "aot_unmetered", "aot_unchecked",
                "aot_O3");
    for (const auto& [kernel, by_tier] : times_) {
      const auto native = by_tier.find("native");
      if (native == by_tier.end()) continue;
      std::printf("%-14s %10.2f", kernel.c_str(), native->second);
      for (std::size_t i = 1; i < std::size(tiers); ++i) {
        const auto it = by_tier.find(tiers[i]);
        const int width = i == 1 ? 12 : (i < 4 || i == 6 ? 9 : 13);
        if (it == by_tier.end()) {
          std::printf(" %*s ", width, "-");
        } else {
          std::printf(" %*.2fx", width, it->second / native->second);
        }
      }
      std::printf("\n");
    }
  }

 private:
  std::map<std::string, std::map<std::string, double>> times_;  // kernel -> tier -> ms
};

void RegisterAll() {
  for (const Kernel& kernel : kKernels) {
    const std::string base = std::string("kernel/") + kernel.name + "/";
    benchmark::RegisterBenchmark((base + "native").c_str(), BM_Native, kernel.native, kernel.arg)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.3)
        ->Repetitions(5)
        ->ReportAggregatesOnly(true);
    benchmark::RegisterBenchmark((base + "native_novec").c_str(), BM_Native, kernel.native_novec,
                                 kernel.arg)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.3)
        ->Repetitions(5)
        ->ReportAggregatesOnly(true);
    for (const char* tier : {"aot", "aot_unmetered", "aot_unchecked", "aot_O3"}) {
      benchmark::RegisterBenchmark((base + tier).c_str(), BM_Wasm, kernel, std::string(tier))
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.3)
          ->Repetitions(5)
          ->ReportAggregatesOnly(true);
    }
    benchmark::RegisterBenchmark((base + "interp").c_str(), BM_Wasm, kernel, std::string("interp"))
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
  const std::string examples = std::string(MILF_BINARY_DIR) + "/examples/";
  const struct {
    const char* name;
    std::string path;
  } kModules[] = {
      {"aot_kernels", std::string(MILF_BINARY_DIR) + "/bench/aot_kernels.wasm"},
      {"hello", examples + "hello.wasm"},
      {"json_transform", examples + "json_transform.wasm"},
  };
  for (const auto& module : kModules) {
    benchmark::RegisterBenchmark((std::string("compile/wasm_to_artifact/") + module.name).c_str(),
                                 BM_WasmToArtifact, module.path, true)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
  }
  benchmark::RegisterBenchmark("compile/load_cached_artifact", BM_LoadCachedArtifact)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("compile/source_to_wasm/aot_kernels", BM_SourceToWasm)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
}

}  // namespace
}  // namespace milf::wasm

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  milf::wasm::RegisterAll();
  milf::wasm::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  return 0;
}
