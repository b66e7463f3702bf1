// The node's module cache: content-addressed, verified on the way in and on
// the way back from disk, persistent across restarts, bounded in memory.
#include "node/module_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "base/sha256.h"
#include "node_test_support.h"

namespace milf::node {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::vector<std::uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

std::unique_ptr<ModuleStore> OpenStore(const fs::path& dir, std::uint64_t budget = 1 << 20) {
  auto store = ModuleStore::Open(dir, budget);
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

TEST(ModuleStore, PutThenGet) {
  TempDir dir;
  auto store = OpenStore(dir.path() / "modules");
  const auto module = Bytes("\0asm module one");
  const std::string hash = Sha256Hex(module);
  EXPECT_EQ(store->Get(hash), nullptr);
  ASSERT_TRUE(store->Put(hash, module));
  auto got = store->Get(hash);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, module);
  EXPECT_EQ(store->List(), std::vector<std::string>{hash});
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() / "modules").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(ModuleStore, RefusesBytesThatDoNotMatchTheHash) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const std::string hash = Sha256Hex(Bytes("the real module"));
  const Status put = store->Put(hash, Bytes("something else"));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, "hash_mismatch");
  EXPECT_EQ(store->Get(hash), nullptr);
  EXPECT_TRUE(store->List().empty());
  EXPECT_EQ(store->Put("../../etc/passwd", Bytes("x")).error().code, "hash_mismatch");
  EXPECT_EQ(store->Get("../../etc/passwd"), nullptr);
}

TEST(ModuleStore, SurvivesARestart) {
  TempDir dir;
  const auto module = Bytes("persistent module");
  const std::string hash = Sha256Hex(module);
  ASSERT_TRUE(OpenStore(dir.path())->Put(hash, module));
  auto reopened = OpenStore(dir.path());
  EXPECT_EQ(reopened->List(), std::vector<std::string>{hash});
  auto got = reopened->Get(hash);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, module);
}

TEST(ModuleStore, ACorruptFileIsDroppedNotServed) {
  TempDir dir;
  const auto module = Bytes("module that will rot");
  const std::string hash = Sha256Hex(module);
  ASSERT_TRUE(OpenStore(dir.path())->Put(hash, module));
  testing::WriteFile(dir.path(), hash + ".wasm", "module that will r0t");
  auto reopened = OpenStore(dir.path());
  EXPECT_EQ(reopened->Get(hash), nullptr);
  EXPECT_FALSE(fs::exists(dir.path() / (hash + ".wasm")));
  EXPECT_TRUE(reopened->List().empty());
}

TEST(ModuleStore, LeftoversOfInterruptedWritesAreRemoved) {
  TempDir dir;
  testing::WriteFile(dir.path(), std::string(64, 'a') + ".123.partial", "half a module");
  testing::WriteFile(dir.path(), "notes.txt", "not a module");
  auto store = OpenStore(dir.path());
  EXPECT_FALSE(fs::exists(dir.path() / (std::string(64, 'a') + ".123.partial")));
  EXPECT_TRUE(store->List().empty());
}

TEST(ModuleStore, MemoryIsBoundedButDiskKeepsEverything) {
  TempDir dir;
  auto store = OpenStore(dir.path(), /*budget=*/100);
  std::vector<std::string> hashes;
  for (int i = 0; i < 5; ++i) {
    const auto module = std::vector<std::uint8_t>(40, static_cast<std::uint8_t>(i));
    hashes.push_back(Sha256Hex(module));
    ASSERT_TRUE(store->Put(hashes.back(), module));
  }
  // Whatever was evicted from memory comes back from disk.
  for (int i = 0; i < 5; ++i) {
    auto got = store->Get(hashes[i]);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(*got, std::vector<std::uint8_t>(40, static_cast<std::uint8_t>(i)));
  }
  // Larger than the whole budget: stored on disk, served from it.
  const std::vector<std::uint8_t> big(500, 7);
  ASSERT_TRUE(store->Put(Sha256Hex(big), big));
  EXPECT_EQ(*store->Get(Sha256Hex(big)), big);
}

TEST(ModuleStore, ConcurrentPutsOfTheSameModuleAgree) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const std::vector<std::uint8_t> module(100'000, 42);
  const std::string hash = Sha256Hex(module);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 10; ++k) {
        EXPECT_TRUE(store->Put(hash, module));
        auto got = store->Get(hash);
        ASSERT_NE(got, nullptr);
        EXPECT_EQ(got->size(), module.size());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(OpenStore(dir.path())->List(), std::vector<std::string>{hash});
}

}  // namespace
}  // namespace milf::node
