// Small helpers the SQLite store's files share for turning database
// outcomes into the Store's errors.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "store/sqlite/sqlite_db.h"

namespace milf::store::sqlite {

// `error` with a clearer message when it has the expected code; SQLite's
// own ("FOREIGN KEY constraint failed") names no row.
inline Error Explain(Error error, std::string_view code, std::string message) {
  if (error.code == code) error.message = std::move(message);
  return error;
}

// "not_found" for `what` when the last statement on `db` changed no row.
inline Status NotFoundUnlessChanged(const Db& db, std::string what) {
  if (db.Changes() == 0) return Fail("not_found", std::move(what) + " not found");
  return {};
}

}  // namespace milf::store::sqlite
