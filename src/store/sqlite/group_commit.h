// GroupCommitter: runs writes on the single writer connection, letting
// writes that arrive while another commits share one transaction.
//
// Leader/follower: a caller that finds no commit in progress becomes the
// leader and runs every write queued so far, its own included, in one
// IMMEDIATE transaction; the others wait and are woken with their own
// outcomes. An uncontended write therefore costs exactly one transaction
// with no thread hand-off, and under load one commit (and one set of WAL
// frames for the pages the writes share) serves many writes.
//
// Each write in a shared transaction runs inside its own SAVEPOINT: a write
// that fails is rolled back alone and the others still commit. If the
// commit itself fails, every write of the batch gets that error and none
// took effect. Thread-safe; `db` must be used by nothing else.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "store/sqlite/sqlite_db.h"

namespace milf::store::sqlite {

class GroupCommitter {
 public:
  using Body = std::function<Status(Db&)>;

  GroupCommitter(Db& db, std::size_t max_batch);

  // Runs `body` on the writer inside a transaction and returns once that
  // transaction has committed or rolled back: body's failure, the commit's
  // failure, or success.
  Status Run(const Body& body);

  // Writes waiting for the next transaction (for metrics and tests).
  std::size_t queued();

 private:
  struct Pending {
    const Body* body;
    Status status;
    bool done = false;
  };

  void RunBatch(const std::vector<Pending*>& batch);
  void RunAlone(Pending& write);
  void RunShared(const std::vector<Pending*>& batch);

  Db& db_;
  const std::size_t max_batch_;
  std::mutex mu_;
  std::condition_variable finished_;
  std::deque<Pending*> queue_;
  bool leading_ = false;
};

}  // namespace milf::store::sqlite
