// Engine: compiles WebAssembly modules, instantiates them against host
// imports and calls their exports. It knows nothing of WASI, fuel or the
// sandbox; those are layered on top (see runner.h). Backends: the wabt
// interpreter (NewInterpreterEngine); a native tier plugs in behind the same
// interface.
//
// Thread-safety: an Engine and everything it creates belong to one thread.
// A CompiledModule is immutable and may outlive the Instances made from it,
// but not its Engine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "wasm/guest_memory.h"
#include "wasm/module_info.h"
#include "wasm/status.h"
#include "wasm/value.h"

namespace milf::wasm {

class CompiledModule {
 public:
  virtual ~CompiledModule() = default;
  virtual const ModuleInfo& info() const = 0;
};

// Given to a host function for the duration of one call.
class HostContext {
 public:
  virtual ~HostContext() = default;
  // The calling instance's memory export named "memory" (empty if none).
  virtual GuestMemory Memory() = 0;
};

// The message of the Failure a Call returns when a host function stopped
// the guest.
inline constexpr std::string_view kHostStopMessage = "host stop";

enum class HostAction {
  kContinue,  // results are filled in; the guest carries on
  kStop,      // unwind the guest now; the host has recorded why
};

using HostCallback =
    std::function<HostAction(HostContext&, std::span<const Value> args, std::span<Value> results)>;

struct HostFunction {
  std::string module;
  std::string name;
  FuncSig sig;
  HostCallback callback;
};

class Instance;

// What a module may import: host functions, and the exports of instances
// already created by the same Engine, registered under a module name.
class Imports {
 public:
  void AddFunction(HostFunction function);
  void AddInstance(std::string module_name, const Instance& instance);

  const HostFunction* FindFunction(std::string_view module, std::string_view name) const;
  const Instance* FindInstance(std::string_view module) const;

 private:
  std::map<std::pair<std::string, std::string>, HostFunction, std::less<>> functions_;
  std::map<std::string, const Instance*, std::less<>> instances_;
};

class Instance {
 public:
  virtual ~Instance() = default;
  virtual const ModuleInfo& info() const = 0;

  // Calls an exported function. A trap gives Failure{kTrap, message}; a
  // host function that returned kStop gives Failure{kTrap, "host stop"} and
  // the host knows the real reason; call-stack exhaustion gives kStackOverflow.
  virtual Result<std::vector<Value>, Failure> Call(std::string_view export_name,
                                                   std::span<const Value> args) = 0;

  // The memory exported as "memory" (empty view if none).
  virtual GuestMemory Memory() = 0;

  virtual std::optional<Value> GetGlobal(std::string_view export_name) const = 0;
  virtual bool SetGlobal(std::string_view export_name, const Value& value) = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Decodes and fully validates; kInvalidModule with the validator's message
  // on any malformed or invalid input.
  virtual Result<std::shared_ptr<const CompiledModule>, Failure> Compile(
      std::span<const std::uint8_t> wasm) = 0;

  // Links imports and runs the start function. kLinkError when an import is
  // missing or mistyped; kTrap (or a host's stop) when the start function fails.
  virtual Result<std::unique_ptr<Instance>, Failure> Instantiate(
      const std::shared_ptr<const CompiledModule>& module, const Imports& imports) = 0;
};

// The wabt interpreter backend (MVP, sign-extension, non-trapping float-to-int,
// multi-value, bulk memory, reference types, SIMD).
std::unique_ptr<Engine> NewInterpreterEngine();

}  // namespace milf::wasm
