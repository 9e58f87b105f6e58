//===- FoldingPropertyTest.cpp - folds agree with wabt's interpreter ------===//
//
// For every numeric twasm op, on random and edge-case operands, the folder
// and wabt's reference interpreter agree: where the interpreter traps the op
// is not folded; otherwise it folds to the interpreter's result. NaNs compare
// by the spec's rules: a sign-bit op (abs, neg, copysign) or a
// reinterpretation keeps the exact bits; any other op gives a canonical NaN
// when every NaN operand is canonical, and an arithmetic (quiet) NaN
// otherwise.
//
//===----------------------------------------------------------------------===//

#include "WasmAssembler.h"

#include "twasm/TwasmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include "wabt/binary-reader.h"
#include "wabt/interp/binary-reader-interp.h"
#include "wabt/interp/interp.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstring>

using namespace mlir;

namespace {

enum class Kind { I32, I64, F32, F64 };

bool isFloat(Kind kind) { return kind == Kind::F32 || kind == Kind::F64; }
bool isWide(Kind kind) { return kind == Kind::I64 || kind == Kind::F64; }
const char *wasmName(Kind kind) {
  switch (kind) {
  case Kind::I32:
    return "i32";
  case Kind::I64:
    return "i64";
  case Kind::F32:
    return "f32";
  case Kind::F64:
    return "f64";
  }
  return "";
}

struct OpSpec {
  std::string mnemonic;
  std::vector<Kind> operands;
  Kind result;
  /// Acts on bits only, so even a NaN result must match bit for bit.
  bool bitwise = false;
};

/// Names the op in gtest's messages.
void PrintTo(const OpSpec &spec, std::ostream *os) { *os << spec.mnemonic; }

std::vector<OpSpec> numericOps() {
  std::vector<OpSpec> ops;
  for (Kind t : {Kind::I32, Kind::I64}) {
    std::string p = wasmName(t);
    for (const char *op : {"clz", "ctz", "popcnt", "extend8_s", "extend16_s"})
      ops.push_back({p + "." + op, {t}, t});
    ops.push_back({p + ".eqz", {t}, Kind::I32});
    for (const char *op :
         {"add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or",
          "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"})
      ops.push_back({p + "." + op, {t, t}, t});
    for (const char *op : {"eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s",
                           "le_u", "ge_s", "ge_u"})
      ops.push_back({p + "." + op, {t, t}, Kind::I32});
  }
  ops.push_back({"i64.extend32_s", {Kind::I64}, Kind::I64});
  for (Kind t : {Kind::F32, Kind::F64}) {
    std::string p = wasmName(t);
    for (const char *op : {"abs", "neg"})
      ops.push_back({p + "." + op, {t}, t, /*bitwise=*/true});
    for (const char *op : {"ceil", "floor", "trunc", "nearest", "sqrt"})
      ops.push_back({p + "." + op, {t}, t});
    for (const char *op : {"add", "sub", "mul", "div", "min", "max"})
      ops.push_back({p + "." + op, {t, t}, t});
    ops.push_back({p + ".copysign", {t, t}, t, /*bitwise=*/true});
    for (const char *op : {"eq", "ne", "lt", "gt", "le", "ge"})
      ops.push_back({p + "." + op, {t, t}, Kind::I32});
  }
  ops.push_back({"i32.wrap_i64", {Kind::I64}, Kind::I32});
  ops.push_back({"i64.extend_i32_s", {Kind::I32}, Kind::I64});
  ops.push_back({"i64.extend_i32_u", {Kind::I32}, Kind::I64});
  for (Kind i : {Kind::I32, Kind::I64}) {
    for (Kind f : {Kind::F32, Kind::F64}) {
      std::string to = wasmName(i), from = wasmName(f);
      for (const char *sign : {"s", "u"}) {
        ops.push_back({to + ".trunc_" + from + "_" + sign, {f}, i});
        ops.push_back({to + ".trunc_sat_" + from + "_" + sign, {f}, i});
        ops.push_back({from + ".convert_" + to + "_" + sign, {i}, f});
      }
    }
  }
  ops.push_back({"f32.demote_f64", {Kind::F64}, Kind::F32});
  ops.push_back({"f64.promote_f32", {Kind::F32}, Kind::F64});
  ops.push_back({"i32.reinterpret_f32", {Kind::F32}, Kind::I32, true});
  ops.push_back({"i64.reinterpret_f64", {Kind::F64}, Kind::I64, true});
  ops.push_back({"f32.reinterpret_i32", {Kind::I32}, Kind::F32, true});
  ops.push_back({"f64.reinterpret_i64", {Kind::I64}, Kind::F64, true});
  return ops;
}

//===----------------------------------------------------------------------===//
// Operands: edge cases and random bits
//===----------------------------------------------------------------------===//

uint64_t f32Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}
uint64_t f64Bits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, 8);
  return bits;
}

std::vector<uint64_t> edgeValues(Kind kind) {
  switch (kind) {
  case Kind::I32:
    return {0,          1,          2,          0xFFFFFFFF, 0xFFFFFFFE,
            0x80000000, 0x7FFFFFFF, 0x80000001, 31,         32,
            33,         63,         64,         0x80,       0xFF,
            0x8000,     0xFFFF,     0x01000001, 0x00FFFFFF};
  case Kind::I64:
    return {0,
            1,
            0xFFFFFFFFFFFFFFFF,
            0x8000000000000000,
            0x7FFFFFFFFFFFFFFF,
            0x8000000000000001,
            63,
            64,
            65,
            0x80000000,
            0xFFFFFFFF,
            0x100000000,
            0x20000000000001,
            0x1FFFFFFFFFFFFF,
            0x80,
            0x8000};
  case Kind::F32:
    return {0x00000000,     0x80000000,           0x7F800000,   0xFF800000,
            0x7FC00000,     0xFFC00000,           0x7FA00000,   0x7FC00001,
            0xFF800001,     0x00000001,           0x007FFFFF,   0x00800000,
            0x7F7FFFFF,     f32Bits(1),           f32Bits(-1),  f32Bits(0.5),
            f32Bits(-0.5),  f32Bits(1.5),         f32Bits(2.5), f32Bits(-2.5),
            f32Bits(-0.9f), f32Bits(0.49999997f), 0x4F000000,   0x4EFFFFFF,
            0xCF000000,     0xCF000001,           0x4F800000,   0x4F7FFFFF,
            0x5F000000,     0x5EFFFFFF,           0xDF000000,   0xDF000001,
            0x5F800000,     0x5F7FFFFF,           0x4B000001,   0xBF7FFFFF};
  case Kind::F64:
    return {0x0000000000000000,
            0x8000000000000000,
            0x7FF0000000000000,
            0xFFF0000000000000,
            0x7FF8000000000000,
            0xFFF8000000000000,
            0x7FF4000000000000,
            0x7FF8000000000001,
            0x0000000000000001,
            0x000FFFFFFFFFFFFF,
            0x0010000000000000,
            0x7FEFFFFFFFFFFFFF,
            f64Bits(1),
            f64Bits(-1),
            f64Bits(0.5),
            f64Bits(-0.5),
            f64Bits(2.5),
            f64Bits(-0.9),
            f64Bits(2147483647.0),
            f64Bits(2147483648.0),
            f64Bits(-2147483648.0),
            f64Bits(-2147483649.0),
            f64Bits(4294967295.0),
            f64Bits(4294967296.0),
            f64Bits(9223372036854775808.0),
            0x43DFFFFFFFFFFFFF,
            f64Bits(-9223372036854775808.0),
            0xC3E0000000000001,
            f64Bits(18446744073709551616.0),
            0x43EFFFFFFFFFFFFF,
            f64Bits(1.0000000596046448),
            f64Bits(3.4028235677973366e38),
            f64Bits(1e-45)};
  }
  return {};
}

rc::Gen<uint64_t> operandGen(Kind kind) {
  uint64_t mask = isWide(kind) ? ~uint64_t(0) : 0xFFFFFFFF;
  rc::Gen<uint64_t> randomBits =
      rc::gen::map(rc::gen::arbitrary<uint64_t>(),
                   [mask](uint64_t bits) { return bits & mask; });
  // Small integers and halves exercise rounding and truncation.
  rc::Gen<uint64_t> small =
      rc::gen::map(rc::gen::inRange<int>(-40, 41), [kind](int n) -> uint64_t {
        switch (kind) {
        case Kind::I32:
          return static_cast<uint32_t>(n);
        case Kind::I64:
          return static_cast<uint64_t>(static_cast<int64_t>(n));
        case Kind::F32:
          return f32Bits(n / 4.0f);
        case Kind::F64:
          return f64Bits(n / 4.0);
        }
        return 0;
      });
  return rc::gen::weightedOneOf<uint64_t>(
      {{3, rc::gen::elementOf(edgeValues(kind))}, {2, randomBits}, {1, small}});
}

//===----------------------------------------------------------------------===//
// The reference: wabt's interpreter running a one-instruction function
//===----------------------------------------------------------------------===//

class Reference {
public:
  explicit Reference(const OpSpec &spec) {
    std::string params, gets;
    for (size_t i = 0; i < spec.operands.size(); ++i) {
      params += std::string(" ") + wasmName(spec.operands[i]);
      gets += " local.get " + std::to_string(i);
    }
    std::string wat = "(module (func (export \"f\") (param" + params +
                      ") (result " + wasmName(spec.result) + ")" + gets + " " +
                      spec.mnemonic + "))";
    std::string binary = twasm::test::assembleWat(wat);
    wabt::Errors errors;
    wabt::interp::ModuleDesc description;
    wabt::ReadBinaryOptions options;
    if (wabt::Failed(wabt::interp::ReadBinaryInterp("reference", binary.data(),
                                                    binary.size(), options,
                                                    &errors, &description)))
      throw std::runtime_error("wabt cannot load " + wat);
    auto module = wabt::interp::Module::New(store, description);
    wabt::interp::Trap::Ptr trap;
    instance =
        wabt::interp::Instance::Instantiate(store, module.ref(), {}, &trap);
    func = store.UnsafeGet<wabt::interp::Func>(instance->funcs()[0]);
  }

  /// The result's bits, or nothing when the instruction traps.
  std::optional<uint64_t> run(const OpSpec &spec,
                              const std::vector<uint64_t> &operands) {
    wabt::interp::Values params, results;
    for (size_t i = 0; i < operands.size(); ++i)
      params.push_back(toValue(spec.operands[i], operands[i]));
    wabt::interp::Trap::Ptr trap;
    if (wabt::Failed(func->Call(store, params, results, &trap)))
      return std::nullopt;
    return fromValue(spec.result, results[0]);
  }

private:
  static wabt::interp::Value toValue(Kind kind, uint64_t bits) {
    switch (kind) {
    case Kind::I32:
      return wabt::interp::Value::Make(static_cast<uint32_t>(bits));
    case Kind::I64:
      return wabt::interp::Value::Make(bits);
    case Kind::F32: {
      float value;
      uint32_t narrow = static_cast<uint32_t>(bits);
      std::memcpy(&value, &narrow, 4);
      return wabt::interp::Value::Make(value);
    }
    case Kind::F64: {
      double value;
      std::memcpy(&value, &bits, 8);
      return wabt::interp::Value::Make(value);
    }
    }
    return {};
  }
  static uint64_t fromValue(Kind kind, const wabt::interp::Value &value) {
    switch (kind) {
    case Kind::I32:
      return value.Get<uint32_t>();
    case Kind::I64:
      return value.Get<uint64_t>();
    case Kind::F32:
      return f32Bits(value.Get<float>());
    case Kind::F64:
      return f64Bits(value.Get<double>());
    }
    return 0;
  }

  wabt::interp::Store store;
  wabt::interp::Instance::Ptr instance;
  wabt::interp::Func::Ptr func;
};

//===----------------------------------------------------------------------===//
// The folder
//===----------------------------------------------------------------------===//

class Folder {
public:
  Folder(MLIRContext &context, const OpSpec &spec) : builder(&context) {
    for (Kind kind : spec.operands)
      block.addArgument(typeOf(kind), builder.getUnknownLoc());
    OperationState state(builder.getUnknownLoc(), "twasm." + spec.mnemonic);
    state.addOperands(block.getArguments());
    state.addTypes(typeOf(spec.result));
    op = Operation::create(state);
    block.push_back(op);
  }

  /// The folded result's bits, or nothing when the op does not fold.
  std::optional<uint64_t> fold(const OpSpec &spec,
                               const std::vector<uint64_t> &operands) {
    SmallVector<Attribute> constants;
    for (size_t i = 0; i < operands.size(); ++i)
      constants.push_back(attrOf(spec.operands[i], operands[i]));
    SmallVector<OpFoldResult> results;
    if (failed(op->fold(constants, results)) || results.empty())
      return std::nullopt;
    // A fold to an operand (x + 0 -> x) is that operand's value.
    if (auto value = dyn_cast<Value>(results[0]))
      return operands[cast<BlockArgument>(value).getArgNumber()];
    Attribute attr = cast<Attribute>(results[0]);
    if (auto intAttr = dyn_cast<IntegerAttr>(attr))
      return intAttr.getValue().getZExtValue();
    return cast<FloatAttr>(attr).getValue().bitcastToAPInt().getZExtValue();
  }

private:
  Type typeOf(Kind kind) {
    switch (kind) {
    case Kind::I32:
      return builder.getI32Type();
    case Kind::I64:
      return builder.getI64Type();
    case Kind::F32:
      return builder.getF32Type();
    case Kind::F64:
      return builder.getF64Type();
    }
    return {};
  }
  Attribute attrOf(Kind kind, uint64_t bits) {
    Type type = typeOf(kind);
    if (!isFloat(kind))
      return IntegerAttr::get(type, APInt(isWide(kind) ? 64 : 32, bits));
    APInt raw(isWide(kind) ? 64 : 32, bits);
    return FloatAttr::get(type, APFloat(isWide(kind) ? APFloat::IEEEdouble()
                                                     : APFloat::IEEEsingle(),
                                        raw));
  }

  OpBuilder builder;
  Block block;
  Operation *op = nullptr;
};

//===----------------------------------------------------------------------===//
// The property
//===----------------------------------------------------------------------===//

bool isNaN(Kind kind, uint64_t bits) {
  if (kind == Kind::F32)
    return (bits & 0x7F800000) == 0x7F800000 && (bits & 0x007FFFFF);
  return (bits & 0x7FF0000000000000) == 0x7FF0000000000000 &&
         (bits & 0x000FFFFFFFFFFFFF);
}
bool isCanonicalNaN(Kind kind, uint64_t bits) {
  if (kind == Kind::F32)
    return (bits & 0x7FFFFFFF) == 0x7FC00000;
  return (bits & 0x7FFFFFFFFFFFFFFF) == 0x7FF8000000000000;
}
bool isArithmeticNaN(Kind kind, uint64_t bits) {
  return isNaN(kind, bits) &&
         (bits & (kind == Kind::F32 ? 0x00400000 : 0x0008000000000000));
}

class FoldingAgreesWithTheReferenceInterpreter
    : public ::testing::TestWithParam<OpSpec> {};

TEST_P(FoldingAgreesWithTheReferenceInterpreter, OnRandomAndEdgeOperands) {
  const OpSpec &spec = GetParam();
  MLIRContext context;
  context.loadDialect<twasm::TwasmDialect>();
  Reference reference(spec);
  Folder folder(context, spec);

  bool holds =
      rc::check(spec.mnemonic + " folds as the interpreter computes", [&] {
        std::vector<uint64_t> operands;
        for (Kind kind : spec.operands)
          operands.push_back(*operandGen(kind));
        std::optional<uint64_t> expected = reference.run(spec, operands);
        std::optional<uint64_t> folded = folder.fold(spec, operands);
        if (!expected) {
          RC_ASSERT(!folded.has_value()); // it traps: never fold it to a value
          return;
        }
        RC_ASSERT(folded.has_value());
        if (!isFloat(spec.result) || !isNaN(spec.result, *expected)) {
          RC_ASSERT(*folded == *expected);
          return;
        }
        RC_ASSERT(isNaN(spec.result, *folded));
        if (spec.bitwise) {
          RC_ASSERT(*folded == *expected);
          return;
        }
        bool allNaNOperandsCanonical = true;
        for (size_t i = 0; i < operands.size(); ++i)
          if (isFloat(spec.operands[i]) &&
              isNaN(spec.operands[i], operands[i]) &&
              !isCanonicalNaN(spec.operands[i], operands[i]))
            allNaNOperandsCanonical = false;
        if (allNaNOperandsCanonical)
          RC_ASSERT(isCanonicalNaN(spec.result, *folded));
        else
          RC_ASSERT(isArithmeticNaN(spec.result, *folded));
      });
  EXPECT_TRUE(holds);
}

INSTANTIATE_TEST_SUITE_P(EveryNumericOp,
                         FoldingAgreesWithTheReferenceInterpreter,
                         ::testing::ValuesIn(numericOps()),
                         [](const ::testing::TestParamInfo<OpSpec> &info) {
                           std::string name = info.param.mnemonic;
                           for (char &c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

} // namespace
