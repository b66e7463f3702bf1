#include "wasm/aot/aot_loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <csetjmp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace milf::wasm::aot_internal {
namespace {

// The innermost unwind target (a jmp_buf in an artifact's guard frame) of
// this thread's guest code; null outside guest code.
thread_local void* t_unwind_top = nullptr;

// Function types, numbered from 1 in registration order, for every artifact
// in the process: wasm2c compares these numbers in call_indirect.
class TypeRegistry {
 public:
  std::uint32_t Register(std::vector<std::uint32_t> signature) {
    std::lock_guard lock(mutex_);
    const auto [it, inserted] =
        ids_.emplace(std::move(signature), static_cast<std::uint32_t>(ids_.size() + 1));
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::vector<std::uint32_t>, std::uint32_t> ids_;
};

TypeRegistry& Types() {
  static TypeRegistry registry;
  return registry;
}

std::uint32_t RegisterFuncType(std::uint32_t param_count, std::uint32_t result_count,
                               const std::uint32_t* types) {
  // The counts lead, so (i32)->() and ()->(i32) differ.
  std::vector<std::uint32_t> signature = {param_count, result_count};
  signature.insert(signature.end(), types, types + param_count + result_count);
  return Types().Register(std::move(signature));
}

void* PushUnwind(void* target) {
  void* previous = t_unwind_top;
  t_unwind_top = target;
  return previous;
}

void PopUnwind(void* previous) { t_unwind_top = previous; }

[[noreturn]] void Unwind(int code) {
  // Only guest code calls this, always inside a guard; anything else is a
  // broken artifact, and unwinding into nowhere would be worse than stopping.
  if (t_unwind_top == nullptr) std::abort();
  std::longjmp(*static_cast<std::jmp_buf*>(t_unwind_top), code);
}

int CallHost(void* host_instance, std::uint32_t import_index, const milf_aot_value* args,
             milf_aot_value* results) {
  return static_cast<HostInstance*>(host_instance)->CallHost(import_index, args, results);
}

std::uint64_t FuncRefToHandle(void* engine, const wasm_rt_funcref_t* ref) {
  return static_cast<HostEngine*>(engine)->FuncRefToHandle(*ref);
}

void HandleToFuncRef(void* engine, std::uint64_t handle, wasm_rt_funcref_t* out) {
  *out = static_cast<HostEngine*>(engine)->HandleToFuncRef(handle);
}

const milf_aot_host kHostTable = {
    MILF_AOT_ABI_VERSION, RegisterFuncType, PushUnwind, PopUnwind, Unwind,
    CallHost,             FuncRefToHandle,  HandleToFuncRef,
};

std::uintptr_t ComputeStackFloor() {
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return 0;
  void* low = nullptr;
  std::size_t size = 0;
  const int got = pthread_attr_getstack(&attributes, &low, &size);
  pthread_attr_destroy(&attributes);
  if (got != 0) return 0;
  // Host functions called from guest code (WASI, the fuel meter, libc)
  // run on the same stack below the deepest guest frame.
  const std::size_t margin = std::clamp<std::size_t>(size / 8, 64 << 10, 1 << 20);
  return reinterpret_cast<std::uintptr_t>(low) + margin;
}

std::string LastDlError() {
  const char* error = dlerror();
  return error != nullptr ? error : "unknown dlopen error";
}

bool WriteAll(int fd, std::span<const std::uint8_t> bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) return false;
    written += static_cast<std::size_t>(n);
  }
  return true;
}

struct Opened {
  void* handle = nullptr;
  Library::Source source;
};

void Release(const Library::Source& source) {
  if (source.fd >= 0) close(source.fd);
  if (!source.file.empty()) unlink(source.file.c_str());
}

// dlopen of exactly these bytes, with no window in which a file on disk
// could be swapped between verification and loading.
Result<Opened> OpenFromMemory(std::span<const std::uint8_t> object,
                              const std::filesystem::path& scratch_dir) {
  Opened opened;
  if (access("/proc/self/fd", X_OK) == 0) {
    opened.source.fd = memfd_create("milf-aot", MFD_CLOEXEC);
  }
  std::string path;
  if (opened.source.fd >= 0) {
    path = "/proc/self/fd/" + std::to_string(opened.source.fd);
  } else {
    path = (scratch_dir / "load-XXXXXX").string();
    opened.source.fd = mkstemp(path.data());
    if (opened.source.fd < 0) return Fail("load", "cannot create a file in " + scratch_dir.string());
    opened.source.file = path;
  }
  if (WriteAll(opened.source.fd, object)) {
    opened.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  }
  if (!opened.source.file.empty()) {
    close(opened.source.fd);
    opened.source.fd = -1;
  }
  if (opened.handle == nullptr) {
    const std::string error = LastDlError();
    Release(opened.source);
    return Fail("load", error);
  }
  return opened;
}

}  // namespace

const milf_aot_host& HostTable() { return kHostTable; }

bool InGuestCode() { return t_unwind_top != nullptr; }

std::uintptr_t ThreadStackFloor() {
  thread_local const std::uintptr_t floor = ComputeStackFloor();
  return floor;
}

Result<std::shared_ptr<Library>> Library::Load(std::span<const std::uint8_t> object,
                                               const std::filesystem::path& scratch_dir) {
  auto opened = OpenFromMemory(object, scratch_dir);
  if (!opened) return Fail(opened.error());
  void* entry = dlsym(opened->handle, MILF_AOT_ENTRY);
  const milf_aot_module* module =
      entry != nullptr ? reinterpret_cast<milf_aot_entry_fn>(entry)(&kHostTable) : nullptr;
  if (module == nullptr || module->abi_version != MILF_AOT_ABI_VERSION) {
    dlclose(opened->handle);
    Release(opened->source);
    return Fail("abi", "the artifact does not speak MILF AOT ABI version " +
                           std::to_string(MILF_AOT_ABI_VERSION));
  }
  return std::shared_ptr<Library>(new Library(opened->handle, module, std::move(opened->source)));
}

Library::~Library() {
  dlclose(handle_);
  Release(source_);
}

}  // namespace milf::wasm::aot_internal
