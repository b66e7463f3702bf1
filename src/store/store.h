// Store: everything the server keeps durably — users and credentials,
// nodes, functions and their immutable versions, content-addressed module
// bytes, invocations with their state transitions and outputs (the sink),
// the invocation queue with its leases, cron schedules, and usage.
//
// The interface is deliberately narrow and free of SQL so that a second
// backend (PostgreSQL, for multi-server deployments) can implement it; the
// first is SQLite in WAL mode (OpenSqliteStore). Every method is atomic.
//
// Tenancy: every owner-scoped read takes the caller's user id and returns
// kNotFound for rows of other users, exactly as for missing rows, so the API
// can answer 404 without learning whether the row exists.
//
// Errors: Result<T> with Error::code one of "not_found", "conflict"
// (unique name taken, stale state transition), "invalid_argument", "io"
// (the database failed). Nothing throws.
//
// Thread-safety: all methods may be called concurrently from any thread.
// Times are Unix milliseconds (UTC), supplied by the caller so that tests
// control the clock.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace milf::store {

using Millis = std::int64_t;

enum class Role { kAdmin, kDeveloper };

struct User {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kDeveloper;
  std::string password_hash;  // Argon2id, libsodium's encoded form
  Millis created_at = 0;
};

struct Quota {
  std::int64_t max_concurrent = 64;       // invocations queued or running at once
  std::int64_t max_per_day = 1'000'000;   // invocations accepted per UTC day
  std::int64_t max_memory_mb = 512;       // per-function memory setting
};

struct ApiKey {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string name;
  std::string prefix;      // first characters of the key, shown in listings
  std::string key_hash;    // SHA-256 hex of the whole key
  Millis created_at = 0;
  std::optional<Millis> last_used_at;
};

struct RefreshToken {
  std::string token_hash;  // SHA-256 hex
  std::int64_t user_id = 0;
  Millis expires_at = 0;
};

struct EnrollmentToken {
  std::string token_hash;  // SHA-256 hex
  std::int64_t created_by = 0;
  Millis expires_at = 0;
  std::optional<std::string> used_by_node;
};

struct Node {
  std::string id;           // device id, chosen by the server at enrollment
  std::string name;         // the device's own name
  std::string secret_hash;  // SHA-256 hex of the node secret
  std::string target;       // e.g. "x86_64-linux"
  Millis created_at = 0;
  Millis last_seen_at = 0;
  std::string telemetry_json;  // the last heartbeat's telemetry, as received
};

struct FunctionSettings {
  std::int64_t memory_mb = 64;
  std::int64_t timeout_ms = 5'000;
  std::optional<std::int64_t> fuel;
  std::vector<std::string> env;  // "KEY=VALUE"
  std::string entry;             // "" = automatic (_start, else wasm_main)
  // "auto": AOT once a node holds the artifact; "interp"; "aot": on AOT as
  // soon as possible (docs/aot.md).
  std::string tier = "auto";
};

struct FunctionVersion {
  std::int64_t function_id = 0;
  std::int64_t version = 0;  // 1, 2, ...
  std::string module_sha256;
  std::int64_t module_size = 0;
  FunctionSettings settings;
  Millis created_at = 0;
};

struct FunctionSource {
  std::string filename;  // a bare name: "hello.c"
  std::string text;
};

struct Function {
  std::int64_t id = 0;
  std::int64_t owner_id = 0;
  std::string name;
  std::int64_t latest_version = 0;
  Millis created_at = 0;
  Millis updated_at = 0;
};

enum class InvocationState { kQueued, kDispatched, kRunning, kSucceeded, kFailed, kTimedOut };

struct InvocationResult {
  std::string status;       // the execution core's RunStatus name, or "lost" etc.
  int exit_code = 0;
  std::string message;
  std::uint64_t fuel_used = 0;
  std::uint64_t peak_memory_bytes = 0;
  std::int64_t wall_micros = 0;
  std::vector<std::uint8_t> output;  // stdout
  std::vector<std::uint8_t> stderr_data;
  bool output_truncated = false;
  bool stderr_truncated = false;
  std::string output_sha256;
  std::string tier;  // what the node ran it on: "interp", "aot", or "" (unknown)
};

struct Invocation {
  std::string id;  // 26-char ULID-like, sortable by creation time
  std::int64_t owner_id = 0;
  std::int64_t function_id = 0;
  std::string function_name;
  std::int64_t version = 0;
  InvocationState state = InvocationState::kQueued;
  std::vector<std::uint8_t> input;
  int attempts = 0;  // dispatches so far
  std::optional<std::string> node_id;
  std::optional<std::int64_t> schedule_id;
  Millis queued_at = 0;
  std::optional<Millis> dispatched_at;
  std::optional<Millis> started_at;
  std::optional<Millis> finished_at;
  std::optional<Millis> lease_deadline;
  std::optional<InvocationResult> result;
};

struct InvocationEvent {
  InvocationState state = InvocationState::kQueued;
  Millis at = 0;
  std::optional<std::string> node_id;
  std::string detail;
};

struct InvocationFilter {
  std::optional<std::string> function_name;
  std::optional<InvocationState> state;
  std::optional<Millis> since;
  std::optional<Millis> until;
  std::string after_id;  // pagination cursor: ids strictly older than this
  int limit = 50;
};

struct Schedule {
  std::int64_t id = 0;
  std::int64_t function_id = 0;
  std::int64_t owner_id = 0;
  std::string cron;  // five fields
  std::vector<std::uint8_t> input;
  Millis next_fire_at = 0;  // the next tick not yet fired
  Millis created_at = 0;
};

struct Usage {
  std::string month;  // "2026-11"
  std::int64_t invocations = 0;
  double compute_mb_seconds = 0;  // wall seconds x memory MB
  std::uint64_t fuel = 0;
};

struct UsageDay {
  std::string day;  // "2026-11-22", UTC
  std::int64_t invocations = 0;
  double compute_mb_seconds = 0;  // as in Usage
  std::uint64_t fuel = 0;
};

// One function's invocations over a window, for function listings.
struct FunctionStats {
  std::int64_t function_id = 0;
  std::string name;
  std::int64_t invocations = 0;  // queued within the window
  std::int64_t errors = 0;       // of those, failed or timed out
  std::int64_t finished = 0;     // of those, in any final state
  std::int64_t wall_micros = 0;  // summed over the finished ones
  // The final state of the function's newest finished invocation, at any
  // time (as long as retention kept it); nullopt when there is none.
  std::optional<InvocationState> last_final_state;
};

// The tier one node last ran a function version on.
struct NodeTier {
  std::string node_id;
  std::string tier;        // "interp" or "aot"
  Millis finished_at = 0;  // of that node's newest finished invocation
};

class Store {
 public:
  virtual ~Store() = default;

  // Users. CreateUser: "conflict" when the name is taken.
  virtual Result<User> CreateUser(const std::string& name, Role role,
                                  const std::string& password_hash, Millis now) = 0;
  virtual Result<User> FindUserByName(const std::string& name) = 0;
  virtual Result<User> FindUserById(std::int64_t id) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;
  // Also revokes every refresh token of the user, in the same transaction:
  // sessions started with the old password cannot be renewed.
  virtual Status UpdatePassword(std::int64_t user_id, const std::string& password_hash) = 0;
  // Deletes the user and everything they own.
  virtual Status DeleteUser(std::int64_t user_id) = 0;
  virtual Result<Quota> GetQuota(std::int64_t user_id) = 0;
  virtual Status SetQuota(std::int64_t user_id, const Quota& quota) = 0;

  // Credentials.
  virtual Status AddRefreshToken(const RefreshToken& token) = 0;
  // Removes and returns the token ("not_found" if absent or expired at `now`):
  // refresh tokens are single use and rotate on every refresh.
  virtual Result<RefreshToken> TakeRefreshToken(const std::string& token_hash, Millis now) = 0;
  virtual Result<ApiKey> AddApiKey(const ApiKey& key) = 0;
  // Touches last_used_at, at one-second resolution: a use within a second
  // of the recorded one is not written, and the key returns as stored.
  virtual Result<ApiKey> FindApiKey(const std::string& key_hash, Millis now) = 0;
  virtual Result<std::vector<ApiKey>> ListApiKeys(std::int64_t user_id) = 0;
  virtual Status RevokeApiKey(std::int64_t user_id, std::int64_t key_id) = 0;
  virtual Status AddEnrollmentToken(const EnrollmentToken& token) = 0;
  // Marks the token used by `node_id` ("not_found" if absent, expired or
  // used by another node; using it again for the same node succeeds).
  virtual Status UseEnrollmentToken(const std::string& token_hash, const std::string& node_id,
                                    Millis now) = 0;

  // Nodes. UpsertNode keeps created_at of an existing node.
  virtual Status UpsertNode(const Node& node) = 0;
  virtual Result<Node> FindNode(const std::string& node_id) = 0;
  virtual Result<std::vector<Node>> ListNodes() = 0;
  virtual Status TouchNode(const std::string& node_id, Millis now,
                           const std::string& telemetry_json) = 0;

  // Modules, content-addressed. PutModule is idempotent; "invalid_argument"
  // when `sha256` is not the SHA-256 hex of `bytes`.
  virtual Status PutModule(const std::string& sha256, const std::vector<std::uint8_t>& bytes,
                           Millis now) = 0;
  virtual Result<std::vector<std::uint8_t>> GetModule(const std::string& sha256) = 0;

  // Functions. PutFunction creates the function if needed and appends a new
  // immutable version; returns that version. The module must be stored
  // first ("not_found" otherwise). DeleteFunction also deletes the
  // function's versions, schedules and invocations.
  virtual Result<FunctionVersion> PutFunction(std::int64_t owner_id, const std::string& name,
                                              const std::string& module_sha256,
                                              std::int64_t module_size,
                                              const FunctionSettings& settings, Millis now) = 0;
  virtual Result<Function> FindFunction(std::int64_t owner_id, const std::string& name) = 0;
  virtual Result<std::vector<Function>> ListFunctions(std::int64_t owner_id) = 0;
  virtual Result<std::vector<FunctionVersion>> ListVersions(std::int64_t owner_id,
                                                            const std::string& name) = 0;
  virtual Result<FunctionVersion> GetVersion(std::int64_t function_id, std::int64_t version) = 0;
  virtual Status DeleteFunction(std::int64_t owner_id, const std::string& name) = 0;

  // The single source file a version was compiled from (the compiler
  // service, docs/compiler.md), so an editor can load it again. Versions
  // deployed from a .wasm or an archive have none. PutFunctionSource:
  // "not_found" when the version does not exist. GetFunctionSource:
  // "not_found" when the version has no source. A backend that keeps no
  // sources (this default) refuses with "unsupported" and finds none.
  virtual Status PutFunctionSource(std::int64_t function_id, std::int64_t version,
                                   const FunctionSource& source);
  virtual Result<FunctionSource> GetFunctionSource(std::int64_t function_id, std::int64_t version);

  // Invocations and the queue. EnqueueInvocations inserts all or none, as
  // queued with no attempts; of each Invocation it reads only id, owner_id,
  // function_id, function_name, version, input, schedule_id and queued_at.
  // "conflict" for an id already used; "not_found" unless owner_id owns
  // function_id and the version exists.
  virtual Status EnqueueInvocations(const std::vector<Invocation>& invocations) = 0;
  virtual Result<Invocation> FindInvocation(std::int64_t owner_id, const std::string& id) = 0;
  // Newest first (by id), at most filter.limit (clamped to 1..1000), with
  // queued_at in [since, until). Listings are summaries: input,
  // result->output and result->stderr_data are left empty.
  virtual Result<std::vector<Invocation>> ListInvocations(std::int64_t owner_id,
                                                          const InvocationFilter& filter) = 0;
  virtual Result<std::vector<InvocationEvent>> ListEvents(std::int64_t owner_id,
                                                          const std::string& id) = 0;
  // Queued invocations, oldest first, for the scheduler to place.
  virtual Result<std::vector<Invocation>> ListQueued(int limit) = 0;
  // queued -> dispatched to `node_id` with a lease; "conflict" unless queued.
  virtual Status MarkDispatched(const std::string& id, const std::string& node_id,
                                Millis lease_deadline, Millis now) = 0;
  virtual Status MarkRunning(const std::string& id, Millis lease_deadline, Millis now) = 0;
  virtual Status ExtendLeases(const std::string& node_id, Millis lease_deadline) = 0;
  // dispatched|running -> succeeded|failed|timed_out with the result;
  // "conflict" unless the invocation is dispatched or running on `node_id`.
  // All transitions answer "not_found" for an invocation that no longer
  // exists (deleted with its function or user).
  virtual Status Complete(const std::string& id, const std::string& node_id,
                          InvocationState final_state, const InvocationResult& result,
                          Millis now) = 0;
  // dispatched|running on `node_id` -> queued, its dispatch not counted as
  // an attempt: the node gave the job back without running it (`reason`
  // goes in the event). "conflict" unless it is on `node_id`.
  virtual Status ReturnUnrun(const std::string& id, const std::string& node_id,
                             const std::string& reason, Millis now) = 0;

  // Many EnqueueInvocations (of one invocation) / MarkDispatched /
  // MarkRunning / Complete / ReturnUnrun calls in one transaction: the
  // scheduler's throughput path (one commit for many jobs instead of one
  // each). Each transition succeeds or is refused on its own, with the
  // Status the single call would give, in order, and sees the ones before
  // it (an invocation may be enqueued and dispatched in one batch); the
  // whole call fails only when the database does. The default runs the
  // single calls one by one.
  struct Transition {
    enum class Kind { kEnqueue, kDispatch, kStart, kComplete, kReturn };
    Kind kind = Kind::kDispatch;
    std::string id;             // every kind but kEnqueue
    std::string node_id;        // kDispatch, kComplete, kReturn
    Millis lease_deadline = 0;  // kDispatch, kStart
    InvocationState final_state = InvocationState::kSucceeded;  // kComplete
    InvocationResult result;    // kComplete; kReturn: result.message is the reason
    Invocation invocation;      // kEnqueue
    Millis at = 0;              // when it happened, if not the batch's `now`
  };
  virtual Result<std::vector<Status>> ApplyTransitions(const std::vector<Transition>& transitions,
                                                       Millis now);
  // Every dispatched or running invocation whose lease ended before `now`
  // (or, with node_id, every one on that node) goes back to queued, or to
  // failed with `reason` once it has had `max_attempts` dispatches.
  // Returns the ids re-queued and failed.
  struct Requeued {
    std::vector<std::string> requeued;
    std::vector<std::string> failed;
  };
  virtual Result<Requeued> RequeueExpired(Millis now, int max_attempts,
                                          const std::string& reason) = 0;
  virtual Result<Requeued> RequeueNode(const std::string& node_id, Millis now, int max_attempts,
                                       const std::string& reason) = 0;
  // Invocations of `owner_id` queued, dispatched or running.
  virtual Result<std::int64_t> CountActive(std::int64_t owner_id) = 0;
  virtual Result<std::int64_t> CountSince(std::int64_t owner_id, Millis since) = 0;
  // Deletes finished invocations older than `before`; returns how many.
  virtual Result<std::int64_t> PruneInvocations(Millis before) = 0;

  // Schedules.
  virtual Result<Schedule> AddSchedule(const Schedule& schedule) = 0;
  virtual Result<std::vector<Schedule>> ListSchedules(std::int64_t owner_id,
                                                      std::int64_t function_id) = 0;
  virtual Status RemoveSchedule(std::int64_t owner_id, std::int64_t schedule_id) = 0;
  virtual Result<std::vector<Schedule>> DueSchedules(Millis now) = 0;
  // Atomically enqueues `invocation` and moves the schedule from
  // `fired_at` to `next_fire_at`; "conflict" when another server already
  // fired that tick, so each tick fires exactly once.
  virtual Status FireSchedule(std::int64_t schedule_id, Millis fired_at, Millis next_fire_at,
                              const Invocation& invocation) = 0;

  // Usage, metered per user per UTC day and per month. `period` is a day
  // ("YYYY-MM-DD"), which counts toward that day and its month, or a month
  // ("YYYY-MM"), which counts toward the month only; "invalid_argument"
  // for anything else. ListUsage is newest month first; ListUsageDays gives
  // the days of `month` ("YYYY-MM") that have usage, oldest first.
  virtual Status AddUsage(std::int64_t user_id, const std::string& period,
                          std::int64_t invocations, double compute_mb_seconds,
                          std::uint64_t fuel) = 0;
  virtual Result<std::vector<Usage>> ListUsage(std::int64_t user_id) = 0;
  virtual Result<std::vector<UsageDay>> ListUsageDays(std::int64_t user_id,
                                                      const std::string& month) = 0;

  // Statistics of each of owner_id's functions (one entry per function, by
  // name, zeros for a function with no invocations) over the invocations
  // queued at or after `since`.
  virtual Result<std::vector<FunctionStats>> ListFunctionStats(std::int64_t owner_id,
                                                               Millis since) = 0;
  // Per node, the tier of its newest finished invocation of `version` of
  // the function (as far as retention kept them), ordered by node id.
  virtual Result<std::vector<NodeTier>> ListNodeTiers(std::int64_t owner_id,
                                                      std::int64_t function_id,
                                                      std::int64_t version) = 0;
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode and
// applies pending schema migrations. The database and its -wal and -shm
// files are readable by their owner only (mode 0600), as they hold
// credential hashes and users' data. Fails with "io" when the file is not a
// usable database or its schema is newer than this build knows.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

std::string StateName(InvocationState state);
std::optional<InvocationState> ParseState(const std::string& name);

}  // namespace milf::store
