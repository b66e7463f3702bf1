// Artifact signatures (compiler/aot/signature.h): a signed artifact verifies
// with the right key for the right module and target, and nothing else does.
#include "compiler/aot/signature.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/sha256.h"

namespace milf::aot {
namespace {

const std::string kModule = std::string(64, 'a');
const std::string kOtherModule = std::string(64, 'b');
const std::string kTarget = "x86_64-linux-gnu";

std::vector<std::uint8_t> Container(ArtifactInfo& info) {
  info = ArtifactInfo{kTarget, std::string(64, 'c'), std::string(64, 'd')};
  const std::vector<std::uint8_t> object = {0x7f, 'E', 'L', 'F', 1, 2, 3, 4};
  return SerializeArtifact(info, object);
}

TEST(AotSignature, SignedArtifactVerifiesAndRoundTrips) {
  const SigningKey key = SigningKey::Generate();
  ArtifactInfo info;
  const SignedArtifact signed_artifact = key.Sign(Container(info), info, kModule);
  auto parsed = ParseSignedArtifact(SerializeSignedArtifact(signed_artifact));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->signature, signed_artifact.signature);
  auto verified = VerifySignedArtifact(*parsed, key.PublicKeyHex(), kModule, kTarget);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->info.module_sha256, info.module_sha256);
  EXPECT_EQ(verified->object.size(), 8u);
}

TEST(AotSignature, WrongKeyIsRefused) {
  ArtifactInfo info;
  const SignedArtifact signed_artifact = SigningKey::Generate().Sign(Container(info), info, kModule);
  auto verified =
      VerifySignedArtifact(signed_artifact, SigningKey::Generate().PublicKeyHex(), kModule, kTarget);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "refused");
  EXPECT_FALSE(VerifySignedArtifact(signed_artifact, "not a key", kModule, kTarget));
}

TEST(AotSignature, EveryFlippedByteIsRefused) {
  const SigningKey key = SigningKey::Generate();
  ArtifactInfo info;
  const std::vector<std::uint8_t> bytes = SerializeSignedArtifact(key.Sign(Container(info), info, kModule));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::vector<std::uint8_t> flipped = bytes;
    flipped[i] ^= 0x01;
    auto parsed = ParseSignedArtifact(flipped);
    if (!parsed) continue;
    EXPECT_FALSE(VerifySignedArtifact(*parsed, key.PublicKeyHex(), kModule, kTarget))
        << "byte " << i << " flipped";
  }
}

TEST(AotSignature, ReplayForAnotherModuleOrTargetIsRefused) {
  const SigningKey key = SigningKey::Generate();
  ArtifactInfo info;
  SignedArtifact replayed = key.Sign(Container(info), info, kModule);
  EXPECT_FALSE(VerifySignedArtifact(replayed, key.PublicKeyHex(), kOtherModule, kTarget));
  EXPECT_FALSE(VerifySignedArtifact(replayed, key.PublicKeyHex(), kModule, "aarch64-linux-gnu"));
  // Relabelled envelope: the signature no longer matches the statement.
  replayed.module_sha256 = kOtherModule;
  auto verified = VerifySignedArtifact(replayed, key.PublicKeyHex(), kOtherModule, kTarget);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().message, "bad signature");
}

TEST(AotSignature, MalformedEnvelopesAreCorrupt) {
  EXPECT_FALSE(ParseSignedArtifact({}));
  const std::string text = "MILFSIG1\nmodule x\n\n";
  EXPECT_FALSE(ParseSignedArtifact(
      std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
}

TEST(AotSignature, KeyFileIsCreatedPrivateAndReloaded) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("milf-sign-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto path = dir / "aot-signing.key";
  auto created = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(created) << created.error().message;
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto loaded = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->PublicKeyHex(), created->PublicKeyHex());
  EXPECT_TRUE(IsPublicKeyHex(loaded->PublicKeyHex()));
  std::filesystem::resize_file(path, 10);
  EXPECT_FALSE(SigningKey::LoadOrCreate(path));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace milf::aot
