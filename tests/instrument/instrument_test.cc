// Structural tests of the rewrite: the output is re-read with wabt and its
// imports, globals, function indices and injected code are checked.
#include "wasm/instrument.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "wabt/cast.h"
#include "wabt/ir.h"
#include "wat.h"

namespace milf::wasm {
namespace {

using ::testing::ElementsAre;
using testing::ReadWasm;
using testing::WatToWasm;
using wabt::Index;

InstrumentedModule InstrumentOk(const std::vector<std::uint8_t>& wasm,
                                const InstrumentOptions& options = {}) {
  auto result = Instrument(wasm, options);
  if (!result) {
    ADD_FAILURE() << "Instrument failed: " << result.error().message;
    return {};
  }
  return std::move(result).value();
}

const wabt::Export* FindExport(const wabt::Module& module, std::string_view name) {
  for (const wabt::Export* export_ : module.exports) {
    if (export_->name == name) return export_;
  }
  return nullptr;
}

Index ExportedGlobal(const wabt::Module& module, std::string_view name) {
  const wabt::Export* export_ = FindExport(module, name);
  EXPECT_NE(export_, nullptr) << name;
  if (!export_) return wabt::kInvalidIndex;
  EXPECT_EQ(export_->kind, wabt::ExternalKind::Global);
  return export_->var.index();
}

Index FuncIndex(const wabt::Module& module, std::string_view name) {
  for (Index i = 0; i < module.funcs.size(); ++i) {
    if (module.funcs[i]->name == "$" + std::string(name)) return i;
  }
  ADD_FAILURE() << "no function named " << name;
  return wabt::kInvalidIndex;
}

// A body as text, "; " between instructions and nested bodies in brackets,
// so tests can compare whole injected sequences at once.
std::string Render(const wabt::ExprList& exprs);

std::string RenderOne(const wabt::Expr& expr) {
  switch (expr.type()) {
    case wabt::ExprType::Const: {
      const wabt::Const& value = wabt::cast<wabt::ConstExpr>(&expr)->const_;
      return value.type() == wabt::Type::I64 ? "i64.const " + std::to_string(value.u64())
                                             : "i32.const " + std::to_string(value.u32());
    }
    case wabt::ExprType::GlobalGet:
      return "global.get " + std::to_string(wabt::cast<wabt::GlobalGetExpr>(&expr)->var.index());
    case wabt::ExprType::GlobalSet:
      return "global.set " + std::to_string(wabt::cast<wabt::GlobalSetExpr>(&expr)->var.index());
    case wabt::ExprType::LocalGet:
      return "local.get " + std::to_string(wabt::cast<wabt::LocalGetExpr>(&expr)->var.index());
    case wabt::ExprType::Call:
      return "call " + std::to_string(wabt::cast<wabt::CallExpr>(&expr)->var.index());
    case wabt::ExprType::Br:
      return "br " + std::to_string(wabt::cast<wabt::BrExpr>(&expr)->var.index());
    case wabt::ExprType::Binary:
      return wabt::cast<wabt::BinaryExpr>(&expr)->opcode.GetName();
    case wabt::ExprType::Compare:
      return wabt::cast<wabt::CompareExpr>(&expr)->opcode.GetName();
    case wabt::ExprType::Block:
      return "block[" + Render(wabt::cast<wabt::BlockExpr>(&expr)->block.exprs) + "]";
    case wabt::ExprType::Loop:
      return "loop[" + Render(wabt::cast<wabt::LoopExpr>(&expr)->block.exprs) + "]";
    case wabt::ExprType::If: {
      const auto* if_expr = wabt::cast<wabt::IfExpr>(&expr);
      std::string text = "if[" + Render(if_expr->true_.exprs) + "]";
      if (!if_expr->false_.empty()) text += "else[" + Render(if_expr->false_) + "]";
      return text;
    }
    default:
      return wabt::GetExprTypeName(expr);
  }
}

std::string Render(const wabt::ExprList& exprs) {
  std::string text;
  for (const wabt::Expr& expr : exprs) {
    if (!text.empty()) text += "; ";
    text += RenderOne(expr);
  }
  return text;
}

// The indices the rewrite added, read back from the output.
struct Injected {
  Index fuel_refill = 0;
  Index call_depth_exceeded = 0;
  Index fuel = 0;
  Index depth = 0;
  Index function = 0;
};

Injected FindInjected(const wabt::Module& module) {
  Injected found;
  found.fuel = ExportedGlobal(module, kFuelGlobal);
  found.depth = ExportedGlobal(module, "__milf_depth");
  found.function = ExportedGlobal(module, kFunctionGlobal);
  Index func = 0;
  for (const wabt::Import* import : module.imports) {
    if (import->kind() != wabt::ExternalKind::Func) continue;
    if (import->module_name == kHostModule && import->field_name == kFuelRefillImport) {
      found.fuel_refill = func;
    }
    if (import->module_name == kHostModule && import->field_name == kCallDepthImport) {
      found.call_depth_exceeded = func;
    }
    ++func;
  }
  return found;
}

std::string Charge(const Injected& in, std::uint64_t amount) {
  const std::string fuel = std::to_string(in.fuel);
  return "global.get " + fuel + "; i64.const " + std::to_string(amount) + "; i64.sub; global.set " +
         fuel + "; global.get " + fuel + "; i64.const 0; i64.lt_s; if[global.get " + fuel +
         "; call " + std::to_string(in.fuel_refill) + "; global.set " + fuel + "]";
}

std::string DepthDecrement(const Injected& in) {
  const std::string depth = std::to_string(in.depth);
  return "global.get " + depth + "; i32.const 1; i32.sub; global.set " + depth;
}

std::string Entry(const Injected& in, Index func, std::uint64_t cost, std::uint32_t max_depth) {
  const std::string depth = std::to_string(in.depth);
  return "i32.const " + std::to_string(func) + "; global.set " + std::to_string(in.function) +
         "; " + Charge(in, cost) + "; global.get " + depth + "; i32.const 1; i32.add; global.set " +
         depth + "; global.get " + depth + "; i32.const " + std::to_string(max_depth) +
         "; i32.gt_u; if[call " + std::to_string(in.call_depth_exceeded) + "]";
}

// The block holding the original body: it is followed only by the four
// instructions of the depth decrement.
const wabt::BlockExpr& Wrapper(const wabt::Func& func) {
  return *wabt::cast<wabt::BlockExpr>(&*std::prev(func.exprs.end(), 5));
}

struct ChargeSite {
  int loop_depth;
  std::uint64_t amount;
  bool operator==(const ChargeSite&) const = default;
};

void PrintTo(const ChargeSite& site, std::ostream* os) {
  *os << "{loop depth " << site.loop_depth << ", " << site.amount << "}";
}

void CollectCharges(const wabt::ExprList& exprs, Index fuel, int loop_depth,
                    std::vector<ChargeSite>& out) {
  for (auto it = exprs.begin(); it != exprs.end(); ++it) {
    const auto* get = wabt::dyn_cast<wabt::GlobalGetExpr>(&*it);
    auto next = std::next(it);
    if (get && get->var.index() == fuel && next != exprs.end()) {
      const auto* amount = wabt::dyn_cast<wabt::ConstExpr>(&*next);
      auto after = std::next(next);
      if (amount && after != exprs.end() && wabt::isa<wabt::BinaryExpr>(&*after)) {
        out.push_back({loop_depth, amount->const_.u64()});
      }
    }
    if (const auto* block = wabt::dyn_cast<wabt::BlockExpr>(&*it)) {
      CollectCharges(block->block.exprs, fuel, loop_depth, out);
    } else if (const auto* loop = wabt::dyn_cast<wabt::LoopExpr>(&*it)) {
      CollectCharges(loop->block.exprs, fuel, loop_depth + 1, out);
    } else if (const auto* if_expr = wabt::dyn_cast<wabt::IfExpr>(&*it)) {
      CollectCharges(if_expr->true_.exprs, fuel, loop_depth, out);
      CollectCharges(if_expr->false_, fuel, loop_depth, out);
    }
  }
}

std::vector<ChargeSite> Charges(const wabt::Module& module, std::string_view func) {
  std::vector<ChargeSite> sites;
  CollectCharges(module.funcs[FuncIndex(module, func)]->exprs, FindInjected(module).fuel, 0, sites);
  return sites;
}

TEST(Instrument, AddsHostImportsWithTheirSignatures) {
  const auto out = InstrumentOk(WatToWasm(R"((module (func (export "f"))))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  ASSERT_EQ(module->num_func_imports, 2u);
  const Injected in = FindInjected(*module);
  EXPECT_EQ(in.fuel_refill, 0u);
  EXPECT_EQ(in.call_depth_exceeded, 1u);

  const wabt::FuncSignature& refill = module->funcs[in.fuel_refill]->decl.sig;
  EXPECT_THAT(refill.param_types, ElementsAre(wabt::Type::I64));
  EXPECT_THAT(refill.result_types, ElementsAre(wabt::Type::I64));
  const wabt::FuncSignature& exceeded = module->funcs[in.call_depth_exceeded]->decl.sig;
  EXPECT_TRUE(exceeded.param_types.empty());
  EXPECT_TRUE(exceeded.result_types.empty());
}

TEST(Instrument, AddsMutableGlobalsExportedUnderTheirNames) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (import "env" "g" (global i32))
    (global (mut f32) (f32.const 1))
    (func (export "f"))))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  const Injected in = FindInjected(*module);
  // Appended after the module's own globals, imported and defined.
  EXPECT_EQ(in.fuel, 2u);
  EXPECT_EQ(in.depth, 3u);
  EXPECT_EQ(in.function, 4u);

  const wabt::Global& fuel = *module->globals[in.fuel];
  EXPECT_EQ(fuel.type, wabt::Type::I64);
  EXPECT_TRUE(fuel.mutable_);
  EXPECT_EQ(Render(fuel.init_expr), "i64.const 0");
  const wabt::Global& function = *module->globals[in.function];
  EXPECT_EQ(function.type, wabt::Type::I32);
  EXPECT_TRUE(function.mutable_);
  EXPECT_EQ(Render(function.init_expr), "i32.const 4294967295");
  EXPECT_EQ(Render(module->globals[in.depth]->init_expr), "i32.const 0");
}

TEST(Instrument, RenumbersEveryFunctionReference) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (type $t (func (param i32) (result i32)))
    (import "env" "log" (func $log (param i32)))
    (import "env" "g" (global $g i32))
    (import "env" "mem" (memory 1))
    (import "env" "now" (func $now (result i32)))
    (table $tab 4 funcref)
    (global $fref funcref (ref.func $double))
    (elem (table $tab) (i32.const 0) func $double $triple)
    (elem declare func $start)
    (func $double (type $t) local.get 0 i32.const 2 i32.mul)
    (func $triple (type $t) local.get 0 i32.const 3 i32.mul)
    (func $start (call $log (call $now)) (drop (ref.func $start)))
    (func $dispatch (export "dispatch") (param i32 i32) (result i32)
      local.get 1 local.get 0 call_indirect (type $t))
    (func $direct (export "direct") (result i32) i32.const 5 call $triple)
    (start $start)))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);

  EXPECT_THAT(out.function_names,
              ElementsAre("log", "now", "milf.fuel_refill", "milf.call_depth_exceeded", "double",
                          "triple", "start", "dispatch", "direct"));
  // The name section follows the functions to their new indices.
  EXPECT_EQ(FuncIndex(*module, "log"), 0u);
  EXPECT_EQ(FuncIndex(*module, "now"), 1u);
  EXPECT_EQ(FuncIndex(*module, "double"), 4u);
  EXPECT_EQ(FuncIndex(*module, "direct"), 8u);

  ASSERT_EQ(module->starts.size(), 1u);
  EXPECT_EQ(module->starts[0]->index(), 6u);
  EXPECT_EQ(FindExport(*module, "dispatch")->var.index(), 7u);
  EXPECT_EQ(FindExport(*module, "direct")->var.index(), 8u);
  EXPECT_EQ(Render(module->globals[1]->init_expr), "RefFunc");
  EXPECT_EQ(wabt::cast<wabt::RefFuncExpr>(&module->globals[1]->init_expr.front())->var.index(), 4u);

  std::vector<std::vector<Index>> segments;
  for (const wabt::ElemSegment* segment : module->elem_segments) {
    std::vector<Index> targets;
    for (const wabt::ExprList& expr : segment->elem_exprs) {
      targets.push_back(wabt::cast<wabt::RefFuncExpr>(&expr.front())->var.index());
    }
    segments.push_back(targets);
  }
  EXPECT_THAT(segments, ElementsAre(ElementsAre(4u, 5u), ElementsAre(6u)));

  // Calls to imports keep their index; calls to defined functions shift.
  const std::string start_body = Render(module->funcs[6]->exprs);
  EXPECT_THAT(start_body, ::testing::HasSubstr("call 1; i32.const 6;"));
  EXPECT_THAT(start_body, ::testing::HasSubstr("call 0; i32.const 6;"));
  const std::string direct_body = Render(module->funcs[8]->exprs);
  EXPECT_THAT(direct_body, ::testing::HasSubstr("i32.const 5; call 5; i32.const 8;"));
  std::vector<Index> ref_funcs;
  for (const wabt::Expr& expr : Wrapper(*module->funcs[6]).block.exprs) {
    if (const auto* ref = wabt::dyn_cast<wabt::RefFuncExpr>(&expr)) {
      ref_funcs.push_back(ref->var.index());
    }
  }
  EXPECT_THAT(ref_funcs, ElementsAre(6u));
}

TEST(Instrument, FunctionNamesFallBackToExportsThenOriginalIndices) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (import "env" "f" (func))
    (func (export "exported") (export "second_name"))
    (func)
    (func $named (export "ignored"))))"));
  EXPECT_THAT(out.function_names,
              ElementsAre("func[0]", "milf.fuel_refill", "milf.call_depth_exceeded", "exported",
                          "func[2]", "named"));
}

TEST(Instrument, InjectsTheExactEntryAndExitSequence) {
  const InstrumentOptions options{.max_call_depth = 77};
  const auto out = InstrumentOk(WatToWasm(R"((module
    (func $add (result i32) i32.const 1 i32.const 2 i32.add)))"),
                                options);
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  const Injected in = FindInjected(*module);
  const Index add = FuncIndex(*module, "add");
  EXPECT_EQ(
      Render(module->funcs[add]->exprs),
      Entry(in, add, 3, 77) + "; block[i32.const 1; i32.const 2; i32.add]; " + DepthDecrement(in));
}

TEST(Instrument, ChargesStraightLineCodeAtEntryAndAtLeastOne) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (func $straight (result i32) i32.const 1 i32.const 2 i32.add)
    (func $empty)
    (func $branches (param i32) (result i32)
      block (result i32)
        local.get 0
        if (result i32)
          i32.const 1
        else
          i32.const 2
          i32.const 3
          i32.add
        end
      end)))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  EXPECT_THAT(Charges(*module, "straight"), ElementsAre(ChargeSite{0, 3}));
  EXPECT_THAT(Charges(*module, "empty"), ElementsAre(ChargeSite{0, 1}));
  // block, local.get, if, and both arms: end and else are free.
  EXPECT_THAT(Charges(*module, "branches"), ElementsAre(ChargeSite{0, 7}));
}

TEST(Instrument, ChargesEachLoopBodyAtItsHeader) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (func $count (param i32) (local i32)
      loop $l
        local.get 1 i32.const 1 i32.add local.tee 1
        local.get 0 i32.lt_s br_if $l
      end)
    (func $nested (param i32) (result i32)
      block (result i32)
        local.get 0
        if (result i32)
          i32.const 1
        else
          loop (result i32)
            i32.const 2
            loop
              nop
            end
          end
        end
      end)
    (func $empty_loop loop end)))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  EXPECT_THAT(Charges(*module, "count"), ElementsAre(ChargeSite{0, 1}, ChargeSite{1, 7}));
  EXPECT_THAT(Charges(*module, "nested"),
              ElementsAre(ChargeSite{0, 5}, ChargeSite{1, 2}, ChargeSite{2, 1}));
  // A loop with an empty body cannot iterate, so it charges nothing.
  EXPECT_THAT(Charges(*module, "empty_loop"), ElementsAre(ChargeSite{0, 1}));

  const Injected in = FindInjected(*module);
  const auto& count = *module->funcs[FuncIndex(*module, "count")];
  const auto& loop = *wabt::cast<wabt::LoopExpr>(&Wrapper(count).block.exprs.front());
  EXPECT_EQ(Render(loop.block.exprs),
            Charge(in, 7) +
                "; local.get 1; i32.const 1; i32.add; LocalTee; local.get 0; "
                "i32.lt_s; BrIf");
}

TEST(Instrument, LoopsWithParametersKeepTheirOperandsAcrossTheCharge) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (func $sum (param i32) (result i32)
      i32.const 0
      loop $l (param i32) (result i32)
        local.get 0
        i32.add
        local.get 0
        i32.const 1
        i32.sub
        local.tee 0
        br_if $l
      end)))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  EXPECT_THAT(Charges(*module, "sum"), ElementsAre(ChargeSite{0, 2}, ChargeSite{1, 7}));
}

TEST(Instrument, DecrementsDepthBeforeEveryReturn) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (func $early (param i32) (result i32)
      local.get 0
      if
        i32.const 1
        return
      end
      i32.const 2
      return)))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  const Injected in = FindInjected(*module);
  const std::string body = Render(module->funcs[FuncIndex(*module, "early")]->exprs);
  EXPECT_THAT(body, ::testing::HasSubstr("if[i32.const 1; " + DepthDecrement(in) + "; Return]"));
  EXPECT_THAT(body, ::testing::HasSubstr("i32.const 2; " + DepthDecrement(in) + "; Return]; " +
                                         DepthDecrement(in)));
}

TEST(Instrument, BranchesToTheFunctionLabelLeaveThroughTheWrapperBlock) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (func $leave (param i32) (result i32)
      i32.const 7
      local.get 0
      br_if 0
      drop
      i32.const 8)))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  const Injected in = FindInjected(*module);
  const auto& leave = *module->funcs[FuncIndex(*module, "leave")];
  EXPECT_THAT(Render(leave.exprs),
              ::testing::EndsWith("block[i32.const 7; local.get 0; BrIf; Drop; i32.const 8]; " +
                                  DepthDecrement(in)));
  EXPECT_THAT(Wrapper(leave).block.decl.sig.result_types, ElementsAre(wabt::Type::I32));
}

TEST(Instrument, MultiValueFunctionsGetATypedWrapperBlock) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (func $pair (export "pair") (result i32 i64) i32.const 1 i64.const 2)
    (func $swap (param i32 i64) (result i64 i32) local.get 1 local.get 0)))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  for (std::string_view name : {"pair", "swap"}) {
    const auto& func = *module->funcs[FuncIndex(*module, name)];
    const wabt::BlockExpr& wrapper = Wrapper(func);
    EXPECT_TRUE(wrapper.block.decl.sig.param_types.empty()) << name;
    EXPECT_EQ(wrapper.block.decl.sig.result_types, func.decl.sig.result_types) << name;
  }
}

TEST(Instrument, RestoresTheFunctionGlobalAfterEveryCall) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (type $v (func))
    (table 1 funcref)
    (func $callee)
    (func $caller
      call $callee
      i32.const 0
      call_indirect (type $v)
      block
        call $callee
      end)))"));
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  const Injected in = FindInjected(*module);
  const Index callee = FuncIndex(*module, "callee");
  const Index caller = FuncIndex(*module, "caller");
  const std::string restore =
      "i32.const " + std::to_string(caller) + "; global.set " + std::to_string(in.function);
  EXPECT_THAT(Render(module->funcs[caller]->exprs),
              ::testing::HasSubstr("block[call " + std::to_string(callee) + "; " + restore +
                                   "; i32.const 0; CallIndirect; " + restore + "; block[call " +
                                   std::to_string(callee) + "; " + restore + "]]"));
}

TEST(Instrument, LowersMemoryMaximumsToTheCap) {
  const InstrumentOptions options{.max_memory_pages = 10};
  const struct {
    const char* wat;
    std::uint64_t initial;
    std::uint64_t max;
  } cases[] = {
      {"(module (memory 1))", 1, 10},
      {"(module (memory 2 5))", 2, 5},
      {"(module (memory 3 50))", 3, 10},
      {"(module (memory 10 10))", 10, 10},
  };
  for (const auto& c : cases) {
    auto module = ReadWasm(InstrumentOk(WatToWasm(c.wat), options).wasm);
    ASSERT_NE(module, nullptr) << c.wat;
    ASSERT_EQ(module->memories.size(), 1u);
    const wabt::Limits& limits = module->memories[0]->page_limits;
    EXPECT_EQ(limits.initial, c.initial) << c.wat;
    EXPECT_TRUE(limits.has_max) << c.wat;
    EXPECT_EQ(limits.max, c.max) << c.wat;
  }
}

TEST(Instrument, MemoryCapNeverExceedsFourGibibytes) {
  const InstrumentOptions options{.max_memory_pages = 100'000};
  auto module = ReadWasm(InstrumentOk(WatToWasm("(module (memory 1))"), options).wasm);
  ASSERT_NE(module, nullptr);
  EXPECT_EQ(module->memories[0]->page_limits.max, 65'536u);
}

TEST(Instrument, LeavesImportedMemoryAlone) {
  const InstrumentOptions options{.max_memory_pages = 10};
  auto module =
      ReadWasm(InstrumentOk(WatToWasm(R"((module (import "env" "m" (memory 20))))"), options).wasm);
  ASSERT_NE(module, nullptr);
  ASSERT_EQ(module->memories.size(), 1u);
  // The host created it and already applied its own limits.
  EXPECT_EQ(module->memories[0]->page_limits.initial, 20u);
  EXPECT_FALSE(module->memories[0]->page_limits.has_max);
}

TEST(Instrument, RefusesMemoryWhoseMinimumExceedsTheCap) {
  const InstrumentOptions options{.max_memory_pages = 10};
  const auto result = Instrument(WatToWasm("(module (memory 11))"), options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, RunStatus::kMemoryLimit);
  EXPECT_EQ(result.error().message, "module needs 11 pages of memory, the limit is 10");
  EXPECT_TRUE(Instrument(WatToWasm("(module (memory 10))"), options));
}

TEST(Instrument, LowersTableMaximumsToTheCap) {
  const InstrumentOptions options{.max_table_elements = 100};
  const auto out = InstrumentOk(WatToWasm(R"((module
    (import "env" "t" (table 500 funcref))
    (table 1 funcref)
    (table 2 30 externref)
    (table 3 1000 funcref)))"),
                                options);
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  ASSERT_EQ(module->tables.size(), 4u);
  EXPECT_EQ(module->tables[0]->elem_limits.initial, 500u);
  EXPECT_FALSE(module->tables[0]->elem_limits.has_max);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> defined;
  for (Index i = 1; i < 4; ++i) {
    const wabt::Limits& limits = module->tables[i]->elem_limits;
    EXPECT_TRUE(limits.has_max);
    defined.emplace_back(limits.initial, limits.max);
  }
  EXPECT_THAT(defined, ElementsAre(std::pair{1u, 100u}, std::pair{2u, 30u}, std::pair{3u, 100u}));
}

TEST(Instrument, RefusesTableWhoseMinimumExceedsTheCap) {
  const InstrumentOptions options{.max_table_elements = 100};
  const auto result = Instrument(WatToWasm("(module (table 101 funcref))"), options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, RunStatus::kTableLimit);
  EXPECT_EQ(result.error().message, "module needs 101 table elements, the limit is 100");
}

// Every proposal MILF accepts, in the places that carry types: the output
// must still validate.
TEST(Instrument, AcceptsEveryProposalMilfSupports) {
  const auto out = InstrumentOk(WatToWasm(R"((module
    (type $bin (func (param i32 i32) (result i32)))
    (import "env" "f" (func $f (param i32) (result i32)))
    (import "env" "t" (table 2 funcref))
    (import "env" "g" (global $g (mut i64)))
    (memory 1 2)
    (table $tab 4 10 funcref)
    (table $ext 2 externref)
    (global $r (mut funcref) (ref.func $add))
    (global $v (mut v128) (v128.const i32x4 1 2 3 4))
    (data $d "hello")
    (elem $e func $add $sub)
    (elem (table $tab) (i32.const 0) funcref (ref.func $add) (ref.null func))
    (func $add (type $bin) local.get 0 local.get 1 i32.add)
    (func $sub (type $bin) local.get 0 local.get 1 i32.sub)
    (func $multi (param i32) (result i32 i64 f32) (local externref v128)
      local.get 0 i64.const 2 f32.const 3
      block (param i32 i64 f32) (result i32 i64 f32) end)
    (func $simd (param v128) (result v128)
      local.get 0 global.get $v i32x4.add
      v128.const i32x4 0 0 0 0
      i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    (func $bulk (param i32)
      (memory.init $d (local.get 0) (i32.const 0) (i32.const 5))
      (data.drop $d)
      (memory.copy (i32.const 0) (i32.const 1) (i32.const 2))
      (memory.fill (i32.const 0) (i32.const 0) (i32.const 3))
      (table.init $tab $e (i32.const 0) (i32.const 0) (i32.const 2))
      (elem.drop $e)
      (table.copy $tab $tab (i32.const 0) (i32.const 1) (i32.const 1))
      (drop (table.grow $tab (ref.null func) (i32.const 1)))
      (drop (table.size $ext))
      (table.fill $tab (i32.const 0) (ref.func $sub) (i32.const 1))
      (drop (ref.is_null (table.get $ext (i32.const 0)))))
    (func $conv (param f64) (result i32 i64)
      local.get 0 i32.trunc_sat_f64_s local.get 0 i64.trunc_sat_f64_u i64.extend32_s)
    (func $pick (param i32) (result externref)
      (select (result externref) (ref.null extern) (ref.null extern) (local.get 0)))
    (func $start (global.set $g (i64.const 9)))
    (start $start)))"));
  EXPECT_NE(ReadWasm(out.wasm), nullptr);
}

TEST(Instrument, IsDeterministic) {
  const auto wasm = WatToWasm(R"((module
    (func $a (export "a") (param i32) (result i32)
      loop (result i32) local.get 0 call $b end)
    (func $b (param i32) (result i32) local.get 0)))");
  const auto first = InstrumentOk(wasm);
  const auto second = InstrumentOk(wasm);
  EXPECT_EQ(first.wasm, second.wasm);
  EXPECT_EQ(first.function_names, second.function_names);
}

TEST(Instrument, RealClangModule) {
  const auto wasm = testing::ReadFileBytes(MILF_INSTRUMENT_SAMPLE_WASM);
  ASSERT_FALSE(wasm.empty());
  const auto out = InstrumentOk(wasm);
  auto module = ReadWasm(out.wasm);
  ASSERT_NE(module, nullptr);
  ASSERT_EQ(out.function_names.size(), module->funcs.size());
  for (Index i = 0; i < module->funcs.size(); ++i) {
    const std::string& name = module->funcs[i]->name;
    if (!name.empty()) {
      EXPECT_EQ("$" + out.function_names[i], name);
    }
  }
  const wabt::Export* start = FindExport(*module, "_start");
  ASSERT_NE(start, nullptr);
  // wasm-ld exports a wrapper of _start under that name.
  EXPECT_EQ(out.function_names[start->var.index()], "_start.command_export");
  EXPECT_THAT(out.function_names, ::testing::IsSupersetOf({"fib", "main", "apply", "square"}));
  EXPECT_EQ(InstrumentOk(wasm).wasm, out.wasm);
}

}  // namespace
}  // namespace milf::wasm
