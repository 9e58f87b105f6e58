//===- MockDriver.h - a simulated CUDA driver for tests ---------*- C++ -*-===//
//
// The `mock` device is the cuda device over this driver table instead of
// libcuda: one simulated GPU (compute capability 9.0) whose memory is host
// memory, whose modules are PTX text and whose launches run no code. It
// records every call, fails any call on demand and counts what is alive,
// so tests can drive every error and cleanup path of the cuda device on a
// machine without a GPU and check that nothing leaks.
//
// Green contexts split its 132 SMs into groups; each retains the primary
// context while it lives.
//
// Launches can be told to trap (the trap record is written as a trapping
// thread would) or to run until the control word is set (an endless
// kernel), which exercises trap read-back, timeouts and cancellation.
//
// The simulated GPU is process-wide, as a driver is.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CUDA_MOCKDRIVER_H
#define TWASM_RUNTIME_CUDA_MOCKDRIVER_H

#include "cuda/CudaDriver.h"
#include "twasm/KernelAbi.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tensorwasm::cuda::mock {

/// What the simulated GPU holds at a moment.
struct LiveObjects {
  size_t deviceAllocations = 0;
  size_t hostAllocations = 0;
  size_t modules = 0;
  size_t streams = 0;
  size_t events = 0;
  size_t linkStates = 0;
  size_t memoryPools = 0;
  size_t contextRetains = 0;
  size_t greenContexts = 0;
  bool operator==(const LiveObjects &other) const;
};

/// A driver table whose functions act on the simulated GPU.
std::unique_ptr<Driver> load();

/// Puts the simulated GPU back to its first state: nothing alive, no call
/// recorded, no failure planned, `totalBytes` of memory (default 16 GiB).
void reset(uint64_t totalBytes = uint64_t(16) << 30);

/// The `ordinal`-th call from now (1 = the next) of `symbol` (the driver's
/// name, "cuMemAlloc_v2") returns `result` and does nothing.
void failCall(const std::string &symbol, CUresult result, unsigned ordinal = 1);
/// Every call from now on fails with CUDA_ERROR_ILLEGAL_ADDRESS, as after a
/// fault that destroyed the context; the context's last release frees
/// everything in it and makes the simulated GPU usable again.
void loseContext();
/// The next launch records `record` and raises the control word, as a
/// trapping thread does.
void trapNextLaunch(const abi::TrapRecord &record);
/// Launches run until their control word is set, then record code 11.
void setEndlessLaunches(bool endless);

/// Every call so far, by symbol, in order.
std::vector<std::string> calls();
/// How many times `symbol` was called.
unsigned callCount(const std::string &symbol);
LiveObjects live();
/// The maximum sizes of the live memory pools, smallest first.
std::vector<size_t> poolLimits();
/// Calls whose arguments were wrong (a copy outside an allocation, a null
/// output pointer, an unknown handle): the cuda device must make none.
std::vector<std::string> misuses();
/// The launches so far: the kernel parameters' 64-bit slots, as passed.
std::vector<std::vector<uint64_t>> launches();
/// The stream of each launch so far.
std::vector<const void *> launchStreams();

/// A stream as it was made: the stream (null for a green context's default
/// stream, which is made with the green context) and the context current
/// on the thread that made it. The driver hands the process's hardware
/// work queues to streams in this order.
struct MadeStream {
  const void *stream;
  const void *context;
};
/// Every stream made since the last reset, in order.
std::vector<MadeStream> streamsMade();

} // namespace tensorwasm::cuda::mock

#endif // TWASM_RUNTIME_CUDA_MOCKDRIVER_H
