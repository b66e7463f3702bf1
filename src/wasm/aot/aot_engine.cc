#include "wasm/aot/aot_engine.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "base/sha256.h"
#include "compiler/aot/artifact_cache.h"
#include "wasm/aot/aot_loader.h"

namespace milf::wasm {
namespace {

using aot_internal::HostEngine;
using aot_internal::HostInstance;
using aot_internal::Library;

constexpr std::size_t kHeaderBytes = MILF_AOT_HEADER_BYTES;
static_assert(sizeof(milf_aot_instance_header) == kHeaderBytes);

Failure TrapFailure(int code) {
  switch (code) {
    case WASM_RT_TRAP_OOB: return {RunStatus::kTrap, "out of bounds memory access"};
    case MILF_AOT_TRAP_TABLE_OOB: return {RunStatus::kTrap, "out of bounds table access"};
    case WASM_RT_TRAP_INT_OVERFLOW: return {RunStatus::kTrap, "integer overflow"};
    case WASM_RT_TRAP_DIV_BY_ZERO: return {RunStatus::kTrap, "integer divide by zero"};
    case WASM_RT_TRAP_INVALID_CONVERSION: return {RunStatus::kTrap, "invalid conversion to integer"};
    case WASM_RT_TRAP_UNREACHABLE: return {RunStatus::kTrap, "unreachable executed"};
    case WASM_RT_TRAP_CALL_INDIRECT:
      // wasm-rt has one code for the interpreter's three messages.
      return {RunStatus::kTrap,
              "undefined table index, uninitialized table element or indirect call signature "
              "mismatch"};
    case WASM_RT_TRAP_EXHAUSTION: return {RunStatus::kStackOverflow, "call stack exhausted"};
    case MILF_AOT_UNWIND_HOST_STOP: return {RunStatus::kTrap, std::string(kHostStopMessage)};
    case MILF_AOT_UNWIND_OUT_OF_MEMORY:
      return {RunStatus::kMemoryLimit, "cannot allocate linear memory or a table"};
    default: return {RunStatus::kInternalError, "unknown trap code " + std::to_string(code)};
  }
}

std::uint32_t TypeCode(ValType type) {
  switch (type) {
    case ValType::kI32: return WASM_RT_I32;
    case ValType::kI64: return WASM_RT_I64;
    case ValType::kF32: return WASM_RT_F32;
    case ValType::kF64: return WASM_RT_F64;
    case ValType::kFuncRef: return WASM_RT_FUNCREF;
    case ValType::kExternRef: return WASM_RT_EXTERNREF;
    case ValType::kV128: break;
  }
  return UINT32_MAX;
}

std::optional<ValType> FromTypeCode(std::uint32_t code) {
  switch (code) {
    case WASM_RT_I32: return ValType::kI32;
    case WASM_RT_I64: return ValType::kI64;
    case WASM_RT_F32: return ValType::kF32;
    case WASM_RT_F64: return ValType::kF64;
    case WASM_RT_FUNCREF: return ValType::kFuncRef;
    case WASM_RT_EXTERNREF: return ValType::kExternRef;
    default: return std::nullopt;
  }
}

bool Is32Bit(ValType type) { return type == ValType::kI32 || type == ValType::kF32; }

Value ToValue(ValType type, std::uint64_t bits) {
  Value value;
  value.type = type;
  value.bits = Is32Bit(type) ? (bits & 0xffffffffu) : bits;
  return value;
}

std::uint64_t ToBits(const Value& value) {
  return Is32Bit(value.type) ? (value.bits & 0xffffffffu) : value.bits;
}

ExternKind KindOf(std::uint32_t kind) {
  switch (kind) {
    case MILF_AOT_EXTERN_TABLE: return ExternKind::kTable;
    case MILF_AOT_EXTERN_MEMORY: return ExternKind::kMemory;
    case MILF_AOT_EXTERN_GLOBAL: return ExternKind::kGlobal;
    default: return ExternKind::kFunc;
  }
}

std::string_view NameOf(const char* data, std::uint32_t size) { return {data, size}; }

// The block holding an instance: the ABI header, then wasm2c's struct.
// Frees both (and the instance's memories and tables) on destruction.
class InstanceStorage {
 public:
  InstanceStorage(std::shared_ptr<Library> library, std::size_t instance_size)
      : library_(std::move(library)) {
    const std::size_t size = kHeaderBytes + (instance_size + 63) / 64 * 64;
    block_ = static_cast<std::uint8_t*>(std::aligned_alloc(64, size));
    if (block_ != nullptr) std::memset(block_, 0, size);
  }
  InstanceStorage(InstanceStorage&& other) noexcept
      : library_(std::move(other.library_)), block_(std::exchange(other.block_, nullptr)),
        started_(other.started_) {}
  InstanceStorage& operator=(InstanceStorage&&) = delete;
  ~InstanceStorage() {
    if (block_ == nullptr) return;
    if (started_) library_->module().free_instance(wasm_instance());
    std::free(block_);
  }

  bool ok() const { return block_ != nullptr; }
  milf_aot_instance_header* header() const {
    return reinterpret_cast<milf_aot_instance_header*>(block_);
  }
  void* wasm_instance() const { return block_ + kHeaderBytes; }
  // From now on the instance may own memories and tables to free.
  void MarkStarted() { started_ = true; }

 private:
  std::shared_ptr<Library> library_;
  std::uint8_t* block_ = nullptr;
  bool started_ = false;
};

class LiveInstance;

// What every module and instance of one engine shares: the stack state the
// guest checks, funcref handles, and the instances that must live as long
// as the engine.
class EngineState final : public HostEngine {
 public:
  ~EngineState() override;

  std::uint64_t FuncRefToHandle(const wasm_rt_funcref_t& ref) override {
    if (ref.func == nullptr) return 0;
    handles_given_ = true;
    const auto key = std::make_tuple(reinterpret_cast<std::uintptr_t>(ref.func),
                                     reinterpret_cast<std::uintptr_t>(ref.module_instance),
                                     ref.func_type);
    const auto [it, inserted] = handles_.emplace(key, funcrefs_.size() + 1);
    if (inserted) funcrefs_.push_back(ref);
    return it->second;
  }

  wasm_rt_funcref_t HandleToFuncRef(std::uint64_t handle) override {
    if (handle == 0 || handle > funcrefs_.size()) return wasm_rt_funcref_null_value;
    return funcrefs_[handle - 1];
  }

  // Instances whose code or objects other instances (or funcref handles)
  // may still reach are destroyed with the engine, not before.
  void Retain(std::unique_ptr<LiveInstance> instance);
  bool handles_given() const { return handles_given_; }

  milf_aot_stack stack{};

 private:
  std::vector<wasm_rt_funcref_t> funcrefs_;
  std::map<std::tuple<std::uintptr_t, std::uintptr_t, std::uint32_t>, std::uint64_t> handles_;
  bool handles_given_ = false;
  std::vector<std::unique_ptr<LiveInstance>> retained_;
};

class AotModule final : public CompiledModule {
 public:
  AotModule(ModuleInfo info, std::shared_ptr<Library> library)
      : info_(std::move(info)), library_(std::move(library)) {
    for (std::size_t i = 0; i < info_.exports.size(); ++i) {
      exports_.emplace(info_.exports[i].name, static_cast<std::uint32_t>(i));
    }
  }

  const ModuleInfo& info() const override { return info_; }
  const std::shared_ptr<Library>& library() const { return library_; }
  const milf_aot_module& desc() const { return library_->module(); }

  std::optional<std::uint32_t> ExportIndex(std::string_view name, ExternKind kind) const {
    const auto it = exports_.find(name);
    if (it == exports_.end() || info_.exports[it->second].kind != kind) return std::nullopt;
    return it->second;
  }

 private:
  ModuleInfo info_;
  std::shared_ptr<Library> library_;
  std::map<std::string, std::uint32_t, std::less<>> exports_;
};

// Everything guest code can reach of one instance: its storage, where its
// imports come from and its host functions. Its address is in the
// instance's ABI header, so it never moves; the AotInstance owns it, or the
// engine once it is retained.
class LiveInstance final : public HostInstance {
 public:
  LiveInstance(std::shared_ptr<const AotModule> module, EngineState& state)
      : module_(std::move(module)),
        state_(state),
        slots_(module_->info().imports.size()),
        hosts_(module_->info().imports.size()),
        memory_export_(module_->ExportIndex("memory", ExternKind::kMemory)) {}

  const AotModule& module() const { return *module_; }
  void* wasm_instance() const { return storage_->wasm_instance(); }
  bool started() const { return storage_.has_value(); }
  bool entangled() const { return entangled_; }
  // Another instance now reaches into this one.
  void Entangle() const { entangled_ = true; }

  Result<void, Failure> Link(const Imports& imports);
  Result<void, Failure> Start();

  void* ExportObject(std::uint32_t index) const {
    return module_->desc().exports[index].object(wasm_instance());
  }

  GuestMemory Memory() const {
    if (!memory_export_ || !storage_) return {};
    const auto* memory = static_cast<const wasm_rt_memory_t*>(ExportObject(*memory_export_));
    return GuestMemory(std::span<std::uint8_t>(memory->data, memory->size));
  }

  // Runs guest code; on the outermost entry on this thread, first resets
  // the stack state every instance of the engine checks. (A host function
  // of another engine may enter this one while guest code runs: then only
  // the floor needs setting, once.)
  template <class Body>
  int Enter(Body&& body) {
    if (!aot_internal::InGuestCode()) {
      state_.stack.floor = aot_internal::ThreadStackFloor();
      state_.stack.depth = 0;
    } else if (state_.stack.floor == 0) {
      state_.stack.floor = aot_internal::ThreadStackFloor();
    }
    return body();
  }

  int CallHost(std::uint32_t import_index, const milf_aot_value* args,
               milf_aot_value* results) override;

 private:
  Result<void, Failure> LinkImport(std::size_t index, const Imports& imports);
  Result<void, Failure> LinkObject(std::size_t index, const LiveInstance& exporter,
                                   std::uint32_t export_index);

  std::shared_ptr<const AotModule> module_;
  EngineState& state_;
  std::vector<milf_aot_import_slot> slots_;
  std::vector<std::unique_ptr<HostFunction>> hosts_;  // per import; null unless a host function
  std::optional<std::uint32_t> memory_export_;
  std::optional<InstanceStorage> storage_;
  mutable bool entangled_ = false;
};

EngineState::~EngineState() = default;

void EngineState::Retain(std::unique_ptr<LiveInstance> instance) {
  retained_.push_back(std::move(instance));
}

class AotInstance final : public Instance {
 public:
  AotInstance(std::shared_ptr<const AotModule> module, std::shared_ptr<EngineState> state)
      : state_(std::move(state)), live_(std::make_unique<LiveInstance>(std::move(module), *state_)) {}

  ~AotInstance() override {
    if (live_->started() && (live_->entangled() || state_->handles_given())) {
      state_->Retain(std::move(live_));
    }
  }

  LiveInstance& live() const { return *live_; }

  const ModuleInfo& info() const override { return live_->module().info(); }

  Result<std::vector<Value>, Failure> Call(std::string_view export_name,
                                           std::span<const Value> args) override;

  GuestMemory Memory() override { return live_->Memory(); }

  std::optional<Value> GetGlobal(std::string_view export_name) const override;
  bool SetGlobal(std::string_view export_name, const Value& value) override;

 private:
  // Declared first: live_ (and anything the engine retains) needs it.
  std::shared_ptr<EngineState> state_;
  std::unique_ptr<LiveInstance> live_;
};

class CallerContext final : public HostContext {
 public:
  explicit CallerContext(const LiveInstance& instance) : instance_(instance) {}
  GuestMemory Memory() override { return instance_.Memory(); }

 private:
  const LiveInstance& instance_;
};

std::string ImportName(const ImportInfo& import) { return import.module + "." + import.name; }

Result<void, Failure> LiveInstance::Link(const Imports& imports) {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (auto linked = LinkImport(i, imports); !linked) return linked;
  }
  return {};
}

Result<void, Failure> LiveInstance::LinkImport(std::size_t index, const Imports& imports) {
  const ImportInfo& import = module_->info().imports[index];
  const auto link_error = [&](std::string what) {
    return Fail(Failure{RunStatus::kLinkError, what + " " + ImportName(import)});
  };
  if (const HostFunction* host = imports.FindFunction(import.module, import.name)) {
    if (import.kind != ExternKind::kFunc || host->sig != import.sig) {
      return link_error("incompatible import");
    }
    hosts_[index] = std::make_unique<HostFunction>(*host);
    return {};
  }
  const Instance* found = imports.FindInstance(import.module);
  if (found == nullptr) return link_error("unknown import");
  const auto* exporter_instance = dynamic_cast<const AotInstance*>(found);
  if (exporter_instance == nullptr) return link_error("import from another engine's instance:");
  const LiveInstance& exporter = exporter_instance->live();
  const auto export_index = exporter.module().ExportIndex(import.name, import.kind);
  if (!export_index) return link_error("unknown import");
  exporter.Entangle();
  entangled_ = true;
  if (import.kind != ExternKind::kFunc) return LinkObject(index, exporter, *export_index);
  if (exporter.module().info().exports[*export_index].sig != import.sig) {
    return link_error("incompatible import");
  }
  slots_[index].func = exporter.module().desc().exports[*export_index].func;
  slots_[index].func_instance = exporter.wasm_instance();
  return {};
}

// Import matching for tables, memories and globals, as the spec defines it:
// types equal; the exporter's current size at least the import's minimum;
// a maximum on the import needs one at most as large on the exporter.
Result<void, Failure> LiveInstance::LinkObject(std::size_t index, const LiveInstance& exporter,
                                               std::uint32_t export_index) {
  const milf_aot_import_desc& want = module_->desc().imports[index];
  const milf_aot_export_desc& have = exporter.module().desc().exports[export_index];
  void* object = exporter.ExportObject(export_index);
  std::uint64_t current = 0;
  bool match = true;
  switch (want.kind) {
    case MILF_AOT_EXTERN_GLOBAL:
      match = want.type == have.type && want.is_mutable == have.is_mutable;
      break;
    case MILF_AOT_EXTERN_MEMORY:
      current = static_cast<const wasm_rt_memory_t*>(object)->pages;
      break;
    case MILF_AOT_EXTERN_TABLE:
      match = want.type == have.type;
      current = want.type == WASM_RT_EXTERNREF
                    ? static_cast<const wasm_rt_externref_table_t*>(object)->size
                    : static_cast<const wasm_rt_funcref_table_t*>(object)->size;
      break;
    default: match = false;
  }
  if (want.kind != MILF_AOT_EXTERN_GLOBAL) {
    match = match && current >= want.min && (!want.has_max || (have.has_max && have.max <= want.max));
  }
  if (!match) {
    return Fail(Failure{RunStatus::kLinkError,
                        "incompatible import " + ImportName(module_->info().imports[index])});
  }
  slots_[index].object = object;
  return {};
}

Result<void, Failure> LiveInstance::Start() {
  const milf_aot_module& desc = module_->desc();
  InstanceStorage storage(module_->library(), desc.instance_size);
  if (!storage.ok()) return Fail(Failure{RunStatus::kMemoryLimit, "cannot allocate the instance"});
  storage_.emplace(std::move(storage));
  milf_aot_instance_header* header = storage_->header();
  header->stack = &state_.stack;
  header->host_instance = static_cast<HostInstance*>(this);
  header->engine = static_cast<HostEngine*>(&state_);
  header->imports = slots_.data();
  header->env.self = &header->env;
  header->env.header = header;
  storage_->MarkStarted();
  const int code = Enter([&] { return desc.instantiate(wasm_instance()); });
  if (code != 0) return Fail(TrapFailure(code));
  return {};
}

int LiveInstance::CallHost(std::uint32_t import_index, const milf_aot_value* args,
                           milf_aot_value* results) {
  const HostFunction* function = import_index < hosts_.size() ? hosts_[import_index].get() : nullptr;
  if (function == nullptr) return WASM_RT_TRAP_UNREACHABLE;
  const FuncSig& sig = function->sig;
  // Most host calls (WASI, metering) take a handful of values: no heap.
  constexpr std::size_t kInline = 8;
  std::array<Value, kInline> in_inline;
  std::array<Value, kInline> out_inline;
  std::vector<Value> in_heap;
  std::vector<Value> out_heap;
  std::span<Value> in(in_inline.data(), std::min(sig.params.size(), kInline));
  std::span<Value> out(out_inline.data(), std::min(sig.results.size(), kInline));
  if (sig.params.size() > kInline) {
    in_heap.resize(sig.params.size());
    in = in_heap;
  }
  if (sig.results.size() > kInline) {
    out_heap.resize(sig.results.size());
    out = out_heap;
  }
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = ToValue(sig.params[i], args[i].bits);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = ToValue(sig.results[i], 0);
  CallerContext context(*this);
  if (function->callback(context, in, out) == HostAction::kStop) return MILF_AOT_UNWIND_HOST_STOP;
  for (std::size_t i = 0; i < out.size(); ++i) results[i].bits = ToBits(out[i]);
  return 0;
}

Result<std::vector<Value>, Failure> AotInstance::Call(std::string_view export_name,
                                                      std::span<const Value> args) {
  const AotModule& module = live_->module();
  const auto index = module.ExportIndex(export_name, ExternKind::kFunc);
  if (!index) {
    return Fail(Failure{RunStatus::kLinkError,
                        "no exported function '" + std::string(export_name) + "'"});
  }
  const FuncSig& sig = info().exports[*index].sig;
  if (args.size() != sig.params.size()) {
    return Fail(Failure{RunStatus::kInternalError,
                        "'" + std::string(export_name) + "' takes " +
                            std::to_string(sig.params.size()) + " arguments, got " +
                            std::to_string(args.size())});
  }
  std::vector<milf_aot_value> in(args.size() + 1);
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i].type != sig.params[i]) {
      return Fail(Failure{RunStatus::kInternalError,
                          "argument " + std::to_string(i + 1) + " of '" + std::string(export_name) +
                              "' is " + ValTypeName(args[i].type) + ", expected " +
                              ValTypeName(sig.params[i])});
    }
    in[i].bits = ToBits(args[i]);
  }
  std::vector<milf_aot_value> out(sig.results.size() + 1);
  void* instance = live_->wasm_instance();
  const int code =
      live_->Enter([&] { return module.desc().call(instance, *index, in.data(), out.data()); });
  if (code != 0) return Fail(TrapFailure(code));
  std::vector<Value> results;
  results.reserve(sig.results.size());
  for (std::size_t i = 0; i < sig.results.size(); ++i) {
    results.push_back(ToValue(sig.results[i], out[i].bits));
  }
  return results;
}

std::optional<Value> AotInstance::GetGlobal(std::string_view export_name) const {
  const auto index = live_->module().ExportIndex(export_name, ExternKind::kGlobal);
  if (!index) return std::nullopt;
  const auto type = FromTypeCode(live_->module().desc().exports[*index].type);
  if (!type) return std::nullopt;
  const void* object = live_->ExportObject(*index);
  switch (*type) {
    case ValType::kI32:
    case ValType::kF32: return ToValue(*type, *static_cast<const std::uint32_t*>(object));
    case ValType::kI64:
    case ValType::kF64: return ToValue(*type, *static_cast<const std::uint64_t*>(object));
    case ValType::kFuncRef:
      return ToValue(*type, state_->FuncRefToHandle(*static_cast<const wasm_rt_funcref_t*>(object)));
    case ValType::kExternRef:
      return ToValue(*type, reinterpret_cast<std::uintptr_t>(
                                *static_cast<const wasm_rt_externref_t*>(object)));
    case ValType::kV128: break;
  }
  return std::nullopt;
}

bool AotInstance::SetGlobal(std::string_view export_name, const Value& value) {
  const auto index = live_->module().ExportIndex(export_name, ExternKind::kGlobal);
  if (!index) return false;
  const milf_aot_export_desc& desc = live_->module().desc().exports[*index];
  if (!desc.is_mutable || desc.type != TypeCode(value.type)) return false;
  void* object = live_->ExportObject(*index);
  switch (value.type) {
    case ValType::kI32:
    case ValType::kF32: *static_cast<std::uint32_t*>(object) = value.i32(); return true;
    case ValType::kI64:
    case ValType::kF64: *static_cast<std::uint64_t*>(object) = value.bits; return true;
    case ValType::kFuncRef:
      *static_cast<wasm_rt_funcref_t*>(object) = state_->HandleToFuncRef(value.bits);
      return true;
    case ValType::kExternRef:
      *static_cast<wasm_rt_externref_t*>(object) =
          reinterpret_cast<wasm_rt_externref_t>(static_cast<std::uintptr_t>(value.bits));
      return true;
    case ValType::kV128: break;
  }
  return false;
}

Failure TranslationFailure(const Error& error) {
  if (error.code == "unsupported" || error.code == "invalid") {
    return {RunStatus::kInvalidModule, "unsupported by the AOT tier: " + error.message};
  }
  return {RunStatus::kInternalError, "AOT build failed (" + error.code + "): " + error.message};
}

// The artifact must describe the module the validator saw.
bool Matches(const milf_aot_module& desc, const ModuleInfo& info) {
  if (desc.import_count != info.imports.size() || desc.export_count != info.exports.size()) {
    return false;
  }
  for (std::size_t i = 0; i < info.imports.size(); ++i) {
    const milf_aot_import_desc& import = desc.imports[i];
    if (NameOf(import.module, import.module_len) != info.imports[i].module ||
        NameOf(import.name, import.name_len) != info.imports[i].name ||
        KindOf(import.kind) != info.imports[i].kind) {
      return false;
    }
  }
  for (std::size_t i = 0; i < info.exports.size(); ++i) {
    const milf_aot_export_desc& entry = desc.exports[i];
    if (NameOf(entry.name, entry.name_len) != info.exports[i].name ||
        KindOf(entry.kind) != info.exports[i].kind) {
      return false;
    }
  }
  return true;
}

aot::Target HostTargetWith(const std::vector<std::string>& flags) {
  aot::Target target = aot::HostTarget();
  target.flags.insert(target.flags.end(), flags.begin(), flags.end());
  return target;
}

class AotEngine final : public Engine {
 public:
  explicit AotEngine(AotOptions options)
      : options_(std::move(options)),
        toolchain_(HostTargetWith(options_.extra_cflags), options_.toolchain),
        cache_(options_.cache_dir.empty() ? aot::ArtifactCache::DefaultDir() : options_.cache_dir) {}

  Result<std::shared_ptr<const CompiledModule>, Failure> Compile(
      std::span<const std::uint8_t> wasm) override {
    // The interpreter's decoder and validator: the same verdicts, messages
    // and module description on both tiers.
    auto checked = validator_->Compile(wasm);
    if (!checked) return Fail(std::move(checked).error());
    ModuleInfo info = (*checked)->info();
    if (options_.artifact_source) return LoadSupplied(wasm, std::move(info));
    if (cache_.dir().empty()) {
      return Fail(Failure{RunStatus::kInternalError,
                          "no AOT cache directory: set XDG_CACHE_HOME or HOME"});
    }
    auto outcome = cache_.LoadOrBuild(wasm, toolchain_);
    if (!outcome) return Fail(TranslationFailure(outcome.error()));
    Report(*outcome, wasm);
    auto library = Library::Load(outcome->artifact.object, cache_.dir() / "tmp");
    if (!library) {
      return Fail(Failure{RunStatus::kInternalError, "cannot load the AOT artifact " +
                                                         outcome->path.string() + ": " +
                                                         library.error().message});
    }
    if (!Matches((*library)->module(), info)) {
      return Fail(Failure{RunStatus::kInternalError,
                          "AOT artifact " + outcome->path.string() + " does not match its module"});
    }
    return std::shared_ptr<const CompiledModule>(
        std::make_shared<AotModule>(std::move(info), std::move(library).value()));
  }

  // The artifact comes from options_.artifact_source, already verified by
  // whoever supplies it; it must be this module's, for this target.
  Result<std::shared_ptr<const CompiledModule>, Failure> LoadSupplied(
      std::span<const std::uint8_t> wasm, ModuleInfo info) {
    const std::string sha256 = Sha256Hex(wasm);
    const auto refuse = [](const std::string& why) {
      return Fail(Failure{RunStatus::kInternalError, "no usable AOT artifact: " + why});
    };
    auto artifact = options_.artifact_source(sha256);
    if (!artifact) return refuse(artifact.error().message);
    if (artifact->info.module_sha256 != sha256 ||
        artifact->info.target != toolchain_.target().triple) {
      return refuse("the artifact was built for another module or target");
    }
    const std::filesystem::path scratch =
        options_.load_dir.empty() ? cache_.dir() / "tmp" : options_.load_dir;
    auto library = Library::Load(artifact->object, scratch);
    if (!library) return refuse(library.error().message);
    if (!Matches((*library)->module(), info)) return refuse("the artifact does not match its module");
    return std::shared_ptr<const CompiledModule>(
        std::make_shared<AotModule>(std::move(info), std::move(library).value()));
  }

  Result<std::unique_ptr<Instance>, Failure> Instantiate(
      const std::shared_ptr<const CompiledModule>& module, const Imports& imports) override {
    auto aot_module = std::dynamic_pointer_cast<const AotModule>(module);
    if (!aot_module) {
      return Fail(Failure{RunStatus::kInternalError, "module was compiled by another engine"});
    }
    auto instance = std::make_unique<AotInstance>(std::move(aot_module), state_);
    if (auto linked = instance->live().Link(imports); !linked) return Fail(std::move(linked).error());
    if (auto started = instance->live().Start(); !started) return Fail(std::move(started).error());
    return std::unique_ptr<Instance>(std::move(instance));
  }

 private:
  void Report(const aot::CacheOutcome& outcome, std::span<const std::uint8_t> wasm) const {
    if (!options_.on_event) return;
    const std::string sha256 = Sha256Hex(wasm);
    if (outcome.rejected) {
      options_.on_event({AotEvent::Kind::kRejected, sha256, outcome.path, *outcome.rejected, 0});
    }
    if (outcome.hit) {
      options_.on_event({AotEvent::Kind::kCacheHit, sha256, outcome.path, "", 0});
      return;
    }
    const aot::TranslateStats& stats = outcome.stats;
    options_.on_event(
        {AotEvent::Kind::kBuilt, sha256, outcome.path,
         "wasm2c " + std::to_string(stats.wasm2c_seconds) + " s, cc " +
             std::to_string(stats.cc_seconds) + " s, " + std::to_string(stats.c_bytes) + " bytes of C",
         outcome.build_seconds});
  }

  AotOptions options_;
  aot::Toolchain toolchain_;
  aot::ArtifactCache cache_;
  std::unique_ptr<Engine> validator_ = NewInterpreterEngine();
  std::shared_ptr<EngineState> state_ = std::make_shared<EngineState>();
};

}  // namespace

void PrepareAotThread() { (void)aot_internal::ThreadStackFloor(); }

std::unique_ptr<Engine> NewAotEngine(AotOptions options) {
  return std::make_unique<AotEngine>(std::move(options));
}

Result<std::unique_ptr<Engine>> NewEngineForTier(std::string_view tier, AotOptions options) {
  if (tier == "interp") return NewInterpreterEngine();
  if (tier == "aot") return NewAotEngine(std::move(options));
  return Fail("usage", "unknown tier '" + std::string(tier) + "' (interp or aot)");
}

}  // namespace milf::wasm
