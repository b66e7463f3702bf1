// WasiEnvironment: where a WASI guest's time and randomness come from. The
// run harness supplies it, so that a deterministic run can substitute
// virtual time and seeded randomness, and tests can drive time by hand.
//
// Thread-safety: called from the thread running the guest only.
#pragma once

#include <cstdint>
#include <span>

namespace milf::wasm::wasi {

class WasiEnvironment {
 public:
  virtual ~WasiEnvironment() = default;

  // CLOCK_REALTIME as the guest sees it: nanoseconds since the Unix epoch.
  virtual std::int64_t RealtimeNanos() = 0;
  // CLOCK_MONOTONIC as the guest sees it; never goes backwards. Also
  // answers the process and thread CPU-time clocks.
  virtual std::int64_t MonotonicNanos() = 0;
  // Fills `out` with random bytes (random_get).
  virtual void FillRandom(std::span<std::uint8_t> out) = 0;
  // Waits `nanos` (> 0) of guest-visible time: really sleeps, or, in a
  // deterministic run, advances virtual time. Returns false when the run's
  // deadline passed meanwhile; poll_oneoff then stops the run with kTimeout.
  virtual bool Sleep(std::int64_t nanos) = 0;
};

}  // namespace milf::wasm::wasi
