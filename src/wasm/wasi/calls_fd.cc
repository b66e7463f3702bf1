// fd_* calls: reading, writing, seeking, closing and describing descriptors.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "wasm/wasi/calls.h"

namespace milf::wasm::wasi {
namespace {

using Buffers = std::vector<std::span<std::uint8_t>>;

// nread/nwritten are u32: a call moves at most this many bytes.
constexpr std::uint64_t kMaxTransfer = std::numeric_limits<std::uint32_t>::max();

Filetype DescriptorType(const Descriptor& d) {
  switch (d.kind) {
    case DescriptorKind::kFile: return Filetype::kRegularFile;
    case DescriptorKind::kDirectory: return Filetype::kDirectory;
    default: return Filetype::kCharacterDevice;
  }
}

std::uint64_t ReadStdin(WasiState& state, const Buffers& buffers) {
  std::uint64_t total = 0;
  for (const auto& buffer : buffers) {
    const std::uint64_t left = state.stdin_data.size() - state.stdin_position;
    const std::uint64_t count = std::min<std::uint64_t>({buffer.size(), left, kMaxTransfer - total});
    std::memcpy(buffer.data(), state.stdin_data.data() + state.stdin_position, count);
    state.stdin_position += count;
    total += count;
    if (count < buffer.size()) break;
  }
  return total;
}

FsResult<std::uint64_t> ReadFile(Descriptor& d, const Buffers& buffers) {
  std::uint64_t total = 0;
  for (const auto& buffer : buffers) {
    const auto want = buffer.first(std::min<std::uint64_t>(buffer.size(), kMaxTransfer - total));
    auto count = d.file->ReadAt(d.position, want);
    if (!count) {
      if (total == 0) return Fail(count.error());
      break;
    }
    d.position += *count;
    total += *count;
    if (*count < buffer.size()) break;
  }
  return total;
}

Errno FdRead(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  Descriptor* d = state.fds.Get(args.u32(0));
  if (d == nullptr) return Errno::kBadf;
  if (d->kind == DescriptorKind::kDirectory) return Errno::kIsdir;
  if ((d->base & rights::kFdRead) == 0) return Errno::kBadf;
  const std::uint32_t nread_ptr = args.u32(3);
  if (!InBounds(memory, nread_ptr, 4)) return Errno::kFault;
  auto buffers = LoadIovecs(memory, args.u32(1), args.u32(2));
  if (!buffers) return buffers.error();

  std::uint64_t total = 0;
  if (d->kind == DescriptorKind::kStdin) {
    total = ReadStdin(state, *buffers);
  } else {
    auto read = ReadFile(*d, *buffers);
    if (!read) return read.error();
    total = *read;
  }
  memory.Store(nread_ptr, static_cast<std::uint32_t>(total));
  return Errno::kSuccess;
}

// stdout/stderr: the capture keeps what fits under its cap. Under kFail an
// overflow stops the run; under kTruncate the guest is told all was written.
Errno WriteCapture(WasiState& state, DescriptorKind kind, const Buffers& buffers,
                   std::uint64_t& written) {
  OutputCapture& capture =
      kind == DescriptorKind::kStdout ? state.stdout_capture : state.stderr_capture;
  bool overflowed = false;
  for (const auto& buffer : buffers) {
    const auto chunk = buffer.first(std::min<std::uint64_t>(buffer.size(), kMaxTransfer - written));
    if (!capture.Append(chunk)) overflowed = true;
    written += chunk.size();
  }
  if (overflowed && state.config.overflow == OverflowPolicy::kFail) {
    const char* name = kind == DescriptorKind::kStdout ? "stdout" : "stderr";
    state.Stop(RunStatus::kOutputLimit, 0,
               std::string(name) + " exceeded its limit of " + std::to_string(capture.cap()) +
                   " bytes");
    return Errno::kFbig;
  }
  return Errno::kSuccess;
}

// Regular files: growth past the end of the file is charged to the write
// budget; a write that would overrun it is cut short (EDQUOT when nothing
// fits).
Errno WriteFile(WasiState& state, Descriptor& d, const Buffers& buffers,
                std::uint64_t& written) {
  if (d.read_only) return Errno::kRofs;
  auto stat = d.file->Stat();
  if (!stat) return stat.error();
  const std::uint64_t size = stat->size;
  const std::uint64_t offset = (d.flags & fdflags::kAppend) != 0 ? size : d.position;

  std::uint64_t wanted = 0;
  for (const auto& buffer : buffers) wanted += buffer.size();
  wanted = std::min(wanted, kMaxTransfer);
  const std::uint64_t remaining = state.write_budget.remaining();
  const std::uint64_t limit =
      size > std::numeric_limits<std::uint64_t>::max() - remaining ? std::numeric_limits<std::uint64_t>::max()
                                                                   : size + remaining;
  const std::uint64_t allowed = offset >= limit ? 0 : std::min(wanted, limit - offset);
  if (allowed == 0 && wanted > 0) return Errno::kDquot;

  for (const auto& buffer : buffers) {
    const auto chunk = buffer.first(std::min<std::uint64_t>(buffer.size(), allowed - written));
    if (chunk.empty()) break;
    auto count = d.file->WriteAt(offset + written, chunk);
    if (!count) {
      if (written == 0) return count.error();
      break;
    }
    written += *count;
    if (*count < chunk.size()) break;
  }
  const std::uint64_t end = offset + written;
  if (end > size) state.write_budget.Charge(end - size);
  d.position = end;
  return Errno::kSuccess;
}

Errno FdWrite(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  Descriptor* d = state.fds.Get(args.u32(0));
  if (d == nullptr) return Errno::kBadf;
  if (d->kind == DescriptorKind::kDirectory) return Errno::kIsdir;
  if ((d->base & rights::kFdWrite) == 0) return Errno::kBadf;
  const std::uint32_t nwritten_ptr = args.u32(3);
  if (!InBounds(memory, nwritten_ptr, 4)) return Errno::kFault;
  auto buffers = LoadIovecs(memory, args.u32(1), args.u32(2));
  if (!buffers) return buffers.error();

  std::uint64_t written = 0;
  const Errno error = d->kind == DescriptorKind::kFile
                          ? WriteFile(state, *d, *buffers, written)
                          : WriteCapture(state, d->kind, *buffers, written);
  if (error != Errno::kSuccess) return error;
  memory.Store(nwritten_ptr, static_cast<std::uint32_t>(written));
  return Errno::kSuccess;
}

Errno FdClose(WasiState& state, const GuestMemory&, const CallArgs& args) {
  return state.fds.Remove(args.u32(0)) ? Errno::kSuccess : Errno::kBadf;
}

// The checks fd_seek and fd_tell share: only regular files have positions.
FsResult<Descriptor*> Seekable(WasiState& state, std::uint32_t fd, Rights needed) {
  Descriptor* d = state.fds.Get(fd);
  if (d == nullptr || d->kind == DescriptorKind::kDirectory) return Fail(Errno::kBadf);
  if (d->is_stdio()) return Fail(Errno::kSpipe);
  if ((d->base & needed) == 0) return Fail(Errno::kNotcapable);
  return d;
}

Errno FdSeek(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const auto offset = static_cast<std::int64_t>(args.u64(1));
  const std::uint32_t whence = args.u32(2);
  const std::uint32_t result_ptr = args.u32(3);
  // Asking where we are needs only the right to tell.
  const bool tell_only = whence == static_cast<std::uint32_t>(Whence::kCur) && offset == 0;
  auto d = Seekable(state, args.u32(0), tell_only ? rights::kFdTell | rights::kFdSeek
                                                  : rights::kFdSeek);
  if (!d) return d.error();
  if (!InBounds(memory, result_ptr, 8)) return Errno::kFault;

  std::int64_t base = 0;
  switch (whence) {
    case static_cast<std::uint32_t>(Whence::kSet): break;
    case static_cast<std::uint32_t>(Whence::kCur):
      base = static_cast<std::int64_t>((*d)->position);
      break;
    case static_cast<std::uint32_t>(Whence::kEnd): {
      auto stat = (*d)->file->Stat();
      if (!stat) return stat.error();
      base = static_cast<std::int64_t>(stat->size);
      break;
    }
    default: return Errno::kInval;
  }
  std::int64_t target = 0;
  if (__builtin_add_overflow(base, offset, &target) || target < 0) return Errno::kInval;
  (*d)->position = static_cast<std::uint64_t>(target);
  memory.Store<std::uint64_t>(result_ptr, (*d)->position);
  return Errno::kSuccess;
}

Errno FdTell(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  auto d = Seekable(state, args.u32(0), rights::kFdTell);
  if (!d) return d.error();
  if (!memory.Store<std::uint64_t>(args.u32(1), (*d)->position)) return Errno::kFault;
  return Errno::kSuccess;
}

Errno FdFdstatGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const Descriptor* d = state.fds.Get(args.u32(0));
  if (d == nullptr) return Errno::kBadf;
  const std::uint32_t out = args.u32(1);
  if (!InBounds(memory, out, layout::kFdstatSize)) return Errno::kFault;
  std::array<std::uint8_t, layout::kFdstatSize> zeros{};
  memory.Write(out, zeros);
  memory.Store<std::uint8_t>(out + 0, static_cast<std::uint8_t>(DescriptorType(*d)));
  memory.Store<std::uint16_t>(out + 2, d->flags);
  memory.Store<std::uint64_t>(out + 8, d->base);
  memory.Store<std::uint64_t>(out + 16, d->inheriting);
  return Errno::kSuccess;
}

Errno FdFilestatGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const Descriptor* d = state.fds.Get(args.u32(0));
  if (d == nullptr) return Errno::kBadf;
  if ((d->base & rights::kFdFilestatGet) == 0) return Errno::kNotcapable;
  const std::uint32_t out = args.u32(1);
  if (!InBounds(memory, out, layout::kFilestatSize)) return Errno::kFault;
  FileStat stat;
  stat.type = Filetype::kCharacterDevice;
  if (d->kind == DescriptorKind::kFile || d->kind == DescriptorKind::kDirectory) {
    auto host = d->kind == DescriptorKind::kFile ? d->file->Stat() : d->directory->Stat();
    if (!host) return host.error();
    stat = *host;
  }
  StoreFilestat(memory, out, stat);
  return Errno::kSuccess;
}

Errno FdPrestatGet(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const Descriptor* d = state.fds.Get(args.u32(0));
  // wasi-libc discovers preopens by probing fds from 3 until EBADF.
  if (d == nullptr || !d->preopen_name) return Errno::kBadf;
  const std::uint32_t out = args.u32(1);
  if (!InBounds(memory, out, layout::kPrestatSize)) return Errno::kFault;
  memory.Store<std::uint32_t>(out + 0, kPreopentypeDir);  // tag and padding
  memory.Store<std::uint32_t>(out + 4, static_cast<std::uint32_t>(d->preopen_name->size()));
  return Errno::kSuccess;
}

Errno FdPrestatDirName(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const Descriptor* d = state.fds.Get(args.u32(0));
  if (d == nullptr || !d->preopen_name) return Errno::kBadf;
  const std::string& name = *d->preopen_name;
  if (args.u32(2) < name.size()) return Errno::kNametoolong;
  if (!memory.Write(args.u32(1), {reinterpret_cast<const std::uint8_t*>(name.data()), name.size()})) {
    return Errno::kFault;
  }
  return Errno::kSuccess;
}

// Appends one dirent (header and name) to `out`.
void PackDirent(std::vector<std::uint8_t>& out, std::uint64_t next, const DirEntry& entry) {
  std::array<std::uint8_t, layout::kDirentSize> header{};
  const auto name_length = static_cast<std::uint32_t>(entry.name.size());
  std::memcpy(header.data() + 0, &next, 8);
  std::memcpy(header.data() + 8, &entry.inode, 8);
  std::memcpy(header.data() + 16, &name_length, 4);
  header[20] = static_cast<std::uint8_t>(entry.type);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), entry.name.begin(), entry.name.end());
}

// Entries from `cookie` on, each as a dirent whose d_next is the cookie of
// the one after it, cut off where the buffer ends: a full buffer tells the
// guest to call again from the last complete entry.
Errno FdReaddir(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  Descriptor* d = state.fds.Get(args.u32(0));
  if (d == nullptr) return Errno::kBadf;
  if (d->kind != DescriptorKind::kDirectory) return Errno::kNotdir;
  if ((d->base & rights::kFdReaddir) == 0) return Errno::kNotcapable;
  const auto buffer = memory.Slice(args.u32(1), args.u32(2));
  const std::uint64_t cookie = args.u64(3);
  const std::uint32_t bufused_ptr = args.u32(4);
  if (!buffer || !InBounds(memory, bufused_ptr, 4)) return Errno::kFault;

  auto listed = d->directory->List();
  if (!listed) return listed.error();
  auto self = d->directory->Stat();
  std::vector<DirEntry> entries;
  entries.reserve(listed->size() + 2);
  entries.push_back({".", Filetype::kDirectory, self ? self->inode : 0});
  entries.push_back({"..", Filetype::kDirectory, 0});
  std::move(listed->begin(), listed->end(), std::back_inserter(entries));

  std::vector<std::uint8_t> packed;
  for (std::uint64_t i = cookie; i < entries.size() && packed.size() < buffer->size(); ++i) {
    PackDirent(packed, i + 1, entries[i]);
  }
  const std::size_t used = std::min(packed.size(), buffer->size());
  std::copy_n(packed.begin(), used, buffer->begin());
  memory.Store(bufused_ptr, static_cast<std::uint32_t>(used));
  return Errno::kSuccess;
}

}  // namespace

void RegisterFdCalls(Registrar& registrar) {
  registrar.Add("fd_read", "iiii", FdRead);
  registrar.Add("fd_write", "iiii", FdWrite);
  registrar.Add("fd_close", "i", FdClose);
  registrar.Add("fd_seek", "iIii", FdSeek);
  registrar.Add("fd_tell", "ii", FdTell);
  registrar.Add("fd_fdstat_get", "ii", FdFdstatGet);
  registrar.Add("fd_filestat_get", "ii", FdFilestatGet);
  registrar.Add("fd_prestat_get", "ii", FdPrestatGet);
  registrar.Add("fd_prestat_dir_name", "iii", FdPrestatDirName);
  registrar.Add("fd_readdir", "iiiIi", FdReaddir);
}

}  // namespace milf::wasm::wasi
