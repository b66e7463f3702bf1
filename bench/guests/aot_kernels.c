// Compute kernels for the AOT benchmark (bench/aot_bench.cc). The same file
// is compiled three times: to WebAssembly (exported, for the interpreter and
// the AOT tier), and natively with gcc -O2 into the benchmark (the baseline),
// once more with -fno-tree-vectorize (AOT_KERNELS_NOVEC). No
// imports and no libc beyond the freestanding headers, so both builds run
// exactly this code. Each kernel returns a checksum the benchmark compares
// across the three.
#include <stdint.h>

#if defined(__wasm__)
#define KERNEL(name) __attribute__((export_name(#name))) uint64_t name
#elif defined(AOT_KERNELS_NOVEC)
#define KERNEL(name) uint64_t aot_kernel_novec_##name
#else
#define KERNEL(name) uint64_t aot_kernel_##name
#endif

static uint32_t xorshift(uint32_t* state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

// Integer arithmetic: mixing, multiplies, divisions and remainders, shifts.
KERNEL(integer)(uint32_t iterations) {
  uint32_t state = 0x9e3779b9u;
  uint64_t acc = 1;
  for (uint32_t i = 0; i < iterations; ++i) {
    const uint32_t r = xorshift(&state);
    acc = acc * 6364136223846793005ull + r;
    acc ^= acc >> 29;
    acc += (uint64_t)(r % 1000003u) * (i / 7u + 1u);
    if ((r & 7u) == 0) acc = (acc << 7) | (acc >> 57);
  }
  return acc;
}

// Pointer chasing: a singly linked list through a shuffled arena, walked
// `rounds` times, with a node update on each visit. Nodes are 16 bytes in
// both builds, so the native baseline does not pay for its wider pointers.
#define LIST_NODES (1u << 16)
struct node {
  struct node* next;
  uint32_t value;
} __attribute__((aligned(16)));
static struct node arena[LIST_NODES];
static uint32_t order[LIST_NODES];

KERNEL(linked_list)(uint32_t rounds) {
  uint32_t state = 12345u;
  for (uint32_t i = 0; i < LIST_NODES; ++i) order[i] = i;
  for (uint32_t i = LIST_NODES - 1; i > 0; --i) {
    const uint32_t j = xorshift(&state) % (i + 1);
    const uint32_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (uint32_t i = 0; i < LIST_NODES; ++i) {
    arena[order[i]].next = i + 1 < LIST_NODES ? &arena[order[i + 1]] : 0;
    arena[order[i]].value = i;
  }
  uint64_t sum = 0;
  for (uint32_t round = 0; round < rounds; ++round) {
    for (struct node* n = &arena[order[0]]; n != 0; n = n->next) {
      sum += n->value ^ round;
      n->value += 3;
    }
  }
  return sum;
}

// Dense double-precision matrix multiply, n x n (n <= 256), with a
// checksum of the product.
#define MAX_N 256
static double ma[MAX_N * MAX_N], mb[MAX_N * MAX_N], mc[MAX_N * MAX_N];

KERNEL(matrix)(uint32_t n) {
  if (n > MAX_N) n = MAX_N;
  for (uint32_t i = 0; i < n * n; ++i) {
    ma[i] = (double)(i % 17) * 0.25 - 1.0;
    mb[i] = (double)(i % 13) * 0.5 + 0.125;
  }
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < n; ++j) mc[i * n + j] = 0;
    for (uint32_t k = 0; k < n; ++k) {
      const double aik = ma[i * n + k];
      for (uint32_t j = 0; j < n; ++j) mc[i * n + j] += aik * mb[k * n + j];
    }
  }
  double sum = 0;
  for (uint32_t i = 0; i < n * n; ++i) sum += mc[i] * (double)((i % 5) + 1);
  return (uint64_t)(int64_t)sum;
}

// A state machine: a tokenizer over pseudo-random text counting words,
// numbers, quoted strings and escapes, driven by a switch per byte.
enum { kSpace, kWord, kNumber, kString, kEscape };

KERNEL(state_machine)(uint32_t length) {
  static const char kAlphabet[] = "ab c1 2\"\\x 9 yz\n\t.\"q";
  uint32_t state = 777u;
  uint32_t mode = kSpace;
  uint64_t words = 0, numbers = 0, strings = 0, escapes = 0;
  for (uint32_t i = 0; i < length; ++i) {
    const char c = kAlphabet[xorshift(&state) % (sizeof kAlphabet - 1)];
    switch (mode) {
      case kSpace:
        if (c == '"') {
          mode = kString;
        } else if (c >= '0' && c <= '9') {
          mode = kNumber;
        } else if (c != ' ' && c != '\n' && c != '\t') {
          mode = kWord;
        }
        break;
      case kWord:
        if (c == ' ' || c == '\n' || c == '\t') {
          ++words;
          mode = kSpace;
        } else if (c == '"') {
          ++words;
          mode = kString;
        }
        break;
      case kNumber:
        if (c < '0' || c > '9') {
          ++numbers;
          mode = c == '"' ? kString : kSpace;
        }
        break;
      case kString:
        if (c == '\\') {
          mode = kEscape;
        } else if (c == '"') {
          ++strings;
          mode = kSpace;
        }
        break;
      case kEscape:
        ++escapes;
        mode = kString;
        break;
    }
  }
  return words | numbers << 16 | strings << 32 | escapes << 48;
}

// CRC-32 (IEEE, table-driven) over a 64 KiB buffer, `passes` times.
#define CRC_BYTES (1u << 16)
static uint8_t crc_buffer[CRC_BYTES];
static uint32_t crc_table[256];

KERNEL(crc32)(uint32_t passes) {
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  uint32_t state = 99u;
  for (uint32_t i = 0; i < CRC_BYTES; ++i) crc_buffer[i] = (uint8_t)xorshift(&state);
  uint32_t crc = 0xffffffffu;
  for (uint32_t pass = 0; pass < passes; ++pass) {
    for (uint32_t i = 0; i < CRC_BYTES; ++i) {
      crc = crc_table[(crc ^ crc_buffer[i]) & 0xffu] ^ (crc >> 8);
    }
  }
  return crc ^ 0xffffffffu;
}
