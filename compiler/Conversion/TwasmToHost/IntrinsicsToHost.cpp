//===- IntrinsicsToHost.cpp - the "twasm" imports on the CPU --------------===//
//
// docs/kernel-abi.md section 3, for a kernel thread that the CPU runtime
// runs: the thread's ThreadContext points at its KernelThread
// (docs/host-abi.md), from which geometry is read and the shared scratch
// found; barriers and warp operations call the runtime's handlers, which
// switch to the block's other threads until all have arrived; fast math is
// libm's (correctly rounded or nearly so, where the GPU approximates).
//
//===----------------------------------------------------------------------===//

#include "HostIntrinsics.h"

#include "twasm/HostAbi.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::twasm;
namespace host = ::tensorwasm::abi::host;

namespace {

Type pointerType(MLIRContext *context) {
  return LLVM::LLVMPointerType::get(context);
}

/// A load of what stays the same while the thread runs (its KernelThread,
/// geometry, the scratch's place and size): marked invariant, so LLVM reuses
/// one load across calls and barriers.
Value invariantLoad(OpBuilder &builder, Location loc, Type type, Value base,
                    int64_t offset) {
  unsigned alignment =
      isa<LLVM::LLVMPointerType>(type) ? 8 : type.getIntOrFloatBitWidth() / 8;
  return LLVM::LoadOp::create(builder, loc, type,
                              offsetPointer(builder, loc, base, offset),
                              alignment, /*isVolatile=*/false,
                              /*isNonTemporal=*/false, /*isInvariant=*/true);
}

/// The running thread's KernelThread.
Value kernelThread(OpBuilder &builder, Location loc, Operation *call) {
  return invariantLoad(builder, loc, pointerType(builder.getContext()),
                       hiddenValue(call, abi::kTrapRecord),
                       offsetof(host::ThreadContext, kernel));
}

/// Geometry: the KernelThread field the name selects, or null. Under a
/// declared launch shape the block's dimensions are constants.
Value geometry(OpBuilder &builder, Location loc, Operation *call,
               llvm::StringRef name) {
  Type i32 = builder.getI32Type();
  auto axis = [&] { return static_cast<int64_t>(name.back() - 'x'); };
  int64_t offset;
  if (name.starts_with("thread_id_")) {
    offset = offsetof(host::KernelThread, threadId) + 4 * axis();
  } else if (name.starts_with("block_id_")) {
    offset = offsetof(host::KernelThread, blockId) + 4 * axis();
  } else if (name.starts_with("block_dim_")) {
    if (std::optional<LaunchShape> shape = currentLaunchShape(builder))
      return constantInt(builder, loc, i32, shape->block[axis()]);
    offset = offsetof(host::KernelThread, blockDim) + 4 * axis();
  } else if (name.starts_with("grid_dim_")) {
    offset = offsetof(host::KernelThread, gridDim) + 4 * axis();
  } else if (name == "lane_id") {
    offset = offsetof(host::KernelThread, lane);
  } else {
    return {};
  }
  return invariantLoad(builder, loc, i32, kernelThread(builder, loc, call),
                       offset);
}

Value sharedSize(OpBuilder &builder, Location loc, Operation *call) {
  Type i32 = builder.getI32Type();
  if (std::optional<LaunchShape> shape = currentLaunchShape(builder))
    return constantInt(builder, loc, i32, shape->sharedBytes);
  return invariantLoad(builder, loc, i32, kernelThread(builder, loc, call),
                       offsetof(host::KernelThread, sharedBytes));
}

/// A pointer to element `index` of the shared scratch, after checking that
/// the element lies within it.
Value sharedElement(RewriterBase &rewriter, Location loc, Operation *call,
                    Value index, Type elementType,
                    const LoweringTarget &target) {
  Type i32 = rewriter.getI32Type();
  unsigned bytes = elementType.getIntOrFloatBitWidth() / 8;
  Value elements = LLVM::LShrOp::create(
      rewriter, loc, sharedSize(rewriter, loc, call),
      constantInt(rewriter, loc, i32, llvm::Log2_32(bytes)));
  Value inBounds = LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::ult,
                                        index, elements);
  trapUnless(rewriter, loc, inBounds, abi::TrapCode::SharedOutOfBounds, target);
  Value base = invariantLoad(rewriter, loc, pointerType(rewriter.getContext()),
                             kernelThread(rewriter, loc, call),
                             offsetof(host::KernelThread, shared));
  Value wideIndex =
      LLVM::ZExtOp::create(rewriter, loc, rewriter.getI64Type(), index);
  return LLVM::GEPOp::create(rewriter, loc, pointerType(rewriter.getContext()),
                             elementType, base, ValueRange{wideIndex});
}

/// Calls the runtime's handler at `offset` of the KernelThread. The call
/// may run the block's other threads, so it is an ordinary call as far as
/// memory is concerned.
LLVM::CallOp callHandler(OpBuilder &builder, Location loc, Operation *call,
                         int64_t offset, Type result, ValueRange arguments) {
  MLIRContext *context = builder.getContext();
  Value handler = invariantLoad(builder, loc, pointerType(context),
                                kernelThread(builder, loc, call), offset);
  llvm::SmallVector<Type> argumentTypes = {pointerType(context)};
  for (Value argument : arguments)
    argumentTypes.push_back(argument.getType());
  auto type = LLVM::LLVMFunctionType::get(
      result ? result : LLVM::LLVMVoidType::get(context), argumentTypes);
  llvm::SmallVector<Value> operands = {handler,
                                       hiddenValue(call, abi::kTrapRecord)};
  operands.append(arguments.begin(), arguments.end());
  return LLVM::CallOp::create(builder, loc, type, operands);
}

host::WarpOperation warpOperation(llvm::StringRef name) {
  if (name.starts_with("shfl_down_"))
    return host::WarpOperation::ShuffleDown;
  if (name.starts_with("shfl_up_"))
    return host::WarpOperation::ShuffleUp;
  if (name.starts_with("shfl_xor_"))
    return host::WarpOperation::ShuffleXor;
  if (name.starts_with("shfl_idx_"))
    return host::WarpOperation::ShuffleIndex;
  if (name == "vote_any")
    return host::WarpOperation::VoteAny;
  if (name == "vote_all")
    return host::WarpOperation::VoteAll;
  return host::WarpOperation::Ballot;
}

/// A shuffle or vote through the runtime's warp handler, which works on
/// 32-bit patterns: a float travels as its bits.
Value warp(OpBuilder &builder, Location loc, Operation *call,
           llvm::StringRef name, ValueRange operands) {
  Type i32 = builder.getI32Type();
  Value value = operands[0];
  Type valueType = value.getType();
  if (isa<FloatType>(valueType))
    value = LLVM::BitcastOp::create(builder, loc, i32, value);
  Value operand =
      operands.size() > 1 ? operands[1] : constantInt(builder, loc, i32, 0);
  Value operation =
      constantInt(builder, loc, i32, static_cast<int64_t>(warpOperation(name)));
  Value result =
      callHandler(builder, loc, call, offsetof(host::KernelThread, warp), i32,
                  {operation, value, operand})
          .getResult();
  if (isa<FloatType>(valueType))
    result = LLVM::BitcastOp::create(builder, loc, valueType, result);
  return result;
}

/// libm's functions, through LLVM's intrinsics (which become calls to expf
/// and friends, or instructions where the CPU has them).
Value fastMath(OpBuilder &builder, Location loc, llvm::StringRef name,
               ValueRange operands) {
  Type f32 = builder.getF32Type();
  Value x = operands[0];
  if (name == "fmaf")
    return LLVM::FMAOp::create(builder, loc, operands[0], operands[1],
                               operands[2]);
  if (name == "expf")
    return LLVM::ExpOp::create(builder, loc, f32, x);
  if (name == "exp2f")
    return LLVM::Exp2Op::create(builder, loc, f32, x);
  if (name == "logf")
    return LLVM::LogOp::create(builder, loc, f32, x);
  if (name == "log2f")
    return LLVM::Log2Op::create(builder, loc, f32, x);
  if (name == "tanhf")
    return LLVM::TanhOp::create(builder, loc, f32, x);
  if (name == "sinf")
    return LLVM::SinOp::create(builder, loc, f32, x);
  if (name == "cosf")
    return LLVM::CosOp::create(builder, loc, f32, x);
  // rsqrtf: 1 / sqrt(x), each correctly rounded.
  Value one = LLVM::ConstantOp::create(builder, loc, f32,
                                       builder.getF32FloatAttr(1.0f));
  return LLVM::FDivOp::create(builder, loc, one,
                              LLVM::SqrtOp::create(builder, loc, f32, x));
}

} // namespace

FailureOr<llvm::SmallVector<Value>> mlir::twasm::lowerHostIntrinsic(
    RewriterBase &rewriter, Operation *call, llvm::StringRef name,
    FunctionType type, ValueRange operands, const LoweringTarget &target) {
  if (failed(checkIntrinsicCall(call, name, type)))
    return failure();

  Location loc = call->getLoc();
  llvm::SmallVector<Value> results;
  if (Value value = geometry(rewriter, loc, call, name)) {
    results.push_back(value);
  } else if (name == "barrier") {
    callHandler(rewriter, loc, call, offsetof(host::KernelThread, barrier),
                Type(), {});
  } else if (name == "shared_size") {
    results.push_back(sharedSize(rewriter, loc, call));
  } else if (lowerSharedAccess(
                 rewriter, loc, name, type, operands,
                 [&](Value index, Type element) {
                   return sharedElement(rewriter, loc, call, index, element,
                                        target);
                 },
                 results)) {
  } else if (name == "atomic_add_f32") {
    results.push_back(
        lowerFloatAtomicAdd(rewriter, call, operands[0], operands[1], target));
  } else if (isSynchronizingIntrinsic(name)) {
    results.push_back(warp(rewriter, loc, call, name, operands));
  } else {
    results.push_back(fastMath(rewriter, loc, name, operands));
    if (call->hasAttr(kCanonicalizeNaNAttr))
      results.back() = canonicalizeNaN(rewriter, loc, results.back());
  }
  return results;
}
