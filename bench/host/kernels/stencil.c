// A 2D 5-point Jacobi stencil on an H x W single-precision grid, SWEEPS
// sweeps ping-ponging between two grids; the boundary stays fixed.
#include "bench.h"

#define W 512
#define H 512
#define SWEEPS 40

static float input[W * H], grid0[W * H], grid1[W * H];

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < W * H; ++i)
    input[i] = bench_next_float();
}

static void sweep(const float *restrict in, float *restrict out) {
  for (uint32_t x = 0; x < W; ++x) {
    out[x] = in[x];
    out[(H - 1) * W + x] = in[(H - 1) * W + x];
  }
  for (uint32_t y = 1; y < H - 1; ++y) {
    uint32_t row = y * W;
    // The left and right boundary.
    out[row] = in[row];
    out[row + W - 1] = in[row + W - 1];
    for (uint32_t x = 1; x < W - 1; ++x) {
      uint32_t i = row + x;
      out[i] = 0.5f * in[i] +
               0.125f * (in[i - 1] + in[i + 1] + in[i - W] + in[i + W]);
    }
  }
}

void BENCH_EXPORT(run)(void) {
  // Start from the input every time.
  for (uint32_t i = 0; i < W * H; ++i)
    grid0[i] = input[i];
  for (uint32_t s = 0; s < SWEEPS; s += 2) {
    sweep(grid0, grid1);
    sweep(grid1, grid0);
  }
}

uint64_t BENCH_EXPORT(checksum)(void) {
  uint64_t digest = BENCH_DIGEST_INIT;
  for (uint32_t i = 0; i < W * H; ++i)
    digest = bench_digest_f32(digest, grid0[i]);
  return digest;
}
