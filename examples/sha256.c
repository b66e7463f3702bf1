// sha256: prints the SHA-256 digest of the invocation input (stdin) as 64
// lowercase hex digits and a newline. The input is hashed as it streams in.
//
// Guests cannot link the host's OpenSSL, so SHA-256 (FIPS 180-4) is
// implemented here; it doubles as a small, verifiable compute workload.
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "milf.h"

typedef struct {
  uint32_t state[8];
  uint64_t total_bytes;
  unsigned char block[64];
  size_t block_len;
} Sha256;

static const uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t RotateRight(uint32_t x, unsigned n) {
  return (x >> n) | (x << (32 - n));
}

static uint32_t LoadBigEndian32(const unsigned char* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void StoreBigEndian32(uint32_t x, unsigned char* p) {
  p[0] = (unsigned char)(x >> 24);
  p[1] = (unsigned char)(x >> 16);
  p[2] = (unsigned char)(x >> 8);
  p[3] = (unsigned char)x;
}

static void Sha256Init(Sha256* h) {
  static const uint32_t kInitialState[8] = {
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  };
  memcpy(h->state, kInitialState, sizeof kInitialState);
  h->total_bytes = 0;
  h->block_len = 0;
}

static void Sha256Compress(uint32_t state[8], const unsigned char block[64]) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i) w[i] = LoadBigEndian32(block + 4 * i);
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = RotateRight(w[i - 15], 7) ^ RotateRight(w[i - 15], 18) ^
                  (w[i - 15] >> 3);
    uint32_t s1 = RotateRight(w[i - 2], 17) ^ RotateRight(w[i - 2], 19) ^
                  (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }

  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t s1 = RotateRight(e, 6) ^ RotateRight(e, 11) ^ RotateRight(e, 25);
    uint32_t choose = (e & f) ^ (~e & g);
    uint32_t t1 = h + s1 + choose + kRoundConstants[i] + w[i];
    uint32_t s0 = RotateRight(a, 2) ^ RotateRight(a, 13) ^ RotateRight(a, 22);
    uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = s0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

static void Sha256Update(Sha256* h, const unsigned char* data, size_t len) {
  h->total_bytes += len;
  if (h->block_len > 0) {
    size_t take = 64 - h->block_len;
    if (take > len) take = len;
    memcpy(h->block + h->block_len, data, take);
    h->block_len += take;
    data += take;
    len -= take;
    if (h->block_len < 64) return;
    Sha256Compress(h->state, h->block);
    h->block_len = 0;
  }
  for (; len >= 64; data += 64, len -= 64) Sha256Compress(h->state, data);
  memcpy(h->block, data, len);
  h->block_len = len;
}

static void Sha256Final(Sha256* h, unsigned char digest[32]) {
  // Padding: a 1 bit, zeros up to 56 bytes mod 64, then the length in bits.
  uint64_t bit_length = h->total_bytes * 8;
  static const unsigned char kPad[64] = {0x80};
  size_t pad_len = h->block_len < 56 ? 56 - h->block_len : 120 - h->block_len;
  unsigned char length_bytes[8];
  for (int i = 0; i < 8; ++i) {
    length_bytes[i] = (unsigned char)(bit_length >> (56 - 8 * i));
  }
  Sha256Update(h, kPad, pad_len);
  Sha256Update(h, length_bytes, sizeof length_bytes);
  for (int i = 0; i < 8; ++i) StoreBigEndian32(h->state[i], digest + 4 * i);
}

int main(void) {
  Sha256 hash;
  Sha256Init(&hash);
  // Static, not on the stack: wasm-ld gives the whole stack only 64 KiB.
  static unsigned char chunk[64 * 1024];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      milf_log("sha256: cannot read stdin");
      return 1;
    }
    Sha256Update(&hash, chunk, (size_t)n);
  }

  unsigned char digest[32];
  Sha256Final(&hash, digest);
  static const char kHexDigits[] = "0123456789abcdef";
  char hex[65];
  for (int i = 0; i < 32; ++i) {
    hex[2 * i] = kHexDigits[digest[i] >> 4];
    hex[2 * i + 1] = kHexDigits[digest[i] & 0xf];
  }
  hex[64] = '\n';
  return milf_write_output(hex, sizeof hex) == 0 ? 0 : 1;
}
