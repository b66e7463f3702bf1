#include "node/policy.h"

#include <fmt/format.h>

#include "node/config_json.h"

namespace milf::node {

Admission Admit(const proto::Telemetry& t, const AdmissionPolicy& policy, int slots_in_use) {
  if (policy.max_slots && slots_in_use >= *policy.max_slots) {
    return {false, fmt::format("all {} slots allowed by policy in use", *policy.max_slots)};
  }
  if (policy.min_battery_percent && t.battery_percent &&
      *t.battery_percent < *policy.min_battery_percent) {
    return {false, fmt::format("battery {:.1f}% below minimum {:.1f}%", *t.battery_percent,
                               *policy.min_battery_percent)};
  }
  if (policy.only_while_charging && t.battery_percent && !t.charging.value_or(false)) {
    return {false, t.charging ? "not charging" : "charging state unknown"};
  }
  if (policy.max_temperature_c && t.temperature_c && *t.temperature_c > *policy.max_temperature_c) {
    return {false, fmt::format("temperature {:.1f}°C above maximum {:.1f}°C", *t.temperature_c,
                               *policy.max_temperature_c)};
  }
  if (policy.max_cpu_load && t.cpu_load > *policy.max_cpu_load) {
    return {false, fmt::format("CPU load {:.0f}% above maximum {:.0f}%", t.cpu_load * 100,
                               *policy.max_cpu_load * 100)};
  }
  return {};
}

Result<AdmissionPolicy> ParsePolicy(std::string_view text) {
  const ConfigReader reader("invalid_policy", "");
  auto object = reader.ParseObject(text);
  if (!object) return Fail(std::move(object).error());
  if (auto keys = reader.CheckKeys(*object, {"max_slots", "min_battery_percent", "only_while_charging",
                                             "max_temperature_c", "max_cpu_load"});
      !keys) {
    return Fail(std::move(keys).error());
  }
  auto max_slots = reader.Number(*object, "max_slots", 0, 1024);
  auto min_battery = reader.Number(*object, "min_battery_percent", 0, 100);
  auto charging = reader.Bool(*object, "only_while_charging");
  auto max_temperature = reader.Number(*object, "max_temperature_c", -50, 150);
  auto max_cpu = reader.Number(*object, "max_cpu_load", 0, 1);
  for (const Error* error : {max_slots ? nullptr : &max_slots.error(),
                             min_battery ? nullptr : &min_battery.error(),
                             charging ? nullptr : &charging.error(),
                             max_temperature ? nullptr : &max_temperature.error(),
                             max_cpu ? nullptr : &max_cpu.error()}) {
    if (error != nullptr) return Fail(*error);
  }
  AdmissionPolicy policy;
  if (*max_slots) {
    if (**max_slots != static_cast<int>(**max_slots)) {
      return Fail("invalid_policy", "max_slots: expected a whole number");
    }
    policy.max_slots = static_cast<int>(**max_slots);
  }
  policy.min_battery_percent = *min_battery;
  policy.only_while_charging = charging->value_or(false);
  policy.max_temperature_c = *max_temperature;
  policy.max_cpu_load = *max_cpu;
  return policy;
}

Result<AdmissionPolicy> LoadPolicy(const std::filesystem::path& path) {
  auto text = ReadConfigFile(path);
  if (!text) return Fail(std::move(text).error());
  auto policy = ParsePolicy(*text);
  if (!policy) return Fail("invalid_policy", path.string() + ": " + policy.error().message);
  return policy;
}

}  // namespace milf::node
