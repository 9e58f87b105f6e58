//===- Intrinsics.cpp - the "twasm" imports, on every device --------------===//

#include "Intrinsics.h"

using namespace mlir;
using namespace mlir::twasm;

std::optional<FunctionType> mlir::twasm::intrinsicType(MLIRContext *context,
                                                       llvm::StringRef name) {
  Type i32 = IntegerType::get(context, 32);
  Type i64 = IntegerType::get(context, 64);
  Type f32 = Float32Type::get(context);
  Type f64 = Float64Type::get(context);
  auto fn = [&](llvm::ArrayRef<Type> inputs, llvm::ArrayRef<Type> results) {
    return FunctionType::get(context, inputs, results);
  };
  if (llvm::is_contained({"thread_id_x", "thread_id_y", "thread_id_z",
                          "block_id_x", "block_id_y", "block_id_z",
                          "block_dim_x", "block_dim_y", "block_dim_z",
                          "grid_dim_x", "grid_dim_y", "grid_dim_z", "lane_id",
                          "shared_size"},
                         name))
    return fn({}, {i32});
  if (name == "barrier")
    return fn({}, {});
  for (auto [suffix, type] : {std::pair<llvm::StringRef, Type>{"i32", i32},
                              {"f32", f32},
                              {"i64", i64},
                              {"f64", f64}}) {
    if (name == ("shared_load_" + suffix).str())
      return fn({i32}, {type});
    if (name == ("shared_store_" + suffix).str())
      return fn({i32, type}, {});
  }
  if (name == "shared_atomic_add_i32")
    return fn({i32, i32}, {i32});
  if (name == "shared_atomic_add_f32" || name == "atomic_add_f32")
    return fn({i32, f32}, {f32});
  for (llvm::StringRef kind : {"down", "up", "xor", "idx"}) {
    if (name == ("shfl_" + kind + "_i32").str())
      return fn({i32, i32}, {i32});
    if (name == ("shfl_" + kind + "_f32").str())
      return fn({f32, i32}, {f32});
  }
  if (name == "vote_any" || name == "vote_all" || name == "ballot")
    return fn({i32}, {i32});
  if (llvm::is_contained(
          {"expf", "exp2f", "logf", "log2f", "tanhf", "rsqrtf", "sinf", "cosf"},
          name))
    return fn({f32}, {f32});
  if (name == "fmaf")
    return fn({f32, f32, f32}, {f32});
  return std::nullopt;
}

LogicalResult mlir::twasm::checkIntrinsicCall(Operation *call,
                                              llvm::StringRef name,
                                              FunctionType type) {
  std::optional<FunctionType> expected =
      intrinsicType(call->getContext(), name);
  if (!expected)
    return call->emitOpError("calls \"twasm\".\"")
           << name << "\", which is not a TensorWasm intrinsic "
           << "(docs/kernel-abi.md lists them)";
  if (*expected != type)
    return call->emitOpError("calls \"twasm\".\"")
           << name << "\" as " << type << ", but its type is " << *expected;
  return success();
}

Value mlir::twasm::atomicAddAt(OpBuilder &builder, Location loc, Value pointer,
                               Value value) {
  return LLVM::AtomicRMWOp::create(
      builder, loc,
      isa<FloatType>(value.getType()) ? LLVM::AtomicBinOp::fadd
                                      : LLVM::AtomicBinOp::add,
      pointer, value, LLVM::AtomicOrdering::monotonic);
}

Value mlir::twasm::lowerFloatAtomicAdd(RewriterBase &rewriter, Operation *call,
                                       Value address, Value value,
                                       const LoweringTarget &target) {
  Value pointer = checkedAtomicPointer(rewriter, call, address,
                                       /*offset=*/0, /*bytes=*/4, target);
  return atomicAddAt(rewriter, call->getLoc(), pointer, value);
}

bool mlir::twasm::lowerSharedAccess(
    OpBuilder &builder, Location loc, llvm::StringRef name, FunctionType type,
    ValueRange operands,
    llvm::function_ref<Value(Value index, Type element)> elementPointer,
    llvm::SmallVectorImpl<Value> &results) {
  if (name.starts_with("shared_load_")) {
    Type element = type.getResult(0);
    results.push_back(LLVM::LoadOp::create(
        builder, loc, element, elementPointer(operands[0], element),
        element.getIntOrFloatBitWidth() / 8));
    return true;
  }
  if (name.starts_with("shared_store_")) {
    Type element = type.getInput(1);
    LLVM::StoreOp::create(builder, loc, operands[1],
                          elementPointer(operands[0], element),
                          element.getIntOrFloatBitWidth() / 8);
    return true;
  }
  if (name.starts_with("shared_atomic_add_")) {
    Type element = type.getInput(1);
    results.push_back(atomicAddAt(
        builder, loc, elementPointer(operands[0], element), operands[1]));
    return true;
  }
  return false;
}
