#include "node/module_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "base/sha256.h"

namespace milf::node {
namespace {

namespace fs = std::filesystem;

constexpr const char* kModuleSuffix = ".wasm";
constexpr const char* kPartialSuffix = ".partial";

bool IsSha256Hex(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Writes the whole buffer to a new file and flushes it to disk, so that a
// rename afterwards never exposes a partial module.
Status WriteDurably(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail("io", "cannot create " + path.string() + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return Fail("io", "cannot write " + path.string() + ": " + std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Fail("io", "cannot sync " + path.string());
  return {};
}

}  // namespace

ModuleStore::ModuleStore(fs::path dir, std::uint64_t budget)
    : dir_(std::move(dir)), budget_(budget) {}

Result<std::unique_ptr<ModuleStore>> ModuleStore::Open(fs::path dir,
                                                       std::uint64_t memory_budget_bytes) {
  std::error_code error;
  const bool created = fs::create_directories(dir, error);
  if (error) return Fail("io", "cannot create " + dir.string() + ": " + error.message());
  if (created) fs::permissions(dir, fs::perms::owner_all, error);
  if (error) return Fail("io", "cannot restrict " + dir.string() + ": " + error.message());
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().extension() == kPartialSuffix) fs::remove(entry.path(), error);
  }
  return std::unique_ptr<ModuleStore>(new ModuleStore(std::move(dir), memory_budget_bytes));
}

ModuleStore::Bytes ModuleStore::Get(const std::string& sha256) {
  if (!IsSha256Hex(sha256)) return nullptr;
  {
    std::lock_guard lock(mutex_);
    if (auto found = memory_.find(sha256); found != memory_.end()) {
      recency_.splice(recency_.begin(), recency_, found->second.position);
      return found->second.bytes;
    }
  }
  std::ifstream in(PathOf(sha256), std::ios::binary);
  if (!in) return nullptr;
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(std::istreambuf_iterator<char>(in),
                                                           std::istreambuf_iterator<char>());
  if (in.bad() || Sha256Hex(*bytes) != sha256) {
    std::error_code ignored;
    fs::remove(PathOf(sha256), ignored);
    return nullptr;
  }
  std::lock_guard lock(mutex_);
  Remember(sha256, bytes);
  return bytes;
}

Status ModuleStore::Put(const std::string& sha256, std::vector<std::uint8_t> bytes) {
  if (!IsSha256Hex(sha256) || Sha256Hex(bytes) != sha256) {
    return Fail("hash_mismatch", "module bytes do not hash to " + sha256.substr(0, 64));
  }
  // A unique partial name per writer: two threads putting the same module
  // each write their own file and the renames agree on the content.
  const fs::path partial =
      dir_ / (sha256 + "." + std::to_string(::gettid()) + kPartialSuffix);
  if (auto written = WriteDurably(partial, bytes); !written) return written;
  std::error_code error;
  fs::rename(partial, PathOf(sha256), error);
  if (error) {
    fs::remove(partial, error);
    return Fail("io", "cannot store module " + sha256 + ": " + error.message());
  }
  std::lock_guard lock(mutex_);
  Remember(sha256, std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes)));
  return {};
}

std::vector<std::string> ModuleStore::List() const {
  std::vector<std::string> hashes;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    if (entry.path().extension() != kModuleSuffix) continue;
    std::string stem = entry.path().stem().string();
    if (IsSha256Hex(stem)) hashes.push_back(std::move(stem));
  }
  std::sort(hashes.begin(), hashes.end());
  return hashes;
}

void ModuleStore::Remember(const std::string& sha256, Bytes bytes) {
  if (auto found = memory_.find(sha256); found != memory_.end()) {
    recency_.splice(recency_.begin(), recency_, found->second.position);
    return;
  }
  if (bytes->size() > budget_) return;
  recency_.push_front(sha256);
  memory_bytes_ += bytes->size();
  memory_.emplace(sha256, Entry{std::move(bytes), recency_.begin()});
  while (memory_bytes_ > budget_) {
    auto oldest = memory_.find(recency_.back());
    memory_bytes_ -= oldest->second.bytes->size();
    memory_.erase(oldest);
    recency_.pop_back();
  }
}

fs::path ModuleStore::PathOf(const std::string& sha256) const {
  return dir_ / (sha256 + kModuleSuffix);
}

}  // namespace milf::node
