//===- Wasi.h - the WASI preview1 subset for host code -----------*- C++
//-*-===//
//
// What a C program built with clang and wasi-libc needs to run as host code
// (docs/host-programs.md): its arguments and environment, writes to standard
// output and error, reads from standard input, clocks, random bytes and
// proc_exit. Everything else of WASI (files, sockets, polling) is not
// provided: a module that imports it does not link, and the error names the
// import.
//
// Plain C++ over the host loader (HostModule.h); no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CPU_WASI_H
#define TWASM_RUNTIME_CPU_WASI_H

#include "HostModule.h"

#include <optional>
#include <string>
#include <vector>

namespace tensorwasm::cpu {

/// `call` for host code only: on a kernel's thread (which the GPU compile
/// refuses to let reach an import, and the CPU must not run host functions
/// on: they are not made for many threads at once) it traps (unreachable).
template <void (*call)(void *, abi::host::ThreadContext *, uint64_t *)>
void hostOnly(void *environment, abi::host::ThreadContext *thread,
              uint64_t *values) {
  if (runsKernel(thread))
    thread->trap(thread, static_cast<uint32_t>(abi::TrapCode::Unreachable), 0,
                 0);
  call(environment, thread, values);
}

/// A function the runtime provides for a module to import: its name, its
/// type, and its code (called with the environment it is bound with).
struct HostFunction {
  const char *name;
  std::vector<ValueType> params;
  std::vector<ValueType> results;
  void (*call)(void *, abi::host::ThreadContext *, uint64_t *);
};

/// Binds the import `module`.`name` of type `signature` to the function of
/// that name in `functions` (what `module` provides), with `environment`;
/// an error that names the import if there is none or its type differs.
Expected<abi::host::ImportedFunction>
bindHostFunction(const std::vector<HostFunction> &functions,
                 const std::string &module, const std::string &name,
                 const Signature &signature, void *environment);

/// The import module WASI preview1's functions come from.
inline constexpr const char *kWasiModule = "wasi_snapshot_preview1";

class Wasi {
public:
  /// `args` starts with the program's name; `environment` holds
  /// "NAME=VALUE" strings. Output goes to the process's descriptors 1 and
  /// 2, input comes from its descriptor 0.
  Wasi(std::vector<std::string> args, std::vector<std::string> environment);

  /// Binds the import `name` of the WASI module, if it is one of the subset
  /// and its signature is WASI's; otherwise an error that names it.
  Expected<abi::host::ImportedFunction> bind(const std::string &name,
                                             const Signature &signature);
  /// The instance whose memory the functions read and write; set before
  /// any of its code runs.
  void attach(Instance *instance) { this->instance = instance; }

  /// Set when the program called proc_exit: its exit status. The call then
  /// ends as a trap (the only way out of Wasm code), which the caller
  /// reports as this exit instead.
  std::optional<uint32_t> exitStatus() const { return exited; }
  /// Forgets an exit, before another call into the program.
  void clearExit() { exited.reset(); }

  /// The names of the functions provided, for messages and docs.
  static std::vector<std::string> provided();

private:
  friend struct WasiCalls;
  std::vector<std::string> args, environment;
  Instance *instance = nullptr;
  std::optional<uint32_t> exited;
};

} // namespace tensorwasm::cpu

#endif // TWASM_RUNTIME_CPU_WASI_H
