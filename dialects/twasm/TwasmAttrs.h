//===- TwasmAttrs.h - twasm attributes and enums -------------------*- C++
//-*-===//

#ifndef TWASM_TWASMATTRS_H
#define TWASM_TWASMATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "twasm/TwasmEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "twasm/TwasmAttrs.h.inc"

#endif // TWASM_TWASMATTRS_H
