// The Mandelbrot set in double precision on a W x H grid: a data-dependent
// inner loop of multiplies and adds, up to MAX_ITER iterations a point.
#include "bench.h"

#define W 384
#define H 256
#define MAX_ITER 256

static uint16_t iterations[W * H];
static double x0, y0, scale;

void BENCH_EXPORT(init)(uint32_t seed) {
  // The view moves a little with the seed; the whole set stays in it.
  bench_seed(seed);
  x0 = -2.25 + (bench_next() & 0xff) * (1.0 / 4096.0);
  y0 = -1.25 + (bench_next() & 0xff) * (1.0 / 4096.0);
  scale = 2.5 / H;
}

void BENCH_EXPORT(run)(void) {
  for (uint32_t py = 0; py < H; ++py) {
    double ci = y0 + py * scale;
    for (uint32_t px = 0; px < W; ++px) {
      double cr = x0 + px * scale;
      double zr = 0.0, zi = 0.0;
      uint32_t n = 0;
      while (n < MAX_ITER) {
        double zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 > 4.0)
          break;
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        ++n;
      }
      iterations[py * W + px] = (uint16_t)n;
    }
  }
}

uint64_t BENCH_EXPORT(checksum)(void) {
  uint64_t digest = BENCH_DIGEST_INIT;
  for (uint32_t i = 0; i < W * H; ++i)
    digest = bench_digest_u32(digest, iterations[i]);
  return digest;
}
