// Single-precision matrix multiply, C = A * B for N x N matrices, in the
// naive i-k-j order: the inner loop streams a row of B into a row of C.
#include "bench.h"

#define N 384

static float a[N * N], b[N * N], c[N * N];

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < N * N; ++i)
    a[i] = bench_next_float();
  for (uint32_t i = 0; i < N * N; ++i)
    b[i] = bench_next_float();
}

void BENCH_EXPORT(run)(void) {
  for (uint32_t i = 0; i < N; ++i) {
    float *row = &c[i * N];
    for (uint32_t j = 0; j < N; ++j)
      row[j] = 0.0f;
    for (uint32_t k = 0; k < N; ++k) {
      float aik = a[i * N + k];
      const float *bk = &b[k * N];
      for (uint32_t j = 0; j < N; ++j)
        row[j] += aik * bk[j];
    }
  }
}

uint64_t BENCH_EXPORT(checksum)(void) {
  uint64_t digest = BENCH_DIGEST_INIT;
  for (uint32_t i = 0; i < N * N; ++i)
    digest = bench_digest_f32(digest, c[i]);
  return digest;
}
