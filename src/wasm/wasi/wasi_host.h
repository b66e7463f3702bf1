// WasiHost: WASI preview1 ("wasi_snapshot_preview1") for one run of one
// guest, written from the witx specification. It owns the guest's
// descriptor table, its stdin payload and its captured stdout/stderr, and
// registers every preview1 function into an Imports table.
//
// What the guest gets:
//  - args, environment, stdin (fd 0, reading the payload), stdout and
//    stderr (fds 1, 2, captured up to a cap each), and the preopened
//    directories of WasiConfig as fds 3, 4, ... in order. Files exist only
//    in those directories (vfs.h); the host filesystem is out of reach.
//  - Implemented: args_*, environ_*, clock_res_get, clock_time_get,
//    random_get, fd_read, fd_write, fd_close, fd_seek, fd_tell,
//    fd_fdstat_get, fd_filestat_get, fd_prestat_get, fd_prestat_dir_name,
//    fd_readdir, path_open, path_filestat_get, path_create_directory,
//    path_unlink_file, path_remove_directory, path_rename, poll_oneoff,
//    sched_yield, proc_exit. Every other preview1 function is registered
//    with its exact signature and returns ENOSYS.
//  - Every guest pointer is bounds-checked; a bad one yields EFAULT and
//    nothing else happens.
//  - stdio descriptors report filetype CHARACTER_DEVICE without seek
//    rights, so wasi-libc treats them as terminals and line-buffers stdout:
//    output written before a trap is not lost in a libc buffer.
//  - Rights follow preview1: path_open gives the new descriptor the rights
//    asked for, intersected with the directory's inheriting rights and with
//    what the file type supports; an operation its descriptor lacks the
//    right for fails with ENOTCAPABLE. Reading a descriptor opened without
//    read access, or writing one without write access, fails with EBADF.
//  - Read-only preopens (and every descriptor opened through them) refuse
//    to create, write, truncate, rename or remove with EROFS; path_open
//    asking for write rights (FD_WRITE, FD_ALLOCATE, FD_DATASYNC,
//    FD_FILESTAT_SET_SIZE) on a file there fails with EROFS up front.
//  - Writable preopens share one budget, WasiConfig::write_quota: the net
//    number of bytes by which their files may grow in total. Writing past
//    the end of a file charges the growth; truncating, unlinking or
//    replacing a file refunds its size (never below zero, so deleting files
//    that existed before the run buys nothing). A write that would exceed
//    the budget writes what fits and reports that count; once nothing fits
//    it fails with EDQUOT. The run goes on. Likewise create_quota bounds
//    the number of files and directories a guest may create (EDQUOT).
//  - stdout/stderr past their cap: with OverflowPolicy::kTruncate the first
//    cap bytes are kept, the capture is marked truncated and the guest is
//    told its write succeeded; with kFail the bytes that fit are kept and
//    the run stops with RunStatus::kOutputLimit.
//  - Time and randomness come only from the WasiEnvironment.
//
// Stopping: proc_exit, an output overflow under kFail, and a poll_oneoff
// sleep that outlives the deadline make the host function return
// HostAction::kStop after recording why in stop(); the engine then unwinds
// the guest, and the harness reads stop() to learn the real status.
//
// Ownership and thread-safety: the functions registered by Register refer
// to this WasiHost and to the WasiEnvironment, which must both outlive every
// Instance linked against them. Not thread-safe: one run, one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wasm/engine.h"
#include "wasm/limits.h"
#include "wasm/status.h"
#include "wasm/wasi/output_capture.h"
#include "wasm/wasi/vfs.h"
#include "wasm/wasi/wasi_environment.h"

namespace milf::wasm::wasi {

struct Preopen {
  std::string guest_path;          // the name the guest sees, e.g. "/in"
  std::shared_ptr<Directory> dir;  // must not be null
  bool read_only = false;
};

struct WasiConfig {
  std::vector<std::string> args;  // argv, argv[0] included
  std::vector<std::string> env;   // "KEY=VALUE" entries
  std::vector<std::uint8_t> stdin_data;
  std::vector<Preopen> preopens;  // fds 3, 4, ... in this order
  std::uint64_t stdout_cap = 1ull << 20;
  std::uint64_t stderr_cap = 1ull << 20;
  OverflowPolicy overflow = OverflowPolicy::kTruncate;
  std::uint64_t write_quota = 64ull << 20;  // bytes, across all writable preopens
  std::uint64_t create_quota = 10'000;      // files and directories created, net
  std::uint32_t max_fds = 1'024;            // open descriptors, stdio included (EMFILE)
};

// Why a host function stopped the run. exit_code is meaningful for kOk and
// kExitNonzero (proc_exit); it is 0 otherwise.
struct StopReason {
  RunStatus status = RunStatus::kOk;
  int exit_code = 0;
  std::string message;
};

struct WasiState;  // wasi_state.h

class WasiHost {
 public:
  // `env` must outlive the host.
  WasiHost(WasiConfig config, WasiEnvironment& env);
  ~WasiHost();
  WasiHost(const WasiHost&) = delete;
  WasiHost& operator=(const WasiHost&) = delete;

  // Adds every preview1 function, as module kModuleName, to `imports`
  // (replacing any of the same name).
  void Register(Imports& imports);

  // Set once a host function has returned kStop; the first reason wins.
  const std::optional<StopReason>& stop() const;
  const OutputCapture& stdout_capture() const;
  const OutputCapture& stderr_capture() const;
  // Bytes charged against write_quota so far.
  std::uint64_t quota_used() const;

 private:
  std::unique_ptr<WasiState> state_;
};

}  // namespace milf::wasm::wasi
