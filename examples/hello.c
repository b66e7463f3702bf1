// hello: the smallest MILF lambda. A plain WASI program: stdio works as
// usual, and what it prints to stdout is the invocation's result.
#include <stdio.h>

int main(void) {
  return puts("Hello from MILF!") < 0 ? 1 : 0;
}
