// milf-aot-translate: builds the AOT artifact of one module for a target.
//
//   milf-aot-translate MODULE.wasm -o OUT [--target TRIPLE] [--instrument]
//                      [--shared-object]
//
// --instrument applies the execution core's instrumentation with the default
// limits first, as `milf run` and the engine do, so the artifact meters fuel
// exactly like the interpreter. OUT is an artifact (artifact.h), or with
// --shared-object the bare shared object (for harnesses that dlopen it).
// Timings go to stderr. Exit status 0 on success, 1 on any failure.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/sha256.h"
#include "compiler/aot/artifact.h"
#include "compiler/aot/toolchain.h"
#include "compiler/aot/translator.h"
#include "wasm/instrument.h"
#include "wasm/limits.h"
#include "wasm/runner.h"

namespace milf::aot {
namespace {

struct Options {
  std::string input;
  std::string output;
  std::string target = HostTarget().triple;
  bool instrument = false;
  bool shared_object = false;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "milf-aot-translate: %s\n", message.c_str());
  return 1;
}

int Main(const Options& options) {
  std::ifstream in(options.input, std::ios::binary);
  if (!in) return Fail("cannot read " + options.input);
  std::vector<std::uint8_t> wasm((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
  if (options.instrument) {
    auto instrumented = wasm::Instrument(wasm, wasm::StaticLimits(wasm::Limits{}));
    if (!instrumented) return Fail("instrumentation failed: " + instrumented.error().message);
    wasm = std::move(instrumented->wasm);
  }
  const auto target = FindTarget(options.target);
  if (!target) return Fail("unknown target " + options.target);
  const Toolchain toolchain(*target);
  auto fingerprint = toolchain.Fingerprint();
  if (!fingerprint) return Fail(fingerprint.error().message);
  TranslateStats stats;
  auto object = Translate(wasm, toolchain, std::filesystem::temp_directory_path(), &stats);
  if (!object) return Fail(object.error().code + ": " + object.error().message);
  const std::vector<std::uint8_t> bytes =
      options.shared_object
          ? *object
          : SerializeArtifact({target->triple, Sha256Hex(wasm), *fingerprint}, *object);
  std::ofstream out(options.output, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Fail("cannot write " + options.output);
  std::fprintf(stderr, "%s: %zu bytes of wasm, %llu bytes of C, wasm2c %.3f s, %s %.3f s\n",
               target->triple.c_str(), wasm.size(), static_cast<unsigned long long>(stats.c_bytes),
               stats.wasm2c_seconds, target->cc.c_str(), stats.cc_seconds);
  return 0;
}

}  // namespace
}  // namespace milf::aot

int main(int argc, char** argv) {
  milf::aot::Options options;
  CLI::App app{"Builds the AOT artifact of one WebAssembly module"};
  app.add_option("module", options.input, "module to translate")->required();
  app.add_option("-o,--output", options.output, "artifact to write")->required();
  app.add_option("--target", options.target, "x86_64-linux-gnu or aarch64-linux-gnu");
  app.add_flag("--instrument", options.instrument, "apply MILF's instrumentation first");
  app.add_flag("--shared-object", options.shared_object, "write the bare shared object");
  CLI11_PARSE(app, argc, argv);
  return milf::aot::Main(options);
}
