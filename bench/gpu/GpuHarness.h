//===- GpuHarness.h - run compiled kernels on a CUDA GPU ---------*- C++
//-*-===//
//
// A small harness over the CUDA driver for the GPU tests and benchmarks until
// the runtime (runtime/) takes over launches: it instantiates a module from
// its PTX and manifest (linear memory with the data segments applied, the
// globals block, the trap record and control word), launches kernels with
// the hidden parameters of docs/kernel-abi.md, loads nvcc-compiled twins for
// comparison and times launches with CUDA events.
//
// Failures throw HarnessError: this is test code, and an exception carries
// the driver's message to the test's report.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_BENCH_GPU_GPUHARNESS_H
#define TWASM_BENCH_GPU_GPUHARNESS_H

#include "KernelInstance.h"
#include "cuda/CudaDriver.h"
#include "twasm/KernelAbi.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace tensorwasm::bench {

struct HarnessError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Device 0 through its primary context, with a stream for launches and a
/// second, non-blocking one for host writes while a launch runs.
class Gpu {
public:
  /// Null, with the reason, when there is no driver or no device.
  static std::unique_ptr<Gpu> open(std::string &error);
  ~Gpu();

  cuda::Driver &driver() { return *cuda; }
  void check(cuda::CUresult result, const char *what) const;

  cuda::CUdeviceptr allocate(size_t bytes);
  void release(cuda::CUdeviceptr pointer);
  void upload(cuda::CUdeviceptr to, const void *from, size_t bytes);
  void download(void *to, cuda::CUdeviceptr from, size_t bytes);
  void synchronize();

  /// Median of `repetitions` timings (ms) of `launch` on the main stream,
  /// after `warmup` untimed runs.
  double medianMs(const std::function<void()> &launch, int repetitions,
                  int warmup = 3);

  std::string name;
  int multiprocessors = 0;
  int computeMajor = 0, computeMinor = 0;
  int maxSharedOptIn = 0;
  int driverVersion = 0;
  cuda::CUstream stream = nullptr;
  cuda::CUstream sideStream = nullptr;

private:
  Gpu() = default;
  std::unique_ptr<cuda::Driver> cuda;
  cuda::CUdevice device = 0;
  cuda::CUcontext context = nullptr;
  cuda::CUevent start = nullptr, stop = nullptr;
};

/// A loaded PTX or cubin module.
class DeviceModule {
public:
  DeviceModule(Gpu &gpu, const std::string &path);
  ~DeviceModule();
  cuda::CUfunction function(const std::string &name);

private:
  Gpu &gpu;
  cuda::CUmodule module = nullptr;
};

/// What the manifest says about one kernel.
struct KernelInfo {
  std::string entry;
  std::vector<std::string> params;
  /// Set when the module declares the kernel's launch shape.
  bool hasShape = false;
  Dim3 block;
  unsigned sharedBytes = 0;
};

/// One instance of a compiled Wasm module on the GPU.
class WasmInstance final : public KernelInstance {
public:
  /// Loads `stem`.ptx with `stem`.json; linear memory is the module's
  /// initial size plus `extraBytes`, rounded up to whole pages.
  WasmInstance(Gpu &gpu, const std::string &stem, uint64_t extraBytes);
  /// Loads another compilation of the same module (say, without bounds
  /// checks) into the same instance state.
  WasmInstance(Gpu &gpu, const std::string &ptxPath,
               const std::string &manifestPath, uint64_t extraBytes);
  ~WasmInstance();

  uint32_t reserve(uint64_t bytes, uint64_t alignment = 256) override;
  void write(uint32_t address, const void *data, size_t bytes) override;
  void read(uint32_t address, void *data, size_t bytes) override;
  cuda::CUdeviceptr pointer(uint32_t address) const { return memory + address; }
  uint64_t memoryBytes() const { return memorySize; }

  const KernelInfo &kernel(const std::string &exportName) const;
  void launch(const std::string &exportName, Dim3 grid, Dim3 block,
              const std::vector<Arg> &args, int sharedBytes = -1) override;
  void zero(uint32_t address, size_t bytes) override;
  /// Launches with another compilation's PTX (same manifest and state).
  void launchVariant(DeviceModule &module, const std::string &exportName,
                     Dim3 grid, Dim3 block, const std::vector<Arg> &args,
                     int sharedBytes = -1);

  abi::TrapRecord trapRecord() override;
  /// Zeroes the trap record and the control word (before a launch).
  void clearTrap();
  /// Sets the control word from the side stream, while a launch may run.
  void setControlWord(uint32_t value);

  Gpu &gpu;

private:
  void instantiate(const std::string &manifestPath, uint64_t extraBytes);
  void launchFunction(cuda::CUfunction function, const KernelInfo &info,
                      Dim3 grid, Dim3 block, const std::vector<Arg> &args,
                      int sharedBytes);

  std::unique_ptr<DeviceModule> module;
  std::map<std::string, KernelInfo> kernels;
  cuda::CUdeviceptr memory = 0;
  uint64_t memorySize = 0;
  uint64_t nextFree = 0;
  cuda::CUdeviceptr state = 0; // trap record, then the control word
  cuda::CUdeviceptr globals = 0;
  uint64_t globalsSize = 0;
  uint32_t controlValue = 0;
};

/// Reads a whole file; throws if it cannot.
std::string readFile(const std::string &path);

} // namespace tensorwasm::bench

#endif // TWASM_BENCH_GPU_GPUHARNESS_H
