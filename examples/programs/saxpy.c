// A program with its kernel: makes its data, launches saxpy (y = a*x + y)
// on whichever device runs its kernels, checks every element against the
// same computation done by its host code, and prints a summary.
#include <twasm/host.h>
#include <twasm/kernel.h>

#include <stdio.h>
#include <stdlib.h>

TWASM_KERNEL(saxpy)(int n, float a, const float *x, float *y) {
  int i = (int)twasm_global_id_x();
  if (i < n)
    y[i] = a * x[i] + y[i];
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1 << 20;
  const float a = 2.5f;
  float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
  if (!x || !y) {
    fprintf(stderr, "saxpy: %d elements do not fit in memory\n", n);
    return 1;
  }
  for (int i = 0; i < n; ++i) {
    x[i] = (float)(i % 1000) * 0.001f;
    y[i] = (float)(i % 7) - 3.0f;
  }
  uint64_t args[] = {twasm_arg_i32(n), twasm_arg_f32(a), twasm_arg_ptr(x),
                     twasm_arg_ptr(y)};
  uint32_t block = 256, grid = (n + block - 1) / block;
  uint64_t start = twasm_time_ns();
  int launched = twasm_launch("saxpy", twasm_dim(grid, 1, 1),
                              twasm_dim(block, 1, 1), 0, args, 4);
  int outcome = twasm_synchronize();
  uint64_t elapsed = twasm_time_ns() - start;
  if (launched != 0 || outcome != 0) {
    fprintf(stderr, "saxpy: launch %d, outcome %d\n", launched, outcome);
    return 1;
  }
  int wrong = 0;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    float expected = a * ((float)(i % 1000) * 0.001f) + ((float)(i % 7) - 3.0f);
    if (y[i] != expected)
      ++wrong;
    sum += y[i];
  }
  char device[64];
  int length = twasm_device_name(device, sizeof device - 1);
  device[length < (int)sizeof device - 1 ? length : (int)sizeof device - 1] = 0;
  printf("saxpy: %d elements, %d wrong, sum %.6f\n", n, wrong, sum);
  fprintf(stderr, "saxpy: on %s in %.3f ms\n", device, elapsed / 1e6);
  return wrong != 0;
}
