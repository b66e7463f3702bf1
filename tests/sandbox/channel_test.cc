// Framing over a socketpair: frames round trip; a bad header, an oversized
// length or a stream cut inside a frame are protocol errors; a peer that
// stalls cannot hold a receive past its deadline.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "sandbox/channel.h"

namespace milf::sandbox {
namespace {

constexpr std::int64_t kShort = 50'000'000;  // 50 ms

struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = std::make_unique<Channel>(UniqueFd(fds[0]));
    raw = fds[0];
    b = std::make_unique<Channel>(UniqueFd(fds[1]));
  }
  void WriteRaw(const std::vector<std::uint8_t>& bytes) const {
    ASSERT_EQ(::write(raw, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  std::unique_ptr<Channel> a;
  std::unique_ptr<Channel> b;
  int raw = -1;  // a's descriptor, for sending b bytes that are not frames
};

std::vector<std::uint8_t> Header(std::uint32_t magic, std::uint8_t version, std::uint8_t type,
                                 std::uint16_t reserved, std::uint32_t length) {
  std::vector<std::uint8_t> bytes;
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(magic >> (8 * i)));
  bytes.push_back(version);
  bytes.push_back(type);
  bytes.push_back(static_cast<std::uint8_t>(reserved));
  bytes.push_back(static_cast<std::uint8_t>(reserved >> 8));
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  return bytes;
}

TEST(ChannelTest, FramesRoundTripBothWays) {
  Pair pair;
  const std::vector<std::uint8_t> payload = {1, 2, 3};
  ASSERT_TRUE(pair.a->Send(FrameType::kJob, payload, DeadlineAfter(kShort)));
  ASSERT_TRUE(pair.a->Send(FrameType::kInit, {}, kNoDeadline));
  auto first = pair.b->Receive(100, DeadlineAfter(kShort));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, FrameType::kJob);
  EXPECT_EQ(first->payload, payload);
  auto second = pair.b->Receive(100, kNoDeadline);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, FrameType::kInit);
  EXPECT_TRUE(second->payload.empty());
}

TEST(ChannelTest, LargeFramesCrossTheSocketBuffer) {
  Pair pair;
  std::vector<std::uint8_t> payload(8 << 20);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
  std::thread sender([&] { EXPECT_TRUE(pair.a->Send(FrameType::kResult, payload, kNoDeadline)); });
  auto frame = pair.b->Receive(16 << 20, DeadlineAfter(10'000'000'000));
  sender.join();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, payload);
}

TEST(ChannelTest, ClosedPeerAtAFrameBoundaryIsClosed) {
  Pair pair;
  pair.a.reset();
  auto frame = pair.b->Receive(100, DeadlineAfter(kShort));
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error().code, "closed");
}

TEST(ChannelTest, StreamCutInsideAFrameIsAProtocolError) {
  Pair pair;
  auto header = Header(kFrameMagic, kProtocolVersion, 3, 0, 10);
  header.push_back(1);  // one of ten payload bytes
  pair.WriteRaw(header);
  pair.a.reset();
  auto frame = pair.b->Receive(100, DeadlineAfter(kShort));
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error().code, "protocol");
}

TEST(ChannelTest, BadHeadersAreProtocolErrors) {
  const std::vector<std::vector<std::uint8_t>> headers = {
      Header(0xdeadbeef, kProtocolVersion, 3, 0, 0),       // magic
      Header(kFrameMagic, kProtocolVersion + 1, 3, 0, 0),  // version
      Header(kFrameMagic, kProtocolVersion, 0, 0, 0),      // type below the range
      Header(kFrameMagic, kProtocolVersion, 99, 0, 0),     // type above it
      Header(kFrameMagic, kProtocolVersion, 3, 1, 0),      // reserved bits
      Header(kFrameMagic, kProtocolVersion, 3, 0, 101),    // over the bound
      Header(kFrameMagic, kProtocolVersion, 3, 0, 0xffffffff),
  };
  for (const auto& header : headers) {
    Pair pair;
    pair.WriteRaw(header);
    auto frame = pair.b->Receive(100, DeadlineAfter(kShort));
    ASSERT_FALSE(frame);
    EXPECT_EQ(frame.error().code, "protocol") << frame.error().message;
  }
}

TEST(ChannelTest, SilentPeerTimesOut) {
  Pair pair;
  auto frame = pair.b->Receive(100, DeadlineAfter(kShort));
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error().code, "timeout");
}

TEST(ChannelTest, PeerStallingMidHeaderTimesOut) {
  Pair pair;
  auto header = Header(kFrameMagic, kProtocolVersion, 3, 0, 0);
  header.resize(5);
  pair.WriteRaw(header);
  auto frame = pair.b->Receive(100, DeadlineAfter(kShort));
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error().code, "timeout");
}

TEST(ChannelTest, SendToAFullSocketTimesOut) {
  Pair pair;
  std::vector<std::uint8_t> payload(16 << 20);  // far more than the socket buffers
  auto sent = pair.a->Send(FrameType::kJob, payload, DeadlineAfter(kShort));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, "timeout");
}

TEST(ChannelTest, SendToAClosedPeerIsClosed) {
  Pair pair;
  pair.b.reset();
  auto sent = pair.a->Send(FrameType::kJob, std::vector<std::uint8_t>(1000), DeadlineAfter(kShort));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, "closed");
}

}  // namespace
}  // namespace milf::sandbox
