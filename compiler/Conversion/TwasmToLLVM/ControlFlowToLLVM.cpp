//===- ControlFlowToLLVM.cpp - twasm functions, branches, calls to LLVM ---===//
//
// A twasm function becomes an internal llvm.func named "wasm_<symbol>" that
// takes the hidden parameters first. Branches map one to one; `unreachable`
// traps; `call_indirect` reads the table from the globals block and
// dispatches with a switch over the functions of the right type, so a device
// without function pointers (or with slow ones) needs none.
//
//===----------------------------------------------------------------------===//

#include "LoweringSupport.h"

using namespace mlir;
using namespace mlir::twasm;

namespace {

llvm::SmallVector<Type> convertTypes(const TypeConverter &converter,
                                     TypeRange types) {
  llvm::SmallVector<Type> converted;
  for (Type type : types)
    converted.push_back(converter.convertType(type));
  return converted;
}

struct FuncPattern : OpConversionPattern<FuncOp> {
  FuncPattern(const TypeConverter &converter, MLIRContext *context,
              const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(FuncOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // Imports have no body; calls of the ones a kernel may use are lowered
    // at the call (intrinsics), so the declaration goes.
    if (op.isImported()) {
      rewriter.eraseOp(op);
      return success();
    }
    MLIRContext *context = op.getContext();
    FunctionType type = op.getFunctionType();
    TypeConverter::SignatureConversion signature(type.getNumInputs());
    llvm::SmallVector<Type> hidden = target.hiddenTypes(context);
    signature.addInputs(hidden);
    for (auto [index, input] : llvm::enumerate(type.getInputs()))
      signature.addInputs(index, getTypeConverter()->convertType(input));
    auto llvmType = LLVM::LLVMFunctionType::get(
        loweredReturnType(context,
                          convertTypes(*getTypeConverter(), type.getResults())),
        signature.getConvertedTypes());
    auto func = LLVM::LLVMFuncOp::create(rewriter, op.getLoc(),
                                         loweredFunctionName(op.getSymName()),
                                         llvmType, LLVM::Linkage::Internal);
    if (auto range = target.memorySizeRange())
      func.setArgAttr(
          abi::kMemorySize, LLVM::LLVMDialect::getRangeAttrName(),
          LLVM::ConstantRangeAttr::get(context, llvm::APInt(64, range->first),
                                       llvm::APInt(64, range->second)));
    func->setAttr(kFunctionIndexAttr,
                  rewriter.getI32IntegerAttr(
                      target.layout.functionIndex(op.getSymName())));
    for (llvm::StringRef name :
         {kBlockShapeAttr.data(), kSharedBytesAttr.data(),
          kGrowingMemoryAttr.data()})
      if (Attribute value = op->getAttr(name))
        func->setAttr(name, value);
    rewriter.inlineRegionBefore(op.getBody(), func.getBody(), func.end());
    if (failed(rewriter.convertRegionTypes(&func.getBody(), *getTypeConverter(),
                                           &signature)))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }

  const LoweringTarget &target;
};

struct ReturnPattern : OpConversionPattern<ReturnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReturnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    emitReturn(rewriter, op.getLoc(), adaptor.getValues());
    rewriter.eraseOp(op);
    return success();
  }
};

struct BrPattern : OpConversionPattern<BrOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BrOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<LLVM::BrOp>(op, adaptor.getDestOperands(),
                                            op.getDest());
    return success();
  }
};

Value isNonZero(OpBuilder &builder, Location loc, Value value) {
  return LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::ne, value,
                              constantInt(builder, loc, value.getType(), 0));
}

struct BrIfPattern : OpConversionPattern<BrIfOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BrIfOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value condition = isNonZero(rewriter, op.getLoc(), adaptor.getCondition());
    auto branch = rewriter.replaceOpWithNewOp<LLVM::CondBrOp>(
        op, condition, op.getTrueDest(), adaptor.getTrueDestOperands(),
        op.getFalseDest(), adaptor.getFalseDestOperands());
    if (op->hasAttr(kBoundedLoopAttr))
      branch->setAttr(kBoundedLoopAttr, rewriter.getUnitAttr());
    return success();
  }
};

struct BrTablePattern : OpConversionPattern<BrTableOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BrTableOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    llvm::SmallVector<int32_t> caseValues;
    llvm::SmallVector<ValueRange> caseOperands;
    auto targets = adaptor.getTargetOperands();
    for (size_t i = 0; i < op.getTargetDests().size(); ++i) {
      caseValues.push_back(static_cast<int32_t>(i));
      caseOperands.push_back(targets[i]);
    }
    rewriter.replaceOpWithNewOp<LLVM::SwitchOp>(
        op, adaptor.getIndex(), op.getDefaultDest(),
        adaptor.getDefaultOperands(), caseValues, op.getTargetDests(),
        caseOperands);
    return success();
  }
};

struct UnreachablePattern : OpConversionPattern<UnreachableOp> {
  UnreachablePattern(const TypeConverter &converter, MLIRContext *context,
                     const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(UnreachableOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    emitTrap(rewriter, op.getLoc(), abi::TrapCode::Unreachable, target);
    rewriter.eraseOp(op);
    return success();
  }
  const LoweringTarget &target;
};

struct SelectPattern : OpConversionPattern<SelectOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SelectOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value condition = isNonZero(rewriter, op.getLoc(), adaptor.getCondition());
    rewriter.replaceOpWithNewOp<LLVM::SelectOp>(
        op, condition, adaptor.getTrueValue(), adaptor.getFalseValue());
    return success();
  }
};

struct CallPattern : OpConversionPattern<CallOp> {
  CallPattern(const TypeConverter &converter, MLIRContext *context,
              const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(CallOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const InstanceLayout::Function *callee =
        target.layout.function(op.getCallee());
    if (!callee)
      return rewriter.notifyMatchFailure(op, "unknown callee");
    if (callee->import &&
        !(callee->import->first != "twasm" && target.callsHostImports())) {
      if (callee->import->first != "twasm")
        return op.emitOpError("calls the import \"")
               << callee->import->first << "\".\"" << callee->import->second
               << "\", which the device cannot provide";
      FailureOr<llvm::SmallVector<Value>> results =
          target.lowerIntrinsic(rewriter, op, callee->import->second,
                                callee->type, adaptor.getOperands());
      if (failed(results))
        return failure();
      rewriter.replaceOp(op, *results);
      return success();
    }
    Type returnType = loweredReturnType(
        op.getContext(),
        convertTypes(*getTypeConverter(), callee->type.getResults()));
    rewriter.replaceOp(op, emitLoweredCall(rewriter, op.getLoc(), op,
                                           loweredFunctionName(callee->symbol),
                                           returnType, op.getNumResults(),
                                           adaptor.getOperands()));
    return success();
  }

  const LoweringTarget &target;
};

/// Reads the table entry, traps on an index out of range or a null entry,
/// then switches over the functions a table may hold that have the expected
/// type; any other function index is a type mismatch.
struct CallIndirectPattern : OpConversionPattern<CallIndirectOp> {
  CallIndirectPattern(const TypeConverter &converter, MLIRContext *context,
                      const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(CallIndirectOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    const InstanceLayout::TableRegion *table =
        target.layout.table(op.getTable());
    if (!table)
      return rewriter.notifyMatchFailure(op, "unknown table");
    Type i32 = rewriter.getI32Type();
    Type i64 = rewriter.getI64Type();
    Type i8 = rewriter.getI8Type();
    Value globals = hiddenValue(op, abi::kGlobals);
    auto pointerAt = [&](Value byteOffset) {
      return LLVM::GEPOp::create(rewriter, loc, globals.getType(), i8, globals,
                                 ValueRange{byteOffset});
    };

    Value count = LLVM::LoadOp::create(
        rewriter, loc, i32,
        pointerAt(constantInt(rewriter, loc, i64, table->offset)), 4);
    Value index = adaptor.getIndex();
    Value inRange = LLVM::ICmpOp::create(
        rewriter, loc, LLVM::ICmpPredicate::ult, index, count);
    trapUnless(rewriter, loc, inRange, abi::TrapCode::UndefinedElement, target);
    Value slot = LLVM::MulOp::create(
        rewriter, loc, LLVM::ZExtOp::create(rewriter, loc, i64, index),
        constantInt(rewriter, loc, i64, abi::kTableEntryBytes));
    Value entryOffset = LLVM::AddOp::create(
        rewriter, loc, slot,
        constantInt(rewriter, loc, i64, table->offset + abi::kTableEntryBytes));
    Value entry =
        LLVM::LoadOp::create(rewriter, loc, i32, pointerAt(entryOffset), 4);
    Value nonNull =
        LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::ne, entry,
                             constantInt(rewriter, loc, i32, 0));
    trapUnless(rewriter, loc, nonNull, abi::TrapCode::UninitializedElement,
               target);
    Value functionIndex = LLVM::SubOp::create(
        rewriter, loc, entry, constantInt(rewriter, loc, i32, 1));

    FunctionType type = op.getCalleeType();
    llvm::SmallVector<Type> resultTypes =
        convertTypes(*getTypeConverter(), type.getResults());
    Type returnType = loweredReturnType(op.getContext(), resultTypes);

    Block *before = rewriter.getInsertionBlock();
    Block *join = rewriter.splitBlock(before, rewriter.getInsertionPoint());
    for (Type result : resultTypes)
      join->addArgument(result, loc);

    llvm::SmallVector<int32_t> caseValues;
    llvm::SmallVector<Block *> caseBlocks;
    for (auto [index, function] : llvm::enumerate(target.layout.functions())) {
      if (!function.referenced || function.type != type ||
          (function.import && !target.callsHostImports()))
        continue;
      Block *block = rewriter.createBlock(join);
      llvm::SmallVector<Value> results = emitLoweredCall(
          rewriter, loc, op, loweredFunctionName(function.symbol), returnType,
          resultTypes.size(), adaptor.getCalleeOperands());
      LLVM::BrOp::create(rewriter, loc, results, join);
      caseValues.push_back(static_cast<int32_t>(index));
      caseBlocks.push_back(block);
    }
    Block *mismatch = rewriter.createBlock(join);
    emitTrap(rewriter, loc, abi::TrapCode::IndirectCallTypeMismatch, target);

    rewriter.setInsertionPointToEnd(before);
    llvm::SmallVector<ValueRange> caseOperands(caseBlocks.size(), ValueRange());
    LLVM::SwitchOp::create(rewriter, loc, functionIndex, mismatch, ValueRange(),
                           caseValues, caseBlocks, caseOperands);
    rewriter.setInsertionPointToStart(join);
    rewriter.replaceOp(op, join->getArguments());
    return success();
  }

  const LoweringTarget &target;
};

} // namespace

void mlir::twasm::populateControlFlowToLLVMPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns,
    const LoweringTarget &target) {
  MLIRContext *context = patterns.getContext();
  patterns
      .add<FuncPattern, UnreachablePattern, CallPattern, CallIndirectPattern>(
          converter, context, target);
  patterns.add<ReturnPattern, BrPattern, BrIfPattern, BrTablePattern,
               SelectPattern>(converter, context);
}
