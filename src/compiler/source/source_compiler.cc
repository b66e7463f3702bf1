#include "compiler/source/source_compiler.h"

#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/sha256.h"
#include "sandbox/spawn.h"

namespace milf::compiler {
namespace {

namespace fs = std::filesystem;

// Bumped whenever the command lines below change meaning, so old cache
// entries stop matching.
constexpr char kFlagsVersion[] = "milf-compile-flags-1";
constexpr char kSourceDir[] = "/compile/src";  // where the project sits in the jail
constexpr char kOutput[] = "/compile/out/module.wasm";
constexpr const char* kWasiShimAliases[] = {"ASC_WASI=1",
                                            "abort=wasi_abort",
                                            "trace=wasi_trace",
                                            "seed=wasi_seed",
                                            "console=wasi_console",
                                            "crypto=wasi_crypto",
                                            "performance=wasi_performance",
                                            "process=wasi_process",
                                            "Date=wasi_Date"};

std::string FromEnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != 0 ? value : fallback;
}

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string AscScript(const Toolchain& tools) {
  return tools.asc_dir + "/node_modules/assemblyscript/bin/asc.js";
}

std::string WasiShim(const Toolchain& tools) {
  return tools.asc_dir + "/node_modules/@assemblyscript/wasi-shim/assembly";
}

bool IsTranslationUnit(const std::string& path) {
  const auto language = LanguageOfFile(path);
  return language == Language::kC || language == Language::kCxx;
}

Status Missing(const std::string& what, const std::string& install) {
  return Fail("unavailable", fmt::format("{} is not installed ({})", what, install));
}

class ScratchDir {
 public:
  static Result<ScratchDir> Make(const std::string& parent) {
    std::string path = parent + "/compile-XXXXXX";
    if (::mkdtemp(path.data()) == nullptr) {
      return Fail("io", fmt::format("mkdtemp in {}: {}", parent, std::strerror(errno)));
    }
    return ScratchDir(std::move(path));
  }
  ScratchDir(ScratchDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Status WriteProject(const Project& project, const std::string& scratch) {
  for (const std::string& dir : {scratch + "/src", scratch + "/out"}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Fail("io", fmt::format("{}: {}", dir, ec.message()));
  }
  for (const SourceFile& file : project.files) {
    const fs::path path = fs::path(scratch) / "src" / file.path;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(file.text.data(), static_cast<std::streamsize>(file.text.size()));
    if (ec || !out.flush()) return Fail("io", fmt::format("cannot write {}", path.string()));
  }
  return {};
}

// A diagnostic for a run that stopped without saying why in its own words.
Diagnostic Stopped(const sandbox::JailOutcome& outcome, const SourceCompilerOptions& options) {
  Diagnostic diagnostic;
  diagnostic.severity = "error";
  if (outcome.timed_out) {
    diagnostic.message =
        fmt::format("the compiler was stopped after {} ms (time limit)", options.wall_ms);
  } else if (outcome.signal == SIGXCPU) {
    diagnostic.message =
        fmt::format("the compiler was stopped after {} s of CPU (CPU limit)", options.cpu_seconds);
  } else if (outcome.signal != 0) {
    diagnostic.message =
        fmt::format("the compiler was killed by {}", sandbox::SignalName(outcome.signal));
  } else {
    std::string last = Trim(outcome.output);
    last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
    diagnostic.message = fmt::format("the compiler failed (exit status {}){}", outcome.exit_code,
                                     last.empty() ? "" : ": " + last.substr(0, 300));
  }
  return diagnostic;
}

}  // namespace

struct SourceCompiler::Key {};

// What the tool runs of one compile produced.
struct SourceCompiler::Run {
  bool ok = false;
  std::vector<Diagnostic> diagnostics;
};

Toolchain DefaultToolchain() {
  Toolchain tools;
  tools.sdk_include = FromEnvOr("MILF_SDK_INCLUDE", MILF_DEFAULT_SDK_INCLUDE);
  tools.asc_dir = FromEnvOr("MILF_ASC_DIR", MILF_DEFAULT_ASC_DIR);
  return tools;
}

SourceCompiler::SourceCompiler(Key, SourceCompilerOptions options, sandbox::CompileJail jail)
    : options_(std::move(options)), jail_(std::move(jail)), cache_(options_.cache_dir) {}

Result<std::unique_ptr<SourceCompiler>> SourceCompiler::Create(SourceCompilerOptions options) {
  for (std::string* dir : {&options.cache_dir, &options.scratch_dir}) {
    std::error_code ec;
    fs::create_directories(*dir, ec);
    if (ec) return Fail("io", fmt::format("{}: {}", *dir, ec.message()));
    *dir = fs::canonical(*dir, ec).string();
    if (ec) return Fail("io", fmt::format("{}: {}", *dir, ec.message()));
  }
  for (std::string* path : {&options.toolchain.sdk_include, &options.toolchain.asc_dir}) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(*path, ec);
    if (!ec) *path = canonical.string();
  }
  auto jail = sandbox::CompileJail::Create();
  if (!jail) return Fail(jail.error());
  auto compiler = std::make_unique<SourceCompiler>(Key{}, std::move(options), std::move(*jail));
  compiler->Fingerprint();
  return compiler;
}

void SourceCompiler::Fingerprint() {
  const Toolchain& tools = options_.toolchain;
  for (const char* path : {"/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin"}) {
    if (fs::exists(fs::symlink_status(path))) read_only_.push_back(path);
  }
  for (const std::string& path : {tools.wasi_sysroot, tools.sdk_include, tools.asc_dir}) {
    const bool covered = std::any_of(
        read_only_.begin(), read_only_.end(),
        [&](const std::string& dir) { return path == dir || path.starts_with(dir + "/"); });
    if (!covered && fs::is_directory(path)) read_only_.push_back(path);
  }

  std::string identity = kFlagsVersion;
  auto scratch = ScratchDir::Make(options_.scratch_dir);
  const auto version_of = [&](std::vector<std::string> argv) -> std::optional<std::string> {
    if (!scratch || !fs::exists(argv[0])) return std::nullopt;
    auto ran = RunTool(scratch->path(), std::move(argv), options_.wall_ms);
    if (!ran || ran->exit_code != 0) return std::nullopt;
    return ran->output;
  };
  const auto clang = version_of({tools.clang, "--version"});
  const auto resource = version_of({tools.clang, "-print-resource-dir"});
  const bool wasi_libc = fs::exists(tools.wasi_sysroot + "/lib/wasm32-wasi/libc.a");
  if (!clang || !resource || !wasi_libc) {
    available_[0] = available_[1] = Missing("clang for wasm32-wasi",
                                            "apt-get install clang-14 lld-14 wasi-libc "
                                            "libc++-14-dev-wasm32 libclang-rt-14-dev-wasm32");
  } else {
    resource_include_ = Trim(*resource) + "/include";
    identity += *clang;
  }
  if (!fs::exists(tools.sdk_include + "/milf.h")) {
    available_[0] = available_[1] = Missing(
        "the MILF SDK", fmt::format("no milf.h in {}; set MILF_SDK_INCLUDE", tools.sdk_include));
  }
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(tools.sdk_include, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file()) identity += it->path().string() + ReadFile(it->path()).value_or("");
  }
  if (const auto rustc = version_of({tools.rustc, "-vV"});
      rustc && fs::is_directory("/usr/lib/rustlib/wasm32-wasi")) {
    identity += *rustc;
  } else {
    available_[3] =
        Missing("rustc for wasm32-wasi", "apt-get install rustc libstd-rust-dev-wasm32");
  }
  const auto node = version_of({tools.node, "--version"});
  const auto lock = ReadFile(tools.asc_dir + "/package-lock.json");
  if (!node || !lock || !fs::exists(AscScript(tools)) || !fs::is_directory(WasiShim(tools))) {
    available_[2] = Missing(
        "AssemblyScript", fmt::format("run `npm ci` in {} (needs node at {}), or set MILF_ASC_DIR",
                                      tools.asc_dir, tools.node));
  } else {
    identity += *node + *lock;
  }
  fingerprint_ =
      Sha256Hex(std::span(reinterpret_cast<const std::uint8_t*>(identity.data()), identity.size()));
}

Status SourceCompiler::Available(Language language) const {
  return available_[static_cast<int>(language)];
}

std::string SourceCompiler::CacheKey(const Project& project) const {
  std::string material =
      fmt::format("{}\n{}\n{}\n{}\n", fingerprint_, LanguageName(project.language), project.entry,
                  project.files.size());
  for (const SourceFile& file : project.files) {
    material += fmt::format("{}\n{}\n", file.path, file.text.size());
    material += file.text;
  }
  return Sha256Hex(
      std::span(reinterpret_cast<const std::uint8_t*>(material.data()), material.size()));
}

Result<sandbox::JailOutcome> SourceCompiler::RunTool(const std::string& scratch,
                                                     std::vector<std::string> argv,
                                                     std::int64_t wall_ms) const {
  sandbox::JailSpec spec;
  spec.argv = std::move(argv);
  spec.env = {"PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8"};
  spec.read_only = read_only_;
  spec.work_dir = scratch;
  spec.cwd = fs::exists(scratch + "/src") ? kSourceDir : sandbox::kJailWorkDir;
  spec.cpu_seconds = options_.cpu_seconds;
  spec.memory_bytes = options_.memory_bytes;
  spec.file_bytes = std::max<std::uint64_t>(options_.max_wasm_bytes, 64ULL << 20);
  spec.wall_ms = wall_ms;
  return jail_.Run(spec);
}

std::vector<std::string> SourceCompiler::CompileCommand(Language language,
                                                        const std::string& source) const {
  const Toolchain& tools = options_.toolchain;
  const std::string wasi_include = tools.wasi_sysroot + "/include/wasm32-wasi";
  std::vector<std::string> argv;
  if (language == Language::kCxx) {
    argv = {tools.clangxx, "-std=c++20", "-fno-exceptions",
            "-nostdinc++", "-isystem",   wasi_include + "/c++/v1"};
  } else {
    argv = {tools.clang};
  }
  // -nostdinc drops /usr/include and /usr/local/include from the search:
  // only the SDK, wasi-libc, libc++ and clang's own headers remain.
  for (const char* flag : {"--target=wasm32-wasi", "-O2", "-Wall", "-fno-color-diagnostics",
                           "-fno-caret-diagnostics", "-ferror-limit=50", "-nostdinc"}) {
    argv.push_back(flag);
  }
  for (const std::string& dir : {resource_include_, wasi_include}) {
    argv.push_back("-isystem");
    argv.push_back(dir);
  }
  argv.push_back("-I" + tools.sdk_include);
  argv.insert(argv.end(),
              {"-c", source, "-o",
               fmt::format("/compile/out/{}.o",
                           Sha256Hex(std::span(reinterpret_cast<const std::uint8_t*>(source.data()),
                                               source.size()))
                               .substr(0, 16))});
  return argv;
}

Result<SourceCompiler::Run> SourceCompiler::RunSteps(const Project& project,
                                                     const std::string& scratch) const {
  const Toolchain& tools = options_.toolchain;
  Run run;
  // The wall clock covers the whole compile, however many runs it takes.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.wall_ms);
  // One step's outcome: diagnostics kept; false when the compile is over.
  const auto step = [&](std::vector<std::string> argv, bool assemblyscript) -> Result<bool> {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    auto outcome = RunTool(scratch, std::move(argv), std::max<std::int64_t>(left, 1));
    if (!outcome) return Fail(outcome.error());
    auto found = assemblyscript ? ParseAssemblyScript(outcome->output, kSourceDir)
                                : ParseClangStyle(outcome->output, kSourceDir);
    const bool succeeded = outcome->exit_code == 0 && !outcome->timed_out;
    const bool stopped = outcome->timed_out || outcome->signal != 0;
    if (stopped || (!succeeded && !HasErrors(found))) found.push_back(Stopped(*outcome, options_));
    run.diagnostics.insert(run.diagnostics.end(), found.begin(), found.end());
    return succeeded;
  };

  switch (project.language) {
    case Language::kC:
    case Language::kCxx: {
      std::vector<std::string> objects;
      for (const SourceFile& file : project.files) {
        if (!IsTranslationUnit(file.path)) continue;
        auto argv = CompileCommand(*LanguageOfFile(file.path), file.path);
        objects.push_back(argv.back());
        auto compiled = step(std::move(argv), false);
        if (!compiled) return Fail(compiled.error());
        if (!*compiled) return run;
      }
      // Linked without -O: given -O the driver runs wasm-opt, which drops
      // the name section that trap messages use.
      std::vector<std::string> link = {
          project.language == Language::kCxx ? tools.clangxx : tools.clang,
          "--target=wasm32-wasi",
          "--sysroot=" + tools.wasi_sysroot,
          "-fno-color-diagnostics",
          "-Wl,--stack-first",
          "-Wl,--strip-debug",
          "-o",
          kOutput};
      link.insert(link.end(), objects.begin(), objects.end());
      auto linked = step(std::move(link), false);
      if (!linked) return Fail(linked.error());
      run.ok = *linked;
      return run;
    }
    case Language::kRust: {
      auto built =
          step({tools.rustc, "--target", "wasm32-wasi", "--edition", "2021", "--crate-type", "bin",
                "--crate-name", "module", "-C", "opt-level=2", "-C", "strip=debuginfo",
                "--error-format=short", "--color", "never", project.entry, "-o", kOutput},
               false);
      if (!built) return Fail(built.error());
      run.ok = *built;
      return run;
    }
    case Language::kAssemblyScript: {
      // asc mishandles an absolute --lib path, so the shim is given
      // relative to the working directory.
      const std::string shim = fs::path(WasiShim(tools)).lexically_relative(kSourceDir).string();
      // Without its trap handler V8 reserves no guard regions (about 10 GiB
      // of address space per wasm memory), so RLIMIT_AS stays meaningful.
      std::vector<std::string> argv = {tools.node,
                                       "--disable-wasm-trap-handler",
                                       "--max-old-space-size=1024",
                                       AscScript(tools),
                                       project.entry,
                                       "--lib",
                                       shim};
      for (const char* alias : kWasiShimAliases) {
        argv.push_back("--use");
        argv.push_back(alias);
      }
      argv.insert(argv.end(),
                  {"--exportStart", "_start", "-O2", "--noColors", "--outFile", kOutput});
      auto built = step(std::move(argv), true);
      if (!built) return Fail(built.error());
      run.ok = *built;
      return run;
    }
  }
  return run;
}

Result<CompileOutput> SourceCompiler::Compile(const Project& project) {
  const auto started = std::chrono::steady_clock::now();
  if (auto available = Available(project.language); !available) return Fail(available.error());
  const std::string key = CacheKey(project);
  CompileOutput output;
  if (auto hit = cache_.Find(key)) {
    output.ok = true;
    output.cached = true;
    output.wasm = std::move(hit->wasm);
    output.diagnostics = std::move(hit->diagnostics);
  } else {
    {
      const std::lock_guard lock(mutex_);
      if (running_ >= options_.max_concurrent) {
        return Fail("busy", fmt::format("{} compiles are running; try again shortly", running_));
      }
      ++running_;
    }
    auto compiled = CompileUncached(project);
    {
      const std::lock_guard lock(mutex_);
      --running_;
    }
    if (!compiled) return Fail(compiled.error());
    output = std::move(*compiled);
    if (output.ok) {
      // A cache that cannot be written only costs the next compile time.
      (void)cache_.Put(key, CachedCompile{output.wasm, output.diagnostics});
    }
  }
  output.language = project.language;
  output.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  return output;
}

Result<CompileOutput> SourceCompiler::CompileUncached(const Project& project) {
  auto scratch = ScratchDir::Make(options_.scratch_dir);
  if (!scratch) return Fail(scratch.error());
  if (auto written = WriteProject(project, scratch->path()); !written) return Fail(written.error());
  auto run = RunSteps(project, scratch->path());
  if (!run) return Fail(run.error());
  CompileOutput output;
  output.diagnostics = std::move(run->diagnostics);
  if (!run->ok) return output;
  const fs::path module = fs::path(scratch->path()) / "out" / "module.wasm";
  std::error_code ec;
  const auto size = fs::file_size(module, ec);
  if (ec || size > options_.max_wasm_bytes) {
    output.diagnostics.push_back(
        {"", 0, 0, "error",
         ec ? "the compiler produced no module"
            : fmt::format("the module is larger than {} bytes", options_.max_wasm_bytes)});
    return output;
  }
  const auto bytes = ReadFile(module);
  if (!bytes) return Fail("io", "cannot read " + module.string());
  output.wasm.assign(bytes->begin(), bytes->end());
  output.ok = true;
  return output;
}

}  // namespace milf::compiler
