// The scheduler's placement: choosing nodes for ready invocations, the
// journal that commits the hot transitions in groups, and the mirror of
// the queue (see scheduler_core.h).
#include <algorithm>
#include <chrono>
#include <utility>

#include "server/scheduler_core.h"

namespace milf::server {
namespace {

using store::InvocationState;

// A dispatch round looks this far down the queue past invocations no node
// can take (too much memory), so one big job does not block small ones.
constexpr std::size_t kScanLimit = 1'024;
constexpr std::uint64_t kMiB = 1ull << 20;

std::uint64_t MemoryBytes(const store::FunctionVersion& version) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, version.settings.memory_mb)) * kMiB;
}

}  // namespace

void SchedulerCore::Dispatch() {
  bool want_refill = false;
  {
    std::lock_guard lock(mutex_);
    want_refill =
        !mirror_complete_ && !refill_stalled_ && !refilling_ && ready_.size() < kMirrorCapacity / 4;
  }
  DispatchReady();
  if (want_refill) Refill();
}

void SchedulerCore::DispatchReady() {
  std::vector<Entry> entries = PlaceReady();
  if (!entries.empty()) Apply(std::move(entries), Urgency::kNow);
}

std::vector<SchedulerCore::Entry> SchedulerCore::PlaceReady() {
  std::vector<Placement> placements;
  {
    std::lock_guard lock(mutex_);
    int free = 0;
    for (const auto& [id, node] : nodes_) {
      if (node.ready && node.accepting) free += std::max(0, node.FreeSlots());
    }
    std::size_t skipped = 0;
    for (auto it = ready_.begin(); it != ready_.end() && free > 0 && skipped < kScanLimit;) {
      NodeState* node = Choose(it->second);
      if (node == nullptr) {
        ++it;
        ++skipped;
        continue;
      }
      Work work = std::move(it->second);
      it = ready_.erase(it);
      ++work.attempts;
      RecordLocked(work, *node);
      ++committing_[node->id];
      placements.push_back(Placement{std::move(work), node->id, node->session});
      --free;
    }
  }
  if (placements.empty()) return {};
  const store::Millis lease = Now() + options_.lease_ms;
  std::vector<Entry> entries;
  entries.reserve(placements.size());
  for (Placement& placement : placements) {
    store::Store::Transition transition;
    transition.kind = store::Store::Transition::Kind::kDispatch;
    transition.id = placement.work.id;
    transition.node_id = placement.node_id;
    transition.lease_deadline = lease;
    entries.emplace_back(std::move(transition),
                         [this, placement = std::move(placement)](
                             const Status& marked, store::Store::Transition&) mutable {
                           Committed(std::move(placement), marked);
                         });
  }
  return entries;
}

void SchedulerCore::Apply(std::vector<Entry> entries, Urgency urgency) {
  {
    std::lock_guard lock(journal_mutex_);
    for (Entry& entry : entries) journal_.push_back(std::move(entry));
    if (committing_batch_) return;  // the batch under way picks these up next
    if (urgency == Urgency::kSoon) {
      // The committer writes them within kSoon, with whatever comes
      // meanwhile (most often the job's result). It is woken once per
      // window, not once per entry.
      if (soon_) return;
      soon_ = true;
      journal_cv_.notify_all();
      return;
    }
    committing_batch_ = true;
  }
  CommitBatch();
  {
    std::lock_guard lock(journal_mutex_);
    if (journal_.empty()) {
      committing_batch_ = false;
      return;
    }
    handed_off_ = true;
  }
  journal_cv_.notify_all();
}

void SchedulerCore::RunCommitter() {
  std::unique_lock lock(journal_mutex_);
  while (true) {
    journal_cv_.wait(lock, [&] { return handed_off_ || soon_ || committer_exit_; });
    if (!handed_off_ && !committer_exit_) {
      journal_cv_.wait_for(lock, kSoon,
                           [&] { return handed_off_ || committer_exit_; });
    }
    soon_ = false;
    if (!handed_off_) {
      if (committer_exit_ && journal_.empty()) return;
      // A caller's batch under way takes the entries, or there are none.
      if (committing_batch_ || journal_.empty()) continue;
      committing_batch_ = true;
    }
    while (!journal_.empty()) {
      lock.unlock();
      CommitBatch();
      lock.lock();
    }
    handed_off_ = false;
    committing_batch_ = false;
  }
}

void SchedulerCore::CommitBatch() {
  std::vector<Entry> batch;
  {
    std::lock_guard lock(journal_mutex_);
    batch.swap(journal_);
  }
  if (batch.empty()) return;
  std::vector<store::Store::Transition> transitions;
  transitions.reserve(batch.size());
  for (Entry& entry : batch) transitions.push_back(std::move(entry.first));
  auto outcomes = store_.ApplyTransitions(transitions, Now());
  if (!outcomes)
    LogSchedulerProblem("commit", std::to_string(batch.size()) + " transitions", outcomes.error());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Status outcome = outcomes ? (*outcomes)[i] : Status(Fail(outcomes.error()));
    batch[i].second(outcome, transitions[i]);
  }
}

SchedulerCore::NodeState* SchedulerCore::Choose(const Work& work) {
  const std::uint64_t need = MemoryBytes(*work.version);
  const std::string& module = work.version->module_sha256;
  NodeState* best = nullptr;
  bool best_holds = false;
  for (auto& [id, node] : nodes_) {
    if (!node.ready || !node.accepting || node.FreeSlots() <= 0) continue;
    if (node.memory_known && (node.mem_free_bytes < node.reserved_bytes ||
                              node.mem_free_bytes - node.reserved_bytes < need)) {
      continue;
    }
    const bool holds = node.session->HoldsModule(module);
    const int in_use = node.slots_total - node.FreeSlots();
    if (best == nullptr || (holds && !best_holds) ||
        (holds == best_holds && in_use < best->slots_total - best->FreeSlots())) {
      best = &node;
      best_holds = holds;
    }
  }
  return best;
}

void SchedulerCore::RecordLocked(const Work& work, NodeState& node) {
  const std::uint64_t memory = MemoryBytes(*work.version);
  InFlight record{work, node.id, node.session.get(), node.heartbeat_epoch, memory};
  in_flight_.insert_or_assign(work.id, std::move(record));
  ++node.in_flight;
  node.reserved_bytes += memory;
}

std::optional<SchedulerCore::InFlight> SchedulerCore::TakeLocked(const std::string& id) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return std::nullopt;
  InFlight record = std::move(it->second);
  in_flight_.erase(it);
  if (auto node = nodes_.find(record.node_id);
      node != nodes_.end() && node->second.session.get() == record.session) {
    --node->second.in_flight;
    if (record.heartbeat_epoch == node->second.heartbeat_epoch) {
      node->second.reserved_bytes -= std::min(node->second.reserved_bytes, record.memory_bytes);
    }
  }
  return record;
}

std::vector<SchedulerCore::InFlight> SchedulerCore::TakeNodeLocked(const NodeState& node) {
  std::vector<std::string> ids;
  for (const auto& [id, record] : in_flight_) {
    if (record.session == node.session.get()) ids.push_back(id);
  }
  std::vector<InFlight> records;
  for (const auto& id : ids) records.push_back(*TakeLocked(id));
  return records;
}

proto::Job SchedulerCore::MakeJob(const Work& work) {
  const store::FunctionVersion& version = *work.version;
  proto::Job job;
  job.invocation_id = work.id;
  job.attempt = work.attempts;
  job.module_sha256 = version.module_sha256;
  job.module_size = static_cast<std::uint64_t>(version.module_size);
  job.entry = version.settings.entry;
  job.env = version.settings.env;
  job.input = *work.input;
  job.limits.memory_mb = version.settings.memory_mb;
  job.tier = version.settings.tier;
  job.limits.timeout_ms = version.settings.timeout_ms;
  if (version.settings.fuel) job.limits.fuel = static_cast<std::uint64_t>(*version.settings.fuel);
  return job;
}

void SchedulerCore::Committed(Placement placement, const Status& marked) {
  const std::string& id = placement.work.id;
  const bool deleted = !marked && marked.error().code == "not_found";
  bool send = false;
  bool ours = false;
  {
    std::lock_guard lock(mutex_);
    auto record = in_flight_.find(id);
    ours = record != in_flight_.end() && record->second.session == placement.session.get();
    if (marked) {
      // A record taken meanwhile (the node left or said hello again) is
      // re-queued by whoever took it: its RequeueNode waits for this commit.
      send = ours;
    } else if (ours) {
      TakeLocked(id);
      if (marked.error().code != "conflict" && !deleted) {
        // The store failed: keep the invocation for a later round.
        Work work = placement.work;
        --work.attempts;
        InsertReadyLocked(std::move(work));
      }
    }
    if (auto it = committing_.find(placement.node_id);
        it != committing_.end() && --it->second == 0) {
      committing_.erase(it);
      commits_done_.notify_all();
    }
  }
  if (send) {
    placement.session->SendJob(MakeJob(placement.work));
    PublishInvocation(placement.work, InvocationState::kDispatched, &placement.node_id, nullptr);
  } else if (deleted && ours) {
    // Deleted with its function or user while queued: whoever waits for it
    // hears so now.
    Finish(Finished{std::move(placement.work), InvocationState::kFailed,
                    LostResult("the invocation was deleted")},
           Now());
  } else if (!marked && marked.error().code != "conflict" && !deleted) {
    LogSchedulerProblem("dispatch", id, marked.error());
  }
}

void SchedulerCore::Unplace(const Placement& placement) {
  std::lock_guard lock(mutex_);
  if (auto record = in_flight_.find(placement.work.id);
      record != in_flight_.end() && record->second.session == placement.session.get()) {
    TakeLocked(placement.work.id);
  }
  if (auto it = committing_.find(placement.node_id);
      it != committing_.end() && --it->second == 0) {
    committing_.erase(it);
    commits_done_.notify_all();
  }
}

void SchedulerCore::WaitForCommitsLocked(std::unique_lock<std::mutex>& lock,
                                         const std::string& node_id) {
  commits_done_.wait(lock, [&] { return !committing_.contains(node_id); });
}

void SchedulerCore::Refill() {
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    if (refilling_ || mirror_complete_ || refill_stalled_) return;
    refilling_ = true;
    generation = spill_generation_;
  }
  auto queued = store_.ListQueued(static_cast<int>(kMirrorCapacity));
  std::vector<Work> works;
  if (queued) {
    works.reserve(queued->size());
    for (const store::Invocation& invocation : *queued) {
      // A version that cannot be read belongs to a function being deleted;
      // the delete takes its invocations with it.
      if (auto work = LoadWork(invocation)) works.push_back(std::move(*work));
    }
  } else {
    LogSchedulerProblem("refill", "queue", queued.error());
  }
  std::size_t inserted = 0;
  {
    std::lock_guard lock(mutex_);
    refilling_ = false;
    if (!queued) {
      refill_stalled_ = true;
      return;
    }
    bool full = false;
    for (Work& work : works) {
      if (in_flight_.contains(work.id) || ready_.contains(work.id)) continue;
      if (ready_.size() >= kMirrorCapacity) {
        full = true;
        break;
      }
      std::string id = work.id;
      ready_.emplace(std::move(id), std::move(work));
      ++inserted;
    }
    if (!full && queued->size() < kMirrorCapacity && spill_generation_ == generation) {
      mirror_complete_ = true;
      spilled_ = 0;
    } else {
      spilled_ = std::max<std::int64_t>(0, spilled_ - static_cast<std::int64_t>(inserted));
    }
    if (inserted == 0) refill_stalled_ = true;
  }
  if (inserted > 0) DispatchReady();
}

std::optional<SchedulerCore::Work> SchedulerCore::LoadWork(const store::Invocation& invocation) {
  auto version = Version(invocation.function_id, invocation.version);
  if (!version) return std::nullopt;
  Work work;
  work.id = invocation.id;
  work.owner_id = invocation.owner_id;
  work.function_name = invocation.function_name;
  work.version = std::move(*version);
  work.input = std::make_shared<const std::vector<std::uint8_t>>(invocation.input);
  work.attempts = invocation.attempts;
  work.queued_at = invocation.queued_at;
  return work;
}

}  // namespace milf::server
