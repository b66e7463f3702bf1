#include "compiler/aot/translator.h"

#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include "compiler/aot/glue_writer.h"
#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/ir.h"
#include "wasm/features.h"

namespace milf::aot {
namespace {

namespace fs = std::filesystem;

// A directory made by mkdtemp, removed with its contents on destruction.
class BuildDir {
 public:
  static Result<BuildDir> Create(const fs::path& root) {
    std::string pattern = (root / "build-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Fail("io", "cannot make a build directory in " + root.string());
    }
    return BuildDir(pattern);
  }
  BuildDir(BuildDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  BuildDir& operator=(BuildDir&&) = delete;
  ~BuildDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit BuildDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

Status WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Fail("io", "cannot write " + path.string());
  return {};
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("io", "cannot read " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Fail("io", "cannot read " + path.string());
  return bytes;
}

Result<std::unique_ptr<wabt::Module>> ReadModule(std::span<const std::uint8_t> wasm) {
  auto module = std::make_unique<wabt::Module>();
  const wabt::ReadBinaryOptions options(milf::wasm::SupportedFeatures(), nullptr,
                                        /*read_debug_names=*/false,
                                        /*stop_on_first_error=*/true,
                                        /*fail_on_custom_section_error=*/false);
  wabt::Errors errors;
  if (wabt::Failed(wabt::ReadBinaryIr("module", wasm.data(), wasm.size(), options, &errors,
                                      module.get()))) {
    return Fail("invalid", errors.empty() ? "cannot decode the module" : errors.front().message);
  }
  return module;
}

// The first line of a tool's output that mentions an error, else its first.
std::string ErrorLine(const std::string& output) {
  std::string first;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    const std::string line = output.substr(start, end - start);
    if (line.find("error") != std::string::npos) return line;
    if (first.empty()) first = line;
    start = end + 1;
  }
  return first;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The runtime travels with each build so that a cross compiler never sees
// the host's /usr/include.
Status CopyRuntime(const fs::path& dir, const fs::path& runtime_dir) {
  for (const char* name : {"wasm-rt.h", "wasm-rt-impl.h", "wasm-rt-impl.c"}) {
    auto text = ReadFile(runtime_dir / name);
    if (!text) return Fail("toolchain", "wasm2c runtime missing: " + text.error().message);
    if (auto ok = WriteFile(dir / name, *text); !ok) return ok;
  }
  return WriteFile(dir / kAbiHeaderName, AbiHeaderText());
}

Status WriteSources(const fs::path& dir, std::span<const std::uint8_t> wasm,
                    const GlueSources& glue, const fs::path& runtime_dir) {
  const std::string_view bytes(reinterpret_cast<const char*>(wasm.data()), wasm.size());
  if (auto ok = WriteFile(dir / "module.wasm", bytes); !ok) return ok;
  const std::pair<std::string_view, std::string_view> files[] = {
      {kGlueSourceName, glue.glue},
      {kModuleUnitName, glue.module_unit},
      {kRuntimeUnitName, RuntimeUnitSource()},
  };
  for (const auto& [name, text] : files) {
    if (auto ok = WriteFile(dir / name, text); !ok) return ok;
  }
  return CopyRuntime(dir, runtime_dir);
}

std::vector<std::string> CompilerCommand(const Toolchain& toolchain) {
  std::vector<std::string> argv = {toolchain.target().cc};
  argv.insert(argv.end(), ArtifactCompileFlags().begin(), ArtifactCompileFlags().end());
  argv.insert(argv.end(), toolchain.target().flags.begin(), toolchain.target().flags.end());
  argv.push_back("-I.");
  return argv;
}

// Runs the compiler; its first error line when it fails.
Status Compile(const Toolchain& toolchain, const std::vector<std::string>& argv,
               const fs::path& dir) {
  auto compiled = RunTool(argv, dir, toolchain.paths().tool_timeout);
  if (!compiled) return Fail("toolchain", compiled.error().message);
  if (compiled->timed_out) return Fail("toolchain", toolchain.target().cc + " timed out");
  if (compiled->exit_code != 0) {
    return Fail("toolchain", toolchain.target().cc + " failed: " + ErrorLine(compiled->output));
  }
  return {};
}

// wasm2c module.wasm -> module.c (+ module.h), with the one edit its output
// needs (ApplyElementSegmentsFirst). The size of module.c.
Result<std::uint64_t> RunWasm2c(const Toolchain& toolchain, const fs::path& dir,
                                const std::string& module_name) {
  auto translated = RunTool({toolchain.paths().wasm2c, "module.wasm", "-n", module_name,
                             "--no-debug-names", "-o", std::string(kModuleSourceName)},
                            dir, toolchain.paths().tool_timeout);
  if (!translated) return Fail("toolchain", translated.error().message);
  if (translated->timed_out) return Fail("toolchain", "wasm2c timed out");
  if (translated->exit_code != 0) {
    return Fail("unsupported", "wasm2c cannot translate the module: " + ErrorLine(translated->output));
  }
  auto module_c = ReadFile(dir / kModuleSourceName);
  if (!module_c) return Fail(module_c.error());
  if (ApplyElementSegmentsFirst(*module_c)) {
    if (auto ok = WriteFile(dir / kModuleSourceName, *module_c); !ok) return Fail(ok.error());
  }
  return module_c->size();
}

}  // namespace

Result<std::vector<std::uint8_t>> Translate(std::span<const std::uint8_t> wasm,
                                            const Toolchain& toolchain,
                                            const fs::path& work_root, TranslateStats* stats,
                                            std::span<const std::uint8_t> runtime_object) {
  auto module = ReadModule(wasm);
  if (!module) return Fail(module.error());
  const std::string module_name = ChooseModuleName(**module);
  auto glue = WriteGlue(**module, module_name);
  if (!glue) return Fail("unsupported", glue.error());
  auto dir = BuildDir::Create(work_root);
  if (!dir) return Fail(dir.error());
  if (auto ok = WriteSources(dir->path(), wasm, *glue, toolchain.paths().runtime_dir); !ok) {
    return Fail(ok.error());
  }
  const auto start = std::chrono::steady_clock::now();
  auto module_c = RunWasm2c(toolchain, dir->path(), module_name);
  if (!module_c) return Fail(module_c.error());
  if (stats != nullptr) {
    stats->wasm2c_seconds = SecondsSince(start);
    stats->c_bytes = *module_c;
  }
  std::vector<std::string> argv = CompilerCommand(toolchain);
  argv.insert(argv.end(), {"-shared", std::string(kModuleUnitName)});
  if (runtime_object.empty()) {
    argv.push_back(std::string(kRuntimeUnitName));
  } else {
    const std::string_view bytes(reinterpret_cast<const char*>(runtime_object.data()),
                                 runtime_object.size());
    if (auto ok = WriteFile(dir->path() / "runtime.o", bytes); !ok) return Fail(ok.error());
    argv.push_back("runtime.o");
  }
  argv.insert(argv.end(), {"-o", "module.so", "-lm"});
  const auto compile_start = std::chrono::steady_clock::now();
  if (auto ok = Compile(toolchain, argv, dir->path()); !ok) return Fail(ok.error());
  if (stats != nullptr) stats->cc_seconds = SecondsSince(compile_start);
  auto object = ReadFile(dir->path() / "module.so");
  if (!object) return Fail(object.error());
  return std::vector<std::uint8_t>(object->begin(), object->end());
}

Result<std::vector<std::uint8_t>> BuildRuntimeObject(const Toolchain& toolchain,
                                                     const fs::path& work_root) {
  auto dir = BuildDir::Create(work_root);
  if (!dir) return Fail(dir.error());
  if (auto ok = CopyRuntime(dir->path(), toolchain.paths().runtime_dir); !ok) {
    return Fail(ok.error());
  }
  if (auto ok = WriteFile(dir->path() / kRuntimeUnitName, RuntimeUnitSource()); !ok) {
    return Fail(ok.error());
  }
  std::vector<std::string> argv = CompilerCommand(toolchain);
  argv.insert(argv.end(), {"-c", std::string(kRuntimeUnitName), "-o", "runtime.o"});
  if (auto ok = Compile(toolchain, argv, dir->path()); !ok) return Fail(ok.error());
  auto object = ReadFile(dir->path() / "runtime.o");
  if (!object) return Fail(object.error());
  return std::vector<std::uint8_t>(object->begin(), object->end());
}

}  // namespace milf::aot
