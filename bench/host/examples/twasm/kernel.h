/* The example kernels' header (include/twasm/kernel.h) for a sequential
 * grid, so that an example kernel runs on engines that know nothing of
 * kernels: the CPU benchmark compiles an example's own source against this
 * header (it comes first on the include path) into a plain module whose
 * run() launches the kernel over its grid one thread after another, and
 * every engine, ours included, runs that same module.
 *
 * A launch calls the kernel once per thread, as a launch does on our CPU
 * backend; the geometry it asks for is read from where the launch put it.
 * The kernel stays an exported, never-inlined function, so that no compiler
 * specialises it for one launch's arguments.
 *
 * Only what a kernel can do alone is here: geometry. A kernel that
 * synchronises its threads (barriers, warp operations) or uses shared
 * scratch cannot run one thread after another; its use of those intrinsics
 * does not compile against this header, by design. */
#ifndef TWASM_BENCH_SEQUENTIAL_GRID_KERNEL_H
#define TWASM_BENCH_SEQUENTIAL_GRID_KERNEL_H

#include <stdint.h>

#define TWASM_KERNEL(name)                                                     \
  __attribute__((noinline, export_name(#name))) void name
/* A launch here uses whatever block the driver gives; the driver gives the
 * declared shape. */
#define TWASM_KERNEL_SHAPE(name, bx, by, bz, shared_bytes)

/* Where the launch in progress is: the thread's and the block's indices and
 * the grid's shape, as the GPU's registers would hold them. */
struct twasm_sequential_grid {
  uint32_t thread[3], block[3], block_dim[3], grid_dim[3];
};
static struct twasm_sequential_grid twasm_grid;

static inline uint32_t twasm_thread_id_x(void) { return twasm_grid.thread[0]; }
static inline uint32_t twasm_thread_id_y(void) { return twasm_grid.thread[1]; }
static inline uint32_t twasm_thread_id_z(void) { return twasm_grid.thread[2]; }
static inline uint32_t twasm_block_id_x(void) { return twasm_grid.block[0]; }
static inline uint32_t twasm_block_id_y(void) { return twasm_grid.block[1]; }
static inline uint32_t twasm_block_id_z(void) { return twasm_grid.block[2]; }
static inline uint32_t twasm_block_dim_x(void) {
  return twasm_grid.block_dim[0];
}
static inline uint32_t twasm_block_dim_y(void) {
  return twasm_grid.block_dim[1];
}
static inline uint32_t twasm_block_dim_z(void) {
  return twasm_grid.block_dim[2];
}
static inline uint32_t twasm_grid_dim_x(void) { return twasm_grid.grid_dim[0]; }
static inline uint32_t twasm_grid_dim_y(void) { return twasm_grid.grid_dim[1]; }
static inline uint32_t twasm_grid_dim_z(void) { return twasm_grid.grid_dim[2]; }
static inline uint32_t twasm_lane_id(void) {
  uint32_t linear =
      (twasm_grid.thread[2] * twasm_grid.block_dim[1] + twasm_grid.thread[1]) *
          twasm_grid.block_dim[0] +
      twasm_grid.thread[0];
  return linear % 32;
}

static inline uint32_t twasm_global_id_x(void) {
  return twasm_block_id_x() * twasm_block_dim_x() + twasm_thread_id_x();
}
static inline uint32_t twasm_global_id_y(void) {
  return twasm_block_id_y() * twasm_block_dim_y() + twasm_thread_id_y();
}
static inline uint32_t twasm_global_id_z(void) {
  return twasm_block_id_z() * twasm_block_dim_z() + twasm_thread_id_z();
}
static inline uint32_t twasm_global_size_x(void) {
  return twasm_grid_dim_x() * twasm_block_dim_x();
}

/* Runs `call` (a call of the kernel with its arguments) once for every
 * thread of a (gx, gy, gz) grid of (bx, by, bz) blocks, block after block,
 * in the order of the blocks' and threads' linear indices. */
#define TWASM_SEQUENTIAL_LAUNCH(gx, gy, gz, bx, by, bz, call)                  \
  do {                                                                         \
    twasm_grid.grid_dim[0] = (gx);                                             \
    twasm_grid.grid_dim[1] = (gy);                                             \
    twasm_grid.grid_dim[2] = (gz);                                             \
    twasm_grid.block_dim[0] = (bx);                                            \
    twasm_grid.block_dim[1] = (by);                                            \
    twasm_grid.block_dim[2] = (bz);                                            \
    for (uint32_t bz_ = 0; bz_ < (gz); ++bz_)                                  \
      for (uint32_t by_ = 0; by_ < (gy); ++by_)                                \
        for (uint32_t bx_ = 0; bx_ < (gx); ++bx_)                              \
          for (uint32_t tz_ = 0; tz_ < (bz); ++tz_)                            \
            for (uint32_t ty_ = 0; ty_ < (by); ++ty_)                          \
              for (uint32_t tx_ = 0; tx_ < (bx); ++tx_) {                      \
                twasm_grid.block[0] = bx_;                                     \
                twasm_grid.block[1] = by_;                                     \
                twasm_grid.block[2] = bz_;                                     \
                twasm_grid.thread[0] = tx_;                                    \
                twasm_grid.thread[1] = ty_;                                    \
                twasm_grid.thread[2] = tz_;                                    \
                call;                                                          \
              }                                                                \
  } while (0)

#endif /* TWASM_BENCH_SEQUENTIAL_GRID_KERNEL_H */
