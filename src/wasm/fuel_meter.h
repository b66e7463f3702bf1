// FuelMeter: the host side of the metering that Instrument injects. The guest
// keeps a counter of fuel left in its current slice (the exported global
// kFuelGlobal) and calls kFuelRefillImport when it goes negative. Each refill
// is the meter's chance to check the total budget and the wall-clock
// deadline, so the slice size bounds how late a timeout can be noticed.
//
// Fuel used is exact and deterministic: granted - counter, whatever the slice.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "base/clock.h"
#include "wasm/engine.h"
#include "wasm/status.h"

namespace milf::wasm {

class FuelMeter {
 public:
  static constexpr std::int64_t kSlice = 100'000;

  // `budget` fuel units in total; the run must end by `deadline_nanos` on
  // `clock`'s monotonic scale.
  FuelMeter(std::uint64_t budget, std::int64_t deadline_nanos, const Clock& clock);

  // Adds milf.fuel_refill and milf.call_depth_exceeded to `imports`.
  void Register(Imports& imports);

  // Reads the live counter through `instance` from now on, so FuelUsed is
  // exact between refills (before this, it is exact only at refills).
  void Attach(const Instance* instance) { instance_ = instance; }

  std::uint64_t FuelUsed() const;

  // Why the meter stopped the guest, if it did.
  const std::optional<RunStatus>& stop() const { return stop_; }

 private:
  std::int64_t Refill(std::int64_t counter);
  std::int64_t Counter() const;

  const std::int64_t budget_;
  const std::int64_t deadline_nanos_;
  const Clock& clock_;
  const Instance* instance_ = nullptr;
  std::int64_t granted_ = 0;        // fuel handed out so far, in all slices
  std::int64_t last_counter_ = 0;   // counter as of the last refill
  std::optional<RunStatus> stop_;
};

}  // namespace milf::wasm
