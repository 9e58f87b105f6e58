//===- TwasmSemantics.cpp - Wasm numeric semantics on APInt/APFloat -------===//

#include "twasm/TwasmSemantics.h"

#include "llvm/ADT/APSInt.h"

#include <cmath>

namespace mlir::twasm::semantics {

using llvm::APSInt;
using llvm::fltSemantics;
using RoundingMode = llvm::RoundingMode;

static constexpr RoundingMode kNearestEven = RoundingMode::NearestTiesToEven;

//===----------------------------------------------------------------------===//
// Integers
//===----------------------------------------------------------------------===//

APInt clz(const APInt &x) { return APInt(x.getBitWidth(), x.countl_zero()); }
APInt ctz(const APInt &x) { return APInt(x.getBitWidth(), x.countr_zero()); }
APInt popcnt(const APInt &x) { return APInt(x.getBitWidth(), x.popcount()); }

APInt extendSigned(const APInt &x, unsigned fromBits) {
  return x.trunc(fromBits).sext(x.getBitWidth());
}

std::optional<APInt> divSigned(const APInt &lhs, const APInt &rhs) {
  if (rhs.isZero() || (lhs.isMinSignedValue() && rhs.isAllOnes()))
    return std::nullopt;
  return lhs.sdiv(rhs);
}

std::optional<APInt> divUnsigned(const APInt &lhs, const APInt &rhs) {
  if (rhs.isZero())
    return std::nullopt;
  return lhs.udiv(rhs);
}

std::optional<APInt> remSigned(const APInt &lhs, const APInt &rhs) {
  if (rhs.isZero())
    return std::nullopt;
  // The minimum value modulo -1 is 0 in Wasm; it does not trap.
  if (rhs.isAllOnes())
    return APInt::getZero(lhs.getBitWidth());
  return lhs.srem(rhs);
}

std::optional<APInt> remUnsigned(const APInt &lhs, const APInt &rhs) {
  if (rhs.isZero())
    return std::nullopt;
  return lhs.urem(rhs);
}

static unsigned shiftCount(const APInt &count) {
  return count.getZExtValue() & (count.getBitWidth() - 1);
}

APInt shl(const APInt &lhs, const APInt &count) {
  return lhs.shl(shiftCount(count));
}
APInt shrSigned(const APInt &lhs, const APInt &count) {
  return lhs.ashr(shiftCount(count));
}
APInt shrUnsigned(const APInt &lhs, const APInt &count) {
  return lhs.lshr(shiftCount(count));
}
APInt rotl(const APInt &lhs, const APInt &count) {
  return lhs.rotl(shiftCount(count));
}
APInt rotr(const APInt &lhs, const APInt &count) {
  return lhs.rotr(shiftCount(count));
}

//===----------------------------------------------------------------------===//
// Floats
//===----------------------------------------------------------------------===//

/// The number of explicit significand bits (23 for f32, 52 for f64).
static unsigned significandBits(const fltSemantics &semantics) {
  return APFloat::semanticsPrecision(semantics) - 1;
}

static APInt quietBit(const fltSemantics &semantics) {
  unsigned width = APFloat::semanticsSizeInBits(semantics);
  return APInt::getOneBitSet(width, significandBits(semantics) - 1);
}

static APInt significandMask(const fltSemantics &semantics) {
  unsigned width = APFloat::semanticsSizeInBits(semantics);
  return APInt::getLowBitsSet(width, significandBits(semantics));
}

APFloat floatFromBits(const APInt &bits) {
  return APFloat(bits.getBitWidth() == 32 ? APFloat::IEEEsingle()
                                          : APFloat::IEEEdouble(),
                 bits);
}

bool isCanonicalNaN(const APFloat &x) {
  if (!x.isNaN())
    return false;
  const fltSemantics &semantics = x.getSemantics();
  return (x.bitcastToAPInt() & significandMask(semantics)) ==
         quietBit(semantics);
}

APFloat canonicalNaN(const fltSemantics &semantics) {
  unsigned width = APFloat::semanticsSizeInBits(semantics);
  APInt exponentBits =
      APInt::getBitsSet(width, significandBits(semantics), width - 1);
  return floatFromBits(exponentBits | quietBit(semantics));
}

APFloat nanResult(const fltSemantics &semantics,
                  llvm::ArrayRef<APFloat> operands) {
  for (const APFloat &operand : operands)
    if (operand.isNaN() && !isCanonicalNaN(operand))
      return floatFromBits(operand.bitcastToAPInt() | quietBit(semantics));
  return canonicalNaN(semantics);
}

template <typename Fn>
static APFloat arithmetic(const APFloat &lhs, const APFloat &rhs, Fn apply) {
  APFloat result = lhs;
  apply(result, rhs);
  if (result.isNaN())
    return nanResult(lhs.getSemantics(), {lhs, rhs});
  return result;
}

APFloat add(const APFloat &lhs, const APFloat &rhs) {
  return arithmetic(
      lhs, rhs, [](APFloat &r, const APFloat &b) { r.add(b, kNearestEven); });
}
APFloat sub(const APFloat &lhs, const APFloat &rhs) {
  return arithmetic(lhs, rhs, [](APFloat &r, const APFloat &b) {
    r.subtract(b, kNearestEven);
  });
}
APFloat mul(const APFloat &lhs, const APFloat &rhs) {
  return arithmetic(lhs, rhs, [](APFloat &r, const APFloat &b) {
    r.multiply(b, kNearestEven);
  });
}
APFloat div(const APFloat &lhs, const APFloat &rhs) {
  return arithmetic(lhs, rhs, [](APFloat &r, const APFloat &b) {
    r.divide(b, kNearestEven);
  });
}

APFloat min(const APFloat &lhs, const APFloat &rhs) {
  if (lhs.isNaN() || rhs.isNaN())
    return nanResult(lhs.getSemantics(), {lhs, rhs});
  if (lhs.isZero() && rhs.isZero())
    return lhs.isNegative() ? lhs : rhs;
  return lhs.compare(rhs) == APFloat::cmpLessThan ? lhs : rhs;
}

APFloat max(const APFloat &lhs, const APFloat &rhs) {
  if (lhs.isNaN() || rhs.isNaN())
    return nanResult(lhs.getSemantics(), {lhs, rhs});
  if (lhs.isZero() && rhs.isZero())
    return lhs.isNegative() ? rhs : lhs;
  return lhs.compare(rhs) == APFloat::cmpGreaterThan ? lhs : rhs;
}

APFloat sqrt(const APFloat &x) {
  if (x.isNaN())
    return nanResult(x.getSemantics(), {x});
  if (x.isNegative() && !x.isZero())
    return canonicalNaN(x.getSemantics());
  // APFloat has no square root. The host's is IEEE's correctly rounded one
  // (SSE sqrtss/sqrtsd), and the operand here is neither NaN nor negative.
  if (&x.getSemantics() == &APFloat::IEEEsingle())
    return APFloat(std::sqrt(x.convertToFloat()));
  return APFloat(std::sqrt(x.convertToDouble()));
}

static APFloat roundToIntegral(const APFloat &x, RoundingMode mode) {
  if (x.isNaN())
    return nanResult(x.getSemantics(), {x});
  APFloat result = x;
  result.roundToIntegral(mode);
  return result;
}

APFloat ceil(const APFloat &x) {
  return roundToIntegral(x, RoundingMode::TowardPositive);
}
APFloat floor(const APFloat &x) {
  return roundToIntegral(x, RoundingMode::TowardNegative);
}
APFloat trunc(const APFloat &x) {
  return roundToIntegral(x, RoundingMode::TowardZero);
}
APFloat nearest(const APFloat &x) { return roundToIntegral(x, kNearestEven); }

static APInt signBit(const APFloat &x) {
  unsigned width = APFloat::semanticsSizeInBits(x.getSemantics());
  return APInt::getSignMask(width);
}

APFloat abs(const APFloat &x) {
  return floatFromBits(x.bitcastToAPInt() & ~signBit(x));
}
APFloat neg(const APFloat &x) {
  return floatFromBits(x.bitcastToAPInt() ^ signBit(x));
}
APFloat copysign(const APFloat &magnitude, const APFloat &sign) {
  APInt mask = signBit(magnitude);
  return floatFromBits((magnitude.bitcastToAPInt() & ~mask) |
                       (sign.bitcastToAPInt() & mask));
}

bool eq(const APFloat &lhs, const APFloat &rhs) {
  return lhs.compare(rhs) == APFloat::cmpEqual;
}
bool lt(const APFloat &lhs, const APFloat &rhs) {
  return lhs.compare(rhs) == APFloat::cmpLessThan;
}
bool le(const APFloat &lhs, const APFloat &rhs) {
  APFloat::cmpResult order = lhs.compare(rhs);
  return order == APFloat::cmpLessThan || order == APFloat::cmpEqual;
}

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

/// 2^exponent in `semantics`; exact for every exponent used here.
static APFloat powerOfTwo(const fltSemantics &semantics, int exponent) {
  return llvm::scalbn(APFloat::getOne(semantics), exponent, kNearestEven);
}

/// The integer value of an integral, in-range float.
static APInt toInt(const APFloat &integral, unsigned width, bool isSigned) {
  APSInt result(width, /*isUnsigned=*/!isSigned);
  bool isExact = false;
  (void)integral.convertToInteger(result, RoundingMode::TowardZero, &isExact);
  return result;
}

std::optional<APInt> truncToInt(const APFloat &x, unsigned width,
                                bool isSigned) {
  if (x.isNaN())
    return std::nullopt;
  const fltSemantics &semantics = x.getSemantics();
  APFloat truncated = trunc(x);
  // Signed: -2^(w-1) <= t < 2^(w-1). Unsigned: -1 < t < 2^w. Both bounds are
  // powers of two, so they are exact in either float format.
  APFloat upper = powerOfTwo(semantics, isSigned ? width - 1 : width);
  if (truncated.compare(upper) != APFloat::cmpLessThan)
    return std::nullopt;
  if (isSigned) {
    APFloat lower = semantics::neg(upper);
    if (truncated.compare(lower) == APFloat::cmpLessThan)
      return std::nullopt;
  } else if (truncated.isNegative() && !truncated.isZero()) {
    return std::nullopt;
  }
  return toInt(truncated, width, isSigned);
}

APInt truncSatToInt(const APFloat &x, unsigned width, bool isSigned) {
  if (x.isNaN())
    return APInt::getZero(width);
  const fltSemantics &semantics = x.getSemantics();
  APFloat truncated = trunc(x);
  APFloat upper = powerOfTwo(semantics, isSigned ? width - 1 : width);
  if (truncated.compare(upper) != APFloat::cmpLessThan)
    return isSigned ? APInt::getSignedMaxValue(width)
                    : APInt::getMaxValue(width);
  if (isSigned) {
    if (truncated.compare(semantics::neg(upper)) == APFloat::cmpLessThan)
      return APInt::getSignedMinValue(width);
  } else if (truncated.isNegative() && !truncated.isZero()) {
    return APInt::getZero(width);
  }
  return toInt(truncated, width, isSigned);
}

APFloat convertFromInt(const APInt &x, bool isSigned,
                       const fltSemantics &semantics) {
  APFloat result(semantics);
  (void)result.convertFromAPInt(x, isSigned, kNearestEven);
  return result;
}

/// Converts a NaN between formats: canonical stays canonical; otherwise the
/// payload's high bits carry over and the quiet bit is set (an arithmetic NaN).
static APFloat convertNaN(const APFloat &x, const fltSemantics &to) {
  if (isCanonicalNaN(x))
    return canonicalNaN(to);
  const fltSemantics &from = x.getSemantics();
  unsigned fromBits = significandBits(from), toBits = significandBits(to);
  unsigned toWidth = APFloat::semanticsSizeInBits(to);
  APInt payload = x.bitcastToAPInt() & significandMask(from);
  payload = fromBits > toBits ? payload.lshr(fromBits - toBits).trunc(toWidth)
                              : payload.zext(toWidth).shl(toBits - fromBits);
  APInt exponentBits = APInt::getBitsSet(toWidth, toBits, toWidth - 1);
  APInt bits = exponentBits | payload | quietBit(to);
  if (x.isNegative())
    bits.setSignBit();
  return floatFromBits(bits);
}

static APFloat convertFloat(const APFloat &x, const fltSemantics &to) {
  if (x.isNaN())
    return convertNaN(x, to);
  APFloat result = x;
  bool losesInfo = false;
  (void)result.convert(to, kNearestEven, &losesInfo);
  return result;
}

APFloat demote(const APFloat &x) {
  return convertFloat(x, APFloat::IEEEsingle());
}
APFloat promote(const APFloat &x) {
  return convertFloat(x, APFloat::IEEEdouble());
}

} // namespace mlir::twasm::semantics
