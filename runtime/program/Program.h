//===- Program.h - a whole module run as a program ---------------*- C++
//-*-===//
//
// A program (docs/host-programs.md) is a module compiled for the host as a
// whole: its entry (`_start`, or any exported function) runs on the CPU,
// with the WASI subset of cpu/Wasi.h, and it launches the kernels it exports
// through the `twasm_host` imports (docs/kernel-abi.md section 9) over its
// own linear memory:
//
//  * on the CPU, on a kernel executor of the program's own, over the host
//    instance itself;
//  * on a GPU, as the same module compiled for it (its kernels), whose
//    instance's linear memory is managed memory of a fixed capacity that
//    the host code uses in place (Module::instantiateShared): host code and
//    kernels read and write the same bytes, and the host's growth is the
//    kernels' growth.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_PROGRAM_PROGRAM_H
#define TWASM_RUNTIME_PROGRAM_PROGRAM_H

#include "cpu/HostModule.h"
#include "cpu/KernelExecutor.h"
#include "cpu/Wasi.h"
#include "twasm/Runtime.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace tensorwasm::program {

/// The import module of the host functions a program launches kernels with.
inline constexpr const char *kHostModule = "twasm_host";

struct ProgramOptions {
  /// WASI's view: the arguments (the first is the program's name) and the
  /// environment ("NAME=VALUE").
  std::vector<std::string> args;
  std::vector<std::string> environment;
  /// Where kernels run: null for the CPU; otherwise the same module loaded
  /// on a GPU (its kernels), which must share memory
  /// (Module::instantiateShared: a cuda device with managed memory).
  std::shared_ptr<Module> gpuKernels;
  /// What `device_name` says of the GPU.
  std::string gpuName;
  /// The most linear memory the program may have (rounded down to whole
  /// pages); memory.grow past it fails. The same on every device, so that
  /// a program behaves alike on each: with kernels on a GPU it is taken as
  /// managed memory when the program starts (its pages are backed as they
  /// are touched).
  uint64_t memoryCapacity = uint64_t(1) << 30;
  /// On the CPU: threads that run a launched kernel's blocks (0: one per
  /// hardware thread).
  unsigned kernelWorkers = 0;
  /// A kernel launch that runs longer is interrupted (0: never).
  std::chrono::nanoseconds kernelTimeout{0};
};

/// How a program's entry ended.
struct ProgramOutcome {
  enum class Kind { Returned, Exited, Trapped };
  Kind kind = Kind::Returned;
  /// Exited: the status given to proc_exit.
  uint32_t exitStatus = 0;
  /// Trapped: where and why.
  cpu::CallResult trap;
  /// Returned: the entry's results, as 8-byte values.
  std::vector<uint64_t> results;
  /// Kernels launched, and how many of them completed.
  uint64_t launches = 0, completedLaunches = 0;
};

class Program {
public:
  /// Loads the module's host code and manifest and instantiates it (its
  /// start function runs); an error says what does not link (an import
  /// that is neither WASI's nor twasm_host's) or did not start.
  static cpu::Expected<std::unique_ptr<Program>> load(std::string_view code,
                                                      std::string_view manifest,
                                                      ProgramOptions options);
  ~Program();

  const cpu::ModuleDescription &description() const { return module; }

  /// Runs the exported function `entry` with `arguments` (8-byte values,
  /// one per parameter).
  cpu::Expected<ProgramOutcome> run(const std::string &entry,
                                    std::vector<uint64_t> arguments);

  struct HostCalls;

private:
  Program(cpu::ModuleDescription module, ProgramOptions options);
  /// Copies the host's globals into the GPU instance's block where they
  /// differ from what the GPU holds (kernels read the host code's values).
  Status shareGlobals();

  cpu::ModuleDescription module;
  ProgramOptions options;
  cpu::Wasi wasi;
  std::unique_ptr<cpu::KernelExecutor> executor;
  /// Declared before the host instance, which uses its memory: destroyed
  /// after it.
  std::unique_ptr<Instance> gpuInstance;
  std::unique_ptr<cpu::Instance> instance;
  /// The GPU's globals block as last written, and where each host global
  /// goes in it.
  std::string gpuGlobals;
  std::vector<std::pair<uint64_t, uint64_t>> globalPlaces;
  /// The outcome a synchronize reports: the first launch since the last
  /// synchronize that did not complete (its trap code), or 0.
  uint32_t pendingTrap = 0;
  uint64_t launches = 0, completedLaunches = 0;
};

} // namespace tensorwasm::program

#endif // TWASM_RUNTIME_PROGRAM_PROGRAM_H
