#include "node/module_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <tuple>
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

// A use rewrites the file's modification time (the recency a restart
// rebuilds) only when the recorded one is older than this.
constexpr auto kTouchInterval = std::chrono::minutes(1);

}  // namespace

ModuleStore::ModuleStore(fs::path dir, ModuleStoreOptions options)
    : dir_(std::move(dir)), options_(options) {}

Result<std::unique_ptr<ModuleStore>> ModuleStore::Open(fs::path dir, ModuleStoreOptions options) {
  std::error_code error;
  const bool created = fs::create_directories(dir, error);
  if (error) return Fail("io", "cannot create " + dir.string() + ": " + error.message());
  if (created) fs::permissions(dir, fs::perms::owner_all, error);
  if (error) return Fail("io", "cannot restrict " + dir.string() + ": " + error.message());
  struct Found {
    fs::file_time_type mtime;
    std::string sha256;
    std::uint64_t size;
  };
  std::vector<Found> found;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::error_code ignored;
    if (entry.path().extension() == kPartialSuffix) {
      fs::remove(entry.path(), ignored);
      continue;
    }
    std::string stem = entry.path().stem().string();
    if (entry.path().extension() != kModuleSuffix || !IsSha256Hex(stem) ||
        !entry.is_regular_file(ignored)) {
      continue;
    }
    const auto size = entry.file_size(ignored);
    const auto mtime = entry.last_write_time(ignored);
    if (!ignored) found.push_back({mtime, std::move(stem), size});
  }
  if (error) return Fail("io", "cannot list " + dir.string() + ": " + error.message());
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return std::tie(a.mtime, a.sha256) < std::tie(b.mtime, b.sha256);
  });
  std::unique_ptr<ModuleStore> store(new ModuleStore(std::move(dir), options));
  std::lock_guard lock(store->mutex_);
  for (const Found& module : found) store->Index(module.sha256, module.size, module.mtime);
  store->TrimDisk("");
  return store;
}

ModuleStore::Bytes ModuleStore::Get(const std::string& sha256) {
  if (!IsSha256Hex(sha256)) return nullptr;
  {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(sha256);
    if (found == entries_.end()) return nullptr;
    Entry& entry = found->second;
    if (Bytes live = entry.cached ? entry.cached : entry.handed_out.lock()) {
      return Adopt(sha256, entry, std::move(live));
    }
  }
  std::ifstream in(PathOf(sha256), std::ios::binary);
  std::vector<std::uint8_t> read;
  bool intact = false;
  if (in) {
    read.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    intact = !in.bad() && Sha256Hex(read) == sha256;
  }
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(sha256);
  if (found == entries_.end()) return nullptr;  // evicted meanwhile
  if (!intact) {
    // Unless a verified copy appeared meanwhile (a Put rewrote the file).
    if (!found->second.cached && found->second.handed_out.expired()) Drop(sha256);
    return nullptr;
  }
  return Adopt(sha256, found->second,
               std::make_shared<const std::vector<std::uint8_t>>(std::move(read)));
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
  const std::uint64_t size = bytes.size();
  Entry& entry = entries_[sha256];
  // A file indexed at Open may have been a damaged one of another size.
  disk_bytes_ = disk_bytes_ - entry.size + size;
  entry.size = size;
  entry.touched_at = fs::file_time_type::clock::now();
  Adopt(sha256, entry, std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes)));
  TrimDisk(sha256);
  return {};
}

std::vector<std::string> ModuleStore::List() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> hashes;
  hashes.reserve(entries_.size());
  for (const auto& [sha256, entry] : entries_) hashes.push_back(sha256);
  return hashes;
}

std::uint64_t ModuleStore::disk_bytes() const {
  std::lock_guard lock(mutex_);
  return disk_bytes_;
}

fs::path ModuleStore::PathOf(const std::string& sha256) const {
  return dir_ / (sha256 + kModuleSuffix);
}

void ModuleStore::Index(const std::string& sha256, std::uint64_t size, fs::file_time_type mtime) {
  Entry& entry = entries_[sha256];
  entry.size = size;
  entry.touched_at = mtime;
  entry.last_use = ++use_clock_;
  by_use_.emplace(entry.last_use, sha256);
  disk_bytes_ += size;
}

ModuleStore::Bytes ModuleStore::Adopt(const std::string& sha256, Entry& entry, Bytes bytes) {
  if (entry.cached) {
    bytes = entry.cached;
  } else if (Bytes live = entry.handed_out.lock()) {
    bytes = std::move(live);
  }
  if (entry.last_use != 0) by_use_.erase(entry.last_use);
  entry.last_use = ++use_clock_;
  by_use_.emplace(entry.last_use, sha256);
  entry.handed_out = bytes;
  if (!entry.cached && bytes->size() <= options_.memory_budget_bytes) {
    entry.cached = bytes;
    memory_bytes_ += bytes->size();
    TrimMemory();
  }
  const auto now = fs::file_time_type::clock::now();
  if (now - entry.touched_at >= kTouchInterval) {
    std::error_code error;
    fs::last_write_time(PathOf(sha256), now, error);
    if (!error) entry.touched_at = now;
  }
  return bytes;
}

void ModuleStore::Drop(const std::string& sha256) {
  const auto found = entries_.find(sha256);
  if (found == entries_.end()) return;
  std::error_code ignored;
  fs::remove(PathOf(sha256), ignored);
  disk_bytes_ -= found->second.size;
  if (found->second.cached) memory_bytes_ -= found->second.cached->size();
  by_use_.erase(found->second.last_use);
  entries_.erase(found);
}

bool ModuleStore::InUse(const Entry& entry) const {
  // The memory cache's own reference does not count as a use.
  return entry.handed_out.use_count() > (entry.cached ? 1 : 0);
}

void ModuleStore::TrimMemory() {
  for (auto it = by_use_.begin();
       memory_bytes_ > options_.memory_budget_bytes && it != by_use_.end(); ++it) {
    Entry& entry = entries_.at(it->second);
    if (!entry.cached) continue;
    memory_bytes_ -= entry.cached->size();
    entry.cached.reset();
  }
}

void ModuleStore::TrimDisk(const std::string& keep) {
  auto it = by_use_.begin();
  while (disk_bytes_ > options_.disk_budget_bytes && it != by_use_.end()) {
    const std::string sha256 = (it++)->second;
    if (sha256 != keep && !InUse(entries_.at(sha256))) Drop(sha256);
  }
}

}  // namespace milf::node
