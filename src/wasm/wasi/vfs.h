// The virtual filesystem seen by WASI guests. A guest never reaches the host
// filesystem directly: every file it can name lives under a Directory the
// harness handed to WasiHost as a preopen. Two implementations exist:
// MemoryDirectory (memory_fs.h), a tree held in memory, and HostDirectory
// (host_fs.h), a host directory reached through a resolver that cannot leave
// it.
//
// Contract for every Directory:
//  - Paths are guest paths (path.h) relative to this directory. Resolution
//    never leaves it: ".." above it, absolute paths and symlinks that lead
//    out (absolute targets, or relative ones climbing above it) fail with
//    Errno::kNotcapable. A directory opened from another is confined to
//    itself, not to its ancestor: that is WASI's capability model.
//  - Errors are WASI errno values, as the guest will see them.
//  - Operations whose last component is "." or ".." fail (kInval, or kExist
//    for CreateDirectory) instead of acting on a parent.
//  - Quotas, read-only preopens and rights are the WASI layer's business; a
//    Directory does what it is asked within its confinement.
//
// Files are positionless (ReadAt/WriteAt); the descriptor keeps the offset.
// Ownership: handles are shared_ptr; an open File stays usable after its name
// is unlinked, as in POSIX. Thread-safety: none; one run uses its tree from
// one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "wasm/wasi/abi.h"

namespace milf::wasm::wasi {

template <class T>
using FsResult = Result<T, Errno>;

struct FileStat {
  Filetype type = Filetype::kUnknown;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t link_count = 1;
  std::uint64_t size = 0;
  std::uint64_t access_nanos = 0;  // since the Unix epoch
  std::uint64_t modify_nanos = 0;
  std::uint64_t change_nanos = 0;
};

struct DirEntry {
  std::string name;  // never "." or ".."
  Filetype type = Filetype::kUnknown;
  std::uint64_t inode = 0;
};

struct OpenRequest {
  bool read = true;
  bool write = false;       // a directory refuses it with kIsdir
  bool create = false;      // make a regular file when the name is absent
  bool exclusive = false;   // with create: kExist when the name is present
  bool truncate = false;    // empty an existing regular file
  bool directory = false;   // kNotdir unless the target is a directory
  bool follow_symlinks = true;  // for the last component; kLoop otherwise
};

class File {
 public:
  virtual ~File() = default;
  // Reads up to out.size() bytes at `offset`; fewer at end of file, 0 past it.
  virtual FsResult<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
  // Writes `data` at `offset`, growing the file (with zeros up to `offset`
  // if it lies past the end). May write fewer bytes than asked.
  virtual FsResult<std::size_t> WriteAt(std::uint64_t offset,
                                        std::span<const std::uint8_t> data) = 0;
  virtual FsResult<FileStat> Stat() = 0;
};

class Directory;
using Node = std::variant<std::shared_ptr<File>, std::shared_ptr<Directory>>;

class Directory {
 public:
  virtual ~Directory() = default;

  virtual FsResult<FileStat> Stat() = 0;
  // Every entry but "." and "..", sorted by name (byte order), so listings
  // are deterministic.
  virtual FsResult<std::vector<DirEntry>> List() = 0;

  // Opens a regular file or a directory. Other kinds of host files (FIFOs,
  // devices, sockets) are refused with kNotsup.
  virtual FsResult<Node> Open(std::string_view path, const OpenRequest& request) = 0;
  virtual FsResult<FileStat> StatAt(std::string_view path, bool follow_symlinks) = 0;
  virtual FsResult<void> CreateDirectory(std::string_view path) = 0;
  // kIsdir for a directory.
  virtual FsResult<void> UnlinkFile(std::string_view path) = 0;
  // kNotempty unless empty; kNotdir for a non-directory.
  virtual FsResult<void> RemoveDirectory(std::string_view path) = 0;
  // Moves `from` (relative to this) to `to` (relative to `to_dir`),
  // replacing a compatible target, as rename(2). kXdev when `to_dir` is a
  // different implementation or tree.
  virtual FsResult<void> Rename(std::string_view from, Directory& to_dir, std::string_view to) = 0;
};

// A regular file found under a directory, by relative path ("a/b.txt").
struct FileContents {
  std::string path;
  std::vector<std::uint8_t> bytes;
};

// Every regular file under `root` (recursively, symlinks not followed),
// sorted by path: how the harness reads what a run wrote to /out. Fails with
// kFbig once the files together exceed `max_total_bytes`, so a huge host
// tree cannot exhaust the harness's memory.
FsResult<std::vector<FileContents>> CollectFiles(Directory& root,
                                                 std::uint64_t max_total_bytes = UINT64_MAX);

}  // namespace milf::wasm::wasi
