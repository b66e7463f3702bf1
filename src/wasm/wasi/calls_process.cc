// args_*, environ_*, clocks, random_get, sched_yield, proc_exit.
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "wasm/wasi/calls.h"

namespace milf::wasm::wasi {
namespace {

// Bytes the strings take in the guest, each NUL-terminated.
std::uint64_t PackedSize(const std::vector<std::string>& strings) {
  std::uint64_t total = 0;
  for (const std::string& s : strings) total += s.size() + 1;
  return total;
}

Errno SizesGet(const std::vector<std::string>& strings, const GuestMemory& memory,
               std::uint32_t count_ptr, std::uint32_t size_ptr) {
  const std::uint64_t size = PackedSize(strings);
  if (size > UINT32_MAX) return Errno::kOverflow;
  if (!InBounds(memory, count_ptr, 4) || !InBounds(memory, size_ptr, 4)) return Errno::kFault;
  memory.Store(count_ptr, static_cast<std::uint32_t>(strings.size()));
  memory.Store(size_ptr, static_cast<std::uint32_t>(size));
  return Errno::kSuccess;
}

// Writes the pointer array at `pointers` and the NUL-terminated strings at
// `buffer`, as args_get and environ_get do.
Errno ListGet(const std::vector<std::string>& strings, const GuestMemory& memory,
              std::uint32_t pointers, std::uint32_t buffer) {
  if (!InBounds(memory, pointers, std::uint64_t{strings.size()} * 4) ||
      !InBounds(memory, buffer, PackedSize(strings))) {
    return Errno::kFault;
  }
  std::uint32_t cursor = buffer;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const std::string& s = strings[i];
    memory.Store(pointers + static_cast<std::uint32_t>(i * 4), cursor);
    memory.Write(cursor, {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    memory.Store<std::uint8_t>(cursor + static_cast<std::uint32_t>(s.size()), 0);
    cursor += static_cast<std::uint32_t>(s.size() + 1);
  }
  return Errno::kSuccess;
}

Errno ArgsSizesGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  return SizesGet(state.config.args, memory, args.u32(0), args.u32(1));
}

Errno ArgsGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  return ListGet(state.config.args, memory, args.u32(0), args.u32(1));
}

Errno EnvironSizesGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  return SizesGet(state.config.env, memory, args.u32(0), args.u32(1));
}

Errno EnvironGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  return ListGet(state.config.env, memory, args.u32(0), args.u32(1));
}

Errno ClockResGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  if (args.u32(0) > static_cast<std::uint32_t>(ClockId::kThreadCputime)) return Errno::kInval;
  if (!memory.Store<std::uint64_t>(args.u32(1), 1)) return Errno::kFault;
  return Errno::kSuccess;
}

Errno ClockTimeGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const std::uint32_t time_ptr = args.u32(2);
  if (!InBounds(memory, time_ptr, 8)) return Errno::kFault;
  const auto now = GuestClockNow(state, args.u32(0));
  if (!now) return Errno::kInval;
  memory.Store<std::uint64_t>(time_ptr, *now < 0 ? 0 : static_cast<std::uint64_t>(*now));
  return Errno::kSuccess;
}

Errno RandomGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const auto buffer = memory.Slice(args.u32(0), args.u32(1));
  if (!buffer) return Errno::kFault;
  state.env.FillRandom(*buffer);
  return Errno::kSuccess;
}

Errno SchedYield(WasiState&, const GuestMemory&, const CallArgs&) { return Errno::kSuccess; }

Errno ProcExit(WasiState& state, const GuestMemory&, const CallArgs& args) {
  const std::uint32_t code = args.u32(0);
  state.Stop(code == 0 ? RunStatus::kOk : RunStatus::kExitNonzero, static_cast<int>(code),
             "proc_exit(" + std::to_string(code) + ")");
  return Errno::kSuccess;
}

}  // namespace

void RegisterProcessCalls(Registrar& registrar) {
  registrar.Add("args_get", "ii", ArgsGet);
  registrar.Add("args_sizes_get", "ii", ArgsSizesGet);
  registrar.Add("environ_get", "ii", EnvironGet);
  registrar.Add("environ_sizes_get", "ii", EnvironSizesGet);
  registrar.Add("clock_res_get", "ii", ClockResGet);
  registrar.Add("clock_time_get", "iIi", ClockTimeGet);
  registrar.Add("random_get", "ii", RandomGet);
  registrar.Add("sched_yield", "", SchedYield);
  registrar.Add("proc_exit", "i", ProcExit, /*returns_errno=*/false);
}

std::optional<std::int64_t> GuestClockNow(WasiState& state, std::uint32_t id) {
  switch (static_cast<ClockId>(id)) {
    case ClockId::kRealtime: return state.env.RealtimeNanos();
    case ClockId::kMonotonic:
    case ClockId::kProcessCputime:
    case ClockId::kThreadCputime: return state.env.MonotonicNanos();
  }
  return std::nullopt;
}

}  // namespace milf::wasm::wasi
