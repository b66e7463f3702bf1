// GlueWriter: the C sources that turn wasm2c's output for one module into an
// AOT artifact speaking aot_abi.h. Pure text generation from the module's IR;
// no I/O.
//
// wasm2c (wabt 1.0.32) emits module.c and module.h. Beside them the artifact
// is built from:
//  - glue.c: one thunk per imported function, forwarding to a direct callee
//    or to the host dispatcher; accessors for imported tables, memories and
//    globals; one call stub per exported function; the import and export
//    descriptors; the setjmp guard that turns a trap into a return code;
//    wasm-rt interposers (shared type registry, allocation checks); and the
//    entry point milf_aot_load.
//  - module_tu.c: includes module.c after redefining wasm-rt's call-depth
//    counter as a stack-pointer check against the instance's stack floor, so
//    deep recursion traps ("call stack exhausted") instead of overflowing
//    the native stack, with no global or thread-local counter; then glue.c,
//    so that one compiler run builds both.
//  - runtime_tu.c: includes Debian's wasm-rt-impl.c with traps routed to the
//    host's unwinder and the interposed functions renamed out of the way.
//
// Thread-safety: the functions are pure and may run concurrently.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "wabt/ir.h"

namespace milf::aot {

// File names the sources refer to each other by.
inline constexpr std::string_view kModuleSourceName = "module.c";
inline constexpr std::string_view kModuleHeaderName = "module.h";
inline constexpr std::string_view kAbiHeaderName = "aot_abi.h";
inline constexpr std::string_view kGlueSourceName = "glue.c";
inline constexpr std::string_view kModuleUnitName = "module_tu.c";
inline constexpr std::string_view kRuntimeUnitName = "runtime_tu.c";

struct GlueSources {
  std::string glue;         // glue.c
  std::string module_unit;  // module_tu.c (includes module.c and glue.c)
};

// wasm2c 1.0.32's symbol mangling: "Z_", then every byte that is an ASCII
// letter or digit other than 'Z', or '_', as itself, any other as "Z%02X".
std::string MangleName(std::string_view name);

// The module name to give wasm2c (-n): one no import module shares, so that
// the module's instance type cannot collide with an import's.
std::string ChooseModuleName(const wabt::Module& module);

// The glue for `module`, translated by wasm2c with `module_name`. Errors, as
// one line, name what this tier cannot translate: SIMD (wasm2c 1.0.32 has
// no v128), exception tags, multiple results holding references.
Result<GlueSources, std::string> WriteGlue(const wabt::Module& module,
                                           std::string_view module_name);

// wasm2c 1.0.32's instantiate writes data segments before element
// segments; WebAssembly 2.0 applies element segments first, which shows when
// one of them traps after another has written to an imported table or
// memory. Swaps the two calls in `module_c` (wasm2c's module.c) where both
// appear; returns whether it did.
bool ApplyElementSegmentsFirst(std::string& module_c);

// runtime_tu.c: the same for every module.
std::string_view RuntimeUnitSource();

// aot_abi.h's text, copied into every build directory.
std::string_view AbiHeaderText();

}  // namespace milf::aot
