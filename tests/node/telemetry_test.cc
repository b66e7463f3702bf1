// Telemetry from fixture files: a phone (battery, USB charger) and a server
// (no power supply at all), CPU load between samples, and malformed or
// missing files, which must never fail a heartbeat.
#include "node/telemetry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "node_test_support.h"

namespace milf::node {
namespace {

using testing::Fixture;
using testing::TempDir;
using testing::WriteFile;

TEST(ProcStat, ParsesTheAggregateLine) {
  auto times = ParseProcStat("cpu  10 2 3 80 5 1 1 0 7 0\ncpu0 1 1 1 1 1 1 1 1 1 1\n");
  ASSERT_TRUE(times) << times.error().message;
  EXPECT_EQ(times->total, 10u + 2 + 3 + 80 + 5 + 1 + 1 + 0);  // guest is inside user
  EXPECT_EQ(times->busy, times->total - 80 - 5);               // idle and iowait are not busy
}

TEST(ProcStat, AcceptsOldKernelsWithFourColumns) {
  auto times = ParseProcStat("cpu 1 2 3 4\n");
  ASSERT_TRUE(times);
  EXPECT_EQ(times->total, 10u);
  EXPECT_EQ(times->busy, 6u);
}

TEST(ProcStat, RefusesMalformedText) {
  EXPECT_FALSE(ParseProcStat(""));
  EXPECT_FALSE(ParseProcStat("cpu0 1 2 3 4\n"));  // no aggregate line
  EXPECT_FALSE(ParseProcStat("cpu 1 2\n"));
  EXPECT_FALSE(ParseProcStat("cpu x y z w\n"));
}

TEST(ProcStat, LoadBetweenSamples) {
  EXPECT_DOUBLE_EQ(CpuLoadBetween({100, 400}, {175, 500}), 0.75);
  EXPECT_DOUBLE_EQ(CpuLoadBetween({0, 0}, {25, 100}), 0.25);
  EXPECT_EQ(CpuLoadBetween({100, 400}, {100, 400}), 0);  // no time passed
  EXPECT_EQ(CpuLoadBetween({100, 400}, {50, 300}), 0);   // counters reset
}

TEST(Meminfo, ParsesTotalAndAvailable) {
  auto memory = ParseMeminfo("MemTotal:  1000 kB\nMemFree: 100 kB\nMemAvailable: 400 kB\n");
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->total_bytes, 1000u * 1024);
  EXPECT_EQ(memory->available_bytes, 400u * 1024);
}

TEST(Meminfo, FallsBackToMemFree) {
  auto memory = ParseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\n");
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->available_bytes, 100u * 1024);
}

TEST(Meminfo, RefusesMissingFields) {
  EXPECT_EQ(ParseMeminfo("MemFree: 1 kB\n").error().code, "malformed");
  EXPECT_EQ(ParseMeminfo("MemTotal: 1 kB\n").error().code, "malformed");
  EXPECT_FALSE(ParseMeminfo("garbage"));
}

TEST(PowerSupply, PhoneFixture) {
  auto files = NewRootedSensorFiles(Fixture("phone"));
  const PowerState power = ReadPowerSupply(*files);
  EXPECT_EQ(power.battery_percent, 57);
  EXPECT_EQ(power.charging, false);  // USB charger offline, battery discharging
  EXPECT_EQ(power.temperature_c, 31.2);
}

TEST(PowerSupply, ServerFixtureHasNoBattery) {
  auto files = NewRootedSensorFiles(Fixture("server"));
  const PowerState power = ReadPowerSupply(*files);
  EXPECT_FALSE(power.battery_percent.has_value());
  EXPECT_FALSE(power.charging.has_value());
  EXPECT_FALSE(power.temperature_c.has_value());
}

TEST(PowerSupply, ChargerOnlineMeansCharging) {
  TempDir root;
  WriteFile(root.path(), "sys/class/power_supply/BAT0/type", "Battery\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT0/capacity", "80\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT0/status", "Not charging\n");
  WriteFile(root.path(), "sys/class/power_supply/AC/type", "Mains\n");
  WriteFile(root.path(), "sys/class/power_supply/AC/online", "1\n");
  const PowerState power = ReadPowerSupply(*NewRootedSensorFiles(root.path()));
  EXPECT_EQ(power.charging, true);
  EXPECT_EQ(power.battery_percent, 80);
  EXPECT_FALSE(power.temperature_c.has_value());  // no temp file
}

TEST(PowerSupply, BatteryStatusAloneAndTwoBatteries) {
  TempDir root;
  WriteFile(root.path(), "sys/class/power_supply/BAT0/type", "Battery\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT0/capacity", "40\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT0/status", "Charging\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT0/temp", "250\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT1/type", "Battery\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT1/capacity", "60\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT1/temp", "410\n");
  const PowerState power = ReadPowerSupply(*NewRootedSensorFiles(root.path()));
  EXPECT_EQ(power.battery_percent, 50);  // the mean
  EXPECT_EQ(power.charging, true);
  EXPECT_EQ(power.temperature_c, 41);  // the hottest
}

TEST(PowerSupply, GarbageValuesAreUnknown) {
  TempDir root;
  WriteFile(root.path(), "sys/class/power_supply/BAT0/type", "Battery\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT0/capacity", "lots\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT0/status", "Unknown\n");
  WriteFile(root.path(), "sys/class/power_supply/BAT0/temp", "");
  WriteFile(root.path(), "sys/class/power_supply/weird/type", "Quantum\n");
  const PowerState power = ReadPowerSupply(*NewRootedSensorFiles(root.path()));
  EXPECT_FALSE(power.battery_percent.has_value());
  EXPECT_FALSE(power.charging.has_value());
  EXPECT_FALSE(power.temperature_c.has_value());
}

TEST(HostTelemetry, PhoneFixture) {
  auto source = NewHostTelemetry(NewRootedSensorFiles(Fixture("phone")));
  const proto::Telemetry t = source->Sample(0);
  // The first sample is the average since boot.
  EXPECT_NEAR(t.cpu_load, 5668.0 / 9390.0, 1e-9);
  EXPECT_EQ(t.mem_total_bytes, 3884176ull * 1024);
  EXPECT_EQ(t.mem_free_bytes, 1402312ull * 1024);
  EXPECT_EQ(t.battery_percent, 57);
  EXPECT_EQ(t.charging, false);
  EXPECT_EQ(t.temperature_c, 31.2);
}

TEST(HostTelemetry, ServerFixtureReportsUnknownBattery) {
  auto source = NewHostTelemetry(NewRootedSensorFiles(Fixture("server")));
  const proto::Telemetry t = source->Sample(0);
  EXPECT_EQ(t.mem_total_bytes, 24684096ull * 1024);
  EXPECT_FALSE(t.battery_percent.has_value());
  EXPECT_FALSE(t.charging.has_value());
  EXPECT_FALSE(t.temperature_c.has_value());
}

TEST(HostTelemetry, CpuLoadIsTheDeltaBetweenSamples) {
  TempDir root;
  WriteFile(root.path(), "proc/stat", "cpu 100 0 0 900 0 0 0 0\n");
  WriteFile(root.path(), "proc/meminfo", "MemTotal: 4 kB\nMemAvailable: 2 kB\n");
  auto source = NewHostTelemetry(NewRootedSensorFiles(root.path()));
  EXPECT_DOUBLE_EQ(source->Sample(0).cpu_load, 0.1);
  WriteFile(root.path(), "proc/stat", "cpu 190 0 0 910 0 0 0 0\n");  // 90 of 100 busy
  EXPECT_DOUBLE_EQ(source->Sample(0).cpu_load, 0.9);
  WriteFile(root.path(), "proc/stat", "cpu 190 0 0 1010 0 0 0 0\n");  // all idle
  EXPECT_DOUBLE_EQ(source->Sample(0).cpu_load, 0);
}

TEST(HostTelemetry, MissingOrBrokenProcFilesGiveZeros) {
  TempDir root;
  WriteFile(root.path(), "proc/stat", "nonsense");
  auto source = NewHostTelemetry(NewRootedSensorFiles(root.path()));
  const proto::Telemetry t = source->Sample(0);
  EXPECT_EQ(t.cpu_load, 0);
  EXPECT_EQ(t.mem_total_bytes, 0u);
  EXPECT_FALSE(t.battery_percent.has_value());
}

TEST(HostTelemetry, TheRealHostIsReadable) {
  auto source = NewHostTelemetry(NewRootedSensorFiles("/"));
  const proto::Telemetry t = source->Sample(0);
  EXPECT_GT(t.mem_total_bytes, 0u);
  EXPECT_LE(t.mem_free_bytes, t.mem_total_bytes);
  EXPECT_GE(t.cpu_load, 0);
  EXPECT_LE(t.cpu_load, 1);
}

TEST(SensorFiles, ReadsAreBoundedAndMissingFilesAreNone) {
  TempDir root;
  WriteFile(root.path(), "proc/stat", std::string(10'000, 'x'));
  auto files = NewRootedSensorFiles(root.path());
  EXPECT_EQ(files->Read("/proc/stat", 100)->size(), 100u);
  EXPECT_FALSE(files->Read("/proc/absent", 100).has_value());
  EXPECT_TRUE(files->List("/sys/class/power_supply").empty());
}

}  // namespace
}  // namespace milf::node
