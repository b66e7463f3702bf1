// path_* calls: opening, inspecting, creating, removing and renaming names
// under a directory descriptor. Confinement is the Directory's job (vfs.h);
// rights, read-only preopens and the quotas are enforced here.
#include <optional>
#include <string>
#include <variant>

#include "wasm/wasi/calls.h"

namespace milf::wasm::wasi {
namespace {

// The directory descriptor a path call acts through, holding `needed`.
FsResult<Descriptor*> DirectoryFd(WasiState& state, std::uint32_t fd, Rights needed) {
  Descriptor* d = state.fds.Get(fd);
  if (d == nullptr) return Fail(Errno::kBadf);
  if (d->kind != DescriptorKind::kDirectory) return Fail(Errno::kNotdir);
  if ((d->base & needed) != needed) return Fail(Errno::kNotcapable);
  return d;
}

std::optional<FileStat> StatIfPresent(Directory& dir, std::string_view path, bool follow) {
  auto stat = dir.StatAt(path, follow);
  if (!stat) return std::nullopt;
  return *stat;
}

// Bytes given back to the write budget when a file with `stat` goes away.
std::uint64_t Reclaimable(const std::optional<FileStat>& stat) {
  if (!stat || stat->type != Filetype::kRegularFile || stat->link_count > 1) return 0;
  return stat->size;
}

constexpr std::uint32_t kKnownOflags =
    oflags::kCreat | oflags::kDirectory | oflags::kExcl | oflags::kTrunc;
constexpr std::uint32_t kKnownFdflags =
    fdflags::kAppend | fdflags::kDsync | fdflags::kNonblock | fdflags::kRsync | fdflags::kSync;

Errno PathOpen(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const std::uint32_t lookup = args.u32(1);
  const std::uint32_t open_flags = args.u32(4);
  const std::uint32_t fd_flags = args.u32(7);
  const std::uint32_t fd_ptr = args.u32(8);
  if ((open_flags & ~kKnownOflags) != 0 || (fd_flags & ~kKnownFdflags) != 0) return Errno::kInval;
  const bool create = (open_flags & oflags::kCreat) != 0;
  const bool truncate = (open_flags & oflags::kTrunc) != 0;

  auto dir = DirectoryFd(state, args.u32(0), rights::kPathOpen |
                                                 (create ? rights::kPathCreateFile : 0));
  if (!dir) return dir.error();
  const Descriptor& parent = **dir;
  auto path = LoadString(memory, args.u32(2), args.u32(3));
  if (!path) return path.error();
  if (!InBounds(memory, fd_ptr, 4)) return Errno::kFault;

  Rights base = args.u64(5) & parent.inheriting;
  const Rights inheriting = args.u64(6) & parent.inheriting;
  OpenRequest request;
  request.directory = (open_flags & oflags::kDirectory) != 0;
  request.read = (base & rights::kReadAccess) != 0;
  // Write rights mean nothing on a directory; toolchains that ask for every
  // right when opening one must still get it.
  request.write = !request.directory && ((base & rights::kWriteAccess) != 0 || truncate);
  request.create = create;
  request.exclusive = (open_flags & oflags::kExcl) != 0;
  request.truncate = truncate;
  request.follow_symlinks = (lookup & kLookupSymlinkFollow) != 0;
  if (create && request.directory) return Errno::kInval;
  if (parent.read_only && (request.write || create)) return Errno::kRofs;

  std::optional<FileStat> before;
  if (create || truncate) before = StatIfPresent(*parent.directory, *path, request.follow_symlinks);
  const bool creates = create && !before;
  if (creates && state.create_budget.remaining() == 0) return Errno::kDquot;

  auto node = parent.directory->Open(*path, request);
  if (!node) return node.error();
  if (creates) state.create_budget.Charge(1);
  if (truncate && before && before->type == Filetype::kRegularFile) {
    state.write_budget.Refund(before->size);
  }

  Descriptor opened;
  opened.flags = static_cast<std::uint16_t>(fd_flags);
  opened.read_only = parent.read_only;
  opened.inheriting = inheriting;
  if (auto* file = std::get_if<std::shared_ptr<File>>(&*node)) {
    opened.kind = DescriptorKind::kFile;
    opened.file = std::move(*file);
    base &= rights::kRegularFile;
  } else {
    opened.kind = DescriptorKind::kDirectory;
    opened.directory = std::move(std::get<std::shared_ptr<Directory>>(*node));
    base &= rights::kDirectory;
  }
  opened.base = base;
  auto fd = state.fds.Insert(std::move(opened));
  if (!fd) return fd.error();
  memory.Store(fd_ptr, *fd);
  return Errno::kSuccess;
}

Errno PathFilestatGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  auto dir = DirectoryFd(state, args.u32(0), rights::kPathFilestatGet);
  if (!dir) return dir.error();
  auto path = LoadString(memory, args.u32(2), args.u32(3));
  if (!path) return path.error();
  const std::uint32_t out = args.u32(4);
  if (!InBounds(memory, out, layout::kFilestatSize)) return Errno::kFault;
  auto stat = (*dir)->directory->StatAt(*path, (args.u32(1) & kLookupSymlinkFollow) != 0);
  if (!stat) return stat.error();
  StoreFilestat(memory, out, *stat);
  return Errno::kSuccess;
}

Errno PathCreateDirectory(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  auto dir = DirectoryFd(state, args.u32(0), rights::kPathCreateDirectory);
  if (!dir) return dir.error();
  auto path = LoadString(memory, args.u32(1), args.u32(2));
  if (!path) return path.error();
  if ((*dir)->read_only) return Errno::kRofs;
  if (state.create_budget.remaining() == 0) return Errno::kDquot;
  auto created = (*dir)->directory->CreateDirectory(*path);
  if (!created) return created.error();
  state.create_budget.Charge(1);
  return Errno::kSuccess;
}

Errno PathUnlinkFile(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  auto dir = DirectoryFd(state, args.u32(0), rights::kPathUnlinkFile);
  if (!dir) return dir.error();
  auto path = LoadString(memory, args.u32(1), args.u32(2));
  if (!path) return path.error();
  if ((*dir)->read_only) return Errno::kRofs;
  const auto before = StatIfPresent(*(*dir)->directory, *path, /*follow=*/false);
  auto removed = (*dir)->directory->UnlinkFile(*path);
  if (!removed) return removed.error();
  state.write_budget.Refund(Reclaimable(before));
  state.create_budget.Refund(1);
  return Errno::kSuccess;
}

Errno PathRemoveDirectory(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  auto dir = DirectoryFd(state, args.u32(0), rights::kPathRemoveDirectory);
  if (!dir) return dir.error();
  auto path = LoadString(memory, args.u32(1), args.u32(2));
  if (!path) return path.error();
  if ((*dir)->read_only) return Errno::kRofs;
  auto removed = (*dir)->directory->RemoveDirectory(*path);
  if (!removed) return removed.error();
  state.create_budget.Refund(1);
  return Errno::kSuccess;
}

bool SameFile(const std::optional<FileStat>& a, const std::optional<FileStat>& b) {
  return a && b && a->device == b->device && a->inode == b->inode;
}

Errno PathRename(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  auto from_dir = DirectoryFd(state, args.u32(0), rights::kPathRenameSource);
  if (!from_dir) return from_dir.error();
  auto from = LoadString(memory, args.u32(1), args.u32(2));
  if (!from) return from.error();
  auto to_dir = DirectoryFd(state, args.u32(3), rights::kPathRenameTarget);
  if (!to_dir) return to_dir.error();
  auto to = LoadString(memory, args.u32(4), args.u32(5));
  if (!to) return to.error();
  if ((*from_dir)->read_only || (*to_dir)->read_only) return Errno::kRofs;

  Directory& target = *(*to_dir)->directory;
  const auto moving = StatIfPresent(*(*from_dir)->directory, *from, /*follow=*/false);
  const auto replaced = StatIfPresent(target, *to, /*follow=*/false);
  auto renamed = (*from_dir)->directory->Rename(*from, target, *to);
  if (!renamed) return renamed.error();
  if (replaced && !SameFile(moving, replaced)) {
    state.write_budget.Refund(Reclaimable(replaced));
    state.create_budget.Refund(1);
  }
  return Errno::kSuccess;
}

}  // namespace

void RegisterPathCalls(Registrar& registrar) {
  registrar.Add("path_open", "iiiiiIIii", PathOpen);
  registrar.Add("path_filestat_get", "iiiii", PathFilestatGet);
  registrar.Add("path_create_directory", "iii", PathCreateDirectory);
  registrar.Add("path_unlink_file", "iii", PathUnlinkFile);
  registrar.Add("path_remove_directory", "iii", PathRemoveDirectory);
  registrar.Add("path_rename", "iiiiii", PathRename);
}

}  // namespace milf::wasm::wasi
