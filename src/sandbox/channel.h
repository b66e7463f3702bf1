// Channel: the supervisor-worker link, one end of a SOCK_STREAM socketpair
// carrying frames. A frame is a 12-byte header and a payload:
//
//   u32 magic "MLFS" | u8 version | u8 type | u16 zero | u32 payload length
//
// all little-endian. The reader checks magic, version, the zero field and the
// length against the bound its caller gives before it allocates anything, so
// a hostile peer can make a receive fail but cannot make it allocate more
// than the bound or block past the deadline.
//
// Deadlines are CLOCK_MONOTONIC nanoseconds; kNoDeadline blocks (the worker
// waits for its next job that way). A send or receive that fails part-way
// leaves the stream unusable: the caller must drop the channel.
//
// Ownership: a Channel owns its descriptor. Not safe for concurrent use.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "base/result.h"
#include "wasm/wasi/unique_fd.h"

namespace milf::sandbox {

using wasm::wasi::UniqueFd;

inline constexpr std::uint32_t kFrameMagic = 0x53464c4d;  // "MLFS" on the wire
inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 12;
inline constexpr std::int64_t kNoDeadline = std::numeric_limits<std::int64_t>::max();

enum class FrameType : std::uint8_t {
  kInit = 1,           // supervisor -> worker, once: how to lock down
  kHello = 2,          // worker -> supervisor, once: locked down, the walls raised
  kJob = 3,            // supervisor -> worker
  kResult = 4,         // worker -> supervisor: the job's record
  kModuleMissing = 5,  // worker -> supervisor: resend the job with the module bytes
};

struct Frame {
  FrameType type = FrameType::kInit;
  std::vector<std::uint8_t> payload;
};

class Channel {
 public:
  explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}

  // Errors: "closed" (the peer is gone), "timeout", "io".
  Status Send(FrameType type, std::span<const std::uint8_t> payload, std::int64_t deadline);

  // Errors: "closed" (end of stream before a header byte), "timeout",
  // "protocol" (bad header, unknown type, payload over max_payload, end of
  // stream inside a frame), "io".
  Result<Frame> Receive(std::uint32_t max_payload, std::int64_t deadline);

  int fd() const { return fd_.get(); }

 private:
  Status WaitFor(short events, std::int64_t deadline) const;
  Status ReadExactly(std::span<std::uint8_t> out, std::int64_t deadline, bool at_frame_start);

  UniqueFd fd_;
};

// Monotonic now, and now + nanos saturating at kNoDeadline.
std::int64_t MonotonicNow();
std::int64_t DeadlineAfter(std::int64_t nanos);

}  // namespace milf::sandbox
