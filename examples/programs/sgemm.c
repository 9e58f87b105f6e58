// A program with its kernel: C = A * B for n x n matrices (n a multiple of
// 32) with the sgemm example kernel, checked element by element against the
// same product computed by the host code. The inputs are small integers
// times powers of two, so every sum is exact and both agree bit for bit on
// any device.
#include "../kernels/sgemm.c"

#include <twasm/host.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float input(uint32_t i, uint32_t j, uint32_t salt) {
  return (float)((int)((i * 7 + j * 13 + salt) % 17) - 8) * 0.25f;
}

int main(int argc, char **argv) {
  uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 256;
  if (n == 0 || n % TILE != 0) {
    fprintf(stderr, "sgemm: n must be a positive multiple of %d\n", TILE);
    return 1;
  }
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
  float *c = malloc(sizeof(float) * n * n);
  if (!a || !b || !c) {
    fprintf(stderr, "sgemm: %u x %u does not fit in memory\n", n, n);
    return 1;
  }
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t j = 0; j < n; ++j) {
      a[i * n + j] = input(i, j, 1);
      b[i * n + j] = input(i, j, 5);
      c[i * n + j] = NAN;
    }
  uint64_t args[] = {twasm_arg_i32((int32_t)n), twasm_arg_ptr(a),
                     twasm_arg_ptr(b), twasm_arg_ptr(c)};
  uint64_t start = twasm_time_ns();
  int launched = twasm_launch("sgemm", twasm_dim(n / TILE, n / TILE, 1),
                              twasm_dim(TILE, ROWS, 1), 2 * TILE * TILE * 4,
                              args, 4);
  int outcome = twasm_synchronize();
  uint64_t elapsed = twasm_time_ns() - start;
  if (launched != 0 || outcome != 0) {
    fprintf(stderr, "sgemm: launch %d, outcome %d\n", launched, outcome);
    return 1;
  }
  uint32_t wrong = 0;
  double trace = 0;
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t j = 0; j < n; ++j) {
      float expected = 0;
      for (uint32_t k = 0; k < n; ++k)
        expected = fmaf(a[i * n + k], b[k * n + j], expected);
      if (c[i * n + j] != expected)
        ++wrong;
    }
  for (uint32_t i = 0; i < n; ++i)
    trace += c[i * n + i];
  printf("sgemm: %u x %u, %u wrong, trace %.2f, c[1][2] %.2f\n", n, n, wrong,
         trace, c[1 * n + 2]);
  fprintf(stderr, "sgemm: kernel in %.3f ms\n", elapsed / 1e6);
  return wrong != 0;
}
