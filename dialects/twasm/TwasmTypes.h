//===- TwasmTypes.h - twasm reference and local-slot types ---------*- C++
//-*-===//

#ifndef TWASM_TWASMTYPES_H
#define TWASM_TWASMTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "twasm/TwasmTypes.h.inc"

namespace mlir::twasm {
/// Whether `type` is a Wasm value type: i32, i64, f32, f64, funcref, externref.
bool isValueType(Type type);
/// Whether `type` is funcref or externref.
bool isReferenceType(Type type);
} // namespace mlir::twasm

#endif // TWASM_TWASMTYPES_H
