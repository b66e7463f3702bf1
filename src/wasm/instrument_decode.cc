#include "wasm/instrument_decode.h"

#include <cstdio>
#include <string>
#include <utility>

#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader-nop.h"
#include "wabt/binary-reader.h"
#include "wabt/error.h"
#include "wabt/validator.h"

namespace milf::wasm {
namespace {

std::string OneLine(const wabt::Errors& errors) {
  std::string line;
  for (const wabt::Error& error : errors) {
    if (error.error_level != wabt::ErrorLevel::Error) continue;
    if (!line.empty()) line += "; ";
    if (error.loc.offset != wabt::kInvalidOffset) {
      char offset[32];
      std::snprintf(offset, sizeof offset, "offset 0x%zx: ", error.loc.offset);
      line += offset;
    }
    line += error.message;
  }
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line.empty() ? "invalid module" : line;
}

Unexpected<Failure> Invalid(std::string message) {
  return Fail(Failure{RunStatus::kInvalidModule, std::move(message)});
}

// A decode-only pass that measures block nesting before wabt builds its
// recursive IR for the body.
class NestingGuard : public wabt::BinaryReaderNop {
 public:
  explicit NestingGuard(wabt::Errors& errors) : errors_(errors) {}

  bool too_deep() const { return too_deep_; }

  bool OnError(const wabt::Error& error) override {
    errors_.push_back(error);
    return true;
  }
  wabt::Result BeginFunctionBody(wabt::Index, wabt::Offset) override {
    depth_ = 0;
    return wabt::Result::Ok;
  }
  wabt::Result OnBlockExpr(wabt::Type) override { return Enter(); }
  wabt::Result OnLoopExpr(wabt::Type) override { return Enter(); }
  wabt::Result OnIfExpr(wabt::Type) override { return Enter(); }
  wabt::Result OnTryExpr(wabt::Type) override { return Enter(); }
  wabt::Result OnEndExpr() override {
    if (depth_ > 0) --depth_;
    return wabt::Result::Ok;
  }

 private:
  wabt::Result Enter() {
    if (++depth_ <= kMaxBlockNesting) return wabt::Result::Ok;
    too_deep_ = true;
    return wabt::Result::Error;
  }

  wabt::Errors& errors_;
  std::uint32_t depth_ = 0;
  bool too_deep_ = false;
};

wabt::ReadBinaryOptions ReadOptions(bool read_debug_names) {
  return wabt::ReadBinaryOptions(SupportedFeatures(), /*log_stream=*/nullptr, read_debug_names,
                                 /*stop_on_first_error=*/true,
                                 /*fail_on_custom_section_error=*/false);
}

}  // namespace

wabt::Features SupportedFeatures() {
  // Start from nothing, so that a wabt upgrade enabling a proposal by
  // default does not silently widen what MILF accepts.
  wabt::Features features;
#define WABT_FEATURE(variable, flag, default_, help) features.disable_##variable();
#include "wabt/feature.def"
#undef WABT_FEATURE
  features.enable_sign_extension();
  features.enable_sat_float_to_int();
  features.enable_multi_value();
  features.enable_bulk_memory();
  features.enable_reference_types();
  features.enable_simd();
  features.enable_mutable_globals();
  return features;
}

Result<std::unique_ptr<wabt::Module>, Failure> DecodeAndValidate(
    std::span<const std::uint8_t> wasm) {
  wabt::Errors errors;
  NestingGuard guard(errors);
  if (wabt::Failed(wabt::ReadBinary(wasm.data(), wasm.size(), &guard, ReadOptions(false)))) {
    if (guard.too_deep()) {
      return Invalid("a function body nests blocks deeper than " +
                     std::to_string(kMaxBlockNesting));
    }
    return Invalid(OneLine(errors));
  }

  auto module = std::make_unique<wabt::Module>();
  wabt::Errors read_errors;
  if (wabt::Failed(wabt::ReadBinaryIr("module", wasm.data(), wasm.size(), ReadOptions(true),
                                      &read_errors, module.get()))) {
    return Invalid(OneLine(read_errors));
  }
  wabt::Errors validation_errors;
  if (wabt::Failed(wabt::ValidateModule(module.get(), &validation_errors,
                                        wabt::ValidateOptions(SupportedFeatures())))) {
    return Invalid(OneLine(validation_errors));
  }
  return module;
}

}  // namespace milf::wasm
