// Host directories and the sandbox: read-only mounts become in-memory
// snapshots, writable ones are refused except /out, and what comes back for
// /out is written only where it belongs.
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sandbox/host_files.h"

namespace milf::sandbox {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::path(::testing::TempDir()) / "milf-sandbox-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> Bytes(const std::string& text) { return {text.begin(), text.end()}; }

TEST(OutRelativePathTest, AcceptsPathsUnderOut) {
  EXPECT_EQ(OutRelativePath("/out/a.txt"), "a.txt");
  EXPECT_EQ(OutRelativePath("/out/d/e/f.bin"), "d/e/f.bin");
  EXPECT_EQ(OutRelativePath("/out/.hidden"), ".hidden");
  EXPECT_EQ(OutRelativePath("/out/a..b"), "a..b");
}

TEST(OutRelativePathTest, RefusesEverythingElse) {
  const std::vector<std::string> paths = {"",
                                          "/",
                                          "/out",
                                          "/out/",
                                          "/outx/a",
                                          "out/a",
                                          "/etc/passwd",
                                          "/out/../etc/passwd",
                                          "/out/a/../../x",
                                          "/out/./a",
                                          "/out/a/.",
                                          "/out/a/..",
                                          "/out//a",
                                          "/out/a/",
                                          "/out/a//b",
                                          std::string("/out/a\0b", 8),
                                          "/out/" + std::string(256, 'n'),
                                          "/out/" + std::string(5000, 'a')};
  for (const std::string& path : paths) {
    EXPECT_FALSE(OutRelativePath(path)) << path;
  }
}

TEST(StageRequestTest, SnapshotsReadOnlyHostDirectories) {
  TempDir dir;
  WriteFile(dir.path() / "a.txt", "alpha");
  WriteFile(dir.path() / "sub/b.txt", "beta");
  ::symlink("/etc/passwd", (dir.path() / "link").c_str());
  wasm::RunRequest request;
  request.mounts.push_back(wasm::Mount{"/in", dir.path(), {}, true});
  ASSERT_TRUE(NeedsStaging(request));
  auto staged = StageRequest(request, 1 << 20);
  ASSERT_TRUE(staged) << staged.error().message;
  ASSERT_EQ(staged->request.mounts.size(), 1u);
  const wasm::Mount& mount = staged->request.mounts[0];
  EXPECT_TRUE(mount.host_path.empty());
  EXPECT_TRUE(mount.read_only);
  EXPECT_EQ(mount.guest_path, "/in");
  std::map<std::string, std::vector<std::uint8_t>> want = {{"a.txt", Bytes("alpha")},
                                                           {"sub/b.txt", Bytes("beta")}};
  EXPECT_EQ(mount.files, want);  // the symlink is not followed out
  EXPECT_FALSE(staged->out_dir);
  EXPECT_FALSE(NeedsStaging(staged->request));
}

TEST(StageRequestTest, WritableOutBecomesMemoryAndComesBack) {
  TempDir dir;
  wasm::RunRequest request;
  request.mounts.push_back(wasm::Mount{"/out", dir.path(), {}, false});
  auto staged = StageRequest(request, 1 << 20);
  ASSERT_TRUE(staged);
  EXPECT_TRUE(staged->request.mounts[0].host_path.empty());
  EXPECT_FALSE(staged->request.mounts[0].read_only);
  ASSERT_TRUE(staged->out_dir);
  EXPECT_EQ(*staged->out_dir, dir.path());
}

TEST(StageRequestTest, RefusesOtherWritableHostDirectories) {
  TempDir dir;
  wasm::RunRequest request;
  request.mounts.push_back(wasm::Mount{"/data", dir.path(), {}, false});
  auto staged = StageRequest(request, 1 << 20);
  ASSERT_FALSE(staged);
  EXPECT_EQ(staged.error().code, "invalid_argument");
}

TEST(StageRequestTest, RefusesSnapshotsOverTheBound) {
  TempDir one;
  TempDir two;
  WriteFile(one.path() / "a", std::string(600, 'a'));
  WriteFile(two.path() / "b", std::string(600, 'b'));
  wasm::RunRequest request;
  request.mounts.push_back(wasm::Mount{"/one", one.path(), {}, true});
  ASSERT_TRUE(StageRequest(request, 1000));
  request.mounts.push_back(wasm::Mount{"/two", two.path(), {}, true});
  auto staged = StageRequest(request, 1000);  // together they pass it
  ASSERT_FALSE(staged);
  EXPECT_EQ(staged.error().code, "too_large");
}

TEST(StageRequestTest, MissingHostDirectoryIsAnError) {
  wasm::RunRequest request;
  request.mounts.push_back(wasm::Mount{"/in", "/nonexistent/milf", {}, true});
  auto staged = StageRequest(request, 1000);
  ASSERT_FALSE(staged);
  EXPECT_EQ(staged.error().code, "io");
}

TEST(WriteOutFilesTest, WritesNestedFiles) {
  TempDir dir;
  ASSERT_TRUE(WriteOutFiles(
      dir.path(),
      {{"/out/r.txt", Bytes("result")}, {"/out/d/e/deep.txt", Bytes("deep")}, {"/out/empty", {}}}));
  EXPECT_EQ(ReadFile(dir.path() / "r.txt"), "result");
  EXPECT_EQ(ReadFile(dir.path() / "d/e/deep.txt"), "deep");
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "empty"));
}

TEST(WriteOutFilesTest, ReplacesAnOlderFile) {
  TempDir dir;
  WriteFile(dir.path() / "r.txt", "an older and longer text");
  ASSERT_TRUE(WriteOutFiles(dir.path(), {{"/out/r.txt", Bytes("new")}}));
  EXPECT_EQ(ReadFile(dir.path() / "r.txt"), "new");
}

TEST(WriteOutFilesTest, RefusesEscapesAndWritesNothing) {
  TempDir dir;
  fs::create_directories(dir.path() / "out");
  auto written = WriteOutFiles(
      dir.path() / "out", {{"/out/fine.txt", Bytes("x")}, {"/out/../escape.txt", Bytes("pwn")}});
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, "invalid_path");
  EXPECT_FALSE(fs::exists(dir.path() / "escape.txt"));
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "fine.txt"));
}

TEST(WriteOutFilesTest, DoesNotFollowSymlinksOut) {
  TempDir dir;
  TempDir outside;
  WriteFile(outside.path() / "victim.txt", "safe");
  ::symlink((outside.path() / "victim.txt").c_str(), (dir.path() / "file_link").c_str());
  ::symlink(outside.path().c_str(), (dir.path() / "dir_link").c_str());
  EXPECT_FALSE(WriteOutFiles(dir.path(), {{"/out/file_link", Bytes("pwn")}}));
  EXPECT_FALSE(WriteOutFiles(dir.path(), {{"/out/dir_link/new.txt", Bytes("pwn")}}));
  EXPECT_EQ(ReadFile(outside.path() / "victim.txt"), "safe");
  EXPECT_FALSE(fs::exists(outside.path() / "new.txt"));
}

}  // namespace
}  // namespace milf::sandbox
