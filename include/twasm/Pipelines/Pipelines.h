//===- Pipelines.h - TensorWasm's compilation pipelines ----------*- C++
//-*-===//
//
// `twasm-to-ptx`: a module holding one twasm.module becomes a gpu.binary with
// the PTX of its kernels. The same pipeline backs `twasm-opt
// --twasm-to-ptx=...` and `twasm compile`.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_PIPELINES_PIPELINES_H
#define TWASM_PIPELINES_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir::twasm {

/// The target facts of a PTX compilation, in one place.
struct PTXTarget {
  /// The SM architecture, e.g. "sm_90".
  std::string chip = "sm_90";
  /// LLVM NVPTX features, e.g. "+ptx80"; empty picks LLVM's default PTX
  /// version for the chip.
  std::string features;
  /// LLVM's optimization level for the device code.
  unsigned optLevel = 3;
};

struct TwasmToPTXOptions : public PassPipelineOptions<TwasmToPTXOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("SM architecture, e.g. sm_90"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("NVPTX features, e.g. +ptx80 (default: the chip's)"),
      llvm::cl::init("")};
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("LLVM optimization level"),
                            llvm::cl::init(3)};
  Option<bool> boundsChecks{
      *this, "bounds-checks",
      llvm::cl::desc("Check memory accesses (off only to measure the cost)"),
      llvm::cl::init(true)};
  Option<bool> epochChecks{
      *this, "epoch-checks",
      llvm::cl::desc("Check the control word in loops (off only to measure "
                     "the cost)"),
      llvm::cl::init(true)};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What gpu-module-to-binary emits: isa (PTX), bin "
                     "(cubin, needs ptxas) or fatbin"),
      llvm::cl::init("isa")};

  PTXTarget target() const { return {chip, features, optLevel}; }
};

/// Adds the passes from twasm to a gpu.binary to `pm` (anchored on
/// builtin.module).
void buildTwasmToPTXPipeline(OpPassManager &pm,
                             const TwasmToPTXOptions &options);

/// Registers `twasm-to-ptx` with the pass registry.
void registerTwasmPipelines();

/// The dialects, translations and interfaces the pipelines need.
void registerPipelineDependencies(DialectRegistry &registry);

/// The PTX text of the single gpu.binary the pipeline left in `module`.
FailureOr<std::string> extractPTX(mlir::ModuleOp module);

} // namespace mlir::twasm

#endif // TWASM_PIPELINES_PIPELINES_H
