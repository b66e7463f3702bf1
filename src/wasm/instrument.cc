#include "wasm/instrument.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <utility>

#include "wabt/binary-writer.h"
#include "wabt/cast.h"
#include "wabt/ir.h"
#include "wabt/stream.h"
#include "wasm/instrument_decode.h"

namespace milf::wasm {
namespace {

using wabt::Index;

// Exported so tests and debugging tools can watch the call depth.
constexpr std::string_view kDepthGlobal = "__milf_depth";

Unexpected<Failure> Refuse(RunStatus status, std::string message) {
  return Fail(Failure{status, std::move(message)});
}

wabt::Var IndexVar(Index index) { return wabt::Var(index, wabt::Location()); }

// The module's namespace is ours: a guest importing from it could call the
// fuel refill itself, and one exporting our names would clash with them.
Result<void, Failure> CheckReservedNames(const wabt::Module& module) {
  for (const wabt::Import* import : module.imports) {
    if (import->module_name == kHostModule) {
      return Refuse(RunStatus::kInvalidModule,
                    "module imports from the reserved module \"" + std::string(kHostModule) + "\"");
    }
  }
  for (const wabt::Export* export_ : module.exports) {
    if (export_->name.starts_with("__milf_")) {
      return Refuse(RunStatus::kInvalidModule,
                    "module exports the reserved name \"" + export_->name + "\"");
    }
  }
  return {};
}

// Lowers the maximum to `cap`; false if the minimum is already above it.
bool Cap(wabt::Limits& limits, std::uint32_t cap) {
  if (limits.initial > cap) return false;
  limits.max = limits.has_max ? std::min<std::uint64_t>(limits.max, cap) : cap;
  limits.has_max = true;
  return true;
}

// A 32-bit memory cannot declare more than 4 GiB, whatever the cap.
constexpr std::uint32_t kMaxMemoryPages = 65'536;

// Imported memories and tables are the host's, created under its own limits.
Result<void, Failure> ApplyCaps(wabt::Module& module, const InstrumentOptions& options) {
  const std::uint32_t page_cap = std::min(options.max_memory_pages, kMaxMemoryPages);
  for (std::size_t i = module.num_memory_imports; i < module.memories.size(); ++i) {
    const std::uint64_t initial = module.memories[i]->page_limits.initial;
    if (!Cap(module.memories[i]->page_limits, page_cap)) {
      return Refuse(RunStatus::kMemoryLimit, "module needs " + std::to_string(initial) +
                                                 " pages of memory, the limit is " +
                                                 std::to_string(page_cap));
    }
  }
  for (std::size_t i = module.num_table_imports; i < module.tables.size(); ++i) {
    const std::uint64_t initial = module.tables[i]->elem_limits.initial;
    if (!Cap(module.tables[i]->elem_limits, options.max_table_elements)) {
      return Refuse(RunStatus::kTableLimit, "module needs " + std::to_string(initial) +
                                                " table elements, the limit is " +
                                                std::to_string(options.max_table_elements));
    }
  }
  return {};
}

// Names by original function index: name section, else first export, else
// "func[N]".
std::vector<std::string> OriginalFunctionNames(const wabt::Module& module) {
  std::vector<std::string> names(module.funcs.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = module.funcs[i]->name;
    if (!name.empty()) names[i] = name.starts_with('$') ? name.substr(1) : name;
  }
  for (const wabt::Export* export_ : module.exports) {
    if (export_->kind != wabt::ExternalKind::Func) continue;
    std::string& name = names[export_->var.index()];
    if (name.empty()) name = export_->name;
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) names[i] = "func[" + std::to_string(i) + "]";
  }
  return names;
}

// Indices of everything the rewrite adds, and the shift of defined functions.
struct Runtime {
  Index first_defined_func = 0;  // original index of the first defined function
  Index fuel_refill = 0;
  Index call_depth_exceeded = 0;
  Index fuel = 0;
  Index depth = 0;
  Index function = 0;
  std::uint32_t max_call_depth = 0;

  Index NewFuncIndex(Index original) const {
    return original < first_defined_func ? original : original + 2;
  }
};

Index FindOrAddFuncType(wabt::Module& module, const wabt::TypeVector& params,
                        const wabt::TypeVector& results) {
  for (Index i = 0; i < module.types.size(); ++i) {
    const auto* type = wabt::dyn_cast<wabt::FuncType>(module.types[i]);
    if (type && type->sig.param_types == params && type->sig.result_types == results) return i;
  }
  auto field = std::make_unique<wabt::TypeModuleField>();
  auto type = std::make_unique<wabt::FuncType>();
  type->sig.param_types = params;
  type->sig.result_types = results;
  field->type = std::move(type);
  module.AppendField(std::move(field));
  return static_cast<Index>(module.types.size() - 1);
}

// Function imports go after the existing ones, so only defined functions
// shift (Module::AppendField would put them after the defined functions).
Index AddFuncImport(wabt::Module& module, std::string_view name, Index type_index) {
  auto import = std::make_unique<wabt::FuncImport>();
  import->module_name = kHostModule;
  import->field_name = name;
  import->func.decl.has_func_type = true;
  import->func.decl.type_var = IndexVar(type_index);
  import->func.decl.sig = wabt::cast<wabt::FuncType>(module.types[type_index])->sig;
  const Index index = module.num_func_imports++;
  module.funcs.insert(module.funcs.begin() + index, &import->func);
  module.imports.push_back(import.get());
  module.fields.push_back(std::make_unique<wabt::ImportModuleField>(std::move(import)));
  return index;
}

Index AddGlobal(wabt::Module& module, wabt::Type type, wabt::Const init) {
  auto field = std::make_unique<wabt::GlobalModuleField>();
  field->global.type = type;
  field->global.mutable_ = true;
  field->global.init_expr.push_back(std::make_unique<wabt::ConstExpr>(init));
  module.AppendField(std::move(field));
  return static_cast<Index>(module.globals.size() - 1);
}

void AddGlobalExport(wabt::Module& module, std::string_view name, Index global) {
  auto field = std::make_unique<wabt::ExportModuleField>();
  field->export_.name = name;
  field->export_.kind = wabt::ExternalKind::Global;
  field->export_.var = IndexVar(global);
  module.AppendField(std::move(field));
}

void RenumberRefFuncs(wabt::ExprList& exprs, const Runtime& rt) {
  for (wabt::Expr& expr : exprs) {
    if (auto* ref = wabt::dyn_cast<wabt::RefFuncExpr>(&expr)) {
      ref->var.set_index(rt.NewFuncIndex(ref->var.index()));
    }
  }
}

// Adds the imports and globals and renumbers every function reference
// outside function bodies (those are renumbered while they are rewritten).
Runtime AddRuntime(wabt::Module& module, const InstrumentOptions& options) {
  Runtime rt;
  rt.max_call_depth = options.max_call_depth;
  rt.first_defined_func = module.num_func_imports;
  const Index refill_type = FindOrAddFuncType(module, {wabt::Type::I64}, {wabt::Type::I64});
  const Index depth_type = FindOrAddFuncType(module, {}, {});
  rt.fuel_refill = AddFuncImport(module, kFuelRefillImport, refill_type);
  rt.call_depth_exceeded = AddFuncImport(module, kCallDepthImport, depth_type);

  for (auto& [name, binding] : module.func_bindings) {
    binding.index = rt.NewFuncIndex(binding.index);
  }
  for (wabt::Export* export_ : module.exports) {
    if (export_->kind == wabt::ExternalKind::Func) {
      export_->var.set_index(rt.NewFuncIndex(export_->var.index()));
    }
  }
  for (wabt::Var* start : module.starts) start->set_index(rt.NewFuncIndex(start->index()));
  for (wabt::ElemSegment* segment : module.elem_segments) {
    for (wabt::ExprList& exprs : segment->elem_exprs) RenumberRefFuncs(exprs, rt);
  }
  for (wabt::Global* global : module.globals) RenumberRefFuncs(global->init_expr, rt);

  rt.fuel = AddGlobal(module, wabt::Type::I64, wabt::Const::I64(0));
  rt.depth = AddGlobal(module, wabt::Type::I32, wabt::Const::I32(0));
  rt.function = AddGlobal(module, wabt::Type::I32, wabt::Const::I32(~0u));
  AddGlobalExport(module, kFuelGlobal, rt.fuel);
  AddGlobalExport(module, kDepthGlobal, rt.depth);
  AddGlobalExport(module, kFunctionGlobal, rt.function);
  return rt;
}

// Small builders for the injected code.
template <class E, class... Args>
void Emit(wabt::ExprList& out, Args&&... args) {
  out.push_back(std::make_unique<E>(std::forward<Args>(args)...));
}

// global = global `op` 1, for an i32 global.
void EmitStepByOne(wabt::ExprList& out, Index global, wabt::Opcode op) {
  Emit<wabt::GlobalGetExpr>(out, IndexVar(global));
  Emit<wabt::ConstExpr>(out, wabt::Const::I32(1));
  Emit<wabt::BinaryExpr>(out, op);
  Emit<wabt::GlobalSetExpr>(out, IndexVar(global));
}

wabt::ExprList FuelCharge(const Runtime& rt, std::uint64_t amount) {
  wabt::ExprList out;
  Emit<wabt::GlobalGetExpr>(out, IndexVar(rt.fuel));
  Emit<wabt::ConstExpr>(out, wabt::Const::I64(amount));
  Emit<wabt::BinaryExpr>(out, wabt::Opcode::I64Sub);
  Emit<wabt::GlobalSetExpr>(out, IndexVar(rt.fuel));
  Emit<wabt::GlobalGetExpr>(out, IndexVar(rt.fuel));
  Emit<wabt::ConstExpr>(out, wabt::Const::I64(0));
  Emit<wabt::CompareExpr>(out, wabt::Opcode::I64LtS);
  auto refill = std::make_unique<wabt::IfExpr>();
  Emit<wabt::GlobalGetExpr>(refill->true_.exprs, IndexVar(rt.fuel));
  Emit<wabt::CallExpr>(refill->true_.exprs, IndexVar(rt.fuel_refill));
  Emit<wabt::GlobalSetExpr>(refill->true_.exprs, IndexVar(rt.fuel));
  out.push_back(std::move(refill));
  return out;
}

wabt::ExprList DepthDecrement(const Runtime& rt) {
  wabt::ExprList out;
  EmitStepByOne(out, rt.depth, wabt::Opcode::I32Sub);
  return out;
}

wabt::ExprList SetFunction(const Runtime& rt, Index func) {
  wabt::ExprList out;
  Emit<wabt::ConstExpr>(out, wabt::Const::I32(func));
  Emit<wabt::GlobalSetExpr>(out, IndexVar(rt.function));
  return out;
}

// Rewrites one function body.
class BodyRewriter {
 public:
  BodyRewriter(const Runtime& rt, Index func) : rt_(rt), func_(func) {}

  // Instruments `exprs` in place and returns how many of its original
  // instructions lie outside loops (nested loops count as one).
  std::uint64_t Rewrite(wabt::ExprList& exprs) {
    std::uint64_t count = 0;
    for (auto it = exprs.begin(); it != exprs.end(); ++it) {
      ++count;
      count += RewriteOne(exprs, it);
    }
    return count;
  }

 private:
  // Returns the instructions nested in *it that the enclosing list pays for.
  std::uint64_t RewriteOne(wabt::ExprList& exprs, wabt::ExprList::iterator& it) {
    wabt::Expr& expr = *it;
    switch (expr.type()) {
      case wabt::ExprType::Block:
        return Rewrite(wabt::cast<wabt::BlockExpr>(&expr)->block.exprs);
      case wabt::ExprType::If: {
        auto* if_expr = wabt::cast<wabt::IfExpr>(&expr);
        return Rewrite(if_expr->true_.exprs) + Rewrite(if_expr->false_);
      }
      case wabt::ExprType::Loop: {
        wabt::ExprList& body = wabt::cast<wabt::LoopExpr>(&expr)->block.exprs;
        const std::uint64_t per_iteration = Rewrite(body);
        if (per_iteration > 0) body.splice(body.begin(), FuelCharge(rt_, per_iteration));
        return 0;
      }
      case wabt::ExprType::Call: {
        wabt::Var& callee = wabt::cast<wabt::CallExpr>(&expr)->var;
        callee.set_index(rt_.NewFuncIndex(callee.index()));
        InsertAfter(exprs, it, SetFunction(rt_, func_));
        return 0;
      }
      case wabt::ExprType::CallIndirect:
      case wabt::ExprType::CallRef:
        InsertAfter(exprs, it, SetFunction(rt_, func_));
        return 0;
      case wabt::ExprType::RefFunc: {
        wabt::Var& target = wabt::cast<wabt::RefFuncExpr>(&expr)->var;
        target.set_index(rt_.NewFuncIndex(target.index()));
        return 0;
      }
      case wabt::ExprType::Return:
        exprs.splice(it, DepthDecrement(rt_));
        return 0;
      default:
        return 0;
    }
  }

  // Leaves `it` on the last inserted expression so the caller skips them.
  static void InsertAfter(wabt::ExprList& exprs, wabt::ExprList::iterator& it,
                          wabt::ExprList inserted) {
    auto next = std::next(it);
    exprs.splice(next, inserted);
    it = std::prev(next);
  }

  const Runtime& rt_;
  const Index func_;
};

// Entry: attribution, fuel, depth check; then the original body in a block
// of the function's result type, so branches to the function label land
// before the depth decrement.
void InstrumentFunction(wabt::Module& module, wabt::Func& func, Index index, const Runtime& rt) {
  wabt::ExprList body = std::move(func.exprs);
  const std::uint64_t cost = BodyRewriter(rt, index).Rewrite(body);

  wabt::ExprList out = SetFunction(rt, index);
  out.splice(out.end(), FuelCharge(rt, std::max<std::uint64_t>(cost, 1)));
  EmitStepByOne(out, rt.depth, wabt::Opcode::I32Add);
  Emit<wabt::GlobalGetExpr>(out, IndexVar(rt.depth));
  Emit<wabt::ConstExpr>(out, wabt::Const::I32(rt.max_call_depth));
  Emit<wabt::CompareExpr>(out, wabt::Opcode::I32GtU);
  auto overflow = std::make_unique<wabt::IfExpr>();
  Emit<wabt::CallExpr>(overflow->true_.exprs, IndexVar(rt.call_depth_exceeded));
  out.push_back(std::move(overflow));

  auto wrapper = std::make_unique<wabt::BlockExpr>();
  const wabt::TypeVector& results = func.decl.sig.result_types;
  wrapper->block.decl.sig.result_types = results;
  if (results.size() > 1) {
    wrapper->block.decl.has_func_type = true;
    wrapper->block.decl.type_var = IndexVar(FindOrAddFuncType(module, {}, results));
  }
  wrapper->block.exprs = std::move(body);
  out.push_back(std::move(wrapper));
  out.splice(out.end(), DepthDecrement(rt));
  func.exprs = std::move(out);
}

Result<std::vector<std::uint8_t>, Failure> Encode(const wabt::Module& module) {
  wabt::MemoryStream stream;
  const wabt::WriteBinaryOptions options(SupportedFeatures(), /*canonicalize_lebs=*/true,
                                         /*relocatable=*/false, /*write_debug_names=*/true);
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, &module, options))) {
    return Refuse(RunStatus::kInternalError, "could not encode the instrumented module");
  }
  return std::move(stream.output_buffer().data);
}

}  // namespace

Result<InstrumentedModule, Failure> Instrument(std::span<const std::uint8_t> wasm,
                                               const InstrumentOptions& options) {
  auto decoded = DecodeAndValidate(wasm);
  if (!decoded) return Fail(std::move(decoded).error());
  wabt::Module& module = **decoded;
  if (auto checked = CheckReservedNames(module); !checked) return Fail(std::move(checked).error());
  if (auto capped = ApplyCaps(module, options); !capped) return Fail(std::move(capped).error());

  std::vector<std::string> names = OriginalFunctionNames(module);
  const Runtime rt = AddRuntime(module, options);
  names.insert(names.begin() + rt.first_defined_func,
               {std::string(kHostModule) + "." + std::string(kFuelRefillImport),
                std::string(kHostModule) + "." + std::string(kCallDepthImport)});
  for (Index i = rt.call_depth_exceeded + 1; i < module.funcs.size(); ++i) {
    InstrumentFunction(module, *module.funcs[i], i, rt);
  }

  auto encoded = Encode(module);
  if (!encoded) return Fail(std::move(encoded).error());
  return InstrumentedModule{std::move(encoded).value(), std::move(names)};
}

}  // namespace milf::wasm
