#include "server/auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>

#include <boost/json.hpp>

#include "base/sha256.h"

namespace milf::server {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::size_t kSecretChars = 40;
constexpr std::size_t kMaxTokenChars = 4096;
constexpr std::size_t kRememberedKeys = 10'000;

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::string Base64UrlEncode(const std::uint8_t* data, std::size_t size) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(size, kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, kVariant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string Base64UrlEncode(std::string_view text) {
  return Base64UrlEncode(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string out(text.size(), '\0');
  std::size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

std::array<std::uint8_t, 32> HmacSha256(const std::vector<std::uint8_t>& key,
                                        std::string_view data) {
  std::array<std::uint8_t, 32> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
  return mac;
}

std::string RoleText(store::Role role) {
  return role == store::Role::kAdmin ? "admin" : "developer";
}

std::optional<store::Role> RoleFromText(std::string_view text) {
  if (text == "admin") return store::Role::kAdmin;
  if (text == "developer") return store::Role::kDeveloper;
  return std::nullopt;
}

Unexpected<Error> Unauthorized(std::string message) {
  return Fail("unauthorized", std::move(message));
}

std::optional<boost::json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::optional<std::int64_t> IntField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_int64()) return std::nullopt;
  return value->as_int64();
}

std::optional<std::string> StringField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string(value->as_string());
}

Result<AccessClaims> ParseClaims(const boost::json::object& payload) {
  const auto sub = StringField(payload, "sub");
  const auto name = StringField(payload, "name");
  const auto role_text = StringField(payload, "role");
  const auto iat = IntField(payload, "iat");
  const auto exp = IntField(payload, "exp");
  if (!sub || !name || !role_text || !iat || !exp) return Unauthorized("token: missing claims");
  AccessClaims claims;
  const auto [end, ec] = std::from_chars(sub->data(), sub->data() + sub->size(), claims.user_id);
  if (ec != std::errc() || end != sub->data() + sub->size() || claims.user_id <= 0) {
    return Unauthorized("token: bad subject");
  }
  const auto role = RoleFromText(*role_text);
  if (!role) return Unauthorized("token: bad role");
  claims.name = *name;
  claims.role = *role;
  claims.issued_at = *iat;
  claims.expires_at = *exp;
  return claims;
}

std::int64_t NowMillis(const Clock& clock) { return clock.RealtimeNanos() / 1'000'000; }

std::optional<std::string> BearerToken(const std::string& header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  }
  std::string token = header.substr(kScheme.size());
  const auto first = token.find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;
  return token.substr(first);
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (!SodiumReady()) return Fail("internal", "libsodium failed to initialise");
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(encoded, password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Fail("internal", "password hashing ran out of memory");
  }
  return std::string(encoded);
}

bool VerifyPassword(std::string_view password, const std::string& encoded_hash) {
  if (!SodiumReady() || encoded_hash.empty()) return false;
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

std::string RandomBase62(std::size_t length) {
  SodiumReady();
  std::string out;
  out.reserve(length);
  // 248 = 4 * 62: bytes at or above it are redrawn so every character is
  // equally likely.
  while (out.size() < length) {
    std::array<std::uint8_t, 64> bytes;
    randombytes_buf(bytes.data(), bytes.size());
    for (const std::uint8_t byte : bytes) {
      if (byte >= 248 || out.size() == length) continue;
      out.push_back(kBase62[byte % 62]);
    }
  }
  return out;
}

std::string NewApiKey() { return std::string(kApiKeyPrefix) + RandomBase62(kApiKeyRandomChars); }

bool LooksLikeApiKey(std::string_view token) {
  if (token.size() != kApiKeyPrefix.size() + kApiKeyRandomChars) return false;
  if (!token.starts_with(kApiKeyPrefix)) return false;
  return std::all_of(token.begin() + kApiKeyPrefix.size(), token.end(), [](char c) {
    return kBase62.find(c) != std::string_view::npos;
  });
}

std::string NewSecret() { return RandomBase62(kSecretChars); }

std::string HashCredential(std::string_view credential) {
  return ToHex(Sha256(credential));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

JwtSigner::JwtSigner(std::vector<std::uint8_t> secret) : secret_(std::move(secret)) {}

std::string JwtSigner::Sign(const AccessClaims& claims) const {
  const std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  const boost::json::object payload{{"sub", std::to_string(claims.user_id)},
                                    {"name", claims.name},
                                    {"role", RoleText(claims.role)},
                                    {"iat", claims.issued_at},
                                    {"exp", claims.expires_at}};
  std::string signing_input = header + "." + Base64UrlEncode(boost::json::serialize(payload));
  const auto mac = HmacSha256(secret_, signing_input);
  return signing_input + "." + Base64UrlEncode(mac.data(), mac.size());
}

Result<AccessClaims> JwtSigner::Verify(std::string_view token, std::int64_t now_seconds) const {
  if (token.size() > kMaxTokenChars) return Unauthorized("token: too long");
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return Unauthorized("token: malformed");
  }
  const auto header_text = Base64UrlDecode(token.substr(0, first_dot));
  const auto payload_text = Base64UrlDecode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  const auto signature = Base64UrlDecode(token.substr(second_dot + 1));
  if (!header_text || !payload_text || !signature) return Unauthorized("token: malformed");

  const auto header = ParseObject(*header_text);
  if (!header) return Unauthorized("token: malformed header");
  if (StringField(*header, "alg") != "HS256") return Unauthorized("token: unsupported algorithm");
  if (header->contains("typ") && StringField(*header, "typ") != "JWT") {
    return Unauthorized("token: unsupported type");
  }
  const auto expected = HmacSha256(secret_, token.substr(0, second_dot));
  if (!ConstantTimeEquals(*signature, std::string_view(reinterpret_cast<const char*>(
                                                           expected.data()),
                                                       expected.size()))) {
    return Unauthorized("token: bad signature");
  }
  const auto payload = ParseObject(*payload_text);
  if (!payload) return Unauthorized("token: malformed claims");
  auto claims = ParseClaims(*payload);
  if (!claims) return claims;
  if (claims->expires_at <= now_seconds) return Unauthorized("token: expired");
  return claims;
}

Result<std::vector<std::uint8_t>> LoadOrCreateJwtSecret(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    // Only a missing file is created: an unreadable one is an error, not a
    // reason to replace the key and log everyone out.
    struct stat info{};
    if (::stat(path.c_str(), &info) == 0 || errno != ENOENT) {
      return Fail("io", path + ": cannot read the JWT secret");
    }
    std::vector<std::uint8_t> secret(JwtSigner::kSecretBytes);
    if (!SodiumReady()) return Fail("internal", "libsodium failed to initialise");
    randombytes_buf(secret.data(), secret.size());
    if (auto written = WritePrivateFile(path, ToHex(secret) + "\n"); !written) {
      return Fail(written.error());
    }
    return secret;
  }
  std::string hex;
  in >> hex;
  std::vector<std::uint8_t> secret(JwtSigner::kSecretBytes);
  std::size_t size = 0;
  if (hex.size() != 2 * JwtSigner::kSecretBytes ||
      sodium_hex2bin(secret.data(), secret.size(), hex.data(), hex.size(), nullptr, &size,
                     nullptr) != 0 ||
      size != secret.size()) {
    return Fail("io", path + ": not a JWT secret (expected 64 hex digits)");
  }
  return secret;
}

Status WritePrivateFile(const std::string& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail("io", path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, 0600) == 0;
  std::size_t written = 0;
  while (ok && written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) return Fail("io", path + ": " + std::strerror(saved_errno));
  return {};
}

LoginRateLimiter::LoginRateLimiter(const Clock& clock, int max_failures, std::int64_t window_ms)
    : clock_(clock), max_failures_(max_failures), window_nanos_(window_ms * 1'000'000) {}

void LoginRateLimiter::Expire(Failures& failures, std::int64_t now) const {
  while (!failures.empty() && now - failures.front() >= window_nanos_) failures.pop_front();
}

void LoginRateLimiter::ForgetIdle(std::int64_t now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    Expire(it->second, now);
    it = it->second.empty() ? failures_.erase(it) : std::next(it);
  }
}

bool LoginRateLimiter::Allowed(const std::string& user, const std::string& address) {
  const std::lock_guard lock(mutex_);
  const auto it = failures_.find(user + '\n' + address);
  if (it == failures_.end()) return true;
  Expire(it->second, clock_.MonotonicNanos());
  return static_cast<int>(it->second.size()) < max_failures_;
}

void LoginRateLimiter::RecordFailure(const std::string& user, const std::string& address) {
  const std::lock_guard lock(mutex_);
  const std::int64_t now = clock_.MonotonicNanos();
  if (failures_.size() >= kRememberedKeys) ForgetIdle(now);
  Failures& failures = failures_[user + '\n' + address];
  Expire(failures, now);
  failures.push_back(now);
  while (static_cast<int>(failures.size()) > max_failures_) failures.pop_front();
}

void LoginRateLimiter::RecordSuccess(const std::string& user, const std::string& address) {
  const std::lock_guard lock(mutex_);
  failures_.erase(user + '\n' + address);
}

Authenticator::Authenticator(store::Store& store, const JwtSigner& signer, const Clock& clock)
    : store_(store), signer_(signer), clock_(clock) {}

Result<Principal> Authenticator::AuthenticateUser(const HttpRequest& request,
                                                  bool allow_query_token) const {
  if (const auto header = request.Header("authorization")) {
    const auto token = BearerToken(*header);
    if (!token) return Unauthorized("expected 'Authorization: Bearer <token>'");
    return FromToken(*token);
  }
  if (allow_query_token) {
    if (const auto token = request.Query("access_token")) return FromToken(*token);
  }
  return Unauthorized("missing credentials: log in or set an API key");
}

Result<Principal> Authenticator::FromToken(const std::string& token) const {
  if (LooksLikeApiKey(token)) {
    auto key = store_.FindApiKey(HashCredential(token), NowMillis(clock_));
    if (!key) {
      if (key.error().code == "not_found") return Unauthorized("unknown API key");
      return Fail("internal", key.error().message);
    }
    return FromUserId(key->user_id);
  }
  auto claims = VerifyAccessToken(token);
  if (!claims) return Fail(claims.error());
  return FromUserId(claims->user_id);
}

Result<AccessClaims> Authenticator::VerifyAccessToken(const std::string& token) const {
  const std::int64_t now_seconds = clock_.RealtimeNanos() / 1'000'000'000;
  {
    std::lock_guard lock(verified_mutex_);
    if (auto it = verified_.find(token); it != verified_.end()) {
      if (it->second.expires_at > now_seconds) return it->second;
      verified_.erase(it);  // expired: Verify says so below
    }
  }
  auto claims = signer_.Verify(token, now_seconds);
  if (!claims) return claims;
  std::lock_guard lock(verified_mutex_);
  if (verified_.size() >= kVerifiedTokens) verified_.clear();
  verified_.emplace(token, *claims);
  return claims;
}

Result<Principal> Authenticator::FromUserId(std::int64_t user_id) const {
  auto user = store_.FindUserById(user_id);
  if (!user) {
    if (user.error().code == "not_found") return Unauthorized("the user no longer exists");
    return Fail("internal", user.error().message);
  }
  return Principal{user->id, user->name, user->role};
}

Result<std::string> Authenticator::AuthenticateNode(const HttpRequest& request) const {
  constexpr std::string_view kScheme = "Node ";
  const auto header = request.Header("authorization");
  if (!header || !header->starts_with(kScheme)) {
    return Unauthorized("expected 'Authorization: Node <node_id>:<secret>'");
  }
  const std::string credential = header->substr(kScheme.size());
  const std::size_t colon = credential.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == credential.size()) {
    return Unauthorized("expected 'Authorization: Node <node_id>:<secret>'");
  }
  const std::string node_id = credential.substr(0, colon);
  auto node = store_.FindNode(node_id);
  if (!node) {
    if (node.error().code == "not_found") return Unauthorized("unknown node or wrong secret");
    return Fail("internal", node.error().message);
  }
  if (!ConstantTimeEquals(HashCredential(credential.substr(colon + 1)), node->secret_hash)) {
    return Unauthorized("unknown node or wrong secret");
  }
  return node_id;
}

}  // namespace milf::server
