// A single-precision sum of N floats, in order: a loop-carried dependence
// through one float add (no engine may reassociate it).
#include "bench.h"

#define N (4 * 1024 * 1024)
#define PASSES 4

static float x[N];
static float total;

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < N; ++i)
    x[i] = bench_next_float();
}

void BENCH_EXPORT(run)(void) {
  float sum = 0.0f;
  for (uint32_t pass = 0; pass < PASSES; ++pass)
    for (uint32_t i = 0; i < N; ++i)
      sum += x[i];
  total = sum;
}

uint64_t BENCH_EXPORT(checksum)(void) {
  return bench_digest_f32(BENCH_DIGEST_INIT, total);
}
