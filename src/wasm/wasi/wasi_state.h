// Internal to the WASI host: the state one run's host functions share, and
// the descriptor table. Not for callers outside src/wasm/wasi/.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wasm/wasi/abi.h"
#include "wasm/wasi/output_capture.h"
#include "wasm/wasi/vfs.h"
#include "wasm/wasi/wasi_environment.h"
#include "wasm/wasi/wasi_host.h"

namespace milf::wasm::wasi {

enum class DescriptorKind { kStdin, kStdout, kStderr, kFile, kDirectory };

struct Descriptor {
  DescriptorKind kind = DescriptorKind::kFile;
  std::shared_ptr<File> file;            // kFile
  std::shared_ptr<Directory> directory;  // kDirectory
  std::uint64_t position = 0;            // kFile
  Rights base = 0;
  Rights inheriting = 0;
  std::uint16_t flags = 0;               // fdflags; only APPEND changes behaviour
  bool read_only = false;                // reached through a read-only preopen
  std::optional<std::string> preopen_name;

  bool is_stdio() const {
    return kind == DescriptorKind::kStdin || kind == DescriptorKind::kStdout ||
           kind == DescriptorKind::kStderr;
  }
};

// Descriptor numbers are reused lowest-first, as POSIX does.
class FdTable {
 public:
  explicit FdTable(std::uint32_t max_fds) : max_fds_(max_fds) {}

  Descriptor* Get(std::uint32_t fd);
  // kMfile when max_fds are open.
  FsResult<std::uint32_t> Insert(Descriptor descriptor);
  bool Remove(std::uint32_t fd);

 private:
  std::uint32_t max_fds_;
  std::vector<std::optional<Descriptor>> slots_;
};

// A net budget: Charge when something grows, Refund when it shrinks; the
// balance never goes below zero.
class Budget {
 public:
  explicit Budget(std::uint64_t limit) : limit_(limit) {}
  std::uint64_t remaining() const { return limit_ - used_; }
  std::uint64_t used() const { return used_; }
  bool Charge(std::uint64_t amount) {
    if (amount > remaining()) return false;
    used_ += amount;
    return true;
  }
  void Refund(std::uint64_t amount) { used_ -= amount < used_ ? amount : used_; }

 private:
  std::uint64_t limit_;
  std::uint64_t used_ = 0;
};

struct WasiState {
  WasiState(WasiConfig config, WasiEnvironment& env);

  // Records why the run must stop (the first reason wins) and makes the
  // current host call return kStop.
  void Stop(RunStatus status, int exit_code, std::string message);

  WasiConfig config;  // stdin_data is moved out into `stdin_data`
  WasiEnvironment& env;
  std::vector<std::uint8_t> stdin_data;
  std::uint64_t stdin_position = 0;
  OutputCapture stdout_capture;
  OutputCapture stderr_capture;
  FdTable fds;
  Budget write_budget;
  Budget create_budget;
  std::optional<StopReason> stop;
  bool stop_requested = false;  // by the host call in progress
};

}  // namespace milf::wasm::wasi
