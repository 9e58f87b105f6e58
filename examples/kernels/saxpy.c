// y = a*x + y over n floats, one element per thread.
#include <twasm/kernel.h>

TWASM_KERNEL(saxpy)(int n, float a, const float *x, float *y) {
  int i = (int)twasm_global_id_x();
  if (i < n)
    y[i] = a * x[i] + y[i];
}
