// nvcc twin of examples/kernels/transpose.c.
#define TILE 32
#define ROWS 8

extern "C" __global__ void __launch_bounds__(TILE * ROWS)
    transpose(unsigned width, unsigned height, const float *in, float *out) {
  __shared__ float tile[TILE][TILE + 1];
  unsigned tx = threadIdx.x, ty = threadIdx.y;
  unsigned x = blockIdx.x * TILE + tx;
  unsigned y = blockIdx.y * TILE + ty;
  for (unsigned j = 0; j < TILE; j += ROWS)
    if (x < width && y + j < height)
      tile[ty + j][tx] = in[(y + j) * width + x];
  __syncthreads();
  x = blockIdx.y * TILE + tx;
  y = blockIdx.x * TILE + ty;
  for (unsigned j = 0; j < TILE; j += ROWS)
    if (x < height && y + j < width)
      out[(y + j) * height + x] = tile[tx][ty + j];
}
