//===- Program.h - a whole module run as a program on the host ---*- C++
//-*-===//
//
// A host program (docs/host-programs.md) is a module compiled for the host
// as a whole: its entry (`_start`, or any exported function) runs on the
// CPU, with the WASI subset of Wasi.h, and it launches the kernels it
// exports through the `twasm_host` imports (docs/kernel-abi.md section 9)
// over its own linear memory.
//
// Here its kernels run on the CPU, on a kernel executor of the program's
// own. Plain C++ over the host loader; no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CPU_PROGRAM_H
#define TWASM_RUNTIME_CPU_PROGRAM_H

#include "HostModule.h"
#include "KernelExecutor.h"
#include "Wasi.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace tensorwasm::cpu {

/// The import module of the host functions a program launches kernels with.
inline constexpr const char *kHostModule = "twasm_host";

struct ProgramOptions {
  /// WASI's view: the arguments (the first is the program's name) and the
  /// environment ("NAME=VALUE").
  std::vector<std::string> args;
  std::vector<std::string> environment;
  /// Threads that run a launched kernel's blocks (0: one per hardware
  /// thread).
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
  CallResult trap;
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
  static Expected<std::unique_ptr<Program>> load(std::string_view code,
                                                 std::string_view manifest,
                                                 ProgramOptions options);
  ~Program();

  const ModuleDescription &description() const { return module; }

  /// Runs the exported function `entry` with `arguments` (8-byte values,
  /// one per parameter).
  Expected<ProgramOutcome> run(const std::string &entry,
                               std::vector<uint64_t> arguments);

  struct HostCalls;

private:
  Program(ModuleDescription module, ProgramOptions options);

  ModuleDescription module;
  ProgramOptions options;
  Wasi wasi;
  std::unique_ptr<KernelExecutor> executor;
  std::unique_ptr<Instance> instance;
  /// The outcome a synchronize reports: the first launch since the last
  /// synchronize that did not complete (its trap code), or 0.
  uint32_t pendingTrap = 0;
  uint64_t launches = 0, completedLaunches = 0;
};

} // namespace tensorwasm::cpu

#endif // TWASM_RUNTIME_CPU_PROGRAM_H
