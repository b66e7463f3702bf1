// The node's module cache: content-addressed, verified on the way in and on
// the way back from disk, persistent across restarts, bounded in memory and
// on disk (least recently used first, never a module in use).
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

std::unique_ptr<ModuleStore> OpenStore(const fs::path& dir, std::uint64_t memory_budget = 1 << 20,
                                       std::uint64_t disk_budget = 1 << 20) {
  auto store = ModuleStore::Open(dir, {.disk_budget_bytes = disk_budget,
                                       .memory_budget_bytes = memory_budget});
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
  auto store = OpenStore(dir.path(), /*memory_budget=*/100);
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

std::vector<std::uint8_t> Module(int i, std::size_t size = 100) {
  return std::vector<std::uint8_t>(size, static_cast<std::uint8_t>(i));
}

bool OnDisk(const fs::path& dir, const std::vector<std::uint8_t>& module) {
  return fs::exists(dir / (Sha256Hex(module) + ".wasm"));
}

// Sets the modification time a restart orders the cache by.
void UsedAgo(const fs::path& dir, const std::vector<std::uint8_t>& module,
             std::chrono::minutes ago) {
  fs::last_write_time(dir / (Sha256Hex(module) + ".wasm"),
                      fs::file_time_type::clock::now() - ago);
}

TEST(ModuleStore, DiskIsBoundedLeastRecentlyUsedFirst) {
  TempDir dir;
  auto store = OpenStore(dir.path(), 1 << 20, /*disk_budget=*/300);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->Put(Sha256Hex(Module(i)), Module(i)));
  EXPECT_EQ(store->disk_bytes(), 300u);
  ASSERT_NE(store->Get(Sha256Hex(Module(0))), nullptr);  // 1 is now the oldest use
  ASSERT_TRUE(store->Put(Sha256Hex(Module(3)), Module(3)));
  EXPECT_TRUE(OnDisk(dir.path(), Module(0)));
  EXPECT_FALSE(OnDisk(dir.path(), Module(1)));
  EXPECT_TRUE(OnDisk(dir.path(), Module(2)));
  EXPECT_TRUE(OnDisk(dir.path(), Module(3)));
  EXPECT_EQ(store->Get(Sha256Hex(Module(1))), nullptr);
  EXPECT_EQ(store->List().size(), 3u);
  EXPECT_EQ(store->disk_bytes(), 300u);
  // A bigger module makes room by evicting as many as it takes.
  ASSERT_TRUE(store->Put(Sha256Hex(Module(4, 250)), Module(4, 250)));
  EXPECT_EQ(store->List(), std::vector<std::string>{Sha256Hex(Module(4, 250))});
  EXPECT_EQ(store->disk_bytes(), 250u);
}

TEST(ModuleStore, AModuleInUseIsNeverEvicted) {
  TempDir dir;
  auto store = OpenStore(dir.path(), 1 << 20, /*disk_budget=*/200);
  ASSERT_TRUE(store->Put(Sha256Hex(Module(0)), Module(0)));
  ModuleStore::Bytes running = store->Get(Sha256Hex(Module(0)));  // a job holds it
  ASSERT_NE(running, nullptr);
  ASSERT_TRUE(store->Put(Sha256Hex(Module(1)), Module(1)));
  ASSERT_TRUE(store->Put(Sha256Hex(Module(2)), Module(2)));
  // Module 0 is the oldest use but held: module 1 goes instead.
  EXPECT_TRUE(OnDisk(dir.path(), Module(0)));
  EXPECT_FALSE(OnDisk(dir.path(), Module(1)));
  EXPECT_TRUE(OnDisk(dir.path(), Module(2)));
  // Everything held and one more put: over budget until a holder lets go.
  ModuleStore::Bytes second = store->Get(Sha256Hex(Module(2)));
  ASSERT_TRUE(store->Put(Sha256Hex(Module(3)), Module(3)));
  EXPECT_EQ(store->disk_bytes(), 300u);
  running.reset();
  ASSERT_TRUE(store->Put(Sha256Hex(Module(4)), Module(4)));
  EXPECT_FALSE(OnDisk(dir.path(), Module(0)));
  EXPECT_TRUE(OnDisk(dir.path(), Module(2)));
  EXPECT_EQ(store->disk_bytes(), 200u);
}

TEST(ModuleStore, AModuleLargerThanTheBudgetIsKeptUntilTheNextPut) {
  TempDir dir;
  auto store = OpenStore(dir.path(), /*memory_budget=*/50, /*disk_budget=*/100);
  const auto big = Module(9, 500);
  ASSERT_TRUE(store->Put(Sha256Hex(big), big));
  auto got = store->Get(Sha256Hex(big));
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, big);
  got.reset();
  ASSERT_TRUE(store->Put(Sha256Hex(Module(1, 10)), Module(1, 10)));
  EXPECT_FALSE(OnDisk(dir.path(), big));
  EXPECT_EQ(store->disk_bytes(), 10u);
}

TEST(ModuleStore, ARestartRebuildsTheIndexAndItsRecencyFromTheDirectory) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(store->Put(Sha256Hex(Module(i)), Module(i)));
  }
  // Last used: 2 long ago, then 0, 3 and 1 most recently.
  UsedAgo(dir.path(), Module(2), std::chrono::minutes(300));
  UsedAgo(dir.path(), Module(0), std::chrono::minutes(200));
  UsedAgo(dir.path(), Module(3), std::chrono::minutes(100));
  UsedAgo(dir.path(), Module(1), std::chrono::minutes(50));
  testing::WriteFile(dir.path(), "notes.txt", "not a module, not counted");
  auto store = OpenStore(dir.path(), 1 << 20, /*disk_budget=*/250);
  // Over budget at open: the two least recently used go.
  EXPECT_FALSE(OnDisk(dir.path(), Module(2)));
  EXPECT_FALSE(OnDisk(dir.path(), Module(0)));
  EXPECT_EQ(store->disk_bytes(), 200u);
  EXPECT_EQ(store->List().size(), 2u);
  EXPECT_TRUE(fs::exists(dir.path() / "notes.txt"));
  // A use is recorded on disk, so it outlives the next restart.
  ASSERT_NE(store->Get(Sha256Hex(Module(3))), nullptr);
  store.reset();
  store = OpenStore(dir.path(), 1 << 20, /*disk_budget=*/100);
  EXPECT_TRUE(OnDisk(dir.path(), Module(3)));
  EXPECT_FALSE(OnDisk(dir.path(), Module(1)));
  EXPECT_EQ(store->List(), std::vector<std::string>{Sha256Hex(Module(3))});
}

TEST(ModuleStore, ACorruptFileStopsCountingAndCanBePutAgain) {
  TempDir dir;
  const auto module = Module(5);
  const std::string hash = Sha256Hex(module);
  ASSERT_TRUE(OpenStore(dir.path())->Put(hash, module));
  testing::WriteFile(dir.path(), hash + ".wasm", "truncated");
  auto store = OpenStore(dir.path(), 1 << 20, /*disk_budget=*/150);
  EXPECT_EQ(store->disk_bytes(), 9u);  // indexed as found; checked when read
  EXPECT_EQ(store->Get(hash), nullptr);
  EXPECT_EQ(store->disk_bytes(), 0u);
  EXPECT_TRUE(store->List().empty());
  ASSERT_TRUE(store->Put(hash, module));
  EXPECT_EQ(store->disk_bytes(), 100u);
  EXPECT_EQ(*store->Get(hash), module);
}

TEST(ModuleStore, AFileRemovedBehindItsBackIsNotServed) {
  TempDir dir;
  auto store = OpenStore(dir.path(), /*memory_budget=*/10);
  const auto module = Module(6);
  ASSERT_TRUE(store->Put(Sha256Hex(module), module));
  fs::remove(dir.path() / (Sha256Hex(module) + ".wasm"));
  EXPECT_EQ(store->Get(Sha256Hex(module)), nullptr);
  EXPECT_TRUE(store->List().empty());
  EXPECT_EQ(store->disk_bytes(), 0u);
}

}  // namespace
}  // namespace milf::node
