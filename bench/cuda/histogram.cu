// nvcc twin of examples/kernels/histogram.c.
#define BLOCK 256
#define BINS 256

extern "C" __global__ void __launch_bounds__(BLOCK)
    histogram(unsigned n, const unsigned *data, unsigned *bins) {
  __shared__ unsigned local[BINS];
  unsigned tid = threadIdx.x;
  local[tid] = 0;
  __syncthreads();
  for (unsigned i = blockIdx.x * blockDim.x + tid; i < n;
       i += gridDim.x * blockDim.x) {
    unsigned word = data[i];
    for (unsigned byte = 0; byte < 4; ++byte)
      atomicAdd(&local[(word >> (8 * byte)) & 0xff], 1u);
  }
  __syncthreads();
  atomicAdd(&bins[tid], local[tid]);
}
