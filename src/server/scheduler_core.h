// SchedulerCore: the state and logic behind Scheduler (scheduler.h), shared
// with the API handlers (api_invocations.cc, api_schedules.cc,
// api_usage.cc). Not for use outside src/server/.
//
// Design, in brief (scheduler.h states the contract):
// - The store is the durable truth; the core keeps a mirror of the queue in
//   memory (`ready_`, ordered by invocation id = creation order), refilled
//   from Store::ListQueued in batches when the mirror is incomplete (it is
//   bounded; enqueues past the bound stay only in the store). Every state
//   change goes through the store first; a "conflict" from the store means
//   the in-memory view was stale and the step is dropped, so the mirror may
//   lag but never causes a double run.
// - Dispatch is event-driven (enqueue, slot freed, node hello/heartbeat,
//   requeue) and picks placements under the lock, then commits them to the
//   store and sends the jobs outside it. A slow timer (the heartbeat
//   interval) runs lease expiry, cron, waiter deadlines, usage flushes,
//   retention and a safety dispatch.
// - The hot transitions (enqueued, dispatched, running, finished,
//   returned unrun) go through a journal with group commit: the first
//   caller to find no commit under way writes the journal at once
//   (Store::ApplyTransitions, one transaction); whatever piles up
//   meanwhile goes in the next batch, which a committer thread writes, so
//   no caller is held up by other callers' work. Each transition's
//   continuation (answer the submitter, send the job, finish the
//   invocation) runs after its batch commits. An invoke that finds a free
//   node and no older work is enqueued and dispatched in one write; a
//   job's start waits (at most Urgency::kSoon) for the next batch, which
//   for a short job is the one that stores its result. So a short sync
//   invoke costs two commits, shared with whatever else is under way.
// - A node's session starts with Store::RequeueNode: whatever the store
//   still holds as in flight on that node from an earlier session or an
//   earlier server process is re-queued at once, and the invocations the
//   node reports as still running in its Hello are re-dispatched to it
//   (adopted) so their results count. Nodes that never come back lose their
//   jobs when the leases run out (Store::RequeueExpired, at Start and on
//   every tick): after a restart, work on a node that reconnects is back at
//   once, work on a node that does not is back within one lease.
// - Schedules fire from the tick through Store::FireSchedule, which moves
//   the schedule to its next tick after now: a tick is fired once, by one
//   server, and the ticks missed while no server ran fire once in all (at
//   the first tick after start), not once each. Schedule fires are counted
//   against the owner's quota but not refused by it.
// - Usage is metered in memory and written (Store::AddUsage, one call per
//   user and month) on every tick, before GET /usage answers, and at Stop.
// - Sync waiters still waiting at Stop are answered (503): the invocation
//   itself stays queued in the store for the next server.
//
// Thread-safety: every public method may be called from any thread. The
// state locks (`mutex_`, `waiters_mutex_`, `usage_mutex_`,
// `versions_mutex_`, `journal_mutex_`) are never held across store calls,
// channel sends, waiter callbacks or events; `tick_mutex_` only keeps ticks
// (and Stop) from overlapping.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "server/cron.h"
#include "server/event_bus.h"
#include "server/metrics.h"
#include "server/node_session.h"
#include "server/quota.h"
#include "server/scheduler.h"
#include "store/store.h"

namespace milf::server {

// How a sync invocation's wait ended.
enum class WaitEnd { kFinished, kExpired, kStopped };

struct Completion {
  std::string id;
  WaitEnd end = WaitEnd::kFinished;
  store::InvocationState state = store::InvocationState::kFailed;  // when kFinished
  store::InvocationResult result;
};
using CompletionWaiter = std::function<void(const Completion&)>;

// New invocations of one function version, as the API resolved them.
struct Submission {
  std::int64_t owner_id = 0;
  std::string function_name;
  std::shared_ptr<const store::FunctionVersion> version;
  std::vector<std::vector<std::uint8_t>> inputs;
};

// The result status of an invocation that never ran to the end.
inline constexpr const char* kLostStatus = "lost";
store::InvocationResult LostResult(const std::string& reason);

// One line on stderr about a store failure the scheduler works around.
void LogSchedulerProblem(const char* what, const std::string& id, const Error& error);

class SchedulerCore : public NodeSessionListener,
                      public std::enable_shared_from_this<SchedulerCore> {
 public:
  SchedulerCore(store::Store& store, EventBus& events, Metrics& metrics, const Clock& clock,
                SchedulerOptions options);
  ~SchedulerCore() override;

  void Start(boost::asio::io_context& io);
  void Stop();
  NodeChannelEvents Connect(const std::string& node_id, std::shared_ptr<NodeChannel> channel);
  Gauges gauges() const;

  // Quota-checks, enqueues and places new invocations. `accepted` is
  // called exactly once, perhaps before Submit returns: with their ids
  // once they are stored, or with why they were not (quota, store). With
  // `waiter`, the submission must hold one input: the waiter is called
  // exactly once if the invocation was stored, from whichever thread
  // finishes it, or with kExpired once `wait_deadline` passes (checked
  // every tick).
  using Accepted = std::function<void(Result<std::vector<std::string>>)>;
  void Submit(Submission submission, Accepted accepted, CompletionWaiter waiter = {},
              store::Millis wait_deadline = 0);

  // The function's version, cached (versions are immutable).
  Result<std::shared_ptr<const store::FunctionVersion>> Version(std::int64_t function_id,
                                                                std::int64_t version);
  QuotaLedger& ledger() { return ledger_; }
  // Writes metered usage still held in memory to the store.
  void FlushUsage();
  store::Millis Now() const;
  const SchedulerOptions& options() const { return options_; }

  // NodeSessionListener.
  void OnHello(const std::shared_ptr<NodeSession>& session, const proto::Hello& hello) override;
  void OnHeartbeat(NodeSession& session, const proto::Telemetry& telemetry) override;
  void OnJobStarted(NodeSession& session, const std::string& invocation_id) override;
  void OnJobResult(NodeSession& session, proto::JobResult result) override;
  void OnClosed(NodeSession& session) override;

  // One round of the periodic work; the timer calls it every heartbeat interval.
  void Tick();

 private:
  // The mirror of the queue holds at most this many invocations; the rest
  // wait in the store and come in by ListQueued batches of the same size.
  static constexpr std::size_t kMirrorCapacity = 20'000;

  // A queued invocation, ready to place.
  struct Work {
    std::string id;
    std::int64_t owner_id = 0;
    std::string function_name;
    std::shared_ptr<const store::FunctionVersion> version;
    std::shared_ptr<const std::vector<std::uint8_t>> input;
    int attempts = 0;  // dispatches so far
    store::Millis queued_at = 0;
  };
  // A dispatched invocation and the node slot it holds.
  struct InFlight {
    Work work;
    std::string node_id;
    const NodeSession* session = nullptr;
    std::uint64_t heartbeat_epoch = 0;
    std::uint64_t memory_bytes = 0;
  };
  struct NodeState {
    std::string id;
    std::shared_ptr<NodeSession> session;
    bool ready = false;  // the hello's requeue is done: may take work
    int slots_total = 1;
    int in_flight = 0;
    std::unordered_set<std::string> foreign;  // running there, not ours
    bool accepting = true;
    bool memory_known = false;
    std::uint64_t mem_free_bytes = 0;
    std::uint64_t heartbeat_epoch = 0;
    std::uint64_t reserved_bytes = 0;  // jobs placed since the last heartbeat
    std::optional<proto::Telemetry> telemetry;
    int FreeSlots() const { return slots_total - in_flight - static_cast<int>(foreign.size()); }
  };
  struct Placement {
    Work work;
    std::string node_id;
    std::shared_ptr<NodeSession> session;
  };
  struct Finished {
    Work work;
    store::InvocationState state = store::InvocationState::kFailed;
    store::InvocationResult result;
  };
  struct Waiter {
    CompletionWaiter callback;
    store::Millis deadline = 0;
  };

  // A journalled transition's continuation: its outcome, and the
  // transition itself (to move its result out).
  using Then = std::function<void(const Status&, store::Store::Transition&)>;
  using Entry = std::pair<store::Store::Transition, Then>;
  // kNow: written at once (by this caller if no batch is under way).
  // kSoon: nothing waits on it; written with the next batch, or by the
  // committer within kSoon (a job's start, which its result most often
  // joins).
  enum class Urgency { kNow, kSoon };
  static constexpr std::chrono::milliseconds kSoon{5};
  void Apply(std::vector<Entry> entries, Urgency urgency);
  void CommitBatch();
  void RunCommitter();

  // Stores one new invocation through the journal, dispatched in the same
  // batch when a node can take it now; `accepted` runs after the commit.
  void EnqueueOne(store::Invocation row, Work work, Accepted accepted);
  // A submission that was not stored: takes back its quota and waiter.
  void Rejected(std::int64_t owner_id, const std::vector<Work>& works, const Error& error,
                const Accepted& accepted);
  // Places ready invocations, then refills the mirror if it runs low.
  void Dispatch();
  void DispatchReady();
  // Chooses nodes for ready invocations and returns their dispatches, to
  // apply (with whatever else the caller journals in the same batch).
  std::vector<Entry> PlaceReady();
  NodeState* Choose(const Work& work);
  // After a placement's transition committed: sends its job, unless the
  // node's session ended meanwhile.
  void Committed(Placement placement, const Status& marked);
  // Takes back a placement whose invocation was never stored.
  void Unplace(const Placement& placement);
  // A node's session ends (close, or a new hello) only once the placements
  // on it being committed are stored, so that its Store::RequeueNode sees
  // them.
  void WaitForCommitsLocked(std::unique_lock<std::mutex>& lock, const std::string& node_id);
  void Refill();
  void RecordLocked(const Work& work, NodeState& node);
  std::optional<InFlight> TakeLocked(const std::string& id);
  std::vector<InFlight> TakeNodeLocked(const NodeState& node);
  void InsertReadyLocked(Work work);
  static proto::Job MakeJob(const Work& work);
  // Puts re-queued ids back in the mirror (unknown ones come with a refill)
  // and finishes failed ones. `known` holds records already taken.
  void ApplyRequeue(const store::Store::Requeued& requeued, std::vector<InFlight> known,
                    const std::string& reason);
  void Finish(Finished finished, store::Millis now);
  // A node gave `work` back unrun (proto::kRejectedStatus): queued again
  // without counting the dispatch as an attempt.
  void ReturnUnrun(const std::string& node_id, Work work, const std::string& reason);
  // Re-dispatches to `session` the queued invocations among `running`.
  void Adopt(NodeSession& session, const std::vector<std::string>& running,
             std::vector<InFlight>& known, std::unordered_set<std::string>& adopted);
  std::optional<Work> LoadWork(const store::Invocation& invocation);
  void FireSchedules(store::Millis now);
  void ExpireWaiters(store::Millis now);
  void AddUsage(std::int64_t owner_id, store::Millis at, double mb_seconds, std::uint64_t fuel);
  void PublishInvocation(const Work& work, store::InvocationState state, const std::string* node_id,
                         const store::InvocationResult* result);
  void PublishNode(const std::string& node_id, bool online,
                   const std::optional<proto::Telemetry>& telemetry);
  void ArmTimer();

  store::Store& store_;
  EventBus& events_;
  Metrics& metrics_;
  const Clock& clock_;
  const SchedulerOptions options_;
  QuotaLedger ledger_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, NodeState> nodes_;
  std::map<std::string, Work> ready_;  // oldest id first
  std::unordered_map<std::string, InFlight> in_flight_;
  bool mirror_complete_ = false;  // ready_ holds every queued invocation
  bool refilling_ = false;
  bool refill_stalled_ = false;  // the last refill found nothing new; wait for a tick
  std::unordered_map<std::string, int> committing_;  // node id -> placements being stored
  std::condition_variable commits_done_;
  std::uint64_t spill_generation_ = 0;  // bumped when an enqueue skips the mirror
  std::int64_t spilled_ = 0;            // estimate of queued rows not in ready_

  std::mutex waiters_mutex_;
  std::unordered_map<std::string, Waiter> waiters_;

  std::mutex usage_mutex_;
  std::map<std::pair<std::int64_t, std::string>, store::Usage> usage_;

  std::mutex versions_mutex_;
  std::map<std::pair<std::int64_t, std::int64_t>, std::shared_ptr<const store::FunctionVersion>>
      versions_;

  std::mutex journal_mutex_;
  std::condition_variable journal_cv_;
  std::vector<Entry> journal_;
  bool committing_batch_ = false;  // a batch is being written
  bool handed_off_ = false;        // ... and the committer thread takes the rest
  bool soon_ = false;              // kSoon entries wait for the committer
  bool committer_exit_ = false;
  std::thread committer_;

  std::mutex timer_mutex_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::atomic<bool> running_{false};  // started and not stopped
  bool shut_down_ = false;            // Stop has run
  std::mutex tick_mutex_;             // held by Tick
  store::Millis last_prune_ = 0;      // guarded by tick_mutex_
};

struct Scheduler::Impl {
  std::shared_ptr<SchedulerCore> core;
};

// The routes AddInvocationRoutes registers besides the invocations' own.
void AddScheduleRoutes(Router& router, std::shared_ptr<SchedulerCore> core, store::Store& store);
void AddUsageRoutes(Router& router, std::shared_ptr<SchedulerCore> core, store::Store& store);

}  // namespace milf::server
