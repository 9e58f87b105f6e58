//===- TwasmFolds.cpp - folders and canonicalization patterns
//--------------===//
//
// Every fold computes exactly what the Wasm spec prescribes (TwasmSemantics).
// An op that would trap on its constant operands is left alone, so the trap
// still happens at run time. Float identities that would let a signaling NaN
// through unquieted (x * 1.0, x + -0.0, min(x, x), ...) are deliberately not
// folded: the spec requires an arithmetic NaN there.
//
//===----------------------------------------------------------------------===//

#include "twasm/TwasmOps.h"
#include "twasm/TwasmSemantics.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::twasm;
namespace sem = mlir::twasm::semantics;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static Attribute toAttr(Type type, const APInt &value) {
  return IntegerAttr::get(type, value);
}
static Attribute toAttr(Type type, const APFloat &value) {
  return FloatAttr::get(type, value);
}
static Attribute toAttr(Type type, bool value) {
  return IntegerAttr::get(type, value ? 1 : 0);
}
template <typename T>
static Attribute toAttr(Type type, const std::optional<T> &value) {
  return value ? toAttr(type, *value) : Attribute();
}

/// Folds a unary op whose operand is a constant `OperandAttr`.
template <typename OperandAttr, typename Fn>
static OpFoldResult foldUnary(Type resultType, Attribute operand, Fn &&apply) {
  auto constant = dyn_cast_or_null<OperandAttr>(operand);
  if (!constant)
    return {};
  return toAttr(resultType, apply(constant.getValue()));
}

/// Folds a binary op whose operands are both constant `OperandAttr`s.
template <typename OperandAttr, typename Fn>
static OpFoldResult foldBinary(Type resultType, Attribute lhs, Attribute rhs,
                               Fn &&apply) {
  auto lhsConstant = dyn_cast_or_null<OperandAttr>(lhs);
  auto rhsConstant = dyn_cast_or_null<OperandAttr>(rhs);
  if (!lhsConstant || !rhsConstant)
    return {};
  return toAttr(resultType,
                apply(lhsConstant.getValue(), rhsConstant.getValue()));
}

/// Whether `attr` is the integer constant `value` (sign-extended to its width).
static bool isIntConstant(Attribute attr, int64_t value) {
  auto constant = dyn_cast_or_null<IntegerAttr>(attr);
  return constant &&
         constant.getValue() == APInt(constant.getValue().getBitWidth(), value,
                                      /*isSigned=*/true);
}

/// The low bits of a shift count that a Wasm shift or rotate uses.
static bool isZeroShiftCount(Attribute attr) {
  auto constant = dyn_cast_or_null<IntegerAttr>(attr);
  return constant && sem::shl(APInt(constant.getValue().getBitWidth(), 1),
                              constant.getValue()) == 1;
}

//===----------------------------------------------------------------------===//
// Constants and references
//===----------------------------------------------------------------------===//

OpFoldResult I32ConstOp::fold(FoldAdaptor) { return getValueAttr(); }
OpFoldResult I64ConstOp::fold(FoldAdaptor) { return getValueAttr(); }
OpFoldResult F32ConstOp::fold(FoldAdaptor) { return getValueAttr(); }
OpFoldResult F64ConstOp::fold(FoldAdaptor) { return getValueAttr(); }

OpFoldResult RefIsNullOp::fold(FoldAdaptor) {
  Operation *producer = getRef().getDefiningOp();
  if (isa_and_present<RefNullOp>(producer))
    return IntegerAttr::get(getType(), 1);
  if (isa_and_present<RefFuncOp>(producer))
    return IntegerAttr::get(getType(), 0);
  return {};
}

//===----------------------------------------------------------------------===//
// Integer operations
//===----------------------------------------------------------------------===//

// Each generic fold below serves the i32 and the i64 op of the same name.
#define TWASM_FOLD_INTEGER(NAME, IMPL)                                         \
  OpFoldResult I32##NAME##Op::fold(FoldAdaptor adaptor) {                      \
    return IMPL(*this, adaptor);                                               \
  }                                                                            \
  OpFoldResult I64##NAME##Op::fold(FoldAdaptor adaptor) {                      \
    return IMPL(*this, adaptor);                                               \
  }

template <typename Fn> static auto intUnary(Fn apply) {
  return [apply](auto op, auto adaptor) -> OpFoldResult {
    return foldUnary<IntegerAttr>(op.getType(), adaptor.getOperand(), apply);
  };
}

template <typename Fn> static auto intBinary(Fn apply) {
  return [apply](auto op, auto adaptor) -> OpFoldResult {
    return foldBinary<IntegerAttr>(op.getType(), adaptor.getLhs(),
                                   adaptor.getRhs(), apply);
  };
}

static const auto foldClz = intUnary(sem::clz);
static const auto foldCtz = intUnary(sem::ctz);
static const auto foldPopcnt = intUnary(sem::popcnt);
static const auto foldEqz = intUnary([](const APInt &x) { return x.isZero(); });
static const auto foldExtend8 =
    intUnary([](const APInt &x) { return sem::extendSigned(x, 8); });
static const auto foldExtend16 =
    intUnary([](const APInt &x) { return sem::extendSigned(x, 16); });

TWASM_FOLD_INTEGER(Clz, foldClz)
TWASM_FOLD_INTEGER(Ctz, foldCtz)
TWASM_FOLD_INTEGER(Popcnt, foldPopcnt)
TWASM_FOLD_INTEGER(Eqz, foldEqz)
TWASM_FOLD_INTEGER(Extend8S, foldExtend8)
TWASM_FOLD_INTEGER(Extend16S, foldExtend16)

OpFoldResult I64Extend32SOp::fold(FoldAdaptor adaptor) {
  return intUnary([](const APInt &x) { return sem::extendSigned(x, 32); })(
      *this, adaptor);
}

template <typename OpT>
static OpFoldResult foldAdd(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (isIntConstant(adaptor.getRhs(), 0))
    return op.getLhs();
  return intBinary([](const APInt &a, const APInt &b) { return a + b; })(
      op, adaptor);
}

template <typename OpT>
static OpFoldResult foldSub(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (isIntConstant(adaptor.getRhs(), 0))
    return op.getLhs();
  if (op.getLhs() == op.getRhs())
    return IntegerAttr::get(op.getType(), 0);
  return intBinary([](const APInt &a, const APInt &b) { return a - b; })(
      op, adaptor);
}

template <typename OpT>
static OpFoldResult foldMul(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (isIntConstant(adaptor.getRhs(), 1))
    return op.getLhs();
  if (isIntConstant(adaptor.getRhs(), 0))
    return adaptor.getRhs();
  return intBinary([](const APInt &a, const APInt &b) { return a * b; })(
      op, adaptor);
}

/// Division by 1 is the identity; a division that would trap is not folded.
template <typename OpT, typename Fn>
static OpFoldResult foldDivision(OpT op, typename OpT::FoldAdaptor adaptor,
                                 Fn apply) {
  if (isIntConstant(adaptor.getRhs(), 1))
    return op.getLhs();
  return intBinary(apply)(op, adaptor);
}

/// Remainder by 1 (or, signed, by -1) is 0, whatever the dividend.
template <typename OpT, typename Fn>
static OpFoldResult foldRemainder(OpT op, typename OpT::FoldAdaptor adaptor,
                                  Fn apply, bool isSigned) {
  if (isIntConstant(adaptor.getRhs(), 1) ||
      (isSigned && isIntConstant(adaptor.getRhs(), -1)))
    return IntegerAttr::get(op.getType(), 0);
  return intBinary(apply)(op, adaptor);
}

template <typename OpT>
static OpFoldResult foldAnd(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (isIntConstant(adaptor.getRhs(), 0))
    return adaptor.getRhs();
  if (isIntConstant(adaptor.getRhs(), -1) || op.getLhs() == op.getRhs())
    return op.getLhs();
  return intBinary([](const APInt &a, const APInt &b) { return a & b; })(
      op, adaptor);
}

template <typename OpT>
static OpFoldResult foldOr(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (isIntConstant(adaptor.getRhs(), -1))
    return adaptor.getRhs();
  if (isIntConstant(adaptor.getRhs(), 0) || op.getLhs() == op.getRhs())
    return op.getLhs();
  return intBinary([](const APInt &a, const APInt &b) { return a | b; })(
      op, adaptor);
}

template <typename OpT>
static OpFoldResult foldXor(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (isIntConstant(adaptor.getRhs(), 0))
    return op.getLhs();
  if (op.getLhs() == op.getRhs())
    return IntegerAttr::get(op.getType(), 0);
  return intBinary([](const APInt &a, const APInt &b) { return a ^ b; })(
      op, adaptor);
}

/// A shift or rotate by a multiple of the bit width is the identity.
template <typename OpT, typename Fn>
static OpFoldResult foldShift(OpT op, typename OpT::FoldAdaptor adaptor,
                              Fn apply) {
  if (isZeroShiftCount(adaptor.getRhs()))
    return op.getLhs();
  return intBinary(apply)(op, adaptor);
}

/// Comparisons of a value with itself are decided without constants.
template <typename OpT, typename Fn>
static OpFoldResult foldCompare(OpT op, typename OpT::FoldAdaptor adaptor,
                                Fn apply, bool reflexive) {
  if (op.getLhs() == op.getRhs())
    return IntegerAttr::get(op.getType(), reflexive ? 1 : 0);
  return foldBinary<IntegerAttr>(op.getType(), adaptor.getLhs(),
                                 adaptor.getRhs(), apply);
}

#define TWASM_FOLD_INTEGER_WITH(NAME, HELPER, ...)                             \
  OpFoldResult I32##NAME##Op::fold(FoldAdaptor adaptor) {                      \
    return HELPER(*this, adaptor, __VA_ARGS__);                                \
  }                                                                            \
  OpFoldResult I64##NAME##Op::fold(FoldAdaptor adaptor) {                      \
    return HELPER(*this, adaptor, __VA_ARGS__);                                \
  }

TWASM_FOLD_INTEGER(Add, foldAdd)
TWASM_FOLD_INTEGER(Sub, foldSub)
TWASM_FOLD_INTEGER(Mul, foldMul)
TWASM_FOLD_INTEGER(And, foldAnd)
TWASM_FOLD_INTEGER(Or, foldOr)
TWASM_FOLD_INTEGER(Xor, foldXor)
TWASM_FOLD_INTEGER_WITH(DivS, foldDivision, sem::divSigned)
TWASM_FOLD_INTEGER_WITH(DivU, foldDivision, sem::divUnsigned)
TWASM_FOLD_INTEGER_WITH(RemS, foldRemainder, sem::remSigned, true)
TWASM_FOLD_INTEGER_WITH(RemU, foldRemainder, sem::remUnsigned, false)
TWASM_FOLD_INTEGER_WITH(Shl, foldShift, sem::shl)
TWASM_FOLD_INTEGER_WITH(ShrS, foldShift, sem::shrSigned)
TWASM_FOLD_INTEGER_WITH(ShrU, foldShift, sem::shrUnsigned)
TWASM_FOLD_INTEGER_WITH(Rotl, foldShift, sem::rotl)
TWASM_FOLD_INTEGER_WITH(Rotr, foldShift, sem::rotr)

TWASM_FOLD_INTEGER_WITH(
    Eq, foldCompare, [](const APInt &a, const APInt &b) { return a == b; },
    true)
TWASM_FOLD_INTEGER_WITH(
    Ne, foldCompare, [](const APInt &a, const APInt &b) { return a != b; },
    false)
TWASM_FOLD_INTEGER_WITH(
    LtS, foldCompare, [](const APInt &a, const APInt &b) { return a.slt(b); },
    false)
TWASM_FOLD_INTEGER_WITH(
    LtU, foldCompare, [](const APInt &a, const APInt &b) { return a.ult(b); },
    false)
TWASM_FOLD_INTEGER_WITH(
    GtS, foldCompare, [](const APInt &a, const APInt &b) { return a.sgt(b); },
    false)
TWASM_FOLD_INTEGER_WITH(
    GtU, foldCompare, [](const APInt &a, const APInt &b) { return a.ugt(b); },
    false)
TWASM_FOLD_INTEGER_WITH(
    LeS, foldCompare, [](const APInt &a, const APInt &b) { return a.sle(b); },
    true)
TWASM_FOLD_INTEGER_WITH(
    LeU, foldCompare, [](const APInt &a, const APInt &b) { return a.ule(b); },
    true)
TWASM_FOLD_INTEGER_WITH(
    GeS, foldCompare, [](const APInt &a, const APInt &b) { return a.sge(b); },
    true)
TWASM_FOLD_INTEGER_WITH(
    GeU, foldCompare, [](const APInt &a, const APInt &b) { return a.uge(b); },
    true)

//===----------------------------------------------------------------------===//
// Float operations
//===----------------------------------------------------------------------===//

#define TWASM_FOLD_FLOAT(NAME, IMPL)                                           \
  OpFoldResult F32##NAME##Op::fold(FoldAdaptor adaptor) {                      \
    return IMPL(*this, adaptor);                                               \
  }                                                                            \
  OpFoldResult F64##NAME##Op::fold(FoldAdaptor adaptor) {                      \
    return IMPL(*this, adaptor);                                               \
  }

template <typename Fn> static auto floatUnary(Fn apply) {
  return [apply](auto op, auto adaptor) -> OpFoldResult {
    return foldUnary<FloatAttr>(op.getType(), adaptor.getOperand(), apply);
  };
}

template <typename Fn> static auto floatBinary(Fn apply) {
  return [apply](auto op, auto adaptor) -> OpFoldResult {
    return foldBinary<FloatAttr>(op.getType(), adaptor.getLhs(),
                                 adaptor.getRhs(), apply);
  };
}

/// neg and abs only touch the sign bit, so neg(neg(x)) is x even for NaNs.
template <typename OpT>
static OpFoldResult foldNeg(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (auto inner = op.getOperand().template getDefiningOp<OpT>())
    return inner.getOperand();
  return floatUnary(sem::neg)(op, adaptor);
}

template <typename OpT>
static OpFoldResult foldAbs(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (auto inner = op.getOperand().template getDefiningOp<OpT>())
    return inner.getResult();
  return floatUnary(sem::abs)(op, adaptor);
}

/// copysign(x, x) is x: the sign bit it copies is x's own.
template <typename OpT>
static OpFoldResult foldCopysign(OpT op, typename OpT::FoldAdaptor adaptor) {
  if (op.getLhs() == op.getRhs())
    return op.getLhs();
  return floatBinary(sem::copysign)(op, adaptor);
}

static const auto foldFloatCeil = floatUnary(sem::ceil);
static const auto foldFloatFloor = floatUnary(sem::floor);
static const auto foldFloatTrunc = floatUnary(sem::trunc);
static const auto foldFloatNearest = floatUnary(sem::nearest);
static const auto foldFloatSqrt = floatUnary(sem::sqrt);
static const auto foldFloatAdd = floatBinary(sem::add);
static const auto foldFloatSub = floatBinary(sem::sub);
static const auto foldFloatMul = floatBinary(sem::mul);
static const auto foldFloatDiv = floatBinary(sem::div);
static const auto foldFloatMin = floatBinary(sem::min);
static const auto foldFloatMax = floatBinary(sem::max);

TWASM_FOLD_FLOAT(Abs, foldAbs)
TWASM_FOLD_FLOAT(Neg, foldNeg)
TWASM_FOLD_FLOAT(Copysign, foldCopysign)
TWASM_FOLD_FLOAT(Ceil, foldFloatCeil)
TWASM_FOLD_FLOAT(Floor, foldFloatFloor)
TWASM_FOLD_FLOAT(Trunc, foldFloatTrunc)
TWASM_FOLD_FLOAT(Nearest, foldFloatNearest)
TWASM_FOLD_FLOAT(Sqrt, foldFloatSqrt)
TWASM_FOLD_FLOAT(Add, foldFloatAdd)
TWASM_FOLD_FLOAT(Sub, foldFloatSub)
TWASM_FOLD_FLOAT(Mul, foldFloatMul)
TWASM_FOLD_FLOAT(Div, foldFloatDiv)
TWASM_FOLD_FLOAT(Min, foldFloatMin)
TWASM_FOLD_FLOAT(Max, foldFloatMax)

/// Float comparisons: with NaN possible, only constants decide them.
template <typename Fn> static auto floatCompare(Fn apply) {
  return [apply](auto op, auto adaptor) -> OpFoldResult {
    return foldBinary<FloatAttr>(op.getType(), adaptor.getLhs(),
                                 adaptor.getRhs(), apply);
  };
}

static const auto foldFloatEq = floatCompare(sem::eq);
static const auto foldFloatNe = floatCompare(
    [](const APFloat &a, const APFloat &b) { return !sem::eq(a, b); });
static const auto foldFloatLt = floatCompare(sem::lt);
static const auto foldFloatGt = floatCompare(
    [](const APFloat &a, const APFloat &b) { return sem::lt(b, a); });
static const auto foldFloatLe = floatCompare(sem::le);
static const auto foldFloatGe = floatCompare(
    [](const APFloat &a, const APFloat &b) { return sem::le(b, a); });

TWASM_FOLD_FLOAT(Eq, foldFloatEq)
TWASM_FOLD_FLOAT(Ne, foldFloatNe)
TWASM_FOLD_FLOAT(Lt, foldFloatLt)
TWASM_FOLD_FLOAT(Gt, foldFloatGt)
TWASM_FOLD_FLOAT(Le, foldFloatLe)
TWASM_FOLD_FLOAT(Ge, foldFloatGe)

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

OpFoldResult I32WrapI64Op::fold(FoldAdaptor adaptor) {
  // wrap(extend(x)) is x, whichever extension it was.
  Operation *producer = getOperand().getDefiningOp();
  if (isa_and_present<I64ExtendI32SOp, I64ExtendI32UOp>(producer))
    return producer->getOperand(0);
  return intUnary([](const APInt &x) { return x.trunc(32); })(*this, adaptor);
}

OpFoldResult I64ExtendI32SOp::fold(FoldAdaptor adaptor) {
  return intUnary([](const APInt &x) { return x.sext(64); })(*this, adaptor);
}

OpFoldResult I64ExtendI32UOp::fold(FoldAdaptor adaptor) {
  return intUnary([](const APInt &x) { return x.zext(64); })(*this, adaptor);
}

#define TWASM_FOLD_TRUNCATION(OP, WIDTH, SIGNED, FN)                           \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                 \
    return foldUnary<FloatAttr>(                                               \
        getType(), adaptor.getOperand(),                                       \
        [](const APFloat &x) { return sem::FN(x, WIDTH, SIGNED); });           \
  }
TWASM_FOLD_TRUNCATION(I32TruncF32SOp, 32, true, truncToInt)
TWASM_FOLD_TRUNCATION(I32TruncF32UOp, 32, false, truncToInt)
TWASM_FOLD_TRUNCATION(I32TruncF64SOp, 32, true, truncToInt)
TWASM_FOLD_TRUNCATION(I32TruncF64UOp, 32, false, truncToInt)
TWASM_FOLD_TRUNCATION(I64TruncF32SOp, 64, true, truncToInt)
TWASM_FOLD_TRUNCATION(I64TruncF32UOp, 64, false, truncToInt)
TWASM_FOLD_TRUNCATION(I64TruncF64SOp, 64, true, truncToInt)
TWASM_FOLD_TRUNCATION(I64TruncF64UOp, 64, false, truncToInt)
TWASM_FOLD_TRUNCATION(I32TruncSatF32SOp, 32, true, truncSatToInt)
TWASM_FOLD_TRUNCATION(I32TruncSatF32UOp, 32, false, truncSatToInt)
TWASM_FOLD_TRUNCATION(I32TruncSatF64SOp, 32, true, truncSatToInt)
TWASM_FOLD_TRUNCATION(I32TruncSatF64UOp, 32, false, truncSatToInt)
TWASM_FOLD_TRUNCATION(I64TruncSatF32SOp, 64, true, truncSatToInt)
TWASM_FOLD_TRUNCATION(I64TruncSatF32UOp, 64, false, truncSatToInt)
TWASM_FOLD_TRUNCATION(I64TruncSatF64SOp, 64, true, truncSatToInt)
TWASM_FOLD_TRUNCATION(I64TruncSatF64UOp, 64, false, truncSatToInt)
#undef TWASM_FOLD_TRUNCATION

#define TWASM_FOLD_CONVERT(OP, SIGNED, SEMANTICS)                              \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                 \
    return foldUnary<IntegerAttr>(                                             \
        getType(), adaptor.getOperand(), [](const APInt &x) {                  \
          return sem::convertFromInt(x, SIGNED, APFloat::SEMANTICS());         \
        });                                                                    \
  }
TWASM_FOLD_CONVERT(F32ConvertI32SOp, true, IEEEsingle)
TWASM_FOLD_CONVERT(F32ConvertI32UOp, false, IEEEsingle)
TWASM_FOLD_CONVERT(F32ConvertI64SOp, true, IEEEsingle)
TWASM_FOLD_CONVERT(F32ConvertI64UOp, false, IEEEsingle)
TWASM_FOLD_CONVERT(F64ConvertI32SOp, true, IEEEdouble)
TWASM_FOLD_CONVERT(F64ConvertI32UOp, false, IEEEdouble)
TWASM_FOLD_CONVERT(F64ConvertI64SOp, true, IEEEdouble)
TWASM_FOLD_CONVERT(F64ConvertI64UOp, false, IEEEdouble)
#undef TWASM_FOLD_CONVERT

OpFoldResult F32DemoteF64Op::fold(FoldAdaptor adaptor) {
  return foldUnary<FloatAttr>(getType(), adaptor.getOperand(), sem::demote);
}

OpFoldResult F64PromoteF32Op::fold(FoldAdaptor adaptor) {
  return foldUnary<FloatAttr>(getType(), adaptor.getOperand(), sem::promote);
}

/// Reinterpretations are exact bit copies, so a round trip is the identity.
template <typename InverseOp, typename OpT>
static OpFoldResult foldReinterpret(OpT op, Attribute operand) {
  if (auto inverse = op.getOperand().template getDefiningOp<InverseOp>())
    return inverse.getOperand();
  if (auto constant = dyn_cast_or_null<FloatAttr>(operand))
    return IntegerAttr::get(op.getType(), constant.getValue().bitcastToAPInt());
  if (auto constant = dyn_cast_or_null<IntegerAttr>(operand))
    return FloatAttr::get(op.getType(),
                          sem::floatFromBits(constant.getValue()));
  return {};
}

OpFoldResult I32ReinterpretF32Op::fold(FoldAdaptor adaptor) {
  return foldReinterpret<F32ReinterpretI32Op>(*this, adaptor.getOperand());
}
OpFoldResult I64ReinterpretF64Op::fold(FoldAdaptor adaptor) {
  return foldReinterpret<F64ReinterpretI64Op>(*this, adaptor.getOperand());
}
OpFoldResult F32ReinterpretI32Op::fold(FoldAdaptor adaptor) {
  return foldReinterpret<I32ReinterpretF32Op>(*this, adaptor.getOperand());
}
OpFoldResult F64ReinterpretI64Op::fold(FoldAdaptor adaptor) {
  return foldReinterpret<I64ReinterpretF64Op>(*this, adaptor.getOperand());
}

//===----------------------------------------------------------------------===//
// select
//===----------------------------------------------------------------------===//

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  if (getTrueValue() == getFalseValue())
    return getTrueValue();
  if (auto condition = dyn_cast_or_null<IntegerAttr>(adaptor.getCondition()))
    return condition.getValue().isZero() ? getFalseValue() : getTrueValue();
  return {};
}

/// The operand of an `i32.eqz`, or null.
static Value eqzOperand(Value condition) {
  if (auto eqz = condition.getDefiningOp<I32EqzOp>())
    return eqz.getOperand();
  return {};
}

/// select(eqz(c), a, b) -> select(c, b, a)
static LogicalResult invertSelectOfEqz(SelectOp op, PatternRewriter &rewriter) {
  Value condition = eqzOperand(op.getCondition());
  if (!condition)
    return failure();
  rewriter.replaceOpWithNewOp<SelectOp>(op, op.getType(), condition,
                                        op.getFalseValue(), op.getTrueValue());
  return success();
}

void SelectOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *) {
  patterns.add(invertSelectOfEqz);
}

//===----------------------------------------------------------------------===//
// Integer canonicalizations
//===----------------------------------------------------------------------===//

static Value createIntConstant(PatternRewriter &rewriter, Location loc,
                               Type type, const APInt &value) {
  IntegerAttr attr = rewriter.getIntegerAttr(type, value);
  if (type.isInteger(32))
    return I32ConstOp::create(rewriter, loc, attr);
  return I64ConstOp::create(rewriter, loc, attr);
}

/// (x + c1) + c2 -> x + (c1 + c2), wrapping.
template <typename AddOp>
static LogicalResult reassociateAddConstants(AddOp op,
                                             PatternRewriter &rewriter) {
  APInt outer, inner;
  auto innerAdd = op.getLhs().template getDefiningOp<AddOp>();
  if (!innerAdd || !matchPattern(op.getRhs(), m_ConstantInt(&outer)) ||
      !matchPattern(innerAdd.getRhs(), m_ConstantInt(&inner)))
    return failure();
  Value sum =
      createIntConstant(rewriter, op.getLoc(), op.getType(), inner + outer);
  rewriter.replaceOpWithNewOp<AddOp>(op, innerAdd.getLhs(), sum);
  return success();
}

/// x - c -> x + (-c), so that constant offsets meet in one add.
template <typename SubOp, typename AddOp>
static LogicalResult subtractConstantAsAdd(SubOp op,
                                           PatternRewriter &rewriter) {
  APInt constant;
  if (!matchPattern(op.getRhs(), m_ConstantInt(&constant)) || constant.isZero())
    return failure();
  Value negated =
      createIntConstant(rewriter, op.getLoc(), op.getType(), -constant);
  rewriter.replaceOpWithNewOp<AddOp>(op, op.getLhs(), negated);
  return success();
}

/// Shifts and rotates use only the low log2(width) bits of the count, so a
/// mask of those bits on the count is redundant, and a constant count can be
/// reduced modulo the width: shl(x, and(y, 31)) -> shl(x, y);
/// shl(x, 33) -> shl(x, 1).
template <typename ShiftOp>
static LogicalResult simplifyShiftCount(ShiftOp op, PatternRewriter &rewriter) {
  unsigned width = op.getType().getIntOrFloatBitWidth();
  APInt countMask(width, width - 1);
  APInt constant;
  if (matchPattern(op.getRhs(), m_ConstantInt(&constant))) {
    APInt reduced = constant & countMask;
    if (reduced == constant)
      return failure();
    Value count =
        createIntConstant(rewriter, op.getLoc(), op.getType(), reduced);
    rewriter.modifyOpInPlace(op, [&] { op.getRhsMutable().assign(count); });
    return success();
  }
  Operation *producer = op.getRhs().getDefiningOp();
  if (!isa_and_present<I32AndOp, I64AndOp>(producer))
    return failure();
  APInt mask;
  if (!matchPattern(producer->getOperand(1), m_ConstantInt(&mask)) ||
      (mask & countMask) != countMask)
    return failure();
  rewriter.modifyOpInPlace(
      op, [&] { op.getRhsMutable().assign(producer->getOperand(0)); });
  return success();
}

void I32AddOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *) {
  patterns.add(reassociateAddConstants<I32AddOp>);
}
void I64AddOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *) {
  patterns.add(reassociateAddConstants<I64AddOp>);
}
void I32SubOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *) {
  patterns.add(subtractConstantAsAdd<I32SubOp, I32AddOp>);
}
void I64SubOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *) {
  patterns.add(subtractConstantAsAdd<I64SubOp, I64AddOp>);
}

#define TWASM_SHIFT_CANONICALIZATION(OP)                                       \
  void OP::getCanonicalizationPatterns(RewritePatternSet &patterns,            \
                                       MLIRContext *) {                        \
    patterns.add(simplifyShiftCount<OP>);                                      \
  }
TWASM_SHIFT_CANONICALIZATION(I32ShlOp)
TWASM_SHIFT_CANONICALIZATION(I64ShlOp)
TWASM_SHIFT_CANONICALIZATION(I32ShrSOp)
TWASM_SHIFT_CANONICALIZATION(I64ShrSOp)
TWASM_SHIFT_CANONICALIZATION(I32ShrUOp)
TWASM_SHIFT_CANONICALIZATION(I64ShrUOp)
TWASM_SHIFT_CANONICALIZATION(I32RotlOp)
TWASM_SHIFT_CANONICALIZATION(I64RotlOp)
TWASM_SHIFT_CANONICALIZATION(I32RotrOp)
TWASM_SHIFT_CANONICALIZATION(I64RotrOp)
#undef TWASM_SHIFT_CANONICALIZATION

//===----------------------------------------------------------------------===//
// Branches
//===----------------------------------------------------------------------===//

/// Whether two successor entries go to the same block with the same values.
static bool sameTarget(Block *lhs, ValueRange lhsOperands, Block *rhs,
                       ValueRange rhsOperands) {
  return lhs == rhs && llvm::equal(lhsOperands, rhsOperands);
}

/// If `block` does nothing but branch on (`br ^next(values)`), returns the
/// target and the values a branch to `block` with `operands` would pass on.
/// The values `block` forwards are its arguments or values defined before it,
/// which then also dominate every branch to it.
static std::optional<std::pair<Block *, SmallVector<Value>>>
passThroughTarget(Block *block, ValueRange operands) {
  if (!llvm::hasSingleElement(*block))
    return std::nullopt;
  auto forward = dyn_cast<BrOp>(block->getTerminator());
  if (!forward || forward.getDest() == block)
    return std::nullopt;
  // A branch that skips the block must not skip the definition of an
  // argument something else uses: blocks the block dominates may use its
  // arguments directly (a loop nest's outer induction variable, say), and
  // they would be reached without it.
  for (BlockArgument argument : block->getArguments())
    for (Operation *user : argument.getUsers())
      if (user != forward)
        return std::nullopt;
  // Blocks that only branch on, round in a circle, are an endless loop
  // (`(loop (br 0))` once simplified): redirecting a branch into the circle
  // would only move it round and round, so the circle is left alone.
  llvm::SmallPtrSet<Block *, 8> seen = {block};
  for (Block *next = forward.getDest();;) {
    if (!seen.insert(next).second)
      return std::nullopt;
    auto onward = llvm::hasSingleElement(*next)
                      ? dyn_cast<BrOp>(next->getTerminator())
                      : BrOp();
    if (!onward)
      break;
    next = onward.getDest();
  }
  SmallVector<Value> values;
  for (Value value : forward.getDestOperands()) {
    auto argument = dyn_cast<BlockArgument>(value);
    values.push_back(argument && argument.getOwner() == block
                         ? operands[argument.getArgNumber()]
                         : value);
  }
  return std::make_pair(forward.getDest(), std::move(values));
}

/// br to a block whose only predecessor it is: merge the two blocks.
/// br to a block that only branches on: branch to where it goes.
static LogicalResult simplifyBr(BrOp op, PatternRewriter &rewriter) {
  Block *dest = op.getDest();
  Block *current = op->getBlock();
  if (dest != current && dest->getSinglePredecessor() == current) {
    SmallVector<Value> operands(op.getDestOperands());
    rewriter.eraseOp(op);
    rewriter.mergeBlocks(dest, current, operands);
    return success();
  }
  auto target = passThroughTarget(dest, op.getDestOperands());
  if (!target)
    return failure();
  rewriter.replaceOpWithNewOp<BrOp>(op, target->second, target->first);
  return success();
}

void BrOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                       MLIRContext *) {
  patterns.add(simplifyBr);
}

/// Redirects the successors of a br_if that only branch on.
static LogicalResult skipPassThroughSuccessors(BrIfOp op,
                                               PatternRewriter &rewriter) {
  auto trueTarget =
      passThroughTarget(op.getTrueDest(), op.getTrueDestOperands());
  auto falseTarget =
      passThroughTarget(op.getFalseDest(), op.getFalseDestOperands());
  if (!trueTarget && !falseTarget)
    return failure();
  Block *trueDest = trueTarget ? trueTarget->first : op.getTrueDest();
  Block *falseDest = falseTarget ? falseTarget->first : op.getFalseDest();
  SmallVector<Value> trueOperands =
      trueTarget ? trueTarget->second
                 : SmallVector<Value>(op.getTrueDestOperands());
  SmallVector<Value> falseOperands =
      falseTarget ? falseTarget->second
                  : SmallVector<Value>(op.getFalseDestOperands());
  rewriter.replaceOpWithNewOp<BrIfOp>(op, op.getCondition(), trueOperands,
                                      falseOperands, trueDest, falseDest);
  return success();
}

/// br_if on a constant, or to one target either way, is a br.
static LogicalResult brIfToBr(BrIfOp op, PatternRewriter &rewriter) {
  APInt condition;
  if (matchPattern(op.getCondition(), m_ConstantInt(&condition))) {
    if (condition.isZero())
      rewriter.replaceOpWithNewOp<BrOp>(op, op.getFalseDestOperands(),
                                        op.getFalseDest());
    else
      rewriter.replaceOpWithNewOp<BrOp>(op, op.getTrueDestOperands(),
                                        op.getTrueDest());
    return success();
  }
  if (!sameTarget(op.getTrueDest(), op.getTrueDestOperands(), op.getFalseDest(),
                  op.getFalseDestOperands()))
    return failure();
  rewriter.replaceOpWithNewOp<BrOp>(op, op.getTrueDestOperands(),
                                    op.getTrueDest());
  return success();
}

/// br_if(eqz(c), T, F) -> br_if(c, F, T)
static LogicalResult invertBrIfOfEqz(BrIfOp op, PatternRewriter &rewriter) {
  Value condition = eqzOperand(op.getCondition());
  if (!condition)
    return failure();
  rewriter.replaceOpWithNewOp<BrIfOp>(op, condition, op.getFalseDestOperands(),
                                      op.getTrueDestOperands(),
                                      op.getFalseDest(), op.getTrueDest());
  return success();
}

void BrIfOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                         MLIRContext *) {
  patterns.add(brIfToBr);
  patterns.add(invertBrIfOfEqz);
  patterns.add(skipPassThroughSuccessors);
}

/// br_table on a constant index, or whose every entry is the same target, is
/// a br.
static LogicalResult brTableToBr(BrTableOp op, PatternRewriter &rewriter) {
  APInt index;
  if (matchPattern(op.getIndex(), m_ConstantInt(&index))) {
    uint64_t selected = index.getZExtValue();
    if (selected < op.getTargetDests().size())
      rewriter.replaceOpWithNewOp<BrOp>(op, op.getTargetOperands()[selected],
                                        op.getTargetDests()[selected]);
    else
      rewriter.replaceOpWithNewOp<BrOp>(op, op.getDefaultOperands(),
                                        op.getDefaultDest());
    return success();
  }
  for (auto [target, operands] :
       llvm::zip(op.getTargetDests(), op.getTargetOperands()))
    if (!sameTarget(target, operands, op.getDefaultDest(),
                    op.getDefaultOperands()))
      return failure();
  rewriter.replaceOpWithNewOp<BrOp>(op, op.getDefaultOperands(),
                                    op.getDefaultDest());
  return success();
}

void BrTableOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *) {
  patterns.add(brTableToBr);
}
