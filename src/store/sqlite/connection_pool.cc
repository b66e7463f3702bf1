#include "store/sqlite/connection_pool.h"

#include <utility>

namespace milf::store::sqlite {

ReaderPool::ReaderPool(std::string path, std::size_t max_connections)
    : path_(std::move(path)), max_connections_(max_connections == 0 ? 1 : max_connections) {}

ReaderPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), db_(std::move(other.db_)) {}

ReaderPool::Lease::~Lease() {
  if (pool_ != nullptr && db_ != nullptr) pool_->Return(std::move(db_));
}

Result<ReaderPool::Lease> ReaderPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    returned_.wait(lock, [&] { return !idle_.empty() || open_ < max_connections_; });
    if (!idle_.empty()) {
      std::unique_ptr<Db> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(db));
    }
    ++open_;  // reserve the slot, then open without holding the lock
  }
  auto db = Db::Open(path_, Access::kReadOnly);
  if (!db) {
    std::lock_guard lock(mu_);
    --open_;
    returned_.notify_one();
    return Fail(std::move(db).error());
  }
  return Lease(*this, std::move(*db));
}

void ReaderPool::Return(std::unique_ptr<Db> db) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(db));
  }
  returned_.notify_one();
}

}  // namespace milf::store::sqlite
