// Internal to the WASI host: how the preview1 functions are declared and
// registered, and the guest-memory helpers they share. Each calls_*.cc file
// implements one group of functions and registers it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "wasm/engine.h"
#include "wasm/guest_memory.h"
#include "wasm/value.h"
#include "wasm/wasi/abi.h"
#include "wasm/wasi/vfs.h"
#include "wasm/wasi/wasi_state.h"

namespace milf::wasm::wasi {

// The arguments of one call, read by position. The engine has checked them
// against the registered signature, so each is of the type declared there.
class CallArgs {
 public:
  explicit CallArgs(std::span<const Value> values) : values_(values) {}
  std::uint32_t u32(std::size_t index) const { return values_[index].i32(); }
  std::uint64_t u64(std::size_t index) const { return values_[index].i64(); }

 private:
  std::span<const Value> values_;
};

// A preview1 function. Returns the errno handed to the guest; to stop the
// run it calls WasiState::Stop and its return value is ignored.
using WasiCall = Errno (*)(WasiState& state, const GuestMemory& memory, const CallArgs& args);

class Registrar {
 public:
  Registrar(Imports& imports, WasiState& state) : imports_(imports), state_(state) {}

  // Registers kModuleName.`name`. `params` spells the parameter types, 'i'
  // for i32 and 'I' for i64; the single result is the i32 errno unless
  // `returns_errno` is false (proc_exit).
  void Add(std::string_view name, std::string_view params, WasiCall call,
           bool returns_errno = true);

 private:
  Imports& imports_;
  WasiState& state_;
};

void RegisterProcessCalls(Registrar& registrar);      // calls_process.cc
void RegisterPollCalls(Registrar& registrar);         // calls_poll.cc
void RegisterFdCalls(Registrar& registrar);           // calls_fd.cc
void RegisterPathCalls(Registrar& registrar);         // calls_path.cc
void RegisterUnsupportedCalls(Registrar& registrar);  // calls_unsupported.cc

// The guest's view of clock `id` (ClockId), or nullopt for an unknown id.
std::optional<std::int64_t> GuestClockNow(WasiState& state, std::uint32_t id);

// More iovecs than POSIX's IOV_MAX in one call is refused (kInval): it
// bounds the host memory one call can make us allocate.
inline constexpr std::uint32_t kMaxIovecs = 1024;

// The guest buffers an iovec array describes, each bounds-checked (kFault).
FsResult<std::vector<std::span<std::uint8_t>>> LoadIovecs(const GuestMemory& memory,
                                                          std::uint32_t iovs,
                                                          std::uint32_t count);

// A guest string (a path) of `length` bytes at `offset`; kFault if outside.
FsResult<std::string_view> LoadString(const GuestMemory& memory, std::uint32_t offset,
                                      std::uint32_t length);

// True when [offset, offset + length) lies in guest memory; `length` may
// exceed 32 bits (it then never fits).
bool InBounds(const GuestMemory& memory, std::uint32_t offset, std::uint64_t length);

// Writes a filestat (layout::kFilestatSize bytes) at `offset`.
bool StoreFilestat(const GuestMemory& memory, std::uint32_t offset, const FileStat& stat);

}  // namespace milf::wasm::wasi
