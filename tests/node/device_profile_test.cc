// The simulated phone: parsing the profile strictly, and the battery,
// charging and temperature model over injected time.
#include "node/device_profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "node_test_support.h"

namespace milf::node {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::Fixture;
using testing::ManualClock;

DeviceProfile Parse(std::string_view json) {
  auto profile = ParseDeviceProfile(json);
  EXPECT_TRUE(profile) << profile.error().message;
  return profile ? *profile : DeviceProfile{};
}

std::string ParseError(std::string_view json) {
  auto profile = ParseDeviceProfile(json);
  EXPECT_FALSE(profile) << json;
  if (profile) return "";
  EXPECT_EQ(profile.error().code, "invalid_profile");
  return profile.error().message;
}

TEST(DeviceProfileParse, ReadsEveryKey) {
  const DeviceProfile p = Parse(R"({
    "battery": {"start_percent": 80, "drain_idle_percent_per_min": 0.5,
                "drain_busy_percent_per_min": 2, "charge_percent_per_min": 3},
    "charging": {"period_min": 60, "on_min": 20, "offset_min": 5},
    "temperature": {"idle_c": 28, "busy_c": 44, "time_constant_min": 2.5}})");
  EXPECT_EQ(p.battery_start_percent, 80);
  EXPECT_EQ(p.drain_idle_percent_per_min, 0.5);
  EXPECT_EQ(p.drain_busy_percent_per_min, 2);
  EXPECT_EQ(p.charge_percent_per_min, 3);
  ASSERT_TRUE(p.schedule.has_value());
  EXPECT_EQ(p.schedule->period_min, 60);
  EXPECT_EQ(p.schedule->on_min, 20);
  EXPECT_EQ(p.schedule->offset_min, 5);
  EXPECT_EQ(p.temperature_idle_c, 28);
  EXPECT_EQ(p.temperature_busy_c, 44);
  EXPECT_EQ(p.temperature_time_constant_min, 2.5);
}

TEST(DeviceProfileParse, EverythingIsOptional) {
  const DeviceProfile p = Parse("{}");
  EXPECT_EQ(p.battery_start_percent, 100);
  EXPECT_FALSE(p.charging);
  EXPECT_FALSE(p.schedule.has_value());
  EXPECT_TRUE(Parse(R"({"charging": true})").charging);
}

TEST(DeviceProfileParse, RefusesBadInput) {
  EXPECT_THAT(ParseError("{"), HasSubstr("invalid JSON"));
  EXPECT_THAT(ParseError("[]"), HasSubstr("object"));
  EXPECT_THAT(ParseError(R"({"batery": {}})"), HasSubstr("batery: unknown key"));
  EXPECT_THAT(ParseError(R"({"battery": {"start": 5}})"), HasSubstr("battery.start: unknown key"));
  EXPECT_THAT(ParseError(R"({"battery": {"start_percent": 101}})"),
              HasSubstr("battery.start_percent: must be between 0 and 100"));
  EXPECT_THAT(ParseError(R"({"battery": {"start_percent": "full"}})"),
              HasSubstr("expected a number"));
  EXPECT_THAT(ParseError(R"({"battery": 5})"), HasSubstr("battery: expected an object"));
  EXPECT_THAT(ParseError(R"({"charging": "sometimes"})"), HasSubstr("charging"));
  EXPECT_THAT(ParseError(R"({"charging": {"period_min": 10}})"), HasSubstr("on_min"));
  EXPECT_THAT(ParseError(R"({"charging": {"period_min": 10, "on_min": 11}})"),
              HasSubstr("charging.on_min"));
  EXPECT_THAT(ParseError(R"({"temperature": {"time_constant_min": 0}})"),
              HasSubstr("temperature.time_constant_min"));
}

TEST(DeviceProfileParse, LoadsAFileAndNamesItInErrors) {
  testing::TempDir dir;
  testing::WriteFile(dir.path(), "phone.json", R"({"battery": {"start_percent": 42}})");
  auto profile = LoadDeviceProfile(dir.path() / "phone.json");
  ASSERT_TRUE(profile) << profile.error().message;
  EXPECT_EQ(profile->battery_start_percent, 42);
  testing::WriteFile(dir.path(), "bad.json", R"({"x": 1})");
  EXPECT_THAT(LoadDeviceProfile(dir.path() / "bad.json").error().message, HasSubstr("bad.json"));
  EXPECT_EQ(LoadDeviceProfile(dir.path() / "absent.json").error().code, "io");
}

TEST(DeviceSimulator, DrainsFasterWhenBusy) {
  DeviceProfile p;
  p.battery_start_percent = 80;
  p.drain_idle_percent_per_min = 0.5;
  p.drain_busy_percent_per_min = 2;
  DeviceSimulator idle(p), busy(p), half(p);
  idle.Advance(10min, 0);
  busy.Advance(10min, 1);
  half.Advance(10min, 0.5);
  EXPECT_NEAR(idle.battery_percent(), 75, 1e-9);
  EXPECT_NEAR(busy.battery_percent(), 60, 1e-9);
  EXPECT_NEAR(half.battery_percent(), 80 - 12.5, 1e-9);
}

TEST(DeviceSimulator, BatteryStaysWithinZeroAndHundred) {
  DeviceProfile p;
  p.battery_start_percent = 10;
  p.drain_busy_percent_per_min = 5;
  DeviceSimulator drained(p);
  drained.Advance(1h, 1);
  EXPECT_EQ(drained.battery_percent(), 0);
  p.charging = true;
  p.charge_percent_per_min = 50;
  DeviceSimulator charged(p);
  charged.Advance(1h, 0);
  EXPECT_EQ(charged.battery_percent(), 100);
  EXPECT_TRUE(charged.charging());
}

TEST(DeviceSimulator, ChargingScheduleIsExactAtItsEdges) {
  DeviceProfile p;
  p.battery_start_percent = 50;
  p.drain_idle_percent_per_min = 1;
  p.charge_percent_per_min = 3;  // net +2 %/min while charging
  p.schedule = ChargingSchedule{60, 15, 0};
  DeviceSimulator sim(p);
  EXPECT_TRUE(sim.charging());
  sim.Advance(10min, 0);
  EXPECT_NEAR(sim.battery_percent(), 70, 1e-9);
  // 5 more minutes charging, then 25 discharging, in one step.
  sim.Advance(30min, 0);
  EXPECT_FALSE(sim.charging());
  EXPECT_NEAR(sim.battery_percent(), 70 + 10 - 25, 1e-9);
  // Into the next period: 20 more minutes off, then 5 on.
  sim.Advance(25min, 0);
  EXPECT_TRUE(sim.charging());
  EXPECT_NEAR(sim.battery_percent(), 55 - 20 + 10, 1e-9);
}

TEST(DeviceSimulator, ScheduleOffsetDelaysCharging) {
  DeviceProfile p;
  p.schedule = ChargingSchedule{30, 10, 20};
  DeviceSimulator sim(p);
  EXPECT_FALSE(sim.charging());  // minute 0 is phase 10 of the period
  sim.Advance(19min, 0);
  EXPECT_FALSE(sim.charging());
  sim.Advance(1min, 0);
  EXPECT_TRUE(sim.charging());
  sim.Advance(10min, 0);
  EXPECT_FALSE(sim.charging());
}

TEST(DeviceSimulator, TemperatureApproachesTheBusyLevel) {
  DeviceProfile p;
  p.temperature_idle_c = 30;
  p.temperature_busy_c = 40;
  p.temperature_time_constant_min = 2;
  DeviceSimulator sim(p);
  EXPECT_EQ(sim.temperature_c(), 30);
  sim.Advance(2min, 1);
  EXPECT_NEAR(sim.temperature_c(), 40 - 10 * std::exp(-1.0), 1e-9);
  // The same two minutes in many small steps give the same temperature.
  DeviceSimulator stepped(p);
  for (int i = 0; i < 120; ++i) stepped.Advance(1s, 1);
  EXPECT_NEAR(stepped.temperature_c(), sim.temperature_c(), 1e-9);
  sim.Advance(1h, 1);
  EXPECT_NEAR(sim.temperature_c(), 40, 1e-6);
  sim.Advance(1h, 0);
  EXPECT_NEAR(sim.temperature_c(), 30, 1e-6);
}

TEST(ProfiledTelemetry, DrivenByTheClockAndTheLoad) {
  DeviceProfile p;
  p.battery_start_percent = 90;
  p.drain_idle_percent_per_min = 0.5;
  p.drain_busy_percent_per_min = 1.5;
  ManualClock clock;
  auto source = NewProfiledTelemetry(p, NewHostTelemetry(NewRootedSensorFiles(Fixture("server"))),
                                     clock);
  proto::Telemetry t = source->Sample(0);  // starts the simulation
  EXPECT_EQ(t.battery_percent, 90);
  EXPECT_EQ(t.charging, false);
  EXPECT_EQ(t.temperature_c, 30);
  EXPECT_EQ(t.mem_total_bytes, 24684096ull * 1024);  // the host's memory still shows
  clock.Advance(10min);
  t = source->Sample(1);  // busy for those ten minutes
  EXPECT_NEAR(*t.battery_percent, 75, 1e-9);
  clock.Advance(10min);
  t = source->Sample(0);
  EXPECT_NEAR(*t.battery_percent, 70, 1e-9);
  t = source->Sample(1);  // no time passed
  EXPECT_NEAR(*t.battery_percent, 70, 1e-9);
}

}  // namespace
}  // namespace milf::node
