#include "wasm/wasi/wasi_host.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "wasm/wasi/calls.h"
#include "wasm/wasi/wasi_state.h"

namespace milf::wasm::wasi {
namespace {

constexpr Rights kStdinRights =
    rights::kFdRead | rights::kFdFdstatSetFlags | rights::kFdFilestatGet | rights::kPollFdReadwrite;
constexpr Rights kStdoutRights =
    rights::kFdWrite | rights::kFdFdstatSetFlags | rights::kFdFilestatGet | rights::kPollFdReadwrite;

Descriptor Stdio(DescriptorKind kind, Rights base) {
  Descriptor d;
  d.kind = kind;
  d.base = base;
  return d;
}

}  // namespace

Descriptor* FdTable::Get(std::uint32_t fd) {
  if (fd >= slots_.size() || !slots_[fd]) return nullptr;
  return &*slots_[fd];
}

FsResult<std::uint32_t> FdTable::Insert(Descriptor descriptor) {
  const auto free_slot = std::find_if(slots_.begin(), slots_.end(),
                                      [](const auto& slot) { return !slot.has_value(); });
  const auto fd = static_cast<std::uint32_t>(free_slot - slots_.begin());
  if (fd >= max_fds_) return Fail(Errno::kMfile);
  if (free_slot == slots_.end()) {
    slots_.emplace_back(std::move(descriptor));
  } else {
    *free_slot = std::move(descriptor);
  }
  return fd;
}

bool FdTable::Remove(std::uint32_t fd) {
  if (fd >= slots_.size() || !slots_[fd]) return false;
  slots_[fd].reset();
  while (!slots_.empty() && !slots_.back()) slots_.pop_back();
  return true;
}

WasiState::WasiState(WasiConfig config_in, WasiEnvironment& env_in)
    : config(std::move(config_in)),
      env(env_in),
      stdin_data(std::move(config.stdin_data)),
      stdout_capture(config.stdout_cap),
      stderr_capture(config.stderr_cap),
      fds(std::max<std::uint32_t>(config.max_fds,
                                  3 + static_cast<std::uint32_t>(config.preopens.size()))),
      write_budget(config.write_quota),
      create_budget(config.create_quota) {
  const auto install = [this](Descriptor d) {
    // Cannot fail: the table's size leaves room for stdio and every preopen.
    const auto fd = fds.Insert(std::move(d));
    assert(fd.ok());
    static_cast<void>(fd);
  };
  install(Stdio(DescriptorKind::kStdin, kStdinRights));
  install(Stdio(DescriptorKind::kStdout, kStdoutRights));
  install(Stdio(DescriptorKind::kStderr, kStdoutRights));
  for (const Preopen& preopen : config.preopens) {
    assert(preopen.dir != nullptr);
    Descriptor d;
    d.kind = DescriptorKind::kDirectory;
    d.directory = preopen.dir;
    d.base = rights::kDirectory;
    d.inheriting = rights::kDirectory | rights::kRegularFile;
    d.read_only = preopen.read_only;
    d.preopen_name = preopen.guest_path;
    install(std::move(d));
  }
}

void WasiState::Stop(RunStatus status, int exit_code, std::string message) {
  stop_requested = true;
  if (!stop) stop = StopReason{status, exit_code, std::move(message)};
}

WasiHost::WasiHost(WasiConfig config, WasiEnvironment& env)
    : state_(std::make_unique<WasiState>(std::move(config), env)) {}

WasiHost::~WasiHost() = default;

void WasiHost::Register(Imports& imports) {
  Registrar registrar(imports, *state_);
  RegisterProcessCalls(registrar);
  RegisterPollCalls(registrar);
  RegisterFdCalls(registrar);
  RegisterPathCalls(registrar);
  RegisterUnsupportedCalls(registrar);
}

const std::optional<StopReason>& WasiHost::stop() const { return state_->stop; }
const OutputCapture& WasiHost::stdout_capture() const { return state_->stdout_capture; }
const OutputCapture& WasiHost::stderr_capture() const { return state_->stderr_capture; }
std::uint64_t WasiHost::quota_used() const { return state_->write_budget.used(); }

}  // namespace milf::wasm::wasi
