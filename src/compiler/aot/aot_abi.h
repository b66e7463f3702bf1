/* The binary interface between an AOT artifact and the loader that runs it.
 *
 * An artifact is a shared object built from one WebAssembly module by wasm2c
 * plus generated glue (glue_writer.h). It exports exactly one symbol,
 * MILF_AOT_ENTRY, of type milf_aot_entry_fn: the loader calls it once after
 * dlopen with the host table below and gets back the module's descriptor.
 *
 * Everything the guest needs from outside goes through the host table: host
 * function calls (one generic dispatcher for every import), unwinding after a
 * trap, the process-wide function type registry and funcref handles. So the
 * same host callbacks serve the interpreter and this tier, and one artifact
 * runs under any loader speaking the same MILF_AOT_ABI_VERSION.
 *
 * Instances: the loader allocates MILF_AOT_HEADER_BYTES of
 * milf_aot_instance_header followed by instance_size bytes of wasm2c's
 * instance struct, zeroed, and passes a pointer to the latter everywhere.
 * Generated code finds the header at a fixed negative offset.
 *
 * This file is C (the glue includes it) and C++ (the loader includes it). It
 * is copied verbatim into every artifact build; any change to a struct here
 * must bump MILF_AOT_ABI_VERSION so cached artifacts are rebuilt.
 */
#ifndef MILF_COMPILER_AOT_AOT_ABI_H_
#define MILF_COMPILER_AOT_AOT_ABI_H_

#include <stdint.h>

#include "wasm-rt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MILF_AOT_ABI_VERSION 2u
#define MILF_AOT_ENTRY "milf_aot_load"
#define MILF_AOT_HEADER_BYTES 64

/* Unwind codes: wasm_rt_trap_t values, plus these. */
#define MILF_AOT_UNWIND_HOST_STOP 100     /* a host function returned kStop */
#define MILF_AOT_UNWIND_OUT_OF_MEMORY 101 /* the host could not allocate memory or a table */
#define MILF_AOT_TRAP_TABLE_OOB 102       /* WASM_RT_TRAP_OOB raised by a table operation */

enum milf_aot_extern_kind {
  MILF_AOT_EXTERN_FUNC = 0,
  MILF_AOT_EXTERN_TABLE = 1,
  MILF_AOT_EXTERN_MEMORY = 2,
  MILF_AOT_EXTERN_GLOBAL = 3
};

/* A value crossing the ABI: i32/f32 in the low 32 bits, i64/f64 as all 64,
 * floats as raw bits; funcref as a loader handle (0 = null); externref as the
 * host's pointer-sized handle (0 = null). */
typedef struct milf_aot_value {
  uint64_t bits;
} milf_aot_value;

/* Filled by the loader. `unwind` transfers control to the innermost
 * unwind target pushed on this thread, making that push's setjmp return
 * `code`; it never returns. */
struct milf_aot_host {
  uint32_t abi_version;
  uint32_t (*register_func_type)(uint32_t param_count, uint32_t result_count,
                                 const uint32_t* types /* wasm_rt_type_t, params first */);
  void* (*push_unwind)(void* target /* jmp_buf* */);
  void (*pop_unwind)(void* previous);
  void (*unwind)(int code) __attribute__((noreturn));
  /* Calls import `import_index` of the instance whose header names
   * `host_instance`. 0: results are filled in; else an unwind code. */
  int (*call_host)(void* host_instance, uint32_t import_index, const milf_aot_value* args,
                   milf_aot_value* results);
  uint64_t (*funcref_to_handle)(void* engine, const wasm_rt_funcref_t* ref);
  /* Handle 0 and handles this engine never gave out read as null. */
  void (*handle_to_funcref)(void* engine, uint64_t handle, wasm_rt_funcref_t* out);
};

/* Where import `i` comes from, written by the loader before instantiation. A
 * function is either the host dispatcher (func == NULL) or a direct call of
 * another instance's export wrapper: func(func_instance, params...). Tables,
 * memories and globals are the exporter's objects. */
struct milf_aot_import_slot {
  wasm_rt_function_ptr_t func;
  void* func_instance;
  void* object;
};

struct milf_aot_instance_header;

/* Where guest code stands on the native stack, shared by every instance of
 * one engine (one thread). A function entered below `floor`, or as the
 * MILF_AOT_MAX_CALL_DEPTH-th nested call, traps with
 * WASM_RT_TRAP_EXHAUSTION. The loader resets `depth` at each outermost
 * entry; the count also stops infinite recursion the C compiler turned into
 * a loop, where the stack pointer never moves. */
#define MILF_AOT_MAX_CALL_DEPTH 1000000u
struct milf_aot_stack {
  uintptr_t floor;
  uint32_t depth;
};

/* wasm2c hands an imported function either its import-module instance
 * pointer or, through a table, the address of the field holding it (wabt
 * 1.0.32 stores offsetof(field) for imported functions in element segments).
 * An env whose first word points to itself reads the same both ways:
 * *(struct milf_aot_env**)p is the env in either case. */
struct milf_aot_env {
  struct milf_aot_env* self;
  struct milf_aot_instance_header* header;
};

struct milf_aot_instance_header {
  struct milf_aot_stack* stack; /* the engine's; see milf_aot_stack */
  void* host_instance;          /* first argument of call_host */
  void* engine;                 /* first argument of the funcref calls */
  const struct milf_aot_import_slot* imports;
  struct milf_aot_env env;
  uint64_t reserved[2];
};

struct milf_aot_import_desc {
  const char* module;
  uint32_t module_len;
  const char* name;
  uint32_t name_len;
  uint32_t kind;      /* milf_aot_extern_kind */
  uint32_t type;      /* global: value type; table: element type (wasm_rt_type_t) */
  uint32_t is_mutable; /* global */
  uint32_t has_max;   /* memory, table */
  uint64_t min;       /* memory pages, table elements */
  uint64_t max;
};

struct milf_aot_export_desc {
  const char* name; /* not NUL-terminated: names may hold any byte */
  uint32_t name_len;
  uint32_t kind;
  uint32_t type;       /* global: value type; table: element type */
  uint32_t is_mutable; /* global */
  uint32_t has_max;    /* memory, table: as declared */
  uint64_t max;
  /* Functions: the wrapper taking (instance, params...), for direct linking. */
  wasm_rt_function_ptr_t func;
  /* Tables, memories, globals: the object of a live instance. */
  void* (*object)(void* instance);
};

struct milf_aot_module {
  uint32_t abi_version;
  uint32_t instance_size;
  uint32_t import_count;
  uint32_t export_count;
  const struct milf_aot_import_desc* imports;
  const struct milf_aot_export_desc* exports;
  /* Both return 0, or the unwind code that ended them (a trap, a host stop). */
  int (*instantiate)(void* instance);
  int (*call)(void* instance, uint32_t export_index, const milf_aot_value* args,
              milf_aot_value* results);
  void (*free_instance)(void* instance);
};

typedef const struct milf_aot_module* (*milf_aot_entry_fn)(const struct milf_aot_host* host);

#ifdef __cplusplus
}
#endif

#endif /* MILF_COMPILER_AOT_AOT_ABI_H_ */
