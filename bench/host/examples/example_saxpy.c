// The example kernel saxpy (examples/kernels/saxpy.c) on the CPU benchmark's
// protocol: its own source, launched over a sequential grid (twasm/kernel.h
// here) with the block size the GPU benchmark uses.
#include "../kernels/bench.h"
#include "saxpy.c"

#define N (4 * 1024 * 1024)
#define BLOCK 256

static float x[N], y0[N], y[N];

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < N; ++i) {
    x[i] = bench_next_float();
    y0[i] = bench_next_float();
  }
}

void BENCH_EXPORT(run)(void) {
  // saxpy updates y in place: start from the same y every time.
  __builtin_memcpy(y, y0, sizeof y);
  TWASM_SEQUENTIAL_LAUNCH(N / BLOCK, 1, 1, BLOCK, 1, 1, saxpy(N, 2.5f, x, y));
}

uint64_t BENCH_EXPORT(checksum)(void) {
  uint64_t digest = BENCH_DIGEST_INIT;
  for (uint32_t i = 0; i < N; ++i)
    digest = bench_digest_f32(digest, y[i]);
  return digest;
}
