// Compute kernels exported for the engine benchmarks: pure functions with no
// imports, so a module can run with or without metering on the same engine.
#include <stdint.h>

__attribute__((export_name("nop"))) void nop(void) {}

// Integer mixing loop: a tight loop with few instructions per iteration, the
// worst case for per-loop metering.
__attribute__((export_name("mix"))) uint32_t mix(uint32_t iterations) {
  uint32_t x = 0x9e3779b9u;
  for (uint32_t i = 0; i < iterations; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x += i;
  }
  return x;
}

// Recursive calls: the worst case for per-call metering.
__attribute__((export_name("fib"))) uint32_t fib(uint32_t n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

// A matrix multiply over linear memory: loads and stores in nested loops.
#define N 48
static int32_t a[N][N], b[N][N], c[N][N];

__attribute__((export_name("matmul"))) int32_t matmul(void) {
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) {
      a[i][j] = i + j;
      b[i][j] = i - j;
    }
  }
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) {
      int32_t sum = 0;
      for (int k = 0; k < N; ++k) sum += a[i][k] * b[k][j];
      c[i][j] = sum;
    }
  }
  return c[N / 2][N / 3];
}
