// Row-wise softmax of a rows x cols float matrix, one block per row:
// max, then the sum of exponentials, then the normalised exponentials, with
// block-wide reductions through warp shuffles and shared scratch.
#include <twasm/kernel.h>

#define BLOCK 256
#define WARPS (BLOCK / 32)

TWASM_KERNEL_SHAPE(softmax, BLOCK, 1, 1, WARPS * 4);

static float block_reduce(float value, int is_max) {
  for (uint32_t offset = 16; offset > 0; offset /= 2) {
    float other = twasm_shfl_down_f32(value, offset);
    value = is_max ? (other > value ? other : value) : value + other;
  }
  uint32_t tid = twasm_thread_id_x();
  uint32_t lane = tid % 32, warp = tid / 32;
  if (lane == 0)
    twasm_shared_store_f32(warp, value);
  twasm_barrier();
  value = twasm_shared_load_f32(0);
  for (uint32_t w = 1; w < WARPS; ++w) {
    float other = twasm_shared_load_f32(w);
    value = is_max ? (other > value ? other : value) : value + other;
  }
  // Everyone has read the scratch before the next reduction reuses it.
  twasm_barrier();
  return value;
}

TWASM_KERNEL(softmax)(uint32_t rows, uint32_t cols, const float *in,
                      float *out) {
  uint32_t row = twasm_block_id_x();
  if (row >= rows)
    return;
  const float *x = in + row * cols;
  float *y = out + row * cols;
  uint32_t tid = twasm_thread_id_x();

  float max = -__builtin_inff();
  for (uint32_t c = tid; c < cols; c += BLOCK)
    max = x[c] > max ? x[c] : max;
  max = block_reduce(max, 1);

  float sum = 0.0f;
  for (uint32_t c = tid; c < cols; c += BLOCK)
    sum += twasm_expf(x[c] - max);
  float scale = 1.0f / block_reduce(sum, 0);

  for (uint32_t c = tid; c < cols; c += BLOCK)
    y[c] = twasm_expf(x[c] - max) * scale;
}
