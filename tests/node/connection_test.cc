// The node against a fake server on 127.0.0.1 (fake_server.h): enrollment,
// hello/welcome, heartbeats, jobs in and results out, modules fetched once
// and then cached, reconnection, drain, policy refusals, refused
// credentials and protocol violations. Jobs run in-process here
// (InProcessExecutor); node_binary_test drives the sandboxed pool.
#include "node/connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/sha256.h"
#include "fake_server.h"
#include "node/enrollment.h"
#include "node/server_url.h"
#include "node_test_support.h"

namespace milf::node {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FakeServer;
using testing::TempDir;
using Log = FakeServer::Log;

struct Settings {
  std::string token = "enroll-me";
  int slots = 2;
  AdmissionPolicy policy;
  std::string fixture = "server";
};

// A node assembled as Node does, with an in-process executor, on a thread.
class TestNode {
 public:
  TestNode(const std::string& url, const fs::path& data_dir, Settings settings = {})
      : runner_(executor_, settings.slots) {
    auto store = ModuleStore::Open(data_dir / "modules");
    EXPECT_TRUE(store);
    store_ = std::move(*store);
    telemetry_ = NewHostTelemetry(NewRootedSensorFiles(testing::Fixture(settings.fixture)));
    jitter_ = NewSeededRandom(1);
    ConnectionOptions options;
    options.server = *ParseServerUrl(url);
    options.enrollment_token = settings.token;
    options.data_dir = data_dir;
    options.backoff.initial = std::chrono::milliseconds(10);
    options.backoff.max = std::chrono::milliseconds(100);
    options.connect_timeout = std::chrono::seconds(5);
    options.log = [this](const std::string& line) {
      {
        std::lock_guard lock(log_mutex_);
        log_.push_back(line);
      }
      logged_.notify_all();
    };
    AgentOptions agent;
    agent.name = "test-node";
    agent.target = "x86_64-linux";
    agent.slots = settings.slots;
    agent.policy = settings.policy;
    agent.max_job_memory_mb = 256;
    connection_ = std::make_unique<Connection>(options, agent, *store_, runner_, *telemetry_,
                                               *jitter_);
    thread_ = std::thread([this] {
      status_ = connection_->Run();
      runner_.WaitIdle();
    });
  }

  ~TestNode() { (void)Stop(); }

  Status Stop() {
    connection_->Stop();
    return Wait();
  }

  Status Wait() {
    if (thread_.joinable()) thread_.join();
    return status_;
  }

  const testing::InProcessExecutor& executor() const { return executor_; }

  // Waits until `count` log lines contain `text`.
  bool WaitForLog(const std::string& text, int count) {
    std::unique_lock lock(log_mutex_);
    return logged_.wait_for(lock, std::chrono::seconds(20), [&] {
      return std::count_if(log_.begin(), log_.end(), [&](const std::string& line) {
               return line.find(text) != std::string::npos;
             }) >= count;
    });
  }

 private:
  std::mutex log_mutex_;
  std::condition_variable logged_;
  std::vector<std::string> log_;
  testing::InProcessExecutor executor_;
  JobRunner runner_;
  std::unique_ptr<ModuleStore> store_;
  std::unique_ptr<TelemetrySource> telemetry_;
  std::unique_ptr<RandomSource> jitter_;
  std::unique_ptr<Connection> connection_;
  std::thread thread_;
  Status status_;
};

proto::Job EchoJob(const std::string& id, const std::string& hash, std::string_view input) {
  proto::Job job;
  job.invocation_id = id;
  job.module_sha256 = hash;
  job.module_size = testing::EchoModule().size();
  job.input.assign(input.begin(), input.end());
  return job;
}

proto::Job LoopJob(const std::string& id, const std::string& hash, std::int64_t timeout_ms) {
  proto::Job job;
  job.invocation_id = id;
  job.module_sha256 = hash;
  job.limits.timeout_ms = timeout_ms;
  return job;
}

std::string Text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

auto Welcomed(int n) {
  return [n](const Log& log) { return log.welcomes >= n; };
}
auto HasResult(const std::string& id) {
  return [id](const Log& log) { return log.Result(id) != nullptr; };
}

TEST(Connection, EnrollsSaysHelloAndHeartbeats) {
  FakeServer server;
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return log.heartbeats.size() >= 3; }));
  const Log log = server.log();
  EXPECT_EQ(log.enrollments, 1);
  EXPECT_THAT(log.enroll_names, ElementsAre("test-node"));
  ASSERT_EQ(log.hellos.size(), 1u);
  EXPECT_EQ(log.hellos[0].protocol_version, proto::kProtocolVersion);
  EXPECT_EQ(log.hellos[0].node_name, "test-node");
  EXPECT_EQ(log.hellos[0].target, "x86_64-linux");
  EXPECT_EQ(log.hellos[0].slots, 2);
  EXPECT_TRUE(log.hellos[0].running.empty());
  const proto::Telemetry& beat = log.heartbeats.back();
  EXPECT_EQ(beat.slots_total, 2);
  EXPECT_EQ(beat.slots_in_use, 0);
  EXPECT_TRUE(beat.accepting);
  EXPECT_EQ(beat.mem_total_bytes, 24684096ull * 1024);  // the fixture's
  EXPECT_FALSE(beat.battery_percent.has_value());

  // The credential was kept, privately.
  auto credential = LoadCredential(data.path());
  ASSERT_TRUE(credential && credential->has_value());
  EXPECT_EQ((*credential)->node_id, "node-1");
  EXPECT_EQ((*credential)->secret, "secret-1");
  EXPECT_EQ((*credential)->server, server.url());
  struct stat info {};
  ASSERT_EQ(::stat((data.path() / "credential.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_TRUE(node.Stop());
}

TEST(Connection, RunsAJobAndReturnsItsResult) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::EchoModule());
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.Send(EchoJob("inv-1", hash, "hello, node"));
  ASSERT_TRUE(server.WaitFor(HasResult("inv-1")));
  const Log log = server.log();
  EXPECT_THAT(log.started, ElementsAre("inv-1"));
  const proto::JobResult& result = *log.Result("inv-1");
  EXPECT_EQ(result.status, "ok") << result.message;
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(Text(result.output), "hello, node");
  EXPECT_EQ(result.output_sha256, Sha256Hex(result.output));
  EXPECT_GT(result.fuel_used, 0u);
  EXPECT_TRUE(node.Stop());
}

TEST(Connection, AModuleCrossesTheWireOncePerNode) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::EchoModule());
  TempDir data;
  {
    TestNode node(server.url(), data.path());
    ASSERT_TRUE(server.WaitFor(Welcomed(1)));
    // Two jobs for the same missing module: one request.
    server.Send(EchoJob("a", hash, "A"));
    server.Send(EchoJob("b", hash, "B"));
    ASSERT_TRUE(server.WaitFor([](const Log& log) { return log.results.size() == 2; }));
    server.Send(EchoJob("c", hash, "C"));
    ASSERT_TRUE(server.WaitFor(HasResult("c")));
    const Log log = server.log();
    EXPECT_THAT(log.module_requests, ElementsAre(hash));
    for (const char* id : {"a", "b", "c"}) {
      EXPECT_EQ(log.Result(id)->status, "ok") << id;
      EXPECT_EQ(Text(log.Result(id)->output), std::string(1, static_cast<char>(std::toupper(id[0]))));
    }
    EXPECT_TRUE(node.Stop());
  }
  // After a restart the module comes from disk, and the node says it has it.
  TestNode restarted(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(2)));
  EXPECT_THAT(server.log().hellos.back().cached_modules, ElementsAre(hash));
  server.Send(EchoJob("d", hash, "D"));
  ASSERT_TRUE(server.WaitFor(HasResult("d")));
  EXPECT_EQ(Text(server.log().Result("d")->output), "D");
  EXPECT_EQ(server.log().module_requests.size(), 1u);
}

TEST(Connection, ReconnectsAfterTheServerDropsTheConnection) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::EchoModule());
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.Drop();
  ASSERT_TRUE(server.WaitFor(Welcomed(2)));
  server.Drop();
  ASSERT_TRUE(server.WaitFor(Welcomed(3)));
  const std::size_t beats = server.log().heartbeats.size();
  ASSERT_TRUE(server.WaitFor([beats](const Log& log) { return log.heartbeats.size() > beats + 2; }));
  // The same credential every time: one enrollment.
  EXPECT_EQ(server.log().enrollments, 1);
  server.Send(EchoJob("after", hash, "still here"));
  ASSERT_TRUE(server.WaitFor(HasResult("after")));
  EXPECT_EQ(Text(server.log().Result("after")->output), "still here");
}

TEST(Connection, ResultsOfJobsThatEndWhileDisconnectedAreDeliveredOnReconnect) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::LoopModule());
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.Send(LoopJob("slow", hash, 600));
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return !log.started.empty(); }));
  server.Drop();
  ASSERT_TRUE(server.WaitFor(HasResult("slow")));
  const Log log = server.log();
  ASSERT_GE(log.hellos.size(), 2u);
  // Whether the job was still running or already done at the second hello,
  // the node owed its result and said so.
  EXPECT_THAT(log.hellos[1].running, ElementsAre("slow"));
  EXPECT_EQ(log.Result("slow")->status, "timeout");
  EXPECT_EQ(log.results.size(), 1u);
}

TEST(Connection, HeartbeatsCountSlotsInUse) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::LoopModule());
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.Send(LoopJob("busy", hash, 1'000));
  ASSERT_TRUE(server.WaitFor([](const Log& log) {
    return std::any_of(log.heartbeats.begin(), log.heartbeats.end(),
                       [](const proto::Telemetry& t) { return t.slots_in_use == 1; });
  }));
  ASSERT_TRUE(server.WaitFor(HasResult("busy")));
  const std::size_t beats = server.log().heartbeats.size();
  ASSERT_TRUE(server.WaitFor([beats](const Log& log) { return log.heartbeats.size() > beats; }));
  EXPECT_EQ(server.log().heartbeats.back().slots_in_use, 0);
}

TEST(Connection, ARestartReusesTheStoredCredential) {
  FakeServer server;
  TempDir data;
  {
    TestNode node(server.url(), data.path());
    ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  }
  Settings no_token;
  no_token.token = "";
  TestNode again(server.url(), data.path(), no_token);
  ASSERT_TRUE(server.WaitFor(Welcomed(2)));
  EXPECT_EQ(server.log().enrollments, 1);
  EXPECT_EQ(server.log().refused_upgrades, 0);
}

TEST(Connection, ARefusedCredentialWithoutATokenIsFatal) {
  FakeServer server;
  TempDir data;
  ASSERT_TRUE(SaveCredential(data.path(), {server.url(), "node-1", "stolen"}));
  Settings no_token;
  no_token.token = "";
  TestNode node(server.url(), data.path(), no_token);
  const Status status = node.Wait();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, "unauthorized");
  EXPECT_THAT(status.error().message, HasSubstr("--token"));
  EXPECT_EQ(server.log().refused_upgrades, 1);
  EXPECT_EQ(server.log().welcomes, 0);
}

TEST(Connection, NoCredentialAndNoTokenIsFatal) {
  FakeServer server;
  TempDir data;
  Settings no_token;
  no_token.token = "";
  TestNode node(server.url(), data.path(), no_token);
  const Status status = node.Wait();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, "unauthorized");
}

TEST(Connection, ARefusedCredentialIsReplacedByEnrollingAgain) {
  FakeServer server;
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.RevokeSecret();
  server.Drop();
  ASSERT_TRUE(server.WaitFor(Welcomed(2)));
  const Log log = server.log();
  EXPECT_EQ(log.refused_upgrades, 1);
  EXPECT_EQ(log.enrollments, 2);
  EXPECT_EQ((**LoadCredential(data.path())).secret, "secret-3");
}

TEST(Connection, ARefusedTokenIsFatal) {
  FakeServer server;
  TempDir data;
  Settings bad;
  bad.token = "guessed";
  TestNode node(server.url(), data.path(), bad);
  const Status status = node.Wait();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, "enrollment_refused");
  EXPECT_THAT(status.error().message, HasSubstr("invalid or expired token"));
  EXPECT_FALSE(fs::exists(data.path() / "credential.json"));
}

TEST(Connection, KeepsRetryingWhileTheServerIsDown) {
  std::string url;
  {
    FakeServer gone;
    url = gone.url();
  }
  TempDir data;
  TestNode node(url, data.path());
  // Nothing listens: the node keeps trying until told to stop.
  EXPECT_TRUE(node.WaitForLog("reconnecting in", 3));
  EXPECT_TRUE(node.WaitForLog("enrollment failed: cannot connect", 3));
  EXPECT_TRUE(node.Stop());
}

TEST(Connection, DrainRefusesNewJobsFinishesRunningOnesThenCloses) {
  FakeServer server;
  const std::string loop = server.AddModule(testing::LoopModule());
  const std::string echo = server.AddModule(testing::EchoModule());
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.Send(LoopJob("running", loop, 500));
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return !log.started.empty(); }));
  server.Send(proto::Drain{"maintenance"});
  server.Send(EchoJob("late", echo, "x"));
  ASSERT_TRUE(server.WaitFor(HasResult("late")));
  EXPECT_EQ(server.log().Result("late")->status, "rejected");
  EXPECT_EQ(server.log().Result("late")->message, "draining");
  ASSERT_TRUE(server.WaitFor([](const Log& log) {
    return std::any_of(log.heartbeats.begin(), log.heartbeats.end(), [](const proto::Telemetry& t) {
      return !t.accepting && t.refusal_reason == "draining";
    });
  }));
  // The running job ends, reports, and then the node closes the connection.
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return log.closes_by_node == 1; }));
  const Log log = server.log();
  ASSERT_NE(log.Result("running"), nullptr);
  EXPECT_EQ(log.Result("running")->status, "timeout");
  // Then it comes back, accepting again.
  ASSERT_TRUE(server.WaitFor(Welcomed(2)));
  server.Send(EchoJob("next", echo, "y"));
  ASSERT_TRUE(server.WaitFor(HasResult("next")));
  EXPECT_EQ(server.log().Result("next")->status, "ok");
}

TEST(Connection, APolicyRefusalIsReportedAndJobsAreRejected) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::EchoModule());
  TempDir data;
  Settings phone;
  phone.fixture = "phone";  // battery at 57%, not charging
  phone.policy.min_battery_percent = 80;
  TestNode node(server.url(), data.path(), phone);
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return !log.heartbeats.empty(); }));
  const proto::Telemetry beat = server.log().heartbeats.front();
  EXPECT_FALSE(beat.accepting);
  EXPECT_EQ(beat.refusal_reason, "battery 57.0% below minimum 80.0%");
  EXPECT_EQ(beat.battery_percent, 57);
  EXPECT_EQ(beat.charging, false);
  server.Send(EchoJob("refused", hash, "x"));
  ASSERT_TRUE(server.WaitFor(HasResult("refused")));
  EXPECT_EQ(server.log().Result("refused")->status, "rejected");
  EXPECT_THAT(server.log().Result("refused")->message, HasSubstr("battery"));
  EXPECT_TRUE(server.log().started.empty());
  EXPECT_TRUE(server.log().module_requests.empty());
  EXPECT_EQ(node.executor().runs(), 0);
}

TEST(Connection, AJobBeyondTheFreeSlotsIsRejected) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::LoopModule());
  TempDir data;
  Settings one;
  one.slots = 1;
  TestNode node(server.url(), data.path(), one);
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.Send(LoopJob("first", hash, 500));
  server.Send(LoopJob("second", hash, 500));
  ASSERT_TRUE(server.WaitFor(HasResult("second")));
  EXPECT_EQ(server.log().Result("second")->status, "rejected");
  EXPECT_EQ(server.log().Result("second")->message, "all 1 slots in use");
  ASSERT_TRUE(server.WaitFor(HasResult("first")));
  EXPECT_EQ(server.log().Result("first")->status, "timeout");
}

TEST(Connection, AJobAskingForTooMuchMemoryFails) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::EchoModule());
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  proto::Job job = EchoJob("huge", hash, "x");
  job.limits.memory_mb = 4096;  // the test node runs jobs of up to 256 MB
  server.Send(job);
  ASSERT_TRUE(server.WaitFor(HasResult("huge")));
  EXPECT_EQ(server.log().Result("huge")->status, "memory_limit");
  EXPECT_THAT(server.log().Result("huge")->message, HasSubstr("256 MB"));
}

TEST(Connection, StopWaitsForTheRunningJobAndReportsIt) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::LoopModule());
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.Send(LoopJob("last", hash, 400));
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return !log.started.empty(); }));
  EXPECT_TRUE(node.Stop());
  const Log log = server.log();
  ASSERT_NE(log.Result("last"), nullptr);
  EXPECT_EQ(log.Result("last")->status, "timeout");
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return log.closes_by_node == 1; }));
  EXPECT_EQ(server.log().welcomes, 1);
}

TEST(Connection, AMissingModuleFailsTheJobsWaitingForIt) {
  FakeServer server;
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  const std::string unknown = Sha256Hex(std::vector<std::uint8_t>{9, 9, 9});
  server.Send(EchoJob("orphan", unknown, "x"));
  ASSERT_TRUE(server.WaitFor(HasResult("orphan")));
  EXPECT_EQ(server.log().Result("orphan")->status, "internal_error");
  EXPECT_THAT(server.log().Result("orphan")->message, HasSubstr("does not have module"));
  EXPECT_THAT(server.log().module_requests, ElementsAre(unknown));
}

TEST(Connection, AModuleFrameWithTheWrongHashIsAProtocolViolation) {
  FakeServer server;
  const std::string hash = server.AddModule(testing::EchoModule());
  server.CorruptModuleFrames();
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.Send(EchoJob("tampered", hash, "x"));
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return !log.errors.empty(); }));
  EXPECT_THAT(server.log().errors[0], HasSubstr("do not match"));
  // The node hangs up and comes back; the job never ran.
  ASSERT_TRUE(server.WaitFor(Welcomed(2)));
  EXPECT_EQ(server.log().Result("tampered"), nullptr);
  EXPECT_EQ(node.executor().runs(), 0);
}

TEST(Connection, GarbageFromTheServerIsAProtocolViolation) {
  FakeServer server;
  TempDir data;
  TestNode node(server.url(), data.path());
  ASSERT_TRUE(server.WaitFor(Welcomed(1)));
  server.SendText(R"({"type":"job","invocation_id":5})");
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return !log.errors.empty(); }));
  EXPECT_THAT(server.log().errors[0], HasSubstr("job.invocation_id"));
  ASSERT_TRUE(server.WaitFor(Welcomed(2)));
  proto::Welcome again;  // valid, but not at this point of the conversation
  again.node_id = "node-1";
  server.Send(again);
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return log.errors.size() == 2; }));
  EXPECT_THAT(server.log().errors[1], HasSubstr("unexpected"));
}

TEST(Connection, AnotherProtocolVersionIsNotSpoken) {
  FakeServer::Options options;
  options.protocol_version = proto::kProtocolVersion + 1;
  FakeServer server(options);
  TempDir data;
  TestNode node(server.url(), data.path());
  // The node keeps trying (the server may be rolled back) but never
  // starts a session: no heartbeat ever arrives.
  ASSERT_TRUE(server.WaitFor([](const Log& log) { return log.hellos.size() >= 3; }));
  EXPECT_TRUE(server.log().heartbeats.empty());
  EXPECT_TRUE(node.Stop());
}

}  // namespace
}  // namespace milf::node
