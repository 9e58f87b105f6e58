// Sorting N 32-bit integers with a bottom-up merge sort: data-dependent
// branches and two streams of loads per merged element.
#include "bench.h"

#define N (256 * 1024)

static int32_t input[N], bufferA[N], bufferB[N];
static int32_t *sorted;

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < N; ++i)
    input[i] = (int32_t)bench_next();
}

static void merge(const int32_t *in, int32_t *out, uint32_t lo, uint32_t mid,
                  uint32_t hi) {
  uint32_t i = lo, j = mid, k = lo;
  while (i < mid && j < hi)
    out[k++] = in[j] < in[i] ? in[j++] : in[i++];
  while (i < mid)
    out[k++] = in[i++];
  while (j < hi)
    out[k++] = in[j++];
}

void BENCH_EXPORT(run)(void) {
  int32_t *in = bufferA, *out = bufferB;
  for (uint32_t i = 0; i < N; ++i)
    in[i] = input[i];
  for (uint32_t width = 1; width < N; width *= 2) {
    for (uint32_t lo = 0; lo < N; lo += 2 * width) {
      uint32_t mid = lo + width < N ? lo + width : N;
      uint32_t hi = lo + 2 * width < N ? lo + 2 * width : N;
      merge(in, out, lo, mid, hi);
    }
    int32_t *swap = in;
    in = out;
    out = swap;
  }
  sorted = in;
}

uint64_t BENCH_EXPORT(checksum)(void) {
  uint64_t digest = BENCH_DIGEST_INIT;
  for (uint32_t i = 0; i < N; ++i)
    digest = bench_digest_u32(digest, (uint32_t)sorted[i]);
  return digest;
}
