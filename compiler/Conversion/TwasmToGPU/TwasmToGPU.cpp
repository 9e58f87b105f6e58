//===- TwasmToGPU.cpp - twasm kernels to a gpu.module for NVIDIA GPUs -----===//
//
// convert-twasm-to-gpu: checks what the kernels can reach, lowers it with the
// shared twasm -> LLVM patterns and the NVVM trap and intrinsics, adds the
// interruption checks, and wraps each kernel in a gpu.func entry.
//
//===----------------------------------------------------------------------===//

#include "Intrinsics.h"

#include "twasm/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::twasm {
#define GEN_PASS_DEF_CONVERTTWASMTOGPUPASS
#include "twasm/Conversion/Passes.h.inc"
} // namespace mlir::twasm

using namespace mlir;
using namespace mlir::twasm;

static constexpr llvm::StringLiteral kTrapFunction = "__twasm_record_trap";
static constexpr llvm::StringLiteral kGPUModuleName = "twasm_kernels";
/// Threads an SM of the targeted architectures (sm_80, sm_90) can hold.
static constexpr int64_t kMaxThreadsPerSM = 2048;
/// Attribute on a kernel's gpu.func: the export it implements.
static constexpr llvm::StringLiteral kExportAttr = "twasm.export";

namespace {

class NVVMLoweringTarget final : public LoweringTarget {
public:
  using LoweringTarget::LoweringTarget;

  void emitTrapRecord(OpBuilder &builder, Location loc,
                      abi::TrapCode code) const override {
    Block &entry = enclosingLoweredFunction(builder).getBody().front();
    Type i32 = builder.getI32Type();
    llvm::SmallVector<Value> arguments = {
        entry.getArgument(abi::kTrapRecord),
        entry.getArgument(abi::kControlWord),
        constantInt(builder, loc, i32, static_cast<int64_t>(code)),
        constantInt(builder, loc, i32, currentFunctionIndex(builder)),
        constantInt(builder, loc, i32, byteOffsetOf(loc))};
    LLVM::CallOp::create(
        builder, loc, TypeRange(),
        FlatSymbolRefAttr::get(builder.getContext(), kTrapFunction), arguments);
  }

  /// `exit` as inline assembly: to LLVM a plain instruction that returns,
  /// so the block keeps its successor. Exited threads release barriers and
  /// count as arrived at warp synchronisation, and the context stays usable.
  void emitStopInPlace(OpBuilder &builder, Location loc) const override {
    LLVM::InlineAsmOp::create(
        builder, loc, /*res=*/Type(), ValueRange(), "exit;", "",
        /*has_side_effects=*/true, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
        ArrayAttr());
  }

  /// A move in inline assembly: LLVM cannot fold it into the float
  /// instruction that computed the value, so the narrow store's register is
  /// written by an integer instruction, whose low bits ptxas stores.
  Value integerBits(OpBuilder &builder, Location loc,
                    Value value) const override {
    unsigned width = value.getType().getIntOrFloatBitWidth();
    bool wide = width == 64;
    if (isa<FloatType>(value.getType()))
      value = LLVM::BitcastOp::create(builder, loc,
                                      builder.getIntegerType(width), value);
    return LLVM::InlineAsmOp::create(
               builder, loc, value.getType(), ValueRange{value},
               wide ? "mov.b64 $0, $1;" : "mov.b32 $0, $1;",
               wide ? "=l,l" : "=r,r",
               /*has_side_effects=*/false, /*is_align_stack=*/false,
               LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
               ArrayAttr())
        .getResult(0);
  }

  void emitStop(OpBuilder &builder, Location loc) const override {
    NVVM::Exit::create(builder, loc);
    LLVM::UnreachableOp::create(builder, loc);
  }

  FailureOr<llvm::SmallVector<Value>>
  lowerIntrinsic(RewriterBase &rewriter, Operation *call, llvm::StringRef name,
                 FunctionType type, ValueRange operands) const override {
    return lowerNVVMIntrinsic(rewriter, call, name, type, operands, *this);
  }
};

/// The first thread to trap writes the record; every trapping thread then
/// raises the control word, so the others stop at their next check. The
/// thread itself then stops with `exit` (emitStopInPlace), not with a device
/// trap instruction, which would take the whole context down.
///
/// The first is elected with a compare-and-swap on the claim word, the u32
/// after the control word in device memory (docs/kernel-abi.md section 7),
/// not on the record: the runtime keeps the record in host memory, and a
/// compare-and-swap over the bus from each of a grid's trapping threads
/// held up every other tenant's launches (1 ms each, on an H100).
void buildTrapFunction(OpBuilder &builder, Location loc, Type pointer) {
  MLIRContext *context = builder.getContext();
  Type i32 = builder.getI32Type();
  Type i64 = builder.getI64Type();
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                          {pointer, pointer, i32, i32, i32});
  auto func = LLVM::LLVMFuncOp::create(builder, loc, kTrapFunction, type,
                                       LLVM::Linkage::Internal);
  // One out-of-line copy, however many places can trap.
  func.setNoInline(true);
  OpBuilder::InsertionGuard guard(builder);
  Block *entry = func.addEntryBlock(builder);
  Value record = entry->getArgument(0), control = entry->getArgument(1);
  Value code = entry->getArgument(2);
  Block *write = builder.createBlock(&func.getBody());
  Block *stop = builder.createBlock(&func.getBody());

  builder.setInsertionPointToEnd(entry);
  Value claim = LLVM::GEPOp::create(
      builder, loc, pointer, builder.getI8Type(), control,
      ValueRange{constantInt(builder, loc, i64, abi::kControlClaimOffset)});
  auto exchange = LLVM::AtomicCmpXchgOp::create(
      builder, loc, claim, constantInt(builder, loc, i32, 0),
      constantInt(builder, loc, i32, 1), LLVM::AtomicOrdering::monotonic,
      LLVM::AtomicOrdering::monotonic);
  Value won = LLVM::ExtractValueOp::create(builder, loc, exchange, 1);
  LLVM::CondBrOp::create(builder, loc, won, write, stop);

  builder.setInsertionPointToEnd(write);
  auto storeField = [&](Value value, int64_t offset) {
    Value field =
        LLVM::GEPOp::create(builder, loc, pointer, builder.getI8Type(), record,
                            ValueRange{constantInt(builder, loc, i64, offset)});
    LLVM::StoreOp::create(builder, loc, value, field, 4);
  };
  storeField(code, offsetof(abi::TrapRecord, code));
  storeField(entry->getArgument(3), offsetof(abi::TrapRecord, function));
  storeField(entry->getArgument(4), offsetof(abi::TrapRecord, offset));
  int64_t block = offsetof(abi::TrapRecord, block);
  int64_t thread = offsetof(abi::TrapRecord, thread);
  storeField(NVVM::BlockIdXOp::create(builder, loc, i32), block);
  storeField(NVVM::BlockIdYOp::create(builder, loc, i32), block + 4);
  storeField(NVVM::BlockIdZOp::create(builder, loc, i32), block + 8);
  storeField(NVVM::ThreadIdXOp::create(builder, loc, i32), thread);
  storeField(NVVM::ThreadIdYOp::create(builder, loc, i32), thread + 4);
  storeField(NVVM::ThreadIdZOp::create(builder, loc, i32), thread + 8);
  LLVM::BrOp::create(builder, loc, ValueRange(), stop);

  builder.setInsertionPointToEnd(stop);
  LLVM::StoreOp::create(builder, loc,
                        constantInt(builder, loc, i32, abi::kControlTrapped),
                        control, 4, /*isVolatile=*/true);
  LLVM::ReturnOp::create(builder, loc, ValueRange());
}

/// What the kernels can reach, after checking it against what the GPU
/// supports (docs/kernel-abi.md section 8), and which kernels reach each
/// function.
class KernelReachability {
public:
  KernelReachability(twasm::ModuleOp module, const InstanceLayout &layout)
      : module(module), layout(layout) {}

  LogicalResult run() {
    auto kernels = module.getBody()->getOps<KernelOp>();
    if (kernels.empty())
      return module.emitError(
          "the module declares no kernels: mark them with TWASM_KERNEL "
          "(twasm/kernel.h), a twasm.kernels custom section or --kernel");
    for (KernelOp kernel : kernels) {
      visitedFromKernel.clear();
      if (failed(visit(kernel.getFunction(), kernel)))
        return failure();
    }
    return success();
  }

  /// Reachable defined functions, each kernel's callers before its callees.
  llvm::ArrayRef<FuncOp> functions() const { return order.getArrayRef(); }

  /// The launch shape every kernel reaching `func` declares, if they all
  /// declare the same one.
  std::optional<std::pair<DenseI32ArrayAttr, IntegerAttr>>
  commonShape(FuncOp func) const {
    auto it = reachedBy.find(func);
    if (it == reachedBy.end())
      return std::nullopt;
    DenseI32ArrayAttr block;
    IntegerAttr shared;
    for (KernelOp kernel : it->second) {
      if (!kernel.getBlockAttr())
        return std::nullopt;
      if (block && (kernel.getBlockAttr() != block ||
                    kernel.getSharedBytesAttr() != shared))
        return std::nullopt;
      block = kernel.getBlockAttr();
      shared = kernel.getSharedBytesAttr();
    }
    return std::make_pair(block, shared);
  }

private:
  LogicalResult visit(FuncOp func, KernelOp kernel) {
    if (visitedFromKernel.contains(func))
      return success();
    if (!onPath.insert(func).second)
      return func.emitError("kernels cannot recurse: @")
             << func.getSymName()
             << " can call itself, and the GPU's call stack is fixed-size "
                "(docs/kernel-abi.md section 8)";
    order.insert(func);
    reachedBy[func].push_back(kernel);
    FailureOr<llvm::SmallVector<FuncOp>> callees = calleesOf(func);
    if (failed(callees))
      return failure();
    for (FuncOp callee : *callees)
      if (failed(visit(callee, kernel)))
        return failure();
    onPath.erase(func);
    visitedFromKernel.insert(func);
    return success();
  }

  /// The functions `func` may call, after checking its body once.
  FailureOr<llvm::SmallVector<FuncOp>> calleesOf(FuncOp func) {
    auto cached = callees.find(func);
    if (cached != callees.end())
      return cached->second;
    llvm::SmallVector<FuncOp> found;
    WalkResult walk = func.walk([&](Operation *op) -> WalkResult {
      if (failed(checkOp(func, op, found)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    callees[func] = found;
    return found;
  }

  LogicalResult checkOp(FuncOp func, Operation *op,
                        llvm::SmallVectorImpl<FuncOp> &found) {
    if (auto call = dyn_cast<CallOp>(op)) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
          op, call.getCalleeAttr());
      if (!callee.isImported()) {
        found.push_back(callee);
        return success();
      }
      ImportAttr import = *callee.getImport();
      if (import.getModule() != "twasm")
        return op->emitError("@")
               << func.getSymName() << " calls the import \""
               << import.getModule() << "\".\"" << import.getName()
               << "\"; a kernel can call only the \"twasm\" intrinsics";
      std::optional<FunctionType> type =
          intrinsicType(op->getContext(), import.getName());
      if (!type)
        return op->emitError("\"twasm\".\"")
               << import.getName()
               << "\" is not a TensorWasm intrinsic (docs/kernel-abi.md "
                  "section 3 lists them)";
      if (*type != callee.getFunctionType())
        return op->emitError("\"twasm\".\"")
               << import.getName() << "\" is imported as "
               << callee.getFunctionType() << ", but its type is " << *type;
      return success();
    }
    if (auto call = dyn_cast<CallIndirectOp>(op)) {
      for (const InstanceLayout::Function &function : layout.functions()) {
        if (!function.referenced || function.type != call.getCalleeType())
          continue;
        if (function.import)
          return op->emitError("@")
                 << func.getSymName()
                 << " calls indirectly through a table that may hold the "
                    "imported function @"
                 << function.symbol << ", which kernels do not support";
        found.push_back(SymbolTable::lookupNearestSymbolFrom<FuncOp>(
            module, StringAttr::get(op->getContext(), function.symbol)));
      }
      return success();
    }
    if (isa<MemoryInitOp, DataDropOp, TableGetOp, TableSetOp, TableSizeOp,
            TableGrowOp, TableFillOp, TableCopyOp, TableInitOp, ElemDropOp,
            MemoryAtomicNotifyOp, MemoryAtomicWait32Op, MemoryAtomicWait64Op>(
            op))
      return op->emitError("@")
             << func.getSymName() << " uses " << op->getName()
             << ", which kernels do not support yet (docs/kernel-abi.md "
                "section 8)";
    if (auto set = dyn_cast<GlobalSetOp>(op))
      if (set.getGlobal() == "__stack_pointer")
        return op->emitError("@")
               << func.getSymName()
               << " moves the C stack pointer (__stack_pointer), which all "
                  "threads share; kernels cannot have stack frames yet: keep "
                  "arrays out of kernel locals (docs/kernel-abi.md section 8)";
    return success();
  }

  twasm::ModuleOp module;
  const InstanceLayout &layout;
  llvm::SetVector<FuncOp> order;
  llvm::DenseMap<Operation *, llvm::SmallVector<KernelOp, 1>> reachedBy;
  llvm::DenseMap<Operation *, llvm::SmallVector<FuncOp>> callees;
  llvm::DenseSet<Operation *> onPath;
  llvm::DenseSet<Operation *> visitedFromKernel;
};

struct ConvertTwasmToGPUPass
    : public twasm::impl::ConvertTwasmToGPUPassBase<ConvertTwasmToGPUPass> {
  using ConvertTwasmToGPUPassBase::ConvertTwasmToGPUPassBase;

  void runOnOperation() override {
    mlir::ModuleOp top = getOperation();
    MLIRContext *context = &getContext();
    twasm::ModuleOp wasm = singleWasmModule(top);
    if (!wasm)
      return signalPassFailure();
    Location loc = wasm.getLoc();

    InstanceLayout layout(wasm);
    constexpr uint64_t maxGlobalsBytes = uint64_t(1) << 26;
    if (layout.globalsBytes() > maxGlobalsBytes) {
      wasm.emitError("the module's globals and tables need ")
          << layout.globalsBytes() << " bytes, more than the "
          << maxGlobalsBytes << " a kernel's globals block may hold";
      return signalPassFailure();
    }
    KernelReachability reachability(wasm, layout);
    if (failed(reachability.run()))
      return signalPassFailure();

    struct Kernel {
      std::string exportName;
      llvm::StringRef symbol;
      FunctionType type;
      DenseI32ArrayAttr block;
    };
    llvm::SmallVector<Kernel> kernels;
    for (KernelOp kernel : wasm.getBody()->getOps<KernelOp>()) {
      FuncOp func = kernel.getFunction();
      kernels.push_back({kernel.getName().str(), func.getSymName(),
                         func.getFunctionType(), kernel.getBlockAttr()});
    }

    LoweringOptions options;
    options.boundsChecks = boundsChecks;
    options.roundingAsIntrinsicCalls = true;
    NVVMLoweringTarget target(layout, options);
    llvm::SmallVector<Operation *> toLower;
    for (FuncOp func : reachability.functions()) {
      if (options.canonicalizeNaNs)
        markNaNCanonicalization(func);
      markBoundedLoops(func, kBoundedLoopIterations);
      issueLoadsEarly(func);
      if (auto shape = reachability.commonShape(func)) {
        func->setAttr(kBlockShapeAttr, shape->first);
        func->setAttr(kSharedBytesAttr, shape->second);
      }
      toLower.push_back(func);
    }

    OpBuilder builder(context);
    builder.setInsertionPointToEnd(top.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(builder, loc, kGPUModuleName);
    top->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                 UnitAttr::get(context));
    builder.setInsertionPointToStart(gpuModule.getBody());
    Type pointer = target.pointerType(context);
    buildTrapFunction(builder, loc, pointer);
    // The shared scratch: an extern, unsized shared array is what PTX calls
    // dynamic shared memory (its size is the launch's).
    LLVM::GlobalOp::create(
        builder, loc, LLVM::LLVMArrayType::get(builder.getI8Type(), 0),
        /*isConstant=*/false, LLVM::Linkage::External, kSharedScratchSymbol,
        Attribute(), /*alignment=*/16, kSharedAddressSpace);

    TypeConverter converter;
    addTwasmTypeConversions(converter);
    ConversionTarget legality(*context);
    legality.addLegalDialect<NVVM::NVVMDialect>();
    if (failed(convertFunctionsToLLVM(toLower, target, legality)))
      return signalPassFailure();

    for (auto func : llvm::make_early_inc_range(
             wasm.getBody()->getOps<LLVM::LLVMFuncOp>())) {
      func->moveBefore(gpuModule.getBody(), gpuModule.getBody()->end());
      ++numFunctions;
      if (epochChecks)
        numEpochChecks += insertEpochChecks(func, target);
    }

    builder.setInsertionPointToEnd(gpuModule.getBody());
    for (auto [index, kernel] : llvm::enumerate(kernels)) {
      llvm::SmallVector<Type> inputs = target.hiddenTypes(context);
      for (Type input : kernel.type.getInputs())
        inputs.push_back(converter.convertType(input));
      auto entry = gpu::GPUFuncOp::create(
          builder, loc, kernelEntryName(kernel.exportName, index),
          FunctionType::get(context, inputs, {}));
      entry->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                     UnitAttr::get(context));
      entry->setAttr(kExportAttr, builder.getStringAttr(kernel.exportName));
      // A declared block becomes PTX's .maxntid (through gpu-to-nvvm), so
      // ptxas budgets registers for that many threads.
      if (kernel.block) {
        entry.setKnownBlockSizeAttr(kernel.block);
        // And .minnctapersm for as many blocks as an SM of sm_80/sm_90 holds
        // (2048 threads): ptxas then keeps registers under the budget of
        // full occupancy, and the kernel does not drop to fewer resident
        // blocks for a register or two (SGEMM: 34 registers, 6 blocks of
        // 256 per SM instead of 8).
        int64_t threads = 1;
        for (int32_t extent : kernel.block.asArrayRef())
          threads *= extent;
        if (threads > 0 && threads <= kMaxThreadsPerSM)
          entry->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                         builder.getI32IntegerAttr(
                             static_cast<int32_t>(kMaxThreadsPerSM / threads)));
      }
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(&entry.getBody().front());
      LLVM::CallOp::create(
          builder, loc, TypeRange(),
          FlatSymbolRefAttr::get(context, loweredFunctionName(kernel.symbol)),
          entry.getArguments());
      gpu::ReturnOp::create(builder, loc);
      ++numKernels;
    }
    wasm.erase();
  }
};

} // namespace
