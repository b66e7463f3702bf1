#include "wasm/runner.h"

#include <algorithm>
#include <thread>

#include "base/random.h"
#include "wasm/fuel_meter.h"
#include "wasm/instrument.h"
#include "wasm/wasi/host_fs.h"
#include "wasm/wasi/memory_fs.h"
#include "wasm/wasi/wasi_host.h"

namespace milf::wasm {
namespace {

// 2000-01-01T00:00:00Z: where a deterministic run's realtime clock starts.
constexpr std::int64_t kDeterministicEpochNanos = 946'684'800LL * 1'000'000'000;

// The guest's view of time and chance in an ordinary run: the host's clocks,
// the kernel's randomness, and real sleeps cut short by the deadline.
class LiveEnvironment final : public wasi::WasiEnvironment {
 public:
  LiveEnvironment(const Clock& clock, std::int64_t deadline_nanos)
      : clock_(clock), deadline_nanos_(deadline_nanos), random_(NewSystemRandom()) {}

  std::int64_t RealtimeNanos() override { return clock_.RealtimeNanos(); }
  std::int64_t MonotonicNanos() override { return clock_.MonotonicNanos(); }
  void FillRandom(std::span<std::uint8_t> out) override { random_->Fill(out); }

  bool Sleep(std::int64_t nanos) override {
    const std::int64_t now = clock_.MonotonicNanos();
    const std::int64_t until = std::min(now + std::max<std::int64_t>(nanos, 0), deadline_nanos_);
    if (until > now) std::this_thread::sleep_for(std::chrono::nanoseconds(until - now));
    return clock_.MonotonicNanos() < deadline_nanos_;
  }

 private:
  const Clock& clock_;
  const std::int64_t deadline_nanos_;
  std::unique_ptr<RandomSource> random_;
};

// Deterministic runs: time is fuel used (1 unit = 1 ns) plus what the guest
// slept; randomness is the seeded stream.
class DeterministicEnvironment final : public wasi::WasiEnvironment {
 public:
  DeterministicEnvironment(const FuelMeter& meter, std::uint64_t seed)
      : meter_(meter), random_(NewSeededRandom(seed)) {}

  std::int64_t RealtimeNanos() override { return kDeterministicEpochNanos + MonotonicNanos(); }
  std::int64_t MonotonicNanos() override {
    return static_cast<std::int64_t>(meter_.FuelUsed()) + slept_nanos_;
  }
  void FillRandom(std::span<std::uint8_t> out) override { random_->Fill(out); }
  bool Sleep(std::int64_t nanos) override {
    slept_nanos_ += std::max<std::int64_t>(nanos, 0);
    return true;
  }

 private:
  const FuelMeter& meter_;
  std::unique_ptr<RandomSource> random_;
  std::int64_t slept_nanos_ = 0;
};

struct Preopens {
  std::vector<wasi::Preopen> preopens;
  std::shared_ptr<wasi::Directory> memory_out;
};

Result<Preopens, Failure> BuildPreopens(const RunRequest& request) {
  Preopens result;
  std::vector<wasi::Preopen>& preopens = result.preopens;
  for (const Mount& mount : request.mounts) {
    std::shared_ptr<wasi::Directory> dir;
    if (!mount.host_path.empty()) {
      auto host = wasi::HostDirectory::Open(mount.host_path);
      if (!host) {
        return Fail(Failure{RunStatus::kInternalError, "cannot open directory " +
                                                           mount.host_path.string() + ": " +
                                                           host.error().message});
      }
      dir = std::move(host).value();
    } else {
      auto memory = wasi::MemoryDirectory::Create();
      for (const auto& [path, bytes] : mount.files) {
        if (!memory->AddFile(path, bytes)) {
          return Fail(Failure{RunStatus::kInternalError, "cannot add input file " + path});
        }
      }
      dir = std::move(memory);
      if (mount.guest_path == "/out") result.memory_out = dir;
    }
    preopens.push_back(wasi::Preopen{mount.guest_path, std::move(dir), mount.read_only});
  }
  const bool has_out = std::any_of(request.mounts.begin(), request.mounts.end(),
                                   [](const Mount& mount) { return mount.guest_path == "/out"; });
  if (!has_out) {
    result.memory_out = wasi::MemoryDirectory::Create();
    preopens.push_back(wasi::Preopen{"/out", result.memory_out, false});
  }
  return result;
}

wasi::WasiConfig BuildWasiConfig(const RunRequest& request, std::vector<wasi::Preopen> preopens) {
  wasi::WasiConfig config;
  config.args.push_back(request.program_name);
  config.args.insert(config.args.end(), request.args.begin(), request.args.end());
  config.env = request.env;
  config.stdin_data = request.input;
  config.preopens = std::move(preopens);
  config.stdout_cap = request.limits.stdout_bytes;
  config.stderr_cap = request.limits.stderr_bytes;
  config.overflow = request.limits.output_overflow;
  config.write_quota = request.limits.out_dir_bytes;
  return config;
}

bool IsWasmMain(const ExportInfo& entry) {
  return entry.kind == ExternKind::kFunc &&
         entry.sig == FuncSig{{ValType::kI32, ValType::kI32, ValType::kI32, ValType::kI32},
                              {ValType::kI32}};
}

// One execution: the pieces that live exactly as long as the run.
class Execution {
 public:
  Execution(const RunRequest& request, const Clock& clock, std::int64_t deadline_nanos)
      : request_(request),
        meter_(request.limits.fuel, deadline_nanos, clock),
        environment_(MakeEnvironment(clock, deadline_nanos)) {}

  Result<void, Failure> Prepare() {
    auto preopens = BuildPreopens(request_);
    if (!preopens) return Fail(std::move(preopens).error());
    memory_out_ = preopens->memory_out;
    wasi_ = std::make_unique<wasi::WasiHost>(
        BuildWasiConfig(request_, std::move(preopens->preopens)), *environment_);
    wasi_->Register(imports_);
    meter_.Register(imports_);
    return {};
  }

  void Run(Engine& engine, const LoadedModule& module, RunRecord& record) {
    auto instance = engine.Instantiate(module.compiled, imports_);
    if (!instance) return Finish(instance.error(), nullptr, module, record);
    instance_ = std::move(instance).value();
    meter_.Attach(instance_.get());
    auto outcome = CallEntry(record);
    Finish(outcome ? Failure{RunStatus::kOk, ""} : outcome.error(), instance_.get(), module,
           record);
  }

 private:
  std::unique_ptr<wasi::WasiEnvironment> MakeEnvironment(const Clock& clock,
                                                         std::int64_t deadline_nanos) const {
    if (request_.deterministic) {
      return std::make_unique<DeterministicEnvironment>(meter_, request_.seed);
    }
    return std::make_unique<LiveEnvironment>(clock, deadline_nanos);
  }

  Result<void, Failure> CallEntry(RunRecord& record) {
    const ModuleInfo& info = instance_->info();
    if (const ExportInfo* init = info.FindExport("_initialize");
        init != nullptr && init->sig == FuncSig{} && request_.entry != "_initialize") {
      auto called = instance_->Call("_initialize", {});
      if (!called) return Fail(std::move(called).error());
    }
    std::string entry = request_.entry;
    if (entry.empty()) {
      if (info.FindExport("_start") != nullptr) {
        entry = "_start";
      } else if (info.FindExport("wasm_main") != nullptr) {
        entry = "wasm_main";
      } else {
        return Fail(Failure{RunStatus::kLinkError,
                            "module exports neither _start nor wasm_main; name one with --invoke"});
      }
    }
    const ExportInfo* target = info.FindExport(entry);
    if (target == nullptr || target->kind != ExternKind::kFunc) {
      return Fail(Failure{RunStatus::kLinkError, "module has no exported function '" + entry + "'"});
    }
    if (entry == "wasm_main" && IsWasmMain(*target) && request_.invoke_args.empty()) {
      return CallWasmMain();
    }
    return CallExport(*target, record);
  }

  Result<void, Failure> CallExport(const ExportInfo& target, RunRecord& record) {
    const std::vector<std::string>& texts = request_.invoke_args;
    if (texts.size() != target.sig.params.size()) {
      return Fail(Failure{RunStatus::kLinkError,
                          "'" + target.name + "' takes " + std::to_string(target.sig.params.size()) +
                              " arguments, " + std::to_string(texts.size()) + " given"});
    }
    std::vector<Value> args;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      auto value = ParseValue(target.sig.params[i], texts[i]);
      if (!value) {
        return Fail(Failure{RunStatus::kLinkError, "argument " + std::to_string(i + 1) + " '" +
                                                       texts[i] + "' is not a valid " +
                                                       ValTypeName(target.sig.params[i])});
      }
      args.push_back(*value);
    }
    auto results = instance_->Call(target.name, args);
    if (!results) return Fail(std::move(results).error());
    record.results = std::move(results).value();
    return {};
  }

  // MILF's original guest ABI: input and output buffers come from the
  // module's own malloc; the output is what wasm_main says it wrote.
  Result<void, Failure> CallWasmMain() {
    const ModuleInfo& info = instance_->info();
    const ExportInfo* malloc_export = info.FindExport("malloc");
    if (malloc_export == nullptr ||
        malloc_export->sig != FuncSig{{ValType::kI32}, {ValType::kI32}}) {
      return Fail(Failure{RunStatus::kLinkError,
                          "wasm_main modules must export malloc(i32) -> i32"});
    }
    const auto input_size = static_cast<std::uint32_t>(request_.input.size());
    const auto output_cap = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(request_.limits.stdout_bytes, UINT32_MAX));
    auto in_ptr = Allocate(input_size);
    if (!in_ptr) return Fail(std::move(in_ptr).error());
    if (!instance_->Memory().Write(*in_ptr, request_.input)) {
      return Fail(Failure{RunStatus::kTrap, "malloc returned an input buffer outside memory"});
    }
    auto out_ptr = Allocate(output_cap);
    if (!out_ptr) return Fail(std::move(out_ptr).error());
    const Value args[] = {Value::I32(*in_ptr), Value::I32(input_size), Value::I32(*out_ptr),
                          Value::I32(output_cap)};
    auto results = instance_->Call("wasm_main", args);
    if (!results) return Fail(std::move(results).error());
    const auto out_len = static_cast<std::int32_t>(results->at(0).i32());
    if (out_len < 0) {
      wasm_main_exit_ = out_len;
      return {};
    }
    if (static_cast<std::uint32_t>(out_len) > output_cap) {
      return Fail(Failure{RunStatus::kTrap, "wasm_main returned " + std::to_string(out_len) +
                                                " bytes, more than its buffer of " +
                                                std::to_string(output_cap)});
    }
    const auto output = instance_->Memory().Slice(*out_ptr, static_cast<std::uint32_t>(out_len));
    if (!output) return Fail(Failure{RunStatus::kTrap, "wasm_main output lies outside memory"});
    wasm_main_output_.assign(output->begin(), output->end());
    return {};
  }

  Result<std::uint32_t, Failure> Allocate(std::uint32_t size) {
    const Value args[] = {Value::I32(std::max<std::uint32_t>(size, 1))};
    auto pointer = instance_->Call("malloc", args);
    if (!pointer) return Fail(std::move(pointer).error());
    if (pointer->at(0).i32() == 0) {
      return Fail(Failure{RunStatus::kMemoryLimit,
                          "malloc could not allocate " + std::to_string(size) + " bytes"});
    }
    return pointer->at(0).i32();
  }

  void Finish(const Failure& failure, Instance* instance, const LoadedModule& module,
              RunRecord& record);

  const RunRequest& request_;
  FuelMeter meter_;
  std::unique_ptr<wasi::WasiEnvironment> environment_;
  std::unique_ptr<wasi::WasiHost> wasi_;
  std::shared_ptr<wasi::Directory> memory_out_;  // /out when no host directory backs it
  Imports imports_;
  std::unique_ptr<Instance> instance_;
  std::optional<std::int32_t> wasm_main_exit_;
  std::vector<std::uint8_t> wasm_main_output_;
};

std::string DescribeMeterStop(RunStatus status, const Limits& limits) {
  switch (status) {
    case RunStatus::kTimeout:
      return "exceeded the time limit of " +
             std::to_string(std::chrono::duration<double>(limits.timeout).count()) + " s";
    case RunStatus::kFuelExhausted:
      return "used its whole fuel budget of " + std::to_string(limits.fuel);
    case RunStatus::kStackOverflow:
      return "call depth exceeded the limit of " + std::to_string(limits.call_depth);
    default:
      return std::string(StatusName(status));
  }
}

std::string TrapFunction(const Instance& instance, const LoadedModule& module) {
  const std::optional<Value> index = instance.GetGlobal(kFunctionGlobal);
  if (!index || index->i32() >= module.function_names.size()) return "";
  return module.function_names[index->i32()];
}

std::vector<OutputFile> CollectOut(wasi::Directory& out, std::uint64_t max_bytes) {
  std::vector<OutputFile> files;
  auto collected = wasi::CollectFiles(out, max_bytes);
  if (!collected) return files;
  for (wasi::FileContents& file : *collected) {
    files.push_back(OutputFile{"/out/" + file.path, std::move(file.bytes)});
  }
  return files;
}

}  // namespace

// Who stopped the guest decides the status: WASI (proc_exit, a full output
// under kFail, a sleep past the deadline), the fuel meter (budget, deadline,
// call depth), else the engine's own verdict (a trap, a link error).
void Execution::Finish(const Failure& failure, Instance* instance, const LoadedModule& module,
                       RunRecord& record) {
  record.fuel_used = meter_.FuelUsed();
  if (instance != nullptr) record.peak_memory_bytes = instance->Memory().size();
  const wasi::OutputCapture& out = wasi_->stdout_capture();
  const wasi::OutputCapture& err = wasi_->stderr_capture();
  record.stdout_data.assign(out.bytes().begin(), out.bytes().end());
  record.stdout_data.insert(record.stdout_data.end(), wasm_main_output_.begin(),
                            wasm_main_output_.end());
  record.stdout_truncated = out.truncated();
  record.stderr_data.assign(err.bytes().begin(), err.bytes().end());
  record.stderr_truncated = err.truncated();
  if (memory_out_) record.out_files = CollectOut(*memory_out_, request_.limits.out_dir_bytes);

  if (const auto& stop = wasi_->stop()) {
    record.status = stop->status;
    record.exit_code = stop->exit_code;
    record.message = stop->message;
  } else if (const auto& stop = meter_.stop()) {
    record.status = *stop;
    record.message = DescribeMeterStop(*stop, request_.limits);
  } else if (failure.status == RunStatus::kOk && wasm_main_exit_) {
    record.status = RunStatus::kExitNonzero;
    record.exit_code = *wasm_main_exit_;
  } else {
    record.status = failure.status;
    record.message = failure.message;
  }
  if (record.status == RunStatus::kTrap && instance != nullptr) {
    record.trap_function = TrapFunction(*instance, module);
  }
}

InstrumentOptions StaticLimits(const Limits& limits) {
  return InstrumentOptions{limits.memory_pages(), limits.table_elements, limits.call_depth};
}

Runner::Runner(std::unique_ptr<Engine> engine, const Clock& clock)
    : engine_(std::move(engine)), cache_(*engine_), clock_(clock) {}

Runner::~Runner() = default;

RunRecord Runner::Run(const RunRequest& request) {
  RunRecord record;
  const std::int64_t wall_start = clock_.MonotonicNanos();
  const std::int64_t cpu_start = clock_.ThreadCpuNanos();
  const auto finish_timing = [&] {
    record.wall_nanos = clock_.MonotonicNanos() - wall_start;
    record.cpu_nanos = clock_.ThreadCpuNanos() - cpu_start;
  };
  if (request.module.size() > request.limits.module_bytes) {
    record.status = RunStatus::kModuleTooLarge;
    record.message = "module is " + std::to_string(request.module.size()) +
                     " bytes, the limit is " + std::to_string(request.limits.module_bytes);
    finish_timing();
    return record;
  }
  auto loaded = cache_.Load(request.module, StaticLimits(request.limits));
  if (!loaded) {
    record.status = loaded.error().status;
    record.message = loaded.error().message;
    finish_timing();
    return record;
  }
  record.module_sha256 = (*loaded)->sha256;
  // The deadline covers the guest's execution, not the one-time compile.
  Execution execution(request, clock_, clock_.MonotonicNanos() + request.limits.timeout.count());
  if (auto prepared = execution.Prepare(); !prepared) {
    record.status = prepared.error().status;
    record.message = prepared.error().message;
  } else {
    execution.Run(*engine_, **loaded, record);
  }
  finish_timing();
  return record;
}

}  // namespace milf::wasm
