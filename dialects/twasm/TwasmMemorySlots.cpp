//===- TwasmMemorySlots.cpp - mem2reg interfaces of twasm locals
//-----------===//
//
// A `twasm.local` slot is only ever read by `twasm.local.get` and written by
// `twasm.local.set`, so MLIR's mem2reg can always turn it into SSA values.
//
//===----------------------------------------------------------------------===//

#include "twasm/TwasmOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::twasm;

/// The value a Wasm local holds before its first write: zero or null.
static Value zeroValue(OpBuilder &builder, Location loc, Type type) {
  if (type.isInteger(32))
    return I32ConstOp::create(builder, loc, builder.getI32IntegerAttr(0));
  if (type.isInteger(64))
    return I64ConstOp::create(builder, loc, builder.getI64IntegerAttr(0));
  if (type.isF32())
    return F32ConstOp::create(builder, loc, builder.getF32FloatAttr(0.0f));
  if (type.isF64())
    return F64ConstOp::create(builder, loc, builder.getF64FloatAttr(0.0));
  return RefNullOp::create(builder, loc, type);
}

SmallVector<MemorySlot> LocalOp::getPromotableSlots() {
  return {MemorySlot{getSlot(), getSlot().getType().getValueType()}};
}

Value LocalOp::getDefaultValue(const MemorySlot &slot, OpBuilder &builder) {
  return zeroValue(builder, getLoc(), slot.elemType);
}

void LocalOp::handleBlockArgument(const MemorySlot &, BlockArgument,
                                  OpBuilder &) {}

std::optional<PromotableAllocationOpInterface>
LocalOp::handlePromotionComplete(const MemorySlot &, Value defaultValue,
                                 OpBuilder &) {
  if (defaultValue && defaultValue.use_empty())
    defaultValue.getDefiningOp()->erase();
  erase();
  return std::nullopt;
}

/// Whether the only blocking use is this op's own use of `slot`.
static bool onlyUsesSlot(Value slotOperand, const MemorySlot &slot,
                         const SmallPtrSetImpl<OpOperand *> &blockingUses) {
  return blockingUses.size() == 1 &&
         (*blockingUses.begin())->get() == slot.ptr && slotOperand == slot.ptr;
}

bool LocalGetOp::loadsFrom(const MemorySlot &slot) {
  return getSlot() == slot.ptr;
}

bool LocalGetOp::storesTo(const MemorySlot &) { return false; }

Value LocalGetOp::getStored(const MemorySlot &, OpBuilder &, Value,
                            const DataLayout &) {
  llvm_unreachable("twasm.local.get stores nothing");
}

bool LocalGetOp::canUsesBeRemoved(
    const MemorySlot &slot, const SmallPtrSetImpl<OpOperand *> &blockingUses,
    SmallVectorImpl<OpOperand *> &, const DataLayout &) {
  return onlyUsesSlot(getSlot(), slot, blockingUses) &&
         getType() == slot.elemType;
}

DeletionKind LocalGetOp::removeBlockingUses(
    const MemorySlot &, const SmallPtrSetImpl<OpOperand *> &, OpBuilder &,
    Value reachingDefinition, const DataLayout &) {
  getResult().replaceAllUsesWith(reachingDefinition);
  return DeletionKind::Delete;
}

bool LocalSetOp::loadsFrom(const MemorySlot &) { return false; }

bool LocalSetOp::storesTo(const MemorySlot &slot) {
  return getSlot() == slot.ptr;
}

Value LocalSetOp::getStored(const MemorySlot &, OpBuilder &, Value,
                            const DataLayout &) {
  return getValue();
}

bool LocalSetOp::canUsesBeRemoved(
    const MemorySlot &slot, const SmallPtrSetImpl<OpOperand *> &blockingUses,
    SmallVectorImpl<OpOperand *> &, const DataLayout &) {
  return onlyUsesSlot(getSlot(), slot, blockingUses) &&
         getValue().getType() == slot.elemType;
}

DeletionKind
LocalSetOp::removeBlockingUses(const MemorySlot &,
                               const SmallPtrSetImpl<OpOperand *> &,
                               OpBuilder &, Value, const DataLayout &) {
  return DeletionKind::Delete;
}
