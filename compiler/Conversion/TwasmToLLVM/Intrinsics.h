//===- Intrinsics.h - the "twasm" imports, on every device -------*- C++
//-*-===//
//
// Private to compiler/Conversion. What the intrinsics of docs/kernel-abi.md
// section 3 are (names and types), and the parts of their lowering that do
// not depend on the device.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_COMPILER_CONVERSION_TWASMTOLLVM_INTRINSICS_H
#define TWASM_COMPILER_CONVERSION_TWASMTOLLVM_INTRINSICS_H

#include "LoweringSupport.h"

namespace mlir::twasm {

/// The type of the intrinsic `name`, or nullopt if there is none of that
/// name.
std::optional<FunctionType> intrinsicType(MLIRContext *context,
                                          llvm::StringRef name);

using ::tensorwasm::abi::isSynchronizingIntrinsic;

/// Fails, with a diagnostic on `call`, unless `name` is an intrinsic and
/// `type` its type.
LogicalResult checkIntrinsicCall(Operation *call, llvm::StringRef name,
                                 FunctionType type);

/// Lowers the shared-scratch accesses (shared_load_*, shared_store_*,
/// shared_atomic_add_*), given how the device finds a checked pointer to an
/// element; false if `name` is not one of them.
bool lowerSharedAccess(
    OpBuilder &builder, Location loc, llvm::StringRef name, FunctionType type,
    ValueRange operands,
    llvm::function_ref<Value(Value index, Type element)> elementPointer,
    llvm::SmallVectorImpl<Value> &results);

/// `*pointer += value` as one relaxed atomic read-modify-write (integer or
/// float); returns the old value.
Value atomicAddAt(OpBuilder &builder, Location loc, Value pointer, Value value);

/// The intrinsic atomic_add_f32 on linear memory: checks the address (in
/// bounds, 4-byte aligned) and adds atomically.
Value lowerFloatAtomicAdd(RewriterBase &rewriter, Operation *call,
                          Value address, Value value,
                          const LoweringTarget &target);

} // namespace mlir::twasm

#endif // TWASM_COMPILER_CONVERSION_TWASMTOLLVM_INTRINSICS_H
