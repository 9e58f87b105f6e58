//===- Intrinsics.h - the "twasm" imports on NVIDIA GPUs ---------*- C++
//-*-===//
//
// Private to the GPU conversion.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_COMPILER_CONVERSION_TWASMTOGPU_INTRINSICS_H
#define TWASM_COMPILER_CONVERSION_TWASMTOGPU_INTRINSICS_H

#include "../TwasmToLLVM/Intrinsics.h"

namespace mlir::twasm {

/// NVPTX's address space for shared memory.
inline constexpr unsigned kSharedAddressSpace = 3;
/// The dynamic shared-memory window that holds the shared scratch.
inline constexpr llvm::StringLiteral kSharedScratchSymbol = "__twasm_shared";

/// Emits the intrinsic at the rewriter's insertion point; fails with a
/// diagnostic on `call` for an unknown name or a wrong type.
FailureOr<llvm::SmallVector<Value>>
lowerNVVMIntrinsic(RewriterBase &rewriter, Operation *call,
                   llvm::StringRef name, FunctionType type, ValueRange operands,
                   const LoweringTarget &target);

} // namespace mlir::twasm

#endif // TWASM_COMPILER_CONVERSION_TWASMTOGPU_INTRINSICS_H
