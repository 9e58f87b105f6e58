// nvcc twin of examples/kernels/stencil.c.
extern "C" __global__ void __launch_bounds__(256)
    stencil5(unsigned width, unsigned height, float c0, float c1,
             const float *in, float *out) {
  unsigned x = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= height)
    return;
  unsigned i = y * width + x;
  if (x == 0 || y == 0 || x == width - 1 || y == height - 1) {
    out[i] = in[i];
    return;
  }
  out[i] = c0 * in[i] +
           c1 * (in[i - 1] + in[i + 1] + in[i - width] + in[i + width]);
}
