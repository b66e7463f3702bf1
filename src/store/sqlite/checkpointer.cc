#include "store/sqlite/checkpointer.h"

#include <algorithm>

namespace milf::store::sqlite {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path, Db& writer,
                                                          CheckpointLimits limits) {
  auto db = Db::Open(path, Access::kReadWrite);
  if (!db) return Fail(std::move(db).error());
  std::unique_ptr<Checkpointer> checkpointer(new Checkpointer(std::move(*db), writer, limits));
  writer.SetWalHook(
      [raw = checkpointer.get()](Db& db, int frames) { raw->OnCommit(db, frames); });
  return checkpointer;
}

Checkpointer::Checkpointer(std::unique_ptr<Db> db, Db& writer, CheckpointLimits limits)
    : db_(std::move(db)), writer_(&writer), limits_(limits), thread_([this] { Loop(); }) {}

Checkpointer::~Checkpointer() {
  Detach();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Checkpointer::Detach() {
  if (writer_ == nullptr) return;
  writer_->SetWalHook(nullptr);
  writer_ = nullptr;
}

void Checkpointer::OnCommit(Db& writer, int wal_frames) {
  if (wal_frames >= limits_.hard_limit_frames) {
    // Best effort: a failed checkpoint loses nothing, the WAL just stays
    // and the next commit tries again.
    Result<int> backfilled = 0;
    {
      std::lock_guard checkpointing(checkpoint_mu_);
      backfilled = writer.Checkpoint(Db::CheckpointMode::kRestart);
    }
    std::lock_guard lock(mu_);
    if (backfilled) backfilled_ = *backfilled;
    return;
  }
  {
    std::lock_guard lock(mu_);
    // A WAL shorter than what was checkpointed has started over.
    if (wal_frames < backfilled_) backfilled_ = 0;
    if (wal_frames - backfilled_ < limits_.background_frames) return;
    wanted_ = true;
  }
  wake_.notify_one();
}

void Checkpointer::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    lock.unlock();
    Result<int> backfilled = 0;
    {
      // Best effort, as above; the next commit past the threshold retries.
      std::lock_guard checkpointing(checkpoint_mu_);
      backfilled = db_->Checkpoint(Db::CheckpointMode::kPassive);
    }
    lock.lock();
    if (backfilled) backfilled_ = std::max(backfilled_, *backfilled);
  }
}

}  // namespace milf::store::sqlite
