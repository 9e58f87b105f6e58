//===- MemoryToLLVM.cpp - twasm linear-memory ops to the LLVM dialect -----===//
//
// Linear memory is `memory_size` bytes at `memory_base` (hidden parameters).
// An access to [ea, ea + n) with ea = zext(address) + offset is in bounds iff
// ea + n <= memory_size (no overflow: ea < 2^33). Where the device faults on
// misaligned accesses, a naturally aligned access checks the address too and
// falls back to a bytewise access, because Wasm's alignment is only a hint;
// the bounds check rides on the same branch so the common case costs one.
// An access marked `aligned` (twasm-version-loops proved it) has no such
// test.
//
// A load or store of a constant size compares in 32 bits: the number of
// addresses at which it fits, memory_size - offset - n + 1, does not depend on
// the address, so it is computed once at the function's entry, and the
// access fits iff address < that count (accessFitsInMemory, shared with the
// atomics).
//
//===----------------------------------------------------------------------===//

#include "LoweringSupport.h"

using namespace mlir;
using namespace mlir::twasm;

namespace {

/// `ea + bytes <= memory_size`, as an i1.
Value fitsInMemory(OpBuilder &builder, Location loc, Operation *op, Value ea,
                   Value bytes, const LoweringTarget &target) {
  Value end = LLVM::AddOp::create(builder, loc, ea, bytes);
  return LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ule, end,
                              target.memorySize(builder, loc, op));
}

/// Emits a checked access of `bytes` bytes; `access` emits the load or store
/// itself for a pointer and an alignment, and returns its value (or null).
/// Alignment 0 asks for the misaligned path: a volatile, byte-aligned access.
/// Volatile because LLVM would otherwise merge the two paths' accesses into
/// one (hoisting them, or folding the loads into a phi), keeping the weaker
/// alignment and making every access bytewise.
Value emitCheckedAccess(
    ConversionPatternRewriter &rewriter, const LoweringTarget &target,
    Operation *op, Value address, uint64_t offset, unsigned bytes,
    std::optional<uint64_t> alignHint, bool provenInBounds, bool provenAligned,
    Type resultType,
    llvm::function_ref<Value(OpBuilder &, Value, unsigned)> access) {
  Location loc = op->getLoc();
  Value ea = effectiveAddress(rewriter, loc, address, offset);
  Value pointer =
      bytePointer(rewriter, loc, hiddenValue(op, abi::kMemoryBase), ea);
  bool checkBounds = target.options.boundsChecks && !provenInBounds;
  Value fits;
  if (checkBounds)
    fits =
        accessFitsInMemory(rewriter, loc, op, address, offset + bytes, target);

  unsigned hint = alignHint.value_or(bytes);
  bool checkAlignment = !provenAligned && target.options.alignedAccessOnly &&
                        bytes > 1 && hint >= bytes;
  if (!checkAlignment) {
    if (checkBounds)
      trapUnless(rewriter, loc, fits, abi::TrapCode::MemoryOutOfBounds, target);
    // Unless proved aligned, the address may be misaligned whatever the hint
    // says, and LLVM may exploit a stated alignment; byte alignment is the
    // truth (and costs nothing on a device that tolerates misalignment).
    return access(rewriter, pointer, provenAligned ? bytes : 1);
  }

  Value aligned = isAligned(rewriter, loc, address, offset, bytes);
  Value fast =
      checkBounds ? LLVM::AndOp::create(rewriter, loc, aligned, fits) : aligned;

  Block *before = rewriter.getInsertionBlock();
  Block *join = rewriter.splitBlock(before, rewriter.getInsertionPoint());
  if (resultType)
    join->addArgument(resultType, loc);
  Block *fastBlock = rewriter.createBlock(join);
  Block *slowBlock = rewriter.createBlock(join);

  rewriter.setInsertionPointToEnd(before);
  LLVM::CondBrOp::create(rewriter, loc, fast, fastBlock, ValueRange(),
                         slowBlock, ValueRange(),
                         std::make_pair(uint32_t(1) << 20, uint32_t(1)));

  rewriter.setInsertionPointToStart(fastBlock);
  Value fastValue = access(rewriter, pointer, bytes);
  LLVM::BrOp::create(rewriter, loc,
                     fastValue ? ValueRange{fastValue} : ValueRange(), join);

  rewriter.setInsertionPointToStart(slowBlock);
  if (checkBounds)
    trapUnless(rewriter, loc, fits, abi::TrapCode::MemoryOutOfBounds, target);
  Value slowValue = access(rewriter, pointer, 0);
  LLVM::BrOp::create(rewriter, loc,
                     slowValue ? ValueRange{slowValue} : ValueRange(), join);

  rewriter.setInsertionPointToStart(join);
  return resultType ? join->getArgument(0) : Value();
}

/// How a load or store moves its bytes: the memory type and, for narrow
/// integer loads, the extension.
enum class Extend { None, Sign, Zero };

template <typename SourceOp, unsigned bytes, Extend extend>
struct LoadPattern : OpConversionPattern<SourceOp> {
  LoadPattern(const TypeConverter &converter, MLIRContext *context,
              const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type resultType = op.getType();
    Type memoryType = extend == Extend::None
                          ? resultType
                          : Type(rewriter.getIntegerType(bytes * 8));
    Value result = emitCheckedAccess(
        rewriter, target, op, adaptor.getAddress(), op.getOffset(), bytes,
        op.getAlign(), op.getInBounds(), op.getAligned(), resultType,
        [&](OpBuilder &builder, Value pointer, unsigned alignment) -> Value {
          Value loaded = LLVM::LoadOp::create(builder, loc, memoryType, pointer,
                                              std::max(alignment, 1u),
                                              /*isVolatile=*/alignment == 0);
          if (extend == Extend::Sign)
            return LLVM::SExtOp::create(builder, loc, resultType, loaded);
          if (extend == Extend::Zero)
            return LLVM::ZExtOp::create(builder, loc, resultType, loaded);
          return loaded;
        });
    rewriter.replaceOp(op, result);
    return success();
  }

  const LoweringTarget &target;
};

template <typename SourceOp, unsigned bytes>
struct StorePattern : OpConversionPattern<SourceOp> {
  StorePattern(const TypeConverter &converter, MLIRContext *context,
               const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value stored = adaptor.getValue();
    // A store of 32 bits or fewer takes its value from an integer
    // instruction (LoweringTarget::integerBits), once, for whichever path
    // stores it: it may be narrower than its value, which may be a float's
    // bits, and even an i32.store of an i32 may become one where LLVM
    // forwards a stored f64's bits to the i32.load that made the value.
    bool narrow = bytes <= 4;
    if (narrow)
      stored = target.integerBits(rewriter, loc, stored);
    Value value = lowBytes(rewriter, loc, stored, bytes);
    emitCheckedAccess(
        rewriter, target, op, adaptor.getAddress(), op.getOffset(), bytes,
        op.getAlign(), op.getInBounds(), op.getAligned(), Type(),
        [&](OpBuilder &builder, Value pointer, unsigned alignment) -> Value {
          Value toStore = value;
          // A value that may be misaligned is stored byte by byte, each
          // byte a narrow store of it (it may be a float, or a float's
          // bits).
          if (!narrow && alignment < bytes && bytes > 1)
            toStore = target.integerBits(builder, loc, value);
          LLVM::StoreOp::create(builder, loc, toStore, pointer,
                                std::max(alignment, 1u),
                                /*isVolatile=*/alignment == 0);
          return Value();
        });
    rewriter.eraseOp(op);
    return success();
  }

  const LoweringTarget &target;
};

struct MemorySizePattern : OpConversionPattern<MemorySizeOp> {
  MemorySizePattern(const TypeConverter &converter, MLIRContext *context,
                    const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(MemorySizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value bytes = target.memorySize(rewriter, loc, op);
    Value pages = LLVM::LShrOp::create(
        rewriter, loc, bytes,
        constantInt(rewriter, loc, rewriter.getI64Type(), 16));
    rewriter.replaceOpWithNewOp<LLVM::TruncOp>(op, rewriter.getI32Type(),
                                               pages);
    return success();
  }
  const LoweringTarget &target;
};

/// On the GPU memory cannot grow during a launch (docs/kernel-abi.md section
/// 4); the host grows it through the instance (LoweringTarget).
struct MemoryGrowPattern : OpConversionPattern<MemoryGrowOp> {
  MemoryGrowPattern(const TypeConverter &converter, MLIRContext *context,
                    const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(MemoryGrowOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, target.emitMemoryGrow(rewriter, op.getLoc(), op,
                                                 adaptor.getDelta()));
    return success();
  }
  const LoweringTarget &target;
};

/// memory.copy and memory.fill check both whole ranges first, so a trap
/// writes nothing, as the spec requires.
struct MemoryCopyPattern : OpConversionPattern<MemoryCopyOp> {
  MemoryCopyPattern(const TypeConverter &converter, MLIRContext *context,
                    const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(MemoryCopyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type();
    Value dst = effectiveAddress(rewriter, loc, adaptor.getDst(), 0);
    Value src = effectiveAddress(rewriter, loc, adaptor.getSrc(), 0);
    Value size = LLVM::ZExtOp::create(rewriter, loc, i64, adaptor.getSize());
    Value fits = LLVM::AndOp::create(
        rewriter, loc, fitsInMemory(rewriter, loc, op, dst, size, target),
        fitsInMemory(rewriter, loc, op, src, size, target));
    trapUnless(rewriter, loc, fits, abi::TrapCode::MemoryOutOfBounds, target);
    Value base = hiddenValue(op, abi::kMemoryBase);
    LLVM::MemmoveOp::create(rewriter, loc,
                            bytePointer(rewriter, loc, base, dst),
                            bytePointer(rewriter, loc, base, src), size,
                            /*isVolatile=*/false);
    rewriter.eraseOp(op);
    return success();
  }
  const LoweringTarget &target;
};

struct MemoryFillPattern : OpConversionPattern<MemoryFillOp> {
  MemoryFillPattern(const TypeConverter &converter, MLIRContext *context,
                    const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(MemoryFillOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type();
    Value dst = effectiveAddress(rewriter, loc, adaptor.getDst(), 0);
    Value size = LLVM::ZExtOp::create(rewriter, loc, i64, adaptor.getSize());
    trapUnless(rewriter, loc,
               fitsInMemory(rewriter, loc, op, dst, size, target),
               abi::TrapCode::MemoryOutOfBounds, target);
    Value byte = LLVM::TruncOp::create(
        rewriter, loc, rewriter.getI8Type(),
        target.integerBits(rewriter, loc, adaptor.getValue()));
    LLVM::MemsetOp::create(
        rewriter, loc,
        bytePointer(rewriter, loc, hiddenValue(op, abi::kMemoryBase), dst),
        byte, size, /*isVolatile=*/false);
    rewriter.eraseOp(op);
    return success();
  }
  const LoweringTarget &target;
};

/// The segment's remaining length (0 once dropped) lives in its slot of the
/// globals block; its bytes in a constant the target emits.
struct MemoryInitPattern : OpConversionPattern<MemoryInitOp> {
  MemoryInitPattern(const TypeConverter &converter, MLIRContext *context,
                    const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(MemoryInitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value length = segmentLength(rewriter, loc, op, op.getSegment(), target);
    if (!length)
      return op.emitOpError("is not supported on this device");
    Type i64 = rewriter.getI64Type();
    Value fits = LLVM::AndOp::create(
        rewriter, loc,
        rangeFits(rewriter, loc, adaptor.getSrc(), adaptor.getSize(), length),
        rangeFits(rewriter, loc, adaptor.getDst(), adaptor.getSize(),
                  target.memorySize(rewriter, loc, op)));
    trapUnless(rewriter, loc, fits, abi::TrapCode::MemoryOutOfBounds, target);
    Value contents = LLVM::AddressOfOp::create(
        rewriter, loc, LLVM::LLVMPointerType::get(op.getContext()),
        segmentContentsName(op.getSegment()));
    Value source = LLVM::GEPOp::create(
        rewriter, loc, contents.getType(), rewriter.getI8Type(), contents,
        ValueRange{LLVM::ZExtOp::create(rewriter, loc, i64, adaptor.getSrc())});
    Value base = hiddenValue(op, abi::kMemoryBase);
    LLVM::MemcpyOp::create(
        rewriter, loc,
        bytePointer(rewriter, loc, base,
                    effectiveAddress(rewriter, loc, adaptor.getDst(), 0)),
        source, LLVM::ZExtOp::create(rewriter, loc, i64, adaptor.getSize()),
        /*isVolatile=*/false);
    rewriter.eraseOp(op);
    return success();
  }
  const LoweringTarget &target;
};

} // namespace

void mlir::twasm::populateMemoryToLLVMPatterns(const TypeConverter &converter,
                                               RewritePatternSet &patterns,
                                               const LoweringTarget &target) {
  MLIRContext *context = patterns.getContext();
  patterns
      .add<LoadPattern<I32LoadOp, 4, Extend::None>,
           LoadPattern<I64LoadOp, 8, Extend::None>,
           LoadPattern<F32LoadOp, 4, Extend::None>,
           LoadPattern<F64LoadOp, 8, Extend::None>,
           LoadPattern<I32Load8SOp, 1, Extend::Sign>,
           LoadPattern<I32Load8UOp, 1, Extend::Zero>,
           LoadPattern<I32Load16SOp, 2, Extend::Sign>,
           LoadPattern<I32Load16UOp, 2, Extend::Zero>,
           LoadPattern<I64Load8SOp, 1, Extend::Sign>,
           LoadPattern<I64Load8UOp, 1, Extend::Zero>,
           LoadPattern<I64Load16SOp, 2, Extend::Sign>,
           LoadPattern<I64Load16UOp, 2, Extend::Zero>,
           LoadPattern<I64Load32SOp, 4, Extend::Sign>,
           LoadPattern<I64Load32UOp, 4, Extend::Zero>,
           StorePattern<I32StoreOp, 4>, StorePattern<I64StoreOp, 8>,
           StorePattern<F32StoreOp, 4>, StorePattern<F64StoreOp, 8>,
           StorePattern<I32Store8Op, 1>, StorePattern<I32Store16Op, 2>,
           StorePattern<I64Store8Op, 1>, StorePattern<I64Store16Op, 2>,
           StorePattern<I64Store32Op, 4>, MemoryCopyPattern, MemoryFillPattern,
           MemorySizePattern, MemoryGrowPattern, MemoryInitPattern>(
          converter, context, target);
}
