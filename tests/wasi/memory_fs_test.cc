// MemoryDirectory specifics; the shared Directory contract is in
// directory_test.cc.
#include "wasm/wasi/memory_fs.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "wasi_test_support.h"

namespace milf::wasm::wasi {
namespace {

std::span<const std::uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(MemoryDirectory, AddFileMakesParentsAndReplaces) {
  auto root = MemoryDirectory::Create();
  ASSERT_TRUE(root->AddFile("a/b/c.txt", Bytes("one")).ok());
  ASSERT_TRUE(root->AddFile("a/b/c.txt", Bytes("two!")).ok());
  EXPECT_EQ(root->StatAt("a/b", true)->type, Filetype::kDirectory);
  EXPECT_EQ(root->StatAt("a/b/c.txt", true)->size, 4u);
  auto files = CollectFiles(*root);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "a/b/c.txt");
  EXPECT_EQ(std::string((*files)[0].bytes.begin(), (*files)[0].bytes.end()), "two!");
}

TEST(MemoryDirectory, AddFileRejectsBadPaths) {
  auto root = MemoryDirectory::Create();
  ASSERT_TRUE(root->AddFile("file", Bytes("x")).ok());
  EXPECT_EQ(root->AddFile("../x", Bytes("x")).error(), Errno::kInval);
  EXPECT_EQ(root->AddFile("a/./b", Bytes("x")).error(), Errno::kInval);
  EXPECT_EQ(root->AddFile("/abs", Bytes("x")).error(), Errno::kNotcapable);
  EXPECT_EQ(root->AddFile("file/x", Bytes("x")).error(), Errno::kNotdir);
  ASSERT_TRUE(root->CreateDirectory("dir").ok());
  EXPECT_EQ(root->AddFile("dir", Bytes("x")).error(), Errno::kIsdir);
}

TEST(MemoryDirectory, MetadataIsDeterministic) {
  for (int run = 0; run < 2; ++run) {
    auto root = MemoryDirectory::Create();
    ASSERT_TRUE(root->AddFile("x", Bytes("1")).ok());
    ASSERT_TRUE(root->CreateDirectory("d").ok());
    auto x = root->StatAt("x", true);
    auto d = root->StatAt("d", true);
    EXPECT_EQ(root->Stat()->inode, 1u);
    EXPECT_EQ(x->inode, 2u);
    EXPECT_EQ(d->inode, 3u);
    EXPECT_EQ(x->device, 0u);
    EXPECT_EQ(x->modify_nanos, 0u);
  }
}

TEST(MemoryDirectory, FilesCannotGrowPastTheirLimit) {
  auto root = MemoryDirectory::Create();
  OpenRequest create;
  create.write = true;
  create.create = true;
  auto node = root->Open("big", create);
  ASSERT_TRUE(node.ok());
  auto& file = std::get<std::shared_ptr<File>>(*node);
  EXPECT_EQ(file->WriteAt(MemoryDirectory::kMaxFileBytes, Bytes("x")).error(), Errno::kFbig);
  EXPECT_EQ(file->WriteAt(UINT64_MAX, Bytes("x")).error(), Errno::kFbig);
  EXPECT_EQ(file->Stat()->size, 0u);
}

TEST(MemoryDirectory, RemovedDirectoryRefusesNewEntries) {
  auto root = MemoryDirectory::Create();
  ASSERT_TRUE(root->CreateDirectory("gone").ok());
  OpenRequest as_dir;
  as_dir.directory = true;
  auto node = root->Open("gone", as_dir);
  ASSERT_TRUE(node.ok());
  auto gone = std::get<std::shared_ptr<Directory>>(*node);
  ASSERT_TRUE(root->RemoveDirectory("gone").ok());
  EXPECT_EQ(gone->CreateDirectory("x").error(), Errno::kNoent);
  EXPECT_TRUE(gone->List()->empty());
}

TEST(MemoryDirectory, DeepTreesAreTornDownWithoutRecursion) {
  auto root = MemoryDirectory::Create();
  std::shared_ptr<Directory> current = root;
  OpenRequest as_dir;
  as_dir.directory = true;
  for (int depth = 0; depth < 200'000; ++depth) {
    ASSERT_TRUE(current->CreateDirectory("d").ok());
    auto next = current->Open("d", as_dir);
    ASSERT_TRUE(next.ok());
    current = std::get<std::shared_ptr<Directory>>(*next);
  }
  current.reset();
  root.reset();  // would overflow the stack if destruction recursed
  SUCCEED();
}

TEST(MemoryDirectory, CollectFilesOnADeepTreeDoesNotRecurse) {
  auto root = MemoryDirectory::Create();
  // Guest paths are capped at 4096 bytes; handles let a guest nest deeper.
  std::shared_ptr<Directory> current = root;
  OpenRequest as_dir;
  as_dir.directory = true;
  for (int depth = 0; depth < 20'000; ++depth) {
    ASSERT_TRUE(current->CreateDirectory("d").ok());
    current = std::get<std::shared_ptr<Directory>>(*current->Open("d", as_dir));
  }
  auto leaf = dynamic_cast<MemoryDirectory*>(current.get());
  ASSERT_NE(leaf, nullptr);
  ASSERT_TRUE(leaf->AddFile("leaf.txt", Bytes("L")).ok());
  auto files = CollectFiles(*root);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path.size(), 20'000u * 2 + 8);
}

}  // namespace
}  // namespace milf::wasm::wasi
