// A program with its kernel: row-wise softmax of a rows x cols matrix with
// the softmax example kernel, checked against the host code's own softmax
// (libm's expf). The kernel's expf is the device's fast one (accurate to a
// few ulp, docs/kernel-abi.md), so the check has a tolerance; what is
// printed is the same on every device.
#include "../kernels/softmax.c"

#include <twasm/host.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  uint32_t rows = argc > 1 ? (uint32_t)atoi(argv[1]) : 512;
  uint32_t cols = argc > 2 ? (uint32_t)atoi(argv[2]) : 1000;
  float *in = malloc(sizeof(float) * rows * cols);
  float *out = malloc(sizeof(float) * rows * cols);
  if (!in || !out || rows == 0 || cols == 0) {
    fprintf(stderr, "softmax: %u x %u: no room or nothing to do\n", rows,
            cols);
    return 1;
  }
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t c = 0; c < cols; ++c)
      in[r * cols + c] = (float)((r * 31 + c * 17) % 101) * 0.05f - 2.5f;
  uint64_t args[] = {twasm_arg_i32((int32_t)rows), twasm_arg_i32((int32_t)cols),
                     twasm_arg_ptr(in), twasm_arg_ptr(out)};
  uint64_t start = twasm_time_ns();
  int launched = twasm_launch("softmax", twasm_dim(rows, 1, 1),
                              twasm_dim(BLOCK, 1, 1), WARPS * 4, args, 4);
  int outcome = twasm_synchronize();
  uint64_t elapsed = twasm_time_ns() - start;
  if (launched != 0 || outcome != 0) {
    fprintf(stderr, "softmax: launch %d, outcome %d\n", launched, outcome);
    return 1;
  }
  uint32_t outside = 0, argmaxWrong = 0;
  double worst = 0;
  for (uint32_t r = 0; r < rows; ++r) {
    const float *x = in + r * cols, *y = out + r * cols;
    float max = -INFINITY;
    uint32_t argmax = 0;
    for (uint32_t c = 0; c < cols; ++c)
      if (x[c] > max) {
        max = x[c];
        argmax = c;
      }
    double sum = 0;
    for (uint32_t c = 0; c < cols; ++c)
      sum += exp((double)x[c] - max);
    uint32_t kernelArgmax = 0;
    for (uint32_t c = 0; c < cols; ++c) {
      double expected = exp((double)x[c] - max) / sum;
      double error = fabs(y[c] - expected) / expected;
      if (error > worst)
        worst = error;
      if (error > 1e-5)
        ++outside;
      if (y[c] > y[kernelArgmax])
        kernelArgmax = c;
    }
    argmaxWrong += kernelArgmax != argmax;
  }
  printf("softmax: %u x %u, %u values off by more than 1e-5 (relative), %u "
         "rows with another largest element\n",
         rows, cols, outside, argmaxWrong);
  fprintf(stderr, "softmax: kernel in %.3f ms, worst relative error %.2g\n",
          elapsed / 1e6, worst);
  return outside != 0 || argmaxWrong != 0;
}
