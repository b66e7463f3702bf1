// milf invoke NAME, milf inv ls|show|logs|output.
#include <algorithm>
#include <cstdio>
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
using client::GetBool;
using client::GetInt;
using client::GetNumber;
using client::GetString;
using client::Member;
using client::ScalarText;

// The server gives up on a sync invocation after the function's timeout
// (at most 15 min) plus 30 s and answers 504; wait a little longer.
constexpr std::int64_t kSyncInvokeTimeoutMs = 17 * 60 * 1000;

struct InvokeOptions {
  std::string name;
  std::optional<std::string> data;
  bool async = false;
  bool json = false;
};

struct ListOptions {
  std::optional<std::string> function;
  std::optional<std::string> state;
  std::optional<int> limit;
  std::optional<std::string> after;
  bool json = false;
};

struct IdOptions {
  std::string id;
  bool json = false;
};

void WriteRaw(std::FILE* stream, const std::string& bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stream);
  std::fflush(stream);
}

std::string Decoded(const std::string& text, const std::string& encoding) {
  if (encoding != "base64") return text;
  auto bytes = Base64Decode(text);
  if (!bytes) return text;
  return {bytes->begin(), bytes->end()};
}

// The last non-empty line of `text`, if it is printable.
std::string LastLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::string line = text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  const bool printable =
      std::all_of(line.begin(), line.end(), [](unsigned char c) { return c >= 0x20 || c == '\t'; });
  return printable && line.size() <= 300 ? line : "";
}

const boost::json::value& MemberOrNull(const boost::json::value& value, std::string_view key) {
  static const boost::json::value kNull;
  const boost::json::value* member = Member(value, key);
  return member != nullptr ? *member : kNull;
}

// "failed: trap: unreachable (12 ms)" from an invocation record.
std::string Outcome(const boost::json::value& record) {
  const boost::json::value& result = MemberOrNull(record, "result");
  std::string line = GetString(record, "state", "unknown");
  if (const std::string status = GetString(result, "status"); !status.empty()) line += ": " + status;
  if (auto code = GetInt(result, "exit_code"); code && *code != 0) line += " (exit code " + std::to_string(*code) + ")";
  if (const std::string message = GetString(result, "message"); !message.empty()) line += ": " + message;
  if (auto wall = GetNumber(result, "wall_ms")) line += " after " + FormatMillis(*wall);
  return line;
}

int ExitStatusFor(const std::string& state) {
  if (state == "succeeded") return 0;
  return state == "timed_out" ? kExitInvocationTimeout : kExitError;
}

Result<int> Invoke(const InvokeOptions& options) {
  std::string input;
  if (options.data) {
    auto data = ReadData(*options.data);
    if (!data) return Fail(std::move(data).error());
    input = std::move(*data);
  }
  auto api = OpenSession(kSyncInvokeTimeoutMs);
  if (!api) return Fail(std::move(api).error());
  client::HttpRequest request;
  request.method = "POST";
  request.target = "/functions/" + Segment(options.name) + "/invoke" + (options.async ? "?async=1" : "");
  request.content_type = "application/octet-stream";
  request.body = std::move(input);
  Result<client::HttpResponse> response = [&] {
    WaitIndicator waiting("waiting for " + options.name);
    return (*api)->Call(std::move(request));
  }();
  if (!response) return Fail(std::move(response).error());

  if (options.async) {
    auto answer = client::ParseJson(response->body);
    if (!answer) return Fail("protocol", "the server's async answer is not JSON");
    if (options.json) {
      PrintJson(std::cout, *answer);
    } else {
      std::cout << GetString(*answer, "id") << "\n";
    }
    return 0;
  }

  const std::string id = response->Header("x-milf-invocation-id").value_or("");
  if (response->status == 504) {
    return Fail("timeout", "invocation " + id + " is still running; follow it with `milf inv show " + id + "`");
  }
  const std::string state = response->Header("x-milf-status").value_or("succeeded");
  if (options.json) {
    auto record = (*api)->CallJson("GET", "/invocations/" + Segment(id));
    if (!record) return Fail(std::move(record).error());
    PrintJson(std::cout, *record);
    return ExitStatusFor(GetString(*record, "state", state));
  }
  WriteRaw(stdout, response->body);
  if (state == "succeeded") return 0;
  // The headers say that it failed; the record says why.
  auto record = (*api)->CallJson("GET", "/invocations/" + Segment(id));
  std::string line = "invocation " + id + " ";
  if (record) {
    line += Outcome(*record);
  } else {
    line += state + ": " + response->Header("x-milf-run-status").value_or("unknown");
  }
  if (auto logs = (*api)->CallJson("GET", "/invocations/" + Segment(id) + "/logs"); logs) {
    const std::string last = LastLine(Decoded(GetString(*logs, "stderr"), GetString(*logs, "encoding")));
    if (!last.empty()) line += "; stderr: " + last;
  }
  PrintError({"invocation_failed", line});
  return ExitStatusFor(state);
}

Result<int> ListInvocations(const ListOptions& options) {
  std::vector<std::pair<std::string, std::string>> query;
  if (options.function) query.emplace_back("function", *options.function);
  if (options.state) query.emplace_back("state", *options.state);
  if (options.limit) query.emplace_back("limit", std::to_string(*options.limit));
  if (options.after) query.emplace_back("after", *options.after);
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/invocations" + client::QueryString(query));
  if (!answer) return Fail(std::move(answer).error());
  if (options.json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  Table table({{"ID"}, {"FUNCTION"}, {"VERSION", true}, {"STATE"}, {"STATUS"}, {"NODE"}, {"QUEUED"},
               {"DURATION", true}, {"ATTEMPTS", true}});
  for (const auto& invocation : GetArray(*answer, "invocations")) {
    const boost::json::value& result = MemberOrNull(invocation, "result");
    auto wall = GetNumber(result, "wall_ms");
    table.AddRow({GetString(invocation, "id"), GetString(invocation, "function"),
                  ScalarText(Member(invocation, "version")), GetString(invocation, "state"),
                  GetString(result, "status", "-"), GetString(invocation, "node_id", "-"),
                  FormatTime(GetInt(invocation, "queued_at")), wall ? FormatMillis(*wall) : "-",
                  ScalarText(Member(invocation, "attempts"))});
  }
  if (table.empty()) {
    std::cout << "No invocations.\n";
    return 0;
  }
  table.Print(std::cout);
  if (const std::string next = GetString(*answer, "next"); !next.empty()) {
    std::cout << "More: milf inv ls --after " << next << "\n";
  }
  return 0;
}

Result<int> ShowInvocation(const IdOptions& options) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/invocations/" + Segment(options.id));
  if (!answer) return Fail(std::move(answer).error());
  if (options.json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  const boost::json::value& record = *answer;
  const boost::json::value& result = MemberOrNull(record, "result");
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Invocation", GetString(record, "id")},
      {"Function", GetString(record, "function") + " v" + ScalarText(Member(record, "version"))},
      {"State", GetString(record, "state")},
      {"Attempts", ScalarText(Member(record, "attempts"))},
      {"Node", GetString(record, "node_id", "-")},
      {"Queued", FormatTime(GetInt(record, "queued_at"))},
      {"Dispatched", FormatTime(GetInt(record, "dispatched_at"))},
      {"Started", FormatTime(GetInt(record, "started_at"))},
      {"Finished", FormatTime(GetInt(record, "finished_at"))},
  };
  if (!result.is_null()) {
    const bool truncated = GetBool(result, "output_truncated").value_or(false);
    fields.insert(fields.end(), {
        {"Status", GetString(result, "status", "-")},
        {"Exit code", ScalarText(Member(result, "exit_code"))},
        {"Message", GetString(result, "message").empty() ? "-" : GetString(result, "message")},
        {"Wall time", FormatMillis(GetNumber(result, "wall_ms").value_or(-1))},
        {"Fuel used", ScalarText(Member(result, "fuel_used"))},
        {"Peak memory", FormatBytes(static_cast<std::uint64_t>(GetInt(result, "peak_memory_bytes").value_or(0)))},
        {"Output sha256", GetString(result, "output_sha256", "-") + (truncated ? " (truncated)" : "")},
    });
  }
  PrintFields(std::cout, fields);
  const auto& events = GetArray(record, "events");
  if (!events.empty()) {
    std::cout << "\nEvents\n";
    Table table({{"STATE"}, {"AT"}, {"NODE"}, {"DETAIL"}});
    for (const auto& event : events) {
      table.AddRow({GetString(event, "state"), FormatTime(GetInt(event, "at")), GetString(event, "node_id", "-"),
                    GetString(event, "detail", "")});
    }
    table.Print(std::cout);
  }
  return 0;
}

Result<int> ShowLogs(const IdOptions& options) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/invocations/" + Segment(options.id) + "/logs");
  if (!answer) return Fail(std::move(answer).error());
  if (options.json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  const std::string encoding = GetString(*answer, "encoding", "utf8");
  WriteRaw(stdout, Decoded(GetString(*answer, "stdout"), encoding));
  WriteRaw(stderr, Decoded(GetString(*answer, "stderr"), encoding));
  return 0;
}

Result<int> ShowOutput(const IdOptions& options) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  client::HttpRequest request;
  request.target = "/invocations/" + Segment(options.id) + "/output";
  auto response = (*api)->Call(std::move(request));
  if (!response) return Fail(std::move(response).error());
  if (options.json) {
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(response->body.data()),
                                              response->body.size());
    const bool text = IsValidUtf8(bytes);
    PrintJson(std::cout, boost::json::object{{"id", options.id},
                                             {"output", text ? response->body : Base64Encode(bytes)},
                                             {"encoding", text ? "utf8" : "base64"}});
    return 0;
  }
  WriteRaw(stdout, response->body);
  return 0;
}

}  // namespace

void AddInvokeCommands(CLI::App& app, int& exit_status) {
  auto invoke = std::make_shared<InvokeOptions>();
  CLI::App* invoke_cmd = app.add_subcommand("invoke", "Invoke a function and print its output");
  invoke_cmd->add_option("name", invoke->name, "Function name")->required();
  invoke_cmd->add_option("--data", invoke->data, "Input: TEXT, @FILE or - (stdin); none by default");
  invoke_cmd->add_flag("--async", invoke->async, "Queue it and print the invocation id");
  AddJsonFlag(invoke_cmd, invoke->json);
  SetAction(invoke_cmd, exit_status, [invoke] { return Invoke(*invoke); });

  CLI::App* inv = app.add_subcommand("inv", "Inspect invocations");
  inv->require_subcommand(1);
  auto list = std::make_shared<ListOptions>();
  CLI::App* ls = inv->add_subcommand("ls", "List invocations, newest first");
  ls->add_option("--function", list->function, "Only this function's");
  ls->add_option("--state", list->state, "queued, dispatched, running, succeeded, failed or timed_out")
      ->check(CLI::IsMember({"queued", "dispatched", "running", "succeeded", "failed", "timed_out"}));
  ls->add_option("--limit", list->limit, "At most this many")->check(CLI::Range(1, 1000));
  ls->add_option("--after", list->after, "Continue after this id (the cursor a listing printed)");
  AddJsonFlag(ls, list->json);
  SetAction(ls, exit_status, [list] { return ListInvocations(*list); });

  const auto add_id_command = [&](const char* name, const char* help, Result<int> (*run)(const IdOptions&)) {
    auto options = std::make_shared<IdOptions>();
    CLI::App* command = inv->add_subcommand(name, help);
    command->add_option("id", options->id, "Invocation id")->required();
    AddJsonFlag(command, options->json);
    SetAction(command, exit_status, [options, run] { return run(*options); });
  };
  add_id_command("show", "Show an invocation: state, result, timeline", ShowInvocation);
  add_id_command("logs", "Print an invocation's stdout and stderr", ShowLogs);
  add_id_command("output", "Print an invocation's output bytes", ShowOutput);
}

}  // namespace milf::cli
