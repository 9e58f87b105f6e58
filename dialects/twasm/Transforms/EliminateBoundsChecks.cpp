//===- EliminateBoundsChecks.cpp - prove memory accesses in bounds -------===//
//
// Marks loads and stores `in_bounds` where a dominating access or the
// memory's minimum size proves they cannot trap (see Passes.td for the
// rules and why each is sound).
//
//===----------------------------------------------------------------------===//

#include "twasm/KernelAbi.h"
#include "twasm/Transforms/CountedLoops.h"
#include "twasm/Transforms/Passes.h"

#include "mlir/IR/Dominance.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::twasm {
#define GEN_PASS_DEF_TWASMELIMINATEBOUNDSCHECKSPASS
#include "twasm/Transforms/Passes.h.inc"
} // namespace mlir::twasm

using namespace mlir;
using namespace mlir::twasm;

namespace {

/// A counted loop with more header entries than this is not simulated.
constexpr uint64_t kMaxSimulatedEntries = uint64_t(1) << 16;
/// How deep the range of an address expression is followed.
constexpr unsigned kMaxRangeDepth = 8;

/// One load or store: the bytes [address + offset, address + end) of memory.
struct Access {
  Operation *op;
  Value address;
  uint64_t offset;
  uint64_t end;
};

std::optional<Access> accessOf(Operation *op) {
  unsigned bytes = getAccessBytes(op);
  if (!bytes)
    return std::nullopt;
  uint64_t offset = getAccessOffset(op);
  return Access{op, op->getOperand(0), offset, offset + bytes};
}

bool isMarkedInBounds(Operation *op) {
  std::optional<Attribute> attr = op->getInherentAttr("in_bounds");
  return attr && *attr;
}

/// `value` as `base + addend` when it is an `i32.add` with a constant.
std::pair<Value, uint32_t> splitConstantAddend(Value value) {
  if (auto add = value.getDefiningOp<I32AddOp>()) {
    if (std::optional<uint32_t> rhs = getI32Constant(add.getRhs()))
      return {add.getLhs(), *rhs};
    if (std::optional<uint32_t> lhs = getI32Constant(add.getLhs()))
      return {add.getRhs(), *lhs};
  }
  return {value, 0};
}

/// The unsigned values an i32 can take, [min, max].
struct Range {
  uint64_t min, max;
};

class RangeAnalysis {
public:
  RangeAnalysis(FuncOp func, DominanceInfo &dominance) {
    for (Block &header : func.getBody())
      if (std::optional<CountedLoop> loop =
              matchCountedLoop(header, dominance, kMaxSimulatedEntries))
        inductionRanges[loop->inductionVariable] = {loop->minValue,
                                                    loop->maxValue};
  }

  std::optional<Range> rangeOf(Value value, unsigned depth = 0) const {
    if (depth > kMaxRangeDepth)
      return std::nullopt;
    if (std::optional<uint32_t> constant = getI32Constant(value))
      return Range{*constant, *constant};
    if (auto argument = dyn_cast<BlockArgument>(value)) {
      auto it = inductionRanges.find(argument);
      if (it == inductionRanges.end())
        return std::nullopt;
      return it->second;
    }
    Operation *def = value.getDefiningOp();
    if (!def || def->getNumOperands() != 2)
      return std::nullopt;
    Value lhs = def->getOperand(0), rhs = def->getOperand(1);
    // Bitwise and remainder bound the result whatever the other side is.
    if (isa<I32AndOp>(def)) {
      std::optional<uint32_t> mask = getI32Constant(rhs);
      if (!mask)
        mask = getI32Constant(lhs);
      if (mask)
        return Range{0, *mask};
      return std::nullopt;
    }
    if (isa<I32RemUOp>(def)) {
      std::optional<uint32_t> divisor = getI32Constant(rhs);
      if (divisor && *divisor != 0)
        return Range{0, *divisor - 1u};
      return std::nullopt;
    }
    if (isa<I32ShrUOp>(def)) {
      std::optional<uint32_t> shift = getI32Constant(rhs);
      if (!shift)
        return std::nullopt;
      unsigned amount = *shift & 31u;
      std::optional<Range> operand = rangeOf(lhs, depth + 1);
      if (!operand)
        return Range{0, uint64_t(UINT32_MAX) >> amount};
      return Range{operand->min >> amount, operand->max >> amount};
    }
    std::optional<Range> left = rangeOf(lhs, depth + 1);
    if (!left)
      return std::nullopt;
    std::optional<Range> right = rangeOf(rhs, depth + 1);
    if (!right)
      return std::nullopt;
    Range result;
    if (isa<I32AddOp>(def))
      result = {left->min + right->min, left->max + right->max};
    else if (isa<I32MulOp>(def))
      result = {left->min * right->min, left->max * right->max};
    else if (isa<I32ShlOp>(def) && right->min == right->max)
      result = {left->min << (right->min & 31u),
                left->max << (right->max & 31u)};
    else
      return std::nullopt;
    // A step that can wrap makes the range meaningless.
    if (result.max > UINT32_MAX)
      return std::nullopt;
    return result;
  }

private:
  llvm::DenseMap<Value, Range> inductionRanges;
};

struct EliminateBoundsChecksPass
    : twasm::impl::TwasmEliminateBoundsChecksPassBase<
          EliminateBoundsChecksPass> {
  void runOnOperation() override {
    FuncOp func = getOperation();
    if (func.isExternal())
      return;
    auto module = func->getParentOfType<twasm::ModuleOp>();
    uint64_t minimumBytes = 0;
    if (module)
      for (MemoryOp memory : module.getOps<MemoryOp>())
        minimumBytes =
            uint64_t(memory.getMinPages()) * tensorwasm::abi::kPageBytes;

    DominanceInfo &dominance = getAnalysis<DominanceInfo>();
    RangeAnalysis ranges(func, dominance);

    // Every access, keyed by its address value: each that runs without
    // trapping shows that its bytes exist.
    llvm::DenseMap<Value, llvm::SmallVector<Access>> byAddress;
    llvm::SmallVector<Access> accesses;
    func.walk([&](Operation *op) {
      if (std::optional<Access> access = accessOf(op)) {
        accesses.push_back(*access);
        byAddress[access->address].push_back(*access);
      }
    });

    auto coveredBy = [&](const Access &access, Value address, uint64_t need) {
      auto it = byAddress.find(address);
      if (it == byAddress.end())
        return false;
      return llvm::any_of(it->second, [&](const Access &earlier) {
        return earlier.op != access.op && earlier.end >= need &&
               dominance.dominates(earlier.op, access.op);
      });
    };

    UnitAttr marker = UnitAttr::get(func.getContext());
    for (const Access &access : accesses) {
      if (isMarkedInBounds(access.op))
        continue;
      auto [base, addend] = splitConstantAddend(access.address);
      if (coveredBy(access, access.address, access.end) ||
          (base != access.address &&
           coveredBy(access, base, uint64_t(addend) + access.end))) {
        access.op->setInherentAttr(
            StringAttr::get(func.getContext(), "in_bounds"), marker);
        ++numDominated;
        continue;
      }
      std::optional<Range> range = ranges.rangeOf(access.address);
      if (range && range->max + access.end <= minimumBytes) {
        access.op->setInherentAttr(
            StringAttr::get(func.getContext(), "in_bounds"), marker);
        ++numWithinMinimum;
        continue;
      }
      ++numKept;
    }
    markAllAnalysesPreserved();
  }
};

} // namespace
