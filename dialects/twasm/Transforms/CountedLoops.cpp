//===- CountedLoops.cpp - loops with a constant trip count ----------------===//

#include "twasm/Transforms/CountedLoops.h"

using namespace mlir;
using namespace mlir::twasm;

/// Whether `compare(next, bound)` holds, for the i32 comparisons a counted
/// loop ends on; nullopt for any other operation.
static std::optional<bool> evaluateComparison(Operation *compare, uint32_t next,
                                              uint32_t bound) {
  if (isa<I32NeOp>(compare))
    return next != bound;
  if (isa<I32EqOp>(compare))
    return next == bound;
  if (isa<I32LtUOp>(compare))
    return next < bound;
  if (isa<I32LtSOp>(compare))
    return int32_t(next) < int32_t(bound);
  if (isa<I32LeUOp>(compare))
    return next <= bound;
  if (isa<I32LeSOp>(compare))
    return int32_t(next) <= int32_t(bound);
  if (isa<I32GtUOp>(compare))
    return next > bound;
  if (isa<I32GtSOp>(compare))
    return int32_t(next) > int32_t(bound);
  if (isa<I32GeUOp>(compare))
    return next >= bound;
  if (isa<I32GeSOp>(compare))
    return int32_t(next) >= int32_t(bound);
  return std::nullopt;
}

/// The one constant every entry into `header` from outside the loop passes
/// as argument `index`.
static std::optional<uint32_t> constantOnEntry(Block &header, Block *latch,
                                               unsigned index) {
  std::optional<uint32_t> init;
  for (auto it = header.pred_begin(); it != header.pred_end(); ++it) {
    if (*it == latch)
      continue;
    auto entry = dyn_cast<BranchOpInterface>((*it)->getTerminator());
    if (!entry)
      return std::nullopt;
    Value start = entry.getSuccessorOperands(it.getSuccessorIndex())[index];
    std::optional<uint32_t> value =
        start ? getI32Constant(start) : std::nullopt;
    if (!value || (init && *init != *value))
      return std::nullopt;
    init = value;
  }
  return init;
}

std::optional<CountedLoop>
mlir::twasm::matchCountedLoop(Block &header, DominanceInfo &dominance,
                              uint64_t maxHeaderEntries) {
  Block *latch = nullptr;
  for (Block *predecessor : header.getPredecessors()) {
    if (!dominance.dominates(&header, predecessor))
      continue;
    if (latch && latch != predecessor)
      return std::nullopt;
    latch = predecessor;
  }
  if (!latch)
    return std::nullopt;
  auto branch = dyn_cast<BrIfOp>(latch->getTerminator());
  if (!branch)
    return std::nullopt;
  bool backOnTrue = branch.getTrueDest() == &header;
  if (backOnTrue == (branch.getFalseDest() == &header))
    return std::nullopt;
  ValueRange backArgs =
      backOnTrue ? branch.getTrueDestOperands() : branch.getFalseDestOperands();
  // The latch compares iv + step with a constant bound and passes iv + step
  // back as the induction variable.
  Operation *compare = branch.getCondition().getDefiningOp();
  if (!compare || compare->getNumOperands() != 2)
    return std::nullopt;
  std::optional<uint32_t> bound = getI32Constant(compare->getOperand(1));
  auto next = compare->getOperand(0).getDefiningOp<I32AddOp>();
  if (!bound || !next)
    return std::nullopt;
  auto iv = dyn_cast<BlockArgument>(next.getLhs());
  std::optional<uint32_t> step = getI32Constant(next.getRhs());
  if (!iv || iv.getOwner() != &header || !step ||
      backArgs[iv.getArgNumber()] != next.getResult())
    return std::nullopt;
  std::optional<uint32_t> init =
      constantOnEntry(header, latch, iv.getArgNumber());
  if (!init)
    return std::nullopt;

  CountedLoop loop{branch, iv, 0, *init, *init};
  uint32_t value = *init;
  while (loop.headerEntries < maxHeaderEntries) {
    ++loop.headerEntries;
    loop.minValue = std::min(loop.minValue, value);
    loop.maxValue = std::max(loop.maxValue, value);
    uint32_t following = value + *step;
    std::optional<bool> holds = evaluateComparison(compare, following, *bound);
    if (!holds)
      return std::nullopt;
    if (*holds != backOnTrue)
      return loop;
    value = following;
  }
  return std::nullopt;
}
