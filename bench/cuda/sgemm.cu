// nvcc twin of examples/kernels/sgemm.c.
#define TILE 32
#define ROWS 8
#define PER_THREAD (TILE / ROWS)

extern "C" __global__ void __launch_bounds__(TILE * ROWS)
    sgemm(unsigned n, const float *a, const float *b, float *c) {
  __shared__ float as[TILE * TILE];
  __shared__ float bs[TILE * TILE];
  unsigned tx = threadIdx.x, ty = threadIdx.y;
  unsigned row = blockIdx.y * TILE + ty;
  unsigned col = blockIdx.x * TILE + tx;
  float acc[PER_THREAD] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (unsigned t = 0; t < n; t += TILE) {
    for (unsigned r = 0; r < PER_THREAD; ++r) {
      unsigned local = (ty + r * ROWS) * TILE + tx;
      as[local] = a[(row + r * ROWS) * n + t + tx];
      bs[local] = b[(t + ty + r * ROWS) * n + col];
    }
    __syncthreads();
    for (unsigned k = 0; k < TILE; ++k) {
      float bk = bs[k * TILE + tx];
      for (unsigned r = 0; r < PER_THREAD; ++r)
        acc[r] = fmaf(as[(ty + r * ROWS) * TILE + k], bk, acc[r]);
    }
    __syncthreads();
  }
  for (unsigned r = 0; r < PER_THREAD; ++r)
    c[(row + r * ROWS) * n + col] = acc[r];
}
