#include "store/sqlite/sqlite_store.h"

#include "store/sqlite/errors.h"
#include "store/sqlite/migrations.h"

namespace milf::store::sqlite {

SqliteStore::SqliteStore(std::unique_ptr<Db> writer, const std::string& path,
                         const SqliteStoreOptions& options)
    : writer_(std::move(writer)),
      committer_(*writer_, options.max_writes_per_commit),
      readers_(path, options.max_readers) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const SqliteStoreOptions& options) {
  if (path.empty()) return Fail("invalid_argument", "the store path is empty");
  auto writer = Db::Open(path, Access::kReadWrite);
  if (!writer) return Fail(std::move(writer).error());
  if (auto migrated = ApplyMigrations(**writer, StoreMigrations()); !migrated) {
    return Fail(std::move(migrated).error());
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*writer), path, options));
  auto checkpointer = Checkpointer::Start(path, *store->writer_, options.checkpoints);
  if (!checkpointer) return Fail(std::move(checkpointer).error());
  store->checkpointer_ = std::move(*checkpointer);
  // Open one reader now so that a database readers cannot use fails here
  // rather than on the first read.
  if (auto reader = store->readers_.Acquire(); !reader) return Fail(std::move(reader).error());
  return store;
}

Result<User> SqliteStore::CreateUser(const std::string& name, Role role,
                                     const std::string& password_hash, Millis now) {
  if (name.empty()) return Fail("invalid_argument", "the user name is empty");
  return Write([&](Db& db) -> Result<User> {
    auto insert = db.Prepare(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4) "
        "RETURNING id");
    if (!insert) return Fail(std::move(insert).error());
    insert->BindText(1, name).BindText(2, RoleName(role)).BindText(3, password_hash).BindInt(4, now);
    auto row = insert->Step();
    if (!row) {
      return Fail(Explain(std::move(row).error(), "conflict", "user '" + name + "' already exists"));
    }
    return User{insert->Int(0), name, role, password_hash, now};
  });
}

Result<User> SqliteStore::FindUserByName(const std::string& name) {
  return Read([&](Db& db) -> Result<User> {
    static const std::string kSql =
        "SELECT " + std::string(kUserColumns) + " FROM users WHERE name = ?1";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindText(1, name);
    return ReadOne<User>(*query, ReadUser, "user");
  });
}

Result<User> SqliteStore::FindUserById(std::int64_t id) {
  return Read([&](Db& db) -> Result<User> {
    static const std::string kSql =
        "SELECT " + std::string(kUserColumns) + " FROM users WHERE id = ?1";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, id);
    return ReadOne<User>(*query, ReadUser, "user");
  });
}

Result<std::vector<User>> SqliteStore::ListUsers() {
  return Read([&](Db& db) -> Result<std::vector<User>> {
    static const std::string kSql =
        "SELECT " + std::string(kUserColumns) + " FROM users ORDER BY id";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    return ReadAll<User>(*query, ReadUser);
  });
}

Status SqliteStore::UpdatePassword(std::int64_t user_id, const std::string& password_hash) {
  return Write([&](Db& db) -> Status {
    auto update = db.Prepare("UPDATE users SET password_hash = ?2 WHERE id = ?1");
    if (!update) return Fail(std::move(update).error());
    if (auto ran = update->BindInt(1, user_id).BindText(2, password_hash).Run(); !ran) return ran;
    if (auto changed = NotFoundUnlessChanged(db, "user"); !changed) return changed;
    auto revoke = db.Prepare("DELETE FROM refresh_tokens WHERE user_id = ?1");
    if (!revoke) return Fail(std::move(revoke).error());
    return revoke->BindInt(1, user_id).Run();
  });
}

Status SqliteStore::DeleteUser(std::int64_t user_id) {
  // The foreign keys cascade to everything the user owns: credentials,
  // quota, usage, functions and with them versions, schedules, invocations
  // and their events.
  return Write([&](Db& db) -> Status {
    auto remove = db.Prepare("DELETE FROM users WHERE id = ?1");
    if (!remove) return Fail(std::move(remove).error());
    if (auto ran = remove->BindInt(1, user_id).Run(); !ran) return ran;
    return NotFoundUnlessChanged(db, "user");
  });
}

Result<Quota> SqliteStore::GetQuota(std::int64_t user_id) {
  return Read([&](Db& db) -> Result<Quota> {
    auto query = db.Prepare(
        "SELECT q.user_id IS NOT NULL, q.max_concurrent, q.max_per_day, q.max_memory_mb "
        "FROM users u LEFT JOIN quotas q ON q.user_id = u.id WHERE u.id = ?1");
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, user_id);
    return ReadOne<Quota>(
        *query,
        [](const Query& row) {
          if (row.Int(0) == 0) return Quota{};
          return Quota{row.Int(1), row.Int(2), row.Int(3)};
        },
        "user");
  });
}

Status SqliteStore::SetQuota(std::int64_t user_id, const Quota& quota) {
  if (quota.max_concurrent <= 0 || quota.max_per_day <= 0 || quota.max_memory_mb <= 0) {
    return Fail("invalid_argument", "quota limits must be positive");
  }
  return Write([&](Db& db) -> Status {
    auto upsert = db.Prepare(
        "INSERT INTO quotas (user_id, max_concurrent, max_per_day, max_memory_mb) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id) DO UPDATE SET "
        "max_concurrent = excluded.max_concurrent, max_per_day = excluded.max_per_day, "
        "max_memory_mb = excluded.max_memory_mb");
    if (!upsert) return Fail(std::move(upsert).error());
    upsert->BindInt(1, user_id)
        .BindInt(2, quota.max_concurrent)
        .BindInt(3, quota.max_per_day)
        .BindInt(4, quota.max_memory_mb);
    if (auto ran = upsert->Run(); !ran) {
      return Fail(Explain(std::move(ran).error(), "not_found", "user not found"));
    }
    return {};
  });
}

}  // namespace milf::store::sqlite

namespace milf::store {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  auto store = sqlite::SqliteStore::Open(path, sqlite::SqliteStoreOptions{});
  if (!store) return Fail(std::move(store).error());
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace milf::store
