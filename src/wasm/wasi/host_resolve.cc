#include "wasm/wasi/host_resolve.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

namespace milf::wasm::wasi {
namespace {

// openat2 may fail with EAGAIN when a concurrent rename races a ".." lookup;
// the kernel asks for a retry rather than risk an escape.
constexpr int kOpenat2Attempts = 8;

int Openat2Beneath(int dir_fd, const std::string& path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = -1;
  for (int attempt = 0; attempt < kOpenat2Attempts; ++attempt) {
    fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR)) break;
  }
  return static_cast<int>(fd);
}

// RESOLVE_BENEATH reports an attempted escape as EXDEV.
Errno ErrnoFromOpenat2(int host_errno) {
  return host_errno == EXDEV ? Errno::kNotcapable : ErrnoFromHost(host_errno);
}

FsResult<std::string> ReadLink(int link_fd) {
  char target[kMaxPathBytes + 1];
  const ssize_t length = ::readlinkat(link_fd, "", target, sizeof target);
  if (length < 0) return Fail(ErrnoFromHost(errno));
  if (static_cast<std::size_t>(length) >= sizeof target) return Fail(Errno::kNametoolong);
  return std::string(target, static_cast<std::size_t>(length));
}

// The portable walk. Resolves every component but the last as a directory
// (expanding symlinks, the last one too when `follow_final`), and returns
// the directory reached with the name left to open in it: the last
// component, or "." when the path ends at a directory ("a/..", ".").
FsResult<ParentDir> Walk(int root_fd, const ParsedPath& path, bool follow_final) {
  std::vector<UniqueFd> stack;  // directories entered below the root
  std::deque<std::string> pending(path.components.begin(), path.components.end());
  int expansions = 0;
  std::string leaf = ".";
  const auto current = [&] { return stack.empty() ? root_fd : stack.back().get(); };

  while (!pending.empty()) {
    std::string name = std::move(pending.front());
    pending.pop_front();
    const bool last = pending.empty();
    if (name == ".") continue;
    if (name == "..") {
      if (stack.empty()) return Fail(Errno::kNotcapable);
      stack.pop_back();
      continue;
    }
    if (last && !follow_final) {
      leaf = std::move(name);
      break;
    }
    UniqueFd fd(::openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT && last) {
        leaf = std::move(name);  // may be created
        break;
      }
      return Fail(ErrnoFromHost(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Fail(ErrnoFromHost(errno));
    if (S_ISLNK(st.st_mode)) {
      if (++expansions > kMaxSymlinkExpansions) return Fail(Errno::kLoop);
      auto target = ReadLink(fd.get());
      if (!target) return Fail(target.error());
      auto parsed = ParseRelativePath(*target);  // absolute targets: kNotcapable
      if (!parsed) return Fail(parsed.error());
      pending.insert(pending.begin(), parsed->components.begin(), parsed->components.end());
      continue;
    }
    if (last) {
      leaf = std::move(name);
      break;
    }
    if (!S_ISDIR(st.st_mode)) return Fail(Errno::kNotdir);
    stack.push_back(std::move(fd));
  }

  UniqueFd dir = stack.empty() ? UniqueFd(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0))
                               : std::move(stack.back());
  if (!dir.valid()) return Fail(ErrnoFromHost(errno));
  return ParentDir{std::move(dir), std::move(leaf)};
}

}  // namespace

ResolveMode DetectResolveMode(int dir_fd) {
  UniqueFd probe(Openat2Beneath(dir_fd, ".", O_PATH | O_DIRECTORY, 0));
  return probe.valid() ? ResolveMode::kOpenat2 : ResolveMode::kPortable;
}

FsResult<UniqueFd> OpenBeneath(int root_fd, const ParsedPath& path, int flags, mode_t mode,
                               bool follow_final, ResolveMode resolve) {
  // A trailing slash names a directory and so always follows a final symlink.
  const bool follow = follow_final || path.trailing_slash;
  if (resolve == ResolveMode::kOpenat2) {
    std::string joined = JoinComponents(path.components, 0, path.components.size());
    if (path.trailing_slash) joined += '/';
    UniqueFd fd(Openat2Beneath(root_fd, joined, flags | (follow ? 0 : O_NOFOLLOW), mode));
    if (!fd.valid()) return Fail(ErrnoFromOpenat2(errno));
    return fd;
  }
  auto parent = Walk(root_fd, path, follow);
  if (!parent) return Fail(parent.error());
  int final_flags = flags | O_NOFOLLOW | O_CLOEXEC;
  if (path.trailing_slash) {
    if ((flags & O_CREAT) != 0) return Fail(Errno::kIsdir);
    final_flags |= O_DIRECTORY;
  }
  UniqueFd fd(::openat(parent->dir.get(), parent->leaf.c_str(), final_flags, mode));
  if (!fd.valid()) return Fail(ErrnoFromHost(errno));
  return fd;
}

FsResult<ParentDir> OpenParentBeneath(int root_fd, const ParsedPath& path, ResolveMode resolve) {
  if (path.leaf_is_dot()) return Fail(Errno::kInval);
  if (resolve == ResolveMode::kPortable) return Walk(root_fd, path, /*follow_final=*/false);
  const std::string parent = JoinComponents(path.components, 0, path.components.size() - 1);
  UniqueFd dir(Openat2Beneath(root_fd, parent, O_PATH | O_DIRECTORY, 0));
  if (!dir.valid()) return Fail(ErrnoFromOpenat2(errno));
  return ParentDir{std::move(dir), path.leaf()};
}

Errno ErrnoFromHost(int host_errno) {
  switch (host_errno) {
    case 0: return Errno::kSuccess;
    case E2BIG: return Errno::k2Big;
    case EACCES: return Errno::kAcces;
    case EAGAIN: return Errno::kAgain;
    case EBADF: return Errno::kBadf;
    case EBUSY: return Errno::kBusy;
    case EDQUOT: return Errno::kDquot;
    case EEXIST: return Errno::kExist;
    case EFAULT: return Errno::kFault;
    case EFBIG: return Errno::kFbig;
    case EILSEQ: return Errno::kIlseq;
    case EINTR: return Errno::kIntr;
    case EINVAL: return Errno::kInval;
    case EIO: return Errno::kIo;
    case EISDIR: return Errno::kIsdir;
    case ELOOP: return Errno::kLoop;
    case EMFILE: return Errno::kMfile;
    case EMLINK: return Errno::kMlink;
    case ENAMETOOLONG: return Errno::kNametoolong;
    case ENFILE: return Errno::kNfile;
    case ENODEV: return Errno::kNodev;
    case ENOENT: return Errno::kNoent;
    case ENOMEM: return Errno::kNomem;
    case ENOSPC: return Errno::kNospc;
    case ENOSYS: return Errno::kNosys;
    case ENOTDIR: return Errno::kNotdir;
    case ENOTEMPTY: return Errno::kNotempty;
    case ENOTSUP: return Errno::kNotsup;
    case ENXIO: return Errno::kNxio;
    case EOVERFLOW: return Errno::kOverflow;
    case EPERM: return Errno::kPerm;
    case EROFS: return Errno::kRofs;
    case ESPIPE: return Errno::kSpipe;
    case ETXTBSY: return Errno::kTxtbsy;
    case EXDEV: return Errno::kXdev;
    default: return Errno::kIo;
  }
}

}  // namespace milf::wasm::wasi
