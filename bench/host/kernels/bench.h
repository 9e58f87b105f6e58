// What every CPU benchmark kernel shares: the three exports' names, a seeded
// generator for the inputs and the digest of the outputs.
//
// Each kernel is a freestanding Wasm module (no libc, no malloc: its buffers
// are static arrays) exporting the same protocol, so that every engine runs
// it the same way:
//
//   void init(uint32_t seed)  fills the inputs deterministically;
//   void run(void)            the measured work, once; it rewrites all of its
//                             outputs from the inputs, so running it any
//                             number of times leaves the same state;
//   uint64_t checksum(void)   a digest of the outputs, equal on every engine.

#ifndef TWASM_BENCH_HOST_KERNELS_BENCH_H
#define TWASM_BENCH_HOST_KERNELS_BENCH_H

#include <stdint.h>

#define BENCH_EXPORT(name) __attribute__((export_name(#name))) name

// xorshift32: small, and exact on every engine (integer arithmetic only).
static uint32_t bench_state;

static inline void bench_seed(uint32_t seed) {
  bench_state = seed ? seed : 0x9e3779b9u; // the state must not be zero
}

static inline uint32_t bench_next(void) {
  uint32_t x = bench_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return bench_state = x;
}

// A float in [-1, 1), from the top 24 bits so that it is exact.
static inline float bench_next_float(void) {
  return (float)(int32_t)(bench_next() >> 8) * (1.0f / 8388608.0f) - 1.0f;
}

// FNV-1a over 32-bit words: floats are digested by their bits, so the
// checksum says whether two engines computed exactly the same values.
#define BENCH_DIGEST_INIT 0xcbf29ce484222325ull

static inline uint64_t bench_digest_u32(uint64_t digest, uint32_t word) {
  return (digest ^ word) * 0x100000001b3ull;
}

static inline uint64_t bench_digest_u64(uint64_t digest, uint64_t word) {
  digest = bench_digest_u32(digest, (uint32_t)word);
  return bench_digest_u32(digest, (uint32_t)(word >> 32));
}

static inline uint64_t bench_digest_f32(uint64_t digest, float value) {
  return bench_digest_u32(digest, __builtin_bit_cast(uint32_t, value));
}

static inline uint64_t bench_digest_f64(uint64_t digest, double value) {
  return bench_digest_u64(digest, __builtin_bit_cast(uint64_t, value));
}

#endif // TWASM_BENCH_HOST_KERNELS_BENCH_H
