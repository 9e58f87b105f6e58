// One Jacobi step of the 2D 5-point stencil on a height x width grid:
// out = c0 * in + c1 * (sum of the four neighbours); the boundary is copied.
#include <twasm/kernel.h>

TWASM_KERNEL_SHAPE(stencil5, 32, 8, 1, 0);

TWASM_KERNEL(stencil5)(uint32_t width, uint32_t height, float c0, float c1,
                       const float *in, float *out) {
  uint32_t x = twasm_global_id_x(), y = twasm_global_id_y();
  if (x >= width || y >= height)
    return;
  uint32_t i = y * width + x;
  if (x == 0 || y == 0 || x == width - 1 || y == height - 1) {
    out[i] = in[i];
    return;
  }
  out[i] = c0 * in[i] +
           c1 * (in[i - 1] + in[i + 1] + in[i - width] + in[i + width]);
}
