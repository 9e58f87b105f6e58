//===- KernelInstance.h - an example module's instance on any device -*- C++
//-*-===//
//
// What the example kernels' cases (KernelCases.h) need of a device: an
// instance of a compiled module whose linear memory they fill and read, and
// launches of its kernels. The GPU harness and the CPU runtime both provide
// it.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_BENCH_GPU_KERNELINSTANCE_H
#define TWASM_BENCH_GPU_KERNELINSTANCE_H

#include "twasm/KernelAbi.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tensorwasm::bench {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

/// A kernel argument of a Wasm type.
struct Arg {
  enum class Type { I32, I64, F32, F64 } type;
  uint64_t bits;
  static Arg i32(uint32_t v) { return {Type::I32, v}; }
  static Arg f32(float v);
  static Arg i64(uint64_t v) { return {Type::I64, v}; }
  static Arg f64(double v);
};

/// One instance of a compiled example module, on whichever device.
class KernelInstance {
public:
  virtual ~KernelInstance();
  /// Reserves `bytes` of linear memory past the module's own pages; returns
  /// the Wasm address.
  virtual uint32_t reserve(uint64_t bytes, uint64_t alignment = 256) = 0;
  virtual void write(uint32_t address, const void *data, size_t bytes) = 0;
  virtual void read(uint32_t address, void *data, size_t bytes) = 0;
  virtual void zero(uint32_t address, size_t bytes) = 0;
  /// Launches (on the GPU: queues) a kernel; the shared size defaults to the
  /// declared shape's.
  virtual void launch(const std::string &exportName, Dim3 grid, Dim3 block,
                      const std::vector<Arg> &args, int sharedBytes = -1) = 0;
  /// The first trap of the launches since the instance was made (code 0 if
  /// none).
  virtual abi::TrapRecord trapRecord() = 0;
};

} // namespace tensorwasm::bench

#endif // TWASM_BENCH_GPU_KERNELINSTANCE_H
