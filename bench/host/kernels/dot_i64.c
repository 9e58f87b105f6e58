// An integer dot product: i32 x i32 products summed in i64, plus the i64
// sum of one vector, over N elements.
#include "bench.h"

#define N (4 * 1024 * 1024)
#define PASSES 4

static int32_t x[N], y[N];
static int64_t dot, sum;

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < N; ++i) {
    x[i] = (int32_t)bench_next();
    y[i] = (int32_t)bench_next();
  }
}

void BENCH_EXPORT(run)(void) {
  int64_t d = 0, s = 0;
  for (uint32_t pass = 0; pass < PASSES; ++pass)
    for (uint32_t i = 0; i < N; ++i) {
      d += (int64_t)x[i] * y[i];
      s += x[i];
    }
  dot = d;
  sum = s;
}

uint64_t BENCH_EXPORT(checksum)(void) {
  return bench_digest_u64(bench_digest_u64(BENCH_DIGEST_INIT, (uint64_t)dot),
                          (uint64_t)sum);
}
