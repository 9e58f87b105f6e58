// The example kernel stencil5 (examples/kernels/stencil.c) on the CPU
// benchmark's protocol: its own source, launched over a sequential grid
// (twasm/kernel.h here) in its declared 32 x 8 blocks, SWEEPS Jacobi steps
// ping-ponging between two grids.
#include "../kernels/bench.h"
#include "stencil.c"

#define W 1024
#define H 1024
#define SWEEPS 10
#define BLOCK_X 32
#define BLOCK_Y 8

static float input[W * H], grid0[W * H], grid1[W * H];

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < W * H; ++i)
    input[i] = bench_next_float();
}

void BENCH_EXPORT(run)(void) {
  // Start from the input every time.
  __builtin_memcpy(grid0, input, sizeof grid0);
  for (uint32_t s = 0; s < SWEEPS; s += 2) {
    TWASM_SEQUENTIAL_LAUNCH(W / BLOCK_X, H / BLOCK_Y, 1, BLOCK_X, BLOCK_Y, 1,
                            stencil5(W, H, 0.5f, 0.125f, grid0, grid1));
    TWASM_SEQUENTIAL_LAUNCH(W / BLOCK_X, H / BLOCK_Y, 1, BLOCK_X, BLOCK_Y, 1,
                            stencil5(W, H, 0.5f, 0.125f, grid1, grid0));
  }
}

uint64_t BENCH_EXPORT(checksum)(void) {
  uint64_t digest = BENCH_DIGEST_INIT;
  for (uint32_t i = 0; i < W * H; ++i)
    digest = bench_digest_f32(digest, grid0[i]);
  return digest;
}
