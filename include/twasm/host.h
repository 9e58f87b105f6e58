/* TensorWasm host functions for C programs (docs/kernel-abi.md section 9,
 * docs/host-programs.md): a program's host code launches the kernels of its
 * own module over its own linear memory, waits for them, asks which device
 * runs them, reads a clock and logs.
 * Compile with: clang-22 --target=wasm32-wasip1 --sysroot=/usr -O2
 *   -I include program.c -o program.wasm
 * and run with `twasm run program.wasm`.
 */
#ifndef TWASM_HOST_H
#define TWASM_HOST_H

#if !defined(__wasm__)
#error "twasm/host.h is for programs compiled to WebAssembly (--target=wasm32)"
#endif

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TWASM_HOST_IMPORT(name)                                                \
  __attribute__((import_module("twasm_host"), import_name(#name)))

/* The raw imports. twasm_host_launch returns 0 when the kernel was launched
 * and a negative TWASM_LAUNCH_* when nothing ran; how a launched kernel
 * ended comes from twasm_synchronize. */
TWASM_HOST_IMPORT(launch)
int32_t twasm_host_launch(const char *kernel, uint32_t kernel_length,
                          uint32_t grid_x, uint32_t grid_y, uint32_t grid_z,
                          uint32_t block_x, uint32_t block_y, uint32_t block_z,
                          uint32_t shared_bytes, const uint64_t *arguments,
                          uint32_t argument_count);
/* Waits for the kernels launched so far: 0 when all completed, else the
 * trap code (docs/kernel-abi.md section 7) of the first that did not. */
TWASM_HOST_IMPORT(synchronize) int32_t twasm_synchronize(void);
/* TWASM_DEVICE_CPU or TWASM_DEVICE_CUDA. */
TWASM_HOST_IMPORT(device_kind) int32_t twasm_device_kind(void);
/* Writes at most `capacity` bytes of the device's name; returns its length. */
TWASM_HOST_IMPORT(device_name)
int32_t twasm_device_name(char *buffer, uint32_t capacity);
/* Nanoseconds of a monotonic clock. */
TWASM_HOST_IMPORT(time_ns) uint64_t twasm_time_ns(void);
/* One line on the runner's standard error. */
TWASM_HOST_IMPORT(log) void twasm_host_log(const char *text, uint32_t length);

enum {
  TWASM_LAUNCH_NO_SUCH_KERNEL = -1,
  TWASM_LAUNCH_WRONG_ARGUMENTS = -2,
  TWASM_LAUNCH_REFUSED = -3,
  TWASM_LAUNCH_OUTSIDE_MEMORY = -4,
  TWASM_LAUNCH_DEVICE_FAILURE = -5,
};
enum { TWASM_DEVICE_CPU = 0, TWASM_DEVICE_CUDA = 1 };

typedef struct {
  uint32_t x, y, z;
} twasm_dim3;

static inline twasm_dim3 twasm_dim(uint32_t x, uint32_t y, uint32_t z) {
  twasm_dim3 dim = {x, y, z};
  return dim;
}

/* A kernel argument as the launch takes it: 8 bytes, a 32-bit value in the
 * low half. A pointer is its offset in linear memory. */
static inline uint64_t twasm_arg_i32(int32_t value) { return (uint32_t)value; }
static inline uint64_t twasm_arg_i64(int64_t value) { return (uint64_t)value; }
static inline uint64_t twasm_arg_f32(float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  return bits;
}
static inline uint64_t twasm_arg_f64(double value) {
  uint64_t bits;
  memcpy(&bits, &value, 8);
  return bits;
}
static inline uint64_t twasm_arg_ptr(const void *pointer) {
  return (uint32_t)(uintptr_t)pointer;
}

/* Launches the kernel exported as `kernel` over `grid` blocks of `block`
 * threads with `shared_bytes` of shared scratch per block. */
static inline int32_t twasm_launch(const char *kernel, twasm_dim3 grid,
                                   twasm_dim3 block, uint32_t shared_bytes,
                                   const uint64_t *arguments,
                                   uint32_t argument_count) {
  return twasm_host_launch(kernel, (uint32_t)strlen(kernel), grid.x, grid.y,
                           grid.z, block.x, block.y, block.z, shared_bytes,
                           arguments, argument_count);
}

static inline void twasm_log(const char *text) {
  twasm_host_log(text, (uint32_t)strlen(text));
}

#ifdef __cplusplus
}
#endif

#endif /* TWASM_HOST_H */
