//===- TwasmDialect.h - the twasm dialect --------------------------*- C++
//-*-===//

#ifndef TWASM_TWASMDIALECT_H
#define TWASM_TWASMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "twasm/TwasmDialect.h.inc"

#endif // TWASM_TWASMDIALECT_H
