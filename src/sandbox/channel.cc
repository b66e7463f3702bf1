#include "sandbox/channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "base/clock.h"

namespace milf::sandbox {
namespace {

void PutU32(std::uint8_t* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint32_t GetU32(const std::uint8_t* in) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(in[i]) << (8 * i);
  return value;
}

bool KnownType(std::uint8_t type) {
  return type >= static_cast<std::uint8_t>(FrameType::kInit) &&
         type <= static_cast<std::uint8_t>(FrameType::kModuleMissing);
}

Unexpected<Error> IoError(const char* what) {
  return Fail("io", std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

std::int64_t MonotonicNow() { return SystemClock().MonotonicNanos(); }

std::int64_t DeadlineAfter(std::int64_t nanos) {
  const std::int64_t now = MonotonicNow();
  return nanos >= kNoDeadline - now ? kNoDeadline : now + nanos;
}

Status Channel::WaitFor(short events, std::int64_t deadline) const {
  for (;;) {
    int timeout_ms = -1;
    if (deadline != kNoDeadline) {
      const std::int64_t left = deadline - MonotonicNow();
      if (left <= 0) return Fail("timeout", "deadline passed");
      // Round up so that a sub-millisecond remainder still waits.
      timeout_ms = static_cast<int>(std::min<std::int64_t>((left + 999'999) / 1'000'000, 1 << 30));
    }
    pollfd entry{fd_.get(), events, 0};
    const int ready = ::poll(&entry, 1, timeout_ms);
    if (ready > 0) return {};
    if (ready < 0 && errno != EINTR) return IoError("poll");
  }
}

Status Channel::Send(FrameType type, std::span<const std::uint8_t> payload, std::int64_t deadline) {
  if (payload.size() > UINT32_MAX) return Fail("io", "frame payload over 4 GiB");
  std::uint8_t header[kFrameHeaderBytes] = {};
  PutU32(header, kFrameMagic);
  header[4] = kProtocolVersion;
  header[5] = static_cast<std::uint8_t>(type);
  PutU32(header + 8, static_cast<std::uint32_t>(payload.size()));

  iovec parts[2] = {{header, sizeof header},
                    {const_cast<std::uint8_t*>(payload.data()), payload.size()}};
  std::span<iovec> pending(parts, payload.empty() ? 1 : 2);
  const int flags = MSG_NOSIGNAL | (deadline == kNoDeadline ? 0 : MSG_DONTWAIT);
  while (!pending.empty()) {
    msghdr message{};
    message.msg_iov = pending.data();
    message.msg_iovlen = pending.size();
    const ssize_t sent = ::sendmsg(fd_.get(), &message, flags);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (auto waited = WaitFor(POLLOUT, deadline); !waited) return waited;
        continue;
      }
      if (errno == EPIPE || errno == ECONNRESET) return Fail("closed", "peer closed the channel");
      return IoError("sendmsg");
    }
    auto left = static_cast<std::size_t>(sent);
    while (!pending.empty() && left >= pending.front().iov_len) {
      left -= pending.front().iov_len;
      pending = pending.subspan(1);
    }
    if (!pending.empty()) {
      pending.front().iov_base = static_cast<std::uint8_t*>(pending.front().iov_base) + left;
      pending.front().iov_len -= left;
    }
  }
  return {};
}

Status Channel::ReadExactly(std::span<std::uint8_t> out, std::int64_t deadline,
                            bool at_frame_start) {
  const int flags = deadline == kNoDeadline ? 0 : MSG_DONTWAIT;
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::recv(fd_.get(), out.data() + done, out.size() - done, flags);
    if (got > 0) {
      done += static_cast<std::size_t>(got);
      continue;
    }
    if (got == 0) {
      if (at_frame_start && done == 0) return Fail("closed", "peer closed the channel");
      return Fail("protocol", "end of stream inside a frame");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto waited = WaitFor(POLLIN, deadline); !waited) return waited;
      continue;
    }
    if (errno == ECONNRESET) return Fail("closed", "peer reset the channel");
    return IoError("recv");
  }
  return {};
}

Result<Frame> Channel::Receive(std::uint32_t max_payload, std::int64_t deadline) {
  std::uint8_t header[kFrameHeaderBytes];
  if (auto read = ReadExactly(header, deadline, true); !read) return Fail(std::move(read).error());
  if (GetU32(header) != kFrameMagic) return Fail("protocol", "bad frame magic");
  if (header[4] != kProtocolVersion) {
    return Fail("protocol", "protocol version " + std::to_string(header[4]) + ", expected " +
                                std::to_string(kProtocolVersion));
  }
  if (!KnownType(header[5])) return Fail("protocol", "unknown frame type");
  if (header[6] != 0 || header[7] != 0) return Fail("protocol", "reserved header bytes set");
  const std::uint32_t length = GetU32(header + 8);
  if (length > max_payload) {
    return Fail("protocol", "frame of " + std::to_string(length) + " bytes, the bound is " +
                                std::to_string(max_payload));
  }
  Frame frame;
  frame.type = static_cast<FrameType>(header[5]);
  frame.payload.resize(length);
  if (auto read = ReadExactly(frame.payload, deadline, false); !read) {
    return Fail(std::move(read).error());
  }
  return frame;
}

}  // namespace milf::sandbox
