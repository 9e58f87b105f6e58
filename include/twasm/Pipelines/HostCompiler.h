//===- HostCompiler.h - twasm modules to shared objects for the CPU -*- C++
//-*-===//
//
// The CPU backend (docs/decisions/0004-cpu-backend.md): a twasm module is
// lowered by convert-twasm-to-host, translated to LLVM IR, optimized and
// compiled for x86-64 by LLVM's TargetMachine, and linked by ld.lld into a
// position-independent shared object whose entry points follow
// docs/host-abi.md. The runtime loads the object without the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_PIPELINES_HOSTCOMPILER_H
#define TWASM_PIPELINES_HOSTCOMPILER_H

#include "twasm/TwasmOps.h"

#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::twasm {

struct HostTarget {
  /// The x86-64 micro-architecture level the code may use. v2 (SSE4.2,
  /// POPCNT) is the oldest that has Wasm's float rounding instructions
  /// (roundss) and popcnt; every x86-64 server of the last decade has it.
  std::string cpu = "x86-64-v2";
  unsigned optLevel = 2;
  bool boundsChecks = true;
  bool epochChecks = true;
  /// ld.lld to link with; empty finds it (TWASM_LD_LLD, LLVM 22's, PATH).
  std::string linker;
};

/// Adds the passes from a builtin.module holding one twasm.module to the
/// LLVM dialect for the host.
void buildTwasmToHostPipeline(OpPassManager &pm, const HostTarget &target);

struct HostArtifacts {
  /// The shared object's bytes.
  std::string sharedObject;
  /// The optimized LLVM IR, if asked for.
  std::string llvmIR;
};

/// Compiles `module` (consumed) into a shared object. Errors carry the
/// compiler's diagnostics.
llvm::Expected<HostArtifacts> compileForHost(OwningOpRef<ModuleOp> module,
                                             const HostTarget &target,
                                             bool keepLLVMIR = false);

} // namespace mlir::twasm

#endif // TWASM_PIPELINES_HOSTCOMPILER_H
