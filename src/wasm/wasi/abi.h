// The wasi_snapshot_preview1 ABI: error numbers, flag bits and the byte
// layouts of the structures the guest passes by pointer, exactly as the witx
// definitions fix them (wasi-libc's <wasi/api.h> mirrors the same numbers).
// Guest structures are always read and written field by field at the offsets
// below, never by copying host structs, so host padding cannot leak into the
// guest and host alignment does not matter.
#pragma once

#include <cstdint>
#include <string_view>

namespace milf::wasm::wasi {

inline constexpr std::string_view kModuleName = "wasi_snapshot_preview1";

// The errno values MILF produces (a subset of preview1's 77; numbering as
// in the witx).
enum class Errno : std::uint16_t {
  kSuccess = 0,
  k2Big = 1,
  kAcces = 2,
  kAgain = 6,
  kBadf = 8,
  kBusy = 10,
  kDquot = 19,
  kExist = 20,
  kFault = 21,
  kFbig = 22,
  kIlseq = 25,
  kIntr = 27,
  kInval = 28,
  kIo = 29,
  kIsdir = 31,
  kLoop = 32,
  kMfile = 33,
  kMlink = 34,
  kNametoolong = 37,
  kNfile = 41,
  kNodev = 43,
  kNoent = 44,
  kNomem = 48,
  kNospc = 51,
  kNosys = 52,
  kNotdir = 54,
  kNotempty = 55,
  kNotsup = 58,
  kNxio = 60,
  kOverflow = 61,
  kPerm = 63,
  kRofs = 69,
  kSpipe = 70,
  kTxtbsy = 74,
  kXdev = 75,
  kNotcapable = 76,
};

enum class Filetype : std::uint8_t {
  kUnknown = 0,
  kBlockDevice = 1,
  kCharacterDevice = 2,
  kDirectory = 3,
  kRegularFile = 4,
  kSocketDgram = 5,
  kSocketStream = 6,
  kSymbolicLink = 7,
};

using Rights = std::uint64_t;
namespace rights {
inline constexpr Rights kFdDatasync = 1ull << 0;
inline constexpr Rights kFdRead = 1ull << 1;
inline constexpr Rights kFdSeek = 1ull << 2;
inline constexpr Rights kFdFdstatSetFlags = 1ull << 3;
inline constexpr Rights kFdSync = 1ull << 4;
inline constexpr Rights kFdTell = 1ull << 5;
inline constexpr Rights kFdWrite = 1ull << 6;
inline constexpr Rights kFdAdvise = 1ull << 7;
inline constexpr Rights kFdAllocate = 1ull << 8;
inline constexpr Rights kPathCreateDirectory = 1ull << 9;
inline constexpr Rights kPathCreateFile = 1ull << 10;
inline constexpr Rights kPathLinkSource = 1ull << 11;
inline constexpr Rights kPathLinkTarget = 1ull << 12;
inline constexpr Rights kPathOpen = 1ull << 13;
inline constexpr Rights kFdReaddir = 1ull << 14;
inline constexpr Rights kPathReadlink = 1ull << 15;
inline constexpr Rights kPathRenameSource = 1ull << 16;
inline constexpr Rights kPathRenameTarget = 1ull << 17;
inline constexpr Rights kPathFilestatGet = 1ull << 18;
inline constexpr Rights kPathFilestatSetSize = 1ull << 19;
inline constexpr Rights kPathFilestatSetTimes = 1ull << 20;
inline constexpr Rights kFdFilestatGet = 1ull << 21;
inline constexpr Rights kFdFilestatSetSize = 1ull << 22;
inline constexpr Rights kFdFilestatSetTimes = 1ull << 23;
inline constexpr Rights kPathSymlink = 1ull << 24;
inline constexpr Rights kPathRemoveDirectory = 1ull << 25;
inline constexpr Rights kPathUnlinkFile = 1ull << 26;
inline constexpr Rights kPollFdReadwrite = 1ull << 27;
inline constexpr Rights kSockShutdown = 1ull << 28;
inline constexpr Rights kSockAccept = 1ull << 29;

// Everything meaningful on a regular file, and on a directory.
inline constexpr Rights kRegularFile =
    kFdDatasync | kFdRead | kFdSeek | kFdFdstatSetFlags | kFdSync | kFdTell | kFdWrite |
    kFdAdvise | kFdAllocate | kFdFilestatGet | kFdFilestatSetSize | kFdFilestatSetTimes |
    kPollFdReadwrite;
inline constexpr Rights kDirectory =
    kFdFdstatSetFlags | kFdSync | kFdAdvise | kPathCreateDirectory | kPathCreateFile |
    kPathLinkSource | kPathLinkTarget | kPathOpen | kFdReaddir | kPathReadlink |
    kPathRenameSource | kPathRenameTarget | kPathFilestatGet | kPathFilestatSetSize |
    kPathFilestatSetTimes | kFdFilestatGet | kFdFilestatSetTimes | kPathSymlink |
    kPathRemoveDirectory | kPathUnlinkFile;
// Rights that make path_open ask the host for write access.
inline constexpr Rights kWriteAccess = kFdWrite | kFdDatasync | kFdAllocate | kFdFilestatSetSize;
inline constexpr Rights kReadAccess = kFdRead | kFdReaddir;
}  // namespace rights

namespace oflags {
inline constexpr std::uint16_t kCreat = 1 << 0;
inline constexpr std::uint16_t kDirectory = 1 << 1;
inline constexpr std::uint16_t kExcl = 1 << 2;
inline constexpr std::uint16_t kTrunc = 1 << 3;
}  // namespace oflags

namespace fdflags {
inline constexpr std::uint16_t kAppend = 1 << 0;
inline constexpr std::uint16_t kDsync = 1 << 1;
inline constexpr std::uint16_t kNonblock = 1 << 2;
inline constexpr std::uint16_t kRsync = 1 << 3;
inline constexpr std::uint16_t kSync = 1 << 4;
}  // namespace fdflags

inline constexpr std::uint32_t kLookupSymlinkFollow = 1 << 0;

enum class Whence : std::uint8_t { kSet = 0, kCur = 1, kEnd = 2 };

enum class ClockId : std::uint32_t {
  kRealtime = 0,
  kMonotonic = 1,
  kProcessCputime = 2,
  kThreadCputime = 3,
};

enum class EventType : std::uint8_t { kClock = 0, kFdRead = 1, kFdWrite = 2 };
inline constexpr std::uint16_t kSubclockAbstime = 1 << 0;
inline constexpr std::uint16_t kEventFdReadwriteHangup = 1 << 0;
inline constexpr std::uint8_t kPreopentypeDir = 0;

// Structure sizes and field offsets (witx "calculated" layouts).
namespace layout {
// iovec / ciovec: buf u32 @0, buf_len u32 @4.
inline constexpr std::uint32_t kIovecSize = 8;
// fdstat: fs_filetype u8 @0, fs_flags u16 @2, fs_rights_base u64 @8,
// fs_rights_inheriting u64 @16.
inline constexpr std::uint32_t kFdstatSize = 24;
// filestat: dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40,
// mtim @48, ctim @56 (all u64 but filetype).
inline constexpr std::uint32_t kFilestatSize = 64;
// dirent: d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20; the
// name follows the header, not NUL-terminated.
inline constexpr std::uint32_t kDirentSize = 24;
// prestat: tag u8 @0, dir.pr_name_len u32 @4.
inline constexpr std::uint32_t kPrestatSize = 8;
// subscription: userdata u64 @0, tag u8 @8, then the union @16:
// clock {id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40},
// fd_readwrite {file_descriptor u32 @16}.
inline constexpr std::uint32_t kSubscriptionSize = 48;
// event: userdata u64 @0, error u16 @8, type u8 @10,
// fd_readwrite {nbytes u64 @16, flags u16 @24}.
inline constexpr std::uint32_t kEventSize = 32;
}  // namespace layout

}  // namespace milf::wasm::wasi
