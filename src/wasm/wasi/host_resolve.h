// Confined path resolution on the host: opening a guest path below a host
// directory descriptor such that nothing outside that directory can be
// reached, whatever the path or the symlinks in the tree say.
//
// Two strategies, with identical guarantees:
//  - kOpenat2: Linux openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS.
//    The kernel refuses "..", absolute symlinks and procfs magic links that
//    would leave the root, atomically with the lookup.
//  - kPortable: a component-by-component walk. Each component is opened with
//    O_PATH | O_NOFOLLOW relative to the previous one; symlinks are read and
//    expanded by the walker itself (absolute targets refused, ".." counted
//    against the root, at most kMaxSymlinkExpansions). The final open uses
//    O_NOFOLLOW, so a symlink swapped in mid-walk fails with kLoop instead of
//    being followed.
// Escapes fail with Errno::kNotcapable in both.
//
// Thread-safety: the functions keep no state; concurrent use on one root is
// safe as far as the kernel's *at calls are.
#pragma once

#include <sys/types.h>

#include <string>

#include "wasm/wasi/path.h"
#include "wasm/wasi/unique_fd.h"
#include "wasm/wasi/vfs.h"

namespace milf::wasm::wasi {

enum class ResolveMode { kOpenat2, kPortable };

inline constexpr int kMaxSymlinkExpansions = 40;

// kOpenat2 when this kernel (and any seccomp filter) lets openat2 resolve
// beneath `dir_fd`, else kPortable.
ResolveMode DetectResolveMode(int dir_fd);

// Opens `path` below `root_fd` with open(2) `flags` (O_CLOEXEC is added)
// and `mode` (used with O_CREAT). Without `follow_final`, a symlink as the
// last component is not followed: O_PATH opens the link itself, any other
// open fails with kLoop. A trailing slash requires a directory.
FsResult<UniqueFd> OpenBeneath(int root_fd, const ParsedPath& path, int flags, mode_t mode,
                               bool follow_final, ResolveMode resolve);

// The directory that holds the last component of `path` (an O_PATH
// descriptor usable with the *at calls) and that component's name, for
// operations on the entry itself: mkdirat, unlinkat, renameat, fstatat
// without following. `path` must not end in "." or "..": kInval.
struct ParentDir {
  UniqueFd dir;
  std::string leaf;
};
FsResult<ParentDir> OpenParentBeneath(int root_fd, const ParsedPath& path, ResolveMode resolve);

// The WASI errno for a host errno value.
Errno ErrnoFromHost(int host_errno);

}  // namespace milf::wasm::wasi
