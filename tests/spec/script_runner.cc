#include "script_runner.h"

#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "base/result.h"
#include "spec_values.h"
#include "spectest_module.h"
#include "wasm/engine.h"

namespace milf::spec {
namespace {

using boost::json::object;
using wasm::Failure;
using wasm::RunStatus;
using wasm::Value;

struct Verdict {
  enum class Kind { kPass, kFail, kSkip };
  Kind kind = Kind::kPass;
  std::string detail;  // why it failed or was skipped; a remark for a pass
  bool info = false;   // a pass whose detail is worth listing
};

Verdict Pass(std::string remark = {}) { return {Verdict::Kind::kPass, std::move(remark)}; }
Verdict PassWithInfo(std::string info) { return {Verdict::Kind::kPass, std::move(info), true}; }
Verdict Failed(std::string detail) { return {Verdict::Kind::kFail, std::move(detail)}; }
Verdict Skipped(std::string reason) { return {Verdict::Kind::kSkip, std::move(reason)}; }

std::string_view StringField(const object& json, std::string_view key) {
  const auto* field = json.if_contains(key);
  const auto* text = field ? field->if_string() : nullptr;
  return text ? std::string_view(*text) : std::string_view();
}

const object* ObjectField(const object& json, std::string_view key) {
  const auto* field = json.if_contains(key);
  return field ? field->if_object() : nullptr;
}

const boost::json::array* ArrayField(const object& json, std::string_view key) {
  const auto* field = json.if_contains(key);
  return field ? field->if_array() : nullptr;
}

std::int64_t LineOf(const object& command) {
  const auto* field = command.if_contains("line");
  const auto* line = field ? field->if_int64() : nullptr;
  return line ? *line : 0;
}

std::string StatusText(const Failure& failure) {
  return std::string(wasm::StatusName(failure.status)) + " \"" + failure.message + "\"";
}

std::string FormatValues(std::span<const Value> values) {
  std::string text = "(";
  for (const Value& value : values) {
    if (text.size() > 1) text += ", ";
    text += DescribeValue(value);
  }
  return text + ")";
}

std::string DescribeArgument(const boost::json::value& json) {
  const object* fields = json.if_object();
  if (fields == nullptr) return "?";
  auto value = ParseExpected(*fields);
  return value ? DescribeExpected(*value) : "?";
}

// "[$M.]field(args)" or "get [$M.]field", from the JSON alone.
std::string DescribeAction(const object& action) {
  const bool get = StringField(action, "type") == "get";
  std::string text = get ? "get " : "";
  const std::string_view module = StringField(action, "module");
  if (!module.empty()) text += std::string(module) + ".";
  text += "\"" + std::string(StringField(action, "field")) + "\"";
  if (get) return text;
  std::string args;
  if (const auto* list = ArrayField(action, "args")) {
    for (const auto& arg : *list) args += (args.empty() ? "" : ", ") + DescribeArgument(arg);
  }
  return text + "(" + args + ")";
}

std::string DescribeCommand(const object& command) {
  std::string text(StringField(command, "type"));
  if (const auto* action = ObjectField(command, "action")) {
    return text + " " + DescribeAction(*action);
  }
  const std::string_view file = StringField(command, "filename");
  if (!file.empty()) text += " " + std::string(file);
  const std::string_view name = StringField(command, "name");
  if (!name.empty()) text += " " + std::string(name);
  const std::string_view as = StringField(command, "as");
  if (!as.empty()) text += " as \"" + std::string(as) + "\"";
  return text;
}

Result<std::string, std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot open " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Fail("cannot read " + path.string());
  return bytes;
}

class ScriptRunner {
 public:
  ScriptRunner(std::filesystem::path dir, std::span<const std::uint8_t> spectest_wasm)
      : dir_(std::move(dir)), spectest_wasm_(spectest_wasm) {}

  ScriptReport Run(const boost::json::array& commands);

 private:
  using ActionOutcome = Result<std::vector<Value>, Failure>;

  Verdict Execute(const object& command);
  Verdict LoadModule(const object& command);
  Verdict Register(const object& command);
  Verdict AssertReturn(const object& command);
  Verdict AssertTrap(const object& command);
  Verdict AssertExhaustion(const object& command);
  Verdict AssertNotCompiled(const object& command);
  Verdict AssertNotInstantiated(const object& command, RunStatus expected);

  // The engine's outcome of the command's action; the outer error says the
  // action could not be attempted (bad JSON, no such module).
  Result<ActionOutcome, std::string> RunAction(const object& command);
  Result<wasm::Instance*, std::string> FindInstance(std::string_view name) const;
  Result<std::vector<std::uint8_t>, std::string> ModuleBytes(const object& command) const;
  Result<std::shared_ptr<const wasm::CompiledModule>, std::string> CompileModuleFile(
      const object& command);

  std::filesystem::path dir_;
  std::span<const std::uint8_t> spectest_wasm_;
  // Destroyed in reverse: instances, then the imports that point at them,
  // then the engine that owns their state.
  std::unique_ptr<wasm::Engine> engine_ = wasm::NewInterpreterEngine();
  wasm::Imports imports_;
  std::vector<std::unique_ptr<wasm::Instance>> instances_;
  std::map<std::string, wasm::Instance*, std::less<>> named_;  // null: failed to load
  wasm::Instance* current_ = nullptr;
  std::optional<std::int64_t> current_line_;  // of the last module command
};

ScriptReport ScriptRunner::Run(const boost::json::array& commands) {
  ScriptReport report;
  auto spectest = InstantiateSpectest(*engine_, spectest_wasm_);
  if (!spectest) {
    ++report.failed;
    report.failures.push_back({0, "spectest", spectest.error()});
    return report;
  }
  imports_.AddInstance("spectest", **spectest);
  instances_.push_back(std::move(*spectest));

  for (const auto& entry : commands) {
    const object* command = entry.if_object();
    const std::int64_t line = command ? LineOf(*command) : 0;
    const std::string description = command ? DescribeCommand(*command) : "?";
    const Verdict verdict = command ? Execute(*command) : Failed("command is not a JSON object");
    switch (verdict.kind) {
      case Verdict::Kind::kPass:
        ++report.passed;
        if (verdict.info) {
          report.infos.push_back({line, description, verdict.detail});
        } else if (!verdict.detail.empty()) {
          ++report.tallies[verdict.detail];
        }
        break;
      case Verdict::Kind::kFail:
        ++report.failed;
        report.failures.push_back({line, description, verdict.detail});
        break;
      case Verdict::Kind::kSkip:
        ++report.skipped;
        ++report.tallies["skipped: " + verdict.detail];
        break;
    }
  }
  return report;
}

Verdict ScriptRunner::Execute(const object& command) {
  const std::string_view type = StringField(command, "type");
  if (type == "module") return LoadModule(command);
  if (type == "register") return Register(command);
  if (type == "action") {
    auto outcome = RunAction(command);
    if (!outcome) return Failed(outcome.error());
    if (!outcome->ok()) return Failed("action failed: " + StatusText(outcome->error()));
    return Pass();
  }
  if (type == "assert_return") return AssertReturn(command);
  if (type == "assert_trap") return AssertTrap(command);
  if (type == "assert_exhaustion") return AssertExhaustion(command);
  if (type == "assert_invalid" || type == "assert_malformed") return AssertNotCompiled(command);
  if (type == "assert_unlinkable") return AssertNotInstantiated(command, RunStatus::kLinkError);
  if (type == "assert_uninstantiable") return AssertNotInstantiated(command, RunStatus::kTrap);
  return Failed("unsupported command type \"" + std::string(type) + "\"");
}

Result<std::vector<std::uint8_t>, std::string> ScriptRunner::ModuleBytes(
    const object& command) const {
  const std::filesystem::path name(std::string(StringField(command, "filename")));
  // Module files are wast2json's own output beside the JSON: a bare name.
  if (name.empty() || name != name.filename() || name == "." || name == "..") {
    return Fail("bad module filename \"" + name.string() + "\"");
  }
  auto bytes = ReadFile(dir_ / name);
  if (!bytes) return Fail(bytes.error());
  return std::vector<std::uint8_t>(bytes->begin(), bytes->end());
}

Result<std::shared_ptr<const wasm::CompiledModule>, std::string> ScriptRunner::CompileModuleFile(
    const object& command) {
  auto bytes = ModuleBytes(command);
  if (!bytes) return Fail(bytes.error());
  auto module = engine_->Compile(*bytes);
  if (!module) return Fail("compile failed: " + StatusText(module.error()));
  return std::move(*module);
}

Verdict ScriptRunner::LoadModule(const object& command) {
  const std::string name(StringField(command, "name"));
  current_ = nullptr;
  current_line_ = LineOf(command);
  if (!name.empty()) named_[name] = nullptr;
  auto module = CompileModuleFile(command);
  if (!module) return Failed(module.error());
  auto instance = engine_->Instantiate(*module, imports_);
  if (!instance) return Failed("instantiate failed: " + StatusText(instance.error()));
  current_ = instance->get();
  if (!name.empty()) named_[name] = current_;
  instances_.push_back(std::move(*instance));
  return Pass();
}

Result<wasm::Instance*, std::string> ScriptRunner::FindInstance(std::string_view name) const {
  if (name.empty()) {
    if (!current_line_) return Fail(std::string("no module has been loaded"));
    if (current_ == nullptr) {
      return Fail("no current module (the module at line " + std::to_string(*current_line_) +
                  " did not load)");
    }
    return current_;
  }
  const auto found = named_.find(name);
  if (found == named_.end()) return Fail("unknown module " + std::string(name));
  if (found->second == nullptr) return Fail("module " + std::string(name) + " did not load");
  return found->second;
}

Verdict ScriptRunner::Register(const object& command) {
  auto instance = FindInstance(StringField(command, "name"));
  if (!instance) return Failed(instance.error());
  imports_.AddInstance(std::string(StringField(command, "as")), **instance);
  return Pass();
}

Result<ScriptRunner::ActionOutcome, std::string> ScriptRunner::RunAction(const object& command) {
  const object* action = ObjectField(command, "action");
  if (action == nullptr) return Fail(std::string("command has no action"));
  auto instance = FindInstance(StringField(*action, "module"));
  if (!instance) return Fail(instance.error());
  const std::string field(StringField(*action, "field"));
  const std::string_view type = StringField(*action, "type");
  if (type == "get") {
    const std::optional<Value> global = (*instance)->GetGlobal(field);
    if (!global) return Fail("no global export \"" + field + "\"");
    return ActionOutcome(std::vector<Value>{*global});
  }
  if (type != "invoke") return Fail("unsupported action type \"" + std::string(type) + "\"");
  std::vector<Value> args;
  if (const auto* list = ArrayField(*action, "args")) {
    for (const auto& arg : *list) {
      const object* json = arg.if_object();
      if (json == nullptr) return Fail(std::string("argument is not a JSON object"));
      auto value = ParseArgument(*json);
      if (!value) return Fail(value.error());
      args.push_back(*value);
    }
  }
  return (*instance)->Call(field, args);
}

Verdict ScriptRunner::AssertReturn(const object& command) {
  std::vector<ExpectedValue> expected;
  if (const auto* list = ArrayField(command, "expected")) {
    for (const auto& entry : *list) {
      const object* json = entry.if_object();
      if (json == nullptr) return Failed("expected value is not a JSON object");
      auto value = ParseExpected(*json);
      if (!value) return Failed(value.error());
      expected.push_back(std::move(*value));
    }
  }
  auto outcome = RunAction(command);
  if (!outcome) return Failed(outcome.error());
  std::string wanted = "(";
  for (const auto& value : expected) {
    wanted += (wanted.size() > 1 ? ", " : "") + DescribeExpected(value);
  }
  wanted += ")";
  if (!outcome->ok()) return Failed("expected " + wanted + ", got " + StatusText(outcome->error()));
  const std::vector<Value>& actual = outcome->value();
  bool match = actual.size() == expected.size();
  std::string got = "(";
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const bool paired = i < expected.size();
    match = match && paired && Matches(expected[i], actual[i]);
    got += (i > 0 ? ", " : "") +
           (paired ? DescribeValue(actual[i], expected[i].shape) : DescribeValue(actual[i]));
  }
  got += ")";
  if (!match) return Failed("expected " + wanted + ", got " + got);
  return Pass();
}

Verdict ScriptRunner::AssertTrap(const object& command) {
  const std::string text(StringField(command, "text"));
  auto outcome = RunAction(command);
  if (!outcome) return Failed(outcome.error());
  if (outcome->ok()) {
    return Failed("expected trap \"" + text + "\", got " + FormatValues(outcome->value()));
  }
  const Failure& failure = outcome->error();
  if (failure.status != RunStatus::kTrap) {
    return Failed("expected trap \"" + text + "\", got " + StatusText(failure));
  }
  if (failure.message.find(text) == std::string::npos) {
    return PassWithInfo("trap text differs: spec \"" + text + "\", engine \"" + failure.message +
                        "\"");
  }
  return Pass();
}

Verdict ScriptRunner::AssertExhaustion(const object& command) {
  auto outcome = RunAction(command);
  if (!outcome) return Failed(outcome.error());
  if (outcome->ok()) {
    return Failed("expected call stack exhaustion, got " + FormatValues(outcome->value()));
  }
  const Failure& failure = outcome->error();
  if (failure.status == RunStatus::kStackOverflow) {
    return Pass("assert_exhaustion passed as stack_overflow");
  }
  if (failure.status == RunStatus::kTrap &&
      failure.message.find("exhausted") != std::string::npos) {
    return Pass("assert_exhaustion passed as a trap saying \"exhausted\"");
  }
  return Failed("expected call stack exhaustion, got " + StatusText(failure));
}

Verdict ScriptRunner::AssertNotCompiled(const object& command) {
  const std::string text(StringField(command, "text"));
  if (StringField(command, "module_type") == "text") {
    return Skipped(std::string(StringField(command, "type")) + " on a text-format module");
  }
  auto bytes = ModuleBytes(command);
  if (!bytes) return Failed(bytes.error());
  auto module = engine_->Compile(*bytes);
  if (module) return Failed("module compiled; expected invalid_module \"" + text + "\"");
  if (module.error().status != RunStatus::kInvalidModule) {
    return Failed("expected invalid_module \"" + text + "\", got " + StatusText(module.error()));
  }
  return Pass();
}

Verdict ScriptRunner::AssertNotInstantiated(const object& command, RunStatus expected) {
  const std::string wanted = std::string(wasm::StatusName(expected)) + " \"" +
                             std::string(StringField(command, "text")) + "\"";
  auto module = CompileModuleFile(command);
  if (!module) return Failed("expected " + wanted + ", " + module.error());
  auto instance = engine_->Instantiate(*module, imports_);
  if (instance) {
    // Kept alive: its functions may already sit in tables shared with others.
    instances_.push_back(std::move(*instance));
    return Failed("module instantiated; expected " + wanted);
  }
  if (instance.error().status != expected) {
    return Failed("expected " + wanted + ", got " + StatusText(instance.error()));
  }
  return Pass();
}

}  // namespace

ScriptReport RunScript(const std::filesystem::path& json,
                       std::span<const std::uint8_t> spectest_wasm) {
  ScriptReport report;
  auto text = ReadFile(json);
  if (!text) {
    ++report.failed;
    report.failures.push_back({0, "read script", text.error()});
    return report;
  }
  std::error_code error;
  const boost::json::value script = boost::json::parse(*text, error);
  const object* root = script.if_object();
  const auto* commands = root ? ArrayField(*root, "commands") : nullptr;
  if (error || commands == nullptr) {
    ++report.failed;
    report.failures.push_back(
        {0, "parse script", error ? error.message() : std::string("no \"commands\" array")});
    return report;
  }
  return ScriptRunner(json.parent_path(), spectest_wasm).Run(*commands);
}

}  // namespace milf::spec
