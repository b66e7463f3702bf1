// Admission policy: when a device takes new work, in the spirit of BOINC's
// computing preferences. Admit is a pure function of the device's
// telemetry, the policy and the slots in use, so every rule is tested
// without a device.
//
// The file given to `--policy FILE` is JSON; every key is optional and
// unknown keys are refused:
//   {"max_slots": 2, "min_battery_percent": 30, "only_while_charging": true,
//    "max_temperature_c": 40, "max_cpu_load": 0.8}
// Unknown sensors never refuse work on their own: a device with no battery
// is on mains, so "min_battery_percent" and "only_while_charging" pass, and
// an unknown temperature passes "max_temperature_c". A device with a battery
// whose charging state is unknown does not count as charging.
// max_cpu_load (0..1) is compared with the whole machine's load, the node's
// own jobs included: it caps how busy the device gets.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "proto/messages.h"

namespace milf::node {

struct AdmissionPolicy {
  std::optional<int> max_slots;
  std::optional<double> min_battery_percent;
  bool only_while_charging = false;
  std::optional<double> max_temperature_c;
  std::optional<double> max_cpu_load;
};

struct Admission {
  bool accept = true;
  std::string reason;  // the first rule that refused, for people: "battery 12% below minimum 30%"
};

// The verdict for taking one more job now.
Admission Admit(const proto::Telemetry& telemetry, const AdmissionPolicy& policy, int slots_in_use);

// Errors: "invalid_policy" naming the key and the problem.
Result<AdmissionPolicy> ParsePolicy(std::string_view json);
// Errors: "io" when unreadable, else as ParsePolicy.
Result<AdmissionPolicy> LoadPolicy(const std::filesystem::path& path);

}  // namespace milf::node
