// fd_* calls: stdio, descriptors of files and directories.
#include <gtest/gtest.h>

#include <cstring>

#include "wasi_test_support.h"

namespace milf::wasm::wasi {
namespace {

using testing::WasiHarness;

constexpr std::uint32_t kOutside = WasiHarness::kMemoryBytes + 16;
constexpr std::uint32_t kStraddle = WasiHarness::kMemoryBytes - 2;
constexpr std::uint32_t kPreopenFd = 3;

WasiConfig WithStdin(std::string_view input) {
  WasiConfig config;
  config.stdin_data.assign(input.begin(), input.end());
  return config;
}

WasiConfig WithPreopen(std::shared_ptr<Directory> dir) {
  WasiConfig config;
  config.preopens.push_back({"/in", std::move(dir), false});
  return config;
}

WasiConfig WithOutputCap(std::uint64_t cap, OverflowPolicy policy) {
  WasiConfig config;
  config.stdout_cap = cap;
  config.stderr_cap = cap;
  config.overflow = policy;
  return config;
}

TEST(WasiStdin, ReadsThePayloadInOrder) {
  WasiHarness h(WithStdin("hello world"));
  std::string chunk;
  ASSERT_EQ(h.Read(0, 5, &chunk), Errno::kSuccess);
  EXPECT_EQ(chunk, "hello");
  ASSERT_EQ(h.Read(0, 100, &chunk), Errno::kSuccess);
  EXPECT_EQ(chunk, " world");
  ASSERT_EQ(h.Read(0, 100, &chunk), Errno::kSuccess);
  EXPECT_EQ(chunk, "");
}

TEST(WasiStdin, ScattersAcrossIovecs) {
  WasiHarness h(WithStdin("abcdefg"));
  const std::uint32_t iovs = h.PutIovecs({"xx", "yyy", "zzzzz"});
  const std::uint32_t nread = h.Alloc(4);
  ASSERT_EQ(h.Call("fd_read", {0, iovs, 3, nread}), Errno::kSuccess);
  EXPECT_EQ(h.U32(nread), 7u);
  EXPECT_EQ(h.Bytes(h.U32(iovs), 2), "ab");
  EXPECT_EQ(h.Bytes(h.U32(iovs + 8), 3), "cde");
  EXPECT_EQ(h.Bytes(h.U32(iovs + 16), 5), "fgzzz");
}

TEST(WasiStdin, BadBuffersAreFaultsAndConsumeNothing) {
  WasiHarness h(WithStdin("data"));
  const std::uint32_t nread = h.Alloc(4);
  const std::uint32_t iov = h.Alloc(8);
  const std::uint32_t bad_buffer = kStraddle;
  const std::uint32_t length = 4;
  std::memcpy(h.memory.data() + iov, &bad_buffer, 4);
  std::memcpy(h.memory.data() + iov + 4, &length, 4);
  EXPECT_EQ(h.Call("fd_read", {0, iov, 1, nread}), Errno::kFault);
  EXPECT_EQ(h.Call("fd_read", {0, kOutside, 1, nread}), Errno::kFault);
  const std::uint32_t good = h.PutIovecs({"...."});
  EXPECT_EQ(h.Call("fd_read", {0, good, 1, kOutside}), Errno::kFault);
  std::string all;
  ASSERT_EQ(h.Read(0, 10, &all), Errno::kSuccess);
  EXPECT_EQ(all, "data");
}

TEST(WasiStdout, CapturesGatheredWrites) {
  WasiHarness h;
  const std::uint32_t iovs = h.PutIovecs({"ab", "", "cd"});
  const std::uint32_t nwritten = h.Alloc(4);
  ASSERT_EQ(h.Call("fd_write", {1, iovs, 3, nwritten}), Errno::kSuccess);
  EXPECT_EQ(h.U32(nwritten), 4u);
  ASSERT_EQ(h.Write(2, "err"), Errno::kSuccess);
  EXPECT_EQ(h.host.stdout_capture().text(), "abcd");
  EXPECT_EQ(h.host.stderr_capture().text(), "err");
}

TEST(WasiStdout, TruncatePolicyKeepsThePrefixAndReportsSuccess) {
  WasiHarness h(WithOutputCap(5, OverflowPolicy::kTruncate));
  std::uint32_t written = 0;
  ASSERT_EQ(h.Write(1, "hello world", &written), Errno::kSuccess);
  EXPECT_EQ(written, 11u);
  EXPECT_EQ(h.action(), HostAction::kContinue);
  ASSERT_EQ(h.Write(1, "more", &written), Errno::kSuccess);
  EXPECT_EQ(written, 4u);
  EXPECT_EQ(h.host.stdout_capture().text(), "hello");
  EXPECT_TRUE(h.host.stdout_capture().truncated());
  EXPECT_FALSE(h.host.stderr_capture().truncated());
  EXPECT_FALSE(h.host.stop().has_value());
}

TEST(WasiStdout, FailPolicyStopsTheRun) {
  WasiHarness h(WithOutputCap(5, OverflowPolicy::kFail));
  ASSERT_EQ(h.Write(1, "12345"), Errno::kSuccess);
  EXPECT_EQ(h.action(), HostAction::kContinue);
  h.Write(1, "6");
  EXPECT_EQ(h.action(), HostAction::kStop);
  ASSERT_TRUE(h.host.stop().has_value());
  EXPECT_EQ(h.host.stop()->status, RunStatus::kOutputLimit);
  EXPECT_EQ(h.host.stdout_capture().text(), "12345");
}

TEST(WasiStderr, FailPolicyStopsTheRun) {
  WasiHarness h(WithOutputCap(3, OverflowPolicy::kFail));
  h.Write(2, "four");
  EXPECT_EQ(h.action(), HostAction::kStop);
  EXPECT_EQ(h.host.stop()->status, RunStatus::kOutputLimit);
  EXPECT_EQ(h.host.stderr_capture().text(), "fou");
}

TEST(WasiStdout, BadIovecsAreFaultsAndWriteNothing) {
  WasiHarness h;
  const std::uint32_t nwritten = h.Alloc(4);
  const std::uint32_t iovs = h.PutIovecs({"good", "bad"});
  const std::uint32_t bad = kOutside;
  std::memcpy(h.memory.data() + iovs + 8, &bad, 4);
  EXPECT_EQ(h.Call("fd_write", {1, iovs, 2, nwritten}), Errno::kFault);
  EXPECT_EQ(h.Call("fd_write", {1, kStraddle, 1, nwritten}), Errno::kFault);
  EXPECT_EQ(h.Call("fd_write", {1, h.PutIovecs({"x"}), 1, kOutside}), Errno::kFault);
  EXPECT_EQ(h.Call("fd_write", {1, 0, 1025, nwritten}), Errno::kInval);  // > IOV_MAX
  EXPECT_TRUE(h.host.stdout_capture().bytes().empty());
}

TEST(WasiStdio, WrongDirectionIsBadfAndSeekingIsSpipe) {
  WasiHarness h;
  EXPECT_EQ(h.Write(0, "x"), Errno::kBadf);
  EXPECT_EQ(h.Read(1, 4, nullptr), Errno::kBadf);
  EXPECT_EQ(h.Read(2, 4, nullptr), Errno::kBadf);
  const std::uint32_t out = h.Alloc(8);
  EXPECT_EQ(h.Call("fd_seek", {1, 0, 0, out}), Errno::kSpipe);
  EXPECT_EQ(h.Call("fd_tell", {0, out}), Errno::kSpipe);
}

TEST(WasiStdio, FdstatLooksLikeATerminal) {
  WasiHarness h;
  const std::uint32_t out = h.Alloc(24);
  for (std::uint32_t fd : {0u, 1u, 2u}) {
    ASSERT_EQ(h.Call("fd_fdstat_get", {fd, out}), Errno::kSuccess);
    EXPECT_EQ(h.U8(out), static_cast<std::uint8_t>(Filetype::kCharacterDevice));
    EXPECT_EQ(h.U64(out + 8) & (rights::kFdSeek | rights::kFdTell), 0u);
  }
  EXPECT_NE(h.U64(out + 8) & rights::kFdWrite, 0u);
}

TEST(WasiFd, UnknownDescriptorsAreBadf) {
  WasiHarness h;
  const std::uint32_t out = h.Alloc(64);
  EXPECT_EQ(h.Read(9, 4, nullptr), Errno::kBadf);
  EXPECT_EQ(h.Write(9, "x"), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_close", {9}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_seek", {9, 0, 0, out}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_tell", {9, out}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_fdstat_get", {9, out}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_filestat_get", {9, out}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_prestat_get", {9, out}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_prestat_dir_name", {9, out, 8}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_readdir", {9, out, 64, 0, out}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_read", {0xFFFFFFFF, out, 0, out}), Errno::kBadf);
}

TEST(WasiFd, CloseFreesTheNumberForReuse) {
  auto dir = MemoryDirectory::Create();
  ASSERT_TRUE(dir->AddFile("f", {}).ok());
  WasiHarness h(WithPreopen(dir));
  ASSERT_EQ(h.Call("fd_close", {1}), Errno::kSuccess);
  EXPECT_EQ(h.Write(1, "x"), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_close", {1}), Errno::kBadf);
  std::uint32_t fd = 0;
  ASSERT_EQ(h.Open(kPreopenFd, "f", 0, &fd), Errno::kSuccess);
  EXPECT_EQ(fd, 1u);
}

TEST(WasiFd, TooManyOpenDescriptorsIsMfile) {
  auto dir = MemoryDirectory::Create();
  ASSERT_TRUE(dir->AddFile("f", {}).ok());
  WasiConfig config = WithPreopen(dir);
  config.max_fds = 6;
  WasiHarness h(config);
  std::uint32_t fd = 0;
  ASSERT_EQ(h.Open(kPreopenFd, "f", 0, &fd), Errno::kSuccess);
  ASSERT_EQ(h.Open(kPreopenFd, "f", 0, &fd), Errno::kSuccess);
  EXPECT_EQ(fd, 5u);
  EXPECT_EQ(h.Open(kPreopenFd, "f", 0, &fd), Errno::kMfile);
}

TEST(WasiFd, PrestatDescribesPreopens) {
  WasiHarness h(WithPreopen(MemoryDirectory::Create()));
  const std::uint32_t out = h.Alloc(8);
  ASSERT_EQ(h.Call("fd_prestat_get", {kPreopenFd, out}), Errno::kSuccess);
  EXPECT_EQ(h.U8(out), kPreopentypeDir);
  EXPECT_EQ(h.U32(out + 4), 3u);
  EXPECT_EQ(h.Call("fd_prestat_get", {4, out}), Errno::kBadf);  // where libc stops probing
  EXPECT_EQ(h.Call("fd_prestat_get", {1, out}), Errno::kBadf);
  EXPECT_EQ(h.Call("fd_prestat_get", {kPreopenFd, kStraddle}), Errno::kFault);

  const std::uint32_t name = h.Alloc(3);
  ASSERT_EQ(h.Call("fd_prestat_dir_name", {kPreopenFd, name, 3}), Errno::kSuccess);
  EXPECT_EQ(h.Bytes(name, 3), "/in");
  EXPECT_EQ(h.Call("fd_prestat_dir_name", {kPreopenFd, name, 2}), Errno::kNametoolong);
  EXPECT_EQ(h.Call("fd_prestat_dir_name", {kPreopenFd, kOutside, 3}), Errno::kFault);
  EXPECT_EQ(h.Call("fd_prestat_dir_name", {1, name, 3}), Errno::kBadf);
}

TEST(WasiFd, FdstatOfPreopenAndFiles) {
  auto dir = MemoryDirectory::Create();
  ASSERT_TRUE(dir->AddFile("f", {}).ok());
  WasiHarness h(WithPreopen(dir));
  const std::uint32_t out = h.Alloc(24);
  ASSERT_EQ(h.Call("fd_fdstat_get", {kPreopenFd, out}), Errno::kSuccess);
  EXPECT_EQ(h.U8(out), static_cast<std::uint8_t>(Filetype::kDirectory));
  EXPECT_EQ(h.U64(out + 8), rights::kDirectory);
  EXPECT_EQ(h.U64(out + 16), rights::kDirectory | rights::kRegularFile);

  std::uint32_t fd = 0;
  ASSERT_EQ(h.Open(kPreopenFd, "f", 0, &fd, rights::kFdRead | rights::kFdSeek | rights::kPathOpen,
                   fdflags::kAppend),
            Errno::kSuccess);
  ASSERT_EQ(h.Call("fd_fdstat_get", {fd, out}), Errno::kSuccess);
  EXPECT_EQ(h.U8(out), static_cast<std::uint8_t>(Filetype::kRegularFile));
  EXPECT_EQ(h.U16(out + 2), fdflags::kAppend);
  // Asked-for rights, less those a regular file cannot have.
  EXPECT_EQ(h.U64(out + 8), rights::kFdRead | rights::kFdSeek);
  EXPECT_EQ(h.Call("fd_fdstat_get", {fd, kStraddle}), Errno::kFault);
}

TEST(WasiFd, FilestatOfDescriptors) {
  auto dir = MemoryDirectory::Create();
  const std::string_view text = "twelve bytes";
  ASSERT_TRUE(dir->AddFile("f", {reinterpret_cast<const std::uint8_t*>(text.data()), 12}).ok());
  WasiHarness h(WithPreopen(dir));
  const std::uint32_t out = h.Alloc(64);
  std::uint32_t fd = 0;
  ASSERT_EQ(h.Open(kPreopenFd, "f", 0, &fd), Errno::kSuccess);
  ASSERT_EQ(h.Call("fd_filestat_get", {fd, out}), Errno::kSuccess);
  EXPECT_EQ(h.U8(out + 16), static_cast<std::uint8_t>(Filetype::kRegularFile));
  EXPECT_EQ(h.U64(out + 32), 12u);
  EXPECT_EQ(h.U64(out + 24), 1u);
  ASSERT_EQ(h.Call("fd_filestat_get", {kPreopenFd, out}), Errno::kSuccess);
  EXPECT_EQ(h.U8(out + 16), static_cast<std::uint8_t>(Filetype::kDirectory));
  ASSERT_EQ(h.Call("fd_filestat_get", {1, out}), Errno::kSuccess);
  EXPECT_EQ(h.U8(out + 16), static_cast<std::uint8_t>(Filetype::kCharacterDevice));
  EXPECT_EQ(h.Call("fd_filestat_get", {fd, kStraddle}), Errno::kFault);
}

class WasiFileFd : public ::testing::Test {
 protected:
  WasiFileFd() : dir_(MemoryDirectory::Create()), h_(WithPreopen(dir_)) {}

  std::uint32_t OpenNew(std::string_view name, std::uint32_t flags = 0) {
    std::uint32_t fd = 0;
    EXPECT_EQ(h_.Open(kPreopenFd, name, oflags::kCreat, &fd, ~Rights{0}, flags), Errno::kSuccess);
    return fd;
  }

  std::uint64_t Seek(std::uint32_t fd, std::int64_t offset, Whence whence, Errno expect = Errno::kSuccess) {
    const std::uint32_t out = h_.Alloc(8);
    EXPECT_EQ(h_.Call("fd_seek", {fd, static_cast<std::uint64_t>(offset),
                                  static_cast<std::uint32_t>(whence), out}),
              expect);
    return h_.U64(out);
  }

  std::uint64_t Tell(std::uint32_t fd) {
    const std::uint32_t out = h_.Alloc(8);
    EXPECT_EQ(h_.Call("fd_tell", {fd, out}), Errno::kSuccess);
    return h_.U64(out);
  }

  std::shared_ptr<MemoryDirectory> dir_;
  WasiHarness h_;
};

TEST_F(WasiFileFd, WriteSeekReadAndTell) {
  const std::uint32_t fd = OpenNew("f");
  std::uint32_t written = 0;
  ASSERT_EQ(h_.Write(fd, "hello", &written), Errno::kSuccess);
  EXPECT_EQ(written, 5u);
  EXPECT_EQ(Tell(fd), 5u);
  EXPECT_EQ(Seek(fd, 1, Whence::kSet), 1u);
  std::string read;
  ASSERT_EQ(h_.Read(fd, 3, &read), Errno::kSuccess);
  EXPECT_EQ(read, "ell");
  EXPECT_EQ(Seek(fd, -2, Whence::kCur), 2u);
  EXPECT_EQ(Seek(fd, 0, Whence::kEnd), 5u);
  EXPECT_EQ(Seek(fd, 10, Whence::kEnd), 15u);
  ASSERT_EQ(h_.Write(fd, "!"), Errno::kSuccess);
  EXPECT_EQ(dir_->StatAt("f", true)->size, 16u);
}

TEST_F(WasiFileFd, SeekErrorsLeaveThePositionAlone) {
  const std::uint32_t fd = OpenNew("f");
  ASSERT_EQ(h_.Write(fd, "abc"), Errno::kSuccess);
  Seek(fd, -4, Whence::kEnd, Errno::kInval);
  Seek(fd, 0, static_cast<Whence>(3), Errno::kInval);
  Seek(fd, INT64_MAX, Whence::kCur, Errno::kInval);
  EXPECT_EQ(h_.Call("fd_seek", {fd, 0, 0, kOutside}), Errno::kFault);
  EXPECT_EQ(Tell(fd), 3u);
  EXPECT_EQ(h_.Call("fd_tell", {fd, kStraddle}), Errno::kFault);
  EXPECT_EQ(h_.Call("fd_seek", {kPreopenFd, 0, 0, h_.Alloc(8)}), Errno::kBadf);
}

TEST_F(WasiFileFd, AppendWritesAtTheEnd) {
  ASSERT_TRUE(dir_->AddFile("log", {reinterpret_cast<const std::uint8_t*>("abc"), 3}).ok());
  std::uint32_t fd = 0;
  ASSERT_EQ(h_.Open(kPreopenFd, "log", 0, &fd, ~Rights{0}, fdflags::kAppend), Errno::kSuccess);
  Seek(fd, 0, Whence::kSet);
  ASSERT_EQ(h_.Write(fd, "de"), Errno::kSuccess);
  EXPECT_EQ(Tell(fd), 5u);
  EXPECT_EQ(h_.Slurp(kPreopenFd, "log"), "abcde");
}

TEST_F(WasiFileFd, AccessFollowsTheRightsAskedFor) {
  ASSERT_TRUE(dir_->AddFile("f", {reinterpret_cast<const std::uint8_t*>("abc"), 3}).ok());
  std::uint32_t read_only = 0;
  ASSERT_EQ(h_.Open(kPreopenFd, "f", 0, &read_only, rights::kFdRead), Errno::kSuccess);
  EXPECT_EQ(h_.Write(read_only, "x"), Errno::kBadf);
  EXPECT_EQ(h_.Call("fd_seek", {read_only, 0, 0, h_.Alloc(8)}), Errno::kNotcapable);
  EXPECT_EQ(h_.Call("fd_filestat_get", {read_only, h_.Alloc(64)}), Errno::kNotcapable);
  std::uint32_t write_only = 0;
  ASSERT_EQ(h_.Open(kPreopenFd, "f", 0, &write_only, rights::kFdWrite), Errno::kSuccess);
  EXPECT_EQ(h_.Read(write_only, 3, nullptr), Errno::kBadf);
  EXPECT_EQ(h_.Write(write_only, "x"), Errno::kSuccess);
}

TEST_F(WasiFileFd, DirectoriesAreNotReadOrWritten) {
  EXPECT_EQ(h_.Read(kPreopenFd, 4, nullptr), Errno::kIsdir);
  EXPECT_EQ(h_.Write(kPreopenFd, "x"), Errno::kIsdir);
  EXPECT_EQ(h_.Call("fd_tell", {kPreopenFd, h_.Alloc(8)}), Errno::kBadf);
}

class WasiReaddir : public ::testing::Test {
 protected:
  WasiReaddir() : dir_(MemoryDirectory::Create()), h_(WithPreopen(dir_)) {
    const std::uint8_t byte = 'x';
    EXPECT_TRUE(dir_->AddFile("bb", {&byte, 1}).ok());
    EXPECT_TRUE(dir_->AddFile("a", {&byte, 1}).ok());
    EXPECT_TRUE(dir_->CreateDirectory("ccc").ok());
  }

  struct Dirent {
    std::uint64_t next;
    std::uint64_t inode;
    std::string name;
    Filetype type;
  };

  // Parses the complete dirents in a fd_readdir buffer.
  std::vector<Dirent> Parse(std::uint32_t buffer, std::uint32_t used) {
    std::vector<Dirent> entries;
    std::uint32_t at = buffer;
    while (at + 24 <= buffer + used) {
      const std::uint32_t length = h_.U32(at + 16);
      if (at + 24 + length > buffer + used) break;
      entries.push_back({h_.U64(at), h_.U64(at + 8), h_.Bytes(at + 24, length),
                         static_cast<Filetype>(h_.U8(at + 20))});
      at += 24 + length;
    }
    return entries;
  }

  std::shared_ptr<MemoryDirectory> dir_;
  WasiHarness h_;
};

TEST_F(WasiReaddir, ListsDotsThenSortedEntries) {
  const std::uint32_t buffer = h_.Alloc(1024);
  const std::uint32_t used = h_.Alloc(4);
  ASSERT_EQ(h_.Call("fd_readdir", {kPreopenFd, buffer, 1024, 0, used}), Errno::kSuccess);
  EXPECT_EQ(h_.U32(used), 5u * 24 + 1 + 2 + 1 + 2 + 3);
  const auto entries = Parse(buffer, h_.U32(used));
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].name, ".");
  EXPECT_EQ(entries[1].name, "..");
  EXPECT_EQ(entries[2].name, "a");
  EXPECT_EQ(entries[3].name, "bb");
  EXPECT_EQ(entries[4].name, "ccc");
  EXPECT_EQ(entries[2].type, Filetype::kRegularFile);
  EXPECT_EQ(entries[4].type, Filetype::kDirectory);
  for (std::size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(entries[i].next, i + 1);
}

TEST_F(WasiReaddir, SmallBuffersResumeFromTheCookie) {
  const std::uint32_t buffer = h_.Alloc(30);
  const std::uint32_t used = h_.Alloc(4);
  std::vector<std::string> names;
  std::uint64_t cookie = 0;
  for (int calls = 0; calls < 20; ++calls) {
    ASSERT_EQ(h_.Call("fd_readdir", {kPreopenFd, buffer, 30, cookie, used}), Errno::kSuccess);
    const auto entries = Parse(buffer, h_.U32(used));
    for (const auto& entry : entries) names.push_back(entry.name);
    if (h_.U32(used) < 30) break;  // a short buffer means the end
    ASSERT_FALSE(entries.empty());
    cookie = entries.back().next;
  }
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "a", "bb", "ccc"}));
}

TEST_F(WasiReaddir, ErrorsAndEdges) {
  const std::uint32_t buffer = h_.Alloc(256);
  const std::uint32_t used = h_.Alloc(4);
  ASSERT_EQ(h_.Call("fd_readdir", {kPreopenFd, buffer, 256, 99, used}), Errno::kSuccess);
  EXPECT_EQ(h_.U32(used), 0u);
  EXPECT_EQ(h_.Call("fd_readdir", {kPreopenFd, kStraddle, 256, 0, used}), Errno::kFault);
  EXPECT_EQ(h_.Call("fd_readdir", {kPreopenFd, buffer, 256, 0, kOutside}), Errno::kFault);
  EXPECT_EQ(h_.Call("fd_readdir", {1, buffer, 256, 0, used}), Errno::kNotdir);
  std::uint32_t fd = 0;
  ASSERT_EQ(h_.Open(kPreopenFd, "a", 0, &fd), Errno::kSuccess);
  EXPECT_EQ(h_.Call("fd_readdir", {fd, buffer, 256, 0, used}), Errno::kNotdir);
}

}  // namespace
}  // namespace milf::wasm::wasi
