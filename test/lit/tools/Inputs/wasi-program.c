// A C program for `twasm run`: what it prints depends only on its
// arguments and environment, so that Wasmtime and TensorWasm print the same.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  printf("argc %d\n", argc);
  for (int i = 1; i < argc; ++i)
    printf("argv[%d] %s\n", i, argv[i]);
  const char *greeting = getenv("GREETING");
  printf("GREETING %s\n", greeting ? greeting : "(unset)");
  printf("HOME %s\n", getenv("HOME") ? "set" : "(unset)");
  printf("formats %d %u %lld %.3f %g %e %s %c %x\n", -42, 42u, -1234567890123LL,
         3.14159, 1e-300, 6.02e23, "text", 'c', 0xbeef);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  clock_gettime(CLOCK_MONOTONIC, &b);
  int monotonic = b.tv_sec > a.tv_sec ||
                  (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec);
  printf("monotonic %d\n", monotonic);
  printf("realtime after 2020 %d\n", time(NULL) > 1577836800);
  unsigned char bytes[64] = {0};
  arc4random_buf(bytes, sizeof bytes);
  int nonzero = 0;
  for (size_t i = 0; i < sizeof bytes; ++i)
    nonzero += bytes[i] != 0;
  printf("random %d\n", nonzero > 32);
  fprintf(stderr, "to stderr\n");
  char *big = malloc(1 << 20);
  memset(big, 7, 1 << 20);
  printf("malloc %d\n", big[12345]);
  fflush(stdout);
  int status = argc > 1 ? atoi(argv[argc - 1]) : 0;
  if (status > 0)
    exit(status);
  return 0;
}
