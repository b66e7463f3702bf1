// A small real guest for the instrument tests: loops, recursion, direct and
// indirect calls, a function table, and a name section from the linker.
// fib and sum_ops are exported so tests can call them without WASI.
#define EXPORT(name) __attribute__((export_name(#name)))

typedef int (*Op)(int);

static int square(int x) { return x * x; }
static int twice(int x) { return 2 * x; }

__attribute__((noinline)) static int apply(Op op, int x) { return op(x); }

EXPORT(fib) int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

EXPORT(sum_ops) int sum_ops(int n) {
  static const Op ops[2] = {square, twice};
  int sum = 0;
  for (int i = 0; i < n; ++i) sum += apply(ops[i & 1], i);
  return sum;
}

int main(int argc, char** argv) {
  (void)argv;
  return (sum_ops(10 + argc) + fib(argc + 10)) & 0x7f;
}
