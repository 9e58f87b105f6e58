// Sum of n floats: each block reduces a grid-stride share of the input
// through warp shuffles and shared scratch and writes one partial sum;
// launching the kernel again on the partials (one block) gives the total.
#include <twasm/kernel.h>

#define BLOCK 256
#define WARPS (BLOCK / 32)

TWASM_KERNEL_SHAPE(reduce_sum, BLOCK, 1, 1, WARPS * 4);

static float warp_sum(float value) {
  for (uint32_t offset = 16; offset > 0; offset /= 2)
    value += twasm_shfl_down_f32(value, offset);
  return value;
}

TWASM_KERNEL(reduce_sum)(uint32_t n, const float *x, float *partial) {
  uint32_t tid = twasm_thread_id_x();
  float sum = 0.0f;
  for (uint32_t i = twasm_global_id_x(); i < n; i += twasm_global_size_x())
    sum += x[i];
  sum = warp_sum(sum);
  uint32_t lane = tid % 32, warp = tid / 32;
  if (lane == 0)
    twasm_shared_store_f32(warp, sum);
  twasm_barrier();
  if (warp == 0) {
    sum = warp_sum(lane < WARPS ? twasm_shared_load_f32(lane) : 0.0f);
    if (lane == 0)
      partial[twasm_block_id_x()] = sum;
  }
}
