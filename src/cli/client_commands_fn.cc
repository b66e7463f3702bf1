// milf fn deploy|ls|show|rm|schedule|schedules|unschedule.
#include <cmath>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "cli/client_commands.h"
#include "cli/client_commands_common.h"
#include "cli/client_commands_output.h"
#include "client/json.h"
#include "client/url.h"

namespace milf::cli {
namespace {

using client::GetArray;
using client::GetInt;
using client::GetNumber;
using client::GetString;
using client::Member;
using client::ScalarText;

// Uploads can be large and the server validates them before answering.
constexpr std::int64_t kDeployTimeoutMs = 10 * 60 * 1000;

struct DeployOptions {
  std::string name;
  std::string file;
  std::optional<std::int64_t> memory_mb;
  std::optional<double> timeout_s;
  std::optional<std::int64_t> fuel;
  std::vector<std::string> env;
  std::optional<std::string> entry;
  bool json = false;
};

struct NameOptions {
  std::string name;
  bool json = false;
};

struct ScheduleOptions {
  std::string name;
  std::string cron;
  std::optional<std::string> data;
  bool json = false;
};

struct UnscheduleOptions {
  std::string name;
  std::string id;
  bool json = false;
};

std::string ShortHash(const std::string& sha256) { return sha256.size() > 12 ? sha256.substr(0, 12) : sha256; }

std::string SettingsSummary(const boost::json::value& settings) {
  std::string out = ScalarText(Member(settings, "memory_mb")) + " MB, timeout " +
                    FormatMillis(GetNumber(settings, "timeout_ms").value_or(-1));
  if (auto fuel = GetInt(settings, "fuel")) out += ", fuel " + std::to_string(*fuel);
  if (const std::string entry = GetString(settings, "entry"); !entry.empty()) out += ", entry " + entry;
  if (const auto& env = GetArray(settings, "env"); !env.empty()) out += ", " + std::to_string(env.size()) + " env";
  return out;
}

Result<int> Deploy(const DeployOptions& options) {
  std::vector<std::pair<std::string, std::string>> query;
  if (options.memory_mb) query.emplace_back("memory_mb", std::to_string(*options.memory_mb));
  if (options.timeout_s) {
    query.emplace_back("timeout_ms", std::to_string(static_cast<std::int64_t>(std::llround(*options.timeout_s * 1000))));
  }
  if (options.fuel) query.emplace_back("fuel", std::to_string(*options.fuel));
  for (const std::string& entry : options.env) {
    if (entry.find('=') == std::string::npos) return Fail("usage", "--env takes KEY=VALUE, got '" + entry + "'");
    query.emplace_back("env", entry);
  }
  if (options.entry) query.emplace_back("entry", *options.entry);

  auto body = client::FileBody(options.file);
  if (!body) return Fail(std::move(body).error());
  auto api = OpenSession(kDeployTimeoutMs);
  if (!api) return Fail(std::move(api).error());
  ProgressBar bar("uploading " + options.name);
  client::HttpRequest request;
  request.method = "PUT";
  request.target = "/functions/" + Segment(options.name) + client::QueryString(query);
  request.content_type = "application/wasm";
  request.stream = body->get();
  request.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.Update(done, total); };
  auto response = (*api)->Call(std::move(request));
  bar.Finish();
  if (!response) return Fail(std::move(response).error());
  auto answer = client::ParseJson(response->body);
  if (!answer) return Fail("protocol", "the server's deploy answer is not JSON");
  if (options.json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  std::cout << "Deployed " << GetString(*answer, "name", options.name) << " version "
            << ScalarText(Member(*answer, "version")) << " ("
            << FormatBytes(static_cast<std::uint64_t>(GetInt(*answer, "module_size").value_or(0)))
            << ", sha256 " << ShortHash(GetString(*answer, "module_sha256")) << "; "
            << SettingsSummary(Member(*answer, "settings") ? *Member(*answer, "settings") : boost::json::value())
            << ").\n";
  return 0;
}

Result<int> ListFunctions(bool json) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/functions");
  if (!answer) return Fail(std::move(answer).error());
  if (json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  Table table({{"NAME"}, {"VERSION", true}, {"UPDATED"}, {"CALLS 24H", true}, {"ERRORS", true}, {"AVG", true}});
  for (const auto& function : GetArray(*answer, "functions")) {
    const boost::json::value* stats = Member(function, "stats_24h");
    const boost::json::value none;
    const boost::json::value& s = stats != nullptr ? *stats : none;
    const std::int64_t calls = GetInt(s, "invocations").value_or(0);
    table.AddRow({GetString(function, "name"), ScalarText(Member(function, "latest_version")),
                  FormatTime(GetInt(function, "updated_at")), std::to_string(calls),
                  ScalarText(Member(s, "errors")),
                  calls > 0 ? FormatMillis(GetNumber(s, "avg_ms").value_or(-1)) : "-"});
  }
  if (table.empty()) {
    std::cout << "No functions. Deploy one with `milf fn deploy NAME FILE.wasm`.\n";
  } else {
    table.Print(std::cout);
  }
  return 0;
}

Result<int> ShowFunction(const NameOptions& options) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/functions/" + Segment(options.name));
  if (!answer) return Fail(std::move(answer).error());
  if (options.json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  PrintFields(std::cout, {{"Function", GetString(*answer, "name", options.name)},
                          {"Latest version", ScalarText(Member(*answer, "latest_version"))}});
  std::cout << "\nVersions\n";
  Table versions({{"VERSION", true}, {"SHA256"}, {"SIZE", true}, {"MEMORY", true}, {"TIMEOUT", true},
                  {"FUEL", true}, {"ENTRY"}, {"ENV"}, {"CREATED"}});
  for (const auto& version : GetArray(*answer, "versions")) {
    const boost::json::value* found = Member(version, "settings");
    const boost::json::value& settings = found != nullptr ? *found : version;
    std::string env;
    for (const auto& entry : GetArray(settings, "env")) {
      if (!env.empty()) env += " ";
      env += ScalarText(&entry);
    }
    const std::string entry = GetString(settings, "entry");
    versions.AddRow({ScalarText(Member(version, "version")), ShortHash(GetString(version, "module_sha256")),
                     FormatBytes(static_cast<std::uint64_t>(GetInt(version, "module_size").value_or(0))),
                     ScalarText(Member(settings, "memory_mb")) + " MB",
                     FormatMillis(GetNumber(settings, "timeout_ms").value_or(-1)),
                     ScalarText(Member(settings, "fuel")), entry.empty() ? "auto" : entry,
                     env.empty() ? "-" : env, FormatTime(GetInt(version, "created_at"))});
  }
  versions.Print(std::cout);
  const auto& schedules = GetArray(*answer, "schedules");
  if (!schedules.empty()) {
    std::cout << "\nSchedules\n";
    Table table({{"ID", true}, {"CRON"}, {"NEXT FIRE"}});
    for (const auto& schedule : schedules) {
      table.AddRow({ScalarText(Member(schedule, "id")), GetString(schedule, "cron"),
                    FormatTime(GetInt(schedule, "next_fire_at"))});
    }
    table.Print(std::cout);
  }
  return 0;
}

Result<int> RemoveFunction(const NameOptions& options) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("DELETE", "/functions/" + Segment(options.name));
  if (!answer) return Fail(std::move(answer).error());
  if (options.json) {
    PrintJson(std::cout, boost::json::object{{"deleted", options.name}});
  } else {
    std::cout << "Deleted function " << options.name << ".\n";
  }
  return 0;
}

Result<int> AddSchedule(const ScheduleOptions& options) {
  boost::json::object body{{"cron", options.cron}};
  if (options.data) {
    auto data = ReadData(*options.data);
    if (!data) return Fail(std::move(data).error());
    body["input"] = Base64Encode({reinterpret_cast<const std::uint8_t*>(data->data()), data->size()});
  }
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("POST", "/functions/" + Segment(options.name) + "/schedules", body);
  if (!answer) return Fail(std::move(answer).error());
  if (options.json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  std::cout << "Scheduled " << options.name << " at '" << GetString(*answer, "cron", options.cron)
            << "' (schedule " << ScalarText(Member(*answer, "id")) << "), next at "
            << FormatTime(GetInt(*answer, "next_fire_at")) << ".\n";
  return 0;
}

Result<int> ListSchedules(const NameOptions& options) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/functions/" + Segment(options.name) + "/schedules");
  if (!answer) return Fail(std::move(answer).error());
  if (options.json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  Table table({{"ID", true}, {"CRON"}, {"NEXT FIRE"}});
  for (const auto& schedule : GetArray(*answer, "schedules")) {
    table.AddRow({ScalarText(Member(schedule, "id")), GetString(schedule, "cron"),
                  FormatTime(GetInt(schedule, "next_fire_at"))});
  }
  if (table.empty()) {
    std::cout << "No schedules for " << options.name << ".\n";
  } else {
    table.Print(std::cout);
  }
  return 0;
}

Result<int> RemoveSchedule(const UnscheduleOptions& options) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("DELETE", "/functions/" + Segment(options.name) + "/schedules/" + Segment(options.id));
  if (!answer) return Fail(std::move(answer).error());
  if (options.json) {
    PrintJson(std::cout, boost::json::object{{"deleted", options.id}});
  } else {
    std::cout << "Removed schedule " << options.id << " of " << options.name << ".\n";
  }
  return 0;
}

}  // namespace

void AddFunctionCommands(CLI::App& app, int& exit_status) {
  CLI::App* fn = app.add_subcommand("fn", "Deploy and manage functions");
  fn->require_subcommand(1);

  auto deploy = std::make_shared<DeployOptions>();
  CLI::App* deploy_cmd = fn->add_subcommand("deploy", "Upload FILE.wasm as a new version of function NAME");
  deploy_cmd->add_option("name", deploy->name, "Function name: [a-z0-9][a-z0-9_-]*")->required();
  deploy_cmd->add_option("file", deploy->file, "The WebAssembly module")->required()->check(CLI::ExistingFile);
  deploy_cmd->add_option("--memory", deploy->memory_mb, "Memory limit in MB")->check(CLI::PositiveNumber);
  deploy_cmd->add_option("--timeout", deploy->timeout_s, "Wall-clock limit in seconds")->check(CLI::PositiveNumber);
  deploy_cmd->add_option("--fuel", deploy->fuel, "Instruction budget")->check(CLI::PositiveNumber);
  deploy_cmd->add_option("--env", deploy->env, "Environment variable KEY=VALUE (repeatable)");
  deploy_cmd->add_option("--entry", deploy->entry, "Export to call instead of _start (e.g. wasm_main)");
  AddJsonFlag(deploy_cmd, deploy->json);
  SetAction(deploy_cmd, exit_status, [deploy] { return Deploy(*deploy); });

  auto ls_json = std::make_shared<bool>(false);
  CLI::App* ls = fn->add_subcommand("ls", "List your functions");
  AddJsonFlag(ls, *ls_json);
  SetAction(ls, exit_status, [ls_json] { return ListFunctions(*ls_json); });

  auto show = std::make_shared<NameOptions>();
  CLI::App* show_cmd = fn->add_subcommand("show", "Show a function's versions and schedules");
  show_cmd->add_option("name", show->name)->required();
  AddJsonFlag(show_cmd, show->json);
  SetAction(show_cmd, exit_status, [show] { return ShowFunction(*show); });

  auto rm = std::make_shared<NameOptions>();
  CLI::App* rm_cmd = fn->add_subcommand("rm", "Delete a function, all its versions and schedules");
  rm_cmd->add_option("name", rm->name)->required();
  AddJsonFlag(rm_cmd, rm->json);
  SetAction(rm_cmd, exit_status, [rm] { return RemoveFunction(*rm); });

  auto schedule = std::make_shared<ScheduleOptions>();
  CLI::App* schedule_cmd = fn->add_subcommand("schedule", "Invoke a function on a cron schedule");
  schedule_cmd->add_option("name", schedule->name)->required();
  schedule_cmd->add_option("cron", schedule->cron, "Five cron fields, e.g. '*/5 * * * *' (UTC)")->required();
  schedule_cmd->add_option("--data", schedule->data, "Input for each run: TEXT, @FILE or - (stdin)");
  AddJsonFlag(schedule_cmd, schedule->json);
  SetAction(schedule_cmd, exit_status, [schedule] { return AddSchedule(*schedule); });

  auto schedules = std::make_shared<NameOptions>();
  CLI::App* schedules_cmd = fn->add_subcommand("schedules", "List a function's schedules");
  schedules_cmd->add_option("name", schedules->name)->required();
  AddJsonFlag(schedules_cmd, schedules->json);
  SetAction(schedules_cmd, exit_status, [schedules] { return ListSchedules(*schedules); });

  auto unschedule = std::make_shared<UnscheduleOptions>();
  CLI::App* unschedule_cmd = fn->add_subcommand("unschedule", "Remove a schedule");
  unschedule_cmd->add_option("name", unschedule->name)->required();
  unschedule_cmd->add_option("id", unschedule->id, "Schedule id (see `milf fn schedules NAME`)")->required();
  AddJsonFlag(unschedule_cmd, unschedule->json);
  SetAction(unschedule_cmd, exit_status, [unschedule] { return RemoveSchedule(*unschedule); });
}

}  // namespace milf::cli
