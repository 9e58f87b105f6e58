//===- NumericToLLVM.cpp - twasm numeric ops to the LLVM dialect ----------===//
//
// Integer and float arithmetic, comparisons and conversions, with the Wasm
// semantics LLVM leaves undefined made explicit: shift counts are masked,
// division by zero and overflow trap, out-of-range truncation traps, and the
// sign-bit operations act on bits so NaN payloads survive.
//
//===----------------------------------------------------------------------===//

#include "LoweringSupport.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::twasm;

namespace {

/// Replaces a float result by Wasm's canonical NaN when it is a NaN and the
/// op was marked by markNaNCanonicalization.
Value canonicalizeNaN(OpBuilder &builder, Location loc, Operation *op,
                      Value result, const LoweringTarget &target) {
  if (!target.options.canonicalizeNaNs || !op->hasAttr(kCanonicalizeNaNAttr))
    return result;
  return mlir::twasm::canonicalizeNaN(builder, loc, result);
}

Value zextToI32(OpBuilder &builder, Location loc, Value flag) {
  return LLVM::ZExtOp::create(builder, loc, builder.getI32Type(), flag);
}

/// An op that maps to one LLVM op with the same operands.
template <typename SourceOp, typename TargetOp>
struct DirectPattern : OpConversionPattern<SourceOp> {
  DirectPattern(const TypeConverter &converter, MLIRContext *context,
                const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value result =
        TargetOp::create(rewriter, op.getLoc(), op->getResult(0).getType(),
                         adaptor.getOperands());
    if (isa<FloatType>(result.getType()))
      result = canonicalizeNaN(rewriter, op.getLoc(), op, result, target);
    rewriter.replaceOp(op, result);
    return success();
  }

  const LoweringTarget &target;
};

/// An op that is one LLVM intrinsic, as a generic call of it
/// (LoweringOptions::roundingAsIntrinsicCalls).
template <typename SourceOp>
struct IntrinsicCallPattern : OpConversionPattern<SourceOp> {
  IntrinsicCallPattern(const TypeConverter &converter, MLIRContext *context,
                       const LoweringTarget &target, StringRef intrinsic)
      : OpConversionPattern<SourceOp>(converter, context), target(target),
        intrinsic(intrinsic) {}

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value result = LLVM::CallIntrinsicOp::create(
                       rewriter, op.getLoc(), op->getResult(0).getType(),
                       rewriter.getStringAttr(intrinsic), adaptor.getOperands())
                       .getResult(0);
    result = canonicalizeNaN(rewriter, op.getLoc(), op, result, target);
    rewriter.replaceOp(op, result);
    return success();
  }

  const LoweringTarget &target;
  std::string intrinsic;
};

/// Adds the pattern of `SourceOp`: LLVM's `TargetOp`, or the generic call of
/// `intrinsic` where the target wants those.
template <typename SourceOp, typename TargetOp>
void addRounding(RewritePatternSet &patterns, const TypeConverter &converter,
                 const LoweringTarget &target, StringRef intrinsic) {
  if (target.options.roundingAsIntrinsicCalls)
    patterns.add<IntrinsicCallPattern<SourceOp>>(
        converter, patterns.getContext(), target, intrinsic);
  else
    patterns.add<DirectPattern<SourceOp, TargetOp>>(
        converter, patterns.getContext(), target);
}

/// A comparison: icmp/fcmp, widened to the i32 Wasm uses for booleans.
template <typename SourceOp, typename CmpOp, typename Predicate,
          Predicate predicate>
struct ComparePattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value flag = CmpOp::create(rewriter, op.getLoc(), predicate,
                               adaptor.getLhs(), adaptor.getRhs());
    rewriter.replaceOp(op, zextToI32(rewriter, op.getLoc(), flag));
    return success();
  }
};

template <typename SourceOp, LLVM::ICmpPredicate predicate>
using IntComparePattern =
    ComparePattern<SourceOp, LLVM::ICmpOp, LLVM::ICmpPredicate, predicate>;
template <typename SourceOp, LLVM::FCmpPredicate predicate>
using FloatComparePattern =
    ComparePattern<SourceOp, LLVM::FCmpOp, LLVM::FCmpPredicate, predicate>;

template <typename SourceOp> struct EqzPattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value operand = adaptor.getOperand();
    Value zero = constantInt(rewriter, loc, operand.getType(), 0);
    Value flag = LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::eq,
                                      operand, zero);
    rewriter.replaceOp(op, zextToI32(rewriter, loc, flag));
    return success();
  }
};

/// Shifts take their count modulo the width; LLVM's are poison beyond it.
template <typename SourceOp, typename TargetOp>
struct ShiftPattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type type = adaptor.getLhs().getType();
    Value mask =
        constantInt(rewriter, loc, type, type.getIntOrFloatBitWidth() - 1);
    Value count = LLVM::AndOp::create(rewriter, loc, adaptor.getRhs(), mask);
    rewriter.replaceOpWithNewOp<TargetOp>(op, adaptor.getLhs(), count);
    return success();
  }
};

/// Rotations are funnel shifts of a value with itself (counts wrap there).
template <typename SourceOp, typename FunnelOp>
struct RotatePattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<FunnelOp>(op, adaptor.getLhs().getType(),
                                          adaptor.getLhs(), adaptor.getLhs(),
                                          adaptor.getRhs());
    return success();
  }
};

template <typename SourceOp, typename CountOp>
struct CountZerosPattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // Zero is defined in Wasm (the width), so it must not be poison here.
    rewriter.replaceOpWithNewOp<CountOp>(op, adaptor.getOperand().getType(),
                                         adaptor.getOperand(),
                                         /*is_zero_poison=*/false);
    return success();
  }
};

template <typename SourceOp>
struct PopcntPattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<LLVM::CtPopOp>(
        op, adaptor.getOperand().getType(), adaptor.getOperand());
    return success();
  }
};

/// Sign-extends the low `bits` bits of the operand in place.
template <typename SourceOp, unsigned bits>
struct SignExtendInPlacePattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value low = LLVM::TruncOp::create(
        rewriter, loc, rewriter.getIntegerType(bits), adaptor.getOperand());
    rewriter.replaceOpWithNewOp<LLVM::SExtOp>(
        op, adaptor.getOperand().getType(), low);
    return success();
  }
};

/// Integer division and remainder: trap on a zero divisor, and for signed
/// division on MIN / -1; signed remainder of MIN by -1 is 0 in Wasm.
template <typename SourceOp, typename TargetOp, bool isSigned, bool isRem>
struct DivisionPattern : OpConversionPattern<SourceOp> {
  DivisionPattern(const TypeConverter &converter, MLIRContext *context,
                  const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    Type type = lhs.getType();
    unsigned width = type.getIntOrFloatBitWidth();
    Value zero = constantInt(rewriter, loc, type, 0);
    Value nonZero =
        LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::ne, rhs, zero);
    trapUnless(rewriter, loc, nonZero, abi::TrapCode::IntegerDivideByZero,
               target);
    if (!isSigned) {
      rewriter.replaceOpWithNewOp<TargetOp>(op, lhs, rhs);
      return success();
    }
    Value minusOne = constantInt(rewriter, loc, type, -1);
    Value byMinusOne = LLVM::ICmpOp::create(
        rewriter, loc, LLVM::ICmpPredicate::eq, rhs, minusOne);
    if (!isRem) {
      Value min = LLVM::ConstantOp::create(
          rewriter, loc, type,
          rewriter.getIntegerAttr(type, llvm::APInt::getSignedMinValue(width)));
      Value isMin = LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::eq,
                                         lhs, min);
      Value overflows = LLVM::AndOp::create(rewriter, loc, isMin, byMinusOne);
      Value true1 = constantInt(rewriter, loc, rewriter.getI1Type(), 1);
      Value fits = LLVM::XOrOp::create(rewriter, loc, overflows, true1);
      trapUnless(rewriter, loc, fits, abi::TrapCode::IntegerOverflow, target);
      rewriter.replaceOpWithNewOp<TargetOp>(op, lhs, rhs);
      return success();
    }
    // x rem -1 is 0 for every x; dividing by 1 instead keeps srem defined.
    Value one = constantInt(rewriter, loc, type, 1);
    Value safeRhs = LLVM::SelectOp::create(rewriter, loc, byMinusOne, one, rhs);
    Value remainder = TargetOp::create(rewriter, loc, lhs, safeRhs);
    rewriter.replaceOpWithNewOp<LLVM::SelectOp>(op, byMinusOne, zero,
                                                remainder);
    return success();
  }

  const LoweringTarget &target;
};

/// abs, neg and copysign act on the sign bit only, as integer operations, so
/// that a NaN keeps its payload whatever the device's float units do. The
/// operands' bits come through the target's integerBits: LLVM recognises an
/// `and` or `xor` of a float's bits with the sign mask and turns it back into
/// fabs, fneg or copysign, and on an H100 those (abs.f64, neg.f32, ...)
/// quieted a signalling NaN (found by the differential oracle).
template <typename SourceOp>
struct SignBitPattern : OpConversionPattern<SourceOp> {
  SignBitPattern(const TypeConverter &converter, MLIRContext *context,
                 const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ValueRange operands = adaptor.getOperands();
    Type floatType = operands[0].getType();
    unsigned width = floatType.getIntOrFloatBitWidth();
    Type intType = rewriter.getIntegerType(width);
    auto bits = [&](Value value) {
      return target.integerBits(
          rewriter, loc,
          LLVM::BitcastOp::create(rewriter, loc, intType, value));
    };
    llvm::APInt signBit = llvm::APInt::getSignMask(width);
    Value sign = LLVM::ConstantOp::create(
        rewriter, loc, intType, rewriter.getIntegerAttr(intType, signBit));
    Value magnitudeMask = LLVM::ConstantOp::create(
        rewriter, loc, intType, rewriter.getIntegerAttr(intType, ~signBit));
    Value x = bits(operands[0]);
    Value result;
    if (isa<F32AbsOp, F64AbsOp>(op)) {
      result = LLVM::AndOp::create(rewriter, loc, x, magnitudeMask);
    } else if (isa<F32NegOp, F64NegOp>(op)) {
      result = LLVM::XOrOp::create(rewriter, loc, x, sign);
    } else {
      Value magnitude = LLVM::AndOp::create(rewriter, loc, x, magnitudeMask);
      Value otherSign =
          LLVM::AndOp::create(rewriter, loc, bits(operands[1]), sign);
      result = LLVM::OrOp::create(rewriter, loc, magnitude, otherSign);
    }
    rewriter.replaceOpWithNewOp<LLVM::BitcastOp>(op, floatType, result);
    return success();
  }

  const LoweringTarget &target;
};

/// Float-to-integer truncation that traps: NaN is an invalid conversion, a
/// value whose truncation does not fit is an overflow.
template <typename SourceOp, bool isSigned>
struct TrappingTruncPattern : OpConversionPattern<SourceOp> {
  TrappingTruncPattern(const TypeConverter &converter, MLIRContext *context,
                       const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getOperand();
    auto floatType = cast<FloatType>(x.getType());
    Type intType = op.getType();
    unsigned width = intType.getIntOrFloatBitWidth();
    Value ordered =
        LLVM::FCmpOp::create(rewriter, loc, LLVM::FCmpPredicate::ord, x, x);
    trapUnless(rewriter, loc, ordered, abi::TrapCode::InvalidConversion,
               target);

    // The truncation fits iff lower < x < upper, with both bounds exact in
    // the float type: upper is 2^(N-1) (signed) or 2^N (unsigned); lower is
    // -1 (unsigned), or for signed -2^(N-1) - 1 where that is exact, else the
    // float just below -2^(N-1) (nothing lies between them).
    const llvm::fltSemantics &semantics = floatType.getFloatSemantics();
    llvm::APFloat upper = llvm::scalbn(llvm::APFloat::getOne(semantics),
                                       isSigned ? width - 1 : width,
                                       llvm::APFloat::rmNearestTiesToEven);
    llvm::APFloat lower = llvm::APFloat::getOne(semantics, /*Negative=*/true);
    if (isSigned) {
      llvm::APFloat min =
          llvm::scalbn(lower, width - 1, llvm::APFloat::rmNearestTiesToEven);
      lower = min;
      llvm::APFloat::opStatus status = lower.subtract(
          llvm::APFloat::getOne(semantics), llvm::APFloat::rmNearestTiesToEven);
      if (status != llvm::APFloat::opOK) {
        lower = min;
        lower.next(/*nextDown=*/true);
      }
    }
    Value upperValue = LLVM::ConstantOp::create(
        rewriter, loc, floatType, rewriter.getFloatAttr(floatType, upper));
    Value lowerValue = LLVM::ConstantOp::create(
        rewriter, loc, floatType, rewriter.getFloatAttr(floatType, lower));
    Value belowUpper = LLVM::FCmpOp::create(
        rewriter, loc, LLVM::FCmpPredicate::olt, x, upperValue);
    Value aboveLower = LLVM::FCmpOp::create(
        rewriter, loc, LLVM::FCmpPredicate::ogt, x, lowerValue);
    Value fits = LLVM::AndOp::create(rewriter, loc, belowUpper, aboveLower);
    trapUnless(rewriter, loc, fits, abi::TrapCode::IntegerOverflow, target);
    if (isSigned)
      rewriter.replaceOpWithNewOp<LLVM::FPToSIOp>(op, intType, x);
    else
      rewriter.replaceOpWithNewOp<LLVM::FPToUIOp>(op, intType, x);
    return success();
  }

  const LoweringTarget &target;
};

/// Saturating truncation is exactly LLVM's fpto[su]i.sat.
template <typename SourceOp, bool isSigned>
struct SaturatingTruncPattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type intType = op.getType();
    Type floatType = adaptor.getOperand().getType();
    std::string name = llvm::formatv(
        "llvm.fpto{0}i.sat.i{1}.f{2}", isSigned ? "s" : "u",
        intType.getIntOrFloatBitWidth(), floatType.getIntOrFloatBitWidth());
    auto call = LLVM::CallIntrinsicOp::create(rewriter, op.getLoc(), intType,
                                              rewriter.getStringAttr(name),
                                              ValueRange{adaptor.getOperand()});
    rewriter.replaceOp(op, call.getResults());
    return success();
  }
};

template <typename SourceOp, typename CastOp>
struct CastPattern : OpConversionPattern<SourceOp> {
  CastPattern(const TypeConverter &converter, MLIRContext *context,
              const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value result = CastOp::create(rewriter, op.getLoc(), op.getType(),
                                  adaptor.getOperand());
    if (isa<FloatType>(result.getType()))
      result = canonicalizeNaN(rewriter, op.getLoc(), op, result, target);
    rewriter.replaceOp(op, result);
    return success();
  }
  const LoweringTarget &target;
};

template <typename SourceOp>
struct ConstPattern : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<LLVM::ConstantOp>(op, op.getType(),
                                                  op.getValueAttr());
    return success();
  }
};

} // namespace

void mlir::twasm::populateNumericToLLVMPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns,
                                                const LoweringTarget &target) {
  MLIRContext *context = patterns.getContext();
  using IP = LLVM::ICmpPredicate;
  using FP = LLVM::FCmpPredicate;

  patterns.add<ConstPattern<I32ConstOp>, ConstPattern<I64ConstOp>,
               ConstPattern<F32ConstOp>, ConstPattern<F64ConstOp>>(converter,
                                                                   context);

  // Integers.
  patterns.add<
      DirectPattern<I32AddOp, LLVM::AddOp>,
      DirectPattern<I64AddOp, LLVM::AddOp>,
      DirectPattern<I32SubOp, LLVM::SubOp>,
      DirectPattern<I64SubOp, LLVM::SubOp>,
      DirectPattern<I32MulOp, LLVM::MulOp>,
      DirectPattern<I64MulOp, LLVM::MulOp>,
      DirectPattern<I32AndOp, LLVM::AndOp>,
      DirectPattern<I64AndOp, LLVM::AndOp>, DirectPattern<I32OrOp, LLVM::OrOp>,
      DirectPattern<I64OrOp, LLVM::OrOp>, DirectPattern<I32XorOp, LLVM::XOrOp>,
      DirectPattern<I64XorOp, LLVM::XOrOp>,
      DivisionPattern<I32DivSOp, LLVM::SDivOp, true, false>,
      DivisionPattern<I64DivSOp, LLVM::SDivOp, true, false>,
      DivisionPattern<I32DivUOp, LLVM::UDivOp, false, false>,
      DivisionPattern<I64DivUOp, LLVM::UDivOp, false, false>,
      DivisionPattern<I32RemSOp, LLVM::SRemOp, true, true>,
      DivisionPattern<I64RemSOp, LLVM::SRemOp, true, true>,
      DivisionPattern<I32RemUOp, LLVM::URemOp, false, true>,
      DivisionPattern<I64RemUOp, LLVM::URemOp, false, true>>(converter, context,
                                                             target);
  patterns.add<
      ShiftPattern<I32ShlOp, LLVM::ShlOp>, ShiftPattern<I64ShlOp, LLVM::ShlOp>,
      ShiftPattern<I32ShrSOp, LLVM::AShrOp>,
      ShiftPattern<I64ShrSOp, LLVM::AShrOp>,
      ShiftPattern<I32ShrUOp, LLVM::LShrOp>,
      ShiftPattern<I64ShrUOp, LLVM::LShrOp>,
      RotatePattern<I32RotlOp, LLVM::FshlOp>,
      RotatePattern<I64RotlOp, LLVM::FshlOp>,
      RotatePattern<I32RotrOp, LLVM::FshrOp>,
      RotatePattern<I64RotrOp, LLVM::FshrOp>,
      CountZerosPattern<I32ClzOp, LLVM::CountLeadingZerosOp>,
      CountZerosPattern<I64ClzOp, LLVM::CountLeadingZerosOp>,
      CountZerosPattern<I32CtzOp, LLVM::CountTrailingZerosOp>,
      CountZerosPattern<I64CtzOp, LLVM::CountTrailingZerosOp>,
      PopcntPattern<I32PopcntOp>, PopcntPattern<I64PopcntOp>,
      EqzPattern<I32EqzOp>, EqzPattern<I64EqzOp>,
      SignExtendInPlacePattern<I32Extend8SOp, 8>,
      SignExtendInPlacePattern<I32Extend16SOp, 16>,
      SignExtendInPlacePattern<I64Extend8SOp, 8>,
      SignExtendInPlacePattern<I64Extend16SOp, 16>,
      SignExtendInPlacePattern<I64Extend32SOp, 32>,
      IntComparePattern<I32EqOp, IP::eq>, IntComparePattern<I64EqOp, IP::eq>,
      IntComparePattern<I32NeOp, IP::ne>, IntComparePattern<I64NeOp, IP::ne>,
      IntComparePattern<I32LtSOp, IP::slt>,
      IntComparePattern<I64LtSOp, IP::slt>,
      IntComparePattern<I32LtUOp, IP::ult>,
      IntComparePattern<I64LtUOp, IP::ult>,
      IntComparePattern<I32GtSOp, IP::sgt>,
      IntComparePattern<I64GtSOp, IP::sgt>,
      IntComparePattern<I32GtUOp, IP::ugt>,
      IntComparePattern<I64GtUOp, IP::ugt>,
      IntComparePattern<I32LeSOp, IP::sle>,
      IntComparePattern<I64LeSOp, IP::sle>,
      IntComparePattern<I32LeUOp, IP::ule>,
      IntComparePattern<I64LeUOp, IP::ule>,
      IntComparePattern<I32GeSOp, IP::sge>,
      IntComparePattern<I64GeSOp, IP::sge>,
      IntComparePattern<I32GeUOp, IP::uge>,
      IntComparePattern<I64GeUOp, IP::uge>>(converter, context);

  // Floats. No fast-math flags anywhere: every operation rounds on its own
  // (no contraction into fma) and keeps subnormals.
  addRounding<F32SqrtOp, LLVM::SqrtOp>(patterns, converter, target,
                                       "llvm.sqrt");
  addRounding<F64SqrtOp, LLVM::SqrtOp>(patterns, converter, target,
                                       "llvm.sqrt");
  addRounding<F32CeilOp, LLVM::FCeilOp>(patterns, converter, target,
                                        "llvm.ceil");
  addRounding<F64CeilOp, LLVM::FCeilOp>(patterns, converter, target,
                                        "llvm.ceil");
  addRounding<F32FloorOp, LLVM::FFloorOp>(patterns, converter, target,
                                          "llvm.floor");
  addRounding<F64FloorOp, LLVM::FFloorOp>(patterns, converter, target,
                                          "llvm.floor");
  addRounding<F32NearestOp, LLVM::RoundEvenOp>(patterns, converter, target,
                                               "llvm.roundeven");
  addRounding<F64NearestOp, LLVM::RoundEvenOp>(patterns, converter, target,
                                               "llvm.roundeven");
  patterns.add<DirectPattern<F32AddOp, LLVM::FAddOp>,
               DirectPattern<F64AddOp, LLVM::FAddOp>,
               DirectPattern<F32SubOp, LLVM::FSubOp>,
               DirectPattern<F64SubOp, LLVM::FSubOp>,
               DirectPattern<F32MulOp, LLVM::FMulOp>,
               DirectPattern<F64MulOp, LLVM::FMulOp>,
               DirectPattern<F32DivOp, LLVM::FDivOp>,
               DirectPattern<F64DivOp, LLVM::FDivOp>,
               DirectPattern<F32MinOp, LLVM::MinimumOp>,
               DirectPattern<F64MinOp, LLVM::MinimumOp>,
               DirectPattern<F32MaxOp, LLVM::MaximumOp>,
               DirectPattern<F64MaxOp, LLVM::MaximumOp>,
               DirectPattern<F32TruncOp, LLVM::FTruncOp>,
               DirectPattern<F64TruncOp, LLVM::FTruncOp>,
               CastPattern<F32DemoteF64Op, LLVM::FPTruncOp>,
               CastPattern<F64PromoteF32Op, LLVM::FPExtOp>,
               CastPattern<I32WrapI64Op, LLVM::TruncOp>,
               CastPattern<I64ExtendI32SOp, LLVM::SExtOp>,
               CastPattern<I64ExtendI32UOp, LLVM::ZExtOp>,
               CastPattern<I32ReinterpretF32Op, LLVM::BitcastOp>,
               CastPattern<I64ReinterpretF64Op, LLVM::BitcastOp>,
               CastPattern<F32ReinterpretI32Op, LLVM::BitcastOp>,
               CastPattern<F64ReinterpretI64Op, LLVM::BitcastOp>,
               CastPattern<F32ConvertI32SOp, LLVM::SIToFPOp>,
               CastPattern<F32ConvertI32UOp, LLVM::UIToFPOp>,
               CastPattern<F32ConvertI64SOp, LLVM::SIToFPOp>,
               CastPattern<F32ConvertI64UOp, LLVM::UIToFPOp>,
               CastPattern<F64ConvertI32SOp, LLVM::SIToFPOp>,
               CastPattern<F64ConvertI32UOp, LLVM::UIToFPOp>,
               CastPattern<F64ConvertI64SOp, LLVM::SIToFPOp>,
               CastPattern<F64ConvertI64UOp, LLVM::UIToFPOp>,
               TrappingTruncPattern<I32TruncF32SOp, true>,
               TrappingTruncPattern<I32TruncF32UOp, false>,
               TrappingTruncPattern<I32TruncF64SOp, true>,
               TrappingTruncPattern<I32TruncF64UOp, false>,
               TrappingTruncPattern<I64TruncF32SOp, true>,
               TrappingTruncPattern<I64TruncF32UOp, false>,
               TrappingTruncPattern<I64TruncF64SOp, true>,
               TrappingTruncPattern<I64TruncF64UOp, false>>(converter, context,
                                                            target);
  patterns.add<SignBitPattern<F32AbsOp>, SignBitPattern<F64AbsOp>,
               SignBitPattern<F32NegOp>, SignBitPattern<F64NegOp>,
               SignBitPattern<F32CopysignOp>, SignBitPattern<F64CopysignOp>>(
      converter, context, target);
  patterns.add<SaturatingTruncPattern<I32TruncSatF32SOp, true>,
               SaturatingTruncPattern<I32TruncSatF32UOp, false>,
               SaturatingTruncPattern<I32TruncSatF64SOp, true>,
               SaturatingTruncPattern<I32TruncSatF64UOp, false>,
               SaturatingTruncPattern<I64TruncSatF32SOp, true>,
               SaturatingTruncPattern<I64TruncSatF32UOp, false>,
               SaturatingTruncPattern<I64TruncSatF64SOp, true>,
               SaturatingTruncPattern<I64TruncSatF64UOp, false>,
               FloatComparePattern<F32EqOp, FP::oeq>,
               FloatComparePattern<F64EqOp, FP::oeq>,
               FloatComparePattern<F32NeOp, FP::une>,
               FloatComparePattern<F64NeOp, FP::une>,
               FloatComparePattern<F32LtOp, FP::olt>,
               FloatComparePattern<F64LtOp, FP::olt>,
               FloatComparePattern<F32GtOp, FP::ogt>,
               FloatComparePattern<F64GtOp, FP::ogt>,
               FloatComparePattern<F32LeOp, FP::ole>,
               FloatComparePattern<F64LeOp, FP::ole>,
               FloatComparePattern<F32GeOp, FP::oge>,
               FloatComparePattern<F64GeOp, FP::oge>>(converter, context);
}
