// An n-body simulation in double precision: all-pairs gravity (a division
// and a square root per pair), then a leapfrog step, STEPS times.
#include "bench.h"

#define BODIES 512
#define STEPS 10

typedef struct {
  double x, y, z;
} Vec;

static Vec initialPos[BODIES], initialVel[BODIES];
static Vec pos[BODIES], vel[BODIES];
static double mass[BODIES];

static const double dt = 0.01, softening = 0.01;

void BENCH_EXPORT(init)(uint32_t seed) {
  bench_seed(seed);
  for (uint32_t i = 0; i < BODIES; ++i) {
    initialPos[i] = (Vec){bench_next_float() * 10.0, bench_next_float() * 10.0,
                          bench_next_float() * 10.0};
    initialVel[i] = (Vec){bench_next_float() * 0.1, bench_next_float() * 0.1,
                          bench_next_float() * 0.1};
    mass[i] = 1.0 + (bench_next() & 0xffff) * (1.0 / 65536.0);
  }
}

// Not inlined: each step is a call, as in a simulation with more to do.
__attribute__((noinline)) static void accelerate(void) {
  for (uint32_t i = 0; i < BODIES; ++i) {
    Vec p = pos[i];
    double ax = 0.0, ay = 0.0, az = 0.0;
    for (uint32_t j = 0; j < BODIES; ++j) {
      double dx = pos[j].x - p.x, dy = pos[j].y - p.y, dz = pos[j].z - p.z;
      double d2 = dx * dx + dy * dy + dz * dz + softening;
      double inv = 1.0 / (d2 * __builtin_sqrt(d2));
      ax += mass[j] * dx * inv;
      ay += mass[j] * dy * inv;
      az += mass[j] * dz * inv;
    }
    vel[i].x += ax * dt;
    vel[i].y += ay * dt;
    vel[i].z += az * dt;
  }
}

static void drift(void) {
  for (uint32_t i = 0; i < BODIES; ++i) {
    pos[i].x += vel[i].x * dt;
    pos[i].y += vel[i].y * dt;
    pos[i].z += vel[i].z * dt;
  }
}

void BENCH_EXPORT(run)(void) {
  for (uint32_t i = 0; i < BODIES; ++i) {
    pos[i] = initialPos[i];
    vel[i] = initialVel[i];
  }
  for (uint32_t step = 0; step < STEPS; ++step) {
    accelerate();
    drift();
  }
}

uint64_t BENCH_EXPORT(checksum)(void) {
  uint64_t digest = BENCH_DIGEST_INIT;
  for (uint32_t i = 0; i < BODIES; ++i) {
    digest = bench_digest_f64(digest, pos[i].x);
    digest = bench_digest_f64(digest, pos[i].y);
    digest = bench_digest_f64(digest, pos[i].z);
  }
  return digest;
}
