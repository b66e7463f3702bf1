#include "spec_diff.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "compiler/aot/artifact_cache.h"
#include "spec_values.h"
#include "spectest_module.h"
#include "wasm/aot/aot_engine.h"
#include "wasm/instrument.h"
#include "wast2json.h"

namespace milf::wasm::testing {
namespace {

namespace fs = std::filesystem;
using boost::json::object;
using Outcome = Result<std::vector<Value>, Failure>;

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

std::string Describe(const Failure& failure) {
  return std::string(StatusName(failure.status)) + " \"" + failure.message + "\"";
}

bool IsNan(const Value& value) {
  if (value.type == ValType::kF32) {
    const std::uint32_t bits = value.i32();
    return (bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0;
  }
  if (value.type == ValType::kF64) {
    return (value.bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
           (value.bits & 0x000fffffffffffffull) != 0;
  }
  return false;
}

// Why two tiers' values differ; nullopt when they agree. Funcref handles
// are each engine's own, so only their nullness is compared.
std::optional<std::string> CompareValues(const std::vector<Value>& interp,
                                         const std::vector<Value>& aot, int& nan_bits_differ) {
  if (interp.size() != aot.size()) return std::string("different result counts");
  for (std::size_t i = 0; i < interp.size(); ++i) {
    const Value& a = interp[i];
    const Value& b = aot[i];
    if (a.type != b.type) return "result " + std::to_string(i) + " types differ";
    if (a.type == ValType::kFuncRef) {
      if ((a.bits == 0) != (b.bits == 0)) return "result " + std::to_string(i) + " nullness differs";
      continue;
    }
    if (IsNan(a) && IsNan(b)) {
      if (a.bits != b.bits) ++nan_bits_differ;
      continue;
    }
    if (a.bits != b.bits || a.v128 != b.v128) {
      return "result " + std::to_string(i) + ": interp " + milf::spec::DescribeValue(a) + ", aot " +
             milf::spec::DescribeValue(b);
    }
  }
  return std::nullopt;
}

std::optional<std::string> CompareOutcomes(const Outcome& interp, const Outcome& aot,
                                           int& nan_bits_differ) {
  if (interp.ok() != aot.ok()) {
    return "interp " + (interp.ok() ? std::string("succeeded") : Describe(interp.error())) +
           ", aot " + (aot.ok() ? std::string("succeeded") : Describe(aot.error()));
  }
  if (!interp.ok()) {
    if (interp.error().status != aot.error().status) {
      return "interp " + Describe(interp.error()) + ", aot " + Describe(aot.error());
    }
    return std::nullopt;
  }
  return CompareValues(*interp, *aot, nan_bits_differ);
}

// One tier's state over a script.
struct Side {
  std::unique_ptr<Engine> engine;
  Imports imports;
  std::vector<std::unique_ptr<Instance>> instances;
  std::map<std::string, Instance*, std::less<>> named;
  Instance* current = nullptr;
  std::int64_t granted = 0;    // fuel handed out by milf.fuel_refill, in total
  bool depth_stopped = false;  // milf.call_depth_exceeded stopped the last action
};

constexpr std::int64_t kFuelSlice = 100'000;

// milf.fuel_refill granting a fixed slice (counted), and a call-depth stop
// (remembered): fuel used by an action is then counter before + granted
// during - counter after, on each tier.
void AddMeteringImports(Side& side) {
  side.imports.AddFunction(HostFunction{
      std::string(kHostModule), std::string(kFuelRefillImport),
      FuncSig{{ValType::kI64}, {ValType::kI64}},
      [&side](HostContext&, std::span<const Value>, std::span<Value> results) {
        side.granted += kFuelSlice;
        results[0] = Value::I64(kFuelSlice);
        return HostAction::kContinue;
      }});
  side.imports.AddFunction(HostFunction{
      std::string(kHostModule), std::string(kCallDepthImport), FuncSig{},
      [&side](HostContext&, std::span<const Value>, std::span<Value>) {
        side.depth_stopped = true;
        return HostAction::kStop;
      }});
}

// The fuel counters of every instance on a side, summed: an action may run
// code (and refill) in instances it imports from.
std::int64_t Counters(const Side& side) {
  std::int64_t sum = 0;
  for (const auto& instance : side.instances) {
    if (const auto counter = instance->GetGlobal(kFuelGlobal)) {
      sum += static_cast<std::int64_t>(counter->bits);
    }
  }
  return sum;
}

bool Unsupported(const Failure& failure) {
  return failure.status == RunStatus::kInvalidModule &&
         failure.message.find("unsupported by the AOT tier") != std::string::npos;
}

struct Verdict {
  enum class Kind { kPass, kFail, kSkip };
  Kind kind = Kind::kPass;
  std::string detail;
};

Verdict Pass(std::string remark = {}) { return {Verdict::Kind::kPass, std::move(remark)}; }
Verdict Failed(std::string detail) { return {Verdict::Kind::kFail, std::move(detail)}; }
Verdict Skipped(std::string reason) { return {Verdict::Kind::kSkip, std::move(reason)}; }

class DiffRunner {
 public:
  DiffRunner(fs::path dir, std::span<const std::uint8_t> spectest, const DiffOptions& options)
      : dir_(std::move(dir)), spectest_(spectest), options_(options) {
    AotOptions aot_options;
    aot_options.cache_dir = options.aot_cache_dir;
    interp_.engine = NewInterpreterEngine();
    aot_.engine = NewAotEngine(aot_options);
    if (options_.instrumented) {
      AddMeteringImports(interp_);
      AddMeteringImports(aot_);
    }
  }

  DiffReport Run(const boost::json::array& commands);

 private:
  Verdict Execute(const object& command);
  Verdict LoadModule(const object& command);
  Verdict Register(const object& command);
  Verdict Action(const object& command, std::string_view type);
  Verdict NotCompiled(const object& command);
  Verdict NotInstantiated(const object& command, RunStatus expected);

  std::optional<std::vector<std::uint8_t>> ModuleBytes(const object& command, std::string& error);
  Outcome Load(Side& side, std::span<const std::uint8_t> bytes,
               std::unique_ptr<Instance>* instance);
  // The instance an action names on one side; null when it did not load.
  Instance* Find(Side& side, std::string_view name) const;
  bool IsUnsupported(std::string_view name) const;
  void BuildAhead(const boost::json::array& commands);

  fs::path dir_;
  std::span<const std::uint8_t> spectest_;
  const DiffOptions& options_;
  Side interp_;
  Side aot_;
  std::set<std::string, std::less<>> unsupported_;  // module names; "" = current
  std::set<const Instance*> diverged_;  // AOT instances whose metering state differs
  int nan_bits_differ_ = 0;
};

std::optional<std::vector<std::uint8_t>> DiffRunner::ModuleBytes(const object& command,
                                                                 std::string& error) {
  const fs::path name(std::string(StringField(command, "filename")));
  if (name.empty() || name != name.filename()) {
    error = "bad module filename";
    return std::nullopt;
  }
  std::ifstream in(dir_ / name, std::ios::binary);
  if (!in) {
    error = "cannot read " + name.string();
    return std::nullopt;
  }
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  if (!options_.instrumented) return bytes;
  auto instrumented = Instrument(bytes, InstrumentOptions{});
  if (!instrumented) return bytes;  // both tiers then refuse the original alike
  return std::move(instrumented->wasm);
}

Outcome DiffRunner::Load(Side& side, std::span<const std::uint8_t> bytes,
                         std::unique_ptr<Instance>* instance) {
  auto module = side.engine->Compile(bytes);
  if (!module) return Fail(std::move(module).error());
  auto made = side.engine->Instantiate(*module, side.imports);
  if (!made) return Fail(std::move(made).error());
  *instance = std::move(made).value();
  return std::vector<Value>{};
}

// Builds the artifacts of every module file the script names, in parallel,
// so the lockstep run below finds them in the cache.
void DiffRunner::BuildAhead(const boost::json::array& commands) {
  std::vector<std::vector<std::uint8_t>> modules;
  std::set<std::string> seen;
  for (const auto& entry : commands) {
    const object* command = entry.if_object();
    if (command == nullptr) continue;
    const std::string_view type = StringField(*command, "type");
    if (type != "module" && type != "assert_uninstantiable" && type != "assert_unlinkable") {
      continue;
    }
    if (!seen.insert(std::string(StringField(*command, "filename"))).second) continue;
    std::string error;
    auto bytes = ModuleBytes(*command, error);
    if (bytes && interp_.engine->Compile(*bytes).ok()) modules.push_back(std::move(*bytes));
  }
  const aot::Toolchain toolchain(aot::HostTarget());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, options_.build_threads); ++t) {
    threads.emplace_back([&] {
      aot::ArtifactCache cache(options_.aot_cache_dir);
      for (std::size_t i = next++; i < modules.size(); i = next++) {
        (void)cache.LoadOrBuild(modules[i], toolchain);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

DiffReport DiffRunner::Run(const boost::json::array& commands) {
  DiffReport report;
  for (Side* side : {&interp_, &aot_}) {
    auto spectest = milf::spec::InstantiateSpectest(*side->engine, spectest_);
    if (!spectest) {
      ++report.failed;
      report.failures.push_back("spectest: " + spectest.error());
      return report;
    }
    side->imports.AddInstance("spectest", **spectest);
    side->instances.push_back(std::move(*spectest));
  }
  BuildAhead(commands);
  for (const auto& entry : commands) {
    const object* command = entry.if_object();
    if (command == nullptr) {
      ++report.failed;
      continue;
    }
    const Verdict verdict = Execute(*command);
    switch (verdict.kind) {
      case Verdict::Kind::kPass:
        ++report.passed;
        if (!verdict.detail.empty()) ++report.tallies[verdict.detail];
        break;
      case Verdict::Kind::kSkip:
        ++report.skipped;
        ++report.tallies["skipped: " + verdict.detail];
        break;
      case Verdict::Kind::kFail:
        ++report.failed;
        report.failures.push_back("line " + std::to_string(LineOf(*command)) + ": " +
                                  std::string(StringField(*command, "type")) + ": " +
                                  verdict.detail);
        break;
    }
  }
  if (nan_bits_differ_ > 0) report.tallies["NaN results with different payloads"] += nan_bits_differ_;
  return report;
}

Verdict DiffRunner::Execute(const object& command) {
  const std::string_view type = StringField(command, "type");
  if (type == "module") return LoadModule(command);
  if (type == "register") return Register(command);
  if (type == "action" || type == "assert_return" || type == "assert_trap" ||
      type == "assert_exhaustion") {
    return Action(command, type);
  }
  if (type == "assert_invalid" || type == "assert_malformed") return NotCompiled(command);
  if (type == "assert_unlinkable") return NotInstantiated(command, RunStatus::kLinkError);
  if (type == "assert_uninstantiable") return NotInstantiated(command, RunStatus::kTrap);
  return Failed("unsupported command type " + std::string(type));
}

Verdict DiffRunner::LoadModule(const object& command) {
  const std::string name(StringField(command, "name"));
  interp_.current = aot_.current = nullptr;
  unsupported_.erase("");
  if (!name.empty()) {
    interp_.named[name] = aot_.named[name] = nullptr;
    unsupported_.erase(name);
  }
  std::string error;
  const auto bytes = ModuleBytes(command, error);
  if (!bytes) return Failed(error);
  std::unique_ptr<Instance> interp_instance;
  std::unique_ptr<Instance> aot_instance;
  const Outcome interp = Load(interp_, *bytes, &interp_instance);
  const Outcome aot = Load(aot_, *bytes, &aot_instance);
  if (!aot.ok() && Unsupported(aot.error())) {
    unsupported_.insert("");
    if (!name.empty()) unsupported_.insert(name);
    return Skipped(aot.error().message);
  }
  if (auto differ = CompareOutcomes(interp, aot, nan_bits_differ_)) return Failed(*differ);
  if (!aot.ok()) {
    return options_.instrumented ? Pass("module refused alike by both tiers")
                                 : Failed("module did not load: " + Describe(aot.error()));
  }
  interp_.current = interp_instance.get();
  aot_.current = aot_instance.get();
  if (!name.empty()) {
    interp_.named[name] = interp_.current;
    aot_.named[name] = aot_.current;
  }
  interp_.instances.push_back(std::move(interp_instance));
  aot_.instances.push_back(std::move(aot_instance));
  return Pass();
}

Instance* DiffRunner::Find(Side& side, std::string_view name) const {
  if (name.empty()) return side.current;
  const auto it = side.named.find(name);
  return it == side.named.end() ? nullptr : it->second;
}

bool DiffRunner::IsUnsupported(std::string_view name) const { return unsupported_.count(name) != 0; }

Verdict DiffRunner::Register(const object& command) {
  const std::string_view name = StringField(command, "name");
  if (IsUnsupported(name)) return Skipped("command on a module unsupported by the AOT tier");
  Instance* interp = Find(interp_, name);
  Instance* aot = Find(aot_, name);
  if (interp == nullptr || aot == nullptr) return Failed("register of a module that did not load");
  const std::string as(StringField(command, "as"));
  interp_.imports.AddInstance(as, *interp);
  aot_.imports.AddInstance(as, *aot);
  return Pass();
}

Verdict DiffRunner::Action(const object& command, std::string_view type) {
  const object* action = ObjectField(command, "action");
  if (action == nullptr) return Failed("no action");
  const std::string_view module = StringField(*action, "module");
  if (IsUnsupported(module)) return Skipped("command on a module unsupported by the AOT tier");
  Instance* interp = Find(interp_, module);
  Instance* aot = Find(aot_, module);
  if (interp == nullptr || aot == nullptr) return Failed("action on a module that did not load");
  const std::string field(StringField(*action, "field"));
  Outcome interp_outcome = std::vector<Value>{};
  Outcome aot_outcome = std::vector<Value>{};
  // Fuel used by an action: the counters' drop plus what refills added.
  const std::int64_t interp_start = Counters(interp_) - interp_.granted;
  const std::int64_t aot_start = Counters(aot_) - aot_.granted;
  interp_.depth_stopped = aot_.depth_stopped = false;
  if (StringField(*action, "type") == "get") {
    const auto a = interp->GetGlobal(field);
    const auto b = aot->GetGlobal(field);
    if (!a || !b) return Failed("no global " + field);
    interp_outcome = std::vector<Value>{*a};
    aot_outcome = std::vector<Value>{*b};
  } else {
    std::vector<Value> args;
    if (const auto* list = ArrayField(*action, "args")) {
      for (const auto& arg : *list) {
        const object* json = arg.if_object();
        if (json == nullptr) return Failed("argument is not an object");
        auto value = milf::spec::ParseArgument(*json);
        if (!value) return Failed(value.error());
        args.push_back(*value);
      }
    }
    interp_outcome = interp->Call(field, args);
    aot_outcome = aot->Call(field, args);
  }
  if (options_.instrumented && interp_.depth_stopped && !aot_outcome.ok() &&
      aot_outcome.error().status == RunStatus::kStackOverflow) {
    // The native stack ran out before the instrumented call-depth limit
    // (frames of many kilobytes): a Runner reports kStackOverflow on both
    // tiers, after different amounts of work. See docs/aot.md. The
    // instrumentation's depth counter, left where each tier stopped, now
    // differs too, so this instance's later fuel figures are not compared.
    diverged_.insert(aot);
    return Pass("native stack exhausted before the call-depth limit (fuel not compared)");
  }
  if (auto differ = CompareOutcomes(interp_outcome, aot_outcome, nan_bits_differ_)) {
    return Failed(field + ": " + *differ);
  }
  if (options_.instrumented) {
    // Each engine's own stack runs out at its own depth (the interpreter's
    // frame stack, the AOT tier's native stack): the same verdict, after
    // different amounts of work.
    if (!aot_outcome.ok() && aot_outcome.error().status == RunStatus::kStackOverflow) {
      diverged_.insert(aot);
      return Pass("both engines' own stacks exhausted (fuel not compared)");
    }
    if (diverged_.count(aot) != 0) return Pass("after a stack exhaustion (fuel not compared)");
    const std::int64_t interp_used = interp_start - (Counters(interp_) - interp_.granted);
    const std::int64_t aot_used = aot_start - (Counters(aot_) - aot_.granted);
    if (interp_used != aot_used) {
      return Failed(field + ": fuel used differs: interp " + std::to_string(interp_used) +
                    ", aot " + std::to_string(aot_used));
    }
    return Pass("fuel identical");
  }
  // The AOT tier must also do what the script expects.
  if (type == "action" || type == "assert_return") {
    if (!aot_outcome.ok()) return Failed(field + ": " + Describe(aot_outcome.error()));
    if (type == "action") return Pass();
    const auto* expected = ArrayField(command, "expected");
    const std::size_t count = expected ? expected->size() : 0;
    if (count != aot_outcome->size()) return Failed(field + ": wrong result count");
    for (std::size_t i = 0; i < count; ++i) {
      const object* json = (*expected)[i].if_object();
      auto want = json ? milf::spec::ParseExpected(*json) : Result<milf::spec::ExpectedValue, std::string>(
                                                                Fail(std::string("bad expectation")));
      if (!want) return Failed(want.error());
      if (!milf::spec::Matches(*want, (*aot_outcome)[i])) {
        return Failed(field + ": expected " + milf::spec::DescribeExpected(*want) + ", got " +
                      milf::spec::DescribeValue((*aot_outcome)[i], want->shape));
      }
    }
    return Pass();
  }
  if (aot_outcome.ok()) return Failed(field + ": expected a " + std::string(type) + ", got results");
  const Failure& failure = aot_outcome.error();
  if (type == "assert_trap") {
    if (failure.status != RunStatus::kTrap) return Failed(field + ": " + Describe(failure));
    const std::string text(StringField(command, "text"));
    return failure.message.find(text) != std::string::npos ? Pass()
                                                          : Pass("trap text differs from the spec's");
  }
  if (failure.status == RunStatus::kStackOverflow) return Pass();
  return Failed(field + ": expected exhaustion, got " + Describe(failure));
}

Verdict DiffRunner::NotCompiled(const object& command) {
  if (StringField(command, "module_type") == "text") {
    return Skipped(std::string(StringField(command, "type")) + " on a text module");
  }
  std::string error;
  const fs::path name(std::string(StringField(command, "filename")));
  std::ifstream in(dir_ / name, std::ios::binary);
  if (!in) return Failed("cannot read " + name.string());
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                        std::istreambuf_iterator<char>()};
  auto interp = interp_.engine->Compile(bytes);
  auto aot = aot_.engine->Compile(bytes);
  if (interp.ok() || aot.ok()) return Failed("an invalid module compiled");
  if (interp.error().status != aot.error().status || interp.error().message != aot.error().message) {
    return Failed("verdicts differ: " + Describe(interp.error()) + " vs " + Describe(aot.error()));
  }
  return Pass();
}

Verdict DiffRunner::NotInstantiated(const object& command, RunStatus expected) {
  std::string error;
  const auto bytes = ModuleBytes(command, error);
  if (!bytes) return Failed(error);
  std::unique_ptr<Instance> interp_instance;
  std::unique_ptr<Instance> aot_instance;
  const Outcome interp = Load(interp_, *bytes, &interp_instance);
  const Outcome aot = Load(aot_, *bytes, &aot_instance);
  // Instances that did come up are kept: their functions may sit in tables.
  if (interp_instance) interp_.instances.push_back(std::move(interp_instance));
  if (aot_instance) aot_.instances.push_back(std::move(aot_instance));
  if (!aot.ok() && Unsupported(aot.error())) return Skipped(aot.error().message);
  if (auto differ = CompareOutcomes(interp, aot, nan_bits_differ_)) return Failed(*differ);
  if (options_.instrumented) return Pass();
  if (aot.ok()) return Failed("instantiated; expected " + std::string(StatusName(expected)));
  if (aot.error().status != expected) return Failed(Describe(aot.error()));
  return Pass();
}

}  // namespace

void DiffReport::Add(const DiffReport& other) {
  passed += other.passed;
  failed += other.failed;
  skipped += other.skipped;
  failures.insert(failures.end(), other.failures.begin(), other.failures.end());
  for (const auto& [remark, count] : other.tallies) tallies[remark] += count;
}

DiffReport RunDifferential(const fs::path& json, std::span<const std::uint8_t> spectest_wasm,
                           const DiffOptions& options) {
  DiffReport report;
  std::ifstream in(json, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::error_code error;
  const boost::json::value script = boost::json::parse(text, error);
  const object* root = script.if_object();
  const auto* commands = root ? ArrayField(*root, "commands") : nullptr;
  if (error || commands == nullptr) {
    ++report.failed;
    report.failures.push_back("cannot parse " + json.string());
    return report;
  }
  return DiffRunner(json.parent_path(), spectest_wasm, options).Run(*commands);
}

DiffReport RunDifferentialWast(const fs::path& wast, std::span<const std::uint8_t> spectest_wasm,
                               const DiffOptions& options) {
  DiffReport report;
  auto dir = milf::spec::TempDir::Create();
  if (!dir) {
    ++report.failed;
    report.failures.push_back(dir.error());
    return report;
  }
  auto json = milf::spec::ConvertWast(wast, *dir);
  if (!json) {
    if (json.error().kind == milf::spec::ConvertError::Kind::kToolFailed) {
      ++report.failed;
      report.failures.push_back(wast.filename().string() + ": " + json.error().message);
    } else {
      ++report.skipped;
      ++report.tallies["skipped: wast2json cannot convert the file"];
    }
    return report;
  }
  return RunDifferential(*json, spectest_wasm, options);
}

}  // namespace milf::wasm::testing
