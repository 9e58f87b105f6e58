// nvcc twin of examples/kernels/reduce_sum.c.
#define BLOCK 256
#define WARPS (BLOCK / 32)

__device__ float warp_sum(float value) {
  for (unsigned offset = 16; offset > 0; offset /= 2)
    value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;
}

extern "C" __global__ void __launch_bounds__(BLOCK)
    reduce_sum(unsigned n, const float *x, float *partial) {
  __shared__ float warps[WARPS];
  unsigned tid = threadIdx.x;
  float sum = 0.0f;
  for (unsigned i = blockIdx.x * blockDim.x + tid; i < n;
       i += gridDim.x * blockDim.x)
    sum += x[i];
  sum = warp_sum(sum);
  unsigned lane = tid % 32, warp = tid / 32;
  if (lane == 0)
    warps[warp] = sum;
  __syncthreads();
  if (warp == 0) {
    sum = warp_sum(lane < WARPS ? warps[lane] : 0.0f);
    if (lane == 0)
      partial[blockIdx.x] = sum;
  }
}
