// HostDirectory: a Directory backed by a directory of the host filesystem,
// rooted at an O_DIRECTORY descriptor. Every path is resolved beneath that
// descriptor (host_resolve.h), so the guest reaches nothing outside it:
// "..", absolute paths and symlinks pointing out fail with kNotcapable.
// Symlinks that stay inside are followed.
//
// Only regular files and directories can be opened; FIFOs, devices and
// sockets inside the tree are refused with kNotsup (they are opened with
// O_NONBLOCK first, so a FIFO cannot block the run). Stat results are the
// host's (device, inode, times). New files get mode 0644, directories 0755,
// less the process umask.
//
// Ownership: each HostDirectory owns its descriptor; directories and files
// opened from it own theirs. Thread-safety: none needed beyond the kernel's.
#pragma once

#include <filesystem>
#include <memory>

#include "base/result.h"
#include "wasm/wasi/host_resolve.h"
#include "wasm/wasi/unique_fd.h"
#include "wasm/wasi/vfs.h"

namespace milf::wasm::wasi {

class HostDirectory final : public Directory {
 public:
  enum class Resolver {
    kAuto,      // openat2 when the kernel allows it, else the portable walk
    kOpenat2,   // fail with "unsupported" when the kernel lacks openat2
    kPortable,  // always the component-by-component walk
  };

  // Opens `host_path`, which must be a directory. Errors: "not_found",
  // "not_a_directory", "unsupported", "io" (with the host's message).
  static Result<std::shared_ptr<HostDirectory>> Open(const std::filesystem::path& host_path,
                                                     Resolver resolver = Resolver::kAuto);

  // Takes ownership of `dir_fd`, an open directory descriptor (not O_PATH).
  HostDirectory(UniqueFd dir_fd, ResolveMode mode);

  ResolveMode resolve_mode() const { return mode_; }

  FsResult<FileStat> Stat() override;
  FsResult<std::vector<DirEntry>> List() override;
  FsResult<Node> Open(std::string_view path, const OpenRequest& request) override;
  FsResult<FileStat> StatAt(std::string_view path, bool follow_symlinks) override;
  FsResult<void> CreateDirectory(std::string_view path) override;
  FsResult<void> UnlinkFile(std::string_view path) override;
  FsResult<void> RemoveDirectory(std::string_view path) override;
  FsResult<void> Rename(std::string_view from, Directory& to_dir, std::string_view to) override;

 private:
  FsResult<ParentDir> Parent(const ParsedPath& path) const;

  UniqueFd fd_;
  ResolveMode mode_;
};

}  // namespace milf::wasm::wasi
