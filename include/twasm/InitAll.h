//===- InitAll.h - register TensorWasm's dialects and passes -----*- C++
//-*-===//

#ifndef TWASM_INITALL_H
#define TWASM_INITALL_H

#include "twasm/Transforms/Passes.h"
#include "twasm/TwasmDialect.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::twasm {

inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<TwasmDialect>();
}

/// TensorWasm's passes and MLIR's generic ones (canonicalize, cse, ...).
inline void registerAllPasses() {
  registerTwasmPasses();
  registerTransformsPasses();
}

} // namespace mlir::twasm

#endif // TWASM_INITALL_H
