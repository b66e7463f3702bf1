// Test fixtures for the scheduler: a manual clock, a temporary SQLite
// store, fake node channels driven by the test, and a harness that runs a
// Scheduler with its routes on a background io_context.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "forwarding_store.h"
#include "proto/messages.h"
#include "server/event_bus.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/node_channel.h"
#include "server/scheduler.h"
#include "store/store.h"

namespace milf::server::testing {

// 2024-01-01 00:00:00 UTC, a Monday.
inline constexpr store::Millis kEpoch2024 = 1'704'067'200'000;

class ManualClock final : public Clock {
 public:
  explicit ManualClock(store::Millis now_ms) : nanos_(now_ms * 1'000'000) {}
  std::int64_t MonotonicNanos() const override { return nanos_.load(); }
  std::int64_t RealtimeNanos() const override { return nanos_.load(); }
  std::int64_t ThreadCpuNanos() const override { return 0; }
  void Advance(store::Millis ms) { nanos_ += ms * 1'000'000; }
  store::Millis NowMs() const { return nanos_.load() / 1'000'000; }

 private:
  std::atomic<std::int64_t> nanos_;
};

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<store::Store> OpenStore(const std::filesystem::path& file);

// Polls `condition` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A node's WebSocket as the scheduler sees it; the test plays the node.
class FakeChannel final : public NodeChannel {
 public:
  void SendText(std::string text) override;
  void SendBinary(std::vector<std::uint8_t> bytes) override;
  void Close(const std::string& reason) override;
  std::string remote_address() const override { return "127.0.0.1:9"; }

  std::vector<proto::Message> Messages() const;
  std::vector<std::vector<std::uint8_t>> Binaries() const;
  bool closed() const;
  std::string close_reason() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> texts_;
  std::vector<std::vector<std::uint8_t>> binaries_;
  bool closed_ = false;
  std::string close_reason_;
};

struct Harness;

class FakeNode {
 public:
  FakeNode(NodeChannelHandler& handler, std::string node_id);
  // Enrolls the node in the harness's store, then connects.
  FakeNode(Harness& harness, std::string node_id);
  ~FakeNode();

  void SendHello(int slots, std::vector<std::string> running = {},
                 std::vector<std::string> cached = {});
  void SendHeartbeat(const proto::Telemetry& telemetry);
  void SendStarted(const std::string& id);
  void SendResult(const std::string& id, const std::string& status = "ok",
                  const std::string& output = "");
  void SendRaw(const std::string& text);
  void SendBinary(std::vector<std::uint8_t> bytes);
  void Disconnect();  // the connection drops: on_closed

  // What the node has been sent so far. A job goes out once its dispatch
  // is committed, which may happen on another thread a moment later: to
  // see jobs an action causes, wait for them (AwaitJobs, AwaitJobIds).
  std::vector<proto::Job> Jobs() const;
  std::vector<std::string> JobIds() const;
  bool WaitForJobs(std::size_t count) const;
  // Waits (up to 10 s) for at least `count` jobs, then returns all of them.
  std::vector<proto::Job> AwaitJobs(std::size_t count) const;
  std::vector<std::string> AwaitJobIds(std::size_t count) const;
  FakeChannel& channel() { return *channel_; }
  const std::string& id() const { return id_; }

 private:
  std::string id_;
  std::shared_ptr<FakeChannel> channel_;
  NodeChannelEvents events_;
  bool closed_ = false;
};

proto::Telemetry Telemetry(int slots, bool accepting = true, std::uint64_t mem_free_mb = 4096);

// An answer captured from a handler; waits for it when it comes later.
class Answer {
 public:
  Reply reply();
  bool ready() const;
  int calls() const;
  // Waits up to 10 s; ADD_FAILURE and returns a 0-status response otherwise.
  HttpResponse Get() const;
  std::optional<std::string> Header(const std::string& name) const;

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<HttpResponse> response;
    int calls = 0;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

struct Harness {
  explicit Harness(const std::filesystem::path& db, SchedulerOptions options = Options(),
                   store::Millis start = kEpoch2024 + 30'000);
  ~Harness();

  static SchedulerOptions Options();

  // Drops the scheduler, as a server process exit would.
  void Stop();
  // Stops (if running) and starts a new scheduler on a fresh connection
  // to the same database, as a server restart would.
  void Restart();

  // A user and a function "fn" deployed for them; returns the user id.
  std::int64_t AddUser(const std::string& name, store::Role role = store::Role::kDeveloper);
  void Deploy(std::int64_t owner, const std::string& name, std::int64_t memory_mb = 64,
              std::int64_t timeout_ms = 5'000);

  // Sends a request through the router as `user`; the answer may come later.
  Answer Call(std::int64_t user, const std::string& method, const std::string& target,
              const std::string& body = "", store::Role role = store::Role::kDeveloper);
  // Call + Get.
  HttpResponse Request(std::int64_t user, const std::string& method, const std::string& target,
                       const std::string& body = "", store::Role role = store::Role::kDeveloper);
  std::string InvokeAsync(std::int64_t user, const std::string& function,
                          const std::string& input = "");
  store::Invocation Find(std::int64_t user, const std::string& id);
  // Runs until the scheduler's tick has run at least twice more.
  void AwaitTicks();
  // Waits until the invocation's final event was published: by then its
  // quota, usage and waiter have been settled too.
  bool WaitFinished(const std::string& id);

  std::filesystem::path db_path;
  SchedulerOptions options;
  ManualClock clock;
  std::unique_ptr<store::testing::ForwardingStore> store;
  EventBus events;
  Metrics metrics;
  boost::asio::io_context io;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<Router> router;
  std::vector<std::uint8_t> module;  // the deployed module's bytes
  std::string module_sha256;

 private:
  void StartScheduler();
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::uint64_t subscription_ = 0;
  std::mutex finished_mutex_;
  std::vector<std::string> finished_;
  std::thread io_thread_;
};

}  // namespace milf::server::testing
