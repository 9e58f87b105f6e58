//===- Passes.h - conversions out of the twasm dialect -----------*- C++
//-*-===//

#ifndef TWASM_CONVERSION_PASSES_H
#define TWASM_CONVERSION_PASSES_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::twasm {

#define GEN_PASS_DECL
#include "twasm/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "twasm/Conversion/Passes.h.inc"

} // namespace mlir::twasm

#endif // TWASM_CONVERSION_PASSES_H
