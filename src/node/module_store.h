// ModuleStore: the node's modules, content-addressed by SHA-256, so that a
// module crosses the wire once per node. Modules live on disk under one
// directory (one file per hash, written atomically) and survive restarts;
// the most recently used ones are also kept in memory, up to a byte budget.
//
// The disk cache is bounded too. When the modules on disk exceed the disk
// budget, the least recently used ones are deleted until they fit, except
// modules in use: any whose bytes a caller of Get or Put still holds (a
// running or queued job), and the one just put. So the directory can go
// over the budget while jobs hold modules, and by up to one module (one
// larger than the whole budget is kept until the next Put). Recency
// survives restarts: Open rebuilds the index from the directory, ordered by
// the files' modification times, and a use rewrites that time (at most once
// a minute per module, so a busy module costs no disk write per job).
//
// A module is checked against its hash when it is put, and again whenever
// it is read back from disk: a file that no longer matches (a torn write, a
// flipped bit) is deleted and the module reported as not held, so the node
// asks the server for it again instead of running corrupt code.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"

namespace milf::node {

struct ModuleStoreOptions {
  std::uint64_t disk_budget_bytes = 256u << 20;
  std::uint64_t memory_budget_bytes = 256u << 20;
};

class ModuleStore {
 public:
  using Bytes = std::shared_ptr<const std::vector<std::uint8_t>>;

  // Creates `dir` (mode 0700) when missing, removes leftovers of
  // interrupted writes, indexes the modules already there and trims them to
  // the disk budget. Files that are not named like a module are ignored.
  // Errors: "io".
  static Result<std::unique_ptr<ModuleStore>> Open(std::filesystem::path dir,
                                                   ModuleStoreOptions options = {});

  // The module with this hash (64 lowercase hex digits), or nullptr when it
  // is not held or its file no longer matches the hash. The module stays
  // on disk at least as long as the returned bytes are held.
  Bytes Get(const std::string& sha256);

  // Stores `bytes` under `sha256`, then trims the disk cache to its budget.
  // Errors: "hash_mismatch" when the bytes do not hash to `sha256` (or it
  // is not a SHA-256 hex digest), "io".
  Status Put(const std::string& sha256, std::vector<std::uint8_t> bytes);

  // Hashes of every module on disk, sorted.
  std::vector<std::string> List() const;

  // Total size of the modules on disk.
  std::uint64_t disk_bytes() const;

 private:
  struct Entry {
    std::uint64_t size = 0;
    std::uint64_t last_use = 0;  // a tick of use_clock_; the key in by_use_
    std::filesystem::file_time_type touched_at;  // the file's modification time
    Bytes cached;  // held in memory, or null
    // The bytes last handed out, for as long as anyone holds them.
    std::weak_ptr<const std::vector<std::uint8_t>> handed_out;
  };

  ModuleStore(std::filesystem::path dir, ModuleStoreOptions options);
  std::filesystem::path PathOf(const std::string& sha256) const;
  // The rest run with mutex_ held.
  void Index(const std::string& sha256, std::uint64_t size, std::filesystem::file_time_type mtime);
  // Marks the module used now and returns the copy to hand out: the one
  // already in memory or held elsewhere, else `bytes`, which it keeps in
  // memory if they fit.
  Bytes Adopt(const std::string& sha256, Entry& entry, Bytes bytes);
  void Drop(const std::string& sha256);
  bool InUse(const Entry& entry) const;
  void TrimMemory();
  void TrimDisk(const std::string& keep);

  const std::filesystem::path dir_;
  const ModuleStoreOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::map<std::uint64_t, std::string> by_use_;  // last_use -> hash, oldest first
  std::uint64_t use_clock_ = 0;
  std::uint64_t disk_bytes_ = 0;
  std::uint64_t memory_bytes_ = 0;
};

}  // namespace milf::node
