#include "wasm/wasi/host_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace milf::wasm::wasi {
namespace {

constexpr mode_t kFileMode = 0644;
constexpr mode_t kDirectoryMode = 0755;

std::uint64_t Nanos(const timespec& time) {
  if (time.tv_sec < 0) return 0;
  return static_cast<std::uint64_t>(time.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(time.tv_nsec);
}

Filetype TypeFromMode(mode_t mode) {
  if (S_ISREG(mode)) return Filetype::kRegularFile;
  if (S_ISDIR(mode)) return Filetype::kDirectory;
  if (S_ISLNK(mode)) return Filetype::kSymbolicLink;
  if (S_ISCHR(mode)) return Filetype::kCharacterDevice;
  if (S_ISBLK(mode)) return Filetype::kBlockDevice;
  if (S_ISSOCK(mode)) return Filetype::kSocketStream;
  return Filetype::kUnknown;
}

FileStat FromHost(const struct stat& st) {
  FileStat stat;
  stat.type = TypeFromMode(st.st_mode);
  stat.device = st.st_dev;
  stat.inode = st.st_ino;
  stat.link_count = st.st_nlink;
  stat.size = st.st_size < 0 ? 0 : static_cast<std::uint64_t>(st.st_size);
  stat.access_nanos = Nanos(st.st_atim);
  stat.modify_nanos = Nanos(st.st_mtim);
  stat.change_nanos = Nanos(st.st_ctim);
  return stat;
}

FsResult<FileStat> StatFd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Fail(ErrnoFromHost(errno));
  return FromHost(st);
}

Filetype TypeFromDirent(unsigned char type) {
  switch (type) {
    case DT_REG: return Filetype::kRegularFile;
    case DT_DIR: return Filetype::kDirectory;
    case DT_LNK: return Filetype::kSymbolicLink;
    case DT_CHR: return Filetype::kCharacterDevice;
    case DT_BLK: return Filetype::kBlockDevice;
    case DT_SOCK: return Filetype::kSocketStream;
    default: return Filetype::kUnknown;
  }
}

class HostFile final : public File {
 public:
  explicit HostFile(UniqueFd fd) : fd_(std::move(fd)) {}

  FsResult<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) override {
    if (offset > static_cast<std::uint64_t>(LLONG_MAX)) return std::size_t{0};
    const std::size_t count = std::min<std::size_t>(out.size(), SSIZE_MAX);
    ssize_t n;
    do {
      n = ::pread(fd_.get(), out.data(), count, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Fail(ErrnoFromHost(errno));
    return static_cast<std::size_t>(n);
  }

  FsResult<std::size_t> WriteAt(std::uint64_t offset,
                                std::span<const std::uint8_t> data) override {
    if (offset > static_cast<std::uint64_t>(LLONG_MAX)) return Fail(Errno::kFbig);
    const std::size_t count = std::min<std::size_t>(data.size(), SSIZE_MAX);
    ssize_t n;
    do {
      n = ::pwrite(fd_.get(), data.data(), count, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Fail(ErrnoFromHost(errno));
    return static_cast<std::size_t>(n);
  }

  FsResult<FileStat> Stat() override { return StatFd(fd_.get()); }

 private:
  UniqueFd fd_;
};

// A trailing slash insists on a directory; rename(2) and unlink(2) on the
// bare leaf would otherwise ignore it.
FsResult<void> RequireDirectoryIfSlashed(const ParentDir& parent, bool trailing_slash) {
  if (!trailing_slash) return {};
  struct stat st {};
  if (::fstatat(parent.dir.get(), parent.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Fail(ErrnoFromHost(errno));
  }
  if (!S_ISDIR(st.st_mode)) return Fail(Errno::kNotdir);
  return {};
}

}  // namespace

Result<std::shared_ptr<HostDirectory>> HostDirectory::Open(const std::filesystem::path& host_path,
                                                           Resolver resolver) {
  UniqueFd fd(::open(host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    const std::string message = host_path.string() + ": " + std::strerror(error);
    if (error == ENOENT) return Fail("not_found", message);
    if (error == ENOTDIR) return Fail("not_a_directory", message);
    return Fail("io", message);
  }
  const ResolveMode detected = DetectResolveMode(fd.get());
  ResolveMode mode = detected;
  if (resolver == Resolver::kPortable) mode = ResolveMode::kPortable;
  if (resolver == Resolver::kOpenat2 && detected != ResolveMode::kOpenat2) {
    return Fail("unsupported", "openat2 with RESOLVE_BENEATH is not available on this kernel");
  }
  return std::make_shared<HostDirectory>(std::move(fd), mode);
}

HostDirectory::HostDirectory(UniqueFd dir_fd, ResolveMode mode)
    : fd_(std::move(dir_fd)), mode_(mode) {}

FsResult<ParentDir> HostDirectory::Parent(const ParsedPath& path) const {
  return OpenParentBeneath(fd_.get(), path, mode_);
}

FsResult<FileStat> HostDirectory::Stat() { return StatFd(fd_.get()); }

FsResult<std::vector<DirEntry>> HostDirectory::List() {
  // A fresh descriptor: readdir's position must not be shared between calls.
  UniqueFd fd(::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Fail(ErrnoFromHost(errno));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd.get()), &::closedir);
  if (!dir) return Fail(ErrnoFromHost(errno));
  fd.Release();

  std::vector<DirEntry> entries;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    Filetype type = TypeFromDirent(entry->d_type);
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        type = TypeFromMode(st.st_mode);
      }
    }
    entries.push_back({std::string(name), type, entry->d_ino});
  }
  if (errno != 0) return Fail(ErrnoFromHost(errno));
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

FsResult<Node> HostDirectory::Open(std::string_view path, const OpenRequest& request) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  if (request.create && request.directory) return Fail(Errno::kInval);

  int flags = request.write ? (request.read ? O_RDWR : O_WRONLY) : O_RDONLY;
  if (request.create) flags |= O_CREAT;
  if (request.create && request.exclusive) flags |= O_EXCL;
  if (request.truncate) flags |= O_TRUNC;
  if (request.directory) flags |= O_DIRECTORY;
  flags |= O_NONBLOCK | O_NOCTTY;
  auto fd = OpenBeneath(fd_.get(), *parsed, flags, kFileMode, request.follow_symlinks, mode_);
  if (!fd) return Fail(fd.error());

  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Fail(ErrnoFromHost(errno));
  if (S_ISDIR(st.st_mode)) {
    return Node(std::shared_ptr<Directory>(std::make_shared<HostDirectory>(std::move(*fd), mode_)));
  }
  if (S_ISREG(st.st_mode)) {
    return Node(std::shared_ptr<File>(std::make_shared<HostFile>(std::move(*fd))));
  }
  return Fail(Errno::kNotsup);
}

FsResult<FileStat> HostDirectory::StatAt(std::string_view path, bool follow_symlinks) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  auto fd = OpenBeneath(fd_.get(), *parsed, O_PATH, 0, follow_symlinks, mode_);
  if (!fd) return Fail(fd.error());
  return StatFd(fd->get());
}

FsResult<void> HostDirectory::CreateDirectory(std::string_view path) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  if (parsed->leaf_is_dot()) return Fail(Errno::kExist);
  auto parent = Parent(*parsed);
  if (!parent) return Fail(parent.error());
  if (::mkdirat(parent->dir.get(), parent->leaf.c_str(), kDirectoryMode) != 0) {
    return Fail(ErrnoFromHost(errno));
  }
  return {};
}

FsResult<void> HostDirectory::UnlinkFile(std::string_view path) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  auto parent = Parent(*parsed);
  if (!parent) return Fail(parent.error());
  if (parsed->trailing_slash) {
    auto is_directory = RequireDirectoryIfSlashed(*parent, true);
    return Fail(is_directory ? Errno::kIsdir : is_directory.error());
  }
  if (::unlinkat(parent->dir.get(), parent->leaf.c_str(), 0) != 0) {
    return Fail(ErrnoFromHost(errno));
  }
  return {};
}

FsResult<void> HostDirectory::RemoveDirectory(std::string_view path) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  auto parent = Parent(*parsed);
  if (!parent) return Fail(parent.error());
  if (::unlinkat(parent->dir.get(), parent->leaf.c_str(), AT_REMOVEDIR) != 0) {
    return Fail(ErrnoFromHost(errno));
  }
  return {};
}

FsResult<void> HostDirectory::Rename(std::string_view from, Directory& to_dir,
                                     std::string_view to) {
  auto* target = dynamic_cast<HostDirectory*>(&to_dir);
  if (target == nullptr) return Fail(Errno::kXdev);
  auto from_path = ParseRelativePath(from);
  if (!from_path) return Fail(from_path.error());
  auto to_path = ParseRelativePath(to);
  if (!to_path) return Fail(to_path.error());
  auto source = Parent(*from_path);
  if (!source) return Fail(source.error());
  auto dest = target->Parent(*to_path);
  if (!dest) return Fail(dest.error());
  auto slashed = RequireDirectoryIfSlashed(*source, from_path->trailing_slash ||
                                                        to_path->trailing_slash);
  if (!slashed) return Fail(slashed.error());
  if (::renameat(source->dir.get(), source->leaf.c_str(), dest->dir.get(),
                 dest->leaf.c_str()) != 0) {
    return Fail(ErrnoFromHost(errno));
  }
  return {};
}

}  // namespace milf::wasm::wasi
