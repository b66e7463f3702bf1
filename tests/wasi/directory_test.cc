// The Directory contract (vfs.h), checked identically on every backend:
// memory, host through openat2, host through the portable walk.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>

#include "wasi_test_support.h"
#include "wasm/wasi/vfs.h"

namespace milf::wasm::wasi {
namespace {

using testing::Backend;

std::span<const std::uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

OpenRequest ReadOnly() { return OpenRequest{}; }
OpenRequest CreateWrite() {
  OpenRequest request;
  request.write = true;
  request.create = true;
  return request;
}
OpenRequest AsDirectory() {
  OpenRequest request;
  request.directory = true;
  return request;
}

class DirectoryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!testing::BackendAvailable(GetParam())) GTEST_SKIP() << "openat2 unavailable";
    dir_ = testing::MakeDirectory(GetParam(), temp_);
    ASSERT_NE(dir_, nullptr);
  }

  std::shared_ptr<File> OpenFile(Directory& dir, std::string_view path, const OpenRequest& request) {
    auto node = dir.Open(path, request);
    if (!node) {
      ADD_FAILURE() << "open " << path << ": " << node.error();
      return nullptr;
    }
    auto* file = std::get_if<std::shared_ptr<File>>(&*node);
    if (file == nullptr) ADD_FAILURE() << path << " is not a file";
    return file ? *file : nullptr;
  }

  std::shared_ptr<Directory> OpenDir(std::string_view path) {
    auto node = dir_->Open(path, AsDirectory());
    if (!node) {
      ADD_FAILURE() << "open " << path << ": " << node.error();
      return nullptr;
    }
    return std::get<std::shared_ptr<Directory>>(*node);
  }

  void Put(std::string_view path, std::string_view contents) { Put(*dir_, path, contents); }
  void Put(Directory& dir, std::string_view path, std::string_view contents) {
    OpenRequest request = CreateWrite();
    request.truncate = true;
    auto file = OpenFile(dir, path, request);
    ASSERT_NE(file, nullptr);
    auto written = file->WriteAt(0, Bytes(contents));
    ASSERT_TRUE(written.ok());
    EXPECT_EQ(*written, contents.size());
  }

  std::string Get(std::string_view path) {
    auto file = OpenFile(*dir_, path, ReadOnly());
    if (file == nullptr) return "<missing>";
    std::string contents(4096, '\0');
    auto read = file->ReadAt(0, {reinterpret_cast<std::uint8_t*>(contents.data()), contents.size()});
    EXPECT_TRUE(read.ok());
    contents.resize(read ? *read : 0);
    return contents;
  }

  Errno OpenError(std::string_view path, const OpenRequest& request = ReadOnly()) {
    auto node = dir_->Open(path, request);
    return node ? Errno::kSuccess : node.error();
  }

  testing::TempDir temp_;
  std::shared_ptr<Directory> dir_;
};

TEST_P(DirectoryTest, CreatesWritesReadsAndStatsFiles) {
  Put("a.txt", "hello");
  EXPECT_EQ(Get("a.txt"), "hello");
  auto stat = dir_->StatAt("a.txt", true);
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->type, Filetype::kRegularFile);
  EXPECT_EQ(stat->size, 5u);
  auto self = dir_->Stat();
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->type, Filetype::kDirectory);
}

TEST_P(DirectoryTest, ReadAtHandlesOffsetsAndEof) {
  Put("f", "0123456789");
  auto file = OpenFile(*dir_, "f", ReadOnly());
  ASSERT_NE(file, nullptr);
  std::uint8_t buffer[4];
  EXPECT_EQ(*file->ReadAt(8, buffer), 2u);
  EXPECT_EQ(buffer[0], '8');
  EXPECT_EQ(*file->ReadAt(10, buffer), 0u);
  EXPECT_EQ(*file->ReadAt(1'000'000, buffer), 0u);
}

TEST_P(DirectoryTest, WritePastEndZeroFills) {
  auto file = OpenFile(*dir_, "sparse", CreateWrite());
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->WriteAt(4, Bytes("x")).ok());
  EXPECT_EQ(Get("sparse"), std::string("\0\0\0\0x", 5));
}

TEST_P(DirectoryTest, OpenErrors) {
  Put("file", "x");
  ASSERT_TRUE(dir_->CreateDirectory("sub").ok());
  EXPECT_EQ(OpenError("missing"), Errno::kNoent);
  EXPECT_EQ(OpenError("missing/x"), Errno::kNoent);
  EXPECT_EQ(OpenError("file/x"), Errno::kNotdir);
  EXPECT_EQ(OpenError("file/"), Errno::kNotdir);
  EXPECT_EQ(OpenError("file", AsDirectory()), Errno::kNotdir);
  OpenRequest write;
  write.write = true;
  EXPECT_EQ(OpenError("sub", write), Errno::kIsdir);
  OpenRequest exclusive = CreateWrite();
  exclusive.exclusive = true;
  EXPECT_EQ(OpenError("file", exclusive), Errno::kExist);
  OpenRequest create_dir = CreateWrite();
  create_dir.directory = true;
  EXPECT_EQ(OpenError("newdir", create_dir), Errno::kInval);
}

TEST_P(DirectoryTest, TruncateEmptiesAnExistingFile) {
  Put("f", "long contents");
  OpenRequest truncate;
  truncate.write = true;
  truncate.truncate = true;
  ASSERT_NE(OpenFile(*dir_, "f", truncate), nullptr);
  EXPECT_EQ(dir_->StatAt("f", true)->size, 0u);
}

TEST_P(DirectoryTest, ListsEntriesSortedWithTypes) {
  Put("b.txt", "b");
  Put("a.txt", "a");
  ASSERT_TRUE(dir_->CreateDirectory("c").ok());
  auto entries = dir_->List();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].name, "a.txt");
  EXPECT_EQ((*entries)[1].name, "b.txt");
  EXPECT_EQ((*entries)[2].name, "c");
  EXPECT_EQ((*entries)[0].type, Filetype::kRegularFile);
  EXPECT_EQ((*entries)[2].type, Filetype::kDirectory);
  EXPECT_NE((*entries)[0].inode, (*entries)[1].inode);
}

TEST_P(DirectoryTest, CreateDirectoryErrors) {
  Put("file", "x");
  ASSERT_TRUE(dir_->CreateDirectory("d").ok());
  EXPECT_EQ(dir_->CreateDirectory("d").error(), Errno::kExist);
  EXPECT_EQ(dir_->CreateDirectory("file").error(), Errno::kExist);
  EXPECT_EQ(dir_->CreateDirectory("missing/d").error(), Errno::kNoent);
  EXPECT_EQ(dir_->CreateDirectory("file/d").error(), Errno::kNotdir);
  EXPECT_EQ(dir_->CreateDirectory(".").error(), Errno::kExist);
  EXPECT_TRUE(dir_->CreateDirectory("d/e/").ok());
  EXPECT_EQ(dir_->StatAt("d/e", true)->type, Filetype::kDirectory);
}

TEST_P(DirectoryTest, UnlinkFile) {
  Put("f", "x");
  ASSERT_TRUE(dir_->CreateDirectory("d").ok());
  EXPECT_EQ(dir_->UnlinkFile("d").error(), Errno::kIsdir);
  EXPECT_EQ(dir_->UnlinkFile("missing").error(), Errno::kNoent);
  EXPECT_EQ(dir_->UnlinkFile("f/").error(), Errno::kNotdir);
  EXPECT_EQ(dir_->UnlinkFile("d/..").error(), Errno::kInval);
  EXPECT_TRUE(dir_->UnlinkFile("f").ok());
  EXPECT_EQ(dir_->StatAt("f", false).error(), Errno::kNoent);
}

TEST_P(DirectoryTest, UnlinkedFileStaysReadableThroughItsHandle) {
  Put("f", "still here");
  auto file = OpenFile(*dir_, "f", ReadOnly());
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(dir_->UnlinkFile("f").ok());
  std::uint8_t buffer[16];
  EXPECT_EQ(*file->ReadAt(0, buffer), 10u);
}

TEST_P(DirectoryTest, RemoveDirectory) {
  ASSERT_TRUE(dir_->CreateDirectory("d").ok());
  Put("d/f", "x");
  Put("file", "x");
  EXPECT_EQ(dir_->RemoveDirectory("d").error(), Errno::kNotempty);
  EXPECT_EQ(dir_->RemoveDirectory("file").error(), Errno::kNotdir);
  EXPECT_EQ(dir_->RemoveDirectory("missing").error(), Errno::kNoent);
  EXPECT_EQ(dir_->RemoveDirectory(".").error(), Errno::kInval);
  ASSERT_TRUE(dir_->UnlinkFile("d/f").ok());
  EXPECT_TRUE(dir_->RemoveDirectory("d").ok());
  EXPECT_EQ(dir_->StatAt("d", false).error(), Errno::kNoent);
}

TEST_P(DirectoryTest, RenameMovesAndReplaces) {
  Put("a", "A");
  Put("b", "B");
  ASSERT_TRUE(dir_->CreateDirectory("d").ok());
  ASSERT_TRUE(dir_->Rename("a", *dir_, "d/a2").ok());
  EXPECT_EQ(Get("d/a2"), "A");
  EXPECT_EQ(dir_->StatAt("a", false).error(), Errno::kNoent);
  ASSERT_TRUE(dir_->Rename("b", *dir_, "d/a2").ok());
  EXPECT_EQ(Get("d/a2"), "B");
  ASSERT_TRUE(dir_->Rename("d", *dir_, "e").ok());
  EXPECT_EQ(Get("e/a2"), "B");
}

TEST_P(DirectoryTest, RenameErrors) {
  Put("f", "x");
  ASSERT_TRUE(dir_->CreateDirectory("d").ok());
  ASSERT_TRUE(dir_->CreateDirectory("full").ok());
  Put("full/x", "x");
  EXPECT_EQ(dir_->Rename("missing", *dir_, "x").error(), Errno::kNoent);
  EXPECT_EQ(dir_->Rename("f", *dir_, "d").error(), Errno::kIsdir);
  EXPECT_EQ(dir_->Rename("d", *dir_, "f").error(), Errno::kNotdir);
  EXPECT_EQ(dir_->Rename("d", *dir_, "full").error(), Errno::kNotempty);
  EXPECT_EQ(dir_->Rename("d", *dir_, "d/inside").error(), Errno::kInval);
  EXPECT_EQ(dir_->Rename("f", *dir_, "g/").error(), Errno::kNotdir);
  EXPECT_EQ(dir_->Rename(".", *dir_, "x").error(), Errno::kInval);
  EXPECT_EQ(dir_->Rename("f", *dir_, "d/..").error(), Errno::kInval);
}

TEST_P(DirectoryTest, RenameBetweenHandlesOfOneTree) {
  ASSERT_TRUE(dir_->CreateDirectory("sub").ok());
  Put("top", "T");
  auto sub = OpenDir("sub");
  ASSERT_NE(sub, nullptr);
  ASSERT_TRUE(dir_->Rename("top", *sub, "moved").ok());
  EXPECT_EQ(Get("sub/moved"), "T");
}

TEST_P(DirectoryTest, DotDotBelowTheRootResolves) {
  ASSERT_TRUE(dir_->CreateDirectory("a").ok());
  ASSERT_TRUE(dir_->CreateDirectory("a/b").ok());
  Put("top", "T");
  EXPECT_EQ(Get("a/b/../../top"), "T");
  EXPECT_EQ(Get("./a/./../top"), "T");
}

TEST_P(DirectoryTest, EscapesAreNotCapable) {
  ASSERT_TRUE(dir_->CreateDirectory("a").ok());
  for (const char* path : {"..", "../x", "../..", "../../etc/passwd", "a/../..", "a/../../x",
                           "/etc/passwd", "/"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(OpenError(path), Errno::kNotcapable);
    EXPECT_EQ(OpenError(path, CreateWrite()), Errno::kNotcapable);
    EXPECT_EQ(dir_->StatAt(path, true).error(), Errno::kNotcapable);
  }
  EXPECT_EQ(dir_->CreateDirectory("../x").error(), Errno::kNotcapable);
  EXPECT_EQ(dir_->UnlinkFile("../x").error(), Errno::kNotcapable);
  EXPECT_EQ(dir_->RemoveDirectory("../a").error(), Errno::kNotcapable);
  EXPECT_EQ(dir_->Rename("a", *dir_, "../a").error(), Errno::kNotcapable);
  EXPECT_EQ(dir_->Rename("../a", *dir_, "b").error(), Errno::kNotcapable);
  if (testing::IsHost(GetParam())) {
    EXPECT_FALSE(std::filesystem::exists(temp_.path() / "x"));
    EXPECT_FALSE(std::filesystem::exists(temp_.path() / "a"));
  }
}

TEST_P(DirectoryTest, PathsWithNulAreRejected) {
  Put("ok.txt", "x");
  const std::string_view hostile("ok.txt\0../../etc/passwd", 23);
  EXPECT_EQ(OpenError(hostile), Errno::kInval);
  EXPECT_EQ(OpenError(hostile, CreateWrite()), Errno::kInval);
  EXPECT_EQ(dir_->UnlinkFile(hostile).error(), Errno::kInval);
}

TEST_P(DirectoryTest, SubdirectoryHandleIsConfinedToItself) {
  ASSERT_TRUE(dir_->CreateDirectory("sub").ok());
  Put("secret", "S");
  auto sub = OpenDir("sub");
  ASSERT_NE(sub, nullptr);
  auto escaped = sub->Open("../secret", ReadOnly());
  ASSERT_FALSE(escaped.ok());
  EXPECT_EQ(escaped.error(), Errno::kNotcapable);
  Put(*sub, "inner", "I");
  EXPECT_EQ(Get("sub/inner"), "I");
}

TEST_P(DirectoryTest, CollectFilesWalksTheTree) {
  ASSERT_TRUE(dir_->CreateDirectory("z").ok());
  ASSERT_TRUE(dir_->CreateDirectory("z/deep").ok());
  ASSERT_TRUE(dir_->CreateDirectory("empty").ok());
  Put("b.txt", "bee");
  Put("z/deep/c.bin", std::string("\0\1\2", 3));
  Put("a.txt", "");
  auto files = CollectFiles(*dir_);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].path, "a.txt");
  EXPECT_TRUE((*files)[0].bytes.empty());
  EXPECT_EQ((*files)[1].path, "b.txt");
  EXPECT_EQ(std::string((*files)[1].bytes.begin(), (*files)[1].bytes.end()), "bee");
  EXPECT_EQ((*files)[2].path, "z/deep/c.bin");
  EXPECT_EQ((*files)[2].bytes.size(), 3u);
}

TEST_P(DirectoryTest, CollectFilesStopsAtItsByteLimit) {
  Put("a", std::string(100, 'a'));
  Put("b", std::string(100, 'b'));
  EXPECT_TRUE(CollectFiles(*dir_, 200).ok());
  EXPECT_EQ(CollectFiles(*dir_, 199).error(), Errno::kFbig);
}

INSTANTIATE_TEST_SUITE_P(Backends, DirectoryTest,
                         ::testing::Values(Backend::kMemory, Backend::kHostOpenat2,
                                           Backend::kHostPortable),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace milf::wasm::wasi
