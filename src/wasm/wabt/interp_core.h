// The wabt interpreter behind a narrow, C++17-clean interface. wabt 1.0.32's
// interpreter headers do not compile as C++20 under g++ 12, so they are
// confined to interp_core.cc (built as C++17); interp_engine.cc adapts this
// interface to wasm::Engine. Nothing outside src/wasm/wabt/ includes this.
//
// Thread-safety: a Core and all its modules and instances belong to one
// thread. Modules and instances must be destroyed before their Core.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "wasm/module_info.h"
#include "wasm/status.h"
#include "wasm/value.h"

namespace milf::wasm::wabt_interp {

struct MemoryView {
  std::uint8_t* data = nullptr;
  std::uint64_t size = 0;
};

// A host function as the interpreter sees it. `call` returns false to stop
// the guest (it unwinds like a trap whose message is kHostStopMessage).
struct HostBinding {
  FuncSig sig;
  std::function<bool(const std::vector<Value>& args, std::vector<Value>& results,
                     const std::function<MemoryView()>& caller_memory)>
      call;
};

inline constexpr const char* kHostStopMessage = "host stop";

class CoreModule;
class CoreInstance;
class Core;

// Where one import comes from: a host binding, or an export of a live
// instance of the same Core.
struct ImportSource {
  std::shared_ptr<const HostBinding> host;
  const CoreInstance* instance = nullptr;
};

class CoreModule {
 public:
  ~CoreModule();
  const ModuleInfo& info() const { return info_; }

 private:
  friend class Core;
  struct Impl;
  explicit CoreModule(std::unique_ptr<Impl> impl, ModuleInfo info);
  std::unique_ptr<Impl> impl_;
  ModuleInfo info_;
};

class CoreInstance {
 public:
  ~CoreInstance();
  const ModuleInfo& info() const { return info_; }
  Result<std::vector<Value>, Failure> Call(const std::string& export_name,
                                           const std::vector<Value>& args);
  MemoryView Memory() const;
  std::optional<Value> GetGlobal(const std::string& export_name) const;
  bool SetGlobal(const std::string& export_name, const Value& value);

 private:
  friend class Core;
  struct Impl;
  explicit CoreInstance(std::unique_ptr<Impl> impl, ModuleInfo info);
  std::unique_ptr<Impl> impl_;
  ModuleInfo info_;
};

class Core {
 public:
  Core();
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  Result<std::shared_ptr<const CoreModule>, Failure> Compile(const std::uint8_t* data,
                                                             std::size_t size);
  // `sources` has one entry per import of `module`, in order.
  Result<std::unique_ptr<CoreInstance>, Failure> Instantiate(
      const std::shared_ptr<const CoreModule>& module, const std::vector<ImportSource>& sources);

  struct Impl;  // defined in interp_core.cc, shared with its modules and instances

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace milf::wasm::wabt_interp
