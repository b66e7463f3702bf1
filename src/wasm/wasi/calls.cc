#include "wasm/wasi/calls.h"

#include <array>
#include <string>
#include <utility>

namespace milf::wasm::wasi {

void Registrar::Add(std::string_view name, std::string_view params, WasiCall call,
                    bool returns_errno) {
  FuncSig sig;
  for (const char type : params) sig.params.push_back(type == 'I' ? ValType::kI64 : ValType::kI32);
  if (returns_errno) sig.results.push_back(ValType::kI32);
  const std::size_t param_count = sig.params.size();
  const std::size_t result_count = sig.results.size();

  WasiState& state = state_;
  HostCallback callback = [&state, call, param_count, result_count, name = std::string(name)](
                              HostContext& context, std::span<const Value> args,
                              std::span<Value> results) {
    state.stop_requested = false;
    if (args.size() != param_count || results.size() != result_count) {
      state.Stop(RunStatus::kInternalError, 0, name + " called with a mismatched signature");
      return HostAction::kStop;
    }
    const GuestMemory memory = context.Memory();
    const Errno error = call(state, memory, CallArgs(args));
    if (result_count == 1) results[0] = Value::I32(static_cast<std::uint32_t>(error));
    if (std::exchange(state.stop_requested, false)) return HostAction::kStop;
    return HostAction::kContinue;
  };
  imports_.AddFunction(
      HostFunction{std::string(kModuleName), std::string(name), std::move(sig), std::move(callback)});
}

bool InBounds(const GuestMemory& memory, std::uint32_t offset, std::uint64_t length) {
  return std::uint64_t{offset} + length <= memory.size();
}

FsResult<std::vector<std::span<std::uint8_t>>> LoadIovecs(const GuestMemory& memory,
                                                          std::uint32_t iovs,
                                                          std::uint32_t count) {
  if (count > kMaxIovecs) return Fail(Errno::kInval);
  if (!InBounds(memory, iovs, std::uint64_t{count} * layout::kIovecSize)) return Fail(Errno::kFault);
  std::vector<std::span<std::uint8_t>> buffers;
  buffers.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t entry = iovs + i * layout::kIovecSize;
    std::uint32_t buf = 0;
    std::uint32_t buf_len = 0;
    memory.Load(entry, &buf);
    memory.Load(entry + 4, &buf_len);
    const auto slice = memory.Slice(buf, buf_len);
    if (!slice) return Fail(Errno::kFault);
    buffers.push_back(*slice);
  }
  return buffers;
}

FsResult<std::string_view> LoadString(const GuestMemory& memory, std::uint32_t offset,
                                      std::uint32_t length) {
  const auto text = memory.String(offset, length);
  if (!text) return Fail(Errno::kFault);
  return *text;
}

bool StoreFilestat(const GuestMemory& memory, std::uint32_t offset, const FileStat& stat) {
  const auto out = memory.Slice(offset, layout::kFilestatSize);
  if (!out) return false;
  std::array<std::uint8_t, layout::kFilestatSize> zeros{};
  memory.Write(offset, zeros);
  memory.Store<std::uint64_t>(offset + 0, stat.device);
  memory.Store<std::uint64_t>(offset + 8, stat.inode);
  memory.Store<std::uint8_t>(offset + 16, static_cast<std::uint8_t>(stat.type));
  memory.Store<std::uint64_t>(offset + 24, stat.link_count);
  memory.Store<std::uint64_t>(offset + 32, stat.size);
  memory.Store<std::uint64_t>(offset + 40, stat.access_nanos);
  memory.Store<std::uint64_t>(offset + 48, stat.modify_nanos);
  memory.Store<std::uint64_t>(offset + 56, stat.change_nanos);
  return true;
}

}  // namespace milf::wasm::wasi
