// saxpy: y[i] = a * x[i] + y[i] for i in [0, n), over float arrays in linear
// memory. Exported to Wasm as "saxpy"; pointers are offsets into the memory.
//
//   clang-22 --target=wasm32 -nostdlib -O2 -Wl,--no-entry saxpy.c -o saxpy.wasm

__attribute__((export_name("saxpy"))) void saxpy(int n, float a,
                                                 const float *x, float *y) {
  for (int i = 0; i < n; ++i)
    y[i] = a * x[i] + y[i];
}
