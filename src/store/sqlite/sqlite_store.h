// SqliteStore: the Store on one SQLite database in WAL mode.
//
// Concurrency: one writer connection carries every write. Each method's
// writes form one unit that commits or rolls back whole; units that arrive
// while another commits share its transaction (group_commit.h), each in its
// own savepoint. Checkpoints run on a background thread (checkpointer.h).
// Reads go to a small pool of read-only connections, which WAL lets run
// beside the writer and each other. A read sees every write that committed
// before it began. Each connection caches its prepared statements.
//
// The methods are spread over files by concern: sqlite_store.cc (opening,
// users, quotas), sqlite_credentials.cc (tokens, API keys, nodes),
// sqlite_functions.cc (modules, functions, schedules),
// sqlite_invocations.cc (invocations, the queue and its leases) and
// sqlite_stats.cc (usage, function statistics).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/checkpointer.h"
#include "store/sqlite/connection_pool.h"
#include "store/sqlite/group_commit.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace milf::store::sqlite {

struct SqliteStoreOptions {
  std::size_t max_readers = 4;
  std::size_t max_writes_per_commit = 256;
  CheckpointLimits checkpoints;
};

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const SqliteStoreOptions& options);

  Result<User> CreateUser(const std::string& name, Role role, const std::string& password_hash,
                          Millis now) override;
  Result<User> FindUserByName(const std::string& name) override;
  Result<User> FindUserById(std::int64_t id) override;
  Result<std::vector<User>> ListUsers() override;
  Status UpdatePassword(std::int64_t user_id, const std::string& password_hash) override;
  Status DeleteUser(std::int64_t user_id) override;
  Result<Quota> GetQuota(std::int64_t user_id) override;
  Status SetQuota(std::int64_t user_id, const Quota& quota) override;

  Status AddRefreshToken(const RefreshToken& token) override;
  Result<RefreshToken> TakeRefreshToken(const std::string& token_hash, Millis now) override;
  Result<ApiKey> AddApiKey(const ApiKey& key) override;
  Result<ApiKey> FindApiKey(const std::string& key_hash, Millis now) override;
  Result<std::vector<ApiKey>> ListApiKeys(std::int64_t user_id) override;
  Status RevokeApiKey(std::int64_t user_id, std::int64_t key_id) override;
  Status AddEnrollmentToken(const EnrollmentToken& token) override;
  Status UseEnrollmentToken(const std::string& token_hash, const std::string& node_id,
                            Millis now) override;

  Status UpsertNode(const Node& node) override;
  Result<Node> FindNode(const std::string& node_id) override;
  Result<std::vector<Node>> ListNodes() override;
  Status TouchNode(const std::string& node_id, Millis now,
                   const std::string& telemetry_json) override;

  Status PutModule(const std::string& sha256, const std::vector<std::uint8_t>& bytes,
                   Millis now) override;
  Result<std::vector<std::uint8_t>> GetModule(const std::string& sha256) override;

  Result<FunctionVersion> PutFunction(std::int64_t owner_id, const std::string& name,
                                      const std::string& module_sha256, std::int64_t module_size,
                                      const FunctionSettings& settings, Millis now) override;
  Result<Function> FindFunction(std::int64_t owner_id, const std::string& name) override;
  Result<std::vector<Function>> ListFunctions(std::int64_t owner_id) override;
  Result<std::vector<FunctionVersion>> ListVersions(std::int64_t owner_id,
                                                    const std::string& name) override;
  Result<FunctionVersion> GetVersion(std::int64_t function_id, std::int64_t version) override;
  Status DeleteFunction(std::int64_t owner_id, const std::string& name) override;
  Status PutFunctionSource(std::int64_t function_id, std::int64_t version,
                           const FunctionSource& source) override;
  Result<FunctionSource> GetFunctionSource(std::int64_t function_id,
                                           std::int64_t version) override;

  Status EnqueueInvocations(const std::vector<Invocation>& invocations) override;
  Result<Invocation> FindInvocation(std::int64_t owner_id, const std::string& id) override;
  Result<std::vector<Invocation>> ListInvocations(std::int64_t owner_id,
                                                  const InvocationFilter& filter) override;
  Result<std::vector<InvocationEvent>> ListEvents(std::int64_t owner_id,
                                                  const std::string& id) override;
  Result<std::vector<Invocation>> ListQueued(int limit) override;
  Status MarkDispatched(const std::string& id, const std::string& node_id, Millis lease_deadline,
                        Millis now) override;
  Status MarkRunning(const std::string& id, Millis lease_deadline, Millis now) override;
  Status ExtendLeases(const std::string& node_id, Millis lease_deadline) override;
  Status Complete(const std::string& id, const std::string& node_id, InvocationState final_state,
                  const InvocationResult& result, Millis now) override;
  Status ReturnUnrun(const std::string& id, const std::string& node_id, const std::string& reason,
                     Millis now) override;
  Result<std::vector<Status>> ApplyTransitions(const std::vector<Transition>& transitions,
                                               Millis now) override;
  Result<Requeued> RequeueExpired(Millis now, int max_attempts,
                                  const std::string& reason) override;
  Result<Requeued> RequeueNode(const std::string& node_id, Millis now, int max_attempts,
                               const std::string& reason) override;
  Result<std::int64_t> CountActive(std::int64_t owner_id) override;
  Result<std::int64_t> CountSince(std::int64_t owner_id, Millis since) override;
  Result<std::int64_t> PruneInvocations(Millis before) override;

  Result<Schedule> AddSchedule(const Schedule& schedule) override;
  Result<std::vector<Schedule>> ListSchedules(std::int64_t owner_id,
                                              std::int64_t function_id) override;
  Status RemoveSchedule(std::int64_t owner_id, std::int64_t schedule_id) override;
  Result<std::vector<Schedule>> DueSchedules(Millis now) override;
  Status FireSchedule(std::int64_t schedule_id, Millis fired_at, Millis next_fire_at,
                      const Invocation& invocation) override;

  Status AddUsage(std::int64_t user_id, const std::string& period, std::int64_t invocations,
                  double compute_mb_seconds, std::uint64_t fuel) override;
  Result<std::vector<Usage>> ListUsage(std::int64_t user_id) override;
  Result<std::vector<UsageDay>> ListUsageDays(std::int64_t user_id,
                                              const std::string& month) override;
  Result<std::vector<FunctionStats>> ListFunctionStats(std::int64_t owner_id,
                                                       Millis since) override;
  Result<std::vector<NodeTier>> ListNodeTiers(std::int64_t owner_id, std::int64_t function_id,
                                              std::int64_t version) override;

 private:
  SqliteStore(std::unique_ptr<Db> writer, const std::string& path,
              const SqliteStoreOptions& options);

  // Runs `body(db)` on the writer as one unit: committed when `body`
  // succeeds, rolled back otherwise. Returns body's Result once committed,
  // or the commit's failure.
  template <class Body>
  auto Write(Body&& body) -> decltype(body(std::declval<Db&>())) {
    using R = decltype(body(std::declval<Db&>()));
    std::optional<R> outcome;
    Status committed = committer_.Run([&](Db& db) -> Status {
      outcome.emplace(body(db));
      if (!*outcome) return Fail(outcome->error());
      return {};
    });
    if (!committed) return Fail(std::move(committed).error());
    return std::move(*outcome);
  }

  // Runs `body(db)` on a read connection.
  template <class Body>
  auto Read(Body&& body) -> decltype(body(std::declval<Db&>())) {
    auto lease = readers_.Acquire();
    if (!lease) return Fail(std::move(lease).error());
    return body(lease->db());
  }

  // Puts the leased invocations `lease_query` selects (id, node_id,
  // attempts; parameter ?1 bound by `bind`) back in the queue, or fails
  // those out of attempts. Runs inside Write.
  template <class Bind>
  Result<Requeued> RequeueWhere(std::string_view lease_query, Bind bind, Millis now,
                                int max_attempts, const std::string& reason);

  std::unique_ptr<Db> writer_;
  GroupCommitter committer_;
  std::unique_ptr<Checkpointer> checkpointer_;
  ReaderPool readers_;
};

}  // namespace milf::store::sqlite
