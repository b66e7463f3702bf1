// Invocations: the queue, state transitions with their events, leases and
// their expiry, counts, retention, and cron firings (which enqueue).
//
// Every transition is one UPDATE conditioned on the state it leaves, plus
// the matching invocation_events row, in one transaction: a transition
// either happens once, with its event, or not at all.
#include <algorithm>

#include "store/sqlite/errors.h"
#include "store/sqlite/sqlite_store.h"

namespace milf::store::sqlite {
namespace {

constexpr int kMaxListLimit = 1'000;
constexpr std::int64_t kPruneChunk = 500;

bool IsFinal(InvocationState state) {
  return state == InvocationState::kSucceeded || state == InvocationState::kFailed ||
         state == InvocationState::kTimedOut;
}

// `seq` is the invocation's event_seq after the transition the event
// records.
Status AddEvent(Db& db, const std::string& id, std::int64_t seq, InvocationState state, Millis at,
                const std::optional<std::string>& node_id, const std::string& detail) {
  auto insert = db.Prepare(
      "INSERT INTO invocation_events (invocation_id, seq, state, at, node_id, detail) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert) return Fail(std::move(insert).error());
  return insert->BindText(1, id)
      .BindInt(2, seq)
      .BindText(3, StateName(state))
      .BindInt(4, at)
      .BindOptText(5, node_id)
      .BindText(6, detail)
      .Run();
}

// Records the event of the transition just applied to `id`, reading its
// seq and node from the updated row; `detail_sql` is an expression over the
// row. The hot transitions use this rather than UPDATE ... RETURNING,
// which SQLite runs through a temporary table (about a fifth of a
// transition's time); the rare ones (requeue, lost) keep RETURNING and
// AddEvent because their event names the node the row no longer holds.
Status AddEventFromRow(Db& db, const std::string& id, InvocationState state, Millis at,
                       std::string_view detail_sql) {
  const std::string sql =
      "INSERT INTO invocation_events (invocation_id, seq, state, at, node_id, detail) "
      "SELECT id, event_seq, ?2, ?3, node_id, " + std::string(detail_sql) +
      " FROM invocations WHERE id = ?1";
  auto insert = db.Prepare(sql);
  if (!insert) return Fail(std::move(insert).error());
  return insert->BindText(1, id).BindText(2, StateName(state)).BindInt(3, at).Run();
}

// Why inserting `invocation` failed, in the caller's terms: its id is
// taken, or its function version does not exist for its owner.
Error ExplainInsertFailure(Error error, const Invocation& invocation) {
  error = Explain(std::move(error), "conflict", "invocation " + invocation.id + " already exists");
  return Explain(std::move(error), "not_found",
                 "function " + std::to_string(invocation.function_id) + " version " +
                     std::to_string(invocation.version) + " of user " +
                     std::to_string(invocation.owner_id) + " not found");
}

// Inserts `invocation` as queued, whatever its state fields say.
Status InsertQueued(Db& db, const Invocation& invocation, const std::string& detail) {
  if (invocation.id.empty()) return Fail("invalid_argument", "an invocation id is empty");
  auto insert = db.Prepare(
      "INSERT INTO invocations (id, owner_id, function_id, function_name, version, state, "
      "attempts, schedule_id, queued_at, input) "
      "VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?7, ?8)");
  if (!insert) return Fail(std::move(insert).error());
  insert->BindText(1, invocation.id)
      .BindInt(2, invocation.owner_id)
      .BindInt(3, invocation.function_id)
      .BindText(4, invocation.function_name)
      .BindInt(5, invocation.version)
      .BindOptInt(6, invocation.schedule_id)
      .BindInt(7, invocation.queued_at)
      .BindBlob(8, invocation.input);
  if (auto ran = insert->Run(); !ran) {
    return Fail(ExplainInsertFailure(std::move(ran).error(), invocation));
  }
  return AddEvent(db, invocation.id, 1, InvocationState::kQueued, invocation.queued_at,
                  std::nullopt, detail);
}

// Inserts `invocation` already dispatched to `node_id`, with both events:
// what InsertQueued and Dispatch do one after the other, without adding
// the row to the queue's index and taking it out again.
Status InsertDispatched(Db& db, const Invocation& invocation, const std::string& node_id,
                        Millis lease_deadline, Millis now) {
  if (invocation.id.empty()) return Fail("invalid_argument", "an invocation id is empty");
  auto insert = db.Prepare(
      "INSERT INTO invocations (id, owner_id, function_id, function_name, version, state, "
      "attempts, event_seq, node_id, schedule_id, queued_at, dispatched_at, lease_deadline, "
      "input) VALUES (?1, ?2, ?3, ?4, ?5, 'dispatched', 1, 2, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!insert) return Fail(std::move(insert).error());
  insert->BindText(1, invocation.id)
      .BindInt(2, invocation.owner_id)
      .BindInt(3, invocation.function_id)
      .BindText(4, invocation.function_name)
      .BindInt(5, invocation.version)
      .BindText(6, node_id)
      .BindOptInt(7, invocation.schedule_id)
      .BindInt(8, invocation.queued_at)
      .BindInt(9, now)
      .BindInt(10, lease_deadline)
      .BindBlob(11, invocation.input);
  if (auto ran = insert->Run(); !ran) {
    return Fail(ExplainInsertFailure(std::move(ran).error(), invocation));
  }
  if (auto queued = AddEvent(db, invocation.id, 1, InvocationState::kQueued, invocation.queued_at,
                             std::nullopt, "");
      !queued) {
    return queued;
  }
  return AddEvent(db, invocation.id, 2, InvocationState::kDispatched, now, node_id, "attempt 1");
}

// Why a conditional transition of `id` matched no row: "not_found", or
// "conflict" naming the state it is in.
Status Refused(Db& db, const std::string& id, std::string_view expected) {
  auto query = db.Prepare("SELECT state, node_id FROM invocations WHERE id = ?1");
  if (!query) return Fail(std::move(query).error());
  query->BindText(1, id);
  auto row = query->Step();
  if (!row) return Fail(std::move(row).error());
  if (!*row) return Fail("not_found", "invocation " + id + " not found");
  std::string message = "invocation " + id + " is " + query->Text(0);
  if (!query->IsNull(1)) message += " on node " + query->Text(1);
  return Fail("conflict", message + ", not " + std::string(expected));
}

// Steps an UPDATE ... RETURNING <integer> that must match one row.
Result<std::int64_t> StepReturningInt(Query& query, const std::string& id) {
  auto row = query.Step();
  if (!row) return Fail(std::move(row).error());
  if (!*row) return Fail("not_found", "invocation " + id + " not found");
  return query.Int(0);
}

struct Leased {
  std::string id;
  std::optional<std::string> node_id;
  std::int64_t attempts;
};

Status FailLost(Db& db, const Leased& leased, Millis now, const std::string& reason) {
  auto fail = db.Prepare(
      "UPDATE invocations SET state = 'failed', finished_at = ?2, lease_deadline = NULL, "
      "result_status = 'lost', exit_code = 0, result_message = ?3, fuel_used = 0, "
      "peak_memory_bytes = 0, wall_micros = 0, output_truncated = 0, stderr_truncated = 0, "
      "output_sha256 = '', output = x'', stderr_data = x'', tier = '', event_seq = event_seq + 1 "
      "WHERE id = ?1 RETURNING event_seq");
  if (!fail) return Fail(std::move(fail).error());
  fail->BindText(1, leased.id).BindInt(2, now).BindText(3, reason);
  auto seq = StepReturningInt(*fail, leased.id);
  if (!seq) return Fail(std::move(seq).error());
  return AddEvent(db, leased.id, *seq, InvocationState::kFailed, now, leased.node_id,
                  "lost after " + std::to_string(leased.attempts) + " attempts: " + reason);
}

Status Requeue(Db& db, const Leased& leased, Millis now, const std::string& reason) {
  auto requeue = db.Prepare(
      "UPDATE invocations SET state = 'queued', node_id = NULL, dispatched_at = NULL, "
      "started_at = NULL, lease_deadline = NULL, event_seq = event_seq + 1 "
      "WHERE id = ?1 RETURNING event_seq");
  if (!requeue) return Fail(std::move(requeue).error());
  requeue->BindText(1, leased.id);
  auto seq = StepReturningInt(*requeue, leased.id);
  if (!seq) return Fail(std::move(seq).error());
  return AddEvent(db, leased.id, *seq, InvocationState::kQueued, now, leased.node_id,
                  "requeued after attempt " + std::to_string(leased.attempts) + ": " + reason);
}


Status Dispatch(Db& db, const std::string& id, const std::string& node_id, Millis lease_deadline,
                Millis now) {
  auto update = db.Prepare(
      "UPDATE invocations SET state = 'dispatched', node_id = ?2, attempts = attempts + 1, "
      "dispatched_at = ?4, lease_deadline = ?3, event_seq = event_seq + 1 "
      "WHERE id = ?1 AND state = 'queued'");
  if (!update) return Fail(std::move(update).error());
  update->BindText(1, id).BindText(2, node_id).BindInt(3, lease_deadline).BindInt(4, now);
  if (auto ran = update->Run(); !ran) return ran;
  if (db.Changes() == 0) return Refused(db, id, "queued");
  return AddEventFromRow(db, id, InvocationState::kDispatched, now, "'attempt ' || attempts");
}

Status Start(Db& db, const std::string& id, Millis lease_deadline, Millis now) {
  auto update = db.Prepare(
      "UPDATE invocations SET state = 'running', started_at = ?3, lease_deadline = ?2, "
      "event_seq = event_seq + 1 WHERE id = ?1 AND state = 'dispatched'");
  if (!update) return Fail(std::move(update).error());
  update->BindText(1, id).BindInt(2, lease_deadline).BindInt(3, now);
  if (auto ran = update->Run(); !ran) return ran;
  if (db.Changes() == 0) return Refused(db, id, "dispatched");
  return AddEventFromRow(db, id, InvocationState::kRunning, now, "''");
}

Status Finish(Db& db, const std::string& id, const std::string& node_id,
              InvocationState final_state, const InvocationResult& result, Millis now) {
  auto update = db.Prepare(
      "UPDATE invocations SET state = ?3, finished_at = ?4, lease_deadline = NULL, "
      "result_status = ?5, exit_code = ?6, result_message = ?7, fuel_used = ?8, "
      "peak_memory_bytes = ?9, wall_micros = ?10, output_truncated = ?11, "
      "stderr_truncated = ?12, output_sha256 = ?13, output = ?14, stderr_data = ?15, "
      "tier = ?16, event_seq = event_seq + 1 "
      "WHERE id = ?1 AND node_id = ?2 AND state IN ('dispatched', 'running')");
  if (!update) return Fail(std::move(update).error());
  update->BindText(1, id)
      .BindText(2, node_id)
      .BindText(3, StateName(final_state))
      .BindInt(4, now)
      .BindText(5, result.status)
      .BindInt(6, result.exit_code)
      .BindText(7, result.message)
      .BindInt(8, static_cast<std::int64_t>(result.fuel_used))
      .BindInt(9, static_cast<std::int64_t>(result.peak_memory_bytes))
      .BindInt(10, result.wall_micros)
      .BindInt(11, result.output_truncated ? 1 : 0)
      .BindInt(12, result.stderr_truncated ? 1 : 0)
      .BindText(13, result.output_sha256)
      .BindBlob(14, result.output)
      .BindBlob(15, result.stderr_data)
      .BindText(16, result.tier);
  if (auto ran = update->Run(); !ran) return ran;
  if (db.Changes() == 0) return Refused(db, id, "dispatched or running on node " + node_id);
  return AddEventFromRow(db, id, final_state, now,
                         "CASE WHEN result_message = '' THEN result_status "
                         "ELSE result_status || ': ' || result_message END");
}

Status Return(Db& db, const std::string& id, const std::string& node_id,
              const std::string& reason, Millis now) {
  auto update = db.Prepare(
      "UPDATE invocations SET state = 'queued', node_id = NULL, dispatched_at = NULL, "
      "started_at = NULL, lease_deadline = NULL, attempts = max(attempts - 1, 0), "
      "event_seq = event_seq + 1 "
      "WHERE id = ?1 AND node_id = ?2 AND state IN ('dispatched', 'running') RETURNING event_seq");
  if (!update) return Fail(std::move(update).error());
  update->BindText(1, id).BindText(2, node_id);
  auto row = update->Step();
  if (!row) return Fail(std::move(row).error());
  if (!*row) return Refused(db, id, "dispatched or running on node " + node_id);
  return AddEvent(db, id, update->Int(0), InvocationState::kQueued, now, node_id,
                  "returned unrun by the node: " + reason);
}

// One transition of a batch, checked as the single calls check it.
Status Apply(Db& db, const Store::Transition& transition, Millis batch_now) {
  using Kind = Store::Transition::Kind;
  const Millis now = transition.at != 0 ? transition.at : batch_now;
  switch (transition.kind) {
    case Kind::kEnqueue:
      return InsertQueued(db, transition.invocation, "");
    case Kind::kDispatch:
      if (transition.node_id.empty()) return Fail("invalid_argument", "the node id is empty");
      return Dispatch(db, transition.id, transition.node_id, transition.lease_deadline, now);
    case Kind::kStart:
      return Start(db, transition.id, transition.lease_deadline, now);
    case Kind::kComplete:
      if (!IsFinal(transition.final_state)) {
        return Fail("invalid_argument",
                    "Complete needs a final state, not " + StateName(transition.final_state));
      }
      return Finish(db, transition.id, transition.node_id, transition.final_state,
                    transition.result, now);
    case Kind::kReturn:
      if (transition.node_id.empty()) return Fail("invalid_argument", "the node id is empty");
      return Return(db, transition.id, transition.node_id, transition.result.message, now);
  }
  return Fail("invalid_argument", "unknown transition kind");
}

}  // namespace

Status SqliteStore::EnqueueInvocations(const std::vector<Invocation>& invocations) {
  if (invocations.empty()) return {};
  return Write([&](Db& db) -> Status {
    for (const Invocation& invocation : invocations) {
      if (auto inserted = InsertQueued(db, invocation, ""); !inserted) return inserted;
    }
    return {};
  });
}

Result<Invocation> SqliteStore::FindInvocation(std::int64_t owner_id, const std::string& id) {
  return Read([&](Db& db) -> Result<Invocation> {
    static const std::string kSql = "SELECT " + std::string(kInvocationColumns) +
                                    " FROM invocations WHERE id = ?1 AND owner_id = ?2";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindText(1, id).BindInt(2, owner_id);
    return ReadOne<Invocation>(*query, ReadInvocation, "invocation");
  });
}

Result<std::vector<Invocation>> SqliteStore::ListInvocations(std::int64_t owner_id,
                                                             const InvocationFilter& filter) {
  // The statement is assembled from the filters in use, so each shape gets
  // its own cached statement and the planner sees only real constraints.
  std::string sql = "SELECT " + std::string(kInvocationSummaryColumns) +
                    " FROM invocations WHERE owner_id = ?1";
  if (filter.function_name) {
    sql += " AND function_id = (SELECT id FROM functions WHERE owner_id = ?1 AND name = ?2)";
  }
  if (filter.state) sql += " AND state = ?3";
  if (filter.since) sql += " AND queued_at >= ?4";
  if (filter.until) sql += " AND queued_at < ?5";
  if (!filter.after_id.empty()) sql += " AND id < ?6";
  sql += " ORDER BY id DESC LIMIT ?7";
  const int limit = std::clamp(filter.limit, 1, kMaxListLimit);
  return Read([&](Db& db) -> Result<std::vector<Invocation>> {
    auto query = db.Prepare(sql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, owner_id).BindInt(7, limit);
    if (filter.function_name) query->BindText(2, *filter.function_name);
    if (filter.state) query->BindText(3, StateName(*filter.state));
    if (filter.since) query->BindInt(4, *filter.since);
    if (filter.until) query->BindInt(5, *filter.until);
    if (!filter.after_id.empty()) query->BindText(6, filter.after_id);
    return ReadAll<Invocation>(*query, ReadInvocation);
  });
}

Result<std::vector<InvocationEvent>> SqliteStore::ListEvents(std::int64_t owner_id,
                                                             const std::string& id) {
  auto events = Read([&](Db& db) -> Result<std::vector<InvocationEvent>> {
    static const std::string kSql =
        "SELECT " + std::string(kEventColumns) +
        " FROM invocation_events WHERE invocation_id = ?1 "
        "AND EXISTS (SELECT 1 FROM invocations WHERE id = ?1 AND owner_id = ?2) ORDER BY seq";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindText(1, id).BindInt(2, owner_id);
    return ReadAll<InvocationEvent>(*query, ReadEvent);
  });
  // Every invocation has its "queued" event, so none means no invocation.
  if (events && events->empty()) return Fail("not_found", "invocation not found");
  return events;
}

Result<std::vector<Invocation>> SqliteStore::ListQueued(int limit) {
  return Read([&](Db& db) -> Result<std::vector<Invocation>> {
    static const std::string kSql = "SELECT " + std::string(kInvocationColumns) +
                                    " FROM invocations WHERE node_id IS NULL AND "
                                    "finished_at IS NULL ORDER BY queued_at, id LIMIT ?1";
    auto query = db.Prepare(kSql);
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, std::max(limit, 0));
    return ReadAll<Invocation>(*query, ReadInvocation);
  });
}

Status SqliteStore::MarkDispatched(const std::string& id, const std::string& node_id,
                                   Millis lease_deadline, Millis now) {
  if (node_id.empty()) return Fail("invalid_argument", "the node id is empty");
  return Write([&](Db& db) { return Dispatch(db, id, node_id, lease_deadline, now); });
}

Status SqliteStore::MarkRunning(const std::string& id, Millis lease_deadline, Millis now) {
  return Write([&](Db& db) { return Start(db, id, lease_deadline, now); });
}

Status SqliteStore::ExtendLeases(const std::string& node_id, Millis lease_deadline) {
  return Write([&](Db& db) -> Status {
    // max(): a late or reordered heartbeat never shortens a lease.
    auto update = db.Prepare(
        "UPDATE invocations SET lease_deadline = max(lease_deadline, ?2) "
        "WHERE node_id = ?1 AND finished_at IS NULL");
    if (!update) return Fail(std::move(update).error());
    return update->BindText(1, node_id).BindInt(2, lease_deadline).Run();
  });
}

Status SqliteStore::Complete(const std::string& id, const std::string& node_id,
                             InvocationState final_state, const InvocationResult& result,
                             Millis now) {
  if (!IsFinal(final_state)) {
    return Fail("invalid_argument", "Complete needs a final state, not " + StateName(final_state));
  }
  return Write([&](Db& db) { return Finish(db, id, node_id, final_state, result, now); });
}

Status SqliteStore::ReturnUnrun(const std::string& id, const std::string& node_id,
                               const std::string& reason, Millis now) {
  if (node_id.empty()) return Fail("invalid_argument", "the node id is empty");
  return Write([&](Db& db) { return Return(db, id, node_id, reason, now); });
}

Result<std::vector<Status>> SqliteStore::ApplyTransitions(
    const std::vector<Transition>& transitions, Millis now) {
  if (transitions.empty()) return std::vector<Status>{};
  return Write([&](Db& db) -> Result<std::vector<Status>> {
    std::vector<Status> outcomes;
    outcomes.reserve(transitions.size());
    for (std::size_t i = 0; i < transitions.size(); ++i) {
      const Transition& transition = transitions[i];
      // An enqueue followed by the dispatch of the same invocation (an
      // invoke placed at once) is one insert.
      if (i + 1 < transitions.size() && transition.kind == Transition::Kind::kEnqueue &&
          transitions[i + 1].kind == Transition::Kind::kDispatch &&
          transitions[i + 1].id == transition.invocation.id &&
          !transitions[i + 1].node_id.empty()) {
        const Transition& dispatch = transitions[i + 1];
        Status inserted =
            InsertDispatched(db, transition.invocation, dispatch.node_id, dispatch.lease_deadline,
                             dispatch.at != 0 ? dispatch.at : now);
        if (!inserted && inserted.error().code == "io") return Fail(std::move(inserted).error());
        outcomes.push_back(inserted);
        outcomes.push_back(inserted ? Status()
                                    : Status(Fail("not_found", "invocation " +
                                                                   transition.invocation.id +
                                                                   " not found")));
        ++i;
        continue;
      }
      Status outcome = Apply(db, transition, now);
      // A refused transition wrote nothing (each is one conditional UPDATE
      // that matched no row, or an insert that failed), so the others go
      // on; a database failure ends the whole batch.
      if (!outcome && outcome.error().code == "io") return Fail(std::move(outcome).error());
      outcomes.push_back(std::move(outcome));
    }
    return outcomes;
  });
}

template <class Bind>
Result<Store::Requeued> SqliteStore::RequeueWhere(std::string_view lease_query, Bind bind,
                                                  Millis now, int max_attempts,
                                                  const std::string& reason) {
  if (max_attempts < 1) return Fail("invalid_argument", "max_attempts must be at least 1");
  return Write([&](Db& db) -> Result<Requeued> {
    auto select = db.Prepare(lease_query);
    if (!select) return Fail(std::move(select).error());
    bind(*select);
    // Read them all before changing any: updating rows under an open scan
    // of the same index could visit a row twice.
    auto leased = ReadAll<Leased>(*select, [](const Query& row) {
      return Leased{row.Text(0), row.OptText(1), row.Int(2)};
    });
    if (!leased) return Fail(std::move(leased).error());
    Requeued outcome;
    for (const Leased& invocation : *leased) {
      const bool out_of_attempts = invocation.attempts >= max_attempts;
      auto done = out_of_attempts ? FailLost(db, invocation, now, reason)
                                  : Requeue(db, invocation, now, reason);
      if (!done) return Fail(std::move(done).error());
      (out_of_attempts ? outcome.failed : outcome.requeued).push_back(invocation.id);
    }
    return outcome;
  });
}

Result<Store::Requeued> SqliteStore::RequeueExpired(Millis now, int max_attempts,
                                                    const std::string& reason) {
  return RequeueWhere(
      "SELECT id, node_id, attempts FROM invocations INDEXED BY invocations_leased "
      "WHERE node_id IS NOT NULL AND finished_at IS NULL AND lease_deadline < ?1 ORDER BY id",
      [&](Query& query) { query.BindInt(1, now); }, now, max_attempts, reason);
}

Result<Store::Requeued> SqliteStore::RequeueNode(const std::string& node_id, Millis now,
                                                 int max_attempts, const std::string& reason) {
  return RequeueWhere(
      "SELECT id, node_id, attempts FROM invocations "
      "WHERE node_id = ?1 AND finished_at IS NULL ORDER BY id",
      [&](Query& query) { query.BindText(1, node_id); }, now, max_attempts, reason);
}

Result<std::int64_t> SqliteStore::CountActive(std::int64_t owner_id) {
  return Read([&](Db& db) -> Result<std::int64_t> {
    auto query = db.Prepare(
        "SELECT count(*) FROM invocations "
        "WHERE owner_id = ?1 AND finished_at IS NULL");
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, owner_id);
    return ReadOne<std::int64_t>(*query, [](const Query& row) { return row.Int(0); }, "count");
  });
}

Result<std::int64_t> SqliteStore::CountSince(std::int64_t owner_id, Millis since) {
  return Read([&](Db& db) -> Result<std::int64_t> {
    auto query =
        db.Prepare("SELECT count(*) FROM invocations WHERE owner_id = ?1 AND queued_at >= ?2");
    if (!query) return Fail(std::move(query).error());
    query->BindInt(1, owner_id).BindInt(2, since);
    return ReadOne<std::int64_t>(*query, [](const Query& row) { return row.Int(0); }, "count");
  });
}

Result<std::int64_t> SqliteStore::PruneInvocations(Millis before) {
  // In chunks, each its own transaction, so a large backlog never holds the
  // writer for long.
  std::int64_t pruned = 0;
  for (;;) {
    auto chunk = Write([&](Db& db) -> Result<std::int64_t> {
      auto prune = db.Prepare(
          "DELETE FROM invocations WHERE rowid IN (SELECT rowid FROM invocations "
          "WHERE finished_at < ?1 AND state IN ('succeeded', 'failed', 'timed_out') LIMIT ?2)");
      if (!prune) return Fail(std::move(prune).error());
      if (auto ran = prune->BindInt(1, before).BindInt(2, kPruneChunk).Run(); !ran) {
        return Fail(std::move(ran).error());
      }
      return db.Changes();
    });
    if (!chunk) return chunk;
    pruned += *chunk;
    if (*chunk < kPruneChunk) return pruned;
  }
}

Status SqliteStore::FireSchedule(std::int64_t schedule_id, Millis fired_at, Millis next_fire_at,
                                 const Invocation& invocation) {
  if (next_fire_at <= fired_at) {
    return Fail("invalid_argument", "a schedule's next tick must come after the one fired");
  }
  return Write([&](Db& db) -> Status {
    // The tick is claimed by moving next_fire_at off it; a second firing of
    // the same tick finds it moved and changes nothing.
    auto claim = db.Prepare(
        "UPDATE schedules SET next_fire_at = ?3 WHERE id = ?1 AND next_fire_at = ?2 "
        "RETURNING owner_id, function_id");
    if (!claim) return Fail(std::move(claim).error());
    claim->BindInt(1, schedule_id).BindInt(2, fired_at).BindInt(3, next_fire_at);
    auto row = claim->Step();
    if (!row) return Fail(std::move(row).error());
    if (!*row) {
      auto current = db.Prepare("SELECT next_fire_at FROM schedules WHERE id = ?1");
      if (!current) return Fail(std::move(current).error());
      current->BindInt(1, schedule_id);
      auto found = current->Step();
      if (!found) return Fail(std::move(found).error());
      if (!*found) return Fail("not_found", "schedule " + std::to_string(schedule_id) + " not found");
      return Fail("conflict", "schedule " + std::to_string(schedule_id) + " is at tick " +
                                  std::to_string(current->Int(0)) + ", not " +
                                  std::to_string(fired_at) + ": that tick was already fired");
    }
    if (claim->Int(0) != invocation.owner_id || claim->Int(1) != invocation.function_id) {
      return Fail("invalid_argument", "the invocation is not for schedule " +
                                          std::to_string(schedule_id) + "'s function");
    }
    Invocation scheduled = invocation;
    scheduled.schedule_id = schedule_id;
    return InsertQueued(db, scheduled, "fired by schedule " + std::to_string(schedule_id));
  });
}

}  // namespace milf::store::sqlite
