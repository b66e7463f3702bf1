// DeviceProfile: a simulated phone for tests and demos (`--device-profile
// FILE`). The node keeps measuring the host's CPU and memory, but its
// battery level, charging state and temperature come from a model driven by
// a Clock and by how busy the node is, so a test can fast-forward an hour of
// battery drain without waiting.
//
// The file is JSON; every key is optional and unknown keys are refused:
//   {
//     "battery": {"start_percent": 80, "drain_idle_percent_per_min": 0.1,
//                 "drain_busy_percent_per_min": 1.5, "charge_percent_per_min": 2},
//     "charging": false,     // or true, or a schedule:
//                            // {"period_min": 60, "on_min": 20, "offset_min": 0}
//     "temperature": {"idle_c": 30, "busy_c": 42, "time_constant_min": 2}
//   }
// The model: the battery drains at idle + (busy - idle) x busy_fraction per
// minute and, while charging, gains charge_percent_per_min on top; it stays
// within 0..100. A schedule charges during [offset, offset + on) of every
// period, counted from the start of the simulation. The temperature moves
// exponentially (time constant tau) toward idle + (busy - idle) x
// busy_fraction, starting at idle.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "node/telemetry.h"

namespace milf::node {

struct ChargingSchedule {
  double period_min = 60;
  double on_min = 0;
  double offset_min = 0;
};

struct DeviceProfile {
  double battery_start_percent = 100;
  double drain_idle_percent_per_min = 0;
  double drain_busy_percent_per_min = 0;
  double charge_percent_per_min = 0;
  bool charging = false;                     // when there is no schedule
  std::optional<ChargingSchedule> schedule;  // overrides `charging`
  double temperature_idle_c = 30;
  double temperature_busy_c = 40;
  double temperature_time_constant_min = 1;
};

// Errors: "invalid_profile" naming the key and the problem.
Result<DeviceProfile> ParseDeviceProfile(std::string_view json);
// Errors: "io" when unreadable, else as ParseDeviceProfile.
Result<DeviceProfile> LoadDeviceProfile(const std::filesystem::path& path);

// The model itself. Not safe for concurrent use.
class DeviceSimulator {
 public:
  explicit DeviceSimulator(DeviceProfile profile);

  // Moves simulated time forward by `elapsed` with the node `busy_fraction`
  // (0..1) busy throughout. Exact for a constant load: the interval is cut
  // at every charging-schedule edge.
  void Advance(std::chrono::nanoseconds elapsed, double busy_fraction);

  double battery_percent() const { return battery_; }
  bool charging() const { return ChargingAt(now_min_); }
  double temperature_c() const { return temperature_; }

 private:
  bool ChargingAt(double minute) const;
  double NextEdgeAfter(double minute) const;

  DeviceProfile profile_;
  double now_min_ = 0;
  double battery_;
  double temperature_;
};

// `host`'s CPU and memory with the simulator's battery, charging and
// temperature. Each Sample advances the simulator by the `clock` time since
// the previous one (the first sample starts the simulation), at the
// busy_fraction the sample is given.
std::unique_ptr<TelemetrySource> NewProfiledTelemetry(DeviceProfile profile,
                                                      std::unique_ptr<TelemetrySource> host,
                                                      const Clock& clock);

}  // namespace milf::node
