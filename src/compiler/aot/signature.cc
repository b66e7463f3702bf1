#include "compiler/aot/signature.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>

#include "base/sha256.h"

namespace milf::aot {
namespace {

constexpr std::string_view kMagic = "MILFSIG1\n";
constexpr std::size_t kMaxEnvelopeHeader = 1024;
constexpr std::size_t kSignatureBytes = crypto_sign_BYTES;
static_assert(crypto_sign_SECRETKEYBYTES == 64 && crypto_sign_PUBLICKEYBYTES == 32);

void InitSodium() {
  // Idempotent and thread-safe; fails only without a random source, which
  // Generate would then report by crashing loudly rather than signing badly.
  if (sodium_init() < 0) std::abort();
}

bool IsHex(std::string_view text, std::size_t size) {
  return text.size() == size && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<std::vector<std::uint8_t>> FromHex(std::string_view text) {
  if (text.size() % 2 != 0 || !IsHex(text, text.size())) return std::nullopt;
  std::vector<std::uint8_t> bytes(text.size() / 2);
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]));
  }
  return bytes;
}

Unexpected<Error> Corrupt(std::string what) { return Fail("corrupt", std::move(what)); }
Unexpected<Error> Refused(std::string what) { return Fail("refused", std::move(what)); }

Status WriteNewPrivateFile(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Fail("io", "cannot create " + path.string());
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Fail("io", "cannot write " + path.string());
  }
  return {};
}

}  // namespace

std::string SignedStatement(std::string_view artifact_sha256, std::string_view module_sha256,
                            std::string_view target, std::string_view toolchain) {
  std::string statement = "milf-aot-artifact-v1\n";
  for (const std::string_view field : {artifact_sha256, module_sha256, target, toolchain}) {
    statement.append(field);
    statement.push_back('\n');
  }
  return statement;
}

SigningKey SigningKey::Generate() {
  InitSodium();
  std::array<std::uint8_t, 64> secret{};
  std::array<std::uint8_t, 32> public_key{};
  crypto_sign_keypair(public_key.data(), secret.data());
  return SigningKey(secret);
}

Result<SigningKey> SigningKey::LoadOrCreate(const std::filesystem::path& path) {
  InitSodium();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) return Fail("io", "cannot read " + path.string());
    SigningKey key = Generate();
    if (auto written = WriteNewPrivateFile(path, key.secret_); !written) {
      // Another process may have created it first: use that one.
      if (std::filesystem::exists(path)) return LoadOrCreate(path);
      return Fail(written.error());
    }
    return key;
  }
  std::array<std::uint8_t, 64> secret{};
  std::uint8_t extra = 0;
  const ssize_t n = ::read(fd, secret.data(), secret.size());
  const ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != static_cast<ssize_t>(secret.size()) || more != 0) {
    return Corrupt(path.string() + " is not a 64-byte Ed25519 secret key");
  }
  return SigningKey(secret);
}

std::string SigningKey::PublicKeyHex() const {
  std::array<std::uint8_t, 32> public_key{};
  crypto_sign_ed25519_sk_to_pk(public_key.data(), secret_.data());
  return ToHex(public_key);
}

SignedArtifact SigningKey::Sign(std::vector<std::uint8_t> artifact, const ArtifactInfo& info,
                                std::string_view module_sha256) const {
  const std::string statement =
      SignedStatement(Sha256Hex(artifact), module_sha256, info.target, info.toolchain);
  std::array<std::uint8_t, kSignatureBytes> signature{};
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(statement.data()), statement.size(),
                       secret_.data());
  return SignedArtifact{std::string(module_sha256), info.target, info.toolchain, ToHex(signature),
                        std::move(artifact)};
}

std::vector<std::uint8_t> SerializeSignedArtifact(const SignedArtifact& signed_artifact) {
  const std::string header = std::string(kMagic) + "module " + signed_artifact.module_sha256 +
                             "\ntarget " + signed_artifact.target + "\ntoolchain " +
                             signed_artifact.toolchain + "\nsignature " +
                             signed_artifact.signature + "\n\n";
  std::vector<std::uint8_t> bytes(header.begin(), header.end());
  bytes.insert(bytes.end(), signed_artifact.artifact.begin(), signed_artifact.artifact.end());
  return bytes;
}

Result<SignedArtifact> ParseSignedArtifact(std::span<const std::uint8_t> bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()),
                              std::min(bytes.size(), kMaxEnvelopeHeader));
  if (!text.starts_with(kMagic)) return Corrupt("not a signed artifact");
  const auto end = text.find("\n\n");
  if (end == std::string_view::npos) return Corrupt("unterminated signed artifact header");
  std::string_view header = text.substr(kMagic.size(), end + 1 - kMagic.size());
  SignedArtifact parsed;
  for (const auto& [key, field] :
       {std::pair{std::string_view("module "), &parsed.module_sha256},
        std::pair{std::string_view("target "), &parsed.target},
        std::pair{std::string_view("toolchain "), &parsed.toolchain},
        std::pair{std::string_view("signature "), &parsed.signature}}) {
    const auto line_end = header.find('\n');
    if (!header.starts_with(key) || line_end == std::string_view::npos) {
      return Corrupt("signed artifact header lacks " + std::string(key));
    }
    *field = std::string(header.substr(key.size(), line_end - key.size()));
    header.remove_prefix(line_end + 1);
  }
  if (!header.empty()) return Corrupt("unexpected line in a signed artifact header");
  if (!IsHex(parsed.module_sha256, 64) || !IsHex(parsed.signature, 2 * kSignatureBytes)) {
    return Corrupt("malformed module hash or signature");
  }
  parsed.artifact.assign(bytes.begin() + static_cast<std::ptrdiff_t>(end + 2), bytes.end());
  return parsed;
}

bool IsPublicKeyHex(std::string_view text) { return IsHex(text, 64); }

Result<Artifact> VerifySignedArtifact(const SignedArtifact& signed_artifact,
                                      std::string_view public_key_hex,
                                      std::string_view module_sha256, std::string_view target) {
  InitSodium();
  const auto public_key = FromHex(public_key_hex);
  const auto signature = FromHex(signed_artifact.signature);
  if (!public_key || public_key->size() != crypto_sign_PUBLICKEYBYTES) {
    return Refused("no valid public key to verify with");
  }
  if (!signature || signature->size() != kSignatureBytes) return Refused("malformed signature");
  if (signed_artifact.module_sha256 != module_sha256) {
    return Refused("the artifact was signed for module " + signed_artifact.module_sha256);
  }
  if (signed_artifact.target != target) {
    return Refused("the artifact was built for " + signed_artifact.target);
  }
  const std::string statement =
      SignedStatement(Sha256Hex(signed_artifact.artifact), module_sha256, signed_artifact.target,
                      signed_artifact.toolchain);
  if (crypto_sign_verify_detached(signature->data(),
                                  reinterpret_cast<const unsigned char*>(statement.data()),
                                  statement.size(), public_key->data()) != 0) {
    return Refused("bad signature");
  }
  auto parsed = ParseArtifact(signed_artifact.artifact);
  if (!parsed) return Refused(parsed.error().message);
  if (parsed->info.target != signed_artifact.target ||
      parsed->info.toolchain != signed_artifact.toolchain) {
    return Refused("the container disagrees with its signed envelope");
  }
  return std::move(parsed).value();
}

}  // namespace milf::aot
