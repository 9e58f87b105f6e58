// C = A * B for row-major n x n float matrices (n a multiple of 32), in
// 32 x 32 tiles staged through shared scratch; each thread accumulates four
// rows of its tile's column with fused multiply-adds.
#include <twasm/kernel.h>

#define TILE 32
#define ROWS 8
#define PER_THREAD (TILE / ROWS)

TWASM_KERNEL_SHAPE(sgemm, TILE, ROWS, 1, 2 * TILE * TILE * 4);

TWASM_KERNEL(sgemm)(uint32_t n, const float *a, const float *b, float *c) {
  uint32_t tx = twasm_thread_id_x(), ty = twasm_thread_id_y();
  uint32_t row = twasm_block_id_y() * TILE + ty;
  uint32_t col = twasm_block_id_x() * TILE + tx;
  // Shared scratch: the A tile at elements [0, 1024), the B tile after it.
  const uint32_t bTile = TILE * TILE;
  float acc[PER_THREAD] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (uint32_t t = 0; t < n; t += TILE) {
    for (uint32_t r = 0; r < PER_THREAD; ++r) {
      uint32_t local = (ty + r * ROWS) * TILE + tx;
      twasm_shared_store_f32(local, a[(row + r * ROWS) * n + t + tx]);
      twasm_shared_store_f32(bTile + local, b[(t + ty + r * ROWS) * n + col]);
    }
    twasm_barrier();
    for (uint32_t k = 0; k < TILE; ++k) {
      float bk = twasm_shared_load_f32(bTile + k * TILE + tx);
      for (uint32_t r = 0; r < PER_THREAD; ++r)
        acc[r] = twasm_fmaf(twasm_shared_load_f32((ty + r * ROWS) * TILE + k),
                            bk, acc[r]);
    }
    twasm_barrier();
  }
  for (uint32_t r = 0; r < PER_THREAD; ++r)
    c[(row + r * ROWS) * n + col] = acc[r];
}
