//===- TwasmOps.h - the twasm operations ---------------------------*- C++
//-*-===//

#ifndef TWASM_TWASMOPS_H
#define TWASM_TWASMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/MemorySlotInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "twasm/TwasmAttrs.h"
#include "twasm/TwasmDialect.h"
#include "twasm/TwasmTypes.h"

namespace mlir::twasm {

/// The module's linear memory: its bytes and its size.
struct LinearMemoryResource
    : public SideEffects::Resource::Base<LinearMemoryResource> {
  StringRef getName() final { return "twasm.linear_memory"; }
};
/// The elements and sizes of the module's tables.
struct TableResource : public SideEffects::Resource::Base<TableResource> {
  StringRef getName() final { return "twasm.tables"; }
};
/// The values of the module's globals.
struct GlobalResource : public SideEffects::Resource::Base<GlobalResource> {
  StringRef getName() final { return "twasm.globals"; }
};
/// Whether each data and element segment is still available (not dropped).
struct SegmentResource : public SideEffects::Resource::Base<SegmentResource> {
  StringRef getName() final { return "twasm.segments"; }
};
/// Written by every op that may trap, so that such an op is never erased or
/// merged just because its results are unused.
struct TrapResource : public SideEffects::Resource::Base<TrapResource> {
  StringRef getName() final { return "twasm.trap"; }
};

namespace detail {
LogicalResult verifyAccessAlignment(Operation *op, unsigned accessBytes);
} // namespace detail

/// Marks ops allowed in constant expressions.
template <typename ConcreteType>
class ConstantExpression
    : public OpTrait::TraitBase<ConcreteType, ConstantExpression> {};

/// A load or store of `Bytes` bytes; its `align` must not exceed that.
template <unsigned Bytes> class AccessWidth {
public:
  template <typename ConcreteType>
  class Impl : public OpTrait::TraitBase<ConcreteType, Impl> {
  public:
    static constexpr unsigned getAccessBytes() { return Bytes; }
    static LogicalResult verifyTrait(Operation *op) {
      return detail::verifyAccessAlignment(op, Bytes);
    }
  };
};

/// The bytes a plain load or store (one with AccessWidth) moves, or 0 for
/// any other operation.
unsigned getAccessBytes(Operation *op);
/// The static offset of a linear-memory access (0 for an op without one).
uint64_t getAccessOffset(Operation *op);

/// The value of `value` if a `twasm.i32.const` defines it.
std::optional<uint32_t> getI32Constant(Value value);

/// Discardable attribute on the back-edge branch of a loop that provably
/// ends within a few iterations, so it needs no interruption check of its
/// own (a loop around it, or the finite code around it, bounds its time).
inline constexpr llvm::StringLiteral kBoundedLoopAttr = "twasm.bounded_loop";

} // namespace mlir::twasm

#define GET_OP_CLASSES
#include "twasm/TwasmOps.h.inc"

#endif // TWASM_TWASMOPS_H
