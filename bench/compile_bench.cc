// Compile latency of the compiler service: source to wasm through the
// jail, cold (a source the cache has never seen) and cached, per
// language. The baseline is the same clang command run directly, without
// the jail, so the jail's own cost shows.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "compiler/source/source_compiler.h"

namespace milf::compiler {
namespace {

namespace fs = std::filesystem;

const fs::path& BenchDir() {
  static const fs::path dir =
      fs::temp_directory_path() / ("milf-compile-bench-" + std::to_string(::getpid()));
  return dir;
}

SourceCompiler& Compiler() {
  static const std::unique_ptr<SourceCompiler> compiler = [] {
    SourceCompilerOptions options;
    options.toolchain = DefaultToolchain();
    options.cache_dir = (BenchDir() / "cache").string();
    options.scratch_dir = (BenchDir() / "scratch").string();
    options.wall_ms = 120'000;
    auto created = SourceCompiler::Create(options);
    if (!created) std::abort();
    return std::move(*created);
  }();
  return *compiler;
}

std::string Hello(Language language, std::int64_t salt) {
  const std::string tag = std::to_string(salt);
  switch (language) {
    case Language::kC:
      return "#include <stdio.h>\nint main(void) { puts(\"hello " + tag + "\"); return 0; }\n";
    case Language::kCxx:
      return "#include <iostream>\n#include <string>\nint main() { std::cout << "
             "std::string(\"hello " +
             tag + "\") << '\\n'; }\n";
    case Language::kAssemblyScript:
      return "console.log(\"hello " + tag + "\");\n";
    case Language::kRust:
      return "fn main() { println!(\"hello " + tag + "\"); }\n";
  }
  return "";
}

const char* FileFor(Language language) {
  switch (language) {
    case Language::kC:
      return "hello.c";
    case Language::kCxx:
      return "hello.cpp";
    case Language::kAssemblyScript:
      return "index.ts";
    case Language::kRust:
      return "main.rs";
  }
  return "";
}

void Compile(benchmark::State& state, Language language, bool cached) {
  if (auto available = Compiler().Available(language); !available) {
    state.SkipWithError(available.error().message.c_str());
    return;
  }
  // A fresh salt per run keeps "cold" cold across repetitions and runs.
  static std::int64_t salt = static_cast<std::int64_t>(::getpid()) * 1'000'000;
  const std::int64_t fixed = ++salt;
  if (cached)
    (void)Compiler().Compile(*SingleFileProject(FileFor(language), Hello(language, fixed)));
  for (auto _ : state) {
    auto project = SingleFileProject(FileFor(language), Hello(language, cached ? fixed : ++salt));
    auto output = Compiler().Compile(*project);
    if (!output || !output->ok) {
      state.SkipWithError("compile failed");
      return;
    }
    state.counters["wasm_bytes"] = static_cast<double>(output->wasm.size());
  }
}

// The baseline: the same compile and link, straight on the host.
void BM_DirectClang(benchmark::State& state) {
  fs::create_directories(BenchDir());
  const fs::path source = BenchDir() / "direct.c";
  std::ofstream(source) << Hello(Language::kC, 0);
  const std::string object = (BenchDir() / "direct.o").string();
  const std::string command =
      "/usr/bin/clang-14 --target=wasm32-wasi -O2 -I" + DefaultToolchain().sdk_include + " -c " +
      source.string() + " -o " + object +
      " && /usr/bin/clang-14 --target=wasm32-wasi --sysroot=/usr " + object +
      " -Wl,--stack-first -Wl,--strip-debug -o " + (BenchDir() / "direct.wasm").string();
  for (auto _ : state) {
    if (std::system(command.c_str()) != 0) {
      state.SkipWithError("clang failed");
      return;
    }
  }
}

BENCHMARK(BM_DirectClang)->Unit(benchmark::kMillisecond)->Iterations(10);
BENCHMARK_CAPTURE(Compile, c_cold, Language::kC, false)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(10);
BENCHMARK_CAPTURE(Compile, c_cached, Language::kC, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);
BENCHMARK_CAPTURE(Compile, cxx_cold, Language::kCxx, false)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);
BENCHMARK_CAPTURE(Compile, cxx_cached, Language::kCxx, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);
BENCHMARK_CAPTURE(Compile, rust_cold, Language::kRust, false)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);
BENCHMARK_CAPTURE(Compile, rust_cached, Language::kRust, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);
BENCHMARK_CAPTURE(Compile, assemblyscript_cold, Language::kAssemblyScript, false)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(Compile, assemblyscript_cached, Language::kAssemblyScript, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);

}  // namespace
}  // namespace milf::compiler

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(milf::compiler::BenchDir(), ec);
  return 0;
}
