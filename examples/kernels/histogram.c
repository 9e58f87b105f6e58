// Histogram of the bytes of n 32-bit words into 256 bins: each block counts
// into a private histogram in shared scratch with shared atomics, then adds
// it to the global bins with Wasm atomics (i32.atomic.rmw.add).
#include <twasm/kernel.h>

#define BLOCK 256
#define BINS 256

TWASM_KERNEL_SHAPE(histogram, BLOCK, 1, 1, BINS * 4);

TWASM_KERNEL(histogram)(uint32_t n, const uint32_t *data, uint32_t *bins) {
  uint32_t tid = twasm_thread_id_x();
  twasm_shared_store_i32(tid, 0); // one bin per thread: BLOCK == BINS
  twasm_barrier();
  for (uint32_t i = twasm_global_id_x(); i < n; i += twasm_global_size_x()) {
    uint32_t word = data[i];
    for (uint32_t byte = 0; byte < 4; ++byte)
      twasm_shared_atomic_add_i32((word >> (8 * byte)) & 0xff, 1);
  }
  twasm_barrier();
  __atomic_fetch_add(&bins[tid], (uint32_t)twasm_shared_load_i32(tid),
                     __ATOMIC_RELAXED);
}
