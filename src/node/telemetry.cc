#include "node/telemetry.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

namespace milf::node {
namespace {

constexpr std::size_t kProcStatBytes = 4096;  // the aggregate line comes first
constexpr std::size_t kMeminfoBytes = 16 * 1024;
constexpr std::size_t kSysfsBytes = 256;
constexpr const char* kPowerSupply = "/sys/class/power_supply";

class RootedSensorFiles final : public SensorFiles {
 public:
  explicit RootedSensorFiles(std::filesystem::path root) : root_(std::move(root)) {}

  std::optional<std::string> Read(const std::string& path, std::size_t max_bytes) const override {
    std::ifstream in(Resolve(path), std::ios::binary);
    if (!in) return std::nullopt;
    std::string text(max_bytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(max_bytes));
    if (in.bad()) return std::nullopt;
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text;
  }

  std::vector<std::string> List(const std::string& path) const override {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(Resolve(path), error)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path Resolve(const std::string& path) const {
    return root_ / std::filesystem::path(path).relative_path();
  }

  std::filesystem::path root_;
};

std::optional<double> ParseNumber(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class HostTelemetry final : public TelemetrySource {
 public:
  explicit HostTelemetry(std::unique_ptr<SensorFiles> files) : files_(std::move(files)) {}

  proto::Telemetry Sample(double busy_fraction) override {
    proto::Telemetry telemetry;
    if (auto text = files_->Read("/proc/stat", kProcStatBytes)) {
      if (auto times = ParseProcStat(*text)) {
        telemetry.cpu_load = CpuLoadBetween(previous_, *times);
        previous_ = *times;
      }
    }
    if (auto text = files_->Read("/proc/meminfo", kMeminfoBytes)) {
      if (auto memory = ParseMeminfo(*text)) {
        telemetry.mem_total_bytes = memory->total_bytes;
        telemetry.mem_free_bytes = memory->available_bytes;
      }
    }
    const PowerState power = ReadPowerSupply(*files_);
    telemetry.battery_percent = power.battery_percent;
    telemetry.charging = power.charging;
    telemetry.temperature_c = power.temperature_c;
    return telemetry;
  }

 private:
  std::unique_ptr<SensorFiles> files_;
  CpuTimes previous_;
};

}  // namespace

std::unique_ptr<SensorFiles> NewRootedSensorFiles(std::filesystem::path root) {
  return std::make_unique<RootedSensorFiles>(std::move(root));
}

Result<CpuTimes> ParseProcStat(std::string_view text) {
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string label;
    fields >> label;
    if (label != "cpu") continue;
    // user nice system idle iowait irq softirq steal; guest time is already
    // inside user, so the columns after steal are not added again.
    std::uint64_t column[8] = {};
    int read = 0;
    while (read < 8 && fields >> column[read]) ++read;
    if (read < 4) return Fail("malformed", "/proc/stat: short cpu line");
    CpuTimes times;
    for (int i = 0; i < read; ++i) times.total += column[i];
    times.busy = times.total - column[3] - column[4];
    return times;
  }
  return Fail("malformed", "/proc/stat: no cpu line");
}

double CpuLoadBetween(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total || after.busy < before.busy) return 0;
  const double load = static_cast<double>(after.busy - before.busy) /
                      static_cast<double>(after.total - before.total);
  return std::clamp(load, 0.0, 1.0);
}

Result<MemoryInfo> ParseMeminfo(std::string_view text) {
  std::optional<std::uint64_t> total, available, free;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string key, unit;
    std::uint64_t value = 0;
    if (!(fields >> key >> value)) continue;
    fields >> unit;
    const std::uint64_t bytes = unit == "kB" ? value * 1024 : value;
    if (key == "MemTotal:") total = bytes;
    if (key == "MemAvailable:") available = bytes;
    if (key == "MemFree:") free = bytes;
  }
  if (!total) return Fail("malformed", "/proc/meminfo: no MemTotal");
  if (!available && !free) return Fail("malformed", "/proc/meminfo: no MemAvailable or MemFree");
  return MemoryInfo{*total, available ? *available : *free};
}

PowerState ReadPowerSupply(const SensorFiles& files) {
  PowerState state;
  double capacity_sum = 0;
  int batteries = 0;
  std::optional<bool> charger_online;
  std::optional<bool> battery_charging;
  for (const std::string& name : files.List(kPowerSupply)) {
    const std::string dir = std::string(kPowerSupply) + "/" + name + "/";
    const auto type = files.Read(dir + "type", kSysfsBytes);
    if (!type) continue;
    const std::string kind = Trimmed(*type);
    if (kind == "Battery") {
      if (auto text = files.Read(dir + "capacity", kSysfsBytes)) {
        if (auto capacity = ParseNumber(*text)) {
          capacity_sum += std::clamp(*capacity, 0.0, 100.0);
          ++batteries;
        }
      }
      if (auto text = files.Read(dir + "status", kSysfsBytes)) {
        const std::string status = Trimmed(*text);
        if (status == "Charging" || status == "Full") battery_charging = true;
        if ((status == "Discharging" || status == "Not charging") && !battery_charging) {
          battery_charging = false;
        }
      }
      if (auto text = files.Read(dir + "temp", kSysfsBytes)) {
        if (auto tenths = ParseNumber(*text)) {
          const double celsius = *tenths / 10;
          state.temperature_c = std::max(state.temperature_c.value_or(celsius), celsius);
        }
      }
    } else if (kind == "Mains" || kind == "USB" || kind == "Wireless") {
      if (auto text = files.Read(dir + "online", kSysfsBytes)) {
        if (auto online = ParseNumber(*text)) {
          charger_online = charger_online.value_or(false) || *online != 0;
        }
      }
    }
  }
  if (batteries > 0) state.battery_percent = capacity_sum / batteries;
  // Plugged in when either signal says so: some laptops hold the battery
  // below full and report "Not charging" while on mains, and some phones
  // list no charger supply at all.
  if (charger_online || battery_charging) {
    state.charging = charger_online.value_or(false) || battery_charging.value_or(false);
  }
  return state;
}

std::unique_ptr<TelemetrySource> NewHostTelemetry(std::unique_ptr<SensorFiles> files) {
  return std::make_unique<HostTelemetry>(std::move(files));
}

}  // namespace milf::node
