/* A minimal loader for one AOT artifact, in C, so that it can be cross-built
 * for aarch64 and run under qemu-aarch64 where the C++ engine cannot.
 *
 *   harness MODULE.so EXPORT NRESULTS [TYPE:VALUE...]
 *
 * TYPE is i32 or i64. Implements the host side of aot_abi.h for an
 * instrumented pure-compute module: milf.fuel_refill grants slices exactly
 * as wasm::FuelMeter does with an unlimited budget, milf.call_depth_exceeded
 * and every other import stop the guest. Prints either
 *   results BITS... fuel USED
 * or
 *   trap CODE fuel USED
 * where BITS are the results' 64-bit patterns in decimal.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot_abi.h"

#define SLICE 100000

static void* g_unwind_top;
static uint32_t g_types[256][24];
static uint32_t g_type_count;
static const struct milf_aot_module* g_module;
static int64_t g_granted;

static uint32_t register_func_type(uint32_t params, uint32_t results, const uint32_t* types) {
  uint32_t key[24] = {params, results};
  if (params + results > 22) abort();
  memcpy(key + 2, types, (params + results) * sizeof(uint32_t));
  for (uint32_t i = 0; i < g_type_count; ++i) {
    if (memcmp(g_types[i], key, sizeof key) == 0) return i + 1;
  }
  if (g_type_count == 256) abort();
  memcpy(g_types[g_type_count++], key, sizeof key);
  return g_type_count;
}

static void* push_unwind(void* target) {
  void* previous = g_unwind_top;
  g_unwind_top = target;
  return previous;
}

static void pop_unwind(void* previous) { g_unwind_top = previous; }

static void unwind(int code) __attribute__((noreturn));
static void unwind(int code) { longjmp(*(jmp_buf*)g_unwind_top, code); }

static int named(const struct milf_aot_import_desc* import, const char* module, const char* name) {
  return import->module_len == strlen(module) && memcmp(import->module, module, import->module_len) == 0 &&
         import->name_len == strlen(name) && memcmp(import->name, name, import->name_len) == 0;
}

static int call_host(void* host_instance, uint32_t index, const milf_aot_value* args,
                     milf_aot_value* results) {
  (void)host_instance;
  if (named(&g_module->imports[index], "milf", "fuel_refill")) {
    const int64_t counter = (int64_t)args[0].bits;
    const int64_t used = g_granted - counter;
    g_granted = used + SLICE;
    results[0].bits = SLICE;
    return 0;
  }
  return MILF_AOT_UNWIND_HOST_STOP;
}

static uint64_t funcref_to_handle(void* engine, const wasm_rt_funcref_t* ref) {
  (void)engine;
  return ref->func != NULL;
}

static void handle_to_funcref(void* engine, uint64_t handle, wasm_rt_funcref_t* out) {
  (void)engine;
  (void)handle;
  *out = wasm_rt_funcref_null_value;
}

static const struct milf_aot_host g_host = {
    MILF_AOT_ABI_VERSION, register_func_type, push_unwind, pop_unwind, unwind,
    call_host,            funcref_to_handle,  handle_to_funcref,
};

static int find_export(const char* name, uint32_t kind) {
  for (uint32_t i = 0; i < g_module->export_count; ++i) {
    const struct milf_aot_export_desc* entry = &g_module->exports[i];
    if (entry->kind == kind && entry->name_len == strlen(name) &&
        memcmp(entry->name, name, entry->name_len) == 0) {
      return (int)i;
    }
  }
  return -1;
}

static uintptr_t stack_floor(void) {
  pthread_attr_t attributes;
  void* low = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return 0;
  pthread_attr_getstack(&attributes, &low, &size);
  pthread_attr_destroy(&attributes);
  return (uintptr_t)low + size / 8;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODULE.so EXPORT NRESULTS [TYPE:VALUE...]\n", argv[0]);
    return 2;
  }
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  milf_aot_entry_fn entry = (milf_aot_entry_fn)dlsym(library, MILF_AOT_ENTRY);
  g_module = entry != NULL ? entry(&g_host) : NULL;
  if (g_module == NULL) {
    fprintf(stderr, "not an artifact of ABI %u\n", MILF_AOT_ABI_VERSION);
    return 2;
  }
  static struct milf_aot_stack stack;
  stack.floor = stack_floor();
  const size_t size = MILF_AOT_HEADER_BYTES + (g_module->instance_size + 63) / 64 * 64;
  unsigned char* block = aligned_alloc(64, size);
  memset(block, 0, size);
  struct milf_aot_instance_header* header = (struct milf_aot_instance_header*)block;
  struct milf_aot_import_slot* slots = calloc(g_module->import_count + 1, sizeof *slots);
  header->stack = &stack;
  header->imports = slots;
  header->env.self = &header->env;
  header->env.header = header;
  void* instance = block + MILF_AOT_HEADER_BYTES;
  int code = g_module->instantiate(instance);
  milf_aot_value args[16] = {{0}};
  milf_aot_value results[16] = {{0}};
  const int export_index = find_export(argv[2], MILF_AOT_EXTERN_FUNC);
  const int result_count = atoi(argv[3]);
  if (export_index < 0 || argc - 4 > 16 || result_count > 16) return 2;
  for (int i = 4; i < argc; ++i) args[i - 4].bits = strtoull(strchr(argv[i], ':') + 1, NULL, 0);
  if (code == 0) code = g_module->call(instance, (uint32_t)export_index, args, results);
  const int fuel = find_export("__milf_fuel", MILF_AOT_EXTERN_GLOBAL);
  const int64_t counter = fuel < 0 ? 0 : *(int64_t*)g_module->exports[fuel].object(instance);
  const int64_t used = g_granted - counter;
  if (code != 0) {
    printf("trap %d fuel %" PRId64 "\n", code, used < 0 ? 0 : used);
    return 0;
  }
  printf("results");
  for (int i = 0; i < result_count; ++i) printf(" %" PRIu64, results[i].bits);
  printf(" fuel %" PRId64 "\n", used < 0 ? 0 : used);
  return 0;
}
