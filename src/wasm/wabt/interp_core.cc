// Compiled as C++17: see interp_core.h.
#include "wasm/wabt/interp_core.h"

#include "wasm/features.h"

#include <wabt/binary-reader.h>
#include <wabt/error-formatter.h>
#include <wabt/interp/binary-reader-interp.h>
#include <wabt/interp/interp.h>

#include <cstring>
#include <map>
#include <utility>

namespace milf::wasm::wabt_interp {
namespace {

namespace wi = wabt::interp;

ValType FromWabt(wabt::Type type) {
  switch (type) {
    case wabt::Type::I64: return ValType::kI64;
    case wabt::Type::F32: return ValType::kF32;
    case wabt::Type::F64: return ValType::kF64;
    case wabt::Type::V128: return ValType::kV128;
    case wabt::Type::FuncRef: return ValType::kFuncRef;
    case wabt::Type::ExternRef: return ValType::kExternRef;
    default: return ValType::kI32;
  }
}

wabt::Type ToWabt(ValType type) {
  switch (type) {
    case ValType::kI32: return wabt::Type::I32;
    case ValType::kI64: return wabt::Type::I64;
    case ValType::kF32: return wabt::Type::F32;
    case ValType::kF64: return wabt::Type::F64;
    case ValType::kV128: return wabt::Type::V128;
    case ValType::kFuncRef: return wabt::Type::FuncRef;
    case ValType::kExternRef: return wabt::Type::ExternRef;
  }
  return wabt::Type::I32;
}

FuncSig ToSig(const wi::FuncType& type) {
  FuncSig sig;
  for (const wabt::Type param : type.params) sig.params.push_back(FromWabt(param));
  for (const wabt::Type result : type.results) sig.results.push_back(FromWabt(result));
  return sig;
}

wi::FuncType ToFuncType(const FuncSig& sig) {
  wi::ValueTypes params;
  wi::ValueTypes results;
  for (const ValType param : sig.params) params.push_back(ToWabt(param));
  for (const ValType result : sig.results) results.push_back(ToWabt(result));
  return wi::FuncType(std::move(params), std::move(results));
}

ExternKind ToKind(wabt::ExternalKind kind) {
  switch (kind) {
    case wabt::ExternalKind::Table: return ExternKind::kTable;
    case wabt::ExternalKind::Memory: return ExternKind::kMemory;
    case wabt::ExternalKind::Global: return ExternKind::kGlobal;
    case wabt::ExternalKind::Tag: return ExternKind::kTag;
    default: return ExternKind::kFunc;
  }
}

FuncSig SigOf(const wi::ExternType& type) {
  if (const auto* func = wabt::dyn_cast<wi::FuncType>(&type)) return ToSig(*func);
  return {};
}

ModuleInfo DescribeModule(const wi::Module& module) {
  ModuleInfo info;
  for (const wi::ImportType& import : module.import_types()) {
    info.imports.push_back(
        {import.module, import.name, ToKind(import.type->kind), SigOf(*import.type)});
  }
  for (const wi::ExportType& entry : module.export_types()) {
    info.exports.push_back({entry.name, ToKind(entry.type->kind), SigOf(*entry.type)});
  }
  return info;
}

RunStatus ClassifyTrap(const std::string& message) {
  if (message == "call stack exhausted" || message == "value stack exhausted") {
    return RunStatus::kStackOverflow;
  }
  return RunStatus::kTrap;
}

}  // namespace

// Externref values the host passes in become wabt Foreign objects; the map
// keeps each alive and lets results map back to the host's handle.
struct Core::Impl {
  wi::Store store{SupportedFeatures()};
  std::map<std::uint64_t, wi::Foreign::Ptr> externs;

  wi::Value ToWabtValue(const Value& value) {
    switch (value.type) {
      case ValType::kI32:
      case ValType::kF32: return wi::Value::Make(static_cast<wi::u32>(value.bits));
      case ValType::kI64:
      case ValType::kF64: return wi::Value::Make(static_cast<wi::u64>(value.bits));
      case ValType::kV128: {
        ::v128 vector;
        std::memcpy(vector.v, value.v128.data(), sizeof vector.v);
        return wi::Value::Make(vector);
      }
      case ValType::kFuncRef: return wi::Value::Make(wi::Ref{static_cast<std::size_t>(value.bits)});
      case ValType::kExternRef: return wi::Value::Make(ExternRefFor(value.bits));
    }
    return {};
  }

  Value FromWabtValue(wabt::Type type, const wi::Value& value) {
    Value out;
    out.type = FromWabt(type);
    switch (out.type) {
      case ValType::kI32:
      case ValType::kF32: out.bits = value.Get<wi::u32>(); break;
      case ValType::kI64:
      case ValType::kF64: out.bits = value.Get<wi::u64>(); break;
      case ValType::kV128: {
        const ::v128 vector = value.Get<::v128>();
        std::memcpy(out.v128.data(), vector.v, sizeof vector.v);
        break;
      }
      case ValType::kFuncRef: out.bits = value.Get<wi::Ref>().index; break;
      case ValType::kExternRef: out.bits = HandleFor(value.Get<wi::Ref>()); break;
    }
    return out;
  }

  wi::Ref ExternRefFor(std::uint64_t handle) {
    if (handle == 0) return wi::Ref::Null;
    auto it = externs.find(handle);
    if (it == externs.end()) {
      it = externs.emplace(handle, wi::Foreign::New(store, reinterpret_cast<void*>(handle))).first;
    }
    return it->second.ref();
  }

  std::uint64_t HandleFor(wi::Ref ref) {
    if (ref == wi::Ref::Null) return 0;
    if (!store.Is<wi::Foreign>(ref)) return ref.index;
    return reinterpret_cast<std::uint64_t>(store.UnsafeGet<wi::Foreign>(ref)->ptr());
  }

  wi::Values ToWabtValues(const std::vector<Value>& values) {
    wi::Values out;
    out.reserve(values.size());
    for (const Value& value : values) out.push_back(ToWabtValue(value));
    return out;
  }

  std::vector<Value> FromWabtValues(const wi::ValueTypes& types, const wi::Values& values) {
    std::vector<Value> out;
    out.reserve(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) out.push_back(FromWabtValue(types[i], values[i]));
    return out;
  }
};

struct CoreModule::Impl {
  wi::Module::Ptr module;
};

CoreModule::CoreModule(std::unique_ptr<Impl> impl, ModuleInfo info)
    : impl_(std::move(impl)), info_(std::move(info)) {}

CoreModule::~CoreModule() {
  wi::Store* store = impl_->module.store();
  impl_->module.reset();
  if (store != nullptr) store->Collect();
}

struct CoreInstance::Impl {
  Core::Impl* core = nullptr;
  wi::Instance::Ptr instance;
  std::vector<wi::HostFunc::Ptr> host_functions;

  std::optional<wi::Ref> FindExport(const ModuleInfo& info, const std::string& name,
                                    ExternKind kind) const {
    for (std::size_t i = 0; i < info.exports.size(); ++i) {
      if (info.exports[i].name == name && info.exports[i].kind == kind) {
        return instance->exports()[i];
      }
    }
    return std::nullopt;
  }
};

CoreInstance::CoreInstance(std::unique_ptr<Impl> impl, ModuleInfo info)
    : impl_(std::move(impl)), info_(std::move(info)) {}

CoreInstance::~CoreInstance() {
  impl_->instance.reset();
  impl_->host_functions.clear();
  impl_->core->store.Collect();
}

namespace {

MemoryView ViewOf(wi::Store& store, std::optional<wi::Ref> ref) {
  if (!ref) return {};
  wi::Memory::Ptr memory = store.UnsafeGet<wi::Memory>(*ref);
  return {memory->UnsafeData(), memory->ByteSize()};
}

// The memory exported as "memory" by the instance that made a host call.
MemoryView CallerMemory(wi::Store& store, wi::Thread& thread) {
  wi::Instance* caller = thread.GetCallerInstance();
  if (caller == nullptr) return {};
  const wi::Module::Ptr module = store.UnsafeGet<wi::Module>(caller->module());
  const auto& exports = module->export_types();
  for (std::size_t i = 0; i < exports.size(); ++i) {
    if (exports[i].name == "memory" && exports[i].type->kind == wabt::ExternalKind::Memory) {
      return ViewOf(store, caller->exports()[i]);
    }
  }
  return {};
}

}  // namespace

Result<std::vector<Value>, Failure> CoreInstance::Call(const std::string& export_name,
                                                       const std::vector<Value>& args) {
  const std::optional<wi::Ref> ref = impl_->FindExport(info_, export_name, ExternKind::kFunc);
  if (!ref) return Fail(Failure{RunStatus::kLinkError, "no exported function '" + export_name + "'"});
  Core::Impl& core = *impl_->core;
  wi::Func::Ptr func = core.store.UnsafeGet<wi::Func>(*ref);
  const wi::FuncType& type = func->type();
  if (args.size() != type.params.size()) {
    return Fail(Failure{RunStatus::kInternalError,
                        "'" + export_name + "' takes " + std::to_string(type.params.size()) +
                            " arguments, got " + std::to_string(args.size())});
  }
  wi::Values results;
  wi::Trap::Ptr trap;
  wi::Thread thread(core.store);
  // wabt 1.0.32 can record a trap yet report success (call stack overflow in
  // call_indirect), so the trap pointer is checked too.
  if (wabt::Failed(func->Call(thread, core.ToWabtValues(args), results, &trap)) || trap) {
    const std::string message = trap ? trap->message() : "unknown trap";
    return Fail(Failure{ClassifyTrap(message), message});
  }
  return core.FromWabtValues(type.results, results);
}

MemoryView CoreInstance::Memory() const {
  return ViewOf(impl_->core->store, impl_->FindExport(info_, "memory", ExternKind::kMemory));
}

std::optional<Value> CoreInstance::GetGlobal(const std::string& export_name) const {
  const std::optional<wi::Ref> ref = impl_->FindExport(info_, export_name, ExternKind::kGlobal);
  if (!ref) return std::nullopt;
  Core::Impl& core = *impl_->core;
  const wi::Global::Ptr global = core.store.UnsafeGet<wi::Global>(*ref);
  return core.FromWabtValue(global->type().type, global->Get());
}

bool CoreInstance::SetGlobal(const std::string& export_name, const Value& value) {
  const std::optional<wi::Ref> ref = impl_->FindExport(info_, export_name, ExternKind::kGlobal);
  if (!ref) return false;
  Core::Impl& core = *impl_->core;
  wi::Global::Ptr global = core.store.UnsafeGet<wi::Global>(*ref);
  if (global->type().mut != wi::Mutability::Var || FromWabt(global->type().type) != value.type) {
    return false;
  }
  global->UnsafeSet(core.ToWabtValue(value));
  return true;
}

Core::Core() : impl_(std::make_unique<Impl>()) {}

Core::~Core() = default;

Result<std::shared_ptr<const CoreModule>, Failure> Core::Compile(const std::uint8_t* data,
                                                                 std::size_t size) {
  const wabt::ReadBinaryOptions options(impl_->store.features(), nullptr,
                                        /*read_debug_names=*/false,
                                        /*stop_on_first_error=*/true,
                                        /*fail_on_custom_section_error=*/true);
  wabt::Errors errors;
  wi::ModuleDesc desc;
  if (wabt::Failed(wi::ReadBinaryInterp("module", data, size, options, &errors, &desc))) {
    std::string message = errors.empty() ? "invalid module" : errors.front().message;
    return Fail(Failure{RunStatus::kInvalidModule, std::move(message)});
  }
  auto impl = std::make_unique<CoreModule::Impl>();
  impl->module = wi::Module::New(impl_->store, std::move(desc));
  ModuleInfo info = DescribeModule(*impl->module);
  return std::shared_ptr<const CoreModule>(new CoreModule(std::move(impl), std::move(info)));
}

namespace {

wi::HostFunc::Ptr MakeHostFunc(Core::Impl& core, std::shared_ptr<const HostBinding> binding) {
  const wi::FuncType type = ToFuncType(binding->sig);
  return wi::HostFunc::New(
      core.store, type,
      [&core, binding, type](wi::Thread& thread, const wi::Values& params, wi::Values& results,
                             wi::Trap::Ptr* out_trap) -> wabt::Result {
        std::vector<Value> host_results(type.results.size());
        for (std::size_t i = 0; i < host_results.size(); ++i) {
          host_results[i].type = FromWabt(type.results[i]);
        }
        const auto memory = [&core, &thread] { return CallerMemory(core.store, thread); };
        if (!binding->call(core.FromWabtValues(type.params, params), host_results, memory)) {
          *out_trap = wi::Trap::New(core.store, kHostStopMessage);
          return wabt::Result::Error;
        }
        for (std::size_t i = 0; i < results.size() && i < host_results.size(); ++i) {
          results[i] = core.ToWabtValue(host_results[i]);
        }
        return wabt::Result::Ok;
      });
}

}  // namespace

Result<std::unique_ptr<CoreInstance>, Failure> Core::Instantiate(
    const std::shared_ptr<const CoreModule>& module, const std::vector<ImportSource>& sources) {
  const wi::Module::Ptr& wabt_module = module->impl_->module;
  const auto& import_types = wabt_module->import_types();
  auto impl = std::make_unique<CoreInstance::Impl>();
  impl->core = impl_.get();
  wi::RefVec imports;
  for (std::size_t i = 0; i < import_types.size(); ++i) {
    const wi::ImportType& import = import_types[i];
    const std::string what = import.module + "." + import.name;
    wi::Ref ref = wi::Ref::Null;
    if (i < sources.size() && sources[i].host) {
      impl->host_functions.push_back(MakeHostFunc(*impl_, sources[i].host));
      ref = impl->host_functions.back().ref();
    } else if (i < sources.size() && sources[i].instance != nullptr) {
      const CoreInstance& exporter = *sources[i].instance;
      const auto found =
          exporter.impl_->FindExport(exporter.info_, import.name, ToKind(import.type->kind));
      if (!found) return Fail(Failure{RunStatus::kLinkError, "unknown import " + what});
      ref = *found;
    } else {
      return Fail(Failure{RunStatus::kLinkError, "unknown import " + what});
    }
    wi::Trap::Ptr trap;
    if (wabt::Failed(impl_->store.UnsafeGet<wi::Extern>(ref)->Match(impl_->store, import, &trap))) {
      return Fail(Failure{RunStatus::kLinkError,
                          "incompatible import " + what + (trap ? ": " + trap->message() : "")});
    }
    imports.push_back(ref);
  }
  wi::Trap::Ptr trap;
  impl->instance = wi::Instance::Instantiate(impl_->store, wabt_module.ref(), imports, &trap);
  if (!impl->instance || trap) {
    const std::string message = trap ? trap->message() : "instantiation failed";
    impl->instance.reset();
    impl->host_functions.clear();
    impl_->store.Collect();
    return Fail(Failure{ClassifyTrap(message), message});
  }
  ModuleInfo info = module->info();
  return std::unique_ptr<CoreInstance>(new CoreInstance(std::move(impl), std::move(info)));
}

}  // namespace milf::wasm::wabt_interp
