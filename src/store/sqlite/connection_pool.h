// ReaderPool: read-only connections to one database, handed to one thread
// at a time. In WAL mode readers never block the writer nor each other, so
// reads proceed while the store's single writer connection commits.
//
// Connections are opened lazily, up to `max_connections`; a thread that
// finds them all in use waits for one. Thread-safe. The pool must outlive
// every Lease.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/sqlite/sqlite_db.h"

namespace milf::store::sqlite {

class ReaderPool {
 public:
  ReaderPool(std::string path, std::size_t max_connections);

  // A connection for the holder's exclusive use until the Lease dies.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Db& db() { return *db_; }

   private:
    friend class ReaderPool;
    Lease(ReaderPool& pool, std::unique_ptr<Db> db) : pool_(&pool), db_(std::move(db)) {}
    ReaderPool* pool_;
    std::unique_ptr<Db> db_;
  };

  Result<Lease> Acquire();

 private:
  void Return(std::unique_ptr<Db> db);

  const std::string path_;
  const std::size_t max_connections_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Db>> idle_;
  std::size_t open_ = 0;  // idle plus leased
};

}  // namespace milf::store::sqlite
