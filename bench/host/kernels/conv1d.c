// A 1D convolution (FIR filter) of N single-precision samples with TAPS
// coefficients: a short inner loop over the taps for every output.
#include "bench.h"

#define N (1024 * 1024)
#define TAPS 32

static float signal[N + TAPS - 1], taps[TAPS], output[N];

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < N + TAPS - 1; ++i)
    signal[i] = bench_next_float();
  for (uint32_t t = 0; t < TAPS; ++t)
    taps[t] = bench_next_float() * (1.0f / TAPS);
}

void BENCH_EXPORT(run)(void) {
  for (uint32_t i = 0; i < N; ++i) {
    // The sum starts from the first term.
    float acc = taps[0] * signal[i];
    for (uint32_t t = 1; t < TAPS; ++t)
      acc += taps[t] * signal[i + t];
    output[i] = acc;
  }
}

uint64_t BENCH_EXPORT(checksum)(void) {
  uint64_t digest = BENCH_DIGEST_INIT;
  for (uint32_t i = 0; i < N; ++i)
    digest = bench_digest_f32(digest, output[i]);
  return digest;
}
