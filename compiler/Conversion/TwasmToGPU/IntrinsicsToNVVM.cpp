//===- IntrinsicsToNVVM.cpp - the "twasm" imports on NVIDIA GPUs ----------===//
//
// docs/kernel-abi.md section 3, for PTX: geometry from special registers, the
// barrier in its non-aligned form (legal in divergent code; finished threads
// count as arrived), shared scratch as the dynamic shared-memory window with
// element-indexed, bounds-checked accesses, warp operations over the active
// lanes only, and the approximate math instructions.
//
//===----------------------------------------------------------------------===//

#include "Intrinsics.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::twasm;

namespace {

Value callIntrinsic(OpBuilder &builder, Location loc, Type result,
                    llvm::StringRef name, ValueRange operands) {
  StringAttr intrinsic = builder.getStringAttr(name);
  if (!result) {
    LLVM::CallIntrinsicOp::create(builder, loc, intrinsic, operands);
    return Value();
  }
  return LLVM::CallIntrinsicOp::create(builder, loc, result, intrinsic,
                                       operands)
      .getResult(0);
}

Value f32Constant(OpBuilder &builder, Location loc, float value) {
  return LLVM::ConstantOp::create(builder, loc, builder.getF32Type(),
                                  builder.getF32FloatAttr(value));
}

/// Geometry: the special register the name selects, or null. Under a
/// declared launch shape the block's dimensions are constants and thread
/// indices carry their exact ranges, which LLVM uses to drop checks.
Value geometry(OpBuilder &builder, Location loc, llvm::StringRef name) {
  Type i32 = builder.getI32Type();
  std::optional<LaunchShape> shape = currentLaunchShape(builder);
  auto dimension = [&](char axis) { return axis - 'x'; };
  if (name.starts_with("thread_id_")) {
    LLVM::ConstantRangeAttr range;
    if (shape)
      range = LLVM::ConstantRangeAttr::get(
          builder.getContext(), 32, 0, shape->block[dimension(name.back())]);
    switch (name.back()) {
    case 'x':
      return NVVM::ThreadIdXOp::create(builder, loc, i32, range);
    case 'y':
      return NVVM::ThreadIdYOp::create(builder, loc, i32, range);
    default:
      return NVVM::ThreadIdZOp::create(builder, loc, i32, range);
    }
  }
  if (name.starts_with("block_dim_")) {
    if (shape)
      return constantInt(builder, loc, i32,
                         shape->block[dimension(name.back())]);
    switch (name.back()) {
    case 'x':
      return NVVM::BlockDimXOp::create(builder, loc, i32);
    case 'y':
      return NVVM::BlockDimYOp::create(builder, loc, i32);
    default:
      return NVVM::BlockDimZOp::create(builder, loc, i32);
    }
  }
  if (name == "block_id_x")
    return NVVM::BlockIdXOp::create(builder, loc, i32);
  if (name == "block_id_y")
    return NVVM::BlockIdYOp::create(builder, loc, i32);
  if (name == "block_id_z")
    return NVVM::BlockIdZOp::create(builder, loc, i32);
  if (name == "grid_dim_x")
    return NVVM::GridDimXOp::create(builder, loc, i32);
  if (name == "grid_dim_y")
    return NVVM::GridDimYOp::create(builder, loc, i32);
  if (name == "grid_dim_z")
    return NVVM::GridDimZOp::create(builder, loc, i32);
  if (name == "lane_id")
    return NVVM::LaneIdOp::create(builder, loc, i32);
  return {};
}

/// The shared scratch's size in bytes: the declared one, else the launch's
/// dynamic shared memory.
Value sharedSize(OpBuilder &builder, Location loc) {
  Type i32 = builder.getI32Type();
  if (std::optional<LaunchShape> shape = currentLaunchShape(builder))
    return constantInt(builder, loc, i32, shape->sharedBytes);
  return NVVM::DynamicSmemSize::create(builder, loc, i32);
}

/// A pointer to element `index` of the shared scratch, after checking that
/// the element lies within the launch's dynamic shared memory.
Value sharedElement(RewriterBase &rewriter, Location loc, Value index,
                    Type elementType, const LoweringTarget &target) {
  Type i32 = rewriter.getI32Type();
  unsigned bytes = elementType.getIntOrFloatBitWidth() / 8;
  Value size = sharedSize(rewriter, loc);
  Value elements = LLVM::LShrOp::create(
      rewriter, loc, size,
      constantInt(rewriter, loc, i32, llvm::Log2_32(bytes)));
  Value inBounds = LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::ult,
                                        index, elements);
  trapUnless(rewriter, loc, inBounds, abi::TrapCode::SharedOutOfBounds, target);
  auto sharedPointer =
      LLVM::LLVMPointerType::get(rewriter.getContext(), kSharedAddressSpace);
  Value base = LLVM::AddressOfOp::create(rewriter, loc, sharedPointer,
                                         kSharedScratchSymbol);
  Value wideIndex =
      LLVM::ZExtOp::create(rewriter, loc, rewriter.getI64Type(), index);
  return LLVM::GEPOp::create(rewriter, loc, sharedPointer, elementType, base,
                             ValueRange{wideIndex});
}

/// The lanes of this thread's warp that exist: all 32, except in the last
/// warp of a block whose size is not a multiple of 32. Constant under a
/// declared launch shape.
Value warpLanes(OpBuilder &builder, Location loc) {
  Type i32 = builder.getI32Type();
  Type i64 = builder.getI64Type();
  auto geometryValue = [&](llvm::StringRef name) {
    return geometry(builder, loc, name);
  };
  Value dimX = geometryValue("block_dim_x"),
        dimY = geometryValue("block_dim_y");
  Value threads = LLVM::MulOp::create(
      builder, loc, LLVM::MulOp::create(builder, loc, dimX, dimY),
      geometryValue("block_dim_z"));
  // linear = x + dimX * (y + dimY * z); the warp starts at linear & ~31.
  Value linear = LLVM::AddOp::create(
      builder, loc, geometryValue("thread_id_x"),
      LLVM::MulOp::create(
          builder, loc, dimX,
          LLVM::AddOp::create(
              builder, loc, geometryValue("thread_id_y"),
              LLVM::MulOp::create(builder, loc, dimY,
                                  geometryValue("thread_id_z")))));
  Value warpStart = LLVM::AndOp::create(builder, loc, linear,
                                        constantInt(builder, loc, i32, ~31));
  Value lanes = LLVM::SubOp::create(builder, loc, threads, warpStart);
  // (1 << min(lanes, 32)) - 1, computed in 64 bits to allow 32.
  Value capped = LLVM::UMinOp::create(builder, loc, lanes,
                                      constantInt(builder, loc, i32, 32));
  Value bit =
      LLVM::ShlOp::create(builder, loc, constantInt(builder, loc, i64, 1),
                          LLVM::ZExtOp::create(builder, loc, i64, capped));
  Value mask =
      LLVM::SubOp::create(builder, loc, bit, constantInt(builder, loc, i64, 1));
  return LLVM::TruncOp::create(builder, loc, i32, mask);
}

/// A shuffle over the whole warp: every lane of the warp that has not
/// finished takes part (the hardware waits for them, which is also what
/// reconverges a warp after divergent code: reconvergence is otherwise not
/// guaranteed, and a shuffle over just the lanes active at that moment
/// computes with lanes missing). The result is the value of lane `source`
/// if that lane exists and has not finished, else the caller's own value:
/// never a value no lane supplied.
///
/// `constantOperand` is the operand's value when the program gives it as a
/// constant: a shuffle up or down by a constant distance (a reduction's
/// steps) uses the hardware's own shuffle and tests the source lane with one
/// shift of the live-lane mask, four instructions fewer per step.
Value shuffle(OpBuilder &builder, Location loc, llvm::StringRef kind,
              Value value, Value operand,
              std::optional<uint32_t> constantOperand) {
  Type i32 = builder.getI32Type();
  Type i64 = builder.getI64Type();
  Value lanes = warpLanes(builder, loc);
  // The lanes still running: a ballot of all of them.
  Value live = NVVM::VoteSyncOp::create(
      builder, loc, i32, lanes,
      constantInt(builder, loc, builder.getI1Type(), 1),
      NVVM::VoteSyncKind::ballot);
  if ((kind == "down" || kind == "up") && constantOperand &&
      *constantOperand < 32) {
    // Bit k of the live mask shifted down by d is lane k + d (shifted up: lane
    // k - d); a source outside the warp shifts out, so this lane's bit of the
    // shifted mask says whether its source exists and is live.
    bool down = kind == "down";
    Value distance = constantInt(builder, loc, i32, *constantOperand);
    Value sources =
        down ? Value(LLVM::LShrOp::create(builder, loc, live, distance))
             : Value(LLVM::ShlOp::create(builder, loc, live, distance));
    Value ownBit = NVVM::LaneMaskEqOp::create(builder, loc, i32);
    Value valid =
        LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ne,
                             LLVM::AndOp::create(builder, loc, sources, ownBit),
                             constantInt(builder, loc, i32, 0));
    // The clamp operand: the last lane for down, the first for up (PTX ISA,
    // shfl.sync).
    Value shuffled = NVVM::ShflOp::create(
        builder, loc, value.getType(), lanes, value, distance,
        constantInt(builder, loc, i32, down ? 31 : 0),
        down ? NVVM::ShflKind::down : NVVM::ShflKind::up,
        /*return_value_and_is_valid=*/UnitAttr());
    return LLVM::SelectOp::create(builder, loc, valid, shuffled, value);
  }
  Value lane = NVVM::LaneIdOp::create(builder, loc, i32);
  // The source lane, computed in 64 bits so no operand can wrap it into
  // range.
  Value lane64 = LLVM::ZExtOp::create(builder, loc, i64, lane);
  Value operand64 = LLVM::ZExtOp::create(builder, loc, i64, operand);
  Value source;
  if (kind == "down")
    source = LLVM::AddOp::create(builder, loc, lane64, operand64);
  else if (kind == "up")
    source = LLVM::SubOp::create(builder, loc, lane64, operand64);
  else if (kind == "xor")
    source = LLVM::XOrOp::create(builder, loc, lane64, operand64);
  else
    source = operand64;
  Value inWarp =
      LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ult, source,
                           constantInt(builder, loc, i64, 32));
  Value source32 = LLVM::AndOp::create(
      builder, loc, LLVM::TruncOp::create(builder, loc, i32, source),
      constantInt(builder, loc, i32, 31));
  Value sourceBit = LLVM::AndOp::create(
      builder, loc, LLVM::LShrOp::create(builder, loc, live, source32),
      constantInt(builder, loc, i32, 1));
  Value running =
      LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ne, sourceBit,
                           constantInt(builder, loc, i32, 0));
  Value valid = LLVM::AndOp::create(builder, loc, inWarp, running);
  Value shuffled = NVVM::ShflOp::create(
      builder, loc, value.getType(), lanes, value, source32,
      constantInt(builder, loc, i32, 31), NVVM::ShflKind::idx,
      /*return_value_and_is_valid=*/UnitAttr());
  return LLVM::SelectOp::create(builder, loc, valid, shuffled, value);
}

/// Votes over every lane of the warp that has not finished.
Value vote(OpBuilder &builder, Location loc, llvm::StringRef name,
           Value predicate) {
  Type i32 = builder.getI32Type();
  Value lanes = warpLanes(builder, loc);
  Value flag =
      LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ne, predicate,
                           constantInt(builder, loc, i32, 0));
  if (name == "ballot")
    return NVVM::VoteSyncOp::create(builder, loc, i32, lanes, flag,
                                    NVVM::VoteSyncKind::ballot);
  Value result = NVVM::VoteSyncOp::create(
      builder, loc, builder.getI1Type(), lanes, flag,
      name == "vote_any" ? NVVM::VoteSyncKind::any : NVVM::VoteSyncKind::all);
  return LLVM::ZExtOp::create(builder, loc, i32, result);
}

/// The approximate instructions nvcc uses for __expf, __logf and friends.
Value fastMath(OpBuilder &builder, Location loc, llvm::StringRef name,
               ValueRange operands) {
  Type f32 = builder.getF32Type();
  Value x = operands[0];
  if (name == "fmaf")
    return LLVM::FMAOp::create(builder, loc, operands[0], operands[1],
                               operands[2]);
  if (name == "expf" || name == "exp2f") {
    if (name == "expf")
      x = LLVM::FMulOp::create(
          builder, loc, x, f32Constant(builder, loc, llvm::numbers::log2ef));
    return callIntrinsic(builder, loc, f32, "llvm.nvvm.ex2.approx.f32", {x});
  }
  if (name == "logf" || name == "log2f") {
    Value log2 =
        callIntrinsic(builder, loc, f32, "llvm.nvvm.lg2.approx.f", {x});
    if (name == "log2f")
      return log2;
    return LLVM::FMulOp::create(builder, loc, log2,
                                f32Constant(builder, loc, llvm::numbers::ln2f));
  }
  if (name == "tanhf")
    return LLVM::TanhOp::create(
        builder, loc, f32, x,
        LLVM::FastmathFlagsAttr::get(builder.getContext(),
                                     LLVM::FastmathFlags::afn));
  if (name == "rsqrtf")
    return callIntrinsic(builder, loc, f32, "llvm.nvvm.rsqrt.approx.f", {x});
  if (name == "sinf")
    return callIntrinsic(builder, loc, f32, "llvm.nvvm.sin.approx.f", {x});
  return callIntrinsic(builder, loc, f32, "llvm.nvvm.cos.approx.f", {x});
}

} // namespace

FailureOr<llvm::SmallVector<Value>> mlir::twasm::lowerNVVMIntrinsic(
    RewriterBase &rewriter, Operation *call, llvm::StringRef name,
    FunctionType type, ValueRange operands, const LoweringTarget &target) {
  if (failed(checkIntrinsicCall(call, name, type)))
    return failure();

  Location loc = call->getLoc();
  Type i32 = rewriter.getI32Type();
  llvm::SmallVector<Value> results;
  if (Value value = geometry(rewriter, loc, name)) {
    results.push_back(value);
  } else if (name == "barrier") {
    callIntrinsic(rewriter, loc, Type(), "llvm.nvvm.barrier.cta.sync.all",
                  {constantInt(rewriter, loc, i32, 0)});
  } else if (name == "shared_size") {
    results.push_back(sharedSize(rewriter, loc));
  } else if (lowerSharedAccess(
                 rewriter, loc, name, type, operands,
                 [&](Value index, Type element) {
                   return sharedElement(rewriter, loc, index, element, target);
                 },
                 results)) {
  } else if (name == "atomic_add_f32") {
    results.push_back(
        lowerFloatAtomicAdd(rewriter, call, operands[0], operands[1], target));
  } else if (name.starts_with("shfl_")) {
    llvm::StringRef kind =
        name.drop_front(5).take_until([](char c) { return c == '_'; });
    results.push_back(shuffle(rewriter, loc, kind, operands[0], operands[1],
                              getI32Constant(call->getOperand(1))));
  } else if (name == "vote_any" || name == "vote_all" || name == "ballot") {
    results.push_back(vote(rewriter, loc, name, operands[0]));
  } else {
    results.push_back(fastMath(rewriter, loc, name, operands));
    if (call->hasAttr(kCanonicalizeNaNAttr))
      results.back() = canonicalizeNaN(rewriter, loc, results.back());
  }
  return results;
}
