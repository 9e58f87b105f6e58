//===- CpuDevice.h - the cpu device of the runtime API -------*- C++ -*-===//
//
// The CPU backend behind the runtime API: modules are the shared objects of
// `twasm compile --target host` (loaded by cpu::LoadedCode), launches run on
// one cpu::KernelExecutor per device.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CPUDEVICE_H
#define TWASM_RUNTIME_CPUDEVICE_H

#include "twasm/Runtime.h"

namespace tensorwasm::runtime {

/// A cpu device; `description` says what it is and why it was chosen.
Result<std::shared_ptr<Device>> openCpuDevice(const DeviceOptions &options,
                                              std::string description);

} // namespace tensorwasm::runtime

#endif // TWASM_RUNTIME_CPUDEVICE_H
