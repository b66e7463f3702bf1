// Test support for the WASI host: a hand-driven WasiEnvironment, temporary
// host directories, and a harness that calls host functions the way an
// engine would, through the Imports table, over a guest memory it owns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasm/engine.h"
#include "wasm/wasi/abi.h"
#include "wasm/wasi/host_fs.h"
#include "wasm/wasi/memory_fs.h"
#include "wasm/wasi/wasi_environment.h"
#include "wasm/wasi/wasi_host.h"

namespace milf::wasm::wasi {

// gtest prints errnos as numbers.
inline std::ostream& operator<<(std::ostream& out, Errno error) {
  return out << "errno " << static_cast<int>(error);
}

namespace testing {

// Time moves only when the test (or a guest's sleep) moves it.
class ManualEnvironment final : public WasiEnvironment {
 public:
  std::int64_t realtime = 1'700'000'000'000'000'000;
  std::int64_t monotonic = 5'000;
  std::optional<std::int64_t> deadline;  // monotonic; sleeping past it fails
  std::vector<std::int64_t> sleeps;
  std::uint8_t next_random = 0;

  std::int64_t RealtimeNanos() override { return realtime; }
  std::int64_t MonotonicNanos() override { return monotonic; }
  void FillRandom(std::span<std::uint8_t> out) override {
    for (auto& byte : out) byte = next_random++;
  }
  bool Sleep(std::int64_t nanos) override {
    sleeps.push_back(nanos);
    monotonic += nanos;
    realtime += nanos;
    return !deadline || monotonic <= *deadline;
  }
};

// A fresh directory under the system temp path, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  void WriteFile(const std::string& relative, std::string_view contents) const;
  std::string ReadFile(const std::string& relative) const;

 private:
  std::filesystem::path path_;
};

// The backends every Directory test runs against.
enum class Backend { kMemory, kHostOpenat2, kHostPortable };
std::string BackendName(Backend backend);
bool IsHost(Backend backend);
// False for kHostOpenat2 on kernels without openat2: tests skip it then.
bool BackendAvailable(Backend backend);
// A fresh empty directory of that backend; a host one is `temp`/root.
std::shared_ptr<Directory> MakeDirectory(Backend backend, const TempDir& temp);

// Guest memory plus a registered WasiHost. Offsets below kHeapStart are
// free for tests to use as fixed scratch addresses.
class WasiHarness {
 public:
  static constexpr std::uint32_t kMemoryBytes = 1 << 20;
  static constexpr std::uint32_t kHeapStart = 4096;

  explicit WasiHarness(WasiConfig config = {});

  // Calls kModuleName.`name` with `args` converted to its parameter types,
  // and returns the errno it produced. The HostAction is kept in action().
  Errno Call(std::string_view name, std::initializer_list<std::uint64_t> args);
  HostAction action() const { return action_; }
  const HostFunction* Find(std::string_view name) const;

  // Bump allocation in guest memory.
  std::uint32_t Alloc(std::uint32_t size, std::uint32_t align = 8);
  std::uint32_t PutBytes(std::string_view bytes);
  // An iovec array pointing at fresh buffers holding `chunks`.
  std::uint32_t PutIovecs(std::initializer_list<std::string_view> chunks);

  std::uint8_t U8(std::uint32_t offset) const;
  std::uint16_t U16(std::uint32_t offset) const;
  std::uint32_t U32(std::uint32_t offset) const;
  std::uint64_t U64(std::uint32_t offset) const;
  std::string Bytes(std::uint32_t offset, std::uint32_t length) const;

  // Conveniences over the calls most tests need.
  // `base` defaults to what wasi-libc asks for with O_RDONLY: every right
  // but those implying write access.
  Errno Open(std::uint32_t dir_fd, std::string_view path, std::uint32_t oflags,
             std::uint32_t* fd, Rights base = ~rights::kWriteAccess, std::uint32_t fdflags = 0,
             std::uint32_t lookup = kLookupSymlinkFollow);
  Errno Write(std::uint32_t fd, std::string_view data, std::uint32_t* written = nullptr);
  Errno Read(std::uint32_t fd, std::uint32_t max, std::string* out);
  Errno PathCall(std::string_view name, std::uint32_t dir_fd, std::string_view path);
  Errno Stat(std::uint32_t dir_fd, std::string_view path, FileStat* stat,
             std::uint32_t lookup = kLookupSymlinkFollow);
  // Reads a whole file through path_open/fd_read.
  std::optional<std::string> Slurp(std::uint32_t dir_fd, std::string_view path);

  std::vector<std::uint8_t> memory;
  ManualEnvironment env;
  WasiHost host;
  Imports imports;

 private:
  template <class T>
  T Load(std::uint32_t offset) const;

  std::uint32_t next_ = kHeapStart;
  HostAction action_ = HostAction::kContinue;
};

}  // namespace testing
}  // namespace milf::wasm::wasi
