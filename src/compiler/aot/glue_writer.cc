#include "compiler/aot/glue_writer.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "wabt/cast.h"

namespace milf::aot {
namespace {

// How a WebAssembly value type looks in wasm2c's C and crosses the ABI.
struct CType {
  std::string_view name;  // C type in wasm2c's output
  char mangle;            // letter in wasm2c's multi-value struct names
  std::uint32_t code;     // wasm_rt_type_t
};

std::optional<CType> CTypeOf(wabt::Type type) {
  switch (type) {
    case wabt::Type::I32: return CType{"u32", 'i', 0};
    case wabt::Type::I64: return CType{"u64", 'j', 1};
    case wabt::Type::F32: return CType{"f32", 'f', 2};
    case wabt::Type::F64: return CType{"f64", 'd', 3};
    case wabt::Type::FuncRef: return CType{"wasm_rt_funcref_t", 0, 4};
    case wabt::Type::ExternRef: return CType{"wasm_rt_externref_t", 0, 5};
    default: return std::nullopt;
  }
}

// `expr` of `type` as the 64 bits of a milf_aot_value.
std::string Encode(wabt::Type type, const std::string& expr) {
  switch (type) {
    case wabt::Type::F32: return fmt::format("milf_f32_bits({})", expr);
    case wabt::Type::F64: return fmt::format("milf_f64_bits({})", expr);
    case wabt::Type::FuncRef: return fmt::format("milf_funcref_bits(engine, {})", expr);
    case wabt::Type::ExternRef: return fmt::format("milf_externref_bits({})", expr);
    default: return fmt::format("(uint64_t)({})", expr);
  }
}

std::string Decode(wabt::Type type, const std::string& bits) {
  switch (type) {
    case wabt::Type::I32: return fmt::format("(u32)({})", bits);
    case wabt::Type::F32: return fmt::format("milf_bits_f32({})", bits);
    case wabt::Type::F64: return fmt::format("milf_bits_f64({})", bits);
    case wabt::Type::FuncRef: return fmt::format("milf_bits_funcref(engine, {})", bits);
    case wabt::Type::ExternRef: return fmt::format("milf_bits_externref({})", bits);
    default: return fmt::format("(u64)({})", bits);
  }
}

std::string ResultType(const wabt::TypeVector& results) {
  if (results.empty()) return "void";
  if (results.size() == 1) return std::string(CTypeOf(results[0])->name);
  std::string name = "struct wasm_multi_";
  for (const wabt::Type type : results) name += CTypeOf(type)->mangle;
  return name;
}

std::string MultiField(const wabt::TypeVector& results, std::size_t i) {
  return fmt::format("{}{}", CTypeOf(results[i])->mangle, i);
}

// A C string literal holding exactly `bytes` (names may contain any byte).
std::string CString(std::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= '0' && byte <= '9') || byte == '_' || byte == '.' || byte == '-' || byte == ' ') {
      out += c;
    } else {
      out += fmt::format("\\{:03o}", byte);
    }
  }
  return out + "\"";
}

Result<void, std::string> CheckTypes(const wabt::TypeVector& types, bool multi_result) {
  for (const wabt::Type type : types) {
    if (type == wabt::Type::V128) return Fail(std::string("SIMD (v128) is not supported by wasm2c 1.0.32"));
    const auto ctype = CTypeOf(type);
    if (!ctype) return Fail("value type " + std::string(type.GetName()) + " is not supported");
    if (multi_result && ctype->mangle == 0) {
      return Fail(std::string("multiple results holding references are not supported by wasm2c 1.0.32"));
    }
  }
  return {};
}

bool IsSimdOpcode(wabt::Opcode opcode) { return opcode.HasPrefix() && opcode.GetPrefix() == 0xfd; }

// Whether any instruction of `exprs` is a SIMD one (wasm2c 1.0.32 aborts on
// them rather than failing).
bool UsesSimd(const wabt::ExprList& exprs) {
  for (const wabt::Expr& expr : exprs) {
    switch (expr.type()) {
      case wabt::ExprType::SimdLaneOp:
      case wabt::ExprType::SimdLoadLane:
      case wabt::ExprType::SimdStoreLane:
      case wabt::ExprType::SimdShuffleOp:
      case wabt::ExprType::LoadSplat:
      case wabt::ExprType::LoadZero:
      case wabt::ExprType::Ternary:
        return true;
      case wabt::ExprType::Const:
        if (wabt::cast<wabt::ConstExpr>(&expr)->const_.type() == wabt::Type::V128) return true;
        break;
      case wabt::ExprType::Binary:
        if (IsSimdOpcode(wabt::cast<wabt::BinaryExpr>(&expr)->opcode)) return true;
        break;
      case wabt::ExprType::Compare:
        if (IsSimdOpcode(wabt::cast<wabt::CompareExpr>(&expr)->opcode)) return true;
        break;
      case wabt::ExprType::Convert:
        if (IsSimdOpcode(wabt::cast<wabt::ConvertExpr>(&expr)->opcode)) return true;
        break;
      case wabt::ExprType::Unary:
        if (IsSimdOpcode(wabt::cast<wabt::UnaryExpr>(&expr)->opcode)) return true;
        break;
      case wabt::ExprType::Load:
        if (IsSimdOpcode(wabt::cast<wabt::LoadExpr>(&expr)->opcode)) return true;
        break;
      case wabt::ExprType::Store:
        if (IsSimdOpcode(wabt::cast<wabt::StoreExpr>(&expr)->opcode)) return true;
        break;
      case wabt::ExprType::Block:
        if (UsesSimd(wabt::cast<wabt::BlockExpr>(&expr)->block.exprs)) return true;
        break;
      case wabt::ExprType::Loop:
        if (UsesSimd(wabt::cast<wabt::LoopExpr>(&expr)->block.exprs)) return true;
        break;
      case wabt::ExprType::If: {
        const auto* branch = wabt::cast<wabt::IfExpr>(&expr);
        if (UsesSimd(branch->true_.exprs) || UsesSimd(branch->false_)) return true;
        break;
      }
      default: break;
    }
  }
  return false;
}

Result<void, std::string> CheckModule(const wabt::Module& module) {
  for (const wabt::TypeEntry* entry : module.types) {
    const auto* type = wabt::dyn_cast<wabt::FuncType>(entry);
    if (type == nullptr) return Fail(std::string("non-function types are not supported"));
    if (auto ok = CheckTypes(type->sig.param_types, false); !ok) return ok;
    if (auto ok = CheckTypes(type->sig.result_types, type->sig.result_types.size() > 1); !ok) {
      return ok;
    }
  }
  for (const wabt::Func* func : module.funcs) {
    for (const wabt::Type type : func->local_types) {
      if (auto ok = CheckTypes({type}, false); !ok) return ok;
    }
    if (UsesSimd(func->exprs)) return Fail(std::string("SIMD is not supported by wasm2c 1.0.32"));
  }
  for (const wabt::Global* global : module.globals) {
    if (auto ok = CheckTypes({global->type}, false); !ok) return ok;
  }
  if (!module.tags.empty()) return Fail(std::string("exception tags are not supported"));
  if (module.memories.size() > 1) return Fail(std::string("multiple memories are not supported"));
  return {};
}

constexpr std::string_view kGluePrelude = R"(/* Generated by MILF's AOT glue writer; see src/compiler/aot/glue_writer.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "aot_abi.h"
#include "module.h"

#define MILF_EXPORT __attribute__((visibility("default")))
#define MILF_HEADER(instance) \
  ((struct milf_aot_instance_header*)((char*)(instance) - MILF_AOT_HEADER_BYTES))

_Static_assert(sizeof(struct milf_aot_instance_header) == MILF_AOT_HEADER_BYTES,
               "instance header size");

static const struct milf_aot_host* g_host;

static inline uint64_t milf_f32_bits(f32 v) { uint32_t b; memcpy(&b, &v, 4); return b; }
static inline uint64_t milf_f64_bits(f64 v) { uint64_t b; memcpy(&b, &v, 8); return b; }
static inline f32 milf_bits_f32(uint64_t bits) {
  uint32_t b = (uint32_t)bits;
  f32 v;
  memcpy(&v, &b, 4);
  return v;
}
static inline f64 milf_bits_f64(uint64_t bits) { f64 v; memcpy(&v, &bits, 8); return v; }
static inline uint64_t milf_funcref_bits(void* engine, wasm_rt_funcref_t ref) {
  return g_host->funcref_to_handle(engine, &ref);
}
static inline wasm_rt_funcref_t milf_bits_funcref(void* engine, uint64_t bits) {
  wasm_rt_funcref_t ref = wasm_rt_funcref_null_value;
  if (bits != 0) g_host->handle_to_funcref(engine, bits, &ref);
  return ref;
}
static inline uint64_t milf_externref_bits(wasm_rt_externref_t ref) {
  return (uint64_t)(uintptr_t)ref;
}
static inline wasm_rt_externref_t milf_bits_externref(uint64_t bits) {
  return (wasm_rt_externref_t)(uintptr_t)bits;
}

static inline const struct milf_aot_instance_header* milf_env_header(const void* p) {
  return (*(struct milf_aot_env* const*)p)->header;
}

static void milf_call_host(const struct milf_aot_instance_header* h, uint32_t index,
                           const milf_aot_value* args, milf_aot_value* results) {
  int code = g_host->call_host(h->host_instance, index, args, results);
  if (code != 0) g_host->unwind(code);
}

/* wasm-rt interposers: runtime_tu.c renames Debian's definitions. */
void milf_aot_on_trap(wasm_rt_trap_t code) __attribute__((noreturn));
void milf_aot_on_trap(wasm_rt_trap_t code) { g_host->unwind((int)code); }

uint32_t wasm_rt_register_func_type(uint32_t param_count, uint32_t result_count, ...) {
  uint32_t types[param_count + result_count + 1];
  va_list args;
  va_start(args, result_count);
  for (uint32_t i = 0; i < param_count + result_count; ++i) {
    types[i] = (uint32_t)va_arg(args, wasm_rt_type_t);
  }
  va_end(args);
  return g_host->register_func_type(param_count, result_count, types);
}

void milf_rt_allocate_memory_impl(wasm_rt_memory_t*, uint32_t, uint32_t);
uint32_t milf_rt_grow_memory_impl(wasm_rt_memory_t*, uint32_t);
void milf_rt_allocate_funcref_table_impl(wasm_rt_funcref_table_t*, uint32_t, uint32_t);
void milf_rt_allocate_externref_table_impl(wasm_rt_externref_table_t*, uint32_t, uint32_t);

/* wasm-rt keeps byte sizes in 32 bits, so 65536 pages would wrap to 0. */
#define MILF_MAX_PAGES 65535u

void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages,
                             uint32_t max_pages) {
  if (initial_pages > MILF_MAX_PAGES) g_host->unwind(MILF_AOT_UNWIND_OUT_OF_MEMORY);
  milf_rt_allocate_memory_impl(memory, initial_pages, max_pages);
  if (memory->data == NULL && initial_pages != 0) g_host->unwind(MILF_AOT_UNWIND_OUT_OF_MEMORY);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  if ((uint64_t)memory->pages + delta > MILF_MAX_PAGES) return UINT32_MAX;
  return milf_rt_grow_memory_impl(memory, delta);
}

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* table, uint32_t elements,
                                    uint32_t max_elements) {
  milf_rt_allocate_funcref_table_impl(table, elements, max_elements);
  if (table->data == NULL && elements != 0) g_host->unwind(MILF_AOT_UNWIND_OUT_OF_MEMORY);
}

void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t* table, uint32_t elements,
                                      uint32_t max_elements) {
  milf_rt_allocate_externref_table_impl(table, elements, max_elements);
  if (table->data == NULL && elements != 0) g_host->unwind(MILF_AOT_UNWIND_OUT_OF_MEMORY);
}

typedef void (*milf_body_fn)(void* instance, uint32_t index, const milf_aot_value* args,
                             milf_aot_value* results);

/* Runs `body` with an unwind target pushed: a trap or host stop anywhere
 * below, in this artifact or another, lands here with its code. */
static int milf_guard(milf_body_fn body, void* instance, uint32_t index,
                      const milf_aot_value* args, milf_aot_value* results) {
  jmp_buf target;
  void* previous = g_host->push_unwind(&target);
  int code = setjmp(target);
  if (code == 0) body(instance, index, args, results);
  g_host->pop_unwind(previous);
  return code;
}

)";

constexpr std::string_view kModuleUnit = R"(/* Generated by MILF's AOT glue writer: wasm2c's module.c with a stack check,
 * and the glue, as one translation unit. */
#include <stdint.h>
#include <string.h>

#include "aot_abi.h"

#if !WASM_RT_USE_STACK_DEPTH_COUNT || WASM_RT_MEMCHECK_SIGNAL_HANDLER
#error "artifacts use explicit bounds checks and the stack-floor check"
#endif

static inline uintptr_t milf_stack_pointer(void) {
  uintptr_t sp;
#if defined(__x86_64__)
  __asm__("mov %%rsp, %0" : "=r"(sp));
#elif defined(__aarch64__)
  __asm__("mov %0, sp" : "=r"(sp));
#else
  sp = (uintptr_t)__builtin_frame_address(0);
#endif
  return sp;
}

/* wasm2c's prologue is `if (++wasm_rt_call_stack_depth > MAX) trap` and its
 * epilogue `--wasm_rt_call_stack_depth`. Here the counter is the engine's
 * (milf_aot_stack, reached through the instance header: every function
 * wasm2c emits has its instance in scope as `instance`), and MAX drops to 0
 * when the frame lies below the stack floor, so the prologue traps exactly
 * when the native stack runs short or the depth limit is reached. No global
 * or thread-local state. */
#define MILF_STACK(instance)                                                      \
  (((const struct milf_aot_instance_header*)((const char*)(instance)-MILF_AOT_HEADER_BYTES)) \
       ->stack)
#undef WASM_RT_MAX_CALL_STACK_DEPTH
#define WASM_RT_MAX_CALL_STACK_DEPTH \
  (milf_stack_pointer() < MILF_STACK(instance)->floor ? 0u : MILF_AOT_MAX_CALL_DEPTH)
#define wasm_rt_call_stack_depth (MILF_STACK(instance)->depth)

/* wasm-rt has one code for every out-of-bounds access; the helper a trap
 * comes from tells a table access (funcref_table_get, ...) from a memory one. */
static void milf_trap_in(wasm_rt_trap_t code, const char* where) __attribute__((noreturn, cold));
static void milf_trap_in(wasm_rt_trap_t code, const char* where) {
  if (code == WASM_RT_TRAP_OOB && (strncmp(where, "funcref_table", 13) == 0 ||
                                   strncmp(where, "externref_table", 15) == 0)) {
    code = (wasm_rt_trap_t)MILF_AOT_TRAP_TABLE_OOB;
  }
  wasm_rt_trap(code);
}
#define wasm_rt_trap(code) milf_trap_in(code, __func__)

#ifdef MILF_AOT_UNCHECKED_MEMORY_FOR_BENCHMARKS
/* Benchmarks only, never the engine's default: no bounds checks on loads and
 * stores (what guard pages would cost in steady state), to measure the
 * explicit checks. Out-of-bounds accesses are then undefined behaviour. */
#undef WASM_RT_MEMCHECK_SIGNAL_HANDLER
#define WASM_RT_MEMCHECK_SIGNAL_HANDLER 1
#endif

#include "module.c"
#include "glue.c"
)";

constexpr std::string_view kRuntimeUnit = R"(/* Generated by MILF's AOT glue writer: Debian's wasm-rt-impl.c, with the
 * functions glue.c interposes renamed and traps sent to the host. */
#define wasm_rt_register_func_type milf_rt_unused_register_func_type
#define wasm_rt_allocate_memory milf_rt_allocate_memory_impl
#define wasm_rt_grow_memory milf_rt_grow_memory_impl
#define wasm_rt_allocate_funcref_table milf_rt_allocate_funcref_table_impl
#define wasm_rt_allocate_externref_table milf_rt_allocate_externref_table_impl
#include "wasm-rt.h"

void milf_aot_on_trap(wasm_rt_trap_t code) __attribute__((noreturn));
#define WASM_RT_TRAP_HANDLER milf_aot_on_trap

#include "wasm-rt-impl.c"
)";

// Everything the writer needs about the module, with wasm2c's names.
class Writer {
 public:
  Writer(const wabt::Module& module, std::string_view module_name)
      : module_(module), prefix_(MangleName(module_name)) {}

  Result<std::string, std::string> Write() {
    out_ = std::string(kGluePrelude);
    for (std::size_t i = 0; i < module_.imports.size(); ++i) {
      if (auto ok = WriteImport(i, *module_.imports[i]); !ok) return Fail(ok.error());
    }
    for (std::size_t i = 0; i < module_.exports.size(); ++i) WriteExport(i, *module_.exports[i]);
    WriteDescriptors();
    WriteEntry();
    return std::move(out_);
  }

 private:
  std::string InstanceType() const { return prefix_ + "_instance_t"; }

  // What an import looks like to C: its kind and type, as text.
  static std::string ImportShape(const wabt::Import& import) {
    std::string shape = std::to_string(static_cast<int>(import.kind()));
    if (const auto* func = wabt::dyn_cast<wabt::FuncImport>(&import)) {
      for (const wabt::Type type : func->func.decl.sig.param_types) shape += type.GetName();
      shape += "->";
      for (const wabt::Type type : func->func.decl.sig.result_types) shape += type.GetName();
    } else if (const auto* global = wabt::dyn_cast<wabt::GlobalImport>(&import)) {
      shape += global->global.type.GetName();
    } else if (const auto* table = wabt::dyn_cast<wabt::TableImport>(&import)) {
      shape += table->table.elem_type.GetName();
    }
    return shape;
  }

  // wasm2c gives every import one C symbol named after its module and
  // name, so a name imported twice is one symbol: its thunk or accessor is
  // written once, for the first import (both resolve to the same thing).
  Result<void, std::string> WriteImport(std::size_t index, const wabt::Import& import) {
    const std::string symbol = MangleName(import.module_name) + MangleName(import.field_name);
    const std::string env_type = "struct " + MangleName(import.module_name) + "_instance_t";
    import_modules_.insert(import.module_name);
    const auto [seen, first] = import_symbols_.emplace(symbol, ImportShape(import));
    if (!first) {
      if (seen->second == ImportShape(import)) return {};
      return Fail("\"" + import.module_name + "\" \"" + import.field_name +
                  "\" is imported with two types, which wasm2c 1.0.32 cannot express");
    }
    switch (import.kind()) {
      case wabt::ExternalKind::Func:
        WriteFuncThunk(index, symbol, env_type, wabt::cast<wabt::FuncImport>(&import)->func.decl.sig);
        break;
      case wabt::ExternalKind::Memory:
        WriteAccessor(index, symbol, env_type, "wasm_rt_memory_t*");
        break;
      case wabt::ExternalKind::Table:
        WriteAccessor(index, symbol, env_type,
                      TableType(wabt::cast<wabt::TableImport>(&import)->table.elem_type));
        break;
      case wabt::ExternalKind::Global:
        WriteAccessor(
            index, symbol, env_type,
            std::string(CTypeOf(wabt::cast<wabt::GlobalImport>(&import)->global.type)->name) + "*");
        break;
      default: break;  // tags are refused by CheckModule
    }
    return {};
  }

  static std::string TableType(wabt::Type elem_type) {
    return elem_type == wabt::Type::ExternRef ? "wasm_rt_externref_table_t*"
                                              : "wasm_rt_funcref_table_t*";
  }

  void WriteAccessor(std::size_t index, const std::string& symbol, const std::string& env_type,
                     const std::string& type) {
    out_ += fmt::format("{} {}({}* p) {{\n  return ({})milf_env_header(p)->imports[{}].object;\n}}\n\n",
                        type, symbol, env_type, type, index);
  }

  void WriteFuncThunk(std::size_t index, const std::string& symbol, const std::string& env_type,
                      const wabt::FuncSignature& sig) {
    const std::string result = ResultType(sig.result_types);
    std::string params = env_type + "* p";
    std::string param_types = "void*";
    std::string forward = "slot->func_instance";
    for (std::size_t i = 0; i < sig.param_types.size(); ++i) {
      const std::string_view type = CTypeOf(sig.param_types[i])->name;
      params += fmt::format(", {} a{}", type, i);
      param_types += fmt::format(", {}", type);
      forward += fmt::format(", a{}", i);
    }
    std::string& o = out_;
    o += fmt::format("{} {}({}) {{\n", result, symbol, params);
    o += "  const struct milf_aot_instance_header* h = milf_env_header(p);\n";
    o += fmt::format("  const struct milf_aot_import_slot* slot = &h->imports[{}];\n", index);
    o += "  void* engine = h->engine;\n  (void)engine;\n";
    const std::string direct = fmt::format("(({} (*)({}))slot->func)({})", result, param_types, forward);
    if (result == "void") {
      o += fmt::format("  if (slot->func != NULL) {{\n    {};\n    return;\n  }}\n", direct);
    } else {
      o += fmt::format("  if (slot->func != NULL) return {};\n", direct);
    }
    o += fmt::format("  milf_aot_value args[{}];\n  milf_aot_value results[{}];\n",
                     sig.param_types.size() + 1, sig.result_types.size() + 1);
    for (std::size_t i = 0; i < sig.param_types.size(); ++i) {
      o += fmt::format("  args[{}].bits = {};\n", i, Encode(sig.param_types[i], fmt::format("a{}", i)));
    }
    o += fmt::format("  milf_call_host(h, {}, args, results);\n", index);
    WriteReturn(sig.result_types, result);
    o += "}\n\n";
  }

  void WriteReturn(const wabt::TypeVector& results, const std::string& result_type) {
    if (results.empty()) return;
    if (results.size() == 1) {
      out_ += fmt::format("  return {};\n", Decode(results[0], "results[0].bits"));
      return;
    }
    out_ += fmt::format("  {} out;\n", result_type);
    for (std::size_t i = 0; i < results.size(); ++i) {
      out_ += fmt::format("  out.{} = {};\n", MultiField(results, i),
                          Decode(results[i], fmt::format("results[{}].bits", i)));
    }
    out_ += "  return out;\n";
  }

  void WriteExport(std::size_t index, const wabt::Export& entry) {
    const std::string symbol = prefix_ + MangleName(entry.name);
    ExportRow row;
    row.name = entry.name;
    switch (entry.kind) {
      case wabt::ExternalKind::Func: {
        row.kind = 0;
        row.func = "(wasm_rt_function_ptr_t)&" + symbol;
        row.stub = fmt::format("milf_export_{}", index);
        WriteCallStub(row.stub, symbol, module_.GetFunc(entry.var)->decl.sig);
        break;
      }
      case wabt::ExternalKind::Table: {
        const wabt::Table& table = *module_.GetTable(entry.var);
        row.kind = 1;
        row.type = CTypeOf(table.elem_type)->code;
        row.has_max = table.elem_limits.has_max;
        row.max = table.elem_limits.max;
        row.object = WriteObjectAccessor(index, symbol);
        break;
      }
      case wabt::ExternalKind::Memory: {
        const wabt::Memory& memory = *module_.GetMemory(entry.var);
        row.kind = 2;
        row.has_max = memory.page_limits.has_max;
        row.max = memory.page_limits.max;
        row.object = WriteObjectAccessor(index, symbol);
        break;
      }
      case wabt::ExternalKind::Global: {
        const wabt::Global& global = *module_.GetGlobal(entry.var);
        row.kind = 3;
        row.type = CTypeOf(global.type)->code;
        row.is_mutable = global.mutable_;
        row.object = WriteObjectAccessor(index, symbol);
        break;
      }
      default: break;
    }
    exports_.push_back(std::move(row));
  }

  std::string WriteObjectAccessor(std::size_t index, const std::string& symbol) {
    const std::string name = fmt::format("milf_object_{}", index);
    out_ += fmt::format("static void* {}(void* instance) {{\n  return (void*){}(({}*)instance);\n}}\n\n",
                        name, symbol, InstanceType());
    return name;
  }

  void WriteCallStub(const std::string& name, const std::string& symbol,
                     const wabt::FuncSignature& sig) {
    const std::string result = ResultType(sig.result_types);
    std::string args = fmt::format("({}*)instance", InstanceType());
    for (std::size_t i = 0; i < sig.param_types.size(); ++i) {
      args += ", " + Decode(sig.param_types[i], fmt::format("a[{}].bits", i));
    }
    std::string& o = out_;
    o += fmt::format("static void {}(void* instance, const milf_aot_value* a, milf_aot_value* r) {{\n",
                     name);
    o += "  void* engine = MILF_HEADER(instance)->engine;\n  (void)engine;\n  (void)a;\n  (void)r;\n";
    if (sig.result_types.empty()) {
      o += fmt::format("  {}({});\n", symbol, args);
    } else {
      o += fmt::format("  {} v = {}({});\n", result, symbol, args);
      if (sig.result_types.size() == 1) {
        o += fmt::format("  r[0].bits = {};\n", Encode(sig.result_types[0], "v"));
      } else {
        for (std::size_t i = 0; i < sig.result_types.size(); ++i) {
          o += fmt::format("  r[{}].bits = {};\n", i,
                           Encode(sig.result_types[i], "v." + MultiField(sig.result_types, i)));
        }
      }
    }
    o += "}\n\n";
  }

  void WriteDescriptors() {
    std::string& o = out_;
    o += "static const struct milf_aot_import_desc milf_imports[] = {\n";
    for (const wabt::Import* import : module_.imports) {
      std::uint32_t kind = 0, type = 0, is_mutable = 0, has_max = 0;
      std::uint64_t min = 0, max = 0;
      if (const auto* table = wabt::dyn_cast<wabt::TableImport>(import)) {
        kind = 1;
        type = CTypeOf(table->table.elem_type)->code;
        has_max = table->table.elem_limits.has_max;
        min = table->table.elem_limits.initial;
        max = table->table.elem_limits.max;
      } else if (const auto* memory = wabt::dyn_cast<wabt::MemoryImport>(import)) {
        kind = 2;
        has_max = memory->memory.page_limits.has_max;
        min = memory->memory.page_limits.initial;
        max = memory->memory.page_limits.max;
      } else if (const auto* global = wabt::dyn_cast<wabt::GlobalImport>(import)) {
        kind = 3;
        type = CTypeOf(global->global.type)->code;
        is_mutable = global->global.mutable_;
      }
      o += fmt::format("  {{{}, {}, {}, {}, {}, {}, {}, {}, {}u, {}u}},\n", CString(import->module_name),
                       import->module_name.size(), CString(import->field_name),
                       import->field_name.size(), kind, type, is_mutable, has_max, min, max);
    }
    o += "  {0}\n};\n\n";
    o += "static const struct milf_aot_export_desc milf_exports[] = {\n";
    for (const ExportRow& row : exports_) {
      o += fmt::format("  {{{}, {}, {}, {}, {}, {}, {}u, {}, {}}},\n", CString(row.name), row.name.size(),
                       row.kind, row.type, row.is_mutable, row.has_max, row.max,
                       row.func.empty() ? "NULL" : row.func,
                       row.object.empty() ? "NULL" : row.object);
    }
    o += "  {0}\n};\n\n";
    o += "typedef void (*milf_stub_fn)(void*, const milf_aot_value*, milf_aot_value*);\n";
    o += "static const milf_stub_fn milf_stubs[] = {\n";
    for (const ExportRow& row : exports_) o += "  " + (row.stub.empty() ? "NULL" : row.stub) + ",\n";
    o += "  NULL\n};\n\n";
  }

  void WriteEntry() {
    std::string env_args;
    for (std::size_t i = 0; i < import_modules_.size(); ++i) env_args += ", env";
    std::string& o = out_;
    o += "static void milf_instantiate_body(void* instance, uint32_t index, const milf_aot_value* a,\n"
         "                                  milf_aot_value* r) {\n";
    o += "  void* env = &MILF_HEADER(instance)->env;\n  (void)env;\n";
    o += fmt::format("  {}_instantiate(({}*)instance{});\n}}\n\n", prefix_, InstanceType(), env_args);
    o += "static void milf_call_body(void* instance, uint32_t index, const milf_aot_value* a,\n"
         "                           milf_aot_value* r) {\n  milf_stubs[index](instance, a, r);\n}\n\n";
    o += "static int milf_instantiate(void* instance) {\n"
         "  return milf_guard(milf_instantiate_body, instance, 0, NULL, NULL);\n}\n\n";
    o += "static int milf_call(void* instance, uint32_t index, const milf_aot_value* args,\n"
         "                     milf_aot_value* results) {\n"
         "  return milf_guard(milf_call_body, instance, index, args, results);\n}\n\n";
    o += fmt::format("static void milf_free(void* instance) {{ {}_free(({}*)instance); }}\n\n", prefix_,
                     InstanceType());
    o += fmt::format(
        "static const struct milf_aot_module milf_module = {{\n"
        "  MILF_AOT_ABI_VERSION, sizeof({}), {}, {}, milf_imports, milf_exports,\n"
        "  milf_instantiate, milf_call, milf_free}};\n\n",
        InstanceType(), module_.imports.size(), exports_.size());
    o += "MILF_EXPORT const struct milf_aot_module* milf_aot_load(const struct milf_aot_host* host) {\n"
         "  if (host == NULL || host->abi_version != MILF_AOT_ABI_VERSION) return NULL;\n"
         "  g_host = host;\n";
    o += fmt::format("  {}_init_module();\n", prefix_);
    o += "  return &milf_module;\n}\n";
  }

  struct ExportRow {
    std::string name;
    std::uint32_t kind = 0;
    std::uint32_t type = 0;
    std::uint32_t is_mutable = 0;
    std::uint32_t has_max = 0;
    std::uint64_t max = 0;
    std::string func;    // C expression, functions only
    std::string stub;    // call stub, functions only
    std::string object;  // object accessor, others
  };

  const wabt::Module& module_;
  const std::string prefix_;
  std::string out_;
  std::set<std::string> import_modules_;
  std::map<std::string, std::string> import_symbols_;  // C symbol -> ImportShape
  std::vector<ExportRow> exports_;
};

}  // namespace

std::string MangleName(std::string_view name) {
  std::string result = "Z_";
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    const bool alnum = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                       (byte >= '0' && byte <= '9');
    if ((alnum && byte != 'Z') || byte == '_') {
      result += c;
    } else {
      result += fmt::format("Z{:02X}", byte);
    }
  }
  return result;
}

std::string ChooseModuleName(const wabt::Module& module) {
  std::set<std::string_view> taken;
  for (const wabt::Import* import : module.imports) taken.insert(import->module_name);
  std::string name = "milfaot";
  for (int suffix = 1; taken.count(name) != 0; ++suffix) name = fmt::format("milfaot{}", suffix);
  return name;
}

Result<GlueSources, std::string> WriteGlue(const wabt::Module& module,
                                           std::string_view module_name) {
  if (auto ok = CheckModule(module); !ok) return Fail(ok.error());
  auto glue = Writer(module, module_name).Write();
  if (!glue) return Fail(glue.error());
  return GlueSources{std::move(glue).value(), std::string(kModuleUnit)};
}

std::string_view RuntimeUnitSource() { return kRuntimeUnit; }

bool ApplyElementSegmentsFirst(std::string& module_c) {
  constexpr std::string_view kWasm2cOrder = "  init_memories(instance);\n  init_tables(instance);\n";
  constexpr std::string_view kSpecOrder = "  init_tables(instance);\n  init_memories(instance);\n";
  const auto at = module_c.find(kWasm2cOrder);
  if (at == std::string::npos) return false;
  module_c.replace(at, kWasm2cOrder.size(), kSpecOrder);
  return true;
}

}  // namespace milf::aot
