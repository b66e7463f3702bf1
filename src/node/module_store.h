// ModuleStore: the node's modules, content-addressed by SHA-256, so that a
// module crosses the wire once per node. Modules live on disk under one
// directory (one file per hash, written atomically) and survive restarts;
// the most recently used ones are also kept in memory, up to a byte budget.
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
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"

namespace milf::node {

class ModuleStore {
 public:
  using Bytes = std::shared_ptr<const std::vector<std::uint8_t>>;

  // Creates `dir` (mode 0700) when missing and removes leftovers of
  // interrupted writes. Errors: "io".
  static Result<std::unique_ptr<ModuleStore>> Open(std::filesystem::path dir,
                                                   std::uint64_t memory_budget_bytes = 256u << 20);

  // The module with this hash (64 lowercase hex digits), or nullptr when it
  // is not held or its file no longer matches the hash.
  Bytes Get(const std::string& sha256);

  // Stores `bytes` under `sha256`. Errors: "hash_mismatch" when the bytes do
  // not hash to `sha256` (or it is not a SHA-256 hex digest), "io".
  Status Put(const std::string& sha256, std::vector<std::uint8_t> bytes);

  // Hashes of every module on disk, sorted.
  std::vector<std::string> List() const;

 private:
  ModuleStore(std::filesystem::path dir, std::uint64_t budget);
  void Remember(const std::string& sha256, Bytes bytes);  // with mutex_ held
  std::filesystem::path PathOf(const std::string& sha256) const;

  const std::filesystem::path dir_;
  const std::uint64_t budget_;
  mutable std::mutex mutex_;
  std::list<std::string> recency_;  // most recently used first
  struct Entry {
    Bytes bytes;
    std::list<std::string>::iterator position;
  };
  std::map<std::string, Entry> memory_;
  std::uint64_t memory_bytes_ = 0;
};

}  // namespace milf::node
