// Checkpointer: keeps WAL checkpoints off the write path.
//
// A checkpoint copies WAL frames back into the database file and syncs it
// (the only fsync with synchronous=NORMAL). SQLite's automatic checkpoint
// runs inside the commit that crosses its threshold, so every writer queued
// behind that commit waits for the disk. Here a commit only signals a
// background thread once `background_frames` more frames have piled up
// since its last pass, and that thread checkpoints on its own connection
// (PASSIVE: it never blocks the writer or readers).
//
// SQLite only starts the WAL over when a write begins with the whole WAL
// checkpointed, which never happens while writes follow each other
// without a pause. So once the WAL passes `hard_limit_frames` the
// committing writer runs a RESTART checkpoint itself: it waits for the
// background pass, copies the little that is left and lets the next write
// start the WAL over. That bounds the WAL at the cost of one short stall
// per hard limit.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "store/sqlite/sqlite_db.h"

namespace milf::store::sqlite {

struct CheckpointLimits {
  int background_frames = 1'000;  // about 4 MiB of WAL: wake the thread
  int hard_limit_frames = 16'000;  // about 64 MiB: the writer checkpoints itself
};

class Checkpointer {
 public:
  // Opens the checkpoint connection and starts the thread, then takes over
  // `writer`'s checkpoints. `writer` must outlive the Checkpointer's use of
  // it: call Detach before destroying it.
  static Result<std::unique_ptr<Checkpointer>> Start(const std::string& path, Db& writer,
                                                     CheckpointLimits limits);
  // Stops the thread (after a last checkpoint). Thread-safe with commits on
  // the writer only until Detach.
  ~Checkpointer();

  // Gives `writer` back its hook-free behaviour; no more calls arrive.
  void Detach();

 private:
  Checkpointer(std::unique_ptr<Db> db, Db& writer, CheckpointLimits limits);
  void OnCommit(Db& writer, int wal_frames);
  void Loop();

  std::unique_ptr<Db> db_;
  Db* writer_;
  const CheckpointLimits limits_;
  // Held for each checkpoint: SQLite refuses a second checkpointer at once
  // (SQLITE_BUSY, without waiting), so the writer's RESTART waits here for
  // a background pass instead of failing against it.
  std::mutex checkpoint_mu_;
  std::mutex mu_;  // guards the fields below
  std::condition_variable wake_;
  bool wanted_ = false;
  bool stopping_ = false;
  int backfilled_ = 0;  // frames in the database file after the last pass
  std::thread thread_;
};

}  // namespace milf::store::sqlite
