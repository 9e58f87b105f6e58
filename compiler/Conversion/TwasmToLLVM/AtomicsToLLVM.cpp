//===- AtomicsToLLVM.cpp - the threads proposal's atomics to LLVM ---------===//
//
// Atomic accesses trap when out of bounds and when misaligned (the threads
// proposal's rule), then become LLVM atomics, sequentially consistent at the
// target's atomic scope. Narrow read-modify-writes operate on the low bytes
// and zero-extend what they read.
//
// LLVM 22's NVPTX backend drops the ordering of `atomicrmw` (it emits a
// relaxed `atom`; llvm/llvm-project#156088, fixed after 22), so a
// read-modify-write is bracketed by fences to keep Wasm's sequential
// consistency; loads, stores and compare-exchanges honour their ordering.
//
//===----------------------------------------------------------------------===//

#include "LoweringSupport.h"

using namespace mlir;
using namespace mlir::twasm;

namespace {

constexpr LLVM::AtomicOrdering kSeqCst = LLVM::AtomicOrdering::seq_cst;

/// The result, zero-extended back to the Wasm type.
Value widen(OpBuilder &builder, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return LLVM::ZExtOp::create(builder, loc, type, value);
}

template <typename SourceOp>
struct AtomicPattern : OpConversionPattern<SourceOp> {
  AtomicPattern(const TypeConverter &converter, MLIRContext *context,
                const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}

  StringRef scope() const { return target.options.atomicScope; }
  void fence(OpBuilder &builder, Location loc) const {
    LLVM::FenceOp::create(builder, loc, kSeqCst, scope());
  }

  const LoweringTarget &target;
};

template <typename SourceOp>
struct AtomicLoadPattern : AtomicPattern<SourceOp> {
  using AtomicPattern<SourceOp>::AtomicPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned bytes = SourceOp::kAccessBytes;
    Value pointer = checkedAtomicPointer(rewriter, op, adaptor.getAddress(),
                                         op.getOffset(), bytes, this->target);
    Value loaded = LLVM::LoadOp::create(
        rewriter, loc, rewriter.getIntegerType(bytes * 8), pointer, bytes,
        /*isVolatile=*/false, /*isNonTemporal=*/false, /*isInvariant=*/false,
        /*isInvariantGroup=*/false, kSeqCst, this->scope());
    rewriter.replaceOp(op, widen(rewriter, loc, loaded, op.getType()));
    return success();
  }
};

template <typename SourceOp>
struct AtomicStorePattern : AtomicPattern<SourceOp> {
  using AtomicPattern<SourceOp>::AtomicPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned bytes = SourceOp::kAccessBytes;
    Value pointer = checkedAtomicPointer(rewriter, op, adaptor.getAddress(),
                                         op.getOffset(), bytes, this->target);
    Value stored = adaptor.getValue();
    // Of 32 bits or fewer, it may be a narrow store of what may be a
    // float's bits (StorePattern, LoweringTarget).
    if (bytes <= 4)
      stored = this->target.integerBits(rewriter, loc, stored);
    LLVM::StoreOp::create(rewriter, loc, lowBytes(rewriter, loc, stored, bytes),
                          pointer, bytes, /*isVolatile=*/false,
                          /*isNonTemporal=*/false, /*isInvariantGroup=*/false,
                          kSeqCst, this->scope());
    rewriter.eraseOp(op);
    return success();
  }
};

template <typename SourceOp, LLVM::AtomicBinOp binOp>
struct AtomicRmwPattern : AtomicPattern<SourceOp> {
  using AtomicPattern<SourceOp>::AtomicPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned bytes = SourceOp::kAccessBytes;
    Value pointer = checkedAtomicPointer(rewriter, op, adaptor.getAddress(),
                                         op.getOffset(), bytes, this->target);
    this->fence(rewriter, loc);
    Value old = LLVM::AtomicRMWOp::create(
        rewriter, loc, binOp, pointer,
        lowBytes(rewriter, loc, adaptor.getValue(), bytes), kSeqCst,
        this->scope(), bytes);
    this->fence(rewriter, loc);
    rewriter.replaceOp(op, widen(rewriter, loc, old, op.getType()));
    return success();
  }
};

template <typename SourceOp>
struct AtomicCmpxchgPattern : AtomicPattern<SourceOp> {
  using AtomicPattern<SourceOp>::AtomicPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned bytes = SourceOp::kAccessBytes;
    Value pointer = checkedAtomicPointer(rewriter, op, adaptor.getAddress(),
                                         op.getOffset(), bytes, this->target);
    auto exchange = LLVM::AtomicCmpXchgOp::create(
        rewriter, loc, pointer,
        lowBytes(rewriter, loc, adaptor.getExpected(), bytes),
        lowBytes(rewriter, loc, adaptor.getReplacement(), bytes), kSeqCst,
        kSeqCst, this->scope(), bytes);
    Value old = LLVM::ExtractValueOp::create(rewriter, loc, exchange, 0);
    rewriter.replaceOp(op, widen(rewriter, loc, old, op.getType()));
    return success();
  }
};

struct AtomicFencePattern : AtomicPattern<AtomicFenceOp> {
  using AtomicPattern<AtomicFenceOp>::AtomicPattern;
  LogicalResult
  matchAndRewrite(AtomicFenceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    fence(rewriter, op.getLoc());
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void mlir::twasm::populateAtomicsToLLVMPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns,
                                                const LoweringTarget &target) {
  MLIRContext *context = patterns.getContext();
  patterns.add<
      AtomicLoadPattern<I32AtomicLoadOp>, AtomicLoadPattern<I64AtomicLoadOp>,
      AtomicLoadPattern<I32AtomicLoad8UOp>,
      AtomicLoadPattern<I32AtomicLoad16UOp>,
      AtomicLoadPattern<I64AtomicLoad8UOp>,
      AtomicLoadPattern<I64AtomicLoad16UOp>,
      AtomicLoadPattern<I64AtomicLoad32UOp>,
      AtomicStorePattern<I32AtomicStoreOp>,
      AtomicStorePattern<I64AtomicStoreOp>,
      AtomicStorePattern<I32AtomicStore8Op>,
      AtomicStorePattern<I32AtomicStore16Op>,
      AtomicStorePattern<I64AtomicStore8Op>,
      AtomicStorePattern<I64AtomicStore16Op>,
      AtomicStorePattern<I64AtomicStore32Op>,
      AtomicCmpxchgPattern<I32AtomicRmwCmpxchgOp>,
      AtomicCmpxchgPattern<I64AtomicRmwCmpxchgOp>,
      AtomicCmpxchgPattern<I32AtomicRmw8CmpxchgUOp>,
      AtomicCmpxchgPattern<I32AtomicRmw16CmpxchgUOp>,
      AtomicCmpxchgPattern<I64AtomicRmw8CmpxchgUOp>,
      AtomicCmpxchgPattern<I64AtomicRmw16CmpxchgUOp>,
      AtomicCmpxchgPattern<I64AtomicRmw32CmpxchgUOp>, AtomicFencePattern>(
      converter, context, target);
#define TWASM_RMW_WIDTHS(Name, binOp)                                          \
  patterns.add<AtomicRmwPattern<I32AtomicRmw##Name##Op, binOp>,                \
               AtomicRmwPattern<I64AtomicRmw##Name##Op, binOp>,                \
               AtomicRmwPattern<I32AtomicRmw8##Name##UOp, binOp>,              \
               AtomicRmwPattern<I32AtomicRmw16##Name##UOp, binOp>,             \
               AtomicRmwPattern<I64AtomicRmw8##Name##UOp, binOp>,              \
               AtomicRmwPattern<I64AtomicRmw16##Name##UOp, binOp>,             \
               AtomicRmwPattern<I64AtomicRmw32##Name##UOp, binOp>>(            \
      converter, context, target);
  TWASM_RMW_WIDTHS(Add, LLVM::AtomicBinOp::add)
  TWASM_RMW_WIDTHS(Sub, LLVM::AtomicBinOp::sub)
  TWASM_RMW_WIDTHS(And, LLVM::AtomicBinOp::_and)
  TWASM_RMW_WIDTHS(Or, LLVM::AtomicBinOp::_or)
  TWASM_RMW_WIDTHS(Xor, LLVM::AtomicBinOp::_xor)
  TWASM_RMW_WIDTHS(Xchg, LLVM::AtomicBinOp::xchg)
#undef TWASM_RMW_WIDTHS
}
