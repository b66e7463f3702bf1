// HostDirectory specifics: symlinks, host file kinds, and escape attempts
// that only a real filesystem can stage. Each test runs on both resolvers.
#include "wasm/wasi/host_fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <variant>

#include "wasi_test_support.h"
#include "wasm/wasi/memory_fs.h"

namespace milf::wasm::wasi {
namespace {

namespace fs = std::filesystem;
using testing::Backend;

class HostDirectoryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!testing::BackendAvailable(GetParam())) GTEST_SKIP() << "openat2 unavailable";
    // temp/outside.txt and temp/outdir/ sit next to the root: escape targets.
    temp_.WriteFile("outside.txt", "OUTSIDE");
    fs::create_directories(temp_.path() / "outdir");
    root_path_ = temp_.path() / "root";
    dir_ = testing::MakeDirectory(GetParam(), temp_);
    ASSERT_NE(dir_, nullptr);
    temp_.WriteFile("root/inside.txt", "INSIDE");
    fs::create_directories(root_path_ / "sub");
  }

  void Link(const std::string& target, const std::string& name) {
    fs::create_symlink(target, root_path_ / name);
  }

  Errno OpenError(std::string_view path, OpenRequest request = {}) {
    auto node = dir_->Open(path, request);
    return node ? Errno::kSuccess : node.error();
  }

  std::string Read(std::string_view path) {
    auto node = dir_->Open(path, {});
    if (!node) return "<" + std::to_string(static_cast<int>(node.error())) + ">";
    auto& file = std::get<std::shared_ptr<File>>(*node);
    std::string contents(256, '\0');
    auto n = file->ReadAt(0, {reinterpret_cast<std::uint8_t*>(contents.data()), contents.size()});
    contents.resize(n ? *n : 0);
    return contents;
  }

  static OpenRequest Create() {
    OpenRequest request;
    request.write = true;
    request.create = true;
    return request;
  }

  testing::TempDir temp_;
  fs::path root_path_;
  std::shared_ptr<Directory> dir_;
};

TEST_P(HostDirectoryTest, SymlinksInsideTheRootAreFollowed) {
  Link("inside.txt", "alias");
  Link("../inside.txt", "sub/up_alias");
  Link("sub", "subdir_link");
  EXPECT_EQ(Read("alias"), "INSIDE");
  EXPECT_EQ(Read("sub/up_alias"), "INSIDE");
  EXPECT_EQ(Read("subdir_link/up_alias"), "INSIDE");
}

TEST_P(HostDirectoryTest, SymlinkPointingOutsideIsNotCapable) {
  Link("../outside.txt", "escape");
  Link("..", "up");
  Link("../../outside.txt", "sub/deep_escape");
  for (const char* path : {"escape", "up/outside.txt", "sub/deep_escape", "up"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(OpenError(path), Errno::kNotcapable);
    EXPECT_EQ(dir_->StatAt(path, true).error(), Errno::kNotcapable);
  }
}

TEST_P(HostDirectoryTest, AbsoluteSymlinksAreNotCapable) {
  Link("/etc/passwd", "passwd");
  Link("/", "slash");
  // Even an absolute link naming a file inside the root: the guest's "/"
  // is not the host's.
  Link((root_path_ / "inside.txt").string(), "abs_inside");
  Link("/proc/self/root", "proc_root");
  for (const char* path : {"passwd", "slash/etc/passwd", "abs_inside", "proc_root/etc/passwd"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(OpenError(path), Errno::kNotcapable);
    EXPECT_EQ(dir_->StatAt(path, true).error(), Errno::kNotcapable);
  }
}

TEST_P(HostDirectoryTest, UnfollowedSymlinkIsTheLinkItself) {
  Link("/etc/passwd", "passwd");
  auto stat = dir_->StatAt("passwd", false);
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->type, Filetype::kSymbolicLink);
  OpenRequest no_follow;
  no_follow.follow_symlinks = false;
  EXPECT_EQ(OpenError("passwd", no_follow), Errno::kLoop);
  auto entries = dir_->List();
  ASSERT_TRUE(entries.ok());
  bool listed = false;
  for (const auto& entry : *entries) {
    if (entry.name == "passwd") listed = entry.type == Filetype::kSymbolicLink;
  }
  EXPECT_TRUE(listed);
}

TEST_P(HostDirectoryTest, CreatingThroughAnEscapingSymlinkFails) {
  Link("../outdir", "evil_dir");
  Link("../outside_new.txt", "evil_file");
  EXPECT_EQ(OpenError("evil_dir/new.txt", Create()), Errno::kNotcapable);
  EXPECT_EQ(OpenError("evil_file", Create()), Errno::kNotcapable);
  EXPECT_EQ(dir_->CreateDirectory("evil_dir/x").error(), Errno::kNotcapable);
  EXPECT_EQ(dir_->Rename("inside.txt", *dir_, "evil_dir/stolen").error(), Errno::kNotcapable);
  EXPECT_EQ(dir_->UnlinkFile("evil_dir/anything").error(), Errno::kNotcapable);
  EXPECT_TRUE(fs::is_empty(temp_.path() / "outdir"));
  EXPECT_FALSE(fs::exists(temp_.path() / "outside_new.txt"));
  EXPECT_EQ(temp_.ReadFile("root/inside.txt"), "INSIDE");
}

TEST_P(HostDirectoryTest, TruncatingThroughAnEscapingSymlinkFails) {
  Link("../outside.txt", "escape");
  OpenRequest truncate;
  truncate.write = true;
  truncate.truncate = true;
  EXPECT_EQ(OpenError("escape", truncate), Errno::kNotcapable);
  EXPECT_EQ(temp_.ReadFile("outside.txt"), "OUTSIDE");
}

TEST_P(HostDirectoryTest, UnlinkingAnEscapingSymlinkRemovesOnlyTheLink) {
  Link("../outside.txt", "escape");
  ASSERT_TRUE(dir_->UnlinkFile("escape").ok());
  EXPECT_FALSE(fs::is_symlink(root_path_ / "escape"));
  EXPECT_EQ(temp_.ReadFile("outside.txt"), "OUTSIDE");
}

TEST_P(HostDirectoryTest, SymlinkLoopsEndInLoop) {
  Link("b", "a");
  Link("a", "b");
  Link("self", "self");
  EXPECT_EQ(OpenError("a"), Errno::kLoop);
  EXPECT_EQ(OpenError("self/x"), Errno::kLoop);
}

TEST_P(HostDirectoryTest, FifosAreRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_path_ / "pipe").c_str(), 0600), 0);
  EXPECT_EQ(OpenError("pipe"), Errno::kNotsup);
}

TEST_P(HostDirectoryTest, RenameToAnotherImplementationIsCrossDevice) {
  auto memory = MemoryDirectory::Create();
  EXPECT_EQ(dir_->Rename("inside.txt", *memory, "x").error(), Errno::kXdev);
  EXPECT_EQ(memory->Rename("x", *dir_, "y").error(), Errno::kXdev);
}

TEST_P(HostDirectoryTest, ReportsHostMetadata) {
  auto stat = dir_->StatAt("inside.txt", true);
  ASSERT_TRUE(stat.ok());
  struct stat host {};
  ASSERT_EQ(::stat((root_path_ / "inside.txt").c_str(), &host), 0);
  EXPECT_EQ(stat->inode, host.st_ino);
  EXPECT_EQ(stat->size, 6u);
  EXPECT_GT(stat->modify_nanos, 0u);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, HostDirectoryTest,
                         ::testing::Values(Backend::kHostOpenat2, Backend::kHostPortable),
                         [](const auto& info) { return testing::BackendName(info.param); });

TEST(HostDirectoryOpen, ReportsBadRoots) {
  testing::TempDir temp;
  temp.WriteFile("file", "x");
  auto missing = HostDirectory::Open(temp.path() / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "not_found");
  auto file = HostDirectory::Open(temp.path() / "file");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, "not_a_directory");
}

TEST(HostDirectoryOpen, AutoPicksAWorkingResolver) {
  testing::TempDir temp;
  auto dir = HostDirectory::Open(temp.path());
  ASSERT_TRUE(dir.ok());
  const bool openat2 = HostDirectory::Open(temp.path(), HostDirectory::Resolver::kOpenat2).ok();
  EXPECT_EQ((*dir)->resolve_mode(), openat2 ? ResolveMode::kOpenat2 : ResolveMode::kPortable);
}

}  // namespace
}  // namespace milf::wasm::wasi
