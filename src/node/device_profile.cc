#include "node/device_profile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "node/config_json.h"

namespace milf::node {
namespace {

namespace json = boost::json;

constexpr double kMaxMinutes = 1e6;
constexpr double kMinStepMin = 1e-9;  // keeps the loop moving at float-rounded edges

// Reads `key` into `field` when present.
Status Assign(const ConfigReader& reader, const json::object& object, std::string_view key,
              double min, double max, double& field) {
  auto value = reader.Number(object, key, min, max);
  if (!value) return Fail(std::move(value).error());
  if (*value) field = **value;
  return {};
}

const json::object* FindObject(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

Status ParseBattery(const ConfigReader& reader, const json::object& object, DeviceProfile& profile) {
  if (auto keys = reader.CheckKeys(object, {"start_percent", "drain_idle_percent_per_min",
                                            "drain_busy_percent_per_min", "charge_percent_per_min"});
      !keys) {
    return keys;
  }
  for (auto [key, field] : {std::pair{"start_percent", &profile.battery_start_percent},
                            std::pair{"drain_idle_percent_per_min", &profile.drain_idle_percent_per_min},
                            std::pair{"drain_busy_percent_per_min", &profile.drain_busy_percent_per_min},
                            std::pair{"charge_percent_per_min", &profile.charge_percent_per_min}}) {
    if (auto status = Assign(reader, object, key, 0, 100, *field); !status) return status;
  }
  return {};
}

Status ParseCharging(const ConfigReader& reader, const json::object& top, DeviceProfile& profile) {
  const json::value* value = top.if_contains("charging");
  if (value == nullptr || value->is_null()) return {};
  if (value->is_bool()) {
    profile.charging = value->get_bool();
    return {};
  }
  if (!value->is_object()) return Fail("invalid_profile", "charging: expected true, false or a schedule");
  const ConfigReader nested = reader.Nested("charging");
  const json::object& object = value->get_object();
  if (auto keys = nested.CheckKeys(object, {"period_min", "on_min", "offset_min"}); !keys) return keys;
  ChargingSchedule schedule;
  if (!object.contains("period_min") || !object.contains("on_min")) {
    return Fail("invalid_profile", "charging: a schedule needs period_min and on_min");
  }
  if (auto s = Assign(nested, object, "period_min", 1e-3, kMaxMinutes, schedule.period_min); !s) return s;
  if (auto s = Assign(nested, object, "on_min", 0, schedule.period_min, schedule.on_min); !s) return s;
  if (auto s = Assign(nested, object, "offset_min", 0, kMaxMinutes, schedule.offset_min); !s) return s;
  profile.schedule = schedule;
  return {};
}

Status ParseTemperature(const ConfigReader& reader, const json::object& object,
                        DeviceProfile& profile) {
  if (auto keys = reader.CheckKeys(object, {"idle_c", "busy_c", "time_constant_min"}); !keys) {
    return keys;
  }
  if (auto s = Assign(reader, object, "idle_c", -50, 150, profile.temperature_idle_c); !s) return s;
  if (auto s = Assign(reader, object, "busy_c", -50, 150, profile.temperature_busy_c); !s) return s;
  return Assign(reader, object, "time_constant_min", 1e-3, kMaxMinutes,
                profile.temperature_time_constant_min);
}

class ProfiledTelemetry final : public TelemetrySource {
 public:
  ProfiledTelemetry(DeviceProfile profile, std::unique_ptr<TelemetrySource> host, const Clock& clock)
      : simulator_(std::move(profile)), host_(std::move(host)), clock_(clock) {}

  proto::Telemetry Sample(double busy_fraction) override {
    const std::int64_t now = clock_.MonotonicNanos();
    if (last_nanos_) simulator_.Advance(std::chrono::nanoseconds(now - *last_nanos_), busy_fraction);
    last_nanos_ = now;
    proto::Telemetry telemetry = host_->Sample(busy_fraction);
    telemetry.battery_percent = simulator_.battery_percent();
    telemetry.charging = simulator_.charging();
    telemetry.temperature_c = simulator_.temperature_c();
    return telemetry;
  }

 private:
  DeviceSimulator simulator_;
  std::unique_ptr<TelemetrySource> host_;
  const Clock& clock_;
  std::optional<std::int64_t> last_nanos_;
};

}  // namespace

Result<DeviceProfile> ParseDeviceProfile(std::string_view text) {
  const ConfigReader reader("invalid_profile", "");
  auto top = reader.ParseObject(text);
  if (!top) return Fail(std::move(top).error());
  if (auto keys = reader.CheckKeys(*top, {"battery", "charging", "temperature"}); !keys) {
    return Fail(std::move(keys).error());
  }
  DeviceProfile profile;
  for (std::string_view key : {"battery", "temperature"}) {
    if (top->contains(key) && FindObject(*top, key) == nullptr) {
      return Fail("invalid_profile", std::string(key) + ": expected an object");
    }
  }
  Status status;
  if (const json::object* battery = FindObject(*top, "battery")) {
    status = ParseBattery(reader.Nested("battery"), *battery, profile);
  }
  if (status) status = ParseCharging(reader, *top, profile);
  if (const json::object* temperature = FindObject(*top, "temperature"); status && temperature) {
    status = ParseTemperature(reader.Nested("temperature"), *temperature, profile);
  }
  if (!status) return Fail(std::move(status).error());
  return profile;
}

Result<DeviceProfile> LoadDeviceProfile(const std::filesystem::path& path) {
  auto text = ReadConfigFile(path);
  if (!text) return Fail(std::move(text).error());
  auto profile = ParseDeviceProfile(*text);
  if (!profile) return Fail("invalid_profile", path.string() + ": " + profile.error().message);
  return profile;
}

DeviceSimulator::DeviceSimulator(DeviceProfile profile)
    : profile_(std::move(profile)),
      battery_(profile_.battery_start_percent),
      temperature_(profile_.temperature_idle_c) {}

void DeviceSimulator::Advance(std::chrono::nanoseconds elapsed, double busy_fraction) {
  const double busy = std::clamp(busy_fraction, 0.0, 1.0);
  const double drain = profile_.drain_idle_percent_per_min +
                       (profile_.drain_busy_percent_per_min - profile_.drain_idle_percent_per_min) * busy;
  const double target = profile_.temperature_idle_c +
                        (profile_.temperature_busy_c - profile_.temperature_idle_c) * busy;
  double remaining = std::chrono::duration<double, std::ratio<60>>(elapsed).count();
  while (remaining > 0) {
    const double step =
        std::min(remaining, std::max(NextEdgeAfter(now_min_) - now_min_, kMinStepMin));
    const double gain = ChargingAt(now_min_) ? profile_.charge_percent_per_min : 0;
    battery_ = std::clamp(battery_ + (gain - drain) * step, 0.0, 100.0);
    temperature_ = target + (temperature_ - target) *
                                std::exp(-step / profile_.temperature_time_constant_min);
    now_min_ += step;
    remaining -= step;
  }
}

bool DeviceSimulator::ChargingAt(double minute) const {
  if (!profile_.schedule) return profile_.charging;
  const ChargingSchedule& s = *profile_.schedule;
  double phase = std::fmod(minute - s.offset_min, s.period_min);
  if (phase < 0) phase += s.period_min;
  return phase < s.on_min;
}

double DeviceSimulator::NextEdgeAfter(double minute) const {
  if (!profile_.schedule) return std::numeric_limits<double>::infinity();
  const ChargingSchedule& s = *profile_.schedule;
  double phase = std::fmod(minute - s.offset_min, s.period_min);
  if (phase < 0) phase += s.period_min;
  const double period_start = minute - phase;
  const double on_edge = period_start + s.on_min;
  return on_edge > minute ? on_edge : period_start + s.period_min;
}

std::unique_ptr<TelemetrySource> NewProfiledTelemetry(DeviceProfile profile,
                                                      std::unique_ptr<TelemetrySource> host,
                                                      const Clock& clock) {
  return std::make_unique<ProfiledTelemetry>(std::move(profile), std::move(host), clock);
}

}  // namespace milf::node
