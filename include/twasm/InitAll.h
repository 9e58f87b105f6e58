//===- InitAll.h - register TensorWasm's dialects and passes -----*- C++
//-*-===//

#ifndef TWASM_INITALL_H
#define TWASM_INITALL_H

#include "twasm/Conversion/Passes.h"
#include "twasm/Pipelines/Pipelines.h"
#include "twasm/Transforms/Passes.h"
#include "twasm/TwasmDialect.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::twasm {

/// The twasm dialect and what its lowerings produce and translate.
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<TwasmDialect>();
  registerPipelineDependencies(registry);
}

/// TensorWasm's passes, MLIR's generic ones (canonicalize, cse, ...) and the
/// upstream GPU passes our pipelines are made of, so each step can be run
/// on its own.
inline void registerAllPasses() {
  registerTwasmPasses();
  registerTwasmConversionPasses();
  registerTwasmPipelines();
  registerTransformsPasses();
  registerGPUPasses();
  registerConvertGpuOpsToNVVMOpsPass();
  registerReconcileUnrealizedCastsPass();
}

} // namespace mlir::twasm

#endif // TWASM_INITALL_H
