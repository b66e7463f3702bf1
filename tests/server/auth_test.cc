#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "server/auth.h"
#include "server/fake_clock.h"
#include "server/temp_dir.h"

namespace milf::server {
namespace {

using testing::FakeClock;
using testing::TempDir;

std::string B64Url(std::string_view text) {
  std::string out(sodium_base64_ENCODED_LEN(text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                    text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::vector<std::uint8_t> Secret(std::uint8_t fill) {
  return std::vector<std::uint8_t>(JwtSigner::kSecretBytes, fill);
}

AccessClaims Claims(std::int64_t expires_at) {
  AccessClaims claims;
  claims.user_id = 7;
  claims.name = "alice";
  claims.role = store::Role::kAdmin;
  claims.issued_at = 1'000;
  claims.expires_at = expires_at;
  return claims;
}

std::vector<std::string> Split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

TEST(JwtTest, SignedTokenVerifiesWithItsClaims) {
  const JwtSigner signer(Secret(1));
  const std::string token = signer.Sign(Claims(2'000));
  EXPECT_EQ(Split(token).size(), 3u);
  auto claims = signer.Verify(token, 1'500);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->user_id, 7);
  EXPECT_EQ(claims->name, "alice");
  EXPECT_EQ(claims->role, store::Role::kAdmin);
  EXPECT_EQ(claims->issued_at, 1'000);
  EXPECT_EQ(claims->expires_at, 2'000);
}

TEST(JwtTest, ExpiredTokenIsRefused) {
  const JwtSigner signer(Secret(1));
  const std::string token = signer.Sign(Claims(2'000));
  auto at_expiry = signer.Verify(token, 2'000);
  ASSERT_FALSE(at_expiry);
  EXPECT_EQ(at_expiry.error().code, "unauthorized");
  EXPECT_NE(at_expiry.error().message.find("expired"), std::string::npos);
  EXPECT_FALSE(signer.Verify(token, 10'000));
}

TEST(JwtTest, WrongSecretIsRefused) {
  const std::string token = JwtSigner(Secret(1)).Sign(Claims(2'000));
  auto verified = JwtSigner(Secret(2)).Verify(token, 1'500);
  ASSERT_FALSE(verified);
  EXPECT_NE(verified.error().message.find("signature"), std::string::npos);
}

TEST(JwtTest, ForgedClaimsAreRefused) {
  const JwtSigner signer(Secret(1));
  const auto parts = Split(signer.Sign(Claims(2'000)));
  // Promote ourselves, keep the original signature.
  const std::string forged_payload =
      B64Url(R"({"sub":"1","name":"admin","role":"admin","iat":1000,"exp":2000})");
  EXPECT_FALSE(signer.Verify(parts[0] + "." + forged_payload + "." + parts[2], 1'500));
  // Flip one signature character.
  std::string signature = parts[2];
  signature[0] = signature[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signer.Verify(parts[0] + "." + parts[1] + "." + signature, 1'500));
}

TEST(JwtTest, AlgNoneIsRefused) {
  const JwtSigner signer(Secret(1));
  const std::string payload =
      B64Url(R"({"sub":"7","name":"alice","role":"admin","iat":1000,"exp":2000})");
  const std::string header = B64Url(R"({"alg":"none","typ":"JWT"})");
  auto unsigned_token = signer.Verify(header + "." + payload + ".", 1'500);
  ASSERT_FALSE(unsigned_token);
  EXPECT_FALSE(signer.Verify(header + "." + payload + "." + B64Url("x"), 1'500));
  // The right signature under a header that names another algorithm.
  const auto parts = Split(signer.Sign(Claims(2'000)));
  const std::string hs512 = B64Url(R"({"alg":"HS512","typ":"JWT"})");
  auto other_alg = signer.Verify(hs512 + "." + parts[1] + "." + parts[2], 1'500);
  ASSERT_FALSE(other_alg);
  EXPECT_NE(other_alg.error().message.find("algorithm"), std::string::npos);
}

TEST(JwtTest, MalformedTokensAreRefused) {
  const JwtSigner signer(Secret(1));
  const std::string good = signer.Sign(Claims(2'000));
  const auto parts = Split(good);
  for (const std::string& token :
       {std::string(), std::string("."), std::string(".."), std::string("abc"),
        parts[0] + "." + parts[1], good + ".", good + "." + parts[2], "!!!." + parts[1] + "." + parts[2],
        parts[0] + ".%%%." + parts[2], std::string(5000, 'a'),
        B64Url("not json") + "." + parts[1] + "." + parts[2]}) {
    auto verified = signer.Verify(token, 1'500);
    EXPECT_FALSE(verified) << token;
    if (!verified) {
      EXPECT_EQ(verified.error().code, "unauthorized");
    }
  }
}

TEST(JwtTest, CorrectlySignedButBadClaimsAreRefused) {
  // Claims signed with the right key but missing or mistyped fields.
  const std::vector<std::uint8_t> key = Secret(3);
  const JwtSigner signer(key);
  const auto sign = [&key](const std::string& payload_json) {
    const std::string input = B64Url(R"({"alg":"HS256","typ":"JWT"})") + "." + B64Url(payload_json);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key.data(), key.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(input.data()),
                                  input.size());
    crypto_auth_hmacsha256_final(&state, mac);
    return input + "." + B64Url(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
  };
  EXPECT_TRUE(signer.Verify(sign(R"({"sub":"7","name":"a","role":"developer","iat":1,"exp":9000})"),
                            1'500));
  EXPECT_FALSE(signer.Verify(sign(R"({"sub":7,"name":"a","role":"developer","iat":1,"exp":9000})"),
                             1'500));
  EXPECT_FALSE(signer.Verify(sign(R"({"sub":"7","name":"a","role":"root","iat":1,"exp":9000})"),
                             1'500));
  EXPECT_FALSE(signer.Verify(sign(R"({"sub":"7","name":"a","role":"admin","iat":1})"), 1'500));
  EXPECT_FALSE(signer.Verify(sign(R"({"sub":"-3","name":"a","role":"admin","iat":1,"exp":9000})"),
                             1'500));
  EXPECT_FALSE(signer.Verify(sign(R"([1,2,3])"), 1'500));
}

TEST(PasswordTest, HashVerifiesOnlyTheSamePassword) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapl", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  // Salted: the same password hashes differently each time.
  auto again = HashPassword("correct horse battery staple");
  ASSERT_TRUE(again);
  EXPECT_NE(*hash, *again);
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *again));
}

TEST(PasswordTest, GarbageHashesNeverVerify) {
  EXPECT_FALSE(VerifyPassword("x", ""));
  EXPECT_FALSE(VerifyPassword("x", "x"));
  EXPECT_FALSE(VerifyPassword("x", "$argon2id$v=19$m=65536,t=2,p=1$garbage"));
}

TEST(CredentialTest, ApiKeysHaveTheDocumentedShapeAndAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string key = NewApiKey();
    EXPECT_EQ(key.size(), 45u);
    EXPECT_TRUE(key.starts_with("milf_"));
    EXPECT_TRUE(LooksLikeApiKey(key)) << key;
    EXPECT_TRUE(seen.insert(key).second);
  }
  EXPECT_FALSE(LooksLikeApiKey("milf_short"));
  EXPECT_FALSE(LooksLikeApiKey("milx_" + std::string(40, 'a')));
  EXPECT_FALSE(LooksLikeApiKey("milf_" + std::string(39, 'a') + "-"));
  EXPECT_FALSE(LooksLikeApiKey("milf_" + std::string(41, 'a')));
}

TEST(CredentialTest, RandomBase62UsesEveryCharacter) {
  const std::string text = RandomBase62(20'000);
  EXPECT_EQ(text.size(), 20'000u);
  const std::set<char> used(text.begin(), text.end());
  EXPECT_EQ(used.size(), 62u);
}

TEST(CredentialTest, CredentialsAreStoredAsSha256Hex) {
  EXPECT_EQ(HashCredential("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(JwtSecretTest, CreatedOncePrivateAndStable) {
  TempDir dir;
  const std::string path = dir.path() + "/jwt.key";
  auto first = LoadOrCreateJwtSecret(path);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->size(), JwtSigner::kSecretBytes);
  struct stat info{};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  auto second = LoadOrCreateJwtSecret(path);
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);

  TempDir other;
  auto different = LoadOrCreateJwtSecret(other.path() + "/jwt.key");
  ASSERT_TRUE(different);
  EXPECT_NE(*first, *different);
}

TEST(JwtSecretTest, CorruptKeyFileIsAnErrorNotReplaced) {
  TempDir dir;
  const std::string path = dir.path() + "/jwt.key";
  std::ofstream(path) << "not hex at all";
  auto loaded = LoadOrCreateJwtSecret(path);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, "io");
  std::string content;
  std::getline(std::ifstream(path), content);
  EXPECT_EQ(content, "not hex at all");
}

TEST(RateLimiterTest, FiveFailuresPerUserAndAddressPerMinute) {
  FakeClock clock;
  LoginRateLimiter limiter(clock);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(limiter.Allowed("alice", "10.0.0.1")) << i;
    limiter.RecordFailure("alice", "10.0.0.1");
    clock.AdvanceMillis(1'000);
  }
  EXPECT_FALSE(limiter.Allowed("alice", "10.0.0.1"));
  // Other users and other addresses are not affected.
  EXPECT_TRUE(limiter.Allowed("bob", "10.0.0.1"));
  EXPECT_TRUE(limiter.Allowed("alice", "10.0.0.2"));
  // The window slides: once the first failure is a minute old, one more try.
  clock.AdvanceMillis(55'000);
  EXPECT_TRUE(limiter.Allowed("alice", "10.0.0.1"));
  limiter.RecordFailure("alice", "10.0.0.1");
  EXPECT_FALSE(limiter.Allowed("alice", "10.0.0.1"));
  clock.AdvanceMillis(61'000);
  EXPECT_TRUE(limiter.Allowed("alice", "10.0.0.1"));
}

TEST(RateLimiterTest, SuccessClearsFailures) {
  FakeClock clock;
  LoginRateLimiter limiter(clock, 3, 60'000);
  limiter.RecordFailure("alice", "a");
  limiter.RecordFailure("alice", "a");
  limiter.RecordSuccess("alice", "a");
  limiter.RecordFailure("alice", "a");
  limiter.RecordFailure("alice", "a");
  EXPECT_TRUE(limiter.Allowed("alice", "a"));
  limiter.RecordFailure("alice", "a");
  EXPECT_FALSE(limiter.Allowed("alice", "a"));
}

TEST(RateLimiterTest, ManyAttackersStayBoundedAndStillLimited) {
  FakeClock clock;
  LoginRateLimiter limiter(clock);
  for (int i = 0; i < 30'000; ++i) {
    limiter.RecordFailure("user" + std::to_string(i), "addr");
    if (i % 10'000 == 9'999) clock.AdvanceMillis(61'000);
  }
  for (int i = 0; i < 5; ++i) limiter.RecordFailure("victim", "addr");
  EXPECT_FALSE(limiter.Allowed("victim", "addr"));
}

}  // namespace
}  // namespace milf::server
