//===- LoweringSupport.cpp - shared machinery of twasm -> LLVM ------------===//

#include "LoweringSupport.h"

#include "twasm/Transforms/CountedLoops.h"
#include "twasm/TwasmTypes.h"

#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::twasm;

LoweringTarget::~LoweringTarget() = default;

llvm::SmallVector<Type>
LoweringTarget::hiddenTypes(MLIRContext *context) const {
  Type pointer = pointerType(context);
  Type i64 = IntegerType::get(context, 64);
  llvm::SmallVector<Type> types(abi::kHiddenParameterCount, pointer);
  types[abi::kMemorySize] = i64;
  return types;
}

Value LoweringTarget::memorySize(OpBuilder &builder, Location loc,
                                 Operation *op) const {
  return hiddenValue(op, abi::kMemorySize);
}

Value LoweringTarget::emitMemoryGrow(OpBuilder &builder, Location loc,
                                     Operation *op, Value deltaPages) const {
  Type i32 = builder.getI32Type();
  Value bytes = memorySize(builder, loc, op);
  Value pages = LLVM::TruncOp::create(
      builder, loc, i32,
      LLVM::LShrOp::create(
          builder, loc, bytes,
          constantInt(builder, loc, builder.getI64Type(), 16)));
  Value isZero =
      LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::eq, deltaPages,
                           constantInt(builder, loc, i32, 0));
  return LLVM::SelectOp::create(builder, loc, isZero, pages,
                                constantInt(builder, loc, i32, -1));
}

std::string mlir::twasm::loweredFunctionName(llvm::StringRef symbol) {
  return ("wasm_" + symbol).str();
}

std::string mlir::twasm::segmentContentsName(llvm::StringRef symbol) {
  return ("twasm_segment_" + symbol).str();
}

Value mlir::twasm::globalsPointer(OpBuilder &builder, Location loc,
                                  Operation *op, uint64_t offset) {
  Value globals = hiddenValue(op, abi::kGlobals);
  return LLVM::GEPOp::create(
      builder, loc, globals.getType(), builder.getI8Type(), globals,
      ValueRange{constantInt(builder, loc, builder.getI64Type(), offset)});
}

Value mlir::twasm::segmentLength(OpBuilder &builder, Location loc,
                                 Operation *op, llvm::StringRef symbol,
                                 const LoweringTarget &target) {
  const InstanceLayout::SegmentSlot *segment =
      target.layout.segmentSlot(symbol);
  if (!segment)
    return {};
  return LLVM::ZExtOp::create(
      builder, loc, builder.getI64Type(),
      LLVM::LoadOp::create(builder, loc, builder.getI32Type(),
                           globalsPointer(builder, loc, op, segment->offset),
                           4));
}

Value mlir::twasm::rangeFits(OpBuilder &builder, Location loc, Value a, Value b,
                             Value limit) {
  Type i64 = builder.getI64Type();
  Value end = LLVM::AddOp::create(builder, loc,
                                  LLVM::ZExtOp::create(builder, loc, i64, a),
                                  LLVM::ZExtOp::create(builder, loc, i64, b));
  return LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ule, end,
                              limit);
}

Value mlir::twasm::hiddenValue(Operation *op, abi::HiddenParameter which) {
  auto func = op->getParentOfType<LLVM::LLVMFuncOp>();
  assert(func && "a lowered op lives in a lowered function");
  return func.getBody().front().getArgument(which);
}

LLVM::LLVMFuncOp mlir::twasm::enclosingLoweredFunction(OpBuilder &builder) {
  Operation *parent = builder.getInsertionBlock()->getParentOp();
  return isa<LLVM::LLVMFuncOp>(parent)
             ? cast<LLVM::LLVMFuncOp>(parent)
             : parent->getParentOfType<LLVM::LLVMFuncOp>();
}

uint32_t mlir::twasm::currentFunctionIndex(OpBuilder &builder) {
  LLVM::LLVMFuncOp func = enclosingLoweredFunction(builder);
  if (!func)
    return 0;
  auto index = func->getAttrOfType<IntegerAttr>(kFunctionIndexAttr);
  return index ? static_cast<uint32_t>(index.getInt()) : 0;
}

std::optional<LaunchShape> mlir::twasm::currentLaunchShape(OpBuilder &builder) {
  LLVM::LLVMFuncOp func = enclosingLoweredFunction(builder);
  if (!func)
    return std::nullopt;
  auto block = func->getAttrOfType<DenseI32ArrayAttr>(kBlockShapeAttr);
  auto shared = func->getAttrOfType<IntegerAttr>(kSharedBytesAttr);
  if (!block || !shared)
    return std::nullopt;
  return LaunchShape{llvm::SmallVector<int32_t, 3>(block.asArrayRef()),
                     shared.getInt()};
}

uint32_t mlir::twasm::byteOffsetOf(Location loc) {
  if (auto fileLoc = dyn_cast<FileLineColLoc>(loc))
    return fileLoc.getLine() == 0 ? fileLoc.getColumn() : 0;
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (uint32_t offset = byteOffsetOf(inner))
        return offset;
  if (auto name = dyn_cast<NameLoc>(loc))
    return byteOffsetOf(name.getChildLoc());
  return 0;
}

Value mlir::twasm::canonicalizeNaN(OpBuilder &builder, Location loc,
                                   Value value) {
  auto type = cast<FloatType>(value.getType());
  llvm::APFloat nan = llvm::APFloat::getQNaN(type.getFloatSemantics());
  Value canonical = LLVM::ConstantOp::create(builder, loc, type,
                                             builder.getFloatAttr(type, nan));
  Value isNaN = LLVM::FCmpOp::create(builder, loc, LLVM::FCmpPredicate::uno,
                                     value, value);
  return LLVM::SelectOp::create(builder, loc, isNaN, canonical, value);
}

Value mlir::twasm::constantInt(OpBuilder &builder, Location loc, Type type,
                               int64_t value) {
  return LLVM::ConstantOp::create(builder, loc, type,
                                  builder.getIntegerAttr(type, value));
}

Type mlir::twasm::loweredReturnType(MLIRContext *context, TypeRange results) {
  if (results.empty())
    return LLVM::LLVMVoidType::get(context);
  if (results.size() == 1)
    return results.front();
  return LLVM::LLVMStructType::getLiteral(
      context, llvm::SmallVector<Type>(results.begin(), results.end()));
}

void mlir::twasm::emitReturn(OpBuilder &builder, Location loc,
                             ValueRange values) {
  if (values.size() <= 1) {
    LLVM::ReturnOp::create(builder, loc, values);
    return;
  }
  Type type =
      enclosingLoweredFunction(builder).getFunctionType().getReturnType();
  Value aggregate = LLVM::PoisonOp::create(builder, loc, type);
  for (auto [index, value] : llvm::enumerate(values))
    aggregate =
        LLVM::InsertValueOp::create(builder, loc, aggregate, value, index);
  LLVM::ReturnOp::create(builder, loc, aggregate);
}

void mlir::twasm::emitTrap(OpBuilder &builder, Location loc, abi::TrapCode code,
                           const LoweringTarget &target) {
  target.emitTrapRecord(builder, loc, code);
  target.emitStop(builder, loc);
}

llvm::SmallVector<Value> mlir::twasm::emitLoweredCall(
    OpBuilder &builder, Location loc, Operation *caller, llvm::StringRef callee,
    Type returnType, size_t resultCount, ValueRange operands) {
  llvm::SmallVector<Value> arguments;
  for (unsigned i = 0; i < abi::kHiddenParameterCount; ++i)
    arguments.push_back(
        hiddenValue(caller, static_cast<abi::HiddenParameter>(i)));
  arguments.append(operands.begin(), operands.end());
  auto calleeAttr = FlatSymbolRefAttr::get(builder.getContext(), callee);
  LLVM::CallOp call =
      isa<LLVM::LLVMVoidType>(returnType)
          ? LLVM::CallOp::create(builder, loc, TypeRange(), calleeAttr,
                                 arguments)
          : LLVM::CallOp::create(builder, loc, TypeRange{returnType},
                                 calleeAttr, arguments);
  llvm::SmallVector<Value> results;
  if (resultCount == 1)
    results.push_back(call.getResult());
  else
    for (size_t i = 0; i < resultCount; ++i)
      results.push_back(
          LLVM::ExtractValueOp::create(builder, loc, call.getResult(), i));
  return results;
}

//===----------------------------------------------------------------------===//
// Linear-memory accesses
//===----------------------------------------------------------------------===//

Value mlir::twasm::effectiveAddress(OpBuilder &builder, Location loc,
                                    Value address, uint64_t offset) {
  Type i64 = builder.getI64Type();
  Value ea = LLVM::ZExtOp::create(builder, loc, i64, address);
  if (offset != 0)
    ea = LLVM::AddOp::create(builder, loc, ea,
                             constantInt(builder, loc, i64, offset));
  return ea;
}

Value mlir::twasm::bytePointer(OpBuilder &builder, Location loc, Value base,
                               Value ea) {
  return LLVM::GEPOp::create(builder, loc, base.getType(), builder.getI8Type(),
                             base, ValueRange{ea});
}

// The test is address < count, where count = memory_size - extent + 1 (the
// number of addresses at which the access fits) is computed at the
// function's entry, clamped to [0, 2^32 - 1]. Memory is at most 4 GiB, so
// for an extent of 2 or more the count always fits in 32 bits; a 1-byte
// access at offset 0 in a 4 GiB memory could need 2^32, so that one case
// keeps the test "size > 0 and address <= size - 1". On the GPU, 64-bit
// compares and additions cost two instructions each; this costs one.
Value mlir::twasm::accessFitsInMemory(OpBuilder &builder, Location loc,
                                      Operation *op, Value address,
                                      uint64_t extent,
                                      const LoweringTarget &target) {
  Type i32 = builder.getI32Type();
  Type i64 = builder.getI64Type();
  bool fixedSize = target.memorySizeIsFixed(op);
  Value size = target.memorySize(builder, loc, op);
  auto clampTo32 = [&](Value value) {
    Value low = LLVM::SMaxOp::create(builder, loc, value,
                                     constantInt(builder, loc, i64, 0));
    Value high = LLVM::UMinOp::create(
        builder, loc, low, constantInt(builder, loc, i64, UINT32_MAX));
    return LLVM::TruncOp::create(builder, loc, i32, high);
  };
  OpBuilder::InsertionGuard guard(builder);
  Block *body = builder.getInsertionBlock();
  Block::iterator point = builder.getInsertionPoint();
  // At the entry, where the size is defined: once per call, whatever
  // branches the accesses sit in (LLVM merges copies for equal extents).
  // A size that changes is read where the access is.
  if (fixedSize)
    builder.setInsertionPointToStart(cast<BlockArgument>(size).getOwner());
  if (extent >= 2) {
    Value count = clampTo32(LLVM::SubOp::create(
        builder, loc, size, constantInt(builder, loc, i64, extent - 1)));
    builder.setInsertionPoint(body, point);
    return LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ult, address,
                                count);
  }
  Value nonNegative =
      LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ugt, size,
                           constantInt(builder, loc, i64, 0));
  Value limit = clampTo32(LLVM::SubOp::create(
      builder, loc, size, constantInt(builder, loc, i64, 1)));
  builder.setInsertionPoint(body, point);
  Value below = LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ule,
                                     address, limit);
  return LLVM::AndOp::create(builder, loc, nonNegative, below);
}

Value mlir::twasm::offsetPointer(OpBuilder &builder, Location loc,
                                 Value pointer, int64_t offset) {
  return LLVM::GEPOp::create(
      builder, loc, pointer.getType(), builder.getI8Type(), pointer,
      ValueRange{constantInt(builder, loc, builder.getI64Type(), offset)});
}

Value mlir::twasm::isAligned(OpBuilder &builder, Location loc, Value address,
                             uint64_t offset, unsigned bytes) {
  // The low bits of ea are those of the 32-bit address plus the offset.
  Type i32 = builder.getI32Type();
  Value low = address;
  if (uint32_t lowOffset = uint32_t(offset) & (bytes - 1))
    low = LLVM::AddOp::create(builder, loc, low,
                              constantInt(builder, loc, i32, lowOffset));
  low = LLVM::AndOp::create(builder, loc, low,
                            constantInt(builder, loc, i32, bytes - 1));
  return LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::eq, low,
                              constantInt(builder, loc, i32, 0));
}

Value mlir::twasm::checkedAtomicPointer(RewriterBase &rewriter, Operation *op,
                                        Value address, uint64_t offset,
                                        unsigned bytes,
                                        const LoweringTarget &target) {
  Location loc = op->getLoc();
  trapUnless(
      rewriter, loc,
      accessFitsInMemory(rewriter, loc, op, address, offset + bytes, target),
      abi::TrapCode::MemoryOutOfBounds, target);
  if (bytes > 1)
    trapUnless(rewriter, loc, isAligned(rewriter, loc, address, offset, bytes),
               abi::TrapCode::UnalignedAtomic, target);
  return bytePointer(rewriter, loc, hiddenValue(op, abi::kMemoryBase),
                     effectiveAddress(rewriter, loc, address, offset));
}

Value mlir::twasm::lowBytes(OpBuilder &builder, Location loc, Value value,
                            unsigned bytes) {
  if (value.getType().getIntOrFloatBitWidth() == bytes * 8)
    return value;
  return LLVM::TruncOp::create(builder, loc, builder.getIntegerType(bytes * 8),
                               value);
}

void mlir::twasm::trapUnless(RewriterBase &builder, Location loc,
                             Value condition, abi::TrapCode code,
                             const LoweringTarget &target) {
  Block *block = builder.getInsertionBlock();
  Block *continuation = builder.splitBlock(block, builder.getInsertionPoint());
  Block *record = builder.createBlock(continuation);
  target.emitTrapRecord(builder, loc, code);
  // The stop sits in the cold block, with an edge back to the continuation,
  // so the graph has the shape of an if-then: the kernel's reconvergence
  // points stay where they were, and a check that LLVM proves never fails
  // disappears whole.
  target.emitStopInPlace(builder, loc);
  LLVM::BrOp::create(builder, loc, ValueRange(), continuation);
  builder.setInsertionPointToEnd(block);
  // Traps are cold: weigh the branch so the thread falls through.
  LLVM::CondBrOp::create(builder, loc, condition, continuation, ValueRange(),
                         record, ValueRange(),
                         std::make_pair(uint32_t(1) << 20, uint32_t(1)));
  builder.setInsertionPointToStart(continuation);
}

void mlir::twasm::addTwasmTypeConversions(TypeConverter &converter) {
  converter.addConversion([](Type type) -> std::optional<Type> {
    if (LLVM::isCompatibleType(type))
      return type;
    return std::nullopt;
  });
  converter.addConversion(
      [](FuncRefType type) { return IntegerType::get(type.getContext(), 32); });
  converter.addConversion([](ExternRefType type) {
    return IntegerType::get(type.getContext(), 32);
  });
}

//===----------------------------------------------------------------------===//
// NaN canonicalization
//===----------------------------------------------------------------------===//

/// Float operations that compute a new value, so a NaN result is the
/// device's NaN rather than an operand's.
static bool isFloatArithmetic(Operation *op) {
  return isa<F32AddOp, F32SubOp, F32MulOp, F32DivOp, F32MinOp, F32MaxOp,
             F32SqrtOp, F32CeilOp, F32FloorOp, F32TruncOp, F32NearestOp,
             F64AddOp, F64SubOp, F64MulOp, F64DivOp, F64MinOp, F64MaxOp,
             F64SqrtOp, F64CeilOp, F64FloorOp, F64TruncOp, F64NearestOp,
             F32DemoteF64Op, F64PromoteF32Op>(op);
}

/// The "twasm" intrinsic a call invokes, or "" for any other callee.
static llvm::StringRef intrinsicOf(CallOp call) {
  auto callee =
      SymbolTable::lookupNearestSymbolFrom<FuncOp>(call, call.getCalleeAttr());
  if (!callee || !callee.isImported())
    return {};
  ImportAttr import = *callee.getImport();
  return import.getModule() == "twasm" ? import.getName() : llvm::StringRef();
}

/// Intrinsics that compute a new float (so a NaN result is the device's).
static bool isArithmeticIntrinsic(llvm::StringRef name) {
  return llvm::is_contained({"expf", "exp2f", "logf", "log2f", "tanhf",
                             "rsqrtf", "sinf", "cosf", "fmaf"},
                            name);
}

/// Whether `op` computes a new float on the device (arithmetic, or a math
/// intrinsic), so that a NaN it gives carries no information in its bits.
static bool computesNewFloat(Operation *op) {
  if (isFloatArithmetic(op))
    return true;
  auto call = dyn_cast<CallOp>(op);
  return call && isArithmeticIntrinsic(intrinsicOf(call));
}

/// Whether every value that can reach block argument `argument`, through
/// other block arguments, is a result of device arithmetic or a constant that
/// is not a NaN: then any NaN it holds is the device's, whose bits carry no
/// information, and it can be made canonical where it is observed rather
/// than where each value is computed (once after a loop, not every
/// iteration).
/// Collects the values the predecessors of `argument`'s block pass to it;
/// returns false if some cannot be known (an entry block's arguments, a
/// terminator that is no branch, a successor operand the terminator makes).
static bool incomingValues(BlockArgument argument,
                           llvm::SmallVectorImpl<Value> &values) {
  Block *block = argument.getOwner();
  if (block->isEntryBlock())
    return false;
  bool allKnown = true;
  for (auto it = block->pred_begin(); it != block->pred_end(); ++it) {
    auto branch = dyn_cast<BranchOpInterface>((*it)->getTerminator());
    Value forwarded = branch
                          ? branch.getSuccessorOperands(
                                it.getSuccessorIndex())[argument.getArgNumber()]
                          : Value();
    if (forwarded)
      values.push_back(forwarded);
    else
      allKnown = false;
  }
  return allKnown;
}

static bool carriesOnlyComputedFloats(BlockArgument argument) {
  llvm::SmallVector<BlockArgument> worklist{argument};
  llvm::DenseSet<Value> visited{argument};
  while (!worklist.empty()) {
    llvm::SmallVector<Value> incoming;
    if (!incomingValues(worklist.pop_back_val(), incoming))
      return false;
    for (Value forwarded : incoming) {
      if (!visited.insert(forwarded).second)
        continue;
      if (auto next = dyn_cast<BlockArgument>(forwarded)) {
        worklist.push_back(next);
        continue;
      }
      Operation *def = forwarded.getDefiningOp();
      if (computesNewFloat(def))
        continue;
      if (auto constant = dyn_cast<F32ConstOp>(def);
          constant && !constant.getValue().isNaN())
        continue;
      if (auto constant = dyn_cast<F64ConstOp>(def);
          constant && !constant.getValue().isNaN())
        continue;
      return false;
    }
  }
  return true;
}

void mlir::twasm::markNaNCanonicalization(FuncOp func) {
  llvm::SmallVector<Value> worklist;
  llvm::DenseSet<Value> visited;
  auto observe = [&](Value value) {
    if (isa<FloatType>(value.getType()) && visited.insert(value).second)
      worklist.push_back(value);
  };
  // Uses whose value is canonicalized in place, before the observing
  // operation, rather than where it is computed: a block argument that only
  // ever holds device results, and a device result that other operations
  // use too. The loop that accumulates into a value and stores it when it
  // ends then computes every iteration's value as it is, and canonicalizes
  // the stored one once.
  llvm::SmallVector<OpOperand *> canonicalizeAtUse;
  auto observeUse = [&](OpOperand &use) {
    Value value = use.get();
    if (!isa<FloatType>(value.getType()))
      return;
    auto argument = dyn_cast<BlockArgument>(value);
    if (argument
            ? carriesOnlyComputedFloats(argument)
            : computesNewFloat(value.getDefiningOp()) && !value.hasOneUse())
      canonicalizeAtUse.push_back(&use);
    else
      observe(value);
  };
  func.walk([&](Operation *op) {
    if (isa<F32StoreOp, F64StoreOp>(op)) {
      observeUse(op->getOpOperand(1));
    } else if (isa<I32ReinterpretF32Op, I64ReinterpretF64Op, GlobalSetOp,
                   CallIndirectOp, ReturnOp>(op)) {
      for (OpOperand &operand : op->getOpOperands())
        observeUse(operand);
    } else if (auto call = dyn_cast<CallOp>(op)) {
      llvm::StringRef intrinsic = intrinsicOf(call);
      // Shared scratch is memory like any other. Math intrinsics consume
      // their operands; shuffles move theirs (see below); float atomics
      // give NaN results unspecified bits (docs/kernel-abi.md).
      if (intrinsic.starts_with("shared_store_"))
        observeUse(op->getOpOperand(1));
      else if (intrinsic.empty())
        for (OpOperand &operand : op->getOpOperands())
          observeUse(operand);
    }
  });
  OpBuilder builder(func.getContext());
  for (OpOperand *use : canonicalizeAtUse) {
    builder.setInsertionPoint(use->getOwner());
    use->set(canonicalizeNaN(builder, use->getOwner()->getLoc(), use->get()));
  }

  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (auto argument = dyn_cast<BlockArgument>(value)) {
      // Where the incoming values cannot all be known (the function's
      // parameters), nothing here computed them.
      llvm::SmallVector<Value> incoming;
      incomingValues(argument, incoming);
      for (Value forwarded : incoming)
        observe(forwarded);
      continue;
    }
    Operation *def = value.getDefiningOp();
    if (auto select = dyn_cast<SelectOp>(def)) {
      observe(select.getTrueValue());
      observe(select.getFalseValue());
    } else if (isa<F32AbsOp, F32NegOp, F64AbsOp, F64NegOp>(def)) {
      observe(def->getOperand(0));
    } else if (isa<F32CopysignOp, F64CopysignOp>(def)) {
      // The sign of a canonical NaN is unspecified, so only the magnitude
      // operand's bits matter.
      observe(def->getOperand(0));
    } else if (auto call = dyn_cast<CallOp>(def)) {
      llvm::StringRef intrinsic = intrinsicOf(call);
      // A shuffle hands over another lane's value, which is the same
      // computation in that lane: its operand is what is observed.
      if (intrinsic.starts_with("shfl_"))
        observe(def->getOperand(0));
      else if (isArithmeticIntrinsic(intrinsic))
        def->setAttr(kCanonicalizeNaNAttr, UnitAttr::get(def->getContext()));
    } else if (isFloatArithmetic(def)) {
      def->setAttr(kCanonicalizeNaNAttr, UnitAttr::get(def->getContext()));
    }
  }
}

void mlir::twasm::issueLoadsEarly(FuncOp func) {
  if (func.isExternal())
    return;
  for (Block &block : func.getBody()) {
    llvm::SmallVector<Operation *> loads;
    for (Operation &op : block)
      if (getAccessBytes(&op) && op.getNumResults() == 1)
        loads.push_back(&op);
    for (Operation *load : loads) {
      Operation *target = load;
      Operation *addressDef = load->getOperand(0).getDefiningOp();
      while (Operation *previous = target->getPrevNode()) {
        if (!isMemoryEffectFree(previous) || previous == addressDef)
          break;
        target = previous;
      }
      if (target != load)
        load->moveBefore(target);
    }
  }
}

void mlir::twasm::markBoundedLoops(FuncOp func, uint64_t maxIterations) {
  if (func.isExternal())
    return;
  DominanceInfo dominance(func);
  for (Block &header : func.getBody())
    if (std::optional<CountedLoop> loop =
            matchCountedLoop(header, dominance, maxIterations))
      loop->backEdge->setAttr(kBoundedLoopAttr,
                              UnitAttr::get(func.getContext()));
}

/// Gives every loop back-edge a countdown that reads the control word once
/// every kEpochPeriod iterations and traps with Interrupted when it is set.
/// The check sits at the end of the latch, so the loop body stays one
/// straight run of code. Loops that stop by themselves within a few
/// iterations (kBoundedLoopAttr) need none: the loop around them, or the
/// finite code around them, bounds their time. Function entries are the
/// target's business: kernels cannot recurse, and the host checks them.
unsigned mlir::twasm::insertEpochChecks(LLVM::LLVMFuncOp func,
                                        const LoweringTarget &target) {
  DominanceInfo dominance(func);
  llvm::SmallVector<Operation *> backEdges;
  for (Block &block : func.getBody()) {
    Operation *terminator = block.getTerminator();
    if (terminator->hasAttr(kBoundedLoopAttr))
      continue;
    for (Block *successor : block.getSuccessors())
      if (dominance.dominates(successor, &block)) {
        backEdges.push_back(terminator);
        break;
      }
  }
  if (backEdges.empty())
    return 0;

  MLIRContext *context = func.getContext();
  IRRewriter rewriter(context);
  Location loc = func.getLoc();
  Type i32 = rewriter.getI32Type();
  Block &entry = func.getBody().front();
  rewriter.setInsertionPointToStart(&entry);
  Value counter =
      LLVM::AllocaOp::create(rewriter, loc, LLVM::LLVMPointerType::get(context),
                             i32, constantInt(rewriter, loc, i32, 1));
  LLVM::StoreOp::create(rewriter, loc,
                        constantInt(rewriter, loc, i32, abi::kEpochPeriod),
                        counter);
  Value control = entry.getArgument(abi::kControlWord);

  for (Operation *terminator : backEdges) {
    Block *latch = terminator->getBlock();
    rewriter.setInsertionPoint(terminator);
    Value count = LLVM::LoadOp::create(rewriter, loc, i32, counter);
    Value next = LLVM::SubOp::create(rewriter, loc, count,
                                     constantInt(rewriter, loc, i32, 1));
    LLVM::StoreOp::create(rewriter, loc, next, counter);
    Value expired =
        LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::eq, next,
                             constantInt(rewriter, loc, i32, 0));
    Block *rest = rewriter.splitBlock(latch, Block::iterator(terminator));
    Block *check = rewriter.createBlock(rest);
    rewriter.setInsertionPointToEnd(latch);
    LLVM::CondBrOp::create(
        rewriter, loc, expired, check, ValueRange(), rest, ValueRange(),
        std::make_pair(uint32_t(1), uint32_t(abi::kEpochPeriod)));
    rewriter.setInsertionPointToStart(check);
    LLVM::StoreOp::create(rewriter, loc,
                          constantInt(rewriter, loc, i32, abi::kEpochPeriod),
                          counter);
    Value word = LLVM::LoadOp::create(rewriter, loc, i32, control, 4,
                                      /*isVolatile=*/true);
    Value running =
        LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::eq, word,
                             constantInt(rewriter, loc, i32, abi::kControlRun));
    trapUnless(rewriter, loc, running, abi::TrapCode::Interrupted, target);
    LLVM::BrOp::create(rewriter, loc, ValueRange(), rest);
  }
  return backEdges.size();
}

LogicalResult
mlir::twasm::convertFunctionsToLLVM(llvm::ArrayRef<Operation *> functions,
                                    const LoweringTarget &target,
                                    ConversionTarget &legality) {
  if (functions.empty())
    return success();
  MLIRContext *context = functions.front()->getContext();
  TypeConverter converter;
  addTwasmTypeConversions(converter);
  RewritePatternSet patterns(context);
  populateNumericToLLVMPatterns(converter, patterns, target);
  populateMemoryToLLVMPatterns(converter, patterns, target);
  populateVariablesToLLVMPatterns(converter, patterns, target);
  populateAtomicsToLLVMPatterns(converter, patterns, target);
  populateTablesToLLVMPatterns(converter, patterns, target);
  populateControlFlowToLLVMPatterns(converter, patterns, target);
  legality.addLegalDialect<LLVM::LLVMDialect>();
  legality.addIllegalDialect<TwasmDialect>();
  return applyFullConversion(functions, legality, std::move(patterns));
}

twasm::ModuleOp mlir::twasm::singleWasmModule(mlir::ModuleOp top) {
  auto wasmModules = top.getBody()->getOps<twasm::ModuleOp>();
  if (std::distance(wasmModules.begin(), wasmModules.end()) != 1) {
    top.emitError("expected exactly one twasm.module to lower");
    return {};
  }
  return *wasmModules.begin();
}
