// echo: copies the invocation input (stdin) to its output (stdout) byte for
// byte, binary data included. Streams in chunks, so the input may be larger
// than the guest's memory.
#include <errno.h>
#include <unistd.h>

#include "milf.h"

int main(void) {
  // Static, not on the stack: wasm-ld gives the whole stack only 64 KiB.
  static unsigned char chunk[64 * 1024];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      milf_log("echo: cannot read stdin");
      return 1;
    }
    if (milf_write_output(chunk, (size_t)n) != 0) {
      milf_log("echo: cannot write stdout");
      return 1;
    }
  }
}
