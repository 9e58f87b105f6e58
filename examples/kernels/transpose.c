// out = transpose(in) for a height x width matrix of floats, through
// 32 x 32 shared tiles (padded by one column so that neither the reads nor
// the writes of a warp collide on a shared-memory bank).
#include <twasm/kernel.h>

#define TILE 32
#define ROWS 8

TWASM_KERNEL_SHAPE(transpose, TILE, ROWS, 1, TILE * (TILE + 1) * 4);

TWASM_KERNEL(transpose)(uint32_t width, uint32_t height, const float *in,
                        float *out) {
  uint32_t tx = twasm_thread_id_x(), ty = twasm_thread_id_y();
  uint32_t x = twasm_block_id_x() * TILE + tx;
  uint32_t y = twasm_block_id_y() * TILE + ty;
  for (uint32_t j = 0; j < TILE; j += ROWS)
    if (x < width && y + j < height)
      twasm_shared_store_f32((ty + j) * (TILE + 1) + tx,
                             in[(y + j) * width + x]);
  twasm_barrier();
  x = twasm_block_id_y() * TILE + tx;
  y = twasm_block_id_x() * TILE + ty;
  for (uint32_t j = 0; j < TILE; j += ROWS)
    if (x < height && y + j < width)
      out[(y + j) * height + x] =
          twasm_shared_load_f32(tx * (TILE + 1) + ty + j);
}
