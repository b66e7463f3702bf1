// MemoryDirectory: a Directory whose whole tree lives in memory. Used for
// /in when the input files arrive over the wire, and for /out when there is
// no host directory to write to (the harness reads the result back with
// CollectFiles, vfs.h).
//
// The tree has regular files and directories only (no symlinks). Inode
// numbers are assigned in creation order from 1 and the device number is 0,
// and all timestamps are 0, so that what a guest observes depends only on
// what it did: deterministic runs stay deterministic.
//
// Ownership: every handle (the root, directories and files opened from it)
// shares the tree; it lives until the last handle goes. A removed directory
// stays valid but empty, and refuses new entries with kNoent.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "wasm/wasi/vfs.h"

namespace milf::wasm::wasi {

class MemoryDirectory final : public Directory {
 public:
  // One memory file never grows past this (kFbig), whatever the quotas say.
  static constexpr std::uint64_t kMaxFileBytes = 1ull << 32;

  // The root of a new, empty tree.
  static std::shared_ptr<MemoryDirectory> Create();

  // Creates or replaces the regular file at `path` with `contents`, making
  // missing parent directories: how the harness fills an input tree.
  FsResult<void> AddFile(std::string_view path, std::span<const std::uint8_t> contents);

  FsResult<FileStat> Stat() override;
  FsResult<std::vector<DirEntry>> List() override;
  FsResult<Node> Open(std::string_view path, const OpenRequest& request) override;
  FsResult<FileStat> StatAt(std::string_view path, bool follow_symlinks) override;
  FsResult<void> CreateDirectory(std::string_view path) override;
  FsResult<void> UnlinkFile(std::string_view path) override;
  FsResult<void> RemoveDirectory(std::string_view path) override;
  FsResult<void> Rename(std::string_view from, Directory& to_dir, std::string_view to) override;

  // Implementation details, public only so that memory_fs.cc can make
  // handles with std::make_shared; use Create().
  struct Entry;  // a file or directory of the tree
  struct Tree;
  MemoryDirectory(std::shared_ptr<Tree> tree, std::shared_ptr<Entry> self);

 private:
  std::shared_ptr<Tree> tree_;
  std::shared_ptr<Entry> self_;
};

}  // namespace milf::wasm::wasi
