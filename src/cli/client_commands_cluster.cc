// milf nodes ls, milf usage.
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "cli/client_commands.h"
#include "cli/client_commands_common.h"
#include "cli/client_commands_output.h"
#include "client/json.h"

namespace milf::cli {
namespace {

using client::GetArray;
using client::GetBool;
using client::GetInt;
using client::GetNumber;
using client::GetString;
using client::Member;
using client::ScalarText;

std::string Battery(const boost::json::value& telemetry) {
  const auto percent = GetNumber(telemetry, "battery_percent");
  if (!percent) return "-";
  std::string out = fmt::format("{:.0f}%", *percent);
  if (GetBool(telemetry, "charging").value_or(false)) out += " charging";
  return out;
}

std::string Admission(const boost::json::value& node, const boost::json::value& telemetry) {
  if (!GetBool(node, "online").value_or(false)) return "offline";
  if (GetBool(telemetry, "accepting").value_or(true)) return "online";
  const std::string reason = GetString(telemetry, "refusal_reason");
  return reason.empty() ? "paused" : "paused: " + reason;
}

Result<int> ListNodes(bool json) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/nodes");
  if (!answer) return Fail(std::move(answer).error());
  if (json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  Table table({{"ID"}, {"NAME"}, {"TARGET"}, {"STATE"}, {"SLOTS", true}, {"CPU", true}, {"FREE MEM", true},
               {"BATTERY"}, {"LAST SEEN"}});
  for (const auto& node : GetArray(*answer, "nodes")) {
    const boost::json::value* found = Member(node, "telemetry");
    const boost::json::value none;
    const boost::json::value& telemetry = found != nullptr ? *found : none;
    const auto slots_total = GetInt(telemetry, "slots_total");
    const auto cpu = GetNumber(telemetry, "cpu_load");
    const auto free = GetInt(telemetry, "mem_free_bytes");
    table.AddRow({GetString(node, "id"), GetString(node, "name"), GetString(node, "target"),
                  Admission(node, telemetry),
                  slots_total ? fmt::format("{}/{}", GetInt(telemetry, "slots_in_use").value_or(0), *slots_total) : "-",
                  cpu ? fmt::format("{:.0f}%", *cpu * 100) : "-",
                  free ? FormatBytes(static_cast<std::uint64_t>(*free)) : "-", Battery(telemetry),
                  FormatTime(GetInt(node, "last_seen_at"))});
  }
  if (table.empty()) {
    std::cout << "No nodes. Create a token with `milf token create-node` and start `milf node`.\n";
  } else {
    table.Print(std::cout);
  }
  return 0;
}

Result<int> ShowUsage(bool json) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/usage");
  if (!answer) return Fail(std::move(answer).error());
  if (json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  Table table({{"MONTH"}, {"INVOCATIONS", true}, {"COMPUTE (MB·s)", true}, {"FUEL", true}});
  for (const auto& month : GetArray(*answer, "months")) {
    table.AddRow({GetString(month, "month"), ScalarText(Member(month, "invocations")),
                  fmt::format("{:.1f}", GetNumber(month, "compute_mb_seconds").value_or(0)),
                  ScalarText(Member(month, "fuel"))});
  }
  if (table.empty()) {
    std::cout << "No usage recorded yet.\n";
  } else {
    table.Print(std::cout);
  }
  const boost::json::value none;
  const boost::json::value* quota_found = Member(*answer, "quota");
  const boost::json::value& quota = quota_found != nullptr ? *quota_found : none;
  const boost::json::value* today_found = Member(*answer, "today");
  const boost::json::value& today = today_found != nullptr ? *today_found : none;
  std::cout << "\n";
  PrintFields(std::cout, {
      {"Today", ScalarText(Member(today, "invocations")) + " of " + ScalarText(Member(quota, "max_per_day")) +
                    " invocations allowed per day"},
      {"Active", ScalarText(Member(*answer, "active")) + " of " + ScalarText(Member(quota, "max_concurrent")) +
                     " concurrent invocations allowed"},
      {"Memory", "up to " + ScalarText(Member(quota, "max_memory_mb")) + " MB per function"},
  });
  return 0;
}

}  // namespace

void AddClusterCommands(CLI::App& app, int& exit_status) {
  CLI::App* nodes = app.add_subcommand("nodes", "Inspect the nodes that run functions");
  nodes->require_subcommand(1);
  auto nodes_json = std::make_shared<bool>(false);
  CLI::App* ls = nodes->add_subcommand("ls", "List nodes with their last telemetry");
  AddJsonFlag(ls, *nodes_json);
  SetAction(ls, exit_status, [nodes_json] { return ListNodes(*nodes_json); });

  auto usage_json = std::make_shared<bool>(false);
  CLI::App* usage = app.add_subcommand("usage", "Show your metered usage and quotas");
  AddJsonFlag(usage, *usage_json);
  SetAction(usage, exit_status, [usage_json] { return ShowUsage(*usage_json); });
}

}  // namespace milf::cli
