#include "wasm/status.h"

#include <array>
#include <utility>

namespace milf::wasm {
namespace {

constexpr std::array<std::pair<RunStatus, std::string_view>, 15> kNames{{
    {RunStatus::kOk, "ok"},
    {RunStatus::kExitNonzero, "exit_nonzero"},
    {RunStatus::kTrap, "trap"},
    {RunStatus::kTimeout, "timeout"},
    {RunStatus::kFuelExhausted, "fuel_exhausted"},
    {RunStatus::kMemoryLimit, "memory_limit"},
    {RunStatus::kTableLimit, "table_limit"},
    {RunStatus::kStackOverflow, "stack_overflow"},
    {RunStatus::kOutputLimit, "output_limit"},
    {RunStatus::kModuleTooLarge, "module_too_large"},
    {RunStatus::kInvalidModule, "invalid_module"},
    {RunStatus::kLinkError, "link_error"},
    {RunStatus::kInternalError, "internal_error"},
    {RunStatus::kCrashed, "crashed"},
    {RunStatus::kSandboxViolation, "sandbox_violation"},
}};

}  // namespace

std::string_view StatusName(RunStatus status) {
  for (const auto& [value, name] : kNames) {
    if (value == status) return name;
  }
  return "internal_error";
}

std::optional<RunStatus> ParseStatus(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

}  // namespace milf::wasm
