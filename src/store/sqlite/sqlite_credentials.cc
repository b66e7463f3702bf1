// Refresh tokens, API keys, enrollment tokens and nodes.
#include <algorithm>
#include <optional>

#include "store/sqlite/errors.h"
#include "store/sqlite/sqlite_store.h"

namespace milf::store::sqlite {
namespace {

// FindApiKey records use at this resolution, so that authenticating a busy
// client costs a write at most once a second rather than on every request.
constexpr Millis kLastUsedResolutionMs = 1'000;

}  // namespace

Status SqliteStore::AddRefreshToken(const RefreshToken& token) {
  return Write([&](Db& db) -> Status {
    auto insert = db.Prepare(
        "INSERT INTO refresh_tokens (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)");
    if (!insert) return Fail(std::move(insert).error());
    insert->BindText(1, token.token_hash).BindInt(2, token.user_id).BindInt(3, token.expires_at);
    if (auto ran = insert->Run(); !ran) {
      return Fail(Explain(std::move(ran).error(), "not_found", "user not found"));
    }
    return {};
  });
}

Result<RefreshToken> SqliteStore::TakeRefreshToken(const std::string& token_hash, Millis now) {
  // An expired token is taken (deleted) too; the transaction must commit
  // for that, so expiry is judged after it.
  auto taken = Write([&](Db& db) -> Result<std::optional<RefreshToken>> {
    // Deleting with RETURNING hands the row to exactly one caller.
    auto take = db.Prepare(
        "DELETE FROM refresh_tokens WHERE token_hash = ?1 RETURNING user_id, expires_at");
    if (!take) return Fail(std::move(take).error());
    take->BindText(1, token_hash);
    auto row = take->Step();
    if (!row) return Fail(std::move(row).error());
    if (!*row) return std::optional<RefreshToken>();
    const RefreshToken token{token_hash, take->Int(0), take->Int(1)};
    if (auto rest = take->Run(); !rest) return Fail(std::move(rest).error());
    // The user's other expired tokens go too, so abandoned sessions do not
    // pile up.
    auto purge = db.Prepare("DELETE FROM refresh_tokens WHERE user_id = ?1 AND expires_at <= ?2");
    if (!purge) return Fail(std::move(purge).error());
    if (auto ran = purge->BindInt(1, token.user_id).BindInt(2, now).Run(); !ran) {
      return Fail(std::move(ran).error());
    }
    return std::optional<RefreshToken>(token);
  });
  if (!taken) return Fail(std::move(taken).error());
  if (!*taken) return Fail("not_found", "refresh token not found");
  if ((*taken)->expires_at <= now) return Fail("not_found", "refresh token expired");
  return std::move(**taken);
}

Result<ApiKey> SqliteStore::AddApiKey(const ApiKey& key) {
  return Write([&](Db& db) -> Result<ApiKey> {
    auto insert = db.Prepare(
        "INSERT INTO api_keys (user_id, name, prefix, key_hash, created_at, last_used_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id");
    if (!insert) return Fail(std::move(insert).error());
    insert->BindInt(1, key.user_id)
        .BindText(2, key.name)
        .BindText(3, key.prefix)
        .BindText(4, key.key_hash)
        .BindInt(5, key.created_at)
        .BindOptInt(6, key.last_used_at);
    auto row = insert->Step();
    if (!row) {
      Error error = Explain(std::move(row).error(), "not_found", "user not found");
      return Fail(Explain(std::move(error), "conflict", "an API key with this hash exists"));
    }
    ApiKey added = key;
    added.id = insert->Int(0);
    return added;
  });
}

Result<ApiKey> SqliteStore::FindApiKey(const std::string& key_hash, Millis now) {
  auto found = Read([&](Db& db) -> Result<ApiKey> {
    static const std::string kSql =
        "SELECT " + std::string(kApiKeyColumns) + " FROM api_keys WHERE key_hash = ?1";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindText(1, key_hash);
    return ReadOne<ApiKey>(*query, ReadApiKey, "API key");
  });
  if (!found) return found;
  ApiKey key = std::move(*found);
  if (key.last_used_at && now - *key.last_used_at < kLastUsedResolutionMs) return key;
  auto touched = Write([&](Db& db) -> Status {
    auto touch = db.Prepare(
        "UPDATE api_keys SET last_used_at = ?2 "
        "WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)");
    if (!touch) return Fail(std::move(touch).error());
    return touch->BindInt(1, key.id).BindInt(2, now).Run();
  });
  if (!touched) return Fail(std::move(touched).error());
  key.last_used_at = key.last_used_at ? std::max(*key.last_used_at, now) : now;
  return key;
}

Result<std::vector<ApiKey>> SqliteStore::ListApiKeys(std::int64_t user_id) {
  return Read([&](Db& db) -> Result<std::vector<ApiKey>> {
    static const std::string kSql =
        "SELECT " + std::string(kApiKeyColumns) + " FROM api_keys WHERE user_id = ?1 ORDER BY id";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, user_id);
    return ReadAll<ApiKey>(*query, ReadApiKey);
  });
}

Status SqliteStore::RevokeApiKey(std::int64_t user_id, std::int64_t key_id) {
  return Write([&](Db& db) -> Status {
    auto remove = db.Prepare("DELETE FROM api_keys WHERE id = ?1 AND user_id = ?2");
    if (!remove) return Fail(std::move(remove).error());
    if (auto ran = remove->BindInt(1, key_id).BindInt(2, user_id).Run(); !ran) return ran;
    return NotFoundUnlessChanged(db, "API key");
  });
}

Status SqliteStore::AddEnrollmentToken(const EnrollmentToken& token) {
  return Write([&](Db& db) -> Status {
    auto insert = db.Prepare(
        "INSERT INTO enrollment_tokens (token_hash, created_by, expires_at, used_by_node) "
        "VALUES (?1, ?2, ?3, ?4)");
    if (!insert) return Fail(std::move(insert).error());
    insert->BindText(1, token.token_hash)
        .BindInt(2, token.created_by)
        .BindInt(3, token.expires_at)
        .BindOptText(4, token.used_by_node);
    if (auto ran = insert->Run(); !ran) {
      Error error = Explain(std::move(ran).error(), "not_found", "user not found");
      return Fail(Explain(std::move(error), "conflict", "the enrollment token exists"));
    }
    return {};
  });
}

Status SqliteStore::UseEnrollmentToken(const std::string& token_hash, const std::string& node_id,
                                       Millis now) {
  if (node_id.empty()) return Fail("invalid_argument", "the node id is empty");
  // One conditional update decides it: the token must be live and either
  // unused or already used by this very node (a repeated enrollment).
  return Write([&](Db& db) -> Status {
    auto use = db.Prepare(
        "UPDATE enrollment_tokens SET used_by_node = ?2 WHERE token_hash = ?1 "
        "AND expires_at > ?3 AND (used_by_node IS NULL OR used_by_node = ?2)");
    if (!use) return Fail(std::move(use).error());
    if (auto ran = use->BindText(1, token_hash).BindText(2, node_id).BindInt(3, now).Run(); !ran) {
      return ran;
    }
    return NotFoundUnlessChanged(db, "enrollment token");
  });
}

Status SqliteStore::UpsertNode(const Node& node) {
  if (node.id.empty()) return Fail("invalid_argument", "the node id is empty");
  return Write([&](Db& db) -> Status {
    auto upsert = db.Prepare(
        "INSERT INTO nodes (id, name, secret_hash, target, created_at, last_seen_at, "
        "telemetry_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET "
        "name = excluded.name, secret_hash = excluded.secret_hash, target = excluded.target, "
        "last_seen_at = excluded.last_seen_at, telemetry_json = excluded.telemetry_json");
    if (!upsert) return Fail(std::move(upsert).error());
    return upsert->BindText(1, node.id)
        .BindText(2, node.name)
        .BindText(3, node.secret_hash)
        .BindText(4, node.target)
        .BindInt(5, node.created_at)
        .BindInt(6, node.last_seen_at)
        .BindText(7, node.telemetry_json)
        .Run();
  });
}

Result<Node> SqliteStore::FindNode(const std::string& node_id) {
  return Read([&](Db& db) -> Result<Node> {
    static const std::string kSql =
        "SELECT " + std::string(kNodeColumns) + " FROM nodes WHERE id = ?1";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindText(1, node_id);
    return ReadOne<Node>(*query, ReadNode, "node");
  });
}

Result<std::vector<Node>> SqliteStore::ListNodes() {
  return Read([&](Db& db) -> Result<std::vector<Node>> {
    static const std::string kSql =
        "SELECT " + std::string(kNodeColumns) + " FROM nodes ORDER BY created_at, id";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    return ReadAll<Node>(*query, ReadNode);
  });
}

Status SqliteStore::TouchNode(const std::string& node_id, Millis now,
                              const std::string& telemetry_json) {
  return Write([&](Db& db) -> Status {
    auto touch =
        db.Prepare("UPDATE nodes SET last_seen_at = ?2, telemetry_json = ?3 WHERE id = ?1");
    if (!touch) return Fail(std::move(touch).error());
    if (auto ran = touch->BindText(1, node_id).BindInt(2, now).BindText(3, telemetry_json).Run();
        !ran) {
      return ran;
    }
    return NotFoundUnlessChanged(db, "node");
  });
}

}  // namespace milf::store::sqlite
