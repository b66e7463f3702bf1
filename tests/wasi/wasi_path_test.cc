// path_* calls through the WASI layer, on every backend: fd 3 is a writable
// preopen ("/out"), fd 4 a read-only one ("/in") holding in.txt and sub/.
#include <gtest/gtest.h>

#include <filesystem>

#include "wasi_test_support.h"

namespace milf::wasm::wasi {
namespace {

namespace fs = std::filesystem;
using testing::Backend;
using testing::WasiHarness;

constexpr std::uint32_t kOut = 3;
constexpr std::uint32_t kIn = 4;
constexpr std::uint32_t kOutside = WasiHarness::kMemoryBytes + 16;
constexpr std::uint32_t kStraddle = WasiHarness::kMemoryBytes - 2;

class WasiPathTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!testing::BackendAvailable(GetParam())) GTEST_SKIP() << "openat2 unavailable";
    out_ = testing::MakeDirectory(GetParam(), out_temp_);
    in_ = testing::MakeDirectory(GetParam(), in_temp_);
    ASSERT_TRUE(out_ && in_);
    OpenRequest create;
    create.write = true;
    create.create = true;
    auto file = in_->Open("in.txt", create);
    ASSERT_TRUE(file.ok());
    const std::string_view text = "input";
    ASSERT_TRUE(std::get<std::shared_ptr<File>>(*file)
                    ->WriteAt(0, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()})
                    .ok());
    ASSERT_TRUE(in_->CreateDirectory("sub").ok());
  }

  void Start(WasiConfig config = {}) {
    config.preopens = {{"/out", out_, false}, {"/in", in_, true}};
    h_ = std::make_unique<WasiHarness>(std::move(config));
  }

  WasiHarness& h() { return *h_; }

  std::uint32_t Create(std::uint32_t dir, std::string_view name) {
    std::uint32_t fd = 0;
    EXPECT_EQ(h().Open(dir, name, oflags::kCreat | oflags::kTrunc, &fd, ~Rights{0}),
              Errno::kSuccess);
    return fd;
  }

  bool Exists(Directory& dir, std::string_view path) { return dir.StatAt(path, false).ok(); }

  Errno Rename(std::uint32_t from_fd, std::string_view from, std::uint32_t to_fd,
               std::string_view to) {
    const std::uint32_t a = h().PutBytes(from);
    const std::uint32_t b = h().PutBytes(to);
    return h().Call("path_rename", {from_fd, a, from.size(), to_fd, b, to.size()});
  }

  testing::TempDir out_temp_;
  testing::TempDir in_temp_;
  std::shared_ptr<Directory> out_;
  std::shared_ptr<Directory> in_;
  std::unique_ptr<WasiHarness> h_;
};

TEST_P(WasiPathTest, OpenCreateWriteReadBack) {
  Start();
  const std::uint32_t fd = Create(kOut, "result.txt");
  ASSERT_EQ(h().Write(fd, "computed"), Errno::kSuccess);
  ASSERT_EQ(h().Call("fd_close", {fd}), Errno::kSuccess);
  EXPECT_EQ(h().Slurp(kOut, "result.txt"), "computed");
  auto files = CollectFiles(*out_);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "result.txt");
}

TEST_P(WasiPathTest, OpenErrors) {
  Start();
  std::uint32_t fd = 0;
  EXPECT_EQ(h().Open(kOut, "missing", 0, &fd), Errno::kNoent);
  EXPECT_EQ(h().Open(kIn, "in.txt", oflags::kDirectory, &fd), Errno::kNotdir);
  EXPECT_EQ(h().Open(kIn, "in.txt/x", 0, &fd), Errno::kNotdir);
  EXPECT_EQ(h().Open(kOut, "x", oflags::kCreat | oflags::kDirectory, &fd), Errno::kInval);
  EXPECT_EQ(h().Open(kOut, "x", 1u << 7, &fd), Errno::kInval);
  EXPECT_EQ(h().Open(kOut, "x", oflags::kCreat, &fd, ~Rights{0}, 1u << 9), Errno::kInval);
  EXPECT_EQ(h().Open(kOut, "", 0, &fd), Errno::kNoent);
  EXPECT_EQ(h().Open(99, "x", 0, &fd), Errno::kBadf);
  EXPECT_EQ(h().Open(1, "x", 0, &fd), Errno::kNotdir);
  Create(kOut, "once");
  EXPECT_EQ(h().Open(kOut, "once", oflags::kCreat | oflags::kExcl, &fd), Errno::kExist);
  std::uint32_t file = 0;
  ASSERT_EQ(h().Open(kIn, "in.txt", 0, &file), Errno::kSuccess);
  EXPECT_EQ(h().Open(file, "x", 0, &fd), Errno::kNotdir);
}

TEST_P(WasiPathTest, BadPointersAreFaultsWithoutSideEffects) {
  Start();
  const std::uint32_t name = h().PutBytes("new.txt");
  const std::uint32_t fd_out = h().Alloc(4);
  EXPECT_EQ(h().Call("path_open", {kOut, 0, kStraddle, 8, oflags::kCreat, ~0ull, ~0ull, 0, fd_out}),
            Errno::kFault);
  EXPECT_EQ(h().Call("path_open", {kOut, 0, name, 7, oflags::kCreat, ~0ull, ~0ull, 0, kOutside}),
            Errno::kFault);
  EXPECT_FALSE(Exists(*out_, "new.txt"));
  EXPECT_EQ(h().Call("path_create_directory", {kOut, kOutside, 3}), Errno::kFault);
  EXPECT_EQ(h().Call("path_unlink_file", {kOut, kStraddle, 3}), Errno::kFault);
  EXPECT_EQ(h().Call("path_remove_directory", {kOut, 0xFFFFFFF0, 32}), Errno::kFault);
  EXPECT_EQ(h().Call("path_filestat_get", {kIn, 1, name, 7, kStraddle}), Errno::kFault);
  EXPECT_EQ(h().Call("path_filestat_get", {kIn, 1, kOutside, 7, fd_out}), Errno::kFault);
  EXPECT_EQ(h().Call("path_rename", {kOut, kOutside, 1, kOut, name, 7}), Errno::kFault);
  EXPECT_EQ(h().Call("path_rename", {kOut, name, 7, kOut, kStraddle, 7}), Errno::kFault);
}

TEST_P(WasiPathTest, TruncateEmptiesTheFile) {
  Start();
  std::uint32_t fd = Create(kOut, "f");
  ASSERT_EQ(h().Write(fd, "0123456789"), Errno::kSuccess);
  ASSERT_EQ(h().Open(kOut, "f", oflags::kTrunc, &fd), Errno::kSuccess);
  FileStat stat;
  ASSERT_EQ(h().Stat(kOut, "f", &stat), Errno::kSuccess);
  EXPECT_EQ(stat.size, 0u);
}

TEST_P(WasiPathTest, FilestatGet) {
  Start();
  FileStat stat;
  ASSERT_EQ(h().Stat(kIn, "in.txt", &stat), Errno::kSuccess);
  EXPECT_EQ(stat.type, Filetype::kRegularFile);
  EXPECT_EQ(stat.size, 5u);
  ASSERT_EQ(h().Stat(kIn, "sub", &stat), Errno::kSuccess);
  EXPECT_EQ(stat.type, Filetype::kDirectory);
  ASSERT_EQ(h().Stat(kIn, ".", &stat), Errno::kSuccess);
  EXPECT_EQ(stat.type, Filetype::kDirectory);
  EXPECT_EQ(h().Stat(kIn, "nope", &stat), Errno::kNoent);
  EXPECT_EQ(h().Stat(kIn, "in.txt/", &stat), Errno::kNotdir);
}

TEST_P(WasiPathTest, CreateAndRemoveDirectories) {
  Start();
  ASSERT_EQ(h().PathCall("path_create_directory", kOut, "d"), Errno::kSuccess);
  EXPECT_EQ(h().PathCall("path_create_directory", kOut, "d"), Errno::kExist);
  EXPECT_EQ(h().PathCall("path_create_directory", kOut, "no/such"), Errno::kNoent);
  Create(kOut, "file");
  EXPECT_EQ(h().PathCall("path_create_directory", kOut, "file/x"), Errno::kNotdir);
  ASSERT_EQ(h().PathCall("path_create_directory", kOut, "d/e"), Errno::kSuccess);
  EXPECT_EQ(h().PathCall("path_remove_directory", kOut, "d"), Errno::kNotempty);
  EXPECT_EQ(h().PathCall("path_remove_directory", kOut, "file"), Errno::kNotdir);
  EXPECT_EQ(h().PathCall("path_remove_directory", kOut, "gone"), Errno::kNoent);
  ASSERT_EQ(h().PathCall("path_remove_directory", kOut, "d/e"), Errno::kSuccess);
  ASSERT_EQ(h().PathCall("path_remove_directory", kOut, "d"), Errno::kSuccess);
  EXPECT_FALSE(Exists(*out_, "d"));
}

TEST_P(WasiPathTest, UnlinkFile) {
  Start();
  Create(kOut, "f");
  ASSERT_EQ(h().PathCall("path_create_directory", kOut, "d"), Errno::kSuccess);
  EXPECT_EQ(h().PathCall("path_unlink_file", kOut, "d"), Errno::kIsdir);
  EXPECT_EQ(h().PathCall("path_unlink_file", kOut, "nope"), Errno::kNoent);
  ASSERT_EQ(h().PathCall("path_unlink_file", kOut, "f"), Errno::kSuccess);
  EXPECT_FALSE(Exists(*out_, "f"));
}

TEST_P(WasiPathTest, RenameWithinAndAcrossDescriptorsOfOneTree) {
  Start();
  const std::uint32_t fd = Create(kOut, "a");
  ASSERT_EQ(h().Write(fd, "A"), Errno::kSuccess);
  ASSERT_EQ(h().PathCall("path_create_directory", kOut, "d"), Errno::kSuccess);
  std::uint32_t sub = 0;
  ASSERT_EQ(h().Open(kOut, "d", oflags::kDirectory, &sub), Errno::kSuccess);
  ASSERT_EQ(Rename(kOut, "a", sub, "b"), Errno::kSuccess);
  EXPECT_EQ(h().Slurp(kOut, "d/b"), "A");
  EXPECT_EQ(Rename(kOut, "missing", kOut, "x"), Errno::kNoent);
  EXPECT_EQ(Rename(kOut, "d", kOut, "d/inside"), Errno::kInval);
  EXPECT_EQ(Rename(kOut, "d", 1, "x"), Errno::kNotdir);
  EXPECT_EQ(Rename(kOut, "d", 77, "x"), Errno::kBadf);
}

TEST_P(WasiPathTest, ReadOnlyPreopenRefusesChanges) {
  Start();
  std::uint32_t fd = 0;
  EXPECT_EQ(h().Open(kIn, "new.txt", oflags::kCreat, &fd), Errno::kRofs);
  EXPECT_EQ(h().Open(kIn, "in.txt", 0, &fd, rights::kFdRead | rights::kFdWrite), Errno::kRofs);
  EXPECT_EQ(h().Open(kIn, "in.txt", oflags::kTrunc, &fd, rights::kFdRead), Errno::kRofs);
  EXPECT_EQ(h().PathCall("path_create_directory", kIn, "d"), Errno::kRofs);
  EXPECT_EQ(h().PathCall("path_unlink_file", kIn, "in.txt"), Errno::kRofs);
  EXPECT_EQ(h().PathCall("path_remove_directory", kIn, "sub"), Errno::kRofs);
  EXPECT_EQ(Rename(kIn, "in.txt", kIn, "moved.txt"), Errno::kRofs);
  EXPECT_EQ(Rename(kIn, "in.txt", kOut, "stolen.txt"), Errno::kRofs);
  Create(kOut, "planted");
  EXPECT_EQ(Rename(kOut, "planted", kIn, "planted"), Errno::kRofs);
  // What it opens inherits read-only-ness.
  std::uint32_t sub = 0;
  ASSERT_EQ(h().Open(kIn, "sub", oflags::kDirectory, &sub), Errno::kSuccess);
  EXPECT_EQ(h().Open(sub, "x", oflags::kCreat, &fd), Errno::kRofs);
  // Reading is fine, and nothing changed.
  EXPECT_EQ(h().Slurp(kIn, "in.txt"), "input");
  EXPECT_FALSE(Exists(*in_, "new.txt"));
  EXPECT_FALSE(Exists(*in_, "d"));
  EXPECT_TRUE(Exists(*in_, "sub"));
}

TEST_P(WasiPathTest, WriteQuotaCutsShortThenRefuses) {
  WasiConfig config;
  config.write_quota = 100;
  Start(std::move(config));
  const std::uint32_t fd = Create(kOut, "big");
  std::uint32_t written = 0;
  ASSERT_EQ(h().Write(fd, std::string(60, 'a'), &written), Errno::kSuccess);
  EXPECT_EQ(written, 60u);
  ASSERT_EQ(h().Write(fd, std::string(60, 'b'), &written), Errno::kSuccess);
  EXPECT_EQ(written, 40u);
  EXPECT_EQ(h().Write(fd, "c"), Errno::kDquot);
  EXPECT_EQ(h().action(), HostAction::kContinue);
  EXPECT_FALSE(h().host.stop().has_value());
  EXPECT_EQ(h().host.quota_used(), 100u);
  EXPECT_EQ(out_->StatAt("big", true)->size, 100u);
  // Overwriting inside the file costs nothing.
  const std::uint32_t pos = h().Alloc(8);
  ASSERT_EQ(h().Call("fd_seek", {fd, 0, 0, pos}), Errno::kSuccess);
  EXPECT_EQ(h().Write(fd, "zz"), Errno::kSuccess);
  // Another file draws on the same budget.
  EXPECT_EQ(h().Write(Create(kOut, "other"), "x"), Errno::kDquot);
}

TEST_P(WasiPathTest, WriteQuotaIsRefundedByUnlinkAndTruncate) {
  WasiConfig config;
  config.write_quota = 10;
  Start(std::move(config));
  ASSERT_EQ(h().Write(Create(kOut, "a"), std::string(10, 'a')), Errno::kSuccess);
  EXPECT_EQ(h().Write(Create(kOut, "b"), "b"), Errno::kDquot);
  ASSERT_EQ(h().PathCall("path_unlink_file", kOut, "a"), Errno::kSuccess);
  EXPECT_EQ(h().host.quota_used(), 0u);
  ASSERT_EQ(h().Write(Create(kOut, "b"), std::string(10, 'b')), Errno::kSuccess);
  // Create() truncates: rewriting the same file in a loop never runs out.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(h().Write(Create(kOut, "b"), std::string(10, 'c')), Errno::kSuccess);
  }
  EXPECT_EQ(h().host.quota_used(), 10u);
}

TEST_P(WasiPathTest, WriteQuotaCountsHolesToo) {
  WasiConfig config;
  config.write_quota = 1000;
  Start(std::move(config));
  const std::uint32_t fd = Create(kOut, "sparse");
  const std::uint32_t pos = h().Alloc(8);
  ASSERT_EQ(h().Call("fd_seek", {fd, 1ull << 40, 0, pos}), Errno::kSuccess);
  EXPECT_EQ(h().Write(fd, "x"), Errno::kDquot);
  EXPECT_EQ(out_->StatAt("sparse", true)->size, 0u);
}

TEST_P(WasiPathTest, ReplacingAFileByRenameRefundsIt) {
  WasiConfig config;
  config.write_quota = 10;
  Start(std::move(config));
  ASSERT_EQ(h().Write(Create(kOut, "old"), std::string(6, 'o')), Errno::kSuccess);
  ASSERT_EQ(h().Write(Create(kOut, "new"), std::string(4, 'n')), Errno::kSuccess);
  ASSERT_EQ(Rename(kOut, "new", kOut, "old"), Errno::kSuccess);
  EXPECT_EQ(h().host.quota_used(), 4u);
  ASSERT_EQ(Rename(kOut, "old", kOut, "old"), Errno::kSuccess);
  EXPECT_EQ(h().host.quota_used(), 4u);
}

TEST_P(WasiPathTest, CreateQuotaBoundsNewEntries) {
  WasiConfig config;
  config.create_quota = 2;
  Start(std::move(config));
  Create(kOut, "one");
  ASSERT_EQ(h().PathCall("path_create_directory", kOut, "two"), Errno::kSuccess);
  std::uint32_t fd = 0;
  EXPECT_EQ(h().Open(kOut, "three", oflags::kCreat, &fd), Errno::kDquot);
  EXPECT_EQ(h().PathCall("path_create_directory", kOut, "three"), Errno::kDquot);
  // Reopening what exists is not a creation.
  EXPECT_EQ(h().Open(kOut, "one", oflags::kCreat, &fd), Errno::kSuccess);
  ASSERT_EQ(h().PathCall("path_remove_directory", kOut, "two"), Errno::kSuccess);
  EXPECT_EQ(h().Open(kOut, "three", oflags::kCreat, &fd), Errno::kSuccess);
}

TEST_P(WasiPathTest, EscapesAreNotCapable) {
  Start();
  ASSERT_EQ(h().PathCall("path_create_directory", kOut, "sub"), Errno::kSuccess);
  std::uint32_t fd = 0;
  for (const char* path : {"..", "../x", "../..", "../../etc/passwd", "sub/../..",
                           "sub/../../x", "/etc/passwd", "/"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(h().Open(kIn, path, 0, &fd), Errno::kNotcapable);
    EXPECT_EQ(h().Open(kOut, path, oflags::kCreat, &fd), Errno::kNotcapable);
    EXPECT_EQ(h().Stat(kIn, path, nullptr), Errno::kNotcapable);
  }
  EXPECT_EQ(h().PathCall("path_create_directory", kOut, "../x"), Errno::kNotcapable);
  EXPECT_EQ(h().PathCall("path_unlink_file", kOut, "../x"), Errno::kNotcapable);
  EXPECT_EQ(h().PathCall("path_remove_directory", kOut, "../x"), Errno::kNotcapable);
  Create(kOut, "mine");
  EXPECT_EQ(Rename(kOut, "mine", kOut, "../mine"), Errno::kNotcapable);
  EXPECT_EQ(Rename(kOut, "../../etc/passwd", kOut, "stolen"), Errno::kNotcapable);
  // A subdirectory descriptor is confined to itself.
  std::uint32_t sub = 0;
  ASSERT_EQ(h().Open(kIn, "sub", oflags::kDirectory, &sub), Errno::kSuccess);
  EXPECT_EQ(h().Open(sub, "../in.txt", 0, &fd), Errno::kNotcapable);
}

TEST_P(WasiPathTest, PathsWithNulAreRejected) {
  Start();
  const std::string hostile("in.txt\0../../etc/passwd", 23);
  std::uint32_t fd = 0;
  EXPECT_EQ(h().Open(kIn, hostile, 0, &fd), Errno::kInval);
  EXPECT_EQ(h().Open(kOut, hostile, oflags::kCreat, &fd), Errno::kInval);
  EXPECT_EQ(h().PathCall("path_create_directory", kOut, hostile), Errno::kInval);
  EXPECT_EQ(h().Stat(kIn, hostile, nullptr), Errno::kInval);
}

TEST_P(WasiPathTest, DirectoryRightsAreEnforced) {
  Start();
  std::uint32_t limited = 0;
  ASSERT_EQ(h().Open(kOut, ".", oflags::kDirectory, &limited,
                     rights::kPathOpen | rights::kFdReaddir),
            Errno::kSuccess);
  std::uint32_t fd = 0;
  EXPECT_EQ(h().Open(limited, "x", oflags::kCreat, &fd), Errno::kNotcapable);
  EXPECT_EQ(h().PathCall("path_create_directory", limited, "d"), Errno::kNotcapable);
  EXPECT_EQ(h().PathCall("path_unlink_file", limited, "x"), Errno::kNotcapable);
  EXPECT_EQ(h().Stat(limited, ".", nullptr), Errno::kNotcapable);
  EXPECT_EQ(Rename(limited, "a", kOut, "b"), Errno::kNotcapable);
}

TEST_P(WasiPathTest, HostSymlinkEscapesAreNotCapable) {
  if (!testing::IsHost(GetParam())) GTEST_SKIP() << "memory trees have no symlinks";
  Start();
  const fs::path root = in_temp_.path() / "root";
  in_temp_.WriteFile("secret.txt", "SECRET");
  fs::create_symlink("/etc/passwd", root / "passwd");
  fs::create_symlink("../secret.txt", root / "secret");
  fs::create_symlink("..", root / "up");
  fs::create_symlink("in.txt", root / "alias");
  std::uint32_t fd = 0;
  for (const char* path : {"passwd", "secret", "up/secret.txt", "up/root/in.txt"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(h().Open(kIn, path, 0, &fd), Errno::kNotcapable);
    EXPECT_EQ(h().Stat(kIn, path, nullptr), Errno::kNotcapable);
  }
  EXPECT_EQ(h().Slurp(kIn, "alias"), "input");
  FileStat link;
  ASSERT_EQ(h().Stat(kIn, "passwd", &link, /*lookup=*/0), Errno::kSuccess);
  EXPECT_EQ(link.type, Filetype::kSymbolicLink);
  EXPECT_EQ(h().Open(kIn, "alias", 0, &fd, rights::kFdRead, 0, /*lookup=*/0), Errno::kLoop);
}

INSTANTIATE_TEST_SUITE_P(Backends, WasiPathTest,
                         ::testing::Values(Backend::kMemory, Backend::kHostOpenat2,
                                           Backend::kHostPortable),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace milf::wasm::wasi
