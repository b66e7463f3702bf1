// Store benchmarks on a real SQLite file (WAL, synchronous=NORMAL) in a
// temporary directory: enqueue in batches of 1 and 100, the dispatch and
// completion transitions one call each and batched (ApplyTransitions), a
// whole invocation's life unbatched, batched and from several threads at
// once (group commit), and owner-scoped reads. The baselines are raw SQLite on
// the same schema and file: the bare cost of a write transaction, and of the
// same enqueue (invocation row + event row) without the Store around it.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/sha256.h"
#include "store/ids.h"
#include "store/store.h"

namespace milf::store {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "milf-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void Check(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.error().message.c_str());
    std::abort();
  }
}

// A store with one user and one deployed function, ready for invocations.
struct Bench {
  Bench() {
    auto opened = OpenSqliteStore(dir.File("milf.db"));
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
      std::abort();
    }
    store = std::move(*opened);
    user = *store->CreateUser("bench", Role::kDeveloper, "hash", 1);
    const std::vector<std::uint8_t> module = {0, 'a', 's', 'm', 1, 0, 0, 0};
    Check(store->PutModule(Sha256Hex(module), module, 1), "module");
    version = *store->PutFunction(user.id, "fn", Sha256Hex(module),
                                  static_cast<std::int64_t>(module.size()), FunctionSettings{}, 1);
  }

  Invocation Make(Millis now) const {
    Invocation invocation;
    invocation.id = NewInvocationId(now);
    invocation.owner_id = user.id;
    invocation.function_id = version.function_id;
    invocation.function_name = "fn";
    invocation.version = version.version;
    invocation.input = {'{', '}'};
    invocation.queued_at = now;
    return invocation;
  }

  std::vector<std::string> EnqueueMany(int count, Millis now) {
    std::vector<Invocation> batch;
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) {
      batch.push_back(Make(now));
      ids.push_back(batch.back().id);
    }
    Check(store->EnqueueInvocations(batch), "enqueue");
    return ids;
  }

  // The result a trivial function sends back.
  static InvocationResult Result() {
    InvocationResult result;
    result.status = "ok";
    result.output = {'h', 'i', '\n'};
    result.wall_micros = 120;
    result.fuel_used = 5'000;
    result.output_sha256 = std::string(64, 'a');
    return result;
  }

  // One invocation's whole life, as four separate Store calls.
  void Lifecycle(const std::string& node, Millis now) {
    Invocation invocation = Make(now);
    Check(store->EnqueueInvocations({invocation}), "enqueue");
    Check(store->MarkDispatched(invocation.id, node, now + 10'000, now), "dispatch");
    Check(store->MarkRunning(invocation.id, now + 10'000, now), "running");
    Check(store->Complete(invocation.id, node, InvocationState::kSucceeded, Result(), now),
          "complete");
  }

  TempDir dir;
  std::unique_ptr<Store> store;
  User user;
  FunctionVersion version;
};

void BM_Enqueue(benchmark::State& state) {
  Bench bench;
  const int batch = static_cast<int>(state.range(0));
  Millis now = 1'700'000'000'000;
  for (auto _ : state) bench.EnqueueMany(batch, ++now);
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_Enqueue)->ArgName("batch")->Arg(1)->Arg(100)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_DispatchComplete(benchmark::State& state) {
  Bench bench;
  const InvocationResult result = Bench::Result();
  std::vector<std::string> queued;
  std::size_t next = 0;
  Millis now = 1'700'000'000'000;
  for (auto _ : state) {
    if (next == queued.size()) {
      state.PauseTiming();
      queued = bench.EnqueueMany(2'000, now);
      next = 0;
      state.ResumeTiming();
    }
    const std::string& id = queued[next++];
    Check(bench.store->MarkDispatched(id, "node", now + 10'000, now), "dispatch");
    Check(bench.store->Complete(id, "node", InvocationState::kSucceeded, result, now),
          "complete");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DispatchComplete)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Enqueue(1) + MarkDispatched + MarkRunning + Complete: the store's share of
// one invocation when nothing is batched.
void BM_Lifecycle(benchmark::State& state) {
  Bench bench;
  Millis now = 1'700'000'000'000;
  for (auto _ : state) bench.Lifecycle("node", ++now);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Lifecycle)->Unit(benchmark::kMicrosecond)->UseRealTime();

Store::Transition MakeTransition(Store::Transition::Kind kind, const std::string& id,
                                 Millis now) {
  Store::Transition transition;
  transition.kind = kind;
  transition.id = id;
  transition.node_id = "node";
  transition.lease_deadline = now + 10'000;
  if (kind == Store::Transition::Kind::kComplete) transition.result = Bench::Result();
  return transition;
}

// The scheduler's batched path: Enqueue(batch) then dispatch, running and
// complete for the whole batch, one ApplyTransitions call each. Items are
// invocations taken through their whole life.
void BM_LifecycleBatched(benchmark::State& state) {
  Bench bench;
  const int batch = static_cast<int>(state.range(0));
  using Kind = Store::Transition::Kind;
  Millis now = 1'700'000'000'000;
  for (auto _ : state) {
    const auto ids = bench.EnqueueMany(batch, ++now);
    for (Kind kind : {Kind::kDispatch, Kind::kStart, Kind::kComplete}) {
      std::vector<Store::Transition> transitions;
      transitions.reserve(ids.size());
      for (const auto& id : ids) transitions.push_back(MakeTransition(kind, id, now));
      auto outcomes = bench.store->ApplyTransitions(transitions, now);
      if (!outcomes.ok()) std::abort();
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_LifecycleBatched)
    ->ArgName("batch")
    ->Arg(10)
    ->Arg(100)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Dispatch + complete only (no running), batched: compare BM_DispatchComplete.
void BM_DispatchCompleteBatched(benchmark::State& state) {
  Bench bench;
  const int batch = static_cast<int>(state.range(0));
  using Kind = Store::Transition::Kind;
  Millis now = 1'700'000'000'000;
  for (auto _ : state) {
    state.PauseTiming();
    const auto ids = bench.EnqueueMany(batch, ++now);
    state.ResumeTiming();
    for (Kind kind : {Kind::kDispatch, Kind::kComplete}) {
      std::vector<Store::Transition> transitions;
      transitions.reserve(ids.size());
      for (const auto& id : ids) transitions.push_back(MakeTransition(kind, id, now));
      if (!bench.store->ApplyTransitions(transitions, now).ok()) std::abort();
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_DispatchCompleteBatched)
    ->ArgName("batch")
    ->Arg(100)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The same from `threads` threads at once (each iteration is 200
// lifecycles per thread): writes serialize on the single writer, so this
// shows what the lock costs and whether anything is lost to contention.
void BM_LifecycleThreads(benchmark::State& state) {
  Bench bench;
  const int threads = static_cast<int>(state.range(0));
  constexpr int kPerThread = 200;
  Millis now = 1'700'000'000'000;
  for (auto _ : state) {
    std::vector<std::thread> workers;
    ++now;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&bench, t, now] {
        const std::string node = "node-" + std::to_string(t);
        for (int i = 0; i < kPerThread; ++i) bench.Lifecycle(node, now);
      });
    }
    for (auto& worker : workers) worker.join();
  }
  state.SetItemsProcessed(state.iterations() * threads * kPerThread);
}
BENCHMARK(BM_LifecycleThreads)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Owner-scoped point reads from `threads` threads, through the reader pool,
// while nothing writes.
void BM_FindInvocationThreads(benchmark::State& state) {
  Bench bench;
  const auto ids = bench.EnqueueMany(1'000, 1'700'000'000'000);
  const int threads = static_cast<int>(state.range(0));
  constexpr int kPerThread = 2'000;
  for (auto _ : state) {
    std::vector<std::thread> readers;
    for (int t = 0; t < threads; ++t) {
      readers.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          auto found = bench.store->FindInvocation(bench.user.id, ids[(t * 7 + i) % ids.size()]);
          benchmark::DoNotOptimize(found);
        }
      });
    }
    for (auto& reader : readers) reader.join();
  }
  state.SetItemsProcessed(state.iterations() * threads * kPerThread);
}
BENCHMARK(BM_FindInvocationThreads)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The quota reads an invoke makes, with `range(0)` invocations of the user
// in the window: CountSince counts index entries, so it grows with the
// day's volume; CountActive reads the small live-set index.
void BM_QuotaCounts(benchmark::State& state) {
  Bench bench;
  const int existing = static_cast<int>(state.range(0));
  for (int done = 0; done < existing; done += 1'000) {
    bench.EnqueueMany(std::min(1'000, existing - done), 1'700'000'000'000);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(bench.store->CountSince(bench.user.id, 1'699'999'999'000));
    benchmark::DoNotOptimize(bench.store->CountActive(bench.user.id));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QuotaCounts)
    ->ArgName("rows")
    ->Arg(1'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The function list's 24-hour statistics with `range(0)` finished
// invocations of the user in the window: one pass over the window's index
// range, reading each row's scalar columns.
void BM_FunctionStats(benchmark::State& state) {
  Bench bench;
  const int existing = static_cast<int>(state.range(0));
  for (int done = 0; done < existing; done += 1'000) {
    const std::vector<std::string> ids =
        bench.EnqueueMany(std::min(1'000, existing - done), 1'700'000'000'000);
    std::vector<Store::Transition> finish;
    for (const std::string& id : ids) {
      Store::Transition transition;
      transition.id = id;
      transition.node_id = "node";
      transition.kind = Store::Transition::Kind::kDispatch;
      transition.lease_deadline = 1'700'000'010'000;
      finish.push_back(transition);
      transition.kind = Store::Transition::Kind::kComplete;
      transition.result = Bench::Result();
      finish.push_back(std::move(transition));
    }
    auto applied = bench.store->ApplyTransitions(finish, 1'700'000'000'000);
    if (!applied.ok()) std::abort();
    for (const Status& each : *applied) Check(each, "finish");
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(bench.store->ListFunctionStats(bench.user.id, 1'699'999'999'000));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FunctionStats)
    ->ArgName("rows")
    ->Arg(1'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Baselines: raw SQLite on the store's own file and schema.
struct RawDb {
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      std::abort();
    }
    sqlite3_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", nullptr, nullptr,
                 nullptr);
  }
  ~RawDb() {
    for (sqlite3_stmt* stmt : statements) sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) std::abort();
    statements.push_back(stmt);
    return stmt;
  }
  static void Run(sqlite3_stmt* stmt) {
    if (sqlite3_step(stmt) != SQLITE_DONE) std::abort();
    sqlite3_reset(stmt);
  }
  sqlite3* db = nullptr;
  std::vector<sqlite3_stmt*> statements;
};

void BM_BaselineEmptyWriteTransaction(benchmark::State& state) {
  Bench bench;
  RawDb raw(bench.dir.File("milf.db"));
  sqlite3_stmt* begin = raw.Prepare("BEGIN IMMEDIATE");
  sqlite3_stmt* commit = raw.Prepare("COMMIT");
  for (auto _ : state) {
    RawDb::Run(begin);
    RawDb::Run(commit);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineEmptyWriteTransaction)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_BaselineRawEnqueue(benchmark::State& state) {
  Bench bench;
  RawDb raw(bench.dir.File("milf.db"));
  sqlite3_stmt* begin = raw.Prepare("BEGIN IMMEDIATE");
  sqlite3_stmt* commit = raw.Prepare("COMMIT");
  sqlite3_stmt* insert = raw.Prepare(
      "INSERT INTO invocations (id, owner_id, function_id, function_name, version, state, "
      "attempts, queued_at, input) VALUES (?1, ?2, ?3, 'fn', ?4, 'queued', 0, ?5, x'7b7d')");
  sqlite3_stmt* event = raw.Prepare(
      "INSERT INTO invocation_events (invocation_id, seq, state, at, detail) "
      "VALUES (?1, 1, 'queued', ?2, '')");
  Millis now = 1'700'000'000'000;
  for (auto _ : state) {
    const std::string id = NewInvocationId(++now);
    RawDb::Run(begin);
    sqlite3_bind_text(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert, 2, bench.user.id);
    sqlite3_bind_int64(insert, 3, bench.version.function_id);
    sqlite3_bind_int64(insert, 4, bench.version.version);
    sqlite3_bind_int64(insert, 5, now);
    RawDb::Run(insert);
    sqlite3_bind_text(event, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(event, 2, now);
    RawDb::Run(event);
    RawDb::Run(commit);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineRawEnqueue)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace milf::store

BENCHMARK_MAIN();
