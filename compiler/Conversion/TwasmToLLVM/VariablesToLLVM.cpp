//===- VariablesToLLVM.cpp - twasm globals and references to LLVM ---------===//
//
// Globals with a slot live in the globals block (hidden parameter); the
// others are constants the layout knows. References are i32: 0 for null,
// function index + 1 otherwise.
//
//===----------------------------------------------------------------------===//

#include "LoweringSupport.h"

using namespace mlir;
using namespace mlir::twasm;

namespace {

struct GlobalGetPattern : OpConversionPattern<GlobalGetOp> {
  GlobalGetPattern(const TypeConverter &converter, MLIRContext *context,
                   const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(GlobalGetOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = getTypeConverter()->convertType(op.getType());
    if (Attribute value = target.layout.constantGlobal(op.getGlobal())) {
      rewriter.replaceOpWithNewOp<LLVM::ConstantOp>(op, type,
                                                    cast<TypedAttr>(value));
      return success();
    }
    std::optional<uint64_t> slot = target.layout.globalSlot(op.getGlobal());
    if (!slot)
      return rewriter.notifyMatchFailure(op, "global without a slot");
    rewriter.replaceOpWithNewOp<LLVM::LoadOp>(
        op, type, globalsPointer(rewriter, op.getLoc(), op, *slot),
        type.getIntOrFloatBitWidth() / 8);
    return success();
  }
  const LoweringTarget &target;
};

struct GlobalSetPattern : OpConversionPattern<GlobalSetOp> {
  GlobalSetPattern(const TypeConverter &converter, MLIRContext *context,
                   const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(GlobalSetOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<uint64_t> slot = target.layout.globalSlot(op.getGlobal());
    if (!slot)
      return rewriter.notifyMatchFailure(op, "global without a slot");
    Value value = adaptor.getValue();
    unsigned bytes = value.getType().getIntOrFloatBitWidth() / 8;
    // As a memory store of 32 bits or fewer (StorePattern): LLVM may make
    // it store part of a wider float's bits.
    if (bytes <= 4)
      value = target.integerBits(rewriter, op.getLoc(), value);
    rewriter.replaceOpWithNewOp<LLVM::StoreOp>(
        op, value, globalsPointer(rewriter, op.getLoc(), op, *slot), bytes);
    return success();
  }
  const LoweringTarget &target;
};

struct RefNullPattern : OpConversionPattern<RefNullOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RefNullOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, constantInt(rewriter, op.getLoc(), rewriter.getI32Type(), 0));
    return success();
  }
};

struct RefIsNullPattern : OpConversionPattern<RefIsNullOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RefIsNullOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value isNull = LLVM::ICmpOp::create(
        rewriter, loc, LLVM::ICmpPredicate::eq, adaptor.getRef(),
        constantInt(rewriter, loc, rewriter.getI32Type(), 0));
    rewriter.replaceOpWithNewOp<LLVM::ZExtOp>(op, rewriter.getI32Type(),
                                              isNull);
    return success();
  }
};

struct RefFuncPattern : OpConversionPattern<RefFuncOp> {
  RefFuncPattern(const TypeConverter &converter, MLIRContext *context,
                 const LoweringTarget &target)
      : OpConversionPattern(converter, context), target(target) {}
  LogicalResult
  matchAndRewrite(RefFuncOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    uint32_t index = target.layout.functionIndex(op.getFunc());
    rewriter.replaceOp(op, constantInt(rewriter, op.getLoc(),
                                       rewriter.getI32Type(), index + 1));
    return success();
  }
  const LoweringTarget &target;
};

} // namespace

void mlir::twasm::populateVariablesToLLVMPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns,
    const LoweringTarget &target) {
  MLIRContext *context = patterns.getContext();
  patterns.add<GlobalGetPattern, GlobalSetPattern, RefFuncPattern>(
      converter, context, target);
  patterns.add<RefNullPattern, RefIsNullPattern>(converter, context);
}
