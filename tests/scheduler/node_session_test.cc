#include "server/node_session.h"

#include <gtest/gtest.h>

#include <variant>

#include "base/sha256.h"
#include "fixtures.h"

namespace milf::server {
namespace {

using testing::FakeChannel;

class RecordingListener final : public NodeSessionListener {
 public:
  void OnHello(const std::shared_ptr<NodeSession>& session, const proto::Hello& hello) override {
    hellos.push_back(hello);
    last_session = session;
  }
  void OnHeartbeat(NodeSession&, const proto::Telemetry& telemetry) override {
    heartbeats.push_back(telemetry);
  }
  void OnJobStarted(NodeSession&, const std::string& id) override { started.push_back(id); }
  void OnJobResult(NodeSession&, proto::JobResult result) override {
    results.push_back(std::move(result));
  }
  void OnClosed(NodeSession& session) override { closed.push_back(session.node_id()); }

  std::vector<proto::Hello> hellos;
  std::vector<proto::Telemetry> heartbeats;
  std::vector<std::string> started;
  std::vector<proto::JobResult> results;
  std::vector<std::string> closed;
  std::shared_ptr<NodeSession> last_session;
};

class NodeSessionTest : public ::testing::Test {
 protected:
  NodeSessionTest()
      : store_(testing::OpenStore(dir_.path() / "milf.db")),
        listener_(std::make_shared<RecordingListener>()),
        channel_(std::make_shared<FakeChannel>()) {
    NodeSessionOptions options;
    options.heartbeat_interval_ms = 1'500;
    options.lease_ms = 7'000;
    options.max_slots = 64;
    session_ = NodeSession::Create("node-1", channel_, *store_, listener_, options);
    events_ = session_->Events();
  }

  void Send(const proto::Message& message) { events_.on_text(proto::Encode(message)); }
  void SayHello(int slots = 2, std::vector<std::string> cached = {}) {
    proto::Hello hello;
    hello.node_name = "phone";
    hello.target = "aarch64-linux";
    hello.slots = slots;
    hello.cached_modules = std::move(cached);
    Send(hello);
  }
  template <class T>
  std::vector<T> Sent() const {
    std::vector<T> out;
    for (auto& message : channel_->Messages()) {
      if (auto* m = std::get_if<T>(&message)) out.push_back(*m);
    }
    return out;
  }
  // The connection ended with a ProtocolError whose message holds `text`.
  void ExpectViolation(const std::string& text) {
    const auto errors = Sent<proto::ProtocolError>();
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find(text), std::string::npos) << errors[0].message;
    EXPECT_TRUE(channel_->closed());
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<RecordingListener> listener_;
  std::shared_ptr<FakeChannel> channel_;
  std::shared_ptr<NodeSession> session_;
  NodeChannelEvents events_;
};

TEST_F(NodeSessionTest, HelloIsAnsweredWithWelcome) {
  SayHello(3);
  const auto welcomes = Sent<proto::Welcome>();
  ASSERT_EQ(welcomes.size(), 1u);
  EXPECT_EQ(welcomes[0].node_id, "node-1");
  EXPECT_EQ(welcomes[0].protocol_version, proto::kProtocolVersion);
  EXPECT_EQ(welcomes[0].heartbeat_interval_ms, 1'500);
  EXPECT_EQ(welcomes[0].lease_ms, 7'000);
  ASSERT_EQ(listener_->hellos.size(), 1u);
  EXPECT_EQ(listener_->hellos[0].slots, 3);
  EXPECT_EQ(listener_->last_session, session_);
  EXPECT_FALSE(channel_->closed());
  EXPECT_EQ(session_->remote_address(), "127.0.0.1:9");
}

TEST_F(NodeSessionTest, ForwardsHeartbeatsAndJobReports) {
  SayHello();
  Send(proto::Heartbeat{testing::Telemetry(2, false, 100)});
  Send(proto::JobStarted{"inv-1"});
  proto::JobResult result;
  result.invocation_id = "inv-1";
  result.status = "trap";
  result.output = {'x'};
  result.output_sha256 = Sha256Hex(result.output);
  Send(result);
  ASSERT_EQ(listener_->heartbeats.size(), 1u);
  EXPECT_FALSE(listener_->heartbeats[0].accepting);
  EXPECT_EQ(listener_->heartbeats[0].mem_free_bytes, 100u << 20);
  EXPECT_EQ(listener_->started, std::vector<std::string>{"inv-1"});
  ASSERT_EQ(listener_->results.size(), 1u);
  EXPECT_EQ(listener_->results[0].status, "trap");
  EXPECT_EQ(listener_->results[0].output, std::vector<std::uint8_t>{'x'});
  EXPECT_FALSE(channel_->closed());
}

TEST_F(NodeSessionTest, ClosingAfterHelloIsReported) {
  SayHello();
  events_.on_closed();
  EXPECT_EQ(listener_->closed, std::vector<std::string>{"node-1"});
}

TEST_F(NodeSessionTest, ClosingBeforeHelloIsNotReported) {
  events_.on_closed();
  EXPECT_TRUE(listener_->closed.empty());
}

TEST_F(NodeSessionTest, FirstMessageMustBeHello) {
  Send(proto::Heartbeat{testing::Telemetry(1)});
  ExpectViolation("first message must be hello");
  EXPECT_TRUE(listener_->heartbeats.empty());
  // Nothing more is read from a connection being closed.
  SayHello();
  EXPECT_TRUE(listener_->hellos.empty());
}

TEST_F(NodeSessionTest, MalformedJsonIsAProtocolError) {
  events_.on_text("{\"type\":\"hello\",");
  ExpectViolation("malformed message");
}

TEST_F(NodeSessionTest, UnknownTypeIsAProtocolError) {
  events_.on_text(R"({"type":"launch_missiles"})");
  ExpectViolation("malformed message");
}

TEST_F(NodeSessionTest, RefusesOtherProtocolVersions) {
  proto::Hello hello;
  hello.protocol_version = proto::kProtocolVersion + 1;
  hello.slots = 1;
  Send(hello);
  ExpectViolation("protocol version 2 is not supported; this server speaks 1");
  EXPECT_TRUE(listener_->hellos.empty());
  EXPECT_TRUE(Sent<proto::Welcome>().empty());
}

TEST_F(NodeSessionTest, RefusesImpossibleSlotCounts) {
  SayHello(0);
  ExpectViolation("hello.slots");
}

TEST_F(NodeSessionTest, RefusesMoreSlotsThanTheServerAllows) {
  SayHello(65);
  ExpectViolation("hello with 65 slots; 1 to 64 allowed");
}

TEST_F(NodeSessionTest, RefusesASecondHello) {
  SayHello();
  SayHello();
  ExpectViolation("hello sent twice");
  EXPECT_EQ(listener_->hellos.size(), 1u);
}

TEST_F(NodeSessionTest, RefusesServerOnlyMessages) {
  SayHello();
  proto::Job job;
  job.invocation_id = "x";
  job.module_sha256 = std::string(64, 'a');
  Send(job);
  ExpectViolation("may not send this message type");
}

TEST_F(NodeSessionTest, RefusesBinaryFrames) {
  SayHello();
  events_.on_binary({1, 2, 3});
  ExpectViolation("unexpected binary frame");
}

TEST_F(NodeSessionTest, RefusesHeartbeatWithNegativeSlots) {
  SayHello();
  proto::Telemetry telemetry = testing::Telemetry(1);
  telemetry.slots_in_use = -1;
  Send(proto::Heartbeat{telemetry});
  ExpectViolation("slots_in_use");
  EXPECT_TRUE(listener_->heartbeats.empty());
}

TEST_F(NodeSessionTest, RefusesHeartbeatWithMoreSlotsThanAllowed) {
  SayHello();
  Send(proto::Heartbeat{testing::Telemetry(100)});
  ExpectViolation("impossible slot counts");
  EXPECT_TRUE(listener_->heartbeats.empty());
}

TEST_F(NodeSessionTest, NodeProtocolErrorClosesTheChannel) {
  SayHello();
  Send(proto::ProtocolError{"you sent garbage"});
  EXPECT_TRUE(channel_->closed());
  EXPECT_NE(channel_->close_reason().find("you sent garbage"), std::string::npos);
  EXPECT_TRUE(Sent<proto::ProtocolError>().empty());
}

TEST_F(NodeSessionTest, ServesModulesAndRemembersThem) {
  const std::vector<std::uint8_t> module = {0, 'a', 's', 'm', 1, 0, 0, 0};
  const std::string sha = Sha256Hex(module);
  ASSERT_TRUE(store_->PutModule(sha, module, testing::kEpoch2024).ok());
  const std::string cached = std::string(64, 'c');
  SayHello(1, {cached});
  EXPECT_TRUE(session_->HoldsModule(cached));
  EXPECT_FALSE(session_->HoldsModule(sha));

  Send(proto::ModuleRequest{sha});
  const auto frames = channel_->Binaries();
  ASSERT_EQ(frames.size(), 1u);
  auto frame = proto::DecodeModuleFrame(frames[0]);
  ASSERT_TRUE(frame.ok()) << frame.error().message;
  EXPECT_EQ(frame->sha256, sha);
  EXPECT_EQ(frame->bytes, module);
  EXPECT_TRUE(session_->HoldsModule(sha));

  const std::string unknown = std::string(64, 'f');
  Send(proto::ModuleRequest{unknown});
  const auto missing = Sent<proto::ModuleMissing>();
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].sha256, unknown);
  EXPECT_FALSE(session_->HoldsModule(unknown));
  EXPECT_FALSE(channel_->closed());
}

TEST_F(NodeSessionTest, FramesAreIgnoredOnceTheListenerIsGone) {
  SayHello();
  listener_.reset();
  Send(proto::Heartbeat{testing::Telemetry(1)});
  events_.on_closed();
  EXPECT_FALSE(channel_->closed());
}

TEST_F(NodeSessionTest, SendJobEncodesTheJob) {
  SayHello();
  proto::Job job;
  job.invocation_id = "01HXYZ";
  job.module_sha256 = std::string(64, 'a');
  job.input = {'i', 'n'};
  session_->SendJob(job);
  const auto jobs = Sent<proto::Job>();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].invocation_id, "01HXYZ");
  EXPECT_EQ(jobs[0].input, job.input);
  session_->Close("bye");
  EXPECT_TRUE(channel_->closed());
  EXPECT_EQ(channel_->close_reason(), "bye");
}

}  // namespace
}  // namespace milf::server
