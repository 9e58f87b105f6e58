// Hashing a byte buffer: table-driven CRC-32 (the reflected IEEE
// polynomial) and FNV-1a (32-bit), one byte at a time; loads, table lookups
// and integer multiplies on a loop-carried state.
#include "bench.h"

#define N (4 * 1024 * 1024)

static uint8_t data[N];
static uint32_t table[256];
static uint32_t crc, fnv;

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < N; i += 4) {
    uint32_t word = bench_next();
    data[i] = (uint8_t)word;
    data[i + 1] = (uint8_t)(word >> 8);
    data[i + 2] = (uint8_t)(word >> 16);
    data[i + 3] = (uint8_t)(word >> 24);
  }
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit)
      c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    table[i] = c;
  }
}

void BENCH_EXPORT(run)(void) {
  uint32_t c = 0xffffffffu;
  for (uint32_t i = 0; i < N; ++i)
    c = table[(c ^ data[i]) & 0xff] ^ (c >> 8);
  crc = ~c;
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < N; ++i)
    h = (h ^ data[i]) * 0x01000193u;
  fnv = h;
}

uint64_t BENCH_EXPORT(checksum)(void) { return ((uint64_t)crc << 32) | fnv; }
