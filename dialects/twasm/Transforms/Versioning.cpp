//===- Versioning.cpp - unchecked copies chosen by a test at entry --------===//
//
// Two passes that take checks out of hot code by versioning (see Passes.td
// and docs/decisions/0003-gpu-checks-and-scheduling.md):
//
// * twasm-version-loops gives a loop whose accesses are affine in its
//   induction variables a second copy in which those accesses are marked
//   `in_bounds` (and `aligned` where the step keeps the alignment), and runs
//   that copy when a test at the loop's entry proves every access it can
//   make fits in memory;
// * twasm-version-functions does the same for a loop-free function whose
//   addresses can all be computed at the end of its entry block.
//
// Otherwise the original, checked code runs, so a program that traps still
// traps at the same instruction after the same effects.
//
//===----------------------------------------------------------------------===//

#include "twasm/Transforms/Passes.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::twasm {
#define GEN_PASS_DEF_TWASMVERSIONLOOPSPASS
#include "twasm/Transforms/Passes.h.inc"
} // namespace mlir::twasm

using namespace mlir;
using namespace mlir::twasm;

namespace {

/// Limits that keep every value the entry test computes within 63 bits:
/// (2^32 + 2^32 * kMaxStep) * kMaxScale * kMaxTerms < 2^63.
constexpr uint64_t kMaxStep = uint64_t(1) << 16;
constexpr uint64_t kMaxScale = uint64_t(1) << 12;
constexpr unsigned kMaxTerms = 4;
/// How deep an address expression is followed.
constexpr unsigned kMaxDepth = 8;

Value i32Constant(OpBuilder &builder, Location loc, uint64_t value) {
  return I32ConstOp::create(builder, loc,
                            builder.getI32IntegerAttr(int32_t(value)));
}

Value i64Constant(OpBuilder &builder, Location loc, uint64_t value) {
  return I64ConstOp::create(builder, loc,
                            builder.getI64IntegerAttr(int64_t(value)));
}

/// The memory's size in bytes, as an i64.
Value memoryBytesAt(OpBuilder &builder, Location loc) {
  Value pages = MemorySizeOp::create(builder, loc, builder.getI32Type());
  return I64ShlOp::create(builder, loc,
                          I64ExtendI32UOp::create(builder, loc, pages),
                          i64Constant(builder, loc, 16));
}

/// Copies `blocks` (listed in the region's order) into `region` before
/// `insertAt`: `mapping` maps each block and block argument to its copy,
/// `copies` each operation.
void cloneBlocks(Region &region, llvm::ArrayRef<Block *> blocks,
                 Region::iterator insertAt, IRMapping &mapping,
                 llvm::DenseMap<Operation *, Operation *> &copies) {
  for (Block *block : blocks) {
    Block *copy = new Block();
    region.getBlocks().insert(insertAt, copy);
    for (BlockArgument argument : block->getArguments())
      mapping.map(argument,
                  copy->addArgument(argument.getType(), argument.getLoc()));
    mapping.map(block, copy);
  }
  for (Block *block : blocks) {
    Block *copy = mapping.lookup(block);
    for (Operation &op : *block) {
      Operation *clone = op.clone(mapping);
      copy->push_back(clone);
      copies[&op] = clone;
    }
  }
}

/// "twasm" intrinsics a versioned loop may call: they read no memory, write
/// nothing and are not warp or block operations, which every lane of a warp
/// must reach at the same instruction (the two copies are two instructions).
bool isPureIntrinsic(llvm::StringRef name) {
  return llvm::is_contained(
      {"thread_id_x", "thread_id_y", "thread_id_z", "block_id_x",  "block_id_y",
       "block_id_z",  "block_dim_x", "block_dim_y", "block_dim_z", "grid_dim_x",
       "grid_dim_y",  "grid_dim_z",  "lane_id",     "expf",        "exp2f",
       "logf",        "log2f",       "tanhf",       "rsqrtf",      "sinf",
       "cosf",        "fmaf"},
      name);
}

/// A load or store that lowering would check: not yet proved in bounds.
bool isCheckedAccess(Operation &op) {
  std::optional<Attribute> inBounds = op.getInherentAttr("in_bounds");
  return inBounds && !*inBounds && getAccessBytes(&op);
}

/// A header argument that changes by a constant each iteration.
struct Induction {
  BlockArgument argument;
  uint32_t step;
};

/// An address as `constant + sum(scale * leaf)`, each leaf a value defined
/// before the loop or an induction variable; all in exact (unwrapped)
/// arithmetic as long as the test at the entry holds.
struct AffineAddress {
  uint64_t constant = 0;
  llvm::SmallVector<std::pair<Value, uint64_t>> terms;
};

struct Loop {
  Block *header = nullptr;
  Block *latch = nullptr;
  Block *exit = nullptr;
  BrIfOp backEdge;
  llvm::SetVector<Block *> blocks;
  /// The induction variable the back-edge compares, `next = iv + step <u
  /// bound`, and the bound.
  Induction counter;
  Value bound;
  llvm::DenseMap<BlockArgument, uint32_t> steps;
};

class LoopVersioner {
public:
  LoopVersioner(FuncOp func, DominanceInfo &dominance)
      : func(func), dominance(dominance) {}

  std::optional<Loop> match(Block &header);
  std::optional<AffineAddress> affine(const Loop &loop, Value value,
                                      unsigned depth = 0);
  /// Versions `loop` for `accesses`; returns how many accesses the fast copy
  /// has marked.
  unsigned version(Loop &loop,
                   llvm::ArrayRef<std::pair<Operation *, AffineAddress>>);
  /// Splits the fast copy into chunks; returns the block that enters it.
  Block *stripMine(Loop &loop, IRMapping &mapping);

private:
  bool definedOutside(const Loop &loop, Value value) {
    Block *block = isa<BlockArgument>(value)
                       ? cast<BlockArgument>(value).getOwner()
                       : value.getDefiningOp()->getBlock();
    return !loop.blocks.contains(block) &&
           dominance.dominates(block, loop.header);
  }

  FuncOp func;
  DominanceInfo &dominance;
};

std::optional<Loop> LoopVersioner::match(Block &header) {
  Loop loop;
  loop.header = &header;
  Block *entry = nullptr;
  for (Block *predecessor : header.getPredecessors()) {
    if (dominance.dominates(&header, predecessor)) {
      if (loop.latch && loop.latch != predecessor)
        return std::nullopt;
      loop.latch = predecessor;
    } else {
      if (entry && entry != predecessor)
        return std::nullopt;
      entry = predecessor;
    }
  }
  // One entry edge and one latch, each reaching the header once.
  if (!loop.latch || !entry ||
      std::distance(header.pred_begin(), header.pred_end()) != 2)
    return std::nullopt;
  loop.backEdge = dyn_cast<BrIfOp>(loop.latch->getTerminator());
  if (!loop.backEdge)
    return std::nullopt;
  // The latch goes back while its condition holds (the shape of the exit
  // test below), and leaves on its false edge.
  if (loop.backEdge.getTrueDest() != &header ||
      loop.backEdge.getFalseDest() == &header)
    return std::nullopt;
  loop.exit = loop.backEdge.getFalseDest();

  // The body: every block that reaches the latch without passing the header.
  loop.blocks.insert(&header);
  llvm::SmallVector<Block *> work{loop.latch};
  while (!work.empty()) {
    Block *block = work.pop_back_val();
    if (!loop.blocks.insert(block))
      continue;
    for (Block *predecessor : block->getPredecessors())
      if (!dominance.dominates(&header, predecessor))
        return std::nullopt;
      else
        work.push_back(predecessor);
  }
  for (Block *block : loop.blocks) {
    // No inner loop, and no way out but the latch's exit edge.
    for (Block *predecessor : block->getPredecessors())
      if (block != &header && dominance.dominates(block, predecessor))
        return std::nullopt;
    for (Block *successor : block->getSuccessors())
      if (!loop.blocks.contains(successor) &&
          (block != loop.latch || successor != loop.exit))
        return std::nullopt;
    // Calls only of pure intrinsics (see isPureIntrinsic).
    for (Operation &op : *block) {
      auto call = dyn_cast<CallOp>(op);
      if (isa<CallIndirectOp>(op))
        return std::nullopt;
      if (!call)
        continue;
      auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
          call, call.getCalleeAttr());
      if (!callee || !callee.isImported() ||
          callee.getImport()->getModule() != "twasm" ||
          !isPureIntrinsic(callee.getImport()->getName()))
        return std::nullopt;
    }
  }

  // The induction variables: header arguments the latch passes back as
  // themselves plus a constant.
  ValueRange back = loop.backEdge.getTrueDestOperands();
  for (BlockArgument argument : header.getArguments()) {
    auto add = back[argument.getArgNumber()].getDefiningOp<I32AddOp>();
    if (!add || add.getLhs() != argument)
      continue;
    std::optional<uint32_t> step = getI32Constant(add.getRhs());
    if (step && *step >= 1 && *step <= kMaxStep)
      loop.steps[argument] = *step;
  }
  // The exit test: `iv + step <u bound` stays in the loop.
  Operation *compare = loop.backEdge.getCondition().getDefiningOp();
  if (!compare || compare->getNumOperands() != 2)
    return std::nullopt;
  Value next, bound;
  if (isa<I32LtUOp>(compare)) {
    next = compare->getOperand(0);
    bound = compare->getOperand(1);
  } else if (isa<I32GtUOp>(compare)) {
    next = compare->getOperand(1);
    bound = compare->getOperand(0);
  } else {
    return std::nullopt;
  }
  auto add = next.getDefiningOp<I32AddOp>();
  auto counter = add ? dyn_cast<BlockArgument>(add.getLhs()) : BlockArgument();
  if (!counter || !loop.steps.count(counter) ||
      back[counter.getArgNumber()] != next || !definedOutside(loop, bound))
    return std::nullopt;
  loop.counter = {counter, loop.steps[counter]};
  loop.bound = bound;
  return loop;
}

std::optional<AffineAddress>
LoopVersioner::affine(const Loop &loop, Value value, unsigned depth) {
  if (depth > kMaxDepth)
    return std::nullopt;
  AffineAddress result;
  if (std::optional<uint32_t> constant = getI32Constant(value)) {
    result.constant = *constant;
    return result;
  }
  auto argument = dyn_cast<BlockArgument>(value);
  if ((argument && loop.steps.count(argument)) || definedOutside(loop, value)) {
    result.terms.push_back({value, 1});
    return result;
  }
  Operation *def = value.getDefiningOp();
  if (!def || def->getNumOperands() != 2)
    return std::nullopt;
  if (isa<I32AddOp>(def)) {
    std::optional<AffineAddress> lhs =
        affine(loop, def->getOperand(0), depth + 1);
    std::optional<AffineAddress> rhs =
        affine(loop, def->getOperand(1), depth + 1);
    if (!lhs || !rhs)
      return std::nullopt;
    lhs->constant += rhs->constant;
    lhs->terms.append(rhs->terms);
    if (lhs->terms.size() > kMaxTerms || lhs->constant > UINT32_MAX)
      return std::nullopt;
    return lhs;
  }
  std::optional<uint32_t> factor;
  if (isa<I32ShlOp>(def))
    if (std::optional<uint32_t> shift = getI32Constant(def->getOperand(1));
        shift && *shift < 32)
      factor = uint32_t(1) << *shift;
  if (isa<I32MulOp>(def))
    factor = getI32Constant(def->getOperand(1));
  // A factor of 0 makes the operand's own wrapping invisible; not worth it.
  if (!factor || *factor == 0)
    return std::nullopt;
  std::optional<AffineAddress> operand =
      affine(loop, def->getOperand(0), depth + 1);
  if (!operand)
    return std::nullopt;
  operand->constant *= *factor;
  for (auto &term : operand->terms)
    term.second *= *factor;
  if (operand->constant > UINT32_MAX ||
      llvm::any_of(operand->terms,
                   [](auto &term) { return term.second > kMaxScale; }))
    return std::nullopt;
  return operand;
}

unsigned LoopVersioner::version(
    Loop &loop,
    llvm::ArrayRef<std::pair<Operation *, AffineAddress>> accesses) {
  MLIRContext *context = func.getContext();
  Location loc = loop.backEdge.getLoc();
  OpBuilder builder(context);
  Block *header = loop.header;

  // The exit edge gets a block of its own, which the two copies will share.
  if (!loop.exit->getSinglePredecessor()) {
    Block *dedicated = new Block();
    func.getBody().getBlocks().insert(Region::iterator(loop.exit), dedicated);
    for (BlockArgument argument : loop.exit->getArguments())
      dedicated->addArgument(argument.getType(), argument.getLoc());
    builder.setInsertionPointToEnd(dedicated);
    BrOp::create(builder, loc, dedicated->getArguments(), loop.exit);
    loop.backEdge->setSuccessor(dedicated, /*index=*/1);
    loop.exit = dedicated;
  }

  // Values of the loop used after it reach their uses through new arguments
  // of the exit block, which the two copies will share.
  llvm::MapVector<Value, BlockArgument> escaping;
  for (Block *block : loop.blocks) {
    auto note = [&](Value value) {
      for (OpOperand &use : llvm::make_early_inc_range(value.getUses())) {
        if (loop.blocks.contains(use.getOwner()->getBlock()))
          continue;
        auto [it, added] = escaping.try_emplace(value);
        if (added)
          it->second = loop.exit->addArgument(value.getType(), value.getLoc());
        use.set(it->second);
      }
    };
    for (BlockArgument argument : block->getArguments())
      note(argument);
    for (Operation &op : *block)
      for (Value result : op.getResults())
        note(result);
  }
  for (auto &[value, argument] : escaping)
    loop.backEdge.getFalseDestOperandsMutable().append(value);

  // The entry edge now goes to a new block that tests and chooses a copy.
  Block *test = new Block();
  func.getBody().getBlocks().insert(Region::iterator(header), test);
  for (BlockArgument argument : header->getArguments())
    test->addArgument(argument.getType(), argument.getLoc());
  for (BlockOperand &use : llvm::make_early_inc_range(header->getUses()))
    if (use.getOwner()->getBlock() != loop.latch)
      use.set(test);

  // The fast copy, after the last block of the loop.
  IRMapping mapping;
  llvm::DenseMap<Operation *, Operation *> copies;
  llvm::SmallVector<Block *> inOrder;
  for (Block &block : func.getBody())
    if (loop.blocks.contains(&block))
      inOrder.push_back(&block);
  cloneBlocks(func.getBody(), inOrder,
              std::next(Region::iterator(inOrder.back())), mapping, copies);

  // The test, in 64-bit arithmetic where nothing wraps.
  builder.setInsertionPointToEnd(test);
  Type i32 = builder.getI32Type();
  auto wide = [&](Value value) -> Value {
    return I64ExtendI32UOp::create(builder, loc, value);
  };
  auto initial = [&](BlockArgument argument) -> Value {
    return test->getArgument(argument.getArgNumber());
  };
  // The counter never wraps: it starts at most 2^32 - 1 - step and the
  // bound is at most 2^32 - step. It then takes the values c0 + j * step for
  // j = 0 .. last, last = (bound - c0 - 1) / step when bound > c0, else 0.
  uint32_t step = loop.counter.step;
  Value start = initial(loop.counter.argument);
  Value holds = I32AndOp::create(
      builder, loc,
      I32LeUOp::create(builder, loc, start,
                       i32Constant(builder, loc, UINT32_MAX - step)),
      I32LeUOp::create(builder, loc, loop.bound,
                       i32Constant(builder, loc, (uint64_t(1) << 32) - step)));
  Value remaining = I32SubOp::create(
      builder, loc, I32SubOp::create(builder, loc, loop.bound, start),
      i32Constant(builder, loc, 1));
  Value lastIteration = SelectOp::create(
      builder, loc, i32, I32GtUOp::create(builder, loc, loop.bound, start),
      I32DivUOp::create(builder, loc, remaining,
                        i32Constant(builder, loc, step)),
      i32Constant(builder, loc, 0));
  Value iterations = wide(lastIteration);
  Value memoryBytes = memoryBytesAt(builder, loc);

  unsigned marked = 0;
  UnitAttr unit = builder.getUnitAttr();
  for (auto &[op, address] : accesses) {
    unsigned bytes = getAccessBytes(op);
    uint64_t offset = getAccessOffset(op);
    // The greatest address the access reaches: every term at its largest.
    Value greatest =
        i64Constant(builder, loc, address.constant + offset + bytes);
    Value lowBits = i32Constant(builder, loc, address.constant + offset);
    uint64_t stride = 0;
    for (auto &[leaf, scale] : address.terms) {
      // An induction variable is largest at the last iteration; a value
      // from before the loop is what it is.
      Value low = leaf, value;
      auto argument = dyn_cast<BlockArgument>(leaf);
      if (argument && argument.getOwner() == header) {
        uint32_t leafStep = loop.steps.lookup(argument);
        low = initial(argument);
        value = I64AddOp::create(
            builder, loc, wide(low),
            I64MulOp::create(builder, loc, iterations,
                             i64Constant(builder, loc, leafStep)));
        stride += scale * leafStep;
      } else {
        value = wide(leaf);
      }
      greatest =
          I64AddOp::create(builder, loc, greatest,
                           I64MulOp::create(builder, loc, value,
                                            i64Constant(builder, loc, scale)));
      lowBits =
          I32AddOp::create(builder, loc, lowBits,
                           I32MulOp::create(builder, loc, low,
                                            i32Constant(builder, loc, scale)));
    }
    holds =
        I32AndOp::create(builder, loc, holds,
                         I64LeUOp::create(builder, loc, greatest, memoryBytes));
    Operation *copy = copies.lookup(op);
    copy->setInherentAttr(StringAttr::get(context, "in_bounds"), unit);
    ++marked;
    // Aligned at every iteration when the first address is and the step
    // between two iterations keeps it so.
    if (bytes > 1 && stride % bytes == 0) {
      Value aligned = I32EqzOp::create(
          builder, loc,
          I32AndOp::create(builder, loc, lowBits,
                           i32Constant(builder, loc, bytes - 1)));
      holds = I32AndOp::create(builder, loc, holds, aligned);
      copy->setInherentAttr(StringAttr::get(context, "aligned"), unit);
    }
  }
  Block *fastEntry = stripMine(loop, mapping);
  builder.setInsertionPointToEnd(test);
  BrIfOp::create(builder, loc, holds, test->getArguments(),
                 test->getArguments(), fastEntry, header);
  return marked;
}

// The fast copy runs in chunks of at most kChunk iterations: an inner loop,
// the copy itself, whose back-edge compares the counter with the chunk's
// limit instead of the bound (a loop of one block with an induction-variable
// exit, which ptxas unrolls) and needs no interruption check; and an outer
// loop around it, entered once per chunk, that does the check. The limit is
// min(bound, counter + kChunk * step), never past the bound, so the copy
// leaves the loop exactly where the original would.
Block *LoopVersioner::stripMine(Loop &loop, IRMapping &mapping) {
  constexpr uint64_t kChunk = 64;
  MLIRContext *context = func.getContext();
  Location loc = loop.backEdge.getLoc();
  OpBuilder builder(context);
  Type i32 = builder.getI32Type();
  Block *header = mapping.lookup(loop.header);
  auto backEdge = cast<BrIfOp>(mapping.lookup(loop.latch)->getTerminator());
  unsigned counterIndex = loop.counter.argument.getArgNumber();
  Value limit = header->addArgument(i32, loc);
  llvm::SmallVector<Value> back(backEdge.getTrueDestOperands());
  llvm::SmallVector<Value> exits(backEdge.getFalseDestOperands());
  Value next = back[counterIndex];

  // Where a chunk starts: its limit, then the inner loop.
  Block *chunk = new Block();
  func.getBody().getBlocks().insert(Region::iterator(header), chunk);
  for (BlockArgument argument : loop.header->getArguments())
    chunk->addArgument(argument.getType(), argument.getLoc());
  builder.setInsertionPointToEnd(chunk);
  Value counter = chunk->getArgument(counterIndex);
  uint64_t span = kChunk * loop.counter.step;
  Value room = I32AndOp::create(
      builder, loc, I32LtUOp::create(builder, loc, counter, loop.bound),
      I32GtUOp::create(builder, loc,
                       I32SubOp::create(builder, loc, loop.bound, counter),
                       i32Constant(builder, loc, span)));
  Value chunkLimit = SelectOp::create(
      builder, loc, i32, room,
      I32AddOp::create(builder, loc, counter, i32Constant(builder, loc, span)),
      loop.bound);
  llvm::SmallVector<Value> entry(chunk->getArguments());
  entry.push_back(chunkLimit);
  BrOp::create(builder, loc, entry, header);

  // Where a chunk ends: on to the next, or out of the loop.
  Block *resume = new Block();
  func.getBody().getBlocks().insert(
      std::next(Region::iterator(backEdge->getBlock())), resume);
  for (Value value : back)
    resume->addArgument(value.getType(), loc);
  for (Value value : exits)
    resume->addArgument(value.getType(), loc);
  builder.setInsertionPointToEnd(resume);
  Value more = I32LtUOp::create(builder, loc, resume->getArgument(counterIndex),
                                loop.bound);
  BrIfOp::create(
      builder, loc, more, resume->getArguments().take_front(back.size()),
      resume->getArguments().drop_front(back.size()), chunk, loop.exit);

  builder.setInsertionPoint(backEdge);
  llvm::SmallVector<Value> again(back);
  again.push_back(limit);
  llvm::SmallVector<Value> leave(back);
  leave.append(exits);
  auto inner =
      BrIfOp::create(builder, loc, I32LtUOp::create(builder, loc, next, limit),
                     again, leave, header, resume);
  inner->setAttr(kBoundedLoopAttr, builder.getUnitAttr());
  Operation *oldCondition = backEdge.getCondition().getDefiningOp();
  backEdge->erase();
  if (oldCondition && oldCondition->use_empty())
    oldCondition->erase();
  return chunk;
}

struct VersionLoopsPass
    : twasm::impl::TwasmVersionLoopsPassBase<VersionLoopsPass> {
  void runOnOperation() override {
    FuncOp func = getOperation();
    if (func.isExternal())
      return;
    auto module = func->getParentOfType<twasm::ModuleOp>();
    if (!module || module.getOps<MemoryOp>().empty())
      return;

    // Matched first, versioned after: versioning adds blocks.
    llvm::SmallVector<Block *> headers;
    for (Block &block : func.getBody())
      headers.push_back(&block);
    // Dominance is recomputed only after a loop has been versioned.
    std::optional<DominanceInfo> dominance;
    for (Block *header : headers) {
      if (!dominance)
        dominance.emplace(func);
      LoopVersioner versioner(func, *dominance);
      std::optional<Loop> loop = versioner.match(*header);
      if (!loop)
        continue;
      llvm::SmallVector<std::pair<Operation *, AffineAddress>> accesses;
      for (Block *block : loop->blocks)
        for (Operation &op : *block) {
          if (!isCheckedAccess(op))
            continue;
          if (std::optional<AffineAddress> address =
                  versioner.affine(*loop, op.getOperand(0)))
            accesses.push_back({&op, *address});
        }
      if (accesses.empty())
        continue;
      numMarked += versioner.version(*loop, accesses);
      ++numVersioned;
      dominance.reset();
    }
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// twasm-version-functions
//===----------------------------------------------------------------------===//

namespace mlir::twasm {
#define GEN_PASS_DEF_TWASMVERSIONFUNCTIONSPASS
#include "twasm/Transforms/Passes.h.inc"
} // namespace mlir::twasm

namespace {

/// Integer operations that cannot trap, so a copy of them can be computed
/// early, before the branches that guard the original.
bool isHoistableArithmetic(Operation *op) {
  return isa<I32ConstOp, I32AddOp, I32SubOp, I32MulOp, I32ShlOp, I32ShrUOp,
             I32AndOp, I32OrOp, I32XorOp>(op);
}

/// "twasm" intrinsics a versioned function may call besides the pure ones:
/// the block barrier is `barrier.sync`, which counts the threads that reach
/// any barrier of the block (not necessarily the same instruction), and the
/// shared scratch is checked on its own.
bool isVersionableIntrinsic(llvm::StringRef name) {
  return isPureIntrinsic(name) || name == "barrier" ||
         name.starts_with("shared_load_") ||
         name.starts_with("shared_store_") || name == "shared_size";
}

struct VersionFunctionsPass
    : twasm::impl::TwasmVersionFunctionsPassBase<VersionFunctionsPass> {
  void runOnOperation() override {
    FuncOp func = getOperation();
    if (func.isExternal())
      return;
    auto module = func->getParentOfType<twasm::ModuleOp>();
    if (!module || module.getOps<MemoryOp>().empty())
      return;
    Region &body = func.getBody();
    Block *entry = &body.front();
    DominanceInfo dominance(func);
    for (Block &block : body) {
      for (Block *successor : block.getSuccessors())
        if (dominance.dominates(successor, &block))
          return; // a loop: twasm-version-loops' business
      for (Operation &op : block) {
        if (isa<CallIndirectOp>(op))
          return;
        auto call = dyn_cast<CallOp>(op);
        if (!call)
          continue;
        auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
            call, call.getCalleeAttr());
        if (!callee || !callee.isImported() ||
            callee.getImport()->getModule() != "twasm" ||
            !isVersionableIntrinsic(callee.getImport()->getName()))
          return;
      }
    }

    // An address can be computed at the end of the entry block when it is
    // non-trapping integer arithmetic over values the entry block has.
    llvm::DenseMap<Value, bool> hoistable;
    std::function<bool(Value, unsigned)> canHoist = [&](Value value,
                                                        unsigned depth) {
      if (depth > 16)
        return false;
      auto it = hoistable.find(value);
      if (it != hoistable.end())
        return it->second;
      bool result;
      Operation *def = value.getDefiningOp();
      if (!def)
        result = cast<BlockArgument>(value).getOwner() == entry;
      else if (def->getBlock() == entry)
        result = true;
      else
        result = isHoistableArithmetic(def) &&
                 llvm::all_of(def->getOperands(), [&](Value operand) {
                   return canHoist(operand, depth + 1);
                 });
      hoistable[value] = result;
      return result;
    };
    llvm::SmallVector<Operation *> accesses;
    for (Block &block : body) {
      if (&block == entry)
        continue;
      for (Operation &op : block) {
        if (isCheckedAccess(op) && canHoist(op.getOperand(0), 0))
          accesses.push_back(&op);
      }
    }
    if (accesses.empty())
      return;

    // The entry block's branch moves to a block of its own; the entry block
    // then tests every address and picks the original or the copy.
    MLIRContext *context = func.getContext();
    Location loc = func.getLoc();
    OpBuilder builder(context);
    Block *tail = entry->splitBlock(entry->getTerminator());
    IRMapping mapping;
    llvm::SmallVector<Block *> originals;
    for (Block &block : body)
      if (&block != entry)
        originals.push_back(&block);
    llvm::DenseMap<Operation *, Operation *> copies;
    cloneBlocks(body, originals, body.end(), mapping, copies);

    builder.setInsertionPointToEnd(entry);
    IRMapping early;
    std::function<Value(Value)> computeEarly = [&](Value value) -> Value {
      Operation *def = value.getDefiningOp();
      if (!def || def->getBlock() == entry)
        return value;
      if (Value done = early.lookupOrNull(value))
        return done;
      for (Value operand : def->getOperands())
        early.map(operand, computeEarly(operand));
      Operation *clone = builder.clone(*def, early);
      return clone->getResult(0);
    };
    // Each test costs one 32-bit compare, as a checked access does: an
    // access of extent e = offset + bytes fits iff address < count(e) =
    // memory size - e + 1, clamped to [0, 2^32 - 1] (a 1-byte access at
    // the last byte of a 4 GiB memory fails the test and takes the checked
    // original, which is right, only slower). Alignment is one test per
    // access size: the addresses or-ed together are aligned iff each is.
    Value memoryBytes = memoryBytesAt(builder, loc);
    llvm::DenseMap<uint64_t, Value> counts;
    auto countFor = [&](uint64_t extent) {
      Value &count = counts[extent];
      if (count)
        return count;
      Value below = I64SubOp::create(builder, loc, memoryBytes,
                                     i64Constant(builder, loc, extent - 1));
      Value none = I64LeUOp::create(builder, loc, memoryBytes,
                                    i64Constant(builder, loc, extent - 1));
      Value clamped = SelectOp::create(
          builder, loc, builder.getI64Type(), none,
          i64Constant(builder, loc, 0),
          SelectOp::create(
              builder, loc, builder.getI64Type(),
              I64GtUOp::create(builder, loc, below,
                               i64Constant(builder, loc, UINT32_MAX)),
              i64Constant(builder, loc, UINT32_MAX), below));
      count = I32WrapI64Op::create(builder, loc, clamped);
      return count;
    };
    llvm::DenseMap<unsigned, Value> lowBitsBySize;
    Value holds;
    UnitAttr unit = builder.getUnitAttr();
    for (Operation *op : accesses) {
      unsigned bytes = getAccessBytes(op);
      uint64_t offset = getAccessOffset(op);
      Value address = computeEarly(op->getOperand(0));
      Value fits =
          I32LtUOp::create(builder, loc, address, countFor(offset + bytes));
      holds = holds ? Value(I32AndOp::create(builder, loc, holds, fits)) : fits;
      Operation *copy = copies.lookup(op);
      copy->setInherentAttr(StringAttr::get(context, "in_bounds"), unit);
      ++numMarked;
      if (bytes == 1)
        continue;
      Value effective =
          offset & (bytes - 1)
              ? Value(I32AddOp::create(
                    builder, loc, address,
                    i32Constant(builder, loc, offset & (bytes - 1))))
              : address;
      Value &bits = lowBitsBySize[bytes];
      bits = bits ? Value(I32OrOp::create(builder, loc, bits, effective))
                  : effective;
      copy->setInherentAttr(StringAttr::get(context, "aligned"), unit);
    }
    for (auto &[bytes, bits] : lowBitsBySize)
      holds = I32AndOp::create(
          builder, loc, holds,
          I32EqzOp::create(
              builder, loc,
              I32AndOp::create(builder, loc, bits,
                               i32Constant(builder, loc, bytes - 1))));
    BrIfOp::create(builder, loc, holds, ValueRange(), ValueRange(),
                   mapping.lookup(tail), tail);
    ++numVersioned;
  }
};

} // namespace
