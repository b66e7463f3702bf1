// milf fn deploy|ls|show|rm|schedule|schedules|unschedule.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "cli/client_commands.h"
#include "cli/client_commands_common.h"
#include "cli/client_commands_output.h"
#include "client/api_client.h"
#include "client/json.h"
#include "compiler/source/diagnostics.h"
#include "compiler/source/project.h"
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
  std::optional<std::string> entry_file;
  std::optional<std::string> tier;
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

// What `milf fn deploy` sends for FILE: a .wasm as is; a source file, an
// archive or a directory to the compiler service.
struct Upload {
  bool compile = false;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> query;
};

bool EndsWith(const std::string& text, std::string_view suffix) { return text.ends_with(suffix); }

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return Fail("io", "cannot read " + path);
  return text.str();
}

Result<Upload> SourceUpload(const std::string& path) {
  Upload upload;
  if (std::filesystem::is_directory(path)) {
    auto packed = compiler::PackDirectory(path);
    if (!packed) return Fail("usage", packed.error().message);
    upload.compile = true;
    upload.content_type = "application/gzip";
    upload.body = std::move(*packed);
    return upload;
  }
  const std::string name = std::filesystem::path(path).filename().string();
  if (EndsWith(name, ".tar") || EndsWith(name, ".tgz") || EndsWith(name, ".tar.gz") ||
      EndsWith(name, ".zip")) {
    upload.content_type = EndsWith(name, ".zip")   ? "application/zip"
                          : EndsWith(name, ".tar") ? "application/x-tar"
                                                   : "application/gzip";
  } else if (compiler::LanguageOfFile(name)) {
    upload.content_type = "text/plain; charset=utf-8";
    upload.query.emplace_back("filename", name);
  } else {
    return upload;  // a module: uploaded as is
  }
  auto body = ReadWholeFile(path);
  if (!body) return Fail(std::move(body).error());
  upload.compile = true;
  upload.body = std::move(*body);
  return upload;
}

// Diagnostics from a compile answer, on stderr as a compiler prints them.
void PrintDiagnostics(const boost::json::value& answer) {
  for (const auto& item : GetArray(answer, "diagnostics")) {
    compiler::Diagnostic diagnostic;
    diagnostic.file = GetString(item, "file");
    diagnostic.line = static_cast<int>(GetInt(item, "line").value_or(0));
    diagnostic.column = static_cast<int>(GetInt(item, "column").value_or(0));
    diagnostic.severity = GetString(item, "severity");
    diagnostic.message = GetString(item, "message");
    std::cerr << compiler::FormatDiagnostic(diagnostic) << "\n";
  }
}

Result<int> Deploy(const DeployOptions& options) {
  std::vector<std::pair<std::string, std::string>> query;
  if (options.memory_mb) query.emplace_back("memory_mb", std::to_string(*options.memory_mb));
  if (options.timeout_s) {
    query.emplace_back("timeout_ms", std::to_string(static_cast<std::int64_t>(std::llround(*options.timeout_s * 1000))));
  }
  if (options.fuel) query.emplace_back("fuel", std::to_string(*options.fuel));
  if (options.tier) query.emplace_back("tier", *options.tier);
  for (const std::string& entry : options.env) {
    if (entry.find('=') == std::string::npos) return Fail("usage", "--env takes KEY=VALUE, got '" + entry + "'");
    query.emplace_back("env", entry);
  }
  if (options.entry) query.emplace_back("entry", *options.entry);

  auto upload = SourceUpload(options.file);
  if (!upload) return Fail(std::move(upload).error());
  std::unique_ptr<client::BodySource> file_body;
  if (!upload->compile) {
    auto body = client::FileBody(options.file);
    if (!body) return Fail(std::move(body).error());
    file_body = std::move(*body);
  }
  for (auto& parameter : upload->query) query.push_back(std::move(parameter));
  if (options.entry_file) {
    if (!upload->compile || !upload->query.empty()) {
      return Fail("usage", "--entry-file is for a directory or an archive");
    }
    query.emplace_back("entry_file", *options.entry_file);
  }
  auto api = OpenSession(kDeployTimeoutMs);
  if (!api) return Fail(std::move(api).error());
  ProgressBar bar((upload->compile ? "compiling " : "uploading ") + options.name);
  client::HttpRequest request;
  if (upload->compile) {
    request.method = "POST";
    request.target = "/functions/" + Segment(options.name) + "/source" + client::QueryString(query);
    request.content_type = upload->content_type;
    request.body = std::move(upload->body);
  } else {
    request.method = "PUT";
    request.target = "/functions/" + Segment(options.name) + client::QueryString(query);
    request.content_type = "application/wasm";
    request.stream = file_body.get();
    request.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.Update(done, total); };
  }
  auto response = (*api)->Send(std::move(request));
  bar.Finish();
  if (!response) return Fail(std::move(response).error());
  if (upload->compile && response->status == 422) {
    auto failed = client::ParseJson(response->body);
    if (!failed) return Fail("protocol", "the server's compile answer is not JSON");
    PrintDiagnostics(*failed);
    return kExitError;
  }
  if (response->status >= 400) return Fail(client::ErrorFromResponse(*response));
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
  if (const boost::json::value* compile = Member(*answer, "compile")) {
    PrintDiagnostics(*compile);
    std::cout << "Compiled " << GetString(*compile, "language") << " in "
              << ScalarText(Member(*compile, "duration_ms")) << " ms"
              << (Member(*compile, "cached") != nullptr && Member(*compile, "cached")->is_bool() &&
                          Member(*compile, "cached")->as_bool()
                      ? " (cached)"
                      : "")
              << ".\n";
  }
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
  const auto& node_tiers = GetArray(*answer, "node_tiers");
  if (!node_tiers.empty()) {
    std::cout << "\nTier of the latest version, per node\n";
    Table table({{"NODE"}, {"TIER"}, {"LAST RUN"}});
    for (const auto& tier : node_tiers) {
      table.AddRow({GetString(tier, "node_id"), GetString(tier, "tier"), FormatTime(GetInt(tier, "at"))});
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
  CLI::App* deploy_cmd = fn->add_subcommand(
      "deploy", "Deploy FILE as a new version of function NAME: a .wasm as is; a source file "
                "(.c .cc .cpp .cxx .ts .rs), a directory or a .tar/.tgz/.zip compiled by the server");
  deploy_cmd->add_option("name", deploy->name, "Function name: [a-z0-9][a-z0-9_-]*")->required();
  deploy_cmd->add_option("file", deploy->file, "The module, source file, archive or directory")->required()->check(CLI::ExistingPath);
  deploy_cmd->add_option("--memory", deploy->memory_mb, "Memory limit in MB")->check(CLI::PositiveNumber);
  deploy_cmd->add_option("--timeout", deploy->timeout_s, "Wall-clock limit in seconds")->check(CLI::PositiveNumber);
  deploy_cmd->add_option("--fuel", deploy->fuel, "Instruction budget")->check(CLI::PositiveNumber);
  deploy_cmd->add_option("--env", deploy->env, "Environment variable KEY=VALUE (repeatable)");
  deploy_cmd->add_option("--entry", deploy->entry, "Export to call instead of _start (e.g. wasm_main)");
  deploy_cmd->add_option("--tier", deploy->tier, "Execution tier: auto (AOT once a node has it), interp or aot")
      ->check(CLI::IsMember({"auto", "interp", "aot"}));
  deploy_cmd->add_option("--entry-file", deploy->entry_file,
                         "The entry source file of a directory or archive (default: main.c, main.cpp, "
                         "index.ts, main.rs, or the only source file at the top)");
  AddJsonFlag(deploy_cmd, deploy->json);
  SetAction(deploy_cmd, exit_status, [deploy] { return Deploy(*deploy); });

  auto ls_json = std::make_shared<bool>(false);
  CLI::App* ls = fn->add_subcommand("ls", "List your functions");
  AddJsonFlag(ls, *ls_json);
  SetAction(ls, exit_status, [ls_json] { return ListFunctions(*ls_json); });

  auto show = std::make_shared<NameOptions>();
  CLI::App* show_cmd = fn->add_subcommand("show", "Show a function's versions, schedules and each node's tier");
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
