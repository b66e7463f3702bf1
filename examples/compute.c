// compute: a CPU-bound lambda for measuring the engine. It counts the
// solutions of the N-queens puzzle by backtracking and the primes below a
// limit with the sieve of Eratosthenes, and prints both counts:
//
//   milf run compute.wasm                          # n = 8, limit = 200000
//   milf run compute.wasm --arg 10 --arg 1000000
//
// prints "queens(8) = 92" and "primes below 200000 = 17984" by default.
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milf.h"

enum {
  kDefaultQueens = 8,
  kMaxQueens = 16,  // a 32-bit mask per row with room to shift
};
static const int64_t kDefaultSieveLimit = 200000;
static const int64_t kMaxSieveLimit = 50000000;  // fits the default 64 MiB

// Counts the ways to complete a board whose rows above are filled; the
// masks mark columns and diagonals already attacked in the current row.
static int64_t CountQueens(uint32_t all, uint32_t columns, uint32_t left,
                           uint32_t right) {
  if (columns == all) return 1;
  int64_t solutions = 0;
  uint32_t free_squares = all & ~(columns | left | right);
  while (free_squares != 0) {
    uint32_t square = free_squares & (0u - free_squares);
    free_squares ^= square;
    solutions += CountQueens(all, columns | square, (left | square) << 1,
                             (right | square) >> 1);
  }
  return solutions;
}

// Returns the number of primes below `limit`, or -1 when out of memory.
static int64_t CountPrimes(int64_t limit) {
  if (limit <= 2) return 0;
  unsigned char* composite = calloc((size_t)limit, 1);
  if (composite == NULL) return -1;
  int64_t count = 0;
  for (int64_t i = 2; i < limit; ++i) {
    if (composite[i]) continue;
    ++count;
    for (int64_t j = i * i; j < limit; j += i) composite[j] = 1;
  }
  free(composite);
  return count;
}

// Parses argv[index] as an integer in [min, max], or takes `fallback`
// when the argument is absent. Returns false on a malformed argument.
static bool ParseArg(int argc, char** argv, int index, int64_t min, int64_t max,
                    int64_t fallback, int64_t* out) {
  if (index >= argc) {
    *out = fallback;
    return true;
  }
  char* end = NULL;
  errno = 0;
  long long v = strtoll(argv[index], &end, 10);
  if (errno != 0 || end == argv[index] || *end != '\0' || v < min || v > max) {
    milf_logf("compute: argument %d must be an integer in [%" PRId64 ", %" PRId64
              "], got \"%s\"",
              index, min, max, argv[index]);
    return false;
  }
  *out = (int64_t)v;
  return true;
}

int main(int argc, char** argv) {
  int64_t queens = 0;
  int64_t limit = 0;
  if (!ParseArg(argc, argv, 1, 1, kMaxQueens, kDefaultQueens, &queens) ||
      !ParseArg(argc, argv, 2, 0, kMaxSieveLimit, kDefaultSieveLimit, &limit)) {
    milf_log("usage: compute [QUEENS [SIEVE_LIMIT]]");
    return 2;
  }

  const int64_t solutions = CountQueens((1u << queens) - 1, 0, 0, 0);
  const int64_t primes = CountPrimes(limit);
  if (primes < 0) {
    milf_log("compute: out of memory for the sieve");
    return true;
  }
  printf("queens(%" PRId64 ") = %" PRId64 "\n", queens, solutions);
  printf("primes below %" PRId64 " = %" PRId64 "\n", limit, primes);
  return fflush(stdout) == 0 ? 0 : 1;
}
