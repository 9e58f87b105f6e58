/* TensorWasm kernel ABI for C authors (docs/kernel-abi.md): kernel
 * declaration, SPMD intrinsics, shared scratch, warp operations, fast math.
 * Compile with: clang-22 --target=wasm32 -O2 -nostdlib -matomics
 *   -Wl,--no-entry -Wl,--import-undefined -I include kernel.c -o kernel.wasm
 */
#ifndef TWASM_KERNEL_H
#define TWASM_KERNEL_H

#if !defined(__wasm__)
#error "twasm/kernel.h is for kernels compiled to WebAssembly (--target=wasm32)"
#endif

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Declares an exported kernel: TWASM_KERNEL(saxpy)(int n, float *x) { ... }.
 * The assembler directive appends "name\0" to the twasm.kernels custom
 * section, which is how the compiler knows the export is a kernel. (The wasm
 * assembler has no .pushsection; the compiler states every function's section
 * itself, so switching back to .text is enough.) */
#define TWASM_KERNEL(name)                                                     \
  __asm__(".section .custom_section.twasm.kernels,\"\",@\n"                    \
          ".asciz \"" #name "\"\n"                                             \
          ".text\n");                                                          \
  __attribute__((export_name(#name))) void name

#define TWASM_STRINGIFY_(x) #x
#define TWASM_STRINGIFY(x) TWASM_STRINGIFY_(x)

/* Declares a kernel's launch shape: it always runs in blocks of bx*by*bz
 * threads with shared_bytes of shared scratch. The compiler then knows the
 * block geometry and the scratch size as constants (so it can prove accesses
 * in bounds and budget registers), and the runtime refuses any other launch
 * of the kernel. Arguments are integer constant expressions. */
#define TWASM_KERNEL_SHAPE(name, bx, by, bz, shared_bytes)                     \
  __asm__(".section .custom_section.twasm.kernel_shapes,\"\",@\n"              \
          ".asciz \"" #name "\"\n"                                             \
          ".int32 " TWASM_STRINGIFY(                                           \
              bx) "\n"                                                         \
                  ".int32 " TWASM_STRINGIFY(                                   \
                      by) "\n"                                                 \
                          ".int32 " TWASM_STRINGIFY(                           \
                              bz) "\n"                                         \
                                  ".int32 " TWASM_STRINGIFY(                   \
                                      shared_bytes) "\n"                       \
                                                    ".text\n")

#define TWASM_INTRINSIC(name)                                                  \
  __attribute__((import_module("twasm"), import_name(#name)))
/* Geometry and math depend on nothing but their arguments within a thread:
 * clang may hoist and merge them. Barriers and warp operations involve the
 * other threads: clang must not move them across control flow (which would
 * change which threads take part). */
#define TWASM_CONST __attribute__((const))
#define TWASM_CONVERGENT __attribute__((convergent))

/* Geometry. */
TWASM_INTRINSIC(thread_id_x) TWASM_CONST uint32_t twasm_thread_id_x(void);
TWASM_INTRINSIC(thread_id_y) TWASM_CONST uint32_t twasm_thread_id_y(void);
TWASM_INTRINSIC(thread_id_z) TWASM_CONST uint32_t twasm_thread_id_z(void);
TWASM_INTRINSIC(block_id_x) TWASM_CONST uint32_t twasm_block_id_x(void);
TWASM_INTRINSIC(block_id_y) TWASM_CONST uint32_t twasm_block_id_y(void);
TWASM_INTRINSIC(block_id_z) TWASM_CONST uint32_t twasm_block_id_z(void);
TWASM_INTRINSIC(block_dim_x) TWASM_CONST uint32_t twasm_block_dim_x(void);
TWASM_INTRINSIC(block_dim_y) TWASM_CONST uint32_t twasm_block_dim_y(void);
TWASM_INTRINSIC(block_dim_z) TWASM_CONST uint32_t twasm_block_dim_z(void);
TWASM_INTRINSIC(grid_dim_x) TWASM_CONST uint32_t twasm_grid_dim_x(void);
TWASM_INTRINSIC(grid_dim_y) TWASM_CONST uint32_t twasm_grid_dim_y(void);
TWASM_INTRINSIC(grid_dim_z) TWASM_CONST uint32_t twasm_grid_dim_z(void);
TWASM_INTRINSIC(lane_id) TWASM_CONST uint32_t twasm_lane_id(void);

static inline uint32_t twasm_global_id_x(void) {
  return twasm_block_id_x() * twasm_block_dim_x() + twasm_thread_id_x();
}
static inline uint32_t twasm_global_id_y(void) {
  return twasm_block_id_y() * twasm_block_dim_y() + twasm_thread_id_y();
}
static inline uint32_t twasm_global_id_z(void) {
  return twasm_block_id_z() * twasm_block_dim_z() + twasm_thread_id_z();
}
/* Total threads in the grid along x, for grid-stride loops. */
static inline uint32_t twasm_global_size_x(void) {
  return twasm_grid_dim_x() * twasm_block_dim_x();
}

/* Synchronisation: every unfinished thread of the block arrives. */
TWASM_INTRINSIC(barrier) TWASM_CONVERGENT void twasm_barrier(void);

/* Shared scratch, addressed by element index (4- or 8-byte elements). */
TWASM_INTRINSIC(shared_size) TWASM_CONST uint32_t twasm_shared_size(void);
TWASM_INTRINSIC(shared_load_i32) int32_t twasm_shared_load_i32(uint32_t index);
TWASM_INTRINSIC(shared_load_f32) float twasm_shared_load_f32(uint32_t index);
TWASM_INTRINSIC(shared_load_i64) int64_t twasm_shared_load_i64(uint32_t index);
TWASM_INTRINSIC(shared_load_f64) double twasm_shared_load_f64(uint32_t index);
TWASM_INTRINSIC(shared_store_i32)
void twasm_shared_store_i32(uint32_t index, int32_t value);
TWASM_INTRINSIC(shared_store_f32)
void twasm_shared_store_f32(uint32_t index, float value);
TWASM_INTRINSIC(shared_store_i64)
void twasm_shared_store_i64(uint32_t index, int64_t value);
TWASM_INTRINSIC(shared_store_f64)
void twasm_shared_store_f64(uint32_t index, double value);
TWASM_INTRINSIC(shared_atomic_add_i32)
int32_t twasm_shared_atomic_add_i32(uint32_t index, int32_t value);
TWASM_INTRINSIC(shared_atomic_add_f32)
float twasm_shared_atomic_add_f32(uint32_t index, float value);

/* Warp operations over the active lanes; an absent source lane gives the
 * caller's own value. */
TWASM_INTRINSIC(shfl_down_i32)
TWASM_CONVERGENT int32_t twasm_shfl_down_i32(int32_t value, uint32_t delta);
TWASM_INTRINSIC(shfl_down_f32)
TWASM_CONVERGENT float twasm_shfl_down_f32(float value, uint32_t delta);
TWASM_INTRINSIC(shfl_up_i32)
TWASM_CONVERGENT int32_t twasm_shfl_up_i32(int32_t value, uint32_t delta);
TWASM_INTRINSIC(shfl_up_f32)
TWASM_CONVERGENT float twasm_shfl_up_f32(float value, uint32_t delta);
TWASM_INTRINSIC(shfl_xor_i32)
TWASM_CONVERGENT int32_t twasm_shfl_xor_i32(int32_t value, uint32_t mask);
TWASM_INTRINSIC(shfl_xor_f32)
TWASM_CONVERGENT float twasm_shfl_xor_f32(float value, uint32_t mask);
TWASM_INTRINSIC(shfl_idx_i32)
TWASM_CONVERGENT int32_t twasm_shfl_idx_i32(int32_t value, uint32_t lane);
TWASM_INTRINSIC(shfl_idx_f32)
TWASM_CONVERGENT float twasm_shfl_idx_f32(float value, uint32_t lane);
TWASM_INTRINSIC(vote_any)
TWASM_CONVERGENT int32_t twasm_vote_any(int32_t predicate);
TWASM_INTRINSIC(vote_all)
TWASM_CONVERGENT int32_t twasm_vote_all(int32_t predicate);
TWASM_INTRINSIC(ballot)
TWASM_CONVERGENT uint32_t twasm_ballot(int32_t predicate);

/* Fast math: approximations on the GPU (see docs/kernel-abi.md for the
 * accuracy), libm on the CPU. twasm_fmaf is exact everywhere. */
TWASM_INTRINSIC(expf) TWASM_CONST float twasm_expf(float x);
TWASM_INTRINSIC(exp2f) TWASM_CONST float twasm_exp2f(float x);
TWASM_INTRINSIC(logf) TWASM_CONST float twasm_logf(float x);
TWASM_INTRINSIC(log2f) TWASM_CONST float twasm_log2f(float x);
TWASM_INTRINSIC(tanhf) TWASM_CONST float twasm_tanhf(float x);
TWASM_INTRINSIC(rsqrtf) TWASM_CONST float twasm_rsqrtf(float x);
TWASM_INTRINSIC(sinf) TWASM_CONST float twasm_sinf(float x);
TWASM_INTRINSIC(cosf) TWASM_CONST float twasm_cosf(float x);
TWASM_INTRINSIC(fmaf) TWASM_CONST float twasm_fmaf(float a, float b, float c);

/* Float atomic add on linear memory (integer atomics are C11 atomics). */
TWASM_INTRINSIC(atomic_add_f32)
float twasm_atomic_add_f32(float *address, float value);

#undef TWASM_INTRINSIC
#undef TWASM_CONST
#undef TWASM_CONVERGENT

#ifdef __cplusplus
}
#endif

#endif /* TWASM_KERNEL_H */
