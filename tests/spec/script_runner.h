// Running one converted spec script (wast2json's JSON plus its module
// files) through a fresh interpreter Engine, and tallying the outcome of
// every command. Each script gets its own Engine, its own spectest instance
// and its own registry of named instances, so scripts are independent and
// may run on different threads.
//
// Command rules (the expected outcome is the Engine's RunStatus):
//   module                 Compile + Instantiate succeed; becomes current
//   register               the named (or current) instance becomes importable
//   action                 the invoke/get succeeds (results unchecked)
//   assert_return          the action succeeds with matching results
//   assert_trap            the action fails with kTrap (message: info only)
//   assert_exhaustion      kStackOverflow, or kTrap whose message says
//                          "exhausted" (which one is tallied)
//   assert_invalid         Compile fails with kInvalidModule
//   assert_malformed       binary: Compile fails with kInvalidModule;
//                          text (.wat): skipped, since the Engine takes only
//                          binaries and rejecting text is the text parser's
//                          job, not the Engine's
//   assert_unlinkable      Compile succeeds, Instantiate fails with kLinkError
//   assert_uninstantiable  Compile succeeds, Instantiate fails with kTrap
// Commands on a module that failed to load fail too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace milf::spec {

struct CommandNote {
  std::int64_t line = 0;
  std::string command;  // e.g. `assert_return add(i32:1, i32:2)`
  std::string detail;   // e.g. `expected (i32:3), got (i32:4)`
};

struct ScriptReport {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<CommandNote> failures;   // one per failed command, in order
  std::vector<CommandNote> infos;      // passed, but worth a look (trap text differs)
  std::map<std::string, int> tallies;  // counts by remark, summed over a run
};

// Runs every command of the wast2json output `json`, whose module files lie
// beside it. `spectest_wasm` is the spectest module (AssembleSpectest).
// Problems with the script itself (unreadable JSON, unknown commands,
// missing module files) count as failed commands, never as a crash.
ScriptReport RunScript(const std::filesystem::path& json,
                       std::span<const std::uint8_t> spectest_wasm);

}  // namespace milf::spec
