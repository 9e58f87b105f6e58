//===- TwasmToHost.cpp - a whole twasm module to LLVM for the CPU ---------===//
//
// convert-twasm-to-host: lowers every function of the module with the shared
// twasm -> LLVM patterns and the host's answers to what differs from the GPU
// (docs/host-abi.md): a trap calls the thread's trap handler, which leaves
// the Wasm code and never returns; the memory may grow, so a function that
// can make it grow (it calls, or grows it itself) rereads the size after
// each call; imported functions are called through the instance; a
// function's entry checks the stack and the control word. It adds the entry
// points the loader calls: `twasm_instantiate` and one `twasm_call_<index>`
// per exported function and for the start function.
//
//===----------------------------------------------------------------------===//

#include "HostIntrinsics.h"

#include "twasm/Conversion/Passes.h"
#include "twasm/HostAbi.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::twasm {
#define GEN_PASS_DEF_CONVERTTWASMTOHOSTPASS
#include "twasm/Conversion/Passes.h.inc"
} // namespace mlir::twasm

using namespace mlir;
using namespace mlir::twasm;
namespace host = ::tensorwasm::abi::host;

static constexpr llvm::StringLiteral kTrapFunction = "__twasm_trap";
/// The twasm function that initialises globals and applies segments.
static constexpr llvm::StringLiteral kInitializerSymbol = "__twasm_instantiate";
/// Marks the alloca that holds a growing-memory function's current size.
static constexpr llvm::StringLiteral kSizeSlotAttr = "twasm.memory_size_slot";

namespace {

Type pointerType(MLIRContext *context) {
  return LLVM::LLVMPointerType::get(context);
}

Value loadPointer(OpBuilder &builder, Location loc, Value pointer,
                  int64_t offset) {
  return LLVM::LoadOp::create(builder, loc, pointerType(builder.getContext()),
                              offsetPointer(builder, loc, pointer, offset), 8);
}

/// The instance header sits just before the globals block.
Value instanceHeader(OpBuilder &builder, Location loc, Value globals) {
  return offsetPointer(builder, loc, globals,
                       -static_cast<int64_t>(host::kInstanceHeaderBytes));
}

/// The memory's current size, read through the instance header.
Value currentMemorySize(OpBuilder &builder, Location loc, Value globals) {
  Value memory =
      loadPointer(builder, loc, instanceHeader(builder, loc, globals),
                  offsetof(host::InstanceHeader, memory));
  return LLVM::LoadOp::create(
      builder, loc, builder.getI64Type(),
      offsetPointer(builder, loc, memory, offsetof(host::MemoryState, size)),
      8);
}

class HostLoweringTarget final : public LoweringTarget {
public:
  HostLoweringTarget(const InstanceLayout &layout, LoweringOptions options,
                     MemoryOp memory)
      : LoweringTarget(layout, options) {
    // An imported memory is at least as large as the import asks and grows
    // no further than its maximum, if the import states one; a 32-bit
    // memory has at most 65536 pages.
    if (memory)
      sizeRange = {
          uint64_t(memory.getMinPages()) * abi::kPageBytes,
          uint64_t(memory.getMaxPages().value_or(65536)) * abi::kPageBytes + 1};
  }

  std::optional<std::pair<uint64_t, uint64_t>>
  memorySizeRange() const override {
    return sizeRange;
  }

  void emitTrapRecord(OpBuilder &builder, Location loc,
                      abi::TrapCode code) const override {
    LLVM::LLVMFuncOp func = enclosingLoweredFunction(builder);
    Type i32 = builder.getI32Type();
    llvm::SmallVector<Value> arguments = {
        func.getBody().front().getArgument(abi::kTrapRecord),
        constantInt(builder, loc, i32, static_cast<int64_t>(code)),
        constantInt(builder, loc, i32, currentFunctionIndex(builder)),
        constantInt(builder, loc, i32, byteOffsetOf(loc))};
    LLVM::CallOp::create(
        builder, loc, TypeRange(),
        FlatSymbolRefAttr::get(builder.getContext(), kTrapFunction), arguments);
  }

  /// The trap handler does not return, so there is nothing to stop.
  void emitStopInPlace(OpBuilder &builder, Location loc) const override {}

  void emitStop(OpBuilder &builder, Location loc) const override {
    LLVM::UnreachableOp::create(builder, loc);
  }

  bool memorySizeIsFixed(Operation *op) const override {
    auto func = op->getParentOfType<LLVM::LLVMFuncOp>();
    return !func || !func->hasAttr(kGrowingMemoryAttr);
  }

  /// A function during which the memory may grow keeps its size in a stack
  /// slot (which LLVM turns back into SSA values), set at the entry and
  /// after every call (refreshMemorySizes).
  Value memorySize(OpBuilder &builder, Location loc,
                   Operation *op) const override {
    if (memorySizeIsFixed(op))
      return hiddenValue(op, abi::kMemorySize);
    auto func = op->getParentOfType<LLVM::LLVMFuncOp>();
    Value &slot = sizeSlots[func];
    if (!slot) {
      OpBuilder::InsertionGuard guard(builder);
      Block &entry = func.getBody().front();
      builder.setInsertionPointToStart(&entry);
      Type i64 = builder.getI64Type();
      auto alloca = LLVM::AllocaOp::create(
          builder, loc, pointerType(builder.getContext()), i64,
          constantInt(builder, loc, i64, 1));
      alloca->setAttr(kSizeSlotAttr, builder.getUnitAttr());
      LLVM::StoreOp::create(builder, loc, entry.getArgument(abi::kMemorySize),
                            alloca);
      slot = alloca;
    }
    return LLVM::LoadOp::create(builder, loc, builder.getI64Type(), slot);
  }

  Value emitMemoryGrow(OpBuilder &builder, Location loc, Operation *op,
                       Value deltaPages) const override {
    if (!sizeRange)
      return LoweringTarget::emitMemoryGrow(builder, loc, op, deltaPages);
    Value header = instanceHeader(builder, loc, hiddenValue(op, abi::kGlobals));
    Value grow = loadPointer(builder, loc, header,
                             offsetof(host::InstanceHeader, memoryGrow));
    Type i32 = builder.getI32Type();
    auto type = LLVM::LLVMFunctionType::get(
        i32, {pointerType(builder.getContext()), i32});
    auto call = LLVM::CallOp::create(builder, loc, type,
                                     ValueRange{grow, header, deltaPages});
    return call.getResult();
  }

  bool callsHostImports() const override { return true; }

  FailureOr<llvm::SmallVector<Value>>
  lowerIntrinsic(RewriterBase &rewriter, Operation *call, llvm::StringRef name,
                 FunctionType type, ValueRange operands) const override {
    return lowerHostIntrinsic(rewriter, call, name, type, operands, *this);
  }

private:
  /// Set exactly when the module has a memory.
  std::optional<std::pair<uint64_t, uint64_t>> sizeRange;
  mutable llvm::DenseMap<Operation *, Value> sizeSlots;
};

/// The out-of-line trap: loads the thread's handler and calls it. Marked
/// noreturn, so LLVM drops the path that rejoins after a failed check.
void buildTrapFunction(OpBuilder &builder, Location loc) {
  MLIRContext *context = builder.getContext();
  Type i32 = builder.getI32Type();
  Type pointer = pointerType(context);
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                          {pointer, i32, i32, i32});
  auto func = LLVM::LLVMFuncOp::create(builder, loc, kTrapFunction, type,
                                       LLVM::Linkage::Internal);
  func.setNoInline(true);
  func.setPassthroughAttr(builder.getArrayAttr(
      {builder.getStringAttr("noreturn"), builder.getStringAttr("cold")}));
  OpBuilder::InsertionGuard guard(builder);
  Block *entry = func.addEntryBlock(builder);
  builder.setInsertionPointToStart(entry);
  Value thread = entry->getArgument(0);
  Value handler =
      loadPointer(builder, loc, thread, offsetof(host::ThreadContext, trap));
  llvm::SmallVector<Value> arguments = {handler};
  arguments.append(entry->getArguments().begin(), entry->getArguments().end());
  LLVM::CallOp::create(builder, loc, type, arguments);
  LLVM::UnreachableOp::create(builder, loc);
}

/// A function imported from another module: its arguments go into an array
/// of 8-byte values, the instance's ImportedFunction for that index is
/// called, and the results come back in the array.
void buildImportStub(OpBuilder &builder, Location loc, FuncOp import,
                     uint32_t index, const TypeConverter &converter,
                     const LoweringTarget &target) {
  MLIRContext *context = builder.getContext();
  FunctionType type = import.getFunctionType();
  llvm::SmallVector<Type> inputs = target.hiddenTypes(context);
  llvm::SmallVector<Type> results;
  for (Type input : type.getInputs())
    inputs.push_back(converter.convertType(input));
  for (Type result : type.getResults())
    results.push_back(converter.convertType(result));
  auto func = LLVM::LLVMFuncOp::create(
      builder, loc, loweredFunctionName(import.getSymName()),
      LLVM::LLVMFunctionType::get(loweredReturnType(context, results), inputs),
      LLVM::Linkage::Internal);
  func->setAttr(kFunctionIndexAttr, builder.getI32IntegerAttr(index));
  OpBuilder::InsertionGuard guard(builder);
  Block *entry = func.addEntryBlock(builder);
  builder.setInsertionPointToStart(entry);
  Type i64 = builder.getI64Type();
  Type pointer = pointerType(context);
  size_t slots =
      std::max<size_t>({type.getNumInputs(), type.getNumResults(), size_t(1)});
  Value values = LLVM::AllocaOp::create(builder, loc, pointer,
                                        LLVM::LLVMArrayType::get(i64, slots),
                                        constantInt(builder, loc, i64, 1));
  auto slot = [&](size_t i) {
    return offsetPointer(builder, loc, values, static_cast<int64_t>(i * 8));
  };
  for (size_t i = 0; i < type.getNumInputs(); ++i)
    LLVM::StoreOp::create(builder, loc,
                          entry->getArgument(abi::kHiddenParameterCount + i),
                          slot(i), 8);
  Value header =
      instanceHeader(builder, loc, entry->getArgument(abi::kGlobals));
  Value imports = loadPointer(builder, loc, header,
                              offsetof(host::InstanceHeader, imports));
  Value function = offsetPointer(
      builder, loc, imports, int64_t(index) * sizeof(host::ImportedFunction));
  Value call = loadPointer(builder, loc, function,
                           offsetof(host::ImportedFunction, call));
  Value environment = loadPointer(
      builder, loc, function, offsetof(host::ImportedFunction, environment));
  auto callType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                              {pointer, pointer, pointer});
  LLVM::CallOp::create(builder, loc, callType,
                       ValueRange{call, environment,
                                  entry->getArgument(abi::kTrapRecord),
                                  values});
  llvm::SmallVector<Value> returned;
  for (auto [i, result] : llvm::enumerate(results))
    returned.push_back(LLVM::LoadOp::create(builder, loc, result, slot(i), 8));
  emitReturn(builder, loc, returned);
}

/// The hidden parameters for a call from outside: memory base and size
/// through the header, the control word through the thread.
llvm::SmallVector<Value> hiddenArguments(OpBuilder &builder, Location loc,
                                         Value thread, Value globals,
                                         bool hasMemory) {
  llvm::SmallVector<Value> arguments(abi::kHiddenParameterCount);
  if (hasMemory) {
    Value memory =
        loadPointer(builder, loc, instanceHeader(builder, loc, globals),
                    offsetof(host::InstanceHeader, memory));
    arguments[abi::kMemoryBase] =
        loadPointer(builder, loc, memory, offsetof(host::MemoryState, base));
    arguments[abi::kMemorySize] = currentMemorySize(builder, loc, globals);
  } else {
    arguments[abi::kMemoryBase] =
        LLVM::ZeroOp::create(builder, loc, pointerType(builder.getContext()));
    arguments[abi::kMemorySize] =
        constantInt(builder, loc, builder.getI64Type(), 0);
  }
  arguments[abi::kTrapRecord] = thread;
  arguments[abi::kControlWord] = loadPointer(
      builder, loc, thread, offsetof(host::ThreadContext, controlWord));
  arguments[abi::kGlobals] = globals;
  return arguments;
}

/// `twasm_call_<index>(thread, globals, values)`.
void buildCallEntry(OpBuilder &builder, Location loc, LLVM::LLVMFuncOp callee,
                    uint32_t index, bool hasMemory) {
  MLIRContext *context = builder.getContext();
  Type pointer = pointerType(context);
  auto func = LLVM::LLVMFuncOp::create(
      builder, loc, "twasm_call_" + std::to_string(index),
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                  {pointer, pointer, pointer}));
  OpBuilder::InsertionGuard guard(builder);
  Block *entry = func.addEntryBlock(builder);
  builder.setInsertionPointToStart(entry);
  Value values = entry->getArgument(2);
  auto slot = [&](size_t i) {
    return offsetPointer(builder, loc, values, static_cast<int64_t>(i * 8));
  };
  llvm::SmallVector<Value> arguments = hiddenArguments(
      builder, loc, entry->getArgument(0), entry->getArgument(1), hasMemory);
  LLVM::LLVMFunctionType type = callee.getFunctionType();
  for (unsigned i = abi::kHiddenParameterCount; i < type.getNumParams(); ++i)
    arguments.push_back(
        LLVM::LoadOp::create(builder, loc, type.getParamType(i),
                             slot(i - abi::kHiddenParameterCount), 8));
  auto call = LLVM::CallOp::create(builder, loc, callee, arguments);
  Type returned = type.getReturnType();
  if (auto structType = dyn_cast<LLVM::LLVMStructType>(returned)) {
    for (size_t i = 0; i < structType.getBody().size(); ++i)
      LLVM::StoreOp::create(
          builder, loc,
          LLVM::ExtractValueOp::create(builder, loc, call.getResult(), i),
          slot(i), 8);
  } else if (!isa<LLVM::LLVMVoidType>(returned)) {
    LLVM::StoreOp::create(builder, loc, call.getResult(), slot(0), 8);
  }
  LLVM::ReturnOp::create(builder, loc, ValueRange());
}

/// `twasm_instantiate(thread, globals)`: gives every segment its length,
/// then runs the module's initializer.
void buildInstantiateEntry(OpBuilder &builder, Location loc,
                           LLVM::LLVMFuncOp initializer,
                           const InstanceLayout &layout, bool hasMemory) {
  MLIRContext *context = builder.getContext();
  Type pointer = pointerType(context);
  auto func = LLVM::LLVMFuncOp::create(
      builder, loc, "twasm_instantiate",
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                  {pointer, pointer}));
  OpBuilder::InsertionGuard guard(builder);
  Block *entry = func.addEntryBlock(builder);
  builder.setInsertionPointToStart(entry);
  Value globals = entry->getArgument(1);
  for (const InstanceLayout::SegmentSlot &segment : layout.segmentSlots())
    LLVM::StoreOp::create(
        builder, loc,
        constantInt(builder, loc, builder.getI32Type(), segment.length),
        offsetPointer(builder, loc, globals,
                      static_cast<int64_t>(segment.offset)),
        4);
  LLVM::CallOp::create(
      builder, loc, initializer,
      hiddenArguments(builder, loc, entry->getArgument(0), globals, hasMemory));
  LLVM::ReturnOp::create(builder, loc, ValueRange());
}

/// Clones the constant expression `region` at the builder and returns the
/// value it yields.
Value cloneConstantExpression(OpBuilder &builder, Region &region) {
  IRMapping mapping;
  Block &block = region.front();
  for (Operation &op : block.without_terminator())
    builder.clone(op, mapping);
  return mapping.lookupOrDefault(block.getTerminator()->getOperand(0));
}

/// The twasm function that instantiation runs: defined globals in order,
/// then the active element segments, then the active data segments, each
/// dropped after use (declarative element segments are dropped at once).
void buildInitializer(OpBuilder &builder, twasm::ModuleOp module,
                      const InstanceLayout &layout) {
  Location loc = module.getLoc();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = FuncOp::create(builder, loc, kInitializerSymbol,
                             builder.getFunctionType({}, {}));
  Block *entry = new Block();
  func.getBody().push_back(entry);
  builder.setInsertionPointToEnd(entry);
  Type i32 = builder.getI32Type();
  auto i32Constant = [&](uint32_t value) -> Value {
    return I32ConstOp::create(builder, loc, i32, value);
  };
  for (GlobalOp global : module.getBody()->getOps<GlobalOp>()) {
    if (global.getImport() || !layout.globalSlot(global.getSymName()))
      continue;
    GlobalSetOp::create(builder, loc, global.getSymName(),
                        cloneConstantExpression(builder, global.getInit()));
  }
  for (ElemOp elem : module.getBody()->getOps<ElemOp>()) {
    if (elem.getMode() == SegmentMode::Active) {
      uint32_t length =
          elem.getItems().front().getTerminator()->getNumOperands();
      TableInitOp::create(builder, loc, *elem.getTable(), elem.getSymName(),
                          cloneConstantExpression(builder, elem.getOffset()),
                          i32Constant(0), i32Constant(length));
    }
    if (elem.getMode() != SegmentMode::Passive)
      ElemDropOp::create(builder, loc, elem.getSymName());
  }
  for (DataOp data : module.getBody()->getOps<DataOp>()) {
    if (!data.isActive())
      continue;
    MemoryInitOp::create(
        builder, loc, data.getSymName(),
        cloneConstantExpression(builder, data.getOffset()), i32Constant(0),
        i32Constant(static_cast<uint32_t>(data.getBytes().size())));
    DataDropOp::create(builder, loc, data.getSymName());
  }
  ReturnOp::create(builder, loc, ValueRange());
}

/// The contents of each segment as a constant: bytes for data, i32
/// references (0 for null, function index + 1) for elements.
LogicalResult buildSegmentContents(OpBuilder &builder, twasm::ModuleOp module,
                                   const InstanceLayout &layout) {
  Location loc = module.getLoc();
  for (DataOp data : module.getBody()->getOps<DataOp>()) {
    std::string bytes = data.getBytes().str();
    // Never empty, so the constant has an address.
    if (bytes.empty())
      bytes.push_back('\0');
    LLVM::GlobalOp::create(
        builder, loc,
        LLVM::LLVMArrayType::get(builder.getI8Type(), bytes.size()),
        /*isConstant=*/true, LLVM::Linkage::Internal,
        segmentContentsName(data.getSymName()), builder.getStringAttr(bytes),
        /*alignment=*/1);
  }
  for (ElemOp elem : module.getBody()->getOps<ElemOp>()) {
    llvm::SmallVector<int32_t> references;
    auto yield = cast<YieldOp>(elem.getItems().front().getTerminator());
    for (Value item : yield.getOperands()) {
      Operation *def = item.getDefiningOp();
      if (auto ref = dyn_cast_or_null<RefFuncOp>(def))
        references.push_back(
            static_cast<int32_t>(layout.functionIndex(ref.getFunc()) + 1));
      else if (isa_and_nonnull<RefNullOp>(def))
        references.push_back(0);
      else
        return elem.emitError("an element segment item other than ref.func "
                              "or ref.null is not supported on the CPU yet");
    }
    if (references.empty())
      references.push_back(0);
    auto type = RankedTensorType::get({static_cast<int64_t>(references.size())},
                                      builder.getI32Type());
    LLVM::GlobalOp::create(
        builder, loc,
        LLVM::LLVMArrayType::get(builder.getI32Type(), references.size()),
        /*isConstant=*/true, LLVM::Linkage::Internal,
        segmentContentsName(elem.getSymName()),
        DenseElementsAttr::get(type, llvm::ArrayRef(references)),
        /*alignment=*/4);
  }
  return success();
}

/// Function entries: the stack must have room and (unless epoch checks are
/// off, only to measure their cost) the control word must be clear.
/// Recursion is allowed on the host, so these checks bound it. A function
/// that calls no other function is spared the control word: it cannot be
/// part of a recursion, each of its loops checks the word on its own, and
/// otherwise it runs a bounded time, so whoever called it (a function that
/// checks, or the runtime, which checks between a launch's blocks) sees the
/// word soon after. A kernel's thread function is often such a leaf, run
/// once per thread.
void insertEntryChecks(LLVM::LLVMFuncOp func, const LoweringTarget &target,
                       bool checkControlWord) {
  IRRewriter rewriter(func.getContext());
  Location loc = func.getLoc();
  Block &entry = func.getBody().front();
  // After the allocas, which LLVM wants at the top of the entry block.
  Block::iterator point = entry.begin();
  while (point != entry.end() && isa<LLVM::AllocaOp, LLVM::ConstantOp>(*point))
    ++point;
  rewriter.setInsertionPoint(&entry, point);
  Type i64 = rewriter.getI64Type();
  Type i32 = rewriter.getI32Type();
  Value thread = entry.getArgument(abi::kTrapRecord);
  Value stack = LLVM::PtrToIntOp::create(
      rewriter, loc, i64,
      LLVM::StackSaveOp::create(rewriter, loc, pointerType(func.getContext())));
  Value limit = LLVM::LoadOp::create(
      rewriter, loc, i64,
      offsetPointer(rewriter, loc, thread,
                    offsetof(host::ThreadContext, stackLimit)),
      8);
  trapUnless(rewriter, loc,
             LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::uge,
                                  stack, limit),
             abi::TrapCode::CallStackExhausted, target);
  if (!checkControlWord)
    return;
  Value word = LLVM::LoadOp::create(rewriter, loc, i32,
                                    entry.getArgument(abi::kControlWord), 4,
                                    /*isVolatile=*/true);
  trapUnless(
      rewriter, loc,
      LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::eq, word,
                           constantInt(rewriter, loc, i32, abi::kControlRun)),
      abi::TrapCode::Interrupted, target);
}

/// Whether `func` calls no function but "twasm" intrinsics (which are
/// lowered in place or call the runtime, never Wasm code).
bool callsNoFunction(FuncOp func) {
  return !func.walk([&](Operation *op) {
                if (isa<CallIndirectOp>(op))
                  return WalkResult::interrupt();
                auto call = dyn_cast<CallOp>(op);
                if (!call)
                  return WalkResult::advance();
                auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
                    call, call.getCalleeAttr());
                bool intrinsic = callee && callee.isImported() &&
                                 callee.getImport()->getModule() == "twasm";
                return intrinsic ? WalkResult::advance()
                                 : WalkResult::interrupt();
              })
              .wasInterrupted();
}

/// In a function with a memory-size slot, a call may have grown the memory:
/// callees get the current size, and the slot is reread after the call.
void refreshMemorySizes(LLVM::LLVMFuncOp func) {
  LLVM::AllocaOp slot;
  for (Operation &op : func.getBody().front())
    if (op.hasAttr(kSizeSlotAttr))
      slot = cast<LLVM::AllocaOp>(op);
  if (!slot)
    return;
  Block &entry = func.getBody().front();
  Value globals = entry.getArgument(abi::kGlobals);
  Value sizeArgument = entry.getArgument(abi::kMemorySize);
  OpBuilder builder(func.getContext());
  Type i64 = builder.getI64Type();
  llvm::SmallVector<LLVM::CallOp> calls;
  func.walk([&](LLVM::CallOp call) {
    if (call.getCallee() != kTrapFunction)
      calls.push_back(call);
  });
  for (LLVM::CallOp call : calls) {
    Location loc = call.getLoc();
    builder.setInsertionPoint(call);
    for (OpOperand &operand : call->getOpOperands())
      if (operand.get() == sizeArgument)
        operand.set(LLVM::LoadOp::create(builder, loc, i64, slot));
    builder.setInsertionPointAfter(call);
    LLVM::StoreOp::create(builder, loc,
                          currentMemorySize(builder, loc, globals), slot);
  }
}

/// Every call keeps its frame: LLVM would otherwise turn (accumulating)
/// tail recursion into a loop, and a Wasm recursion that exhausts the stack
/// would become an endless loop that no back-edge check watches.
void keepCallFrames(LLVM::LLVMFuncOp func) {
  func.walk([](LLVM::CallOp call) {
    if (call.getCallee() != kTrapFunction)
      call.setTailCallKind(LLVM::tailcallkind::TailCallKind::NoTail);
  });
}

bool memoryCanGrow(MemoryOp memory) {
  if (!memory)
    return false;
  return memory.getImport() || !memory.getMaxPages() ||
         *memory.getMaxPages() != memory.getMinPages();
}

/// A kernel's threads run in one instance and so share its globals: a
/// kernel that moves the C stack pointer (`__stack_pointer`, where clang
/// keeps the frames of arrays and address-taken locals) would let its
/// threads' frames collide, silently. Refused, as the GPU compile refuses it
/// (docs/kernel-abi.md section 8). Host code may move it: only functions a
/// kernel can reach, directly or through a table, are checked.
LogicalResult refuseKernelsMovingTheStackPointer(twasm::ModuleOp wasm,
                                                 const InstanceLayout &layout) {
  for (KernelOp kernel : wasm.getBody()->getOps<KernelOp>()) {
    llvm::SmallVector<FuncOp> pending = {kernel.getFunction()};
    llvm::DenseSet<Operation *> reached = {kernel.getFunction()};
    auto reach = [&](FuncOp callee) {
      if (callee && !callee.isImported() && reached.insert(callee).second)
        pending.push_back(callee);
    };
    while (!pending.empty()) {
      FuncOp func = pending.pop_back_val();
      WalkResult walk = func.walk([&](Operation *op) -> WalkResult {
        if (auto call = dyn_cast<CallOp>(op)) {
          reach(SymbolTable::lookupNearestSymbolFrom<FuncOp>(
              op, call.getCalleeAttr()));
        } else if (auto call = dyn_cast<CallIndirectOp>(op)) {
          for (const InstanceLayout::Function &candidate : layout.functions())
            if (candidate.referenced && !candidate.import &&
                candidate.type == call.getCalleeType())
              reach(SymbolTable::lookupNearestSymbolFrom<FuncOp>(
                  wasm, StringAttr::get(op->getContext(), candidate.symbol)));
        } else if (auto set = dyn_cast<GlobalSetOp>(op);
                   set && set.getGlobal() == "__stack_pointer") {
          op->emitError("@")
              << func.getSymName() << ", which the kernel @"
              << kernel.getFunction().getSymName()
              << " can reach, moves the C stack pointer (__stack_pointer), "
                 "which all its threads share; kernels cannot have stack "
                 "frames yet: keep arrays out of kernel locals "
                 "(docs/kernel-abi.md section 8)";
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        return failure();
    }
  }
  return success();
}

struct ConvertTwasmToHostPass
    : public twasm::impl::ConvertTwasmToHostPassBase<ConvertTwasmToHostPass> {
  using ConvertTwasmToHostPassBase::ConvertTwasmToHostPassBase;

  void runOnOperation() override {
    mlir::ModuleOp top = getOperation();
    MLIRContext *context = &getContext();
    twasm::ModuleOp wasm = singleWasmModule(top);
    if (!wasm)
      return signalPassFailure();
    Location loc = wasm.getLoc();
    MemoryOp memory = wasm.getMemory();
    bool hasMemory = static_cast<bool>(memory);

    InstanceLayout layout(wasm, InstanceLayout::hostOptions());
    constexpr uint64_t maxGlobalsBytes = uint64_t(1) << 30;
    if (layout.globalsBytes() > maxGlobalsBytes) {
      wasm.emitError("the module's globals and tables need ")
          << layout.globalsBytes() << " bytes, more than the "
          << maxGlobalsBytes << " an instance's globals block may hold";
      return signalPassFailure();
    }
    if (failed(refuseKernelsMovingTheStackPointer(wasm, layout)))
      return signalPassFailure();

    OpBuilder builder(context);
    buildInitializer(builder, wasm, layout);
    // Exports and the start function get entry points.
    llvm::SmallVector<std::pair<std::string, uint32_t>> entries;
    llvm::DenseSet<uint32_t> entered;
    auto addEntry = [&](llvm::StringRef symbol) {
      uint32_t index = layout.functionIndex(symbol);
      if (entered.insert(index).second)
        entries.push_back({loweredFunctionName(symbol), index});
    };
    for (ExportOp exported : wasm.getBody()->getOps<ExportOp>())
      if (exported.getKind() == ExternKind::Func)
        addEntry(exported.getTarget());
    for (StartOp start : wasm.getBody()->getOps<StartOp>())
      addEntry(start.getFunc());

    LoweringOptions options;
    options.boundsChecks = boundsChecks;
    options.alignedAccessOnly = false;
    // x86 would give quiet NaNs, but LLVM folds operations on NaNs (x - 0
    // becomes x, which keeps a signalling NaN signalling) and minimum and
    // maximum return a NaN operand as it is: observable NaN results are made
    // canonical, as on the GPU.
    options.canonicalizeNaNs = true;
    options.memoryAddressSpace = 0;
    options.atomicScope = "";
    HostLoweringTarget target(layout, options, memory);

    TypeConverter converter;
    addTwasmTypeConversions(converter);
    builder.setInsertionPointToStart(wasm.getBody());
    buildTrapFunction(builder, loc);
    if (failed(buildSegmentContents(builder, wasm, layout)))
      return signalPassFailure();

    llvm::SmallVector<Operation *> toLower;
    llvm::StringSet<> importStubs;
    // Functions that call no other function: their entries need no check
    // of the control word (insertEntryChecks).
    llvm::StringSet<> leaves;
    bool growable = memoryCanGrow(memory);
    for (FuncOp func : wasm.getBody()->getOps<FuncOp>()) {
      if (func.isImported()) {
        if (func.getImport()->getModule() != "twasm") {
          importStubs.insert(loweredFunctionName(func.getSymName()));
          buildImportStub(builder, func.getLoc(), func,
                          layout.functionIndex(func.getSymName()), converter,
                          target);
        }
        toLower.push_back(func);
        continue;
      }
      markNaNCanonicalization(func);
      markBoundedLoops(func, kBoundedLoopIterations);
      if (callsNoFunction(func))
        leaves.insert(loweredFunctionName(func.getSymName()));
      if (growable && func.walk([](Operation *op) {
                            return isa<CallOp, CallIndirectOp, MemoryGrowOp>(op)
                                       ? WalkResult::interrupt()
                                       : WalkResult::advance();
                          })
                          .wasInterrupted())
        func->setAttr(kGrowingMemoryAttr, builder.getUnitAttr());
      toLower.push_back(func);
    }

    ConversionTarget legality(*context);
    if (failed(convertFunctionsToLLVM(toLower, target, legality)))
      return signalPassFailure();

    llvm::StringMap<LLVM::LLVMFuncOp> lowered;
    for (Operation &op : llvm::make_early_inc_range(*wasm.getBody())) {
      if (!isa<LLVM::LLVMFuncOp, LLVM::GlobalOp>(op))
        continue;
      op.moveBefore(top.getBody(), top.getBody()->end());
      auto func = dyn_cast<LLVM::LLVMFuncOp>(op);
      if (!func || func.getSymName() == kTrapFunction)
        continue;
      lowered[func.getSymName()] = func;
      // Import stubs only pass the call on.
      if (importStubs.contains(func.getSymName()))
        continue;
      ++numFunctions;
      refreshMemorySizes(func);
      keepCallFrames(func);
      if (epochChecks)
        numEpochChecks += insertEpochChecks(func, target);
      insertEntryChecks(func, target,
                        epochChecks && !leaves.contains(func.getSymName()));
    }

    builder.setInsertionPointToEnd(top.getBody());
    LLVM::GlobalOp::create(builder, loc, builder.getI32Type(),
                           /*isConstant=*/true, LLVM::Linkage::External,
                           "twasm_host_abi_version",
                           builder.getI32IntegerAttr(host::kVersion));
    for (auto &[name, index] : entries)
      buildCallEntry(builder, loc, lowered[name], index, hasMemory);
    buildInstantiateEntry(builder, loc,
                          lowered[loweredFunctionName(kInitializerSymbol)],
                          layout, hasMemory);
    wasm.erase();
  }
};

} // namespace
