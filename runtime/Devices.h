//===- Devices.h - the devices behind the runtime API ----------*- C++ -*-===//
//
// Each device implements Device, Module and Instance of include/twasm/
// Runtime.h; Device::open (Runtime.cpp) chooses one. What they share — the
// kernel descriptions from a manifest and the checks of a launch and of a
// memory range — is said once here.
//
//   cpu  (CpuDevice.cpp)  the CPU backend's shared objects, launched by
//                         cpu::KernelExecutor over a thread pool.
//   cuda (CudaDevice.cpp) PTX through the CUDA driver: the primary context,
//                         a stream per instance, the cubin cache, managed or
//                         device memory, the kernel ABI's trap record and
//                         control word. `mock` is this device over the mock
//                         driver (cuda/MockDriver.h).
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_DEVICES_H
#define TWASM_RUNTIME_DEVICES_H

#include "cpu/HostModule.h"
#include "cuda/CudaDriver.h"
#include "twasm/Runtime.h"

namespace tensorwasm::runtime {

/// Takes restored bytes into an instance's linear memory, from several
/// threads at once (docs/snapshot-format.md, "Restore into device memory").
/// Each worker (below the count the loader was made for) calls from one
/// thread, for disjoint ranges inside memory of at most 1 MiB: stage() gives
/// the place to write the range's bytes to, and once they are there and
/// checked, commit() moves them into memory (if they are not there yet).
class MemoryLoader {
public:
  virtual ~MemoryLoader();
  virtual Result<uint8_t *> stage(unsigned worker, uint64_t address,
                                  size_t bytes) = 0;
  virtual Status commit(unsigned worker, uint64_t address, size_t bytes) = 0;
  /// Waits until every commit has landed.
  virtual Status finish() = 0;
};

/// What snapshots need of an instance beyond the public API; each device's
/// instance is one (Instance::state()).
class InstanceState {
public:
  static InstanceState &of(Instance &instance) { return instance.state(); }
  static Result<std::unique_ptr<Instance>> blank(Module &module,
                                                 uint64_t pages) {
    return module.instantiateBlank(pages);
  }
  static Result<std::unique_ptr<Instance>> shared(Module &module,
                                                  uint64_t capacityBytes) {
    return module.instantiateShared(capacityBytes);
  }

  virtual ~InstanceState();
  virtual DeviceKind deviceKind() const = 0;
  /// The module's manifest: the slots of the globals block.
  virtual const cpu::ModuleDescription &layout() const = 0;
  /// The whole globals block (layout().globalsBytes bytes), and back.
  virtual Status readGlobals(std::string &block) = 0;
  virtual Status writeGlobals(std::string_view block) = 0;
  /// The linear memory, if the host can address it directly (cpu); null
  /// otherwise (read through Instance::read).
  virtual const uint8_t *hostMemory() const = 0;
  /// A loader of `workers` threads into this instance's memory.
  virtual Result<std::unique_ptr<MemoryLoader>>
  memoryLoader(unsigned workers) = 0;
  /// For an instance from shared(): where its memory's capacity starts in
  /// this process (null for any other), and the new size when the host
  /// code that shares it has grown it (zeroed already).
  virtual uint8_t *sharedMemory() { return nullptr; }
  virtual Status sharedMemoryResized(uint64_t bytes) {
    return Error{ErrorCode::Unsupported, "the instance shares no memory"};
  }
};

/// A cpu device; `description` says what it is and why it was chosen.
Result<std::shared_ptr<Device>> openCpuDevice(const DeviceOptions &options,
                                              std::string description);

/// A cuda device over `driver` (libcuda, or the mock's table) of the given
/// kind (Cuda or Mock); `why` says how it was chosen.
Result<std::shared_ptr<Device>>
openCudaDevice(const DeviceOptions &options,
               std::unique_ptr<cuda::Driver> driver, DeviceKind kind,
               const std::string &why);

/// The kernels of a manifest, as the API describes them.
Result<std::vector<KernelInfo>>
describeKernels(const cpu::ModuleDescription &description);

/// The kernel a launch names, if its arguments match its parameters.
Result<const KernelInfo *> findLaunchedKernel(const Module &module,
                                              std::string_view name,
                                              const std::vector<Value> &args);

/// Whether a host read or write of [address, address + bytes) may happen in
/// a linear memory of `size` bytes (`hasMemory` false: none).
Status checkMemoryRange(bool hasMemory, uint64_t size, uint64_t address,
                        uint64_t bytes, const char *what);

/// The number of threads a launch runs.
uint64_t threadCount(const LaunchOptions &options);

} // namespace tensorwasm::runtime

#endif // TWASM_RUNTIME_DEVICES_H
