#include "server/scheduler.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "server/scheduler_core.h"
#include "store/ids.h"

namespace milf::server {
namespace {

using store::InvocationState;

constexpr store::Millis kPruneEveryMs = 60'000;
constexpr const char* kLeaseReason = "lease expired: the node stopped sending heartbeats";

}  // namespace

store::InvocationResult LostResult(const std::string& reason) {
  store::InvocationResult result;
  result.status = kLostStatus;
  result.message = reason;
  return result;
}

void LogSchedulerProblem(const char* what, const std::string& id, const Error& error) {
  std::fprintf(stderr, "milf scheduler: %s %s: %s: %s\n", what, id.c_str(), error.code.c_str(),
               error.message.c_str());
}

SchedulerCore::SchedulerCore(store::Store& store, EventBus& events, Metrics& metrics,
                             const Clock& clock, SchedulerOptions options)
    : store_(store),
      events_(events),
      metrics_(metrics),
      clock_(clock),
      options_(options),
      ledger_(store),
      committer_([this] { RunCommitter(); }) {}

SchedulerCore::~SchedulerCore() {
  Stop();
  {
    std::lock_guard lock(journal_mutex_);
    committer_exit_ = true;
  }
  journal_cv_.notify_all();
  committer_.join();
}

store::Millis SchedulerCore::Now() const { return clock_.RealtimeNanos() / 1'000'000; }

// ---------------------------------------------------------------------------
// Lifecycle and timers.

void SchedulerCore::Start(boost::asio::io_context& io) {
  {
    std::lock_guard lock(timer_mutex_);
    if (running_ || shut_down_) return;
    running_ = true;
    timer_ = std::make_unique<boost::asio::steady_timer>(io);
  }
  // The first tick re-queues leases that ran out while no server was
  // running, fires schedule ticks missed meanwhile (once each) and loads
  // the queue.
  Tick();
  ArmTimer();
}

void SchedulerCore::Stop() {
  {
    std::lock_guard lock(timer_mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    running_ = false;
    timer_.reset();
  }
  {
    // A tick under way finishes before Stop returns; none starts after.
    std::lock_guard lock(tick_mutex_);
  }
  FlushUsage();
  std::unordered_map<std::string, Waiter> waiters;
  {
    std::lock_guard lock(waiters_mutex_);
    waiters.swap(waiters_);
  }
  for (auto& [id, waiter] : waiters) {
    Completion completion;
    completion.id = id;
    completion.end = WaitEnd::kStopped;
    waiter.callback(completion);
  }
}

void SchedulerCore::ArmTimer() {
  std::lock_guard lock(timer_mutex_);
  if (!running_ || !timer_) return;
  timer_->expires_after(std::chrono::milliseconds(options_.heartbeat_interval_ms));
  timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      self->Tick();
      self->ArmTimer();
    }
  });
}

void SchedulerCore::Tick() {
  std::lock_guard tick(tick_mutex_);
  if (!running_) return;
  const store::Millis now = Now();
  if (auto expired = store_.RequeueExpired(now, options_.max_attempts, kLeaseReason)) {
    if (!expired->requeued.empty() || !expired->failed.empty()) {
      ApplyRequeue(*expired, {}, kLeaseReason);
    }
  } else {
    LogSchedulerProblem("requeue", "expired leases", expired.error());
  }
  FireSchedules(now);
  ExpireWaiters(now);
  FlushUsage();
  if (now - last_prune_ >= std::min<store::Millis>(kPruneEveryMs, options_.retention_ms)) {
    last_prune_ = now;
    if (auto pruned = store_.PruneInvocations(now - options_.retention_ms); !pruned) {
      LogSchedulerProblem("prune", "invocations", pruned.error());
    }
  }
  {
    std::lock_guard lock(mutex_);
    refill_stalled_ = false;
  }
  Refill();
  Dispatch();
}

NodeChannelEvents SchedulerCore::Connect(const std::string& node_id,
                                         std::shared_ptr<NodeChannel> channel) {
  NodeSessionOptions options;
  options.heartbeat_interval_ms = options_.heartbeat_interval_ms;
  options.lease_ms = options_.lease_ms;
  options.aot_public_key = options_.aot_public_key;
  auto session =
      NodeSession::Create(node_id, std::move(channel), store_, weak_from_this(), options);
  return session->Events();
}

Gauges SchedulerCore::gauges() const {
  std::lock_guard lock(mutex_);
  Gauges gauges;
  gauges.queue_depth = static_cast<std::int64_t>(ready_.size()) + spilled_;
  for (const auto& [id, node] : nodes_) {
    if (!node.ready) continue;
    ++gauges.nodes_online;
    gauges.slots_total += node.slots_total;
    if (node.accepting) gauges.slots_free += std::max(0, node.FreeSlots());
  }
  return gauges;
}

// ---------------------------------------------------------------------------
// Submission.

Result<std::shared_ptr<const store::FunctionVersion>> SchedulerCore::Version(
    std::int64_t function_id, std::int64_t version) {
  const auto key = std::make_pair(function_id, version);
  {
    std::lock_guard lock(versions_mutex_);
    if (auto it = versions_.find(key); it != versions_.end()) return it->second;
  }
  auto loaded = store_.GetVersion(function_id, version);
  if (!loaded) return Fail(loaded.error());
  auto shared = std::make_shared<const store::FunctionVersion>(std::move(*loaded));
  std::lock_guard lock(versions_mutex_);
  versions_.emplace(key, shared);
  return shared;
}

void SchedulerCore::Submit(Submission submission, Accepted accepted, CompletionWaiter waiter,
                           store::Millis wait_deadline) {
  const std::int64_t count = static_cast<std::int64_t>(submission.inputs.size());
  if (count == 0) return accepted(Fail("invalid_argument", "no inputs"));
  const store::Millis now = Now();
  const auto& version = submission.version;
  if (auto admitted = ledger_.Reserve(submission.owner_id, count, version->settings.memory_mb, now);
      !admitted) {
    return accepted(Fail(admitted.error()));
  }
  std::vector<store::Invocation> rows;
  std::vector<Work> works;
  rows.reserve(submission.inputs.size());
  works.reserve(submission.inputs.size());
  for (auto& input : submission.inputs) {
    store::Invocation row;
    row.id = store::NewInvocationId(now);
    row.owner_id = submission.owner_id;
    row.function_id = version->function_id;
    row.function_name = submission.function_name;
    row.version = version->version;
    row.queued_at = now;
    row.input = input;
    Work work;
    work.id = row.id;
    work.owner_id = submission.owner_id;
    work.function_name = submission.function_name;
    work.version = version;
    work.input = std::make_shared<const std::vector<std::uint8_t>>(std::move(input));
    work.queued_at = now;
    rows.push_back(std::move(row));
    works.push_back(std::move(work));
  }
  if (waiter) {
    // Registered before the enqueue: the invocation may finish before
    // `accepted` even runs.
    std::lock_guard lock(waiters_mutex_);
    waiters_[works.front().id] = Waiter{std::move(waiter), wait_deadline};
  }
  if (works.size() == 1) return EnqueueOne(std::move(rows.front()), std::move(works.front()),
                                           std::move(accepted));
  // A batch is one transaction of its own: all of it is stored, or none.
  Status stored = store_.EnqueueInvocations(rows);
  if (!stored) return Rejected(submission.owner_id, works, stored.error(), accepted);
  std::vector<std::string> ids;
  ids.reserve(works.size());
  for (const Work& work : works) {
    ids.push_back(work.id);
    PublishInvocation(work, InvocationState::kQueued, nullptr, nullptr);
  }
  {
    std::lock_guard lock(mutex_);
    for (Work& work : works) InsertReadyLocked(std::move(work));
  }
  accepted(std::move(ids));
  Dispatch();
}

void SchedulerCore::Rejected(std::int64_t owner_id, const std::vector<Work>& works,
                             const Error& error, const Accepted& accepted) {
  ledger_.Cancel(owner_id, static_cast<std::int64_t>(works.size()));
  {
    std::lock_guard lock(waiters_mutex_);
    waiters_.erase(works.front().id);
  }
  accepted(Fail(error));
}

void SchedulerCore::EnqueueOne(store::Invocation row, Work work, Accepted accepted) {
  std::optional<Placement> placement;
  {
    // Straight to a node when one is free and no older work waits, so the
    // enqueue and the dispatch share one commit.
    std::lock_guard lock(mutex_);
    if (ready_.empty() && mirror_complete_) {
      if (NodeState* node = Choose(work)) {
        Work placed = work;
        ++placed.attempts;
        RecordLocked(placed, *node);
        ++committing_[node->id];
        placement = Placement{std::move(placed), node->id, node->session};
      }
    }
  }
  const bool placed = placement.has_value();
  // Whether the row was stored, for the dispatch's continuation.
  auto stored = std::make_shared<bool>(false);
  std::vector<Entry> entries;
  store::Store::Transition enqueue;
  enqueue.kind = store::Store::Transition::Kind::kEnqueue;
  enqueue.invocation = std::move(row);
  entries.emplace_back(
      std::move(enqueue),
      [this, stored, placed, work = std::move(work), accepted = std::move(accepted)](
          const Status& outcome, store::Store::Transition&) mutable {
        if (!outcome) return Rejected(work.owner_id, {work}, outcome.error(), accepted);
        *stored = true;
        PublishInvocation(work, InvocationState::kQueued, nullptr, nullptr);
        std::string id = work.id;
        if (!placed) {
          std::lock_guard lock(mutex_);
          InsertReadyLocked(std::move(work));
        }
        accepted(std::vector<std::string>{std::move(id)});
        if (!placed) Dispatch();
      });
  if (placement) {
    // In the same batch as the enqueue, after it: the entries of one
    // Apply are never split.
    store::Store::Transition dispatch;
    dispatch.kind = store::Store::Transition::Kind::kDispatch;
    dispatch.id = placement->work.id;
    dispatch.node_id = placement->node_id;
    dispatch.lease_deadline = Now() + options_.lease_ms;
    entries.emplace_back(std::move(dispatch),
                         [this, stored, placement = std::move(*placement)](
                             const Status& marked, store::Store::Transition&) mutable {
                           if (*stored) {
                             Committed(std::move(placement), marked);
                           } else {
                             Unplace(placement);
                           }
                         });
  }
  Apply(std::move(entries), Urgency::kNow);
}

void SchedulerCore::InsertReadyLocked(Work work) {
  if (ready_.size() >= kMirrorCapacity) {
    mirror_complete_ = false;
    ++spill_generation_;
    ++spilled_;
    return;
  }
  std::string id = work.id;
  ready_.insert_or_assign(std::move(id), std::move(work));
}

// ---------------------------------------------------------------------------
// Re-queueing and finishing.

void SchedulerCore::ApplyRequeue(const store::Store::Requeued& requeued,
                                 std::vector<InFlight> known, const std::string& reason) {
  std::vector<Finished> finished;
  bool unknown = false;
  {
    std::lock_guard lock(mutex_);
    std::unordered_map<std::string, InFlight> by_id;
    for (InFlight& record : known) {
      std::string id = record.work.id;
      by_id.emplace(std::move(id), std::move(record));
    }
    auto take = [&](const std::string& id) -> std::optional<InFlight> {
      if (auto it = by_id.find(id); it != by_id.end()) {
        InFlight record = std::move(it->second);
        by_id.erase(it);
        return record;
      }
      return TakeLocked(id);
    };
    for (const std::string& id : requeued.requeued) {
      if (auto record = take(id)) {
        InsertReadyLocked(std::move(record->work));
      } else {
        unknown = true;
      }
    }
    for (const std::string& id : requeued.failed) {
      if (auto record = take(id)) {
        finished.push_back(
            Finished{std::move(record->work), InvocationState::kFailed, LostResult(reason)});
      }
    }
    if (unknown) {
      mirror_complete_ = false;
      refill_stalled_ = false;
    }
  }
  const store::Millis now = Now();
  for (Finished& f : finished) Finish(std::move(f), now);
  if (unknown) Refill();
  Dispatch();
}

void SchedulerCore::Finish(Finished finished, store::Millis now) {
  const Work& work = finished.work;
  ledger_.Finish(work.owner_id, 1);
  const double wall_seconds = static_cast<double>(finished.result.wall_micros) / 1e6;
  AddUsage(work.owner_id, now, wall_seconds * static_cast<double>(work.version->settings.memory_mb),
           finished.result.fuel_used);
  metrics_.ObserveInvocation(store::StateName(finished.state),
                             static_cast<double>(now - work.queued_at) / 1000.0);
  PublishInvocation(work, finished.state, nullptr, &finished.result);
  CompletionWaiter callback;
  {
    std::lock_guard lock(waiters_mutex_);
    if (auto it = waiters_.find(work.id); it != waiters_.end()) {
      callback = std::move(it->second.callback);
      waiters_.erase(it);
    }
  }
  if (callback) {
    Completion completion;
    completion.id = work.id;
    completion.state = finished.state;
    completion.result = std::move(finished.result);
    callback(completion);
  }
}

void SchedulerCore::ExpireWaiters(store::Millis now) {
  std::vector<std::pair<std::string, CompletionWaiter>> expired;
  {
    std::lock_guard lock(waiters_mutex_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline > 0 && it->second.deadline <= now) {
        expired.emplace_back(it->first, std::move(it->second.callback));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [id, callback] : expired) {
    Completion completion;
    completion.id = id;
    completion.end = WaitEnd::kExpired;
    callback(completion);
  }
}

void SchedulerCore::AddUsage(std::int64_t owner_id, store::Millis at, double mb_seconds,
                             std::uint64_t fuel) {
  std::lock_guard lock(usage_mutex_);
  store::Usage& usage = usage_[{owner_id, UtcDay(at)}];
  usage.invocations += 1;
  usage.compute_mb_seconds += mb_seconds;
  usage.fuel += fuel;
}

void SchedulerCore::FlushUsage() {
  std::map<std::pair<std::int64_t, std::string>, store::Usage> pending;
  {
    std::lock_guard lock(usage_mutex_);
    pending.swap(usage_);
  }
  for (auto& [key, usage] : pending) {
    auto added = store_.AddUsage(key.first, key.second, usage.invocations, usage.compute_mb_seconds,
                                 usage.fuel);
    if (added || added.error().code == "not_found") continue;  // not_found: user deleted
    LogSchedulerProblem("usage", key.second, added.error());
    std::lock_guard lock(usage_mutex_);
    store::Usage& back = usage_[key];
    back.invocations += usage.invocations;
    back.compute_mb_seconds += usage.compute_mb_seconds;
    back.fuel += usage.fuel;
  }
}

// ---------------------------------------------------------------------------
// Schedules.

void SchedulerCore::FireSchedules(store::Millis now) {
  auto due = store_.DueSchedules(now);
  if (!due) {
    LogSchedulerProblem("schedules", "due", due.error());
    return;
  }
  for (const store::Schedule& schedule : *due) {
    auto cron = CronExpr::Parse(schedule.cron);
    std::optional<store::Millis> next = cron ? cron->NextAfter(now) : std::nullopt;
    auto functions = store_.ListFunctions(schedule.owner_id);
    if (!cron || !next || !functions) continue;
    auto function =
        std::find_if(functions->begin(), functions->end(),
                     [&](const store::Function& f) { return f.id == schedule.function_id; });
    if (function == functions->end()) continue;  // being deleted, with its schedules
    auto version = Version(function->id, function->latest_version);
    if (!version) continue;

    // Ticks missed while no server ran are not made up one by one: the
    // schedule fires once now and moves to its next tick after now.
    store::Invocation row;
    row.id = store::NewInvocationId(now);
    row.owner_id = schedule.owner_id;
    row.function_id = function->id;
    row.function_name = function->name;
    row.version = function->latest_version;
    row.schedule_id = schedule.id;
    row.queued_at = now;
    row.input = schedule.input;
    auto fired = store_.FireSchedule(schedule.id, schedule.next_fire_at, *next, row);
    if (!fired) {
      if (fired.error().code != "conflict")
        LogSchedulerProblem("fire schedule", row.id, fired.error());
      continue;
    }
    ledger_.Admit(schedule.owner_id, 1);
    Work work;
    work.id = row.id;
    work.owner_id = row.owner_id;
    work.function_name = row.function_name;
    work.version = std::move(*version);
    work.input = std::make_shared<const std::vector<std::uint8_t>>(std::move(row.input));
    work.queued_at = now;
    PublishInvocation(work, InvocationState::kQueued, nullptr, nullptr);
    std::lock_guard lock(mutex_);
    InsertReadyLocked(std::move(work));
  }
}

// ---------------------------------------------------------------------------
// Events.

void SchedulerCore::PublishInvocation(const Work& work, InvocationState state,
                                      const std::string* node_id,
                                      const store::InvocationResult* result) {
  boost::json::object data{
      {"id", work.id},
      {"function", work.function_name},
      {"version", work.version->version},
      {"state", store::StateName(state)},
      {"attempts", work.attempts},
  };
  if (node_id != nullptr) data["node_id"] = *node_id;
  if (result != nullptr) {
    data["result"] = boost::json::object{
        {"status", result->status},
        {"exit_code", result->exit_code},
        {"message", result->message},
        {"wall_ms", static_cast<double>(result->wall_micros) / 1000.0},
        {"fuel_used", result->fuel_used},
    };
  }
  events_.Publish(Event{"invocation", work.owner_id, boost::json::serialize(data)});
}

// ---------------------------------------------------------------------------
// Scheduler.

Scheduler::Scheduler(store::Store& store, EventBus& events, Metrics& metrics, const Clock& clock,
                     SchedulerOptions options)
    : impl_(std::make_unique<Impl>(
          Impl{std::make_shared<SchedulerCore>(store, events, metrics, clock, options)})) {}

Scheduler::~Scheduler() { impl_->core->Stop(); }

void Scheduler::Start(boost::asio::io_context& io) { impl_->core->Start(io); }

void Scheduler::Stop() { impl_->core->Stop(); }

NodeChannelEvents Scheduler::OnConnected(const std::string& node_id,
                                         std::shared_ptr<NodeChannel> channel) {
  return impl_->core->Connect(node_id, std::move(channel));
}

Gauges Scheduler::gauges() const { return impl_->core->gauges(); }

}  // namespace milf::server
