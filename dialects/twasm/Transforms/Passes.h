//===- Passes.h - transformations of twasm IR ----------------------*- C++
//-*-===//

#ifndef TWASM_TRANSFORMS_PASSES_H
#define TWASM_TRANSFORMS_PASSES_H

#include "twasm/TwasmOps.h"

#include "mlir/Pass/Pass.h"

namespace mlir::twasm {

#define GEN_PASS_DECL
#include "twasm/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "twasm/Transforms/Passes.h.inc"

} // namespace mlir::twasm

#endif // TWASM_TRANSFORMS_PASSES_H
