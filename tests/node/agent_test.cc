// The agent's decisions without any socket: a fake link collects what it
// sends, and job completions are pumped by hand onto "the I/O thread" (the
// test's).
#include "node/agent.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "base/sha256.h"
#include "node_test_support.h"

namespace milf::node {
namespace {

using ::testing::ElementsAre;
using testing::TempDir;

class FakeLink final : public Link {
 public:
  void SendText(std::string text) override {
    auto message = proto::Decode(text);
    ASSERT_TRUE(message) << message.error().message;
    sent.push_back(std::move(*message));
  }
  void Close(std::string reason) override { closed = reason; }

  template <class T>
  std::vector<T> All() const {
    std::vector<T> out;
    for (const proto::Message& message : sent) {
      if (const T* m = std::get_if<T>(&message)) out.push_back(*m);
    }
    return out;
  }

  std::vector<proto::Message> sent;
  std::string closed;
};

// Tasks posted from runner threads, run when the test pumps them.
class TaskQueue {
 public:
  Agent::Post Poster() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
      ready_.notify_all();
    };
  }
  // Runs `count` tasks, waiting for each.
  void Pump(int count) {
    for (int i = 0; i < count; ++i) {
      std::unique_lock lock(mutex_);
      ASSERT_TRUE(ready_.wait_for(lock, std::chrono::seconds(20), [&] { return !tasks_.empty(); }));
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
};

class AgentTest : public ::testing::Test {
 protected:
  AgentTest()
      : store_(ModuleStore::Open(dir_.path()).value()),
        runner_(executor_, 2),
        telemetry_(NewHostTelemetry(NewRootedSensorFiles(testing::Fixture("server")))),
        agent_(Options(), *store_, runner_, *telemetry_, tasks_.Poster()) {
    proto::Welcome welcome;
    welcome.node_id = "n";
    agent_.Attach(link_, welcome);
  }

  // Every job reports through tasks_, which dies before runner_.
  ~AgentTest() override { runner_.WaitIdle(); }

  static AgentOptions Options() {
    AgentOptions options;
    options.name = "agent";
    options.target = "x86_64-linux";
    options.slots = 2;
    return options;
  }

  proto::Job Echo(const std::string& id, std::string_view input) {
    proto::Job job;
    job.invocation_id = id;
    job.module_sha256 = Sha256Hex(testing::EchoModule());
    job.input.assign(input.begin(), input.end());
    return job;
  }

  void Deliver(const proto::Message& message) { agent_.OnText(proto::Encode(message)); }

  TempDir dir_;
  std::unique_ptr<ModuleStore> store_;
  testing::InProcessExecutor executor_;
  JobRunner runner_;
  std::unique_ptr<TelemetrySource> telemetry_;
  TaskQueue tasks_;
  FakeLink link_;
  Agent agent_;
};

TEST_F(AgentTest, AttachSendsAHeartbeatAtOnce) {
  const auto beats = link_.All<proto::Heartbeat>();
  ASSERT_EQ(beats.size(), 1u);
  EXPECT_EQ(beats[0].telemetry.slots_total, 2);
  EXPECT_TRUE(beats[0].telemetry.accepting);
}

TEST_F(AgentTest, ARepeatedJobRunsOnce) {
  ASSERT_TRUE(store_->Put(Sha256Hex(testing::EchoModule()), testing::EchoModule()));
  Deliver(Echo("same", "1"));
  Deliver(Echo("same", "1"));
  EXPECT_EQ(agent_.slots_in_use(), 1);
  tasks_.Pump(1);
  runner_.WaitIdle();
  EXPECT_EQ(executor_.runs(), 1);
  const auto results = link_.All<proto::JobResult>();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, "ok");
  EXPECT_EQ(agent_.slots_in_use(), 0);
}

TEST_F(AgentTest, AnUnaskedModuleIsKeptForLater) {
  const std::string hash = Sha256Hex(testing::EchoModule());
  agent_.OnBinary(proto::EncodeModuleFrame(hash, testing::EchoModule()));
  EXPECT_THAT(store_->List(), ElementsAre(hash));
  EXPECT_THAT(agent_.MakeHello().cached_modules, ElementsAre(hash));
  Deliver(Echo("uses-it", "x"));
  EXPECT_TRUE(link_.All<proto::ModuleRequest>().empty());
  tasks_.Pump(1);
  EXPECT_EQ(link_.All<proto::JobResult>().at(0).status, "ok");
}

TEST_F(AgentTest, ResultsEndingWhileDetachedAreOwedAndListedInHello) {
  ASSERT_TRUE(store_->Put(Sha256Hex(testing::EchoModule()), testing::EchoModule()));
  Deliver(Echo("owed", "x"));
  EXPECT_THAT(agent_.MakeHello().running, ElementsAre("owed"));
  agent_.Detach();
  tasks_.Pump(1);
  EXPECT_TRUE(link_.All<proto::JobResult>().empty());
  EXPECT_THAT(agent_.MakeHello().running, ElementsAre("owed"));
  FakeLink second;
  agent_.Attach(second, proto::Welcome{});
  const auto results = second.All<proto::JobResult>();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].invocation_id, "owed");
  EXPECT_TRUE(agent_.MakeHello().running.empty());
}

TEST_F(AgentTest, StopClosesOnceTheLastJobEnds) {
  ASSERT_TRUE(store_->Put(Sha256Hex(testing::EchoModule()), testing::EchoModule()));
  Deliver(Echo("last", "x"));
  agent_.Stop();
  EXPECT_EQ(link_.closed, "");
  Deliver(Echo("refused", "x"));
  EXPECT_EQ(link_.All<proto::JobResult>().at(0).status, proto::kRejectedStatus);
  EXPECT_EQ(link_.All<proto::JobResult>().at(0).message, "node stopping");
  tasks_.Pump(1);
  EXPECT_EQ(link_.closed, "node stopping");
  EXPECT_EQ(link_.All<proto::JobResult>().back().invocation_id, "last");
}

}  // namespace
}  // namespace milf::node
