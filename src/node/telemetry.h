// Telemetry: what a node knows about its device, sampled for each
// heartbeat: CPU load from /proc/stat, memory from /proc/meminfo, and the
// battery (percent, charging, temperature) from /sys/class/power_supply.
//
// Every read goes through SensorFiles, so tests point the node at a
// directory of fixture files (a fake root) and run anywhere; parsing is
// separate and pure. A sensor the device does not have is reported as
// unknown (nullopt), never as a made-up value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "proto/messages.h"

namespace milf::node {

// Read-only access to the small text files of /proc and /sys.
// Implementations must be safe for concurrent use.
class SensorFiles {
 public:
  virtual ~SensorFiles() = default;
  // Up to `max_bytes` of the file at `path` (absolute, e.g. "/proc/stat");
  // nullopt when it cannot be read.
  virtual std::optional<std::string> Read(const std::string& path, std::size_t max_bytes) const = 0;
  // Names of the entries of directory `path`, sorted; empty when absent.
  virtual std::vector<std::string> List(const std::string& path) const = 0;
};

// Files under `root`: "/" reads the host itself, a fixture directory holding
// proc/stat, proc/meminfo and sys/class/power_supply/... fakes a device.
std::unique_ptr<SensorFiles> NewRootedSensorFiles(std::filesystem::path root);

// Jiffies from the aggregate "cpu" line of /proc/stat.
struct CpuTimes {
  std::uint64_t busy = 0;   // everything but idle and iowait
  std::uint64_t total = 0;
};
// Errors: "malformed" when the text has no well-formed "cpu" line.
Result<CpuTimes> ParseProcStat(std::string_view text);
// The busy fraction (0..1) between two samples; 0 when no time passed or
// the counters went backwards.
double CpuLoadBetween(const CpuTimes& before, const CpuTimes& after);

struct MemoryInfo {
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;  // MemAvailable, or MemFree on kernels without it
};
// Errors: "malformed" when MemTotal or both MemAvailable and MemFree are missing.
Result<MemoryInfo> ParseMeminfo(std::string_view text);

struct PowerState {
  std::optional<double> battery_percent;  // the mean over every battery
  std::optional<bool> charging;           // plugged in (a charger online, or battery charging/full)
  std::optional<double> temperature_c;    // the hottest battery
};
// Reads /sys/class/power_supply/*: batteries (type "Battery": capacity,
// status, temp in tenths of a degree) and chargers (type "Mains", "USB",
// "Wireless": online). Missing files leave their fields unknown.
PowerState ReadPowerSupply(const SensorFiles& files);

// Where heartbeats get their sensor readings. A source fills cpu_load,
// memory and the power fields; slots and the admission verdict are the
// agent's. Not safe for concurrent use.
class TelemetrySource {
 public:
  virtual ~TelemetrySource() = default;
  // `busy_fraction` is the share of the node's slots in use (0..1), which a
  // simulated device uses to drain its battery and warm up.
  virtual proto::Telemetry Sample(double busy_fraction) = 0;
};

// The device itself, through `files`. CPU load is measured between
// consecutive samples (the first sample reports the average since boot);
// an unreadable /proc file reports zeros rather than failing a heartbeat.
std::unique_ptr<TelemetrySource> NewHostTelemetry(std::unique_ptr<SensorFiles> files);

}  // namespace milf::node
