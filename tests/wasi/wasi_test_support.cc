#include "wasi_test_support.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <fstream>
#include <sstream>


namespace milf::wasm::wasi::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "milf-wasi-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TempDir::WriteFile(const std::string& relative, std::string_view contents) const {
  const auto target = path_ / relative;
  std::filesystem::create_directories(target.parent_path());
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

std::string TempDir::ReadFile(const std::string& relative) const {
  std::ifstream in(path_ / relative, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kMemory: return "Memory";
    case Backend::kHostOpenat2: return "HostOpenat2";
    case Backend::kHostPortable: return "HostPortable";
  }
  return "?";
}

bool IsHost(Backend backend) { return backend != Backend::kMemory; }

bool BackendAvailable(Backend backend) {
  if (backend != Backend::kHostOpenat2) return true;
  TempDir probe;
  return HostDirectory::Open(probe.path(), HostDirectory::Resolver::kOpenat2).ok();
}

std::shared_ptr<Directory> MakeDirectory(Backend backend, const TempDir& temp) {
  if (backend == Backend::kMemory) return MemoryDirectory::Create();
  std::filesystem::create_directories(temp.path() / "root");
  auto dir = HostDirectory::Open(temp.path() / "root", backend == Backend::kHostOpenat2
                                                           ? HostDirectory::Resolver::kOpenat2
                                                           : HostDirectory::Resolver::kPortable);
  if (!dir) {
    ADD_FAILURE() << dir.error().message;
    return nullptr;
  }
  return *dir;
}

namespace {

class TestContext final : public HostContext {
 public:
  explicit TestContext(std::vector<std::uint8_t>& bytes) : bytes_(bytes) {}
  GuestMemory Memory() override { return GuestMemory(bytes_); }

 private:
  std::vector<std::uint8_t>& bytes_;
};

}  // namespace

WasiHarness::WasiHarness(WasiConfig config)
    : memory(kMemoryBytes), host(std::move(config), env) {
  host.Register(imports);
}

const HostFunction* WasiHarness::Find(std::string_view name) const {
  return imports.FindFunction(kModuleName, name);
}

Errno WasiHarness::Call(std::string_view name, std::initializer_list<std::uint64_t> args) {
  const HostFunction* function = Find(name);
  if (function == nullptr) {
    ADD_FAILURE() << name << " is not registered";
    return Errno::kNosys;
  }
  if (args.size() != function->sig.params.size()) {
    ADD_FAILURE() << name << " takes " << function->sig.params.size() << " arguments";
    return Errno::kInval;
  }
  std::vector<Value> values;
  std::size_t i = 0;
  for (const std::uint64_t arg : args) {
    values.push_back(function->sig.params[i++] == ValType::kI64
                         ? Value::I64(arg)
                         : Value::I32(static_cast<std::uint32_t>(arg)));
  }
  std::vector<Value> results(function->sig.results.size());
  TestContext context(memory);
  action_ = function->callback(context, values, results);
  if (results.empty()) return Errno::kSuccess;
  EXPECT_EQ(results[0].type, ValType::kI32);
  return static_cast<Errno>(results[0].i32());
}

std::uint32_t WasiHarness::Alloc(std::uint32_t size, std::uint32_t align) {
  next_ = (next_ + align - 1) / align * align;
  if (std::uint64_t{next_} + size > memory.size()) {
    ADD_FAILURE() << "test guest memory exhausted";
    return 0;
  }
  const std::uint32_t offset = next_;
  next_ += size;
  return offset;
}

std::uint32_t WasiHarness::PutBytes(std::string_view bytes) {
  const std::uint32_t offset = Alloc(static_cast<std::uint32_t>(bytes.size()), 1);
  std::memcpy(memory.data() + offset, bytes.data(), bytes.size());
  return offset;
}

std::uint32_t WasiHarness::PutIovecs(std::initializer_list<std::string_view> chunks) {
  const std::uint32_t array = Alloc(static_cast<std::uint32_t>(chunks.size() * 8));
  std::uint32_t entry = array;
  for (const std::string_view chunk : chunks) {
    const std::uint32_t buffer = PutBytes(chunk);
    const auto length = static_cast<std::uint32_t>(chunk.size());
    std::memcpy(memory.data() + entry, &buffer, 4);
    std::memcpy(memory.data() + entry + 4, &length, 4);
    entry += 8;
  }
  return array;
}

template <class T>
T WasiHarness::Load(std::uint32_t offset) const {
  T value{};
  if (std::uint64_t{offset} + sizeof(T) > memory.size()) {
    ADD_FAILURE() << "read outside test guest memory at " << offset;
    return value;
  }
  std::memcpy(&value, memory.data() + offset, sizeof(T));
  return value;
}

std::uint8_t WasiHarness::U8(std::uint32_t offset) const { return Load<std::uint8_t>(offset); }
std::uint16_t WasiHarness::U16(std::uint32_t offset) const { return Load<std::uint16_t>(offset); }
std::uint32_t WasiHarness::U32(std::uint32_t offset) const { return Load<std::uint32_t>(offset); }
std::uint64_t WasiHarness::U64(std::uint32_t offset) const { return Load<std::uint64_t>(offset); }

std::string WasiHarness::Bytes(std::uint32_t offset, std::uint32_t length) const {
  return std::string(reinterpret_cast<const char*>(&memory.at(offset)), length);
}

Errno WasiHarness::Open(std::uint32_t dir_fd, std::string_view path, std::uint32_t oflags,
                        std::uint32_t* fd, Rights base, std::uint32_t fdflags,
                        std::uint32_t lookup) {
  const std::uint32_t path_ptr = PutBytes(path);
  const std::uint32_t fd_ptr = Alloc(4);
  const Errno error = Call("path_open", {dir_fd, lookup, path_ptr, path.size(), oflags, base,
                                         ~Rights{0}, fdflags, fd_ptr});
  if (fd != nullptr) *fd = error == Errno::kSuccess ? U32(fd_ptr) : UINT32_MAX;
  return error;
}

Errno WasiHarness::Write(std::uint32_t fd, std::string_view data, std::uint32_t* written) {
  const std::uint32_t iovs = PutIovecs({data});
  const std::uint32_t written_ptr = Alloc(4);
  const Errno error = Call("fd_write", {fd, iovs, 1, written_ptr});
  if (written != nullptr) *written = U32(written_ptr);
  return error;
}

Errno WasiHarness::Read(std::uint32_t fd, std::uint32_t max, std::string* out) {
  const std::uint32_t buffer = Alloc(max, 1);
  const std::uint32_t iov = Alloc(8);
  std::memcpy(memory.data() + iov, &buffer, 4);
  std::memcpy(memory.data() + iov + 4, &max, 4);
  const std::uint32_t read_ptr = Alloc(4);
  const Errno error = Call("fd_read", {fd, iov, 1, read_ptr});
  if (out != nullptr) *out = error == Errno::kSuccess ? Bytes(buffer, U32(read_ptr)) : "";
  return error;
}

Errno WasiHarness::PathCall(std::string_view name, std::uint32_t dir_fd, std::string_view path) {
  const std::uint32_t path_ptr = PutBytes(path);
  return Call(name, {dir_fd, path_ptr, path.size()});
}

Errno WasiHarness::Stat(std::uint32_t dir_fd, std::string_view path, FileStat* stat,
                        std::uint32_t lookup) {
  const std::uint32_t path_ptr = PutBytes(path);
  const std::uint32_t out = Alloc(64);
  const Errno error = Call("path_filestat_get", {dir_fd, lookup, path_ptr, path.size(), out});
  if (error == Errno::kSuccess && stat != nullptr) {
    stat->device = U64(out);
    stat->inode = U64(out + 8);
    stat->type = static_cast<Filetype>(U8(out + 16));
    stat->link_count = U64(out + 24);
    stat->size = U64(out + 32);
    stat->access_nanos = U64(out + 40);
    stat->modify_nanos = U64(out + 48);
    stat->change_nanos = U64(out + 56);
  }
  return error;
}

std::optional<std::string> WasiHarness::Slurp(std::uint32_t dir_fd, std::string_view path) {
  std::uint32_t fd = 0;
  if (Open(dir_fd, path, 0, &fd, rights::kFdRead) != Errno::kSuccess) return std::nullopt;
  std::string contents;
  for (;;) {
    std::string chunk;
    if (Read(fd, 512, &chunk) != Errno::kSuccess) return std::nullopt;
    if (chunk.empty()) break;
    contents += chunk;
  }
  EXPECT_EQ(Call("fd_close", {fd}), Errno::kSuccess);
  return contents;
}

}  // namespace milf::wasm::wasi::testing
