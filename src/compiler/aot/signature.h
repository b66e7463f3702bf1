// Artifact signatures: the server signs every AOT artifact it builds with an
// Ed25519 key (libsodium) that never leaves its data directory, and a node
// verifies the signature, with the server's public key it pinned at
// enrollment, before anything of the artifact is loaded.
//
// What is signed (SignedStatement) binds the artifact to one deployed
// module: the SHA-256 of the artifact container's bytes (which carry the
// instrumented module's hash, the target and the toolchain, artifact.h),
// the SHA-256 of the deployed module, the target and the toolchain
// fingerprint. A signature made for one module therefore does not verify
// for another, even with the same bytes.
//
// On the wire and on a node's disk an artifact travels as a SignedArtifact:
//
//   "MILFSIG1\n" "module <sha256>\n" "target <triple>\n" "toolchain <fingerprint>\n"
//   "signature <128 hex>\n" "\n" | container
//
// The envelope repeats the target and toolchain so that a node verifies the
// signature before it parses anything of the container.
//
// Thread-safety: SigningKey is immutable after construction; every function
// may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "compiler/aot/artifact.h"

namespace milf::aot {

// The bytes an artifact's signature covers.
std::string SignedStatement(std::string_view artifact_sha256, std::string_view module_sha256,
                            std::string_view target, std::string_view toolchain);

struct SignedArtifact {
  std::string module_sha256;           // the deployed module's hash
  std::string target;                  // as in the container
  std::string toolchain;               // as in the container
  std::string signature;               // 128 hex digits
  std::vector<std::uint8_t> artifact;  // the container (artifact.h)
};

class SigningKey {
 public:
  // A fresh key pair.
  static SigningKey Generate();
  // The key in `path` (the 64-byte libsodium secret key), created with mode
  // 0600 when missing. Errors: "io", "corrupt" (wrong size).
  static Result<SigningKey> LoadOrCreate(const std::filesystem::path& path);

  // 64 lowercase hex digits.
  std::string PublicKeyHex() const;

  // `artifact` (a serialized container with `info`), signed for the
  // deployed module `module_sha256`.
  SignedArtifact Sign(std::vector<std::uint8_t> artifact, const ArtifactInfo& info,
                      std::string_view module_sha256) const;

 private:
  explicit SigningKey(std::array<std::uint8_t, 64> secret) : secret_(secret) {}
  std::array<std::uint8_t, 64> secret_;
};


std::vector<std::uint8_t> SerializeSignedArtifact(const SignedArtifact& signed_artifact);
// Errors "corrupt" for anything but a well-formed envelope.
Result<SignedArtifact> ParseSignedArtifact(std::span<const std::uint8_t> bytes);

// True for 64 lowercase hex digits.
bool IsPublicKeyHex(std::string_view text);

// The verified artifact, when `signed_artifact` is for `module_sha256` and
// `target`, its signature verifies with `public_key_hex` and its container
// is intact. Errors "refused", with the reason; nothing is trusted before
// the signature has verified.
Result<Artifact> VerifySignedArtifact(const SignedArtifact& signed_artifact,
                                      std::string_view public_key_hex,
                                      std::string_view module_sha256, std::string_view target);

}  // namespace milf::aot
