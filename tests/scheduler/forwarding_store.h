// ForwardingStore: a Store that passes every call to another one, counting
// the scheduler's ticks (each tick calls RequeueExpired once) and failing
// MarkDispatched (alone or in ApplyTransitions) on demand, so tests can
// wait for ticks and inject faults.
#pragma once

#include <atomic>
#include <memory>

#include "store/store.h"

namespace milf::store::testing {

class ForwardingStore final : public Store {
 public:
  explicit ForwardingStore(std::unique_ptr<Store> inner)
      : owned_(std::move(inner)), inner_(*owned_) {}

  std::atomic<int> requeue_expired_calls{0};
  std::atomic<int> failing_mark_dispatched{0};

  Result<User> CreateUser(const std::string& name, Role role, const std::string& password_hash,
                          Millis now) override {
    return inner_.CreateUser(name, role, password_hash, now);
  }
  Result<User> FindUserByName(const std::string& name) override {
    return inner_.FindUserByName(name);
  }
  Result<User> FindUserById(std::int64_t id) override { return inner_.FindUserById(id); }
  Result<std::vector<User>> ListUsers() override { return inner_.ListUsers(); }
  Status UpdatePassword(std::int64_t user_id, const std::string& password_hash) override {
    return inner_.UpdatePassword(user_id, password_hash);
  }
  Status DeleteUser(std::int64_t user_id) override { return inner_.DeleteUser(user_id); }
  Result<Quota> GetQuota(std::int64_t user_id) override { return inner_.GetQuota(user_id); }
  Status SetQuota(std::int64_t user_id, const Quota& quota) override {
    return inner_.SetQuota(user_id, quota);
  }
  Status AddRefreshToken(const RefreshToken& token) override {
    return inner_.AddRefreshToken(token);
  }
  Result<RefreshToken> TakeRefreshToken(const std::string& token_hash, Millis now) override {
    return inner_.TakeRefreshToken(token_hash, now);
  }
  Result<ApiKey> AddApiKey(const ApiKey& key) override { return inner_.AddApiKey(key); }
  Result<ApiKey> FindApiKey(const std::string& key_hash, Millis now) override {
    return inner_.FindApiKey(key_hash, now);
  }
  Result<std::vector<ApiKey>> ListApiKeys(std::int64_t user_id) override {
    return inner_.ListApiKeys(user_id);
  }
  Status RevokeApiKey(std::int64_t user_id, std::int64_t key_id) override {
    return inner_.RevokeApiKey(user_id, key_id);
  }
  Status AddEnrollmentToken(const EnrollmentToken& token) override {
    return inner_.AddEnrollmentToken(token);
  }
  Status UseEnrollmentToken(const std::string& token_hash, const std::string& node_id,
                            Millis now) override {
    return inner_.UseEnrollmentToken(token_hash, node_id, now);
  }
  Status UpsertNode(const Node& node) override { return inner_.UpsertNode(node); }
  Result<Node> FindNode(const std::string& node_id) override { return inner_.FindNode(node_id); }
  Result<std::vector<Node>> ListNodes() override { return inner_.ListNodes(); }
  Status TouchNode(const std::string& node_id, Millis now,
                   const std::string& telemetry_json) override {
    return inner_.TouchNode(node_id, now, telemetry_json);
  }
  Status PutModule(const std::string& sha256, const std::vector<std::uint8_t>& bytes,
                   Millis now) override {
    return inner_.PutModule(sha256, bytes, now);
  }
  Result<std::vector<std::uint8_t>> GetModule(const std::string& sha256) override {
    return inner_.GetModule(sha256);
  }
  Result<FunctionVersion> PutFunction(std::int64_t owner_id, const std::string& name,
                                      const std::string& module_sha256, std::int64_t module_size,
                                      const FunctionSettings& settings, Millis now) override {
    return inner_.PutFunction(owner_id, name, module_sha256, module_size, settings, now);
  }
  Result<Function> FindFunction(std::int64_t owner_id, const std::string& name) override {
    return inner_.FindFunction(owner_id, name);
  }
  Result<std::vector<Function>> ListFunctions(std::int64_t owner_id) override {
    return inner_.ListFunctions(owner_id);
  }
  Result<std::vector<FunctionVersion>> ListVersions(std::int64_t owner_id,
                                                    const std::string& name) override {
    return inner_.ListVersions(owner_id, name);
  }
  Result<FunctionVersion> GetVersion(std::int64_t function_id, std::int64_t version) override {
    return inner_.GetVersion(function_id, version);
  }
  Status DeleteFunction(std::int64_t owner_id, const std::string& name) override {
    return inner_.DeleteFunction(owner_id, name);
  }
  Status EnqueueInvocations(const std::vector<Invocation>& invocations) override {
    return inner_.EnqueueInvocations(invocations);
  }
  Result<Invocation> FindInvocation(std::int64_t owner_id, const std::string& id) override {
    return inner_.FindInvocation(owner_id, id);
  }
  Result<std::vector<Invocation>> ListInvocations(std::int64_t owner_id,
                                                  const InvocationFilter& filter) override {
    return inner_.ListInvocations(owner_id, filter);
  }
  Result<std::vector<InvocationEvent>> ListEvents(std::int64_t owner_id,
                                                  const std::string& id) override {
    return inner_.ListEvents(owner_id, id);
  }
  Result<std::vector<Invocation>> ListQueued(int limit) override {
    return inner_.ListQueued(limit);
  }
  Status MarkDispatched(const std::string& id, const std::string& node_id, Millis lease_deadline,
                        Millis now) override {
    if (failing_mark_dispatched > 0) {
      --failing_mark_dispatched;
      return Fail("io", "injected failure");
    }
    return inner_.MarkDispatched(id, node_id, lease_deadline, now);
  }
  Status MarkRunning(const std::string& id, Millis lease_deadline, Millis now) override {
    return inner_.MarkRunning(id, lease_deadline, now);
  }
  Status ExtendLeases(const std::string& node_id, Millis lease_deadline) override {
    return inner_.ExtendLeases(node_id, lease_deadline);
  }
  Result<std::vector<Status>> ApplyTransitions(const std::vector<Transition>& transitions,
                                               Millis now) override {
    // While failures are asked for, take the single calls, where they are made.
    if (failing_mark_dispatched > 0) return Store::ApplyTransitions(transitions, now);
    return inner_.ApplyTransitions(transitions, now);
  }
  Status Complete(const std::string& id, const std::string& node_id, InvocationState final_state,
                  const InvocationResult& result, Millis now) override {
    return inner_.Complete(id, node_id, final_state, result, now);
  }
  Status ReturnUnrun(const std::string& id, const std::string& node_id, const std::string& reason,
                     Millis now) override {
    return inner_.ReturnUnrun(id, node_id, reason, now);
  }
  Result<Requeued> RequeueExpired(Millis now, int max_attempts,
                                  const std::string& reason) override {
    ++requeue_expired_calls;
    return inner_.RequeueExpired(now, max_attempts, reason);
  }
  Result<Requeued> RequeueNode(const std::string& node_id, Millis now, int max_attempts,
                               const std::string& reason) override {
    return inner_.RequeueNode(node_id, now, max_attempts, reason);
  }
  Result<std::int64_t> CountActive(std::int64_t owner_id) override {
    return inner_.CountActive(owner_id);
  }
  Result<std::int64_t> CountSince(std::int64_t owner_id, Millis since) override {
    return inner_.CountSince(owner_id, since);
  }
  Result<std::int64_t> PruneInvocations(Millis before) override {
    return inner_.PruneInvocations(before);
  }
  Result<Schedule> AddSchedule(const Schedule& schedule) override {
    return inner_.AddSchedule(schedule);
  }
  Result<std::vector<Schedule>> ListSchedules(std::int64_t owner_id,
                                              std::int64_t function_id) override {
    return inner_.ListSchedules(owner_id, function_id);
  }
  Status RemoveSchedule(std::int64_t owner_id, std::int64_t schedule_id) override {
    return inner_.RemoveSchedule(owner_id, schedule_id);
  }
  Result<std::vector<Schedule>> DueSchedules(Millis now) override {
    return inner_.DueSchedules(now);
  }
  Status FireSchedule(std::int64_t schedule_id, Millis fired_at, Millis next_fire_at,
                      const Invocation& invocation) override {
    return inner_.FireSchedule(schedule_id, fired_at, next_fire_at, invocation);
  }
  Status AddUsage(std::int64_t user_id, const std::string& month, std::int64_t invocations,
                  double compute_mb_seconds, std::uint64_t fuel) override {
    return inner_.AddUsage(user_id, month, invocations, compute_mb_seconds, fuel);
  }
  Result<std::vector<Usage>> ListUsage(std::int64_t user_id) override {
    return inner_.ListUsage(user_id);
  }
  Result<std::vector<UsageDay>> ListUsageDays(std::int64_t user_id,
                                              const std::string& month) override {
    return inner_.ListUsageDays(user_id, month);
  }
  Result<std::vector<FunctionStats>> ListFunctionStats(std::int64_t owner_id,
                                                       Millis since) override {
    return inner_.ListFunctionStats(owner_id, since);
  }
  Result<std::vector<NodeTier>> ListNodeTiers(std::int64_t owner_id, std::int64_t function_id,
                                              std::int64_t version) override {
    return inner_.ListNodeTiers(owner_id, function_id, version);
  }

 private:
  std::unique_ptr<Store> owned_;
  Store& inner_;
};

}  // namespace milf::store::testing
