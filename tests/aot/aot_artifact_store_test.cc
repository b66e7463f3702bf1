// The node's artifact store (node/artifact_store.h): key pinning, and that
// only verified artifacts come out of it; anything else is refused, counted
// and deleted.
#include "node/artifact_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "aot_test_support.h"
#include "compiler/aot/signature.h"

namespace milf::node {
namespace {

const std::string kModule(64, 'a');
const std::string kTarget = "x86_64-linux-gnu";

std::vector<std::uint8_t> Envelope(const aot::SigningKey& key, const std::string& module) {
  const aot::ArtifactInfo info{kTarget, std::string(64, 'c'), std::string(64, 'd')};
  const std::vector<std::uint8_t> object = {0x7f, 'E', 'L', 'F', 9, 9, 9};
  return aot::SerializeSignedArtifact(key.Sign(aot::SerializeArtifact(info, object), info, module));
}

void Write(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

class ArtifactStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ArtifactStore> Open() {
    ArtifactStoreOptions options;
    options.dir = dir_.path() / "artifacts";
    options.target = kTarget;
    options.server = "http://127.0.0.1:1";  // nothing listens: downloads fail quietly
    options.data_dir = dir_.path();
    options.log = [this](const std::string& line) { log_ += line + "\n"; };
    auto store = ArtifactStore::Open(std::move(options));
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }
  std::filesystem::path PathOf(const std::string& module, int mb) const {
    return dir_.path() / "artifacts" / (module + "-" + std::to_string(mb) + "mb.milfsig");
  }

  wasm::testing::ScratchDir dir_;
  std::string log_;
  const aot::SigningKey key_ = aot::SigningKey::Generate();
};

TEST_F(ArtifactStoreTest, TheFirstKeyIsPinnedAndAnotherRefused) {
  auto store = Open();
  EXPECT_TRUE(store->UseServerKey(""));
  EXPECT_TRUE(store->UseServerKey(key_.PublicKeyHex()));
  EXPECT_TRUE(store->UseServerKey(key_.PublicKeyHex()));
  EXPECT_FALSE(store->UseServerKey(aot::SigningKey::Generate().PublicKeyHex()));
  store.reset();
  auto reopened = Open();
  EXPECT_FALSE(reopened->UseServerKey(aot::SigningKey::Generate().PublicKeyHex()));
  EXPECT_TRUE(reopened->UseServerKey(key_.PublicKeyHex()));
}

TEST_F(ArtifactStoreTest, OnlyVerifiedArtifactsComeOut) {
  auto store = Open();
  ASSERT_TRUE(store->UseServerKey(key_.PublicKeyHex()));
  EXPECT_EQ(store->Get(kModule, 64), nullptr);  // none yet: a download is tried
  store->WaitIdle();

  Write(PathOf(kModule, 64), Envelope(key_, kModule));
  auto good = store->Get(kModule, 64);
  ASSERT_NE(good, nullptr) << log_;
  EXPECT_TRUE(aot::ParseArtifact(*good));
  EXPECT_EQ(store->refused(), 0u);

  // Flipped byte, another server's signature, another module's artifact.
  std::vector<std::uint8_t> flipped = Envelope(key_, kModule);
  flipped.back() ^= 1;
  const std::string other(64, 'b');
  Write(PathOf(other, 32), flipped);
  EXPECT_EQ(store->Get(other, 32), nullptr);
  Write(PathOf(other, 32), Envelope(aot::SigningKey::Generate(), other));
  EXPECT_EQ(store->Get(other, 32), nullptr);
  Write(PathOf(other, 32), Envelope(key_, kModule));
  EXPECT_EQ(store->Get(other, 32), nullptr);
  EXPECT_EQ(store->refused(), 3u);
  EXPECT_FALSE(std::filesystem::exists(PathOf(other, 32)));
  EXPECT_NE(log_.find("refused the AOT artifact"), std::string::npos);
  store->WaitIdle();
}

}  // namespace
}  // namespace milf::node
