// wasm::Engine on the wabt interpreter, through the C++17 core.
#include <memory>

#include "wasm/engine.h"
#include "wasm/wabt/interp_core.h"

namespace milf::wasm {
namespace {

static_assert(kHostStopMessage == std::string_view(wabt_interp::kHostStopMessage));

using wabt_interp::Core;
using wabt_interp::CoreInstance;
using wabt_interp::CoreModule;

class InterpModule final : public CompiledModule {
 public:
  explicit InterpModule(std::shared_ptr<const CoreModule> core) : core_(std::move(core)) {}
  const ModuleInfo& info() const override { return core_->info(); }
  const std::shared_ptr<const CoreModule>& core() const { return core_; }

 private:
  std::shared_ptr<const CoreModule> core_;
};

GuestMemory ToGuestMemory(wabt_interp::MemoryView view) {
  return GuestMemory(std::span<std::uint8_t>(view.data, view.size));
}

class InterpInstance final : public Instance {
 public:
  explicit InterpInstance(std::unique_ptr<CoreInstance> core) : core_(std::move(core)) {}

  const ModuleInfo& info() const override { return core_->info(); }

  Result<std::vector<Value>, Failure> Call(std::string_view export_name,
                                           std::span<const Value> args) override {
    return core_->Call(std::string(export_name), std::vector<Value>(args.begin(), args.end()));
  }

  GuestMemory Memory() override { return ToGuestMemory(core_->Memory()); }

  std::optional<Value> GetGlobal(std::string_view export_name) const override {
    return core_->GetGlobal(std::string(export_name));
  }

  bool SetGlobal(std::string_view export_name, const Value& value) override {
    return core_->SetGlobal(std::string(export_name), value);
  }

  const CoreInstance& core() const { return *core_; }

 private:
  std::unique_ptr<CoreInstance> core_;
};

class CallerContext final : public HostContext {
 public:
  explicit CallerContext(const std::function<wabt_interp::MemoryView()>& memory) : memory_(memory) {}
  GuestMemory Memory() override { return ToGuestMemory(memory_()); }

 private:
  const std::function<wabt_interp::MemoryView()>& memory_;
};

std::shared_ptr<const wabt_interp::HostBinding> Bind(const HostFunction& function) {
  auto binding = std::make_shared<wabt_interp::HostBinding>();
  binding->sig = function.sig;
  binding->call = [callback = function.callback](const std::vector<Value>& args,
                                                 std::vector<Value>& results,
                                                 const std::function<wabt_interp::MemoryView()>& memory) {
    CallerContext context(memory);
    return callback(context, args, results) == HostAction::kContinue;
  };
  return binding;
}

class InterpEngine final : public Engine {
 public:
  Result<std::shared_ptr<const CompiledModule>, Failure> Compile(
      std::span<const std::uint8_t> wasm) override {
    auto compiled = core_.Compile(wasm.data(), wasm.size());
    if (!compiled) return Fail(std::move(compiled).error());
    return std::shared_ptr<const CompiledModule>(
        std::make_shared<InterpModule>(std::move(compiled).value()));
  }

  Result<std::unique_ptr<Instance>, Failure> Instantiate(
      const std::shared_ptr<const CompiledModule>& module, const Imports& imports) override {
    const auto* interp_module = dynamic_cast<const InterpModule*>(module.get());
    if (interp_module == nullptr) {
      return Fail(Failure{RunStatus::kInternalError, "module was compiled by another engine"});
    }
    std::vector<wabt_interp::ImportSource> sources;
    for (const ImportInfo& import : module->info().imports) {
      wabt_interp::ImportSource source;
      if (const HostFunction* host = imports.FindFunction(import.module, import.name)) {
        source.host = Bind(*host);
      } else if (const Instance* exporter = imports.FindInstance(import.module)) {
        const auto* interp_exporter = dynamic_cast<const InterpInstance*>(exporter);
        if (interp_exporter != nullptr) source.instance = &interp_exporter->core();
      }
      sources.push_back(std::move(source));
    }
    auto instance = core_.Instantiate(interp_module->core(), sources);
    if (!instance) return Fail(std::move(instance).error());
    return std::unique_ptr<Instance>(std::make_unique<InterpInstance>(std::move(instance).value()));
  }

 private:
  Core core_;
};

}  // namespace

std::unique_ptr<Engine> NewInterpreterEngine() { return std::make_unique<InterpEngine>(); }

}  // namespace milf::wasm
