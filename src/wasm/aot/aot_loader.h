// The loader side of aot_abi.h (private to src/wasm/aot): loading an
// artifact's shared object, and the host table every artifact calls back
// through.
//
// Process-wide state, by necessity: a loaded artifact's code is process-wide,
// and wasm-rt gives a trap no context. So the function type registry (one
// numbering for every artifact, so call_indirect can compare types across
// modules) is a mutex-guarded singleton, and the innermost unwind target is
// thread-local (a trap in any artifact unwinds to the nearest guard on its
// own thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "base/result.h"
#include "compiler/aot/aot_abi.h"

namespace milf::wasm::aot_internal {

// What call_host reaches: an instance of some engine.
class HostInstance {
 public:
  virtual ~HostInstance() = default;
  // 0 when the results are filled in, else an unwind code.
  virtual int CallHost(std::uint32_t import_index, const milf_aot_value* args,
                       milf_aot_value* results) = 0;
};

// What the funcref calls reach: the engine that owns the handles.
class HostEngine {
 public:
  virtual ~HostEngine() = default;
  virtual std::uint64_t FuncRefToHandle(const wasm_rt_funcref_t& ref) = 0;
  virtual wasm_rt_funcref_t HandleToFuncRef(std::uint64_t handle) = 0;
};

// The table given to every artifact. A header's host_instance must point to
// a HostInstance and its engine to a HostEngine (as those base types).
const milf_aot_host& HostTable();

// True while this thread runs guest code (between a guard's push and pop).
bool InGuestCode();

// The lowest address guest frames may use on this thread: the stack's low
// end plus a margin for host calls made from guest code. Cached per thread.
std::uintptr_t ThreadStackFloor();

// A loaded artifact. dlclose on destruction, so it must outlive every
// instance made from it.
class Library {
 public:
  // Loads `object` (a verified shared object) from memory: through a
  // memfd, or, where /proc/self/fd is unavailable, a private temporary file
  // in `scratch_dir`. Errors: "load" with dlerror's text, or "abi" when the
  // artifact speaks another ABI version.
  static Result<std::shared_ptr<Library>> Load(std::span<const std::uint8_t> object,
                                               const std::filesystem::path& scratch_dir);

  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  const milf_aot_module& module() const { return *module_; }

  // What the object was loaded from. It stays open (or on disk) while the
  // object is loaded: dlopen recognises objects by path, and a reused path
  // would hand back another module's code.
  struct Source {
    int fd = -1;                  // the memfd
    std::filesystem::path file;   // or the temporary file
  };

 private:
  Library(void* handle, const milf_aot_module* module, Source source)
      : handle_(handle), module_(module), source_(std::move(source)) {}
  void* handle_;
  const milf_aot_module* module_;
  Source source_;
};

}  // namespace milf::wasm::aot_internal
