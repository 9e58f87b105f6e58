//===- TwasmSemantics.h - Wasm numeric semantics on APInt/APFloat -*- C++
//-*-===//
//
// The exact result of each Wasm numeric instruction on constant operands, as
// the spec's execution rules define it (exec/numerics). The folders use these;
// the property tests check them against wabt's reference interpreter.
//
// Integers are APInts of width 32 or 64; floats are APFloats in IEEE single or
// double. A `std::nullopt` result means the instruction traps.
//
// NaN results follow the spec's rule: if every NaN operand is a canonical NaN
// (or there is none, as in 0/0), the result is the positive canonical NaN;
// otherwise it is an arithmetic NaN, the first non-canonical NaN operand with
// its quiet bit set. Both are among the results the spec allows.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TWASMSEMANTICS_H
#define TWASM_TWASMSEMANTICS_H

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"
#include "llvm/ADT/ArrayRef.h"

#include <optional>

namespace mlir::twasm::semantics {

using llvm::APFloat;
using llvm::APInt;

//===----------------------------------------------------------------------===//
// Integers
//===----------------------------------------------------------------------===//

APInt clz(const APInt &x);
APInt ctz(const APInt &x);
APInt popcnt(const APInt &x);
/// Sign-extends the low `fromBits` bits of `x` to its full width.
APInt extendSigned(const APInt &x, unsigned fromBits);

std::optional<APInt> divSigned(const APInt &lhs, const APInt &rhs);
std::optional<APInt> divUnsigned(const APInt &lhs, const APInt &rhs);
std::optional<APInt> remSigned(const APInt &lhs, const APInt &rhs);
std::optional<APInt> remUnsigned(const APInt &lhs, const APInt &rhs);

/// Shifts and rotates use the count modulo the bit width.
APInt shl(const APInt &lhs, const APInt &count);
APInt shrSigned(const APInt &lhs, const APInt &count);
APInt shrUnsigned(const APInt &lhs, const APInt &count);
APInt rotl(const APInt &lhs, const APInt &count);
APInt rotr(const APInt &lhs, const APInt &count);

//===----------------------------------------------------------------------===//
// Floats
//===----------------------------------------------------------------------===//

/// Whether `x` is a canonical NaN: quiet bit set, every other payload bit
/// clear.
bool isCanonicalNaN(const APFloat &x);
/// The positive canonical NaN of `x`'s format.
APFloat canonicalNaN(const llvm::fltSemantics &semantics);
/// The NaN an arithmetic op returns when its result is NaN (see file comment).
APFloat nanResult(const llvm::fltSemantics &semantics,
                  llvm::ArrayRef<APFloat> operands);

APFloat add(const APFloat &lhs, const APFloat &rhs);
APFloat sub(const APFloat &lhs, const APFloat &rhs);
APFloat mul(const APFloat &lhs, const APFloat &rhs);
APFloat div(const APFloat &lhs, const APFloat &rhs);
APFloat min(const APFloat &lhs, const APFloat &rhs);
APFloat max(const APFloat &lhs, const APFloat &rhs);
APFloat sqrt(const APFloat &x);
APFloat ceil(const APFloat &x);
APFloat floor(const APFloat &x);
APFloat trunc(const APFloat &x);
APFloat nearest(const APFloat &x);

/// abs, neg and copysign act on the sign bit only; a NaN keeps its payload.
APFloat abs(const APFloat &x);
APFloat neg(const APFloat &x);
APFloat copysign(const APFloat &magnitude, const APFloat &sign);

bool eq(const APFloat &lhs, const APFloat &rhs);
bool lt(const APFloat &lhs, const APFloat &rhs);
bool le(const APFloat &lhs, const APFloat &rhs);

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

/// `iN.trunc_fM_s/u`: traps on NaN and when the truncated value does not fit.
std::optional<APInt> truncToInt(const APFloat &x, unsigned width,
                                bool isSigned);
/// `iN.trunc_sat_fM_s/u`: saturates; NaN gives 0.
APInt truncSatToInt(const APFloat &x, unsigned width, bool isSigned);
/// `fN.convert_iM_s/u`: rounds to nearest, ties to even.
APFloat convertFromInt(const APInt &x, bool isSigned,
                       const llvm::fltSemantics &semantics);
APFloat demote(const APFloat &x);
APFloat promote(const APFloat &x);
/// Reinterprets bits as a float of the same width.
APFloat floatFromBits(const APInt &bits);

} // namespace mlir::twasm::semantics

#endif // TWASM_TWASMSEMANTICS_H
