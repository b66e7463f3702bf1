#include "store/sqlite/group_commit.h"

#include <algorithm>

namespace milf::store::sqlite {
namespace {

Status Step(Db& db, std::string_view sql) {
  auto statement = db.Prepare(sql);
  if (!statement) return Fail(std::move(statement).error());
  return statement->Run();
}

}  // namespace

GroupCommitter::GroupCommitter(Db& db, std::size_t max_batch)
    : db_(db), max_batch_(std::max<std::size_t>(max_batch, 1)) {}

Status GroupCommitter::Run(const Body& body) {
  Pending write{&body, {}, false};
  std::unique_lock lock(mu_);
  queue_.push_back(&write);
  while (!write.done) {
    if (leading_) {
      finished_.wait(lock);
      continue;
    }
    leading_ = true;
    const std::size_t count = std::min(queue_.size(), max_batch_);
    std::vector<Pending*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
    lock.unlock();
    RunBatch(batch);
    lock.lock();
    for (Pending* pending : batch) pending->done = true;
    leading_ = false;
    // Wakes the batch's writers and, if writes are still queued, one of
    // them to lead the next batch.
    finished_.notify_all();
  }
  return std::move(write.status);
}

std::size_t GroupCommitter::queued() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void GroupCommitter::RunBatch(const std::vector<Pending*>& batch) {
  if (batch.size() == 1) {
    RunAlone(*batch.front());
  } else {
    RunShared(batch);
  }
}

void GroupCommitter::RunAlone(Pending& write) {
  auto tx = Transaction::Begin(db_);
  if (!tx) {
    write.status = Fail(std::move(tx).error());
    return;
  }
  write.status = (*write.body)(db_);
  if (write.status) write.status = tx->Commit();
}

void GroupCommitter::RunShared(const std::vector<Pending*>& batch) {
  auto fail_all = [&](const Error& error) {
    for (Pending* pending : batch) pending->status = Fail(error);
  };
  auto tx = Transaction::Begin(db_);
  if (!tx) return fail_all(tx.error());
  for (Pending* pending : batch) {
    if (auto saved = Step(db_, "SAVEPOINT write"); !saved) return fail_all(saved.error());
    pending->status = (*pending->body)(db_);
    if (!db_.InTransaction()) {
      // SQLite abandoned the whole transaction (disk full, I/O error, ...):
      // the writes that had succeeded in it are gone too.
      Error error = pending->status ? Error{"io", "the write transaction was aborted"}
                                    : pending->status.error();
      return fail_all(error);
    }
    if (!pending->status) {
      if (auto undone = Step(db_, "ROLLBACK TO write"); !undone) return fail_all(undone.error());
    }
    if (auto released = Step(db_, "RELEASE write"); !released) return fail_all(released.error());
  }
  if (auto committed = tx->Commit(); !committed) {
    for (Pending* pending : batch) {
      if (pending->status) pending->status = Fail(committed.error());
    }
  }
}

}  // namespace milf::store::sqlite
