//===- TwasmDialect.cpp - the twasm dialect, its types and attributes
//------===//

#include "twasm/TwasmDialect.h"

#include "twasm/TwasmAttrs.h"
#include "twasm/TwasmOps.h"
#include "twasm/TwasmTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::twasm;

#include "twasm/TwasmDialect.cpp.inc"
#include "twasm/TwasmEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "twasm/TwasmTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "twasm/TwasmAttrs.cpp.inc"

void TwasmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "twasm/TwasmOps.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}

void TwasmDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "twasm/TwasmTypes.cpp.inc"
      >();
}

void TwasmDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "twasm/TwasmAttrs.cpp.inc"
      >();
}

Operation *TwasmDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  if (auto intValue = dyn_cast<IntegerAttr>(value)) {
    if (type.isInteger(32))
      return I32ConstOp::create(builder, loc, intValue);
    if (type.isInteger(64))
      return I64ConstOp::create(builder, loc, intValue);
  }
  if (auto floatValue = dyn_cast<FloatAttr>(value)) {
    if (type.isF32())
      return F32ConstOp::create(builder, loc, floatValue);
    if (type.isF64())
      return F64ConstOp::create(builder, loc, floatValue);
  }
  return nullptr;
}

bool mlir::twasm::isReferenceType(Type type) {
  return isa<FuncRefType, ExternRefType>(type);
}

bool mlir::twasm::isValueType(Type type) {
  return type.isInteger(32) || type.isInteger(64) || type.isF32() ||
         type.isF64() || isReferenceType(type);
}

LogicalResult LocalType::verify(function_ref<InFlightDiagnostic()> emitError,
                                Type valueType) {
  if (!isValueType(valueType))
    return emitError() << "a local holds a Wasm value type, not " << valueType;
  return success();
}
