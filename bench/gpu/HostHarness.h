//===- HostHarness.h - the example cases on the CPU backend ------*- C++
//-*-===//
//
// The CaseDevice of the CPU: modules compiled by `twasm compile --target
// host` (`<kernel>.so` with its manifest), instantiated and launched by the
// runtime's CPU loader and KernelExecutor, so that the example cases run on
// the CPU with the inputs, launches and references they use on the GPU.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_BENCH_GPU_HOSTHARNESS_H
#define TWASM_BENCH_GPU_HOSTHARNESS_H

#include "GpuHarness.h"
#include "KernelCases.h"

#include "cpu/KernelExecutor.h"

namespace tensorwasm::bench {

class HostDevice final : public CaseDevice {
public:
  /// `workers` as for KernelExecutor (0: one per hardware thread).
  explicit HostDevice(unsigned workers = 0) : executor(workers) {}
  std::unique_ptr<KernelInstance> instantiate(const std::string &code,
                                              const std::string &manifest,
                                              uint64_t extraBytes) override;
  std::string codeExtension() const override { return ".so"; }

private:
  cpu::KernelExecutor executor;
};

} // namespace tensorwasm::bench

#endif // TWASM_BENCH_GPU_HOSTHARNESS_H
