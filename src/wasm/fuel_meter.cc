#include "wasm/fuel_meter.h"

#include <algorithm>
#include <limits>
#include <string>

#include "wasm/instrument.h"

namespace milf::wasm {

FuelMeter::FuelMeter(std::uint64_t budget, std::int64_t deadline_nanos, const Clock& clock)
    : budget_(static_cast<std::int64_t>(
          std::min<std::uint64_t>(budget, std::numeric_limits<std::int64_t>::max()))),
      deadline_nanos_(deadline_nanos),
      clock_(clock) {}

void FuelMeter::Register(Imports& imports) {
  imports.AddFunction(HostFunction{
      std::string(kHostModule), std::string(kFuelRefillImport),
      FuncSig{{ValType::kI64}, {ValType::kI64}},
      [this](HostContext&, std::span<const Value> args, std::span<Value> results) {
        const std::int64_t counter = Refill(static_cast<std::int64_t>(args[0].i64()));
        if (stop_) return HostAction::kStop;
        results[0] = Value::I64(static_cast<std::uint64_t>(counter));
        return HostAction::kContinue;
      }});
  imports.AddFunction(HostFunction{std::string(kHostModule), std::string(kCallDepthImport),
                                   FuncSig{},
                                   [this](HostContext&, std::span<const Value>, std::span<Value>) {
                                     stop_ = RunStatus::kStackOverflow;
                                     return HostAction::kStop;
                                   }});
}

std::int64_t FuelMeter::Counter() const {
  if (instance_ == nullptr) return last_counter_;
  const std::optional<Value> counter = instance_->GetGlobal(kFuelGlobal);
  return counter ? static_cast<std::int64_t>(counter->i64()) : last_counter_;
}

std::uint64_t FuelMeter::FuelUsed() const {
  const std::int64_t used = granted_ - Counter();
  return static_cast<std::uint64_t>(std::clamp<std::int64_t>(used, 0, budget_));
}

std::int64_t FuelMeter::Refill(std::int64_t counter) {
  last_counter_ = counter;
  const std::int64_t used = granted_ - counter;
  if (used > budget_) {
    stop_ = RunStatus::kFuelExhausted;
    return counter;
  }
  if (clock_.MonotonicNanos() >= deadline_nanos_) {
    stop_ = RunStatus::kTimeout;
    return counter;
  }
  const std::int64_t slice = std::min(kSlice, budget_ - used);
  granted_ = used + slice;
  last_counter_ = slice;
  return slice;
}

}  // namespace milf::wasm
