//===- TablesToLLVM.cpp - twasm table instructions to the LLVM dialect ----===//
//
// Tables and segments. A table lives in the globals block (docs/kernel-abi.md
// section 5.1): a 4-byte element count, then room for `capacity` 4-byte
// references (0 for null, function index + 1). table.grow moves the count up to
// the capacity the layout gave the table; an element segment's remaining length
// sits in its segment slot and its references in a constant the target emits.
//
// Every instruction checks its whole range before it writes anything, so a
// trap leaves the table unchanged, as the spec requires.
//
//===----------------------------------------------------------------------===//

#include "LoweringSupport.h"

using namespace mlir;
using namespace mlir::twasm;

namespace {

struct TableAccess {
  Value count;   // i32
  Value entries; // pointer to element 0
  Value countPointer;
};

FailureOr<TableAccess> accessTable(OpBuilder &builder, Location loc,
                                   Operation *op, llvm::StringRef symbol,
                                   const LoweringTarget &target) {
  const InstanceLayout::TableRegion *table = target.layout.table(symbol);
  if (!table)
    return failure();
  TableAccess access;
  access.countPointer = globalsPointer(builder, loc, op, table->offset);
  access.count = LLVM::LoadOp::create(builder, loc, builder.getI32Type(),
                                      access.countPointer, 4);
  access.entries =
      globalsPointer(builder, loc, op, table->offset + abi::kTableEntryBytes);
  return access;
}

Value entryPointer(OpBuilder &builder, Location loc, Value entries,
                   Value index) {
  Value wide = LLVM::ZExtOp::create(builder, loc, builder.getI64Type(), index);
  return LLVM::GEPOp::create(builder, loc, entries.getType(),
                             builder.getI32Type(), entries, ValueRange{wide});
}

Value zeroExtend(OpBuilder &builder, Location loc, Value value) {
  return LLVM::ZExtOp::create(builder, loc, builder.getI64Type(), value);
}

/// Stores `value` into `count` consecutive entries from `first`: a loop, as
/// the entries are 4-byte references, not bytes.
void emitFill(RewriterBase &builder, Location loc, Value first, Value value,
              Value count) {
  Type i64 = builder.getI64Type();
  Value total = zeroExtend(builder, loc, count);
  Block *before = builder.getInsertionBlock();
  Block *after = builder.splitBlock(before, builder.getInsertionPoint());
  Block *header = builder.createBlock(after, {i64}, {loc});
  Block *body = builder.createBlock(after);

  builder.setInsertionPointToEnd(before);
  LLVM::BrOp::create(builder, loc,
                     ValueRange{constantInt(builder, loc, i64, 0)}, header);
  builder.setInsertionPointToEnd(header);
  Value index = header->getArgument(0);
  Value more = LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ult,
                                    index, total);
  LLVM::CondBrOp::create(builder, loc, more, body, after);
  builder.setInsertionPointToEnd(body);
  Value pointer =
      LLVM::GEPOp::create(builder, loc, first.getType(), builder.getI32Type(),
                          first, ValueRange{index});
  LLVM::StoreOp::create(builder, loc, value, pointer, 4);
  Value next = LLVM::AddOp::create(builder, loc, index,
                                   constantInt(builder, loc, i64, 1));
  // Bounded by the table's size, which is finite: no interruption check.
  auto latch = LLVM::BrOp::create(builder, loc, ValueRange{next}, header);
  latch->setAttr(kBoundedLoopAttr, builder.getUnitAttr());
  builder.setInsertionPointToStart(after);
}

/// A pointer to entry `index` of `symbol`, after the check that traps when
/// the index is not below the table's size.
FailureOr<Value> checkedEntryPointer(ConversionPatternRewriter &rewriter,
                                     Operation *op, llvm::StringRef symbol,
                                     Value index,
                                     const LoweringTarget &target) {
  Location loc = op->getLoc();
  FailureOr<TableAccess> table = accessTable(rewriter, loc, op, symbol, target);
  if (failed(table))
    return op->emitOpError("names a table the layout does not have");
  Value inRange = LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::ult,
                                       index, table->count);
  trapUnless(rewriter, loc, inRange, abi::TrapCode::TableOutOfBounds, target);
  return entryPointer(rewriter, loc, table->entries, index);
}

/// Base for patterns that need the target.
template <typename SourceOp>
struct TablePattern : OpConversionPattern<SourceOp> {
  TablePattern(const TypeConverter &converter, MLIRContext *context,
               const LoweringTarget &target)
      : OpConversionPattern<SourceOp>(converter, context), target(target) {}
  const LoweringTarget &target;
};

struct TableGetPattern : TablePattern<TableGetOp> {
  using TablePattern::TablePattern;
  LogicalResult
  matchAndRewrite(TableGetOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<Value> entry = checkedEntryPointer(rewriter, op, op.getTable(),
                                                 adaptor.getIndex(), target);
    if (failed(entry))
      return failure();
    rewriter.replaceOpWithNewOp<LLVM::LoadOp>(op, rewriter.getI32Type(), *entry,
                                              4);
    return success();
  }
};

struct TableSetPattern : TablePattern<TableSetOp> {
  using TablePattern::TablePattern;
  LogicalResult
  matchAndRewrite(TableSetOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<Value> entry = checkedEntryPointer(rewriter, op, op.getTable(),
                                                 adaptor.getIndex(), target);
    if (failed(entry))
      return failure();
    rewriter.replaceOpWithNewOp<LLVM::StoreOp>(op, adaptor.getValue(), *entry,
                                               4);
    return success();
  }
};

struct TableSizePattern : TablePattern<TableSizeOp> {
  using TablePattern::TablePattern;
  LogicalResult
  matchAndRewrite(TableSizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<TableAccess> table =
        accessTable(rewriter, op.getLoc(), op, op.getTable(), target);
    if (failed(table))
      return op.emitOpError("names a table the layout does not have");
    rewriter.replaceOp(op, table->count);
    return success();
  }
};

/// Grows within the capacity the layout reserved; beyond it, -1.
struct TableGrowPattern : TablePattern<TableGrowOp> {
  using TablePattern::TablePattern;
  LogicalResult
  matchAndRewrite(TableGrowOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    const InstanceLayout::TableRegion *region =
        target.layout.table(op.getTable());
    FailureOr<TableAccess> table =
        accessTable(rewriter, loc, op, op.getTable(), target);
    if (!region || failed(table))
      return op.emitOpError("names a table the layout does not have");
    Type i32 = rewriter.getI32Type();
    Type i64 = rewriter.getI64Type();
    Value fits = rangeFits(rewriter, loc, table->count, adaptor.getDelta(),
                           constantInt(rewriter, loc, i64, region->capacity));

    Block *before = rewriter.getInsertionBlock();
    Block *join = rewriter.splitBlock(before, rewriter.getInsertionPoint());
    join->addArgument(i32, loc);
    Block *grow = rewriter.createBlock(join);
    rewriter.setInsertionPointToEnd(before);
    LLVM::CondBrOp::create(rewriter, loc, fits, grow, ValueRange(), join,
                           ValueRange{constantInt(rewriter, loc, i32, -1)});
    rewriter.setInsertionPointToEnd(grow);
    emitFill(rewriter, loc,
             entryPointer(rewriter, loc, table->entries, table->count),
             adaptor.getInit(), adaptor.getDelta());
    LLVM::StoreOp::create(
        rewriter, loc,
        LLVM::AddOp::create(rewriter, loc, table->count, adaptor.getDelta()),
        table->countPointer, 4);
    LLVM::BrOp::create(rewriter, loc, ValueRange{table->count}, join);
    rewriter.setInsertionPointToStart(join);
    rewriter.replaceOp(op, join->getArgument(0));
    return success();
  }
};

struct TableFillPattern : TablePattern<TableFillOp> {
  using TablePattern::TablePattern;
  LogicalResult
  matchAndRewrite(TableFillOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<TableAccess> table =
        accessTable(rewriter, loc, op, op.getTable(), target);
    if (failed(table))
      return op.emitOpError("names a table the layout does not have");
    trapUnless(rewriter, loc,
               rangeFits(rewriter, loc, adaptor.getIndex(), adaptor.getSize(),
                         zeroExtend(rewriter, loc, table->count)),
               abi::TrapCode::TableOutOfBounds, target);
    emitFill(rewriter, loc,
             entryPointer(rewriter, loc, table->entries, adaptor.getIndex()),
             adaptor.getValue(), adaptor.getSize());
    rewriter.eraseOp(op);
    return success();
  }
};

struct TableCopyPattern : TablePattern<TableCopyOp> {
  using TablePattern::TablePattern;
  LogicalResult
  matchAndRewrite(TableCopyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<TableAccess> destination =
        accessTable(rewriter, loc, op, op.getDstTable(), target);
    FailureOr<TableAccess> source =
        accessTable(rewriter, loc, op, op.getSrcTable(), target);
    if (failed(destination) || failed(source))
      return op.emitOpError("names a table the layout does not have");
    Value fits = LLVM::AndOp::create(
        rewriter, loc,
        rangeFits(rewriter, loc, adaptor.getDst(), adaptor.getSize(),
                  zeroExtend(rewriter, loc, destination->count)),
        rangeFits(rewriter, loc, adaptor.getSrc(), adaptor.getSize(),
                  zeroExtend(rewriter, loc, source->count)));
    trapUnless(rewriter, loc, fits, abi::TrapCode::TableOutOfBounds, target);
    Value bytes = LLVM::MulOp::create(
        rewriter, loc, zeroExtend(rewriter, loc, adaptor.getSize()),
        constantInt(rewriter, loc, rewriter.getI64Type(),
                    abi::kTableEntryBytes));
    LLVM::MemmoveOp::create(
        rewriter, loc,
        entryPointer(rewriter, loc, destination->entries, adaptor.getDst()),
        entryPointer(rewriter, loc, source->entries, adaptor.getSrc()), bytes,
        /*isVolatile=*/false);
    rewriter.eraseOp(op);
    return success();
  }
};

struct TableInitPattern : TablePattern<TableInitOp> {
  using TablePattern::TablePattern;
  LogicalResult
  matchAndRewrite(TableInitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value length = segmentLength(rewriter, loc, op, op.getSegment(), target);
    FailureOr<TableAccess> table =
        accessTable(rewriter, loc, op, op.getTable(), target);
    if (!length || failed(table))
      return op.emitOpError("is not supported on this device");
    Value fits = LLVM::AndOp::create(
        rewriter, loc,
        rangeFits(rewriter, loc, adaptor.getSrc(), adaptor.getSize(), length),
        rangeFits(rewriter, loc, adaptor.getDst(), adaptor.getSize(),
                  zeroExtend(rewriter, loc, table->count)));
    trapUnless(rewriter, loc, fits, abi::TrapCode::TableOutOfBounds, target);
    Value contents = LLVM::AddressOfOp::create(
        rewriter, loc, LLVM::LLVMPointerType::get(op.getContext()),
        segmentContentsName(op.getSegment()));
    Value bytes = LLVM::MulOp::create(
        rewriter, loc, zeroExtend(rewriter, loc, adaptor.getSize()),
        constantInt(rewriter, loc, rewriter.getI64Type(),
                    abi::kTableEntryBytes));
    LLVM::MemcpyOp::create(
        rewriter, loc,
        entryPointer(rewriter, loc, table->entries, adaptor.getDst()),
        entryPointer(rewriter, loc, contents, adaptor.getSrc()), bytes,
        /*isVolatile=*/false);
    rewriter.eraseOp(op);
    return success();
  }
};

/// data.drop and elem.drop: the segment's remaining length becomes 0.
template <typename DropOp> struct SegmentDropPattern : TablePattern<DropOp> {
  using TablePattern<DropOp>::TablePattern;
  LogicalResult
  matchAndRewrite(DropOp op, typename DropOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const InstanceLayout::SegmentSlot *segment =
        this->target.layout.segmentSlot(op.getSegment());
    if (!segment)
      return op.emitOpError("is not supported on this device");
    Location loc = op.getLoc();
    LLVM::StoreOp::create(
        rewriter, loc, constantInt(rewriter, loc, rewriter.getI32Type(), 0),
        globalsPointer(rewriter, loc, op, segment->offset), 4);
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void mlir::twasm::populateTablesToLLVMPatterns(const TypeConverter &converter,
                                               RewritePatternSet &patterns,
                                               const LoweringTarget &target) {
  patterns
      .add<TableGetPattern, TableSetPattern, TableSizePattern, TableGrowPattern,
           TableFillPattern, TableCopyPattern, TableInitPattern,
           SegmentDropPattern<ElemDropOp>, SegmentDropPattern<DataDropOp>>(
          converter, patterns.getContext(), target);
}
