// The scheduler's side of node sessions: a node's hello (with the
// re-queueing and adoption of its earlier jobs), heartbeats, job reports
// and disconnection (see scheduler_core.h).
#include <boost/json.hpp>

#include <algorithm>
#include <utility>

#include "server/scheduler_core.h"

namespace milf::server {
namespace {

using store::InvocationState;

constexpr const char* kNodeGoneReason = "node disconnected while holding the job";
constexpr const char* kNodeBackReason = "node reconnected without the job";

InvocationState FinalState(const std::string& run_status) {
  if (run_status == "ok") return InvocationState::kSucceeded;
  if (run_status == "timeout") return InvocationState::kTimedOut;
  return InvocationState::kFailed;
}

store::InvocationResult ResultOf(proto::JobResult&& r) {
  store::InvocationResult result;
  result.status = std::move(r.status);
  result.exit_code = r.exit_code;
  result.message = std::move(r.message);
  result.fuel_used = r.fuel_used;
  result.peak_memory_bytes = r.peak_memory_bytes;
  result.wall_micros = r.wall_micros;
  result.output = std::move(r.output);
  result.stderr_data = std::move(r.stderr_data);
  result.output_truncated = r.output_truncated;
  result.stderr_truncated = r.stderr_truncated;
  result.output_sha256 = std::move(r.output_sha256);
  result.tier = std::move(r.tier);
  return result;
}

boost::json::object TelemetryJson(const proto::Telemetry& t) {
  auto optional = [](const auto& value) -> boost::json::value {
    if (!value) return nullptr;
    return boost::json::value(*value);
  };
  return {
      {"cpu_load", t.cpu_load},
      {"mem_total_bytes", t.mem_total_bytes},
      {"mem_free_bytes", t.mem_free_bytes},
      {"battery_percent", optional(t.battery_percent)},
      {"charging", optional(t.charging)},
      {"temperature_c", optional(t.temperature_c)},
      {"slots_total", t.slots_total},
      {"slots_in_use", t.slots_in_use},
      {"accepting", t.accepting},
      {"refusal_reason", t.refusal_reason},
  };
}

}  // namespace

void SchedulerCore::OnHello(const std::shared_ptr<NodeSession>& session,
                            const proto::Hello& hello) {
  const std::string& node_id = session->node_id();
  std::vector<InFlight> known;
  std::shared_ptr<NodeSession> replaced;
  {
    std::unique_lock lock(mutex_);
    if (auto it = nodes_.find(node_id); it != nodes_.end()) {
      replaced = it->second.session;
      known = TakeNodeLocked(it->second);
      nodes_.erase(it);
    }
    NodeState& node = nodes_[node_id];
    node.id = node_id;
    node.session = session;
    node.slots_total = hello.slots;
    WaitForCommitsLocked(lock, node_id);
  }
  if (replaced) replaced->Close("replaced by a newer connection from the same node");

  // Whatever the store holds as in flight on this node belongs to an
  // earlier session (or an earlier server): re-queue it, then take back
  // the jobs the node says it is still running.
  const store::Millis now = Now();
  std::unordered_set<std::string> adopted;
  auto requeued = store_.RequeueNode(node_id, now, options_.max_attempts, kNodeBackReason);
  if (requeued) {
    Adopt(*session, hello.running, known, adopted);
    std::erase_if(requeued->requeued, [&](const std::string& id) { return adopted.contains(id); });
    ApplyRequeue(*requeued, std::move(known), kNodeBackReason);
  } else {
    LogSchedulerProblem("requeue node", node_id, requeued.error());
    std::lock_guard lock(mutex_);
    for (InFlight& record : known) InsertReadyLocked(std::move(record.work));
  }
  {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(node_id);
    if (it == nodes_.end() || it->second.session != session) return;  // gone already
    for (const std::string& id : hello.running) {
      if (!adopted.contains(id)) it->second.foreign.insert(id);
    }
    it->second.ready = true;
  }
  proto::Telemetry telemetry;
  telemetry.slots_total = hello.slots;
  telemetry.slots_in_use = static_cast<int>(hello.running.size());
  if (auto touched =
          store_.TouchNode(node_id, now, boost::json::serialize(TelemetryJson(telemetry)));
      !touched) {
    LogSchedulerProblem("touch node", node_id, touched.error());
  }
  PublishNode(node_id, true, std::nullopt);
  Dispatch();
}

void SchedulerCore::Adopt(NodeSession& session, const std::vector<std::string>& running,
                          std::vector<InFlight>& known, std::unordered_set<std::string>& adopted) {
  if (running.empty()) return;
  std::optional<std::vector<store::User>> users;
  for (const std::string& id : running) {
    std::optional<Work> work;
    if (auto it = std::find_if(known.begin(), known.end(),
                               [&](const InFlight& r) { return r.work.id == id; });
        it != known.end()) {
      work = it->work;
    } else {
      // Not dispatched by this process: find it (and its owner) in the store.
      if (!users) {
        auto listed = store_.ListUsers();
        users = listed ? std::move(*listed) : std::vector<store::User>{};
      }
      for (const store::User& user : *users) {
        auto found = store_.FindInvocation(user.id, id);
        if (!found) continue;
        if (found->state == InvocationState::kQueued) work = LoadWork(*found);
        break;
      }
    }
    if (!work) continue;
    const store::Millis now = Now();
    if (!store_.MarkDispatched(id, session.node_id(), now + options_.lease_ms, now)) continue;
    ++work->attempts;
    std::lock_guard lock(mutex_);
    auto node = nodes_.find(session.node_id());
    if (node == nodes_.end() || node->second.session.get() != &session) return;
    ready_.erase(id);
    std::erase_if(known, [&](const InFlight& r) { return r.work.id == id; });
    RecordLocked(*work, node->second);
    adopted.insert(id);
  }
}

void SchedulerCore::OnHeartbeat(NodeSession& session, const proto::Telemetry& telemetry) {
  const std::string& node_id = session.node_id();
  {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(node_id);
    if (it == nodes_.end() || it->second.session.get() != &session) return;
    NodeState& node = it->second;
    if (telemetry.slots_total > 0) node.slots_total = telemetry.slots_total;
    node.accepting = telemetry.accepting;
    node.memory_known = telemetry.mem_total_bytes > 0;
    node.mem_free_bytes = telemetry.mem_free_bytes;
    // Jobs placed before this heartbeat are in its free-memory figure.
    ++node.heartbeat_epoch;
    node.reserved_bytes = 0;
    node.telemetry = telemetry;
  }
  const store::Millis now = Now();
  if (auto extended = store_.ExtendLeases(node_id, now + options_.lease_ms); !extended) {
    LogSchedulerProblem("extend leases", node_id, extended.error());
  }
  if (auto touched =
          store_.TouchNode(node_id, now, boost::json::serialize(TelemetryJson(telemetry)));
      !touched) {
    LogSchedulerProblem("touch node", node_id, touched.error());
  }
  PublishNode(node_id, true, telemetry);
  Dispatch();
}

void SchedulerCore::OnJobStarted(NodeSession& session, const std::string& invocation_id) {
  std::optional<Work> work;
  {
    std::lock_guard lock(mutex_);
    auto it = in_flight_.find(invocation_id);
    if (it == in_flight_.end() || it->second.session != &session) return;
    work = it->second.work;
  }
  store::Store::Transition transition;
  transition.kind = store::Store::Transition::Kind::kStart;
  transition.id = invocation_id;
  transition.at = Now();
  transition.lease_deadline = transition.at + options_.lease_ms;
  std::vector<Entry> entries;
  entries.emplace_back(std::move(transition),
                       [this, work = std::move(*work), node_id = session.node_id()](
                           const Status& marked, store::Store::Transition& applied) {
                         if (marked) {
                           PublishInvocation(work, InvocationState::kRunning, &node_id, nullptr);
                         } else if (marked.error().code != "conflict") {
                           LogSchedulerProblem("mark running", applied.id, marked.error());
                         }
                       });
  Apply(std::move(entries), Urgency::kSoon);
}

void SchedulerCore::OnJobResult(NodeSession& session, proto::JobResult result) {
  const bool rejected = result.status == proto::kRejectedStatus;
  std::optional<InFlight> record;
  {
    std::lock_guard lock(mutex_);
    auto node = nodes_.find(session.node_id());
    if (node != nodes_.end() && node->second.session.get() != &session) node = nodes_.end();
    auto it = in_flight_.find(result.invocation_id);
    if (it != in_flight_.end() && it->second.session == &session) {
      record = TakeLocked(result.invocation_id);
    } else if (node != nodes_.end()) {
      // A job of an earlier session finished: its slot is free again. Its
      // invocation was re-queued when that session ended.
      node->second.foreign.erase(result.invocation_id);
    }
    // A node that turns work away (policy, draining, no free slot) gets
    // none until its next heartbeat says it admits work again, rather
    // than the same job straight back.
    if (rejected && node != nodes_.end()) node->second.accepting = false;
  }
  if (record && rejected) {
    ReturnUnrun(session.node_id(), std::move(record->work), result.message);
  } else if (record) {
    store::Store::Transition transition;
    transition.kind = store::Store::Transition::Kind::kComplete;
    transition.id = result.invocation_id;
    transition.node_id = session.node_id();
    transition.final_state = FinalState(result.status);
    transition.result = ResultOf(std::move(result));
    auto then = [this, work = std::move(record->work)](const Status& completed,
                                                       store::Store::Transition& applied) mutable {
      if (completed) {
        Finish(Finished{std::move(work), applied.final_state, std::move(applied.result)}, Now());
      } else if (completed.error().code == "not_found") {
        Finish(Finished{std::move(work), InvocationState::kFailed,
                        LostResult("the invocation was deleted")},
               Now());
      } else if (completed.error().code != "conflict") {
        // The row stays in flight; its lease runs out and it runs again.
        LogSchedulerProblem("complete", applied.id, completed.error());
      }
    };
    // The slot it freed goes to the next ready invocation in the same
    // batch: one commit stores this result and that dispatch.
    std::vector<Entry> entries = PlaceReady();
    entries.emplace(entries.begin(), std::move(transition), std::move(then));
    Apply(std::move(entries), Urgency::kNow);
  }
  Dispatch();
}

void SchedulerCore::ReturnUnrun(const std::string& node_id, Work work, const std::string& reason) {
  store::Store::Transition transition;
  transition.kind = store::Store::Transition::Kind::kReturn;
  transition.id = work.id;
  transition.node_id = node_id;
  transition.result.message = reason;
  auto then = [this, work = std::move(work)](const Status& returned,
                                              store::Store::Transition& applied) mutable {
    if (returned) {
      // The dispatch did not count: the store took its attempt back too.
      --work.attempts;
      PublishInvocation(work, InvocationState::kQueued, nullptr, nullptr);
      {
        std::lock_guard lock(mutex_);
        InsertReadyLocked(std::move(work));
      }
      Dispatch();
    } else if (returned.error().code == "not_found") {
      Finish(Finished{std::move(work), InvocationState::kFailed,
                      LostResult("the invocation was deleted")},
             Now());
    } else if (returned.error().code != "conflict") {
      // The row stays in flight; its lease runs out and it is re-queued.
      LogSchedulerProblem("return", applied.id, returned.error());
    }
  };
  std::vector<Entry> entries;
  entries.emplace_back(std::move(transition), std::move(then));
  Apply(std::move(entries), Urgency::kNow);
}

void SchedulerCore::OnClosed(NodeSession& session) {
  const std::string& node_id = session.node_id();
  std::vector<InFlight> known;
  {
    std::unique_lock lock(mutex_);
    auto it = nodes_.find(node_id);
    if (it == nodes_.end() || it->second.session.get() != &session) return;  // replaced
    known = TakeNodeLocked(it->second);
    nodes_.erase(it);
    WaitForCommitsLocked(lock, node_id);
  }
  const store::Millis now = Now();
  if (auto requeued = store_.RequeueNode(node_id, now, options_.max_attempts, kNodeGoneReason)) {
    ApplyRequeue(*requeued, std::move(known), kNodeGoneReason);
  } else {
    // The leases run out instead; the tick re-queues them.
    LogSchedulerProblem("requeue node", node_id, requeued.error());
  }
  PublishNode(node_id, false, std::nullopt);
}

void SchedulerCore::PublishNode(const std::string& node_id, bool online,
                                const std::optional<proto::Telemetry>& telemetry) {
  boost::json::object data{{"id", node_id}, {"online", online}};
  if (telemetry) data["telemetry"] = TelemetryJson(*telemetry);
  events_.Publish(Event{"node", std::nullopt, boost::json::serialize(data)});
}

}  // namespace milf::server
