// Credentials: how people, programs and devices prove who they are.
//
//  - Passwords are kept as Argon2id hashes (libsodium's encoded form, with
//    its "interactive" limits: about 0.1 s and 64 MiB per hash).
//  - Logins get a short-lived access token, a JWT signed with HS256 under a
//    32-byte secret that the server generates on first start and keeps in
//    its data directory, and a single-use refresh token.
//  - API keys ("milf_" + 40 base62 characters), refresh tokens, enrollment
//    tokens and node secrets are random, shown once, and stored only as
//    their SHA-256 (HashCredential): a leaked database grants nothing.
//
// Errors: Error::code "unauthorized" for credentials that do not hold,
// "internal" when the store or the system failed, "io" for key files.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "server/http.h"
#include "store/store.h"

namespace milf::server {

// Argon2id. HashPassword fails only when the system cannot provide the
// memory the hash needs.
Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(std::string_view password, const std::string& encoded_hash);

// `length` characters from [0-9A-Za-z], uniformly, from the system CSPRNG.
std::string RandomBase62(std::size_t length);

inline constexpr std::string_view kApiKeyPrefix = "milf_";
inline constexpr std::size_t kApiKeyRandomChars = 40;
std::string NewApiKey();
// True for strings shaped like an API key (not whether the key exists).
bool LooksLikeApiKey(std::string_view token);
// A random secret for refresh tokens, enrollment tokens and node secrets.
std::string NewSecret();
// The stored form of every random credential: SHA-256, lowercase hex.
std::string HashCredential(std::string_view credential);
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// What an access token says about its bearer. Times are Unix seconds.
struct AccessClaims {
  std::int64_t user_id = 0;
  std::string name;
  store::Role role = store::Role::kDeveloper;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
};

// HS256 JSON Web Tokens. Verify accepts exactly what Sign produces: alg
// HS256 (never "none" or another algorithm), a valid signature under this
// secret (compared in constant time), well-formed claims, exp in the future.
// Immutable after construction; safe for concurrent use.
class JwtSigner {
 public:
  static constexpr std::size_t kSecretBytes = 32;
  explicit JwtSigner(std::vector<std::uint8_t> secret);

  std::string Sign(const AccessClaims& claims) const;
  Result<AccessClaims> Verify(std::string_view token, std::int64_t now_seconds) const;

 private:
  std::vector<std::uint8_t> secret_;
};

// Reads the JWT secret from `path`, or creates it (kSecretBytes random
// bytes, hex, mode 0600) when the file does not exist yet.
Result<std::vector<std::uint8_t>> LoadOrCreateJwtSecret(const std::string& path);

// Writes `content` to `path`, replacing it, readable by the owner only.
Status WritePrivateFile(const std::string& path, std::string_view content);

// Refuses a login once `max_failures` attempts for the same user from the
// same address have failed within `window_ms`; the window slides, so the
// caller may try again once the oldest failure in it has aged out. Memory
// is bounded: keys whose failures all aged out are forgotten.
// Thread-safe.
class LoginRateLimiter {
 public:
  explicit LoginRateLimiter(const Clock& clock, int max_failures = 5,
                            std::int64_t window_ms = 60'000);

  bool Allowed(const std::string& user, const std::string& address);
  void RecordFailure(const std::string& user, const std::string& address);
  // A successful login clears the failures of that user at that address.
  void RecordSuccess(const std::string& user, const std::string& address);

 private:
  using Failures = std::deque<std::int64_t>;  // monotonic nanos, oldest first
  void Expire(Failures& failures, std::int64_t now) const;
  void ForgetIdle(std::int64_t now);

  const Clock& clock_;
  const int max_failures_;
  const std::int64_t window_nanos_;
  std::mutex mutex_;
  std::map<std::string, Failures> failures_;
};

// Turns an Authorization header into a caller. Users present
// "Bearer <access JWT or API key>"; nodes present "Node <id>:<secret>".
// The user behind a token is looked up on every request, so a deleted
// user's tokens stop working at once and role changes apply at once. An
// access token's signature is checked once: the claims of the tokens seen
// recently are kept (a token's signature and claims never change), and
// their expiry is checked on every use.
// Thread-safe (the store is).
class Authenticator {
 public:
  Authenticator(store::Store& store, const JwtSigner& signer, const Clock& clock);

  // `allow_query_token` also accepts ?access_token= (for EventSource, which
  // cannot set headers).
  Result<Principal> AuthenticateUser(const HttpRequest& request, bool allow_query_token) const;
  // The node id on success.
  Result<std::string> AuthenticateNode(const HttpRequest& request) const;

 private:
  Result<Principal> FromToken(const std::string& token) const;
  Result<Principal> FromUserId(std::int64_t user_id) const;
  Result<AccessClaims> VerifyAccessToken(const std::string& token) const;

  // Bounds the verified tokens kept; past it they are all forgotten.
  static constexpr std::size_t kVerifiedTokens = 4'096;

  store::Store& store_;
  const JwtSigner& signer_;
  const Clock& clock_;
  mutable std::mutex verified_mutex_;
  mutable std::unordered_map<std::string, AccessClaims> verified_;  // token -> claims
};

}  // namespace milf::server
