// nvcc twin of examples/kernels/softmax.c (__expf is what twasm_expf is).
#define BLOCK 256
#define WARPS (BLOCK / 32)

__device__ float block_reduce(float value, bool is_max, float *scratch) {
  for (unsigned offset = 16; offset > 0; offset /= 2) {
    float other = __shfl_down_sync(0xffffffffu, value, offset);
    value = is_max ? (other > value ? other : value) : value + other;
  }
  unsigned tid = threadIdx.x;
  unsigned lane = tid % 32, warp = tid / 32;
  if (lane == 0)
    scratch[warp] = value;
  __syncthreads();
  value = scratch[0];
  for (unsigned w = 1; w < WARPS; ++w) {
    float other = scratch[w];
    value = is_max ? (other > value ? other : value) : value + other;
  }
  __syncthreads();
  return value;
}

extern "C" __global__ void __launch_bounds__(BLOCK)
    softmax(unsigned rows, unsigned cols, const float *in, float *out) {
  __shared__ float scratch[WARPS];
  unsigned row = blockIdx.x;
  if (row >= rows)
    return;
  const float *x = in + (size_t)row * cols;
  float *y = out + (size_t)row * cols;
  unsigned tid = threadIdx.x;

  float max = -__int_as_float(0x7f800000);
  for (unsigned c = tid; c < cols; c += BLOCK)
    max = x[c] > max ? x[c] : max;
  max = block_reduce(max, true, scratch);

  float sum = 0.0f;
  for (unsigned c = tid; c < cols; c += BLOCK)
    sum += __expf(x[c] - max);
  float scale = 1.0f / block_reduce(sum, false, scratch);

  for (unsigned c = tid; c < cols; c += BLOCK)
    y[c] = __expf(x[c] - max) * scale;
}
