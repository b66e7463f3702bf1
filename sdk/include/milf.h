/*
 * milf.h: the guest SDK for MILF lambdas written in C or C++.
 *
 * A MILF lambda is a WebAssembly module built for wasm32-wasi, e.g.
 *
 *   clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I sdk/include \
 *       hello.c -o hello.wasm
 *
 * The host runs it in a sandbox under hard limits (fuel, time, memory,
 * output size). An invocation talks to the world only through WASI:
 *
 *   stdin           the invocation's input payload
 *   stdout          the invocation's result
 *   stderr          log lines, kept apart from the result
 *   argv, environ   arguments and environment given by the caller
 *   /in, /out, ...  directories the caller mounted (read-only or not)
 *   exit status     0 is success; anything else is a failed invocation
 *
 * Memory: wasm32 is a 32-bit target (`long` and `size_t` are 32 bits; use
 * int64_t for large counts), and wasm-ld gives the stack only 64 KiB by
 * default, so keep large buffers static or on the heap.
 *
 * This header is optional sugar over that interface: a plain WASI program
 * using stdio runs unchanged. It is header-only, compiles as C99 and as
 * C++, and needs nothing but wasi-libc.
 *
 * Entry points
 * ------------
 * 1. Command modules (the default, clang's -mexec-model=command) export
 *    `_start`, which runs main(). Input is read from stdin, output written
 *    to stdout, and the exit status is main's return value.
 *
 * 2. Reactor modules (-mexec-model=reactor, no main) may instead export
 *
 *      int32_t wasm_main(int32_t in_ptr, int32_t in_len,
 *                        int32_t out_ptr, int32_t out_cap);
 *
 *    The host calls the module's `_initialize` export first (if present),
 *    then allocates two buffers in the module's linear memory by calling
 *    the module's exported `malloc`: one of in_len bytes holding the input
 *    payload, and one of out_cap bytes for the result. wasm_main writes at
 *    most out_cap bytes at out_ptr and returns how many it wrote (out_len,
 *    0 <= out_len <= out_cap). A negative return value reports an error.
 *    Both buffers belong to the host: wasm_main must not free them or keep
 *    pointers to them after it returns.
 *
 *    A module using this ABI must therefore export `malloc` (and `free`).
 *    Either put MILF_EXPORT_MALLOC() once at file scope in one source file,
 *    or link with -Wl,--export=malloc -Wl,--export=free; not both, since
 *    the export names would clash. Use milf_ptr() to turn the i32
 *    arguments into pointers.
 */
#ifndef MILF_H_
#define MILF_H_

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Exports the following function from the module under the given name,
 * whatever the C or C++ (mangled) name of the function is:
 *
 *   MILF_EXPORT(wasm_main)
 *   int32_t wasm_main(int32_t in_ptr, int32_t in_len,
 *                     int32_t out_ptr, int32_t out_cap) { ... }
 */
#if defined(__wasm__)
#define MILF_EXPORT(name) \
  __attribute__((export_name(#name), visibility("default"), used))
#else
/* Native builds (debugging a lambda on the host) have no export names. */
#define MILF_EXPORT(name) __attribute__((visibility("default"), used))
#endif

/*
 * Defines and exports `malloc` and `free` wrappers so the host can place
 * buffers in this module's memory (see the wasm_main ABI above). Use once
 * per module, at file scope.
 */
#define MILF_EXPORT_MALLOC()                                          \
  MILF_EXPORT(malloc) void* milf_exported_malloc(size_t size) {       \
    return malloc(size);                                              \
  }                                                                   \
  MILF_EXPORT(free) void milf_exported_free(void* ptr) { free(ptr); } \
  typedef int milf_export_malloc_requires_a_semicolon_

/*
 * Converts an i32 address received through the wasm_main ABI into a
 * pointer into this module's linear memory. Addresses are unsigned 32-bit
 * offsets; the cast through uint32_t keeps addresses above 2 GiB intact.
 */
static inline void* milf_ptr(int32_t address) {
  return (void*)(uintptr_t)(uint32_t)address;
}

/*
 * Writes all `len` bytes of `data` to file descriptor `fd`, retrying short
 * writes and EINTR. Returns 0 once every byte is written, or -1 with errno
 * set; on error an unknown prefix of the data may have been written.
 */
static inline int milf_write_all(int fd, const void* data, size_t len) {
  const unsigned char* p = (const unsigned char*)data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/*
 * Writes output bytes to stdout (the invocation's result). Same promise as
 * milf_write_all. Do not mix with buffered stdio output to stdout unless
 * you fflush(stdout) first, or the bytes may come out of order.
 */
static inline int milf_write_output(const void* data, size_t len) {
  return milf_write_all(STDOUT_FILENO, data, len);
}

/*
 * Reads the whole invocation input (stdin, until end of file) into a
 * buffer from malloc. On success returns 0, stores the buffer in *data and
 * its length in *len; the caller owns the buffer and frees it with free().
 * The buffer holds one extra NUL byte after the input (not counted in
 * *len), so text input can be used as a C string, but the input itself
 * may contain NUL bytes. On failure returns -1 with errno set (ENOMEM when
 * the input does not fit in memory), *data is NULL and *len is 0.
 */
static inline int milf_read_input(unsigned char** data, size_t* len) {
  size_t cap = 4096;
  size_t used = 0;
  unsigned char* buf = (unsigned char*)malloc(cap);
  *data = NULL;
  *len = 0;
  if (buf == NULL) return -1;
  for (;;) {
    if (cap - used < 2) {
      /* Keep one byte spare for the terminating NUL. */
      unsigned char* grown;
      if (cap > SIZE_MAX / 2) {
        free(buf);
        errno = ENOMEM;
        return -1;
      }
      grown = (unsigned char*)realloc(buf, cap * 2);
      if (grown == NULL) {
        free(buf);
        errno = ENOMEM;
        return -1;
      }
      buf = grown;
      cap *= 2;
    }
    {
      ssize_t n = read(STDIN_FILENO, buf + used, cap - used - 1);
      if (n < 0) {
        int saved = errno;
        if (saved == EINTR) continue;
        free(buf);
        errno = saved;
        return -1;
      }
      if (n == 0) break;
      used += (size_t)n;
    }
  }
  buf[used] = '\0';
  *data = buf;
  *len = used;
  return 0;
}

/*
 * Writes one log line to stderr: the printf-style message followed by a
 * newline, handed to the host as one buffer so lines stay whole.
 * Messages longer than 1023 bytes are truncated. Logging is best effort:
 * errors are ignored, because a lambda has nowhere else to report them.
 */
static inline void milf_logf(const char* format, ...)
    __attribute__((format(printf, 1, 2)));

static inline void milf_logf(const char* format, ...) {
  char line[1025];
  va_list args;
  int n;
  va_start(args, format);
  n = vsnprintf(line, sizeof line - 1, format, args);
  va_end(args);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = (int)(sizeof line - 2);
  line[n] = '\n';
  (void)milf_write_all(STDERR_FILENO, line, (size_t)n + 1);
}

/* Writes `message` and a newline to stderr; see milf_logf. */
static inline void milf_log(const char* message) {
  milf_logf("%s", message);
}

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* MILF_H_ */
