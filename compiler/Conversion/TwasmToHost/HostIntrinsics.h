//===- HostIntrinsics.h - the "twasm" imports on the CPU ---------*- C++
//-*-===//
//
// Private to the host conversion.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_COMPILER_CONVERSION_TWASMTOHOST_HOSTINTRINSICS_H
#define TWASM_COMPILER_CONVERSION_TWASMTOHOST_HOSTINTRINSICS_H

#include "../TwasmToLLVM/Intrinsics.h"

namespace mlir::twasm {

/// Emits the intrinsic at the rewriter's insertion point, for a kernel
/// thread run by the CPU runtime (docs/host-abi.md, "Kernels"); fails with
/// a diagnostic on `call` for an unknown name or a wrong type.
FailureOr<llvm::SmallVector<Value>>
lowerHostIntrinsic(RewriterBase &rewriter, Operation *call,
                   llvm::StringRef name, FunctionType type, ValueRange operands,
                   const LoweringTarget &target);

} // namespace mlir::twasm

#endif // TWASM_COMPILER_CONVERSION_TWASMTOHOST_HOSTINTRINSICS_H
