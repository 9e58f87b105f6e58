//===- LoweringSupport.h - shared machinery of twasm -> LLVM -----*- C++
//-*-===//
//
// Private to compiler/Conversion. The patterns that lower twasm function
// bodies to the LLVM dialect are the same for every device; what differs
// (how a thread traps, what the "twasm" intrinsics become, whether unaligned
// accesses must be avoided) is behind LoweringTarget.
//
// Every lowered function takes the hidden parameters of docs/kernel-abi.md
// section 5 first; patterns find them as the leading arguments of the
// enclosing llvm.func.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_COMPILER_CONVERSION_LOWERINGSUPPORT_H
#define TWASM_COMPILER_CONVERSION_LOWERINGSUPPORT_H

#include "twasm/Conversion/InstanceLayout.h"
#include "twasm/KernelAbi.h"
#include "twasm/TwasmOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::twasm {

namespace abi = ::tensorwasm::abi;

/// Discardable attribute on a lowered llvm.func: its Wasm function index.
inline constexpr llvm::StringLiteral kFunctionIndexAttr =
    "twasm.function_index";
/// Discardable attributes on a function (twasm, then lowered) that only
/// kernels of one declared launch shape reach: the block's dimensions and
/// the shared scratch bytes.
inline constexpr llvm::StringLiteral kBlockShapeAttr = "twasm.block";
inline constexpr llvm::StringLiteral kSharedBytesAttr = "twasm.shared_bytes";
/// Discardable attribute on a function (twasm, then lowered) during which
/// the memory may grow: it calls functions or grows the memory itself.
inline constexpr llvm::StringLiteral kGrowingMemoryAttr =
    "twasm.growing_memory";

struct LaunchShape {
  llvm::SmallVector<int32_t, 3> block;
  int64_t sharedBytes;
};
/// The launch shape of the lowered function enclosing the insertion point,
/// if it has one.
std::optional<LaunchShape> currentLaunchShape(OpBuilder &builder);

/// Discardable attribute on a twasm float op whose NaN result must be made
/// canonical because its bits can be observed (see markNaNCanonicalization).
inline constexpr llvm::StringLiteral kCanonicalizeNaNAttr =
    "twasm.canonicalize_nan";

struct LoweringOptions {
  /// Check every memory access not marked in_bounds; off only to measure
  /// what the checks cost.
  bool boundsChecks = true;
  /// The device faults on a misaligned access, so a naturally aligned load
  /// or store checks its address and takes a bytewise path when it is not.
  bool alignedAccessOnly = true;
  /// The device's arithmetic NaN is not Wasm's canonical NaN.
  bool canonicalizeNaNs = true;
  /// Emit square roots and roundings (sqrt, ceil, floor, nearest) as
  /// generic intrinsic calls: the GPU's conversion to NVVM refuses LLVM's
  /// ops for them (it wants them as math ops, for libdevice), while the
  /// NVPTX backend lowers the intrinsics to exact instructions.
  bool roundingAsIntrinsicCalls = false;
  /// LLVM address space of linear memory and the instance's blocks.
  unsigned memoryAddressSpace = 1;
  /// The LLVM sync scope of Wasm atomics: all threads of a launch ("device"
  /// on the GPU), or "" for the whole system.
  std::string atomicScope = "device";
};

class LoweringTarget {
public:
  LoweringTarget(const InstanceLayout &layout, LoweringOptions options)
      : layout(layout), options(options) {}
  virtual ~LoweringTarget();

  const InstanceLayout &layout;
  LoweringOptions options;

  LLVM::LLVMPointerType pointerType(MLIRContext *context) const {
    return LLVM::LLVMPointerType::get(context, options.memoryAddressSpace);
  }
  /// The hidden parameters' types, in ABI order.
  llvm::SmallVector<Type> hiddenTypes(MLIRContext *context) const;

  /// Emits, at the builder's insertion point, code that records `code` in
  /// the trap record (if no trap is recorded yet) and raises the control
  /// word; the thread carries on until a stop.
  virtual void emitTrapRecord(OpBuilder &builder, Location loc,
                              twasm::abi::TrapCode code) const = 0;
  /// Ends the thread here without ending the block: to the control-flow
  /// graph the code goes on, so no edge is removed (see trapUnless).
  virtual void emitStopInPlace(OpBuilder &builder, Location loc) const = 0;
  /// Ends the thread; ends the block.
  virtual void emitStop(OpBuilder &builder, Location loc) const = 0;

  /// The memory's current size in bytes (i64) at the builder's insertion
  /// point in the lowered function enclosing `op`. By default the
  /// `memory_size` hidden parameter: memory does not grow while a function
  /// of a kernel runs.
  virtual Value memorySize(OpBuilder &builder, Location loc,
                           Operation *op) const;
  /// Whether memorySize is the hidden parameter, so that what depends only
  /// on it may be computed once at the function's entry.
  virtual bool memorySizeIsFixed(Operation *op) const { return true; }
  /// The bytes the memory can hold when a function is entered, as the
  /// half-open range of its `memory_size` hidden parameter (which lets LLVM
  /// drop the clamps of accessFitsInMemory's limits); none if unknown.
  virtual std::optional<std::pair<uint64_t, uint64_t>> memorySizeRange() const {
    return std::nullopt;
  }
  /// memory.grow by `deltaPages` (i32): the old size in pages, or -1. By
  /// default memory cannot grow: growing by 0 reports the size, anything
  /// else fails.
  virtual Value emitMemoryGrow(OpBuilder &builder, Location loc, Operation *op,
                               Value deltaPages) const;
  /// Whether functions imported from modules other than "twasm" may be
  /// called; they are then lowered functions named like defined ones, which
  /// the target supplies.
  virtual bool callsHostImports() const { return false; }

  /// `value` as the result of an integer instruction (of the same width)
  /// that LLVM cannot see through. Used for an i32 or i64 about to be stored
  /// in fewer bytes than it has, or any value that may be stored byte by
  /// byte (misaligned): on the GPU a narrow store takes the low bits of the
  /// register that holds the value, and when a float instruction wrote that
  /// register (LLVM folds the bitcast away), the driver's compiler converts
  /// the number instead: 6.0 stored as a byte became 0x06, not 0x00. And for
  /// the bits of abs, neg and copysign, which LLVM would otherwise turn back
  /// into float instructions that quiet a signalling NaN on the GPU. Both
  /// found by the differential oracle on an H100. Identity where neither
  /// happens.
  virtual Value integerBits(OpBuilder &builder, Location loc,
                            Value value) const {
    return value;
  }

  /// Lowers a call of the import `name` of module "twasm" (docs/kernel-abi.md
  /// section 3). Fails, with a diagnostic on `call`, for an unknown name or
  /// a wrong type.
  virtual FailureOr<llvm::SmallVector<Value>>
  lowerIntrinsic(RewriterBase &rewriter, Operation *call, llvm::StringRef name,
                 FunctionType type, ValueRange operands) const = 0;
};

/// The one twasm.module inside `top` that a conversion lowers; null, with
/// an error on `top`, if there is not exactly one.
twasm::ModuleOp singleWasmModule(mlir::ModuleOp top);

/// The hidden parameter `which` of the llvm.func enclosing `op`.
Value hiddenValue(Operation *op, twasm::abi::HiddenParameter which);

/// The lowered function enclosing the builder's insertion point (null if
/// none).
LLVM::LLVMFuncOp enclosingLoweredFunction(OpBuilder &builder);

/// A counted loop that ends within this many iterations gets no
/// interruption check of its own (markBoundedLoops).
inline constexpr uint64_t kBoundedLoopIterations = 1 << 16;

/// The Wasm function index of the llvm.func enclosing the insertion point.
uint32_t currentFunctionIndex(OpBuilder &builder);

/// The byte offset a location names: binary imports locate instructions at
/// `file:0:offset`. 0 when unknown.
uint32_t byteOffsetOf(Location loc);

Value constantInt(OpBuilder &builder, Location loc, Type type, int64_t value);

/// A lowered function returns void, its result, or a literal struct of its
/// results.
Type loweredReturnType(MLIRContext *context, TypeRange results);
/// Returns `values` from the lowered function enclosing the insertion point.
void emitReturn(OpBuilder &builder, Location loc, ValueRange values);
/// Records the trap and stops the thread; ends the block.
void emitTrap(OpBuilder &builder, Location loc, twasm::abi::TrapCode code,
              const LoweringTarget &target);
/// Calls a lowered function (hidden parameters first) and returns its
/// results.
llvm::SmallVector<Value> emitLoweredCall(OpBuilder &builder, Location loc,
                                         Operation *caller,
                                         llvm::StringRef callee,
                                         Type returnType, size_t resultCount,
                                         ValueRange operands);

/// `zext(address) + offset`, the i64 effective address of an access.
Value effectiveAddress(OpBuilder &builder, Location loc, Value address,
                       uint64_t offset);
/// The pointer to byte `ea` of linear memory at `base`.
Value bytePointer(OpBuilder &builder, Location loc, Value base, Value ea);
/// `pointer + offset` bytes, of `pointer`'s type (a field of a runtime
/// structure).
Value offsetPointer(OpBuilder &builder, Location loc, Value pointer,
                    int64_t offset);
/// Whether bytes [zext(address) + offset, ... + bytes) lie in the memory of
/// `op`'s function, for an i32 `address` and a constant extent
/// `offset + bytes`, as an i1: one 32-bit compare against a count computed
/// at the function's entry.
Value accessFitsInMemory(OpBuilder &builder, Location loc, Operation *op,
                         Value address, uint64_t extent,
                         const LoweringTarget &target);
/// Whether `zext(address) + offset` is a multiple of `bytes` (a power of
/// two), as an i1, computed in 32 bits.
Value isAligned(OpBuilder &builder, Location loc, Value address,
                uint64_t offset, unsigned bytes);
/// The pointer for an atomic access of `bytes` at `address + offset`, after
/// the checks that trap when it is out of bounds or misaligned (atomics
/// must be naturally aligned).
Value checkedAtomicPointer(RewriterBase &rewriter, Operation *op, Value address,
                           uint64_t offset, unsigned bytes,
                           const LoweringTarget &target);
/// `value`'s low `bytes` bytes, the width an access moves.
Value lowBytes(OpBuilder &builder, Location loc, Value value, unsigned bytes);

/// Unless `condition` (i1) holds, the thread traps with `code` here: a cold
/// block that writes the trap record and stops the thread in place (on the
/// GPU, `exit`), then rejoins at once. The control-flow graph thus keeps the
/// shape of the Wasm code: a trap edge to the function's end would make that
/// end the only point where the GPU can reconverge the lanes of a warp after
/// a branch, and warp operations after a loop would then run with lanes
/// missing. The insertion point continues after.

void trapUnless(RewriterBase &builder, Location loc, Value condition,
                twasm::abi::TrapCode code, const LoweringTarget &target);

/// Converts Wasm value types: numbers stay, references become i32 (0 for
/// null, function index + 1).
void addTwasmTypeConversions(TypeConverter &converter);

void populateNumericToLLVMPatterns(const TypeConverter &converter,
                                   RewritePatternSet &patterns,
                                   const LoweringTarget &target);
void populateMemoryToLLVMPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns,
                                  const LoweringTarget &target);
void populateVariablesToLLVMPatterns(const TypeConverter &converter,
                                     RewritePatternSet &patterns,
                                     const LoweringTarget &target);
void populateAtomicsToLLVMPatterns(const TypeConverter &converter,
                                   RewritePatternSet &patterns,
                                   const LoweringTarget &target);
void populateTablesToLLVMPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns,
                                  const LoweringTarget &target);
void populateControlFlowToLLVMPatterns(const TypeConverter &converter,
                                       RewritePatternSet &patterns,
                                       const LoweringTarget &target);

/// Lowers `functions` (twasm functions, imported or defined) with every
/// pattern above; `legality` says which dialects the device's code may use
/// besides LLVM's. Twasm must not remain.
LogicalResult convertFunctionsToLLVM(llvm::ArrayRef<Operation *> functions,
                                     const LoweringTarget &target,
                                     ConversionTarget &legality);

/// `value` if it is not a NaN, else Wasm's canonical NaN of its type.
Value canonicalizeNaN(OpBuilder &builder, Location loc, Value value);

/// Marks (with kCanonicalizeNaNAttr) each float operation in `func` whose
/// result may be a NaN the device made and whose bits can be observed: it
/// reaches, through selects, block arguments and sign-bit operations, a
/// store, a reinterpretation, a global, a call or a return. Loaded values are
/// never marked, so loads and stores move NaN payloads exactly. Where the
/// observed value is a block argument that only ever carries computed
/// floats (a loop's accumulator), the canonicalization is inserted, in the
/// LLVM dialect, just before the observing operation instead.
void markNaNCanonicalization(FuncOp func);

/// Moves each linear-memory load of `func` up its block, above the
/// operations with no effects (arithmetic) that do not compute its address,
/// so that loads are issued together. A checked load is a branch to the
/// GPU's scheduler, which does not move a later load above it; arithmetic
/// on the first load's value placed between two loads would wait for that
/// value before the second load is even issued. Loads never pass other
/// loads, stores, calls or trapping operations, so the first trap is still
/// the one the Wasm code reaches first.
void issueLoadsEarly(FuncOp func);

/// Gives every loop back-edge of `func` that is not marked kBoundedLoopAttr
/// a countdown that reads the control word once every abi::kEpochPeriod
/// iterations and traps with Interrupted when it is set. Returns how many
/// back-edges got one.
unsigned insertEpochChecks(LLVM::LLVMFuncOp func, const LoweringTarget &target);

/// The lowered name of the twasm function `symbol`.
std::string loweredFunctionName(llvm::StringRef symbol);
/// The LLVM global holding the contents of the data or element segment
/// `symbol` (bytes, or i32 references), where a target lays them out.
std::string segmentContentsName(llvm::StringRef symbol);
/// A pointer to byte `offset` of the globals block.
Value globalsPointer(OpBuilder &builder, Location loc, Operation *op,
                     uint64_t offset);
/// The remaining length (i64) of the data or element segment `symbol`, read
/// from its slot; null if the layout has no slot for it.
Value segmentLength(OpBuilder &builder, Location loc, Operation *op,
                    llvm::StringRef symbol, const LoweringTarget &target);
/// `a + b <= limit` for i32 `a`, `b` and an i64 `limit`, in 64 bits, as an
/// i1: whether the range [a, a + b) fits below `limit`.
Value rangeFits(OpBuilder &builder, Location loc, Value a, Value b,
                Value limit);

/// Marks (kBoundedLoopAttr, TwasmOps.h) the back-edge of each loop of `func`
/// that is counted — an i32 induction variable from a constant start, a
/// constant step and a constant bound — and stops within `maxIterations`.
void markBoundedLoops(FuncOp func, uint64_t maxIterations);

} // namespace mlir::twasm

#endif // TWASM_COMPILER_CONVERSION_LOWERINGSUPPORT_H
