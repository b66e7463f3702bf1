// The source files versions were compiled from (migration 3).
#include "store/sqlite/errors.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"

namespace milf::store::sqlite {

Status SqliteStore::PutFunctionSource(std::int64_t function_id, std::int64_t version,
                                      const FunctionSource& source) {
  return Write([&](Db& db) -> Status {
    auto insert = db.Prepare(
        "INSERT INTO function_sources (function_id, version, filename, text) "
        "VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (function_id, version) DO UPDATE SET filename = ?3, text = ?4");
    if (!insert) return Fail(std::move(insert).error());
    auto ran = insert->BindInt(1, function_id)
                   .BindInt(2, version)
                   .BindText(3, source.filename)
                   .BindText(4, source.text)
                   .Run();
    if (!ran)
      return Fail(Explain(std::move(ran).error(), "not_found", "function version not found"));
    return {};
  });
}

Result<FunctionSource> SqliteStore::GetFunctionSource(std::int64_t function_id,
                                                      std::int64_t version) {
  return Read([&](Db& db) -> Result<FunctionSource> {
    auto query = db.Prepare(
        "SELECT filename, text FROM function_sources WHERE function_id = ?1 AND version = ?2");
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, function_id).BindInt(2, version);
    return ReadOne<FunctionSource>(
        *query,
        [](Query& row) {
          return FunctionSource{row.Text(0), row.Text(1)};
        },
        "function source");
  });
}

}  // namespace milf::store::sqlite
