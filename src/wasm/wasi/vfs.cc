#include "wasm/wasi/vfs.h"

#include <algorithm>
#include <utility>

namespace milf::wasm::wasi {
namespace {

// Reads a whole file, failing with kFbig once `budget` bytes are exceeded.
FsResult<std::vector<std::uint8_t>> ReadAll(File& file, std::uint64_t& budget) {
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[64 * 1024];
  for (;;) {
    auto read = file.ReadAt(bytes.size(), chunk);
    if (!read) return Fail(read.error());
    if (*read == 0) return bytes;
    if (*read > budget) return Fail(Errno::kFbig);
    budget -= *read;
    bytes.insert(bytes.end(), chunk, chunk + *read);
  }
}

FsResult<Filetype> EntryType(Directory& dir, const DirEntry& entry) {
  if (entry.type != Filetype::kUnknown) return entry.type;
  auto stat = dir.StatAt(entry.name, /*follow_symlinks=*/false);
  if (!stat) return Fail(stat.error());
  return stat->type;
}

}  // namespace

FsResult<std::vector<FileContents>> CollectFiles(Directory& root, std::uint64_t max_total_bytes) {
  struct Pending {
    std::shared_ptr<Directory> owner;  // null for the caller's root
    Directory* dir;
    std::string prefix;
  };
  // An explicit stack: guest-made trees may be deeper than the host stack.
  std::vector<Pending> pending{{nullptr, &root, ""}};
  std::vector<FileContents> files;
  std::uint64_t budget = max_total_bytes;

  while (!pending.empty()) {
    Pending current = std::move(pending.back());
    pending.pop_back();
    auto entries = current.dir->List();
    if (!entries) return Fail(entries.error());
    for (const DirEntry& entry : *entries) {
      auto type = EntryType(*current.dir, entry);
      if (!type) return Fail(type.error());
      if (*type != Filetype::kDirectory && *type != Filetype::kRegularFile) continue;

      OpenRequest request;
      request.follow_symlinks = false;
      request.directory = *type == Filetype::kDirectory;
      auto node = current.dir->Open(entry.name, request);
      if (!node) return Fail(node.error());
      std::string path = current.prefix + entry.name;
      if (auto* dir = std::get_if<std::shared_ptr<Directory>>(&*node)) {
        Directory* raw = dir->get();
        pending.push_back({std::move(*dir), raw, path + "/"});
        continue;
      }
      auto bytes = ReadAll(*std::get<std::shared_ptr<File>>(*node), budget);
      if (!bytes) return Fail(bytes.error());
      files.push_back({std::move(path), std::move(*bytes)});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const FileContents& a, const FileContents& b) { return a.path < b.path; });
  return files;
}

}  // namespace milf::wasm::wasi
