// Admission decisions, one rule at a time, including devices whose sensors
// are unknown; and strict parsing of the policy file.
#include "node/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "node_test_support.h"

namespace milf::node {
namespace {

using ::testing::HasSubstr;

proto::Telemetry Phone(double battery, bool charging, double temperature, double load) {
  proto::Telemetry t;
  t.battery_percent = battery;
  t.charging = charging;
  t.temperature_c = temperature;
  t.cpu_load = load;
  return t;
}

proto::Telemetry Server(double load = 0.1) {
  proto::Telemetry t;
  t.cpu_load = load;
  return t;
}

TEST(Admit, AnEmptyPolicyAcceptsEverything) {
  const Admission admission = Admit(Phone(1, false, 90, 1), AdmissionPolicy{}, 1000);
  EXPECT_TRUE(admission.accept);
  EXPECT_EQ(admission.reason, "");
}

TEST(Admit, MaxSlots) {
  AdmissionPolicy policy;
  policy.max_slots = 2;
  EXPECT_TRUE(Admit(Server(), policy, 1).accept);
  const Admission full = Admit(Server(), policy, 2);
  EXPECT_FALSE(full.accept);
  EXPECT_THAT(full.reason, HasSubstr("2 slots"));
  policy.max_slots = 0;  // paused
  EXPECT_FALSE(Admit(Server(), policy, 0).accept);
}

TEST(Admit, MinBattery) {
  AdmissionPolicy policy;
  policy.min_battery_percent = 30;
  EXPECT_TRUE(Admit(Phone(30, false, 25, 0), policy, 0).accept);
  const Admission low = Admit(Phone(12, false, 25, 0), policy, 0);
  EXPECT_FALSE(low.accept);
  EXPECT_EQ(low.reason, "battery 12.0% below minimum 30.0%");
  // Charging does not lift the minimum: the battery must recover first.
  EXPECT_FALSE(Admit(Phone(12, true, 25, 0), policy, 0).accept);
  // No battery: mains powered.
  EXPECT_TRUE(Admit(Server(), policy, 0).accept);
}

TEST(Admit, OnlyWhileCharging) {
  AdmissionPolicy policy;
  policy.only_while_charging = true;
  EXPECT_TRUE(Admit(Phone(50, true, 25, 0), policy, 0).accept);
  const Admission unplugged = Admit(Phone(50, false, 25, 0), policy, 0);
  EXPECT_FALSE(unplugged.accept);
  EXPECT_EQ(unplugged.reason, "not charging");
  proto::Telemetry unknown = Phone(50, false, 25, 0);
  unknown.charging.reset();
  EXPECT_EQ(Admit(unknown, policy, 0).reason, "charging state unknown");
  EXPECT_TRUE(Admit(Server(), policy, 0).accept);
}

TEST(Admit, MaxTemperature) {
  AdmissionPolicy policy;
  policy.max_temperature_c = 40;
  EXPECT_TRUE(Admit(Phone(50, true, 40, 0), policy, 0).accept);
  const Admission hot = Admit(Phone(50, true, 45.5, 0), policy, 0);
  EXPECT_FALSE(hot.accept);
  EXPECT_EQ(hot.reason, "temperature 45.5°C above maximum 40.0°C");
  EXPECT_TRUE(Admit(Server(), policy, 0).accept);  // no sensor
}

TEST(Admit, MaxCpuLoad) {
  AdmissionPolicy policy;
  policy.max_cpu_load = 0.8;
  EXPECT_TRUE(Admit(Server(0.8), policy, 0).accept);
  const Admission busy = Admit(Server(0.93), policy, 0);
  EXPECT_FALSE(busy.accept);
  EXPECT_EQ(busy.reason, "CPU load 93% above maximum 80%");
}

TEST(Admit, ReportsTheFirstFailingRule) {
  AdmissionPolicy policy;
  policy.min_battery_percent = 50;
  policy.max_temperature_c = 30;
  EXPECT_THAT(Admit(Phone(10, false, 60, 0), policy, 0).reason, HasSubstr("battery"));
  EXPECT_THAT(Admit(Phone(90, false, 60, 0), policy, 0).reason, HasSubstr("temperature"));
}

TEST(PolicyParse, ReadsEveryKey) {
  auto policy = ParsePolicy(R"({"max_slots": 2, "min_battery_percent": 30,
      "only_while_charging": true, "max_temperature_c": 40.5, "max_cpu_load": 0.75})");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->max_slots, 2);
  EXPECT_EQ(policy->min_battery_percent, 30);
  EXPECT_TRUE(policy->only_while_charging);
  EXPECT_EQ(policy->max_temperature_c, 40.5);
  EXPECT_EQ(policy->max_cpu_load, 0.75);
  auto empty = ParsePolicy("{}");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->max_slots.has_value());
  EXPECT_FALSE(empty->only_while_charging);
}

TEST(PolicyParse, RefusesBadInput) {
  const auto error = [](std::string_view json) {
    auto policy = ParsePolicy(json);
    EXPECT_FALSE(policy) << json;
    return policy ? Error{} : policy.error();
  };
  EXPECT_EQ(error("not json").code, "invalid_policy");
  EXPECT_THAT(error(R"({"min_battery": 30})").message, HasSubstr("min_battery: unknown key"));
  EXPECT_THAT(error(R"({"max_cpu_load": 80})").message, HasSubstr("max_cpu_load: must be between 0 and 1"));
  EXPECT_THAT(error(R"({"max_slots": 1.5})").message, HasSubstr("whole number"));
  EXPECT_THAT(error(R"({"max_slots": -1})").message, HasSubstr("max_slots"));
  EXPECT_THAT(error(R"({"only_while_charging": "yes"})").message, HasSubstr("true or false"));
  EXPECT_THAT(error(R"({"min_battery_percent": "30"})").message, HasSubstr("expected a number"));
}

TEST(PolicyParse, LoadsAFile) {
  testing::TempDir dir;
  testing::WriteFile(dir.path(), "policy.json", R"({"only_while_charging": true})");
  auto policy = LoadPolicy(dir.path() / "policy.json");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_TRUE(policy->only_while_charging);
  EXPECT_EQ(LoadPolicy(dir.path() / "absent.json").error().code, "io");
}

}  // namespace
}  // namespace milf::node
