// wasm_main: a reactor module (no _start) using MILF's buffer ABI instead of
// stdin/stdout. The host copies the input into a buffer it allocated with
// the module's exported malloc, calls wasm_main, and takes the first
// out_len bytes of the output buffer as the result. This one returns the
// input with ASCII letters upper-cased.
//
//   milf run wasm_main.wasm --invoke wasm_main --stdin input.txt
#include <stdint.h>

#include "milf.h"

MILF_EXPORT_MALLOC();

// Returns the number of bytes written to the output buffer, or -1 if it is
// too small to hold the result.
MILF_EXPORT(wasm_main)
int32_t wasm_main(int32_t in_ptr, int32_t in_len, int32_t out_ptr,
                  int32_t out_cap) {
  if (in_len < 0 || out_cap < in_len) return -1;
  const unsigned char* in = (const unsigned char*)milf_ptr(in_ptr);
  unsigned char* out = (unsigned char*)milf_ptr(out_ptr);
  for (int32_t i = 0; i < in_len; ++i) {
    unsigned char c = in[i];
    out[i] = (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
  }
  return in_len;
}
