#include "wasm/instrument_decode.h"

#include <cstdio>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader-nop.h"
#include "wabt/binary-reader.h"
#include "wabt/error.h"
#include "wabt/validator.h"

namespace milf::wasm {
namespace {

std::string AtOffset(std::size_t offset) {
  char text[32];
  std::snprintf(text, sizeof text, "offset 0x%zx: ", offset);
  return text;
}

// The validator can report an error per instruction; the first few say
// enough, and a failure message should stay one short line.
constexpr std::size_t kMaxReportedErrors = 5;

std::string OneLine(const wabt::Errors& errors) {
  std::string line;
  std::size_t reported = 0;
  std::size_t more = 0;
  for (const wabt::Error& error : errors) {
    if (error.error_level != wabt::ErrorLevel::Error) continue;
    if (reported == kMaxReportedErrors) {
      ++more;
      continue;
    }
    if (reported++ > 0) line += "; ";
    if (error.loc.offset != wabt::kInvalidOffset) line += AtOffset(error.loc.offset);
    line += error.message;
  }
  if (more > 0) line += "; and " + std::to_string(more) + " more";
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line.empty() ? "invalid module" : line;
}

Unexpected<Failure> Invalid(std::string message) {
  return Fail(Failure{RunStatus::kInvalidModule, std::move(message)});
}

// A decode-only pass that refuses, before wabt builds its IR, what wabt
// 1.0.32 would mishandle: deep block nesting (its IR code recurses per
// level), non-constant instructions in constant expressions (the IR builder
// can hit an assertion on them), and types or limits outside MILF's
// proposals (the reader lets a typed reference table through, and the
// writer then emits garbage for it).
class PreScan : public wabt::BinaryReaderNop {
 public:
  explicit PreScan(wabt::Errors& errors) : errors_(errors) {}

  // Why the scan stopped the reader, if it did.
  const std::optional<std::string>& refusal() const { return refusal_; }

  bool OnError(const wabt::Error& error) override {
    errors_.push_back(error);
    return true;
  }

  wabt::Result BeginFunctionBody(wabt::Index, wabt::Offset) override {
    depth_ = 0;
    return wabt::Result::Ok;
  }
  wabt::Result OnBlockExpr(wabt::Type type) override { return Enter(type); }
  wabt::Result OnLoopExpr(wabt::Type type) override { return Enter(type); }
  wabt::Result OnIfExpr(wabt::Type type) override { return Enter(type); }
  wabt::Result OnTryExpr(wabt::Type type) override { return Enter(type); }
  wabt::Result OnEndExpr() override {
    if (depth_ > 0) --depth_;
    return wabt::Result::Ok;
  }

  wabt::Result BeginGlobalInitExpr(wabt::Index) override { return BeginConstant(); }
  wabt::Result EndGlobalInitExpr(wabt::Index) override { return EndConstant(); }
  wabt::Result BeginElemSegmentInitExpr(wabt::Index) override { return BeginConstant(); }
  wabt::Result EndElemSegmentInitExpr(wabt::Index) override { return EndConstant(); }
  wabt::Result BeginDataSegmentInitExpr(wabt::Index) override { return BeginConstant(); }
  wabt::Result EndDataSegmentInitExpr(wabt::Index) override { return EndConstant(); }

  wabt::Result OnFuncType(wabt::Index, wabt::Index param_count, wabt::Type* params,
                          wabt::Index result_count, wabt::Type* results) override {
    if (wabt::Failed(RequireValueTypes(params, param_count))) return wabt::Result::Error;
    return RequireValueTypes(results, result_count);
  }
  wabt::Result OnImportTable(wabt::Index, std::string_view, std::string_view, wabt::Index,
                             wabt::Type type, const wabt::Limits* limits) override {
    return OnTable(0, type, limits);
  }
  wabt::Result OnTable(wabt::Index, wabt::Type type, const wabt::Limits* limits) override {
    if (wabt::Failed(Require(IsRefType(type), type))) return wabt::Result::Error;
    return CheckLimits(*limits);
  }
  wabt::Result OnImportMemory(wabt::Index, std::string_view, std::string_view, wabt::Index,
                              const wabt::Limits* limits) override {
    return CheckLimits(*limits);
  }
  wabt::Result OnMemory(wabt::Index, const wabt::Limits* limits) override {
    return CheckLimits(*limits);
  }
  wabt::Result OnImportGlobal(wabt::Index, std::string_view, std::string_view, wabt::Index,
                              wabt::Type type, bool) override {
    return BeginGlobal(0, type, false);
  }
  wabt::Result BeginGlobal(wabt::Index, wabt::Type type, bool) override {
    return Require(IsValueType(type), type);
  }
  wabt::Result OnLocalDecl(wabt::Index, wabt::Index, wabt::Type type) override {
    return Require(IsValueType(type), type);
  }
  wabt::Result OnSelectExpr(wabt::Index count, wabt::Type* types) override {
    return RequireValueTypes(types, count);
  }
  wabt::Result OnRefNullExpr(wabt::Type type) override { return Require(IsRefType(type), type); }
  wabt::Result OnElemSegmentElemType(wabt::Index, wabt::Type type) override {
    return OnRefNullExpr(type);
  }
  wabt::Result OnElemSegmentElemExpr_RefNull(wabt::Index, wabt::Type type) override {
    return OnRefNullExpr(type);
  }

  wabt::Result OnOpcode(wabt::Opcode opcode) override {
    if (!in_constant_ || IsConstant(opcode)) return wabt::Result::Ok;
    return Refuse(std::string(opcode.GetName()) + " is not allowed in a constant expression");
  }

 private:
  static bool IsConstant(wabt::Opcode opcode) {
    switch (opcode) {
      case wabt::Opcode::I32Const:
      case wabt::Opcode::I64Const:
      case wabt::Opcode::F32Const:
      case wabt::Opcode::F64Const:
      case wabt::Opcode::V128Const:
      case wabt::Opcode::GlobalGet:
      case wabt::Opcode::RefNull:
      case wabt::Opcode::RefFunc:
      case wabt::Opcode::End:
        return true;
      default:
        return false;
    }
  }

  static bool IsValueType(wabt::Type type) {
    switch (type) {
      case wabt::Type::I32:
      case wabt::Type::I64:
      case wabt::Type::F32:
      case wabt::Type::F64:
      case wabt::Type::V128:
      case wabt::Type::FuncRef:
      case wabt::Type::ExternRef:
        return true;
      default:
        return false;
    }
  }
  static bool IsRefType(wabt::Type type) {
    return type == wabt::Type::FuncRef || type == wabt::Type::ExternRef;
  }

  wabt::Result Require(bool supported, wabt::Type type) {
    if (supported) return wabt::Result::Ok;
    return Refuse("unsupported type " + std::string(type.GetName()));
  }
  wabt::Result RequireValueTypes(const wabt::Type* types, wabt::Index count) {
    for (wabt::Index i = 0; i < count; ++i) {
      if (wabt::Failed(Require(IsValueType(types[i]), types[i]))) return wabt::Result::Error;
    }
    return wabt::Result::Ok;
  }

  wabt::Result CheckLimits(const wabt::Limits& limits) {
    if (!limits.is_shared && !limits.is_64) return wabt::Result::Ok;
    return Refuse("shared and 64-bit memories and tables are not supported");
  }

  wabt::Result Enter(wabt::Type block_type) {
    const bool valid =
        block_type == wabt::Type::Void || block_type.IsIndex() || IsValueType(block_type);
    if (wabt::Failed(Require(valid, block_type))) return wabt::Result::Error;
    if (++depth_ <= kMaxBlockNesting) return wabt::Result::Ok;
    return Refuse("a function body nests blocks deeper than " + std::to_string(kMaxBlockNesting));
  }
  wabt::Result BeginConstant() {
    in_constant_ = true;
    return wabt::Result::Ok;
  }
  wabt::Result EndConstant() {
    in_constant_ = false;
    return wabt::Result::Ok;
  }
  wabt::Result Refuse(std::string why) {
    refusal_ = (state ? AtOffset(state->offset) : std::string()) + why;
    return wabt::Result::Error;
  }

  wabt::Errors& errors_;
  std::uint32_t depth_ = 0;
  bool in_constant_ = false;
  std::optional<std::string> refusal_;
};

// The name section is advisory, so a corrupt one must not make the module
// invalid; but wabt 1.0.32 keeps names of locals a function does not have,
// and its writer then fails an assertion.
void DropStrayLocalNames(wabt::Module& module) {
  for (wabt::Func* func : module.funcs) {
    const wabt::Index locals = func->GetNumParamsAndLocals();
    std::erase_if(func->bindings,
                  [locals](const auto& entry) { return entry.second.index >= locals; });
  }
}

wabt::ReadBinaryOptions ReadOptions(bool read_debug_names) {
  return wabt::ReadBinaryOptions(SupportedFeatures(), /*log_stream=*/nullptr, read_debug_names,
                                 /*stop_on_first_error=*/true,
                                 /*fail_on_custom_section_error=*/true);
}

}  // namespace

Result<std::unique_ptr<wabt::Module>, Failure> DecodeAndValidate(
    std::span<const std::uint8_t> wasm) {
  wabt::Errors errors;
  PreScan scan(errors);
  if (wabt::Failed(wabt::ReadBinary(wasm.data(), wasm.size(), &scan, ReadOptions(false)))) {
    return Invalid(scan.refusal() ? *scan.refusal() : OneLine(errors));
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
  DropStrayLocalNames(*module);
  return module;
}

}  // namespace milf::wasm
