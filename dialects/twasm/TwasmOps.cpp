//===- TwasmOps.cpp - twasm op builders, syntax, verifiers and interfaces
//--===//

#include "twasm/TwasmOps.h"

#include "twasm/TwasmSemantics.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionImplementation.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::twasm;

//===----------------------------------------------------------------------===//
// Custom syntax: the targets of a br_table
//===----------------------------------------------------------------------===//

/// Parses `[^bb1, ^bb2(%x : i32), ...]`; the list may be empty.
static ParseResult parseBrTableTargets(
    OpAsmParser &parser, SmallVectorImpl<Block *> &targets,
    SmallVectorImpl<SmallVector<OpAsmParser::UnresolvedOperand>> &operands,
    SmallVectorImpl<SmallVector<Type>> &operandTypes) {
  return parser.parseCommaSeparatedList(
      OpAsmParser::Delimiter::Square, [&]() -> ParseResult {
        Block *target = nullptr;
        if (parser.parseSuccessor(target))
          return failure();
        targets.push_back(target);
        auto &targetOperands = operands.emplace_back();
        auto &targetTypes = operandTypes.emplace_back();
        if (succeeded(parser.parseOptionalLParen()) &&
            (parser.parseOperandList(targetOperands) ||
             parser.parseColonTypeList(targetTypes) || parser.parseRParen()))
          return failure();
        return success();
      });
}

static void printBrTableTargets(OpAsmPrinter &printer, BrTableOp,
                                SuccessorRange targets,
                                OperandRangeRange operands,
                                const TypeRangeRange &operandTypes) {
  printer << '[';
  for (auto [index, target] : llvm::enumerate(targets)) {
    if (index)
      printer << ", ";
    printer.printSuccessorAndUseList(target, operands[index]);
  }
  printer << ']';
}

#define GET_OP_CLASSES
#include "twasm/TwasmOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared verification helpers
//===----------------------------------------------------------------------===//

std::optional<uint32_t> mlir::twasm::getI32Constant(Value value) {
  if (auto constant = value.getDefiningOp<I32ConstOp>())
    return constant.getValue();
  return std::nullopt;
}

unsigned mlir::twasm::getAccessBytes(Operation *op) {
  if (op->hasTrait<AccessWidth<1>::Impl>())
    return 1;
  if (op->hasTrait<AccessWidth<2>::Impl>())
    return 2;
  if (op->hasTrait<AccessWidth<4>::Impl>())
    return 4;
  if (op->hasTrait<AccessWidth<8>::Impl>())
    return 8;
  return 0;
}

uint64_t mlir::twasm::getAccessOffset(Operation *op) {
  if (std::optional<Attribute> attr = op->getInherentAttr("offset"))
    if (auto integer = dyn_cast_or_null<IntegerAttr>(*attr))
      return integer.getValue().getZExtValue();
  return 0;
}

LogicalResult mlir::twasm::detail::verifyAccessAlignment(Operation *op,
                                                         unsigned accessBytes) {
  auto align = op->getAttrOfType<IntegerAttr>("align");
  if (!align)
    return success();
  uint64_t bytes = align.getValue().getZExtValue();
  if (!llvm::isPowerOf2_64(bytes) || bytes > accessBytes)
    return op->emitOpError("alignment must be a power of two no larger than ")
           << accessBytes << " bytes, not " << bytes;
  return success();
}

/// Looks up the definition `ref` names, which must be an `OpT` (a `kind`).
template <typename OpT>
static FailureOr<OpT> lookupDefinition(Operation *user,
                                       SymbolTableCollection &symbolTable,
                                       FlatSymbolRefAttr ref, StringRef kind) {
  if (auto definition = symbolTable.lookupNearestSymbolFrom<OpT>(user, ref))
    return definition;
  return user->emitOpError() << "refers to " << ref << ", which is not a "
                             << kind << " of the module";
}

/// Whether `op` is inside a constant expression (an initializer or a segment).
static bool isInConstantExpression(Operation *op) {
  return isa<GlobalOp, DataOp, ElemOp>(op->getParentOp());
}

/// Checks that `region` is a constant expression yielding `expected` types.
static LogicalResult verifyConstantExpression(Operation *owner, Region &region,
                                              TypeRange expected,
                                              StringRef what) {
  if (!region.hasOneBlock())
    return owner->emitOpError() << what << " must be a single block";
  Block &block = region.front();
  for (Operation &op : block.without_terminator())
    if (!op.hasTrait<ConstantExpression>())
      return op.emitOpError("is not allowed in a constant expression (")
             << what << " of '" << owner->getName() << "')";
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return owner->emitOpError() << what << " must end in twasm.yield";
  if (yield.getValues().getTypes() != expected)
    return yield.emitOpError("yields ")
           << yield.getValues().getTypes() << " but " << what << " needs "
           << expected;
  return success();
}

/// Whether `op` reads or writes the module's linear memory.
static bool usesLinearMemory(Operation *op) {
  auto effectInterface = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effectInterface)
    return false;
  SmallVector<MemoryEffects::EffectInstance> effects;
  effectInterface.getEffects(effects);
  return llvm::any_of(effects, [](const MemoryEffects::EffectInstance &effect) {
    return isa<LinearMemoryResource>(effect.getResource());
  });
}

static LogicalResult verifyLimits(Operation *op, uint64_t min,
                                  std::optional<uint64_t> max, uint64_t bound,
                                  StringRef unit) {
  if (min > bound)
    return op->emitOpError("minimum size ")
           << min << " exceeds the limit of " << bound << ' ' << unit;
  if (max && *max > bound)
    return op->emitOpError("maximum size ")
           << *max << " exceeds the limit of " << bound << ' ' << unit;
  if (max && min > *max)
    return op->emitOpError("minimum size ")
           << min << " exceeds the maximum size " << *max;
  return success();
}

//===----------------------------------------------------------------------===//
// Module structure
//===----------------------------------------------------------------------===//

void twasm::ModuleOp::build(OpBuilder &builder, OperationState &state,
                            StringRef name) {
  state.addRegion()->emplaceBlock();
  if (!name.empty())
    state.addAttribute(getSymNameAttrName(state.name),
                       builder.getStringAttr(name));
}

MemoryOp twasm::ModuleOp::getMemory() {
  auto memories = getBody()->getOps<MemoryOp>();
  return memories.empty() ? MemoryOp() : *memories.begin();
}

/// Each kernel declaration names a distinct function export whose type a
/// kernel can have (docs/kernel-abi.md section 1).
static LogicalResult verifyKernels(twasm::ModuleOp module) {
  llvm::StringSet<> declared;
  for (KernelOp kernel : module.getBody()->getOps<KernelOp>()) {
    if (!declared.insert(kernel.getName()).second)
      return kernel.emitOpError("declares \"")
             << kernel.getName() << "\" a kernel a second time";
    FuncOp func = kernel.getFunction();
    if (!func)
      return kernel.emitOpError("names \"")
             << kernel.getName()
             << "\", which is not the name of a function export";
    FunctionType type = func.getFunctionType();
    if (type.getNumResults() != 0)
      return kernel.emitOpError("names \"")
             << kernel.getName() << "\", whose function returns results ("
             << type << "); a kernel returns nothing";
    for (Type input : type.getInputs())
      if (!isa<IntegerType, FloatType>(input))
        return kernel.emitOpError("names \"")
               << kernel.getName() << "\", whose function takes a " << input
               << "; a kernel takes only i32, i64, f32 and f64";
  }
  return success();
}

LogicalResult twasm::ModuleOp::verifyRegions() {
  MemoryOp memory;
  StartOp start;
  llvm::StringSet<> exportNames;
  for (Operation &op : *getBody()) {
    if (!isa<FuncOp, GlobalOp, MemoryOp, TableOp, DataOp, ElemOp, ExportOp,
             KernelOp, StartOp>(op))
      return op.emitOpError("is not a module-level definition, so it cannot "
                            "appear directly in a twasm.module");
    if (auto memoryOp = dyn_cast<MemoryOp>(op)) {
      if (memory)
        return memoryOp.emitOpError(
            "is a second memory; a Wasm 2.0 module has at most one");
      memory = memoryOp;
    } else if (auto startOp = dyn_cast<StartOp>(op)) {
      if (start)
        return startOp.emitOpError("is a second start function");
      start = startOp;
    } else if (auto exportOp = dyn_cast<ExportOp>(op)) {
      if (!exportNames.insert(exportOp.getName()).second)
        return exportOp.emitOpError("duplicates the export name \"")
               << exportOp.getName() << '"';
    }
  }
  if (failed(verifyKernels(*this)))
    return failure();
  if (memory)
    return success();
  for (auto data : getBody()->getOps<DataOp>())
    if (data.isActive())
      return data.emitOpError(
          "is an active data segment, but the module has no memory");
  Operation *memoryUser = nullptr;
  walk([&](Operation *op) {
    if (!usesLinearMemory(op))
      return WalkResult::advance();
    memoryUser = op;
    return WalkResult::interrupt();
  });
  if (memoryUser)
    return memoryUser->emitOpError(
        "accesses linear memory, but the module has none");
  return success();
}

//===----------------------------------------------------------------------===//
// FuncOp
//===----------------------------------------------------------------------===//

void FuncOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                   FunctionType type) {
  state.addAttribute(getSymNameAttrName(state.name),
                     builder.getStringAttr(name));
  state.addAttribute(getFunctionTypeAttrName(state.name), TypeAttr::get(type));
  state.addRegion();
}

ParseResult FuncOp::parse(OpAsmParser &parser, OperationState &result) {
  StringAttr name;
  if (parser.parseSymbolName(name, getSymNameAttrName(result.name),
                             result.attributes))
    return failure();

  SmallVector<OpAsmParser::Argument> arguments;
  SmallVector<Type> resultTypes;
  SmallVector<DictionaryAttr> resultAttrs;
  bool isVariadic = false;
  if (function_interface_impl::parseFunctionSignatureWithArguments(
          parser, /*allowVariadic=*/false, arguments, isVariadic, resultTypes,
          resultAttrs))
    return failure();
  SmallVector<Type> argumentTypes;
  for (OpAsmParser::Argument &argument : arguments)
    argumentTypes.push_back(argument.type);
  Builder &builder = parser.getBuilder();
  result.addAttribute(
      getFunctionTypeAttrName(result.name),
      TypeAttr::get(builder.getFunctionType(argumentTypes, resultTypes)));

  if (succeeded(parser.parseOptionalKeyword("import"))) {
    ImportAttr import;
    if (parser.parseCustomAttributeWithFallback(import))
      return failure();
    result.addAttribute(getImportAttrName(result.name), import);
  }
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  call_interface_impl::addArgAndResultAttrs(
      builder, result, arguments, resultAttrs, getArgAttrsAttrName(result.name),
      getResAttrsAttrName(result.name));

  Region *body = result.addRegion();
  OptionalParseResult bodyResult =
      parser.parseOptionalRegion(*body, arguments,
                                 /*enableNameShadowing=*/false);
  if (bodyResult.has_value() && failed(*bodyResult))
    return failure();
  return success();
}

void FuncOp::print(OpAsmPrinter &printer) {
  printer << ' ';
  printer.printSymbolName(getSymName());
  function_interface_impl::printFunctionSignature(
      printer, *this, getArgumentTypes(), /*isVariadic=*/false,
      getResultTypes());
  if (ImportAttr import = getImportAttr()) {
    printer << " import ";
    printer.printStrippedAttrOrType(import);
  }
  function_interface_impl::printFunctionAttributes(
      printer, *this,
      {getSymNameAttrName(), getFunctionTypeAttrName(), getArgAttrsAttrName(),
       getResAttrsAttrName(), getImportAttrName()});
  if (!getBody().empty()) {
    printer << ' ';
    printer.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                        /*printBlockTerminators=*/true);
  }
}

LogicalResult FuncOp::verify() {
  FunctionType type = getFunctionType();
  for (Type input : type.getInputs())
    if (!isValueType(input))
      return emitOpError("has a parameter of type ")
             << input << ", which is not a Wasm value type";
  for (Type output : type.getResults())
    if (!isValueType(output))
      return emitOpError("has a result of type ")
             << output << ", which is not a Wasm value type";
  if (isImported() && !isExternal())
    return emitOpError("is imported, so it must not have a body");
  if (!isImported() && isExternal())
    return emitOpError("must have a body unless it is imported");
  return success();
}

//===----------------------------------------------------------------------===//
// Globals, memory, tables, segments, exports, start
//===----------------------------------------------------------------------===//

LogicalResult GlobalOp::verify() {
  if (getImport() && !getInit().empty())
    return emitOpError("is imported, so it must not have an initializer");
  if (!getImport() && getInit().empty())
    return emitOpError("must have an initializer unless it is imported");
  return success();
}

LogicalResult GlobalOp::verifyRegions() {
  if (getInit().empty())
    return success();
  return verifyConstantExpression(*this, getInit(), getType(), "initializer");
}

LogicalResult MemoryOp::verify() {
  if (getShared() && !getMaxPages())
    return emitOpError("a shared memory must have a maximum");
  return verifyLimits(*this, getMinPages(), getMaxPages(), /*bound=*/65536,
                      "pages");
}

LogicalResult TableOp::verify() {
  return verifyLimits(*this, getMinSize(), getMaxSize(),
                      /*bound=*/UINT32_MAX, "elements");
}

LogicalResult DataOp::verifyRegions() {
  if (getOffset().empty())
    return success();
  Type i32 = IntegerType::get(getContext(), 32);
  return verifyConstantExpression(*this, getOffset(), i32, "offset");
}

LogicalResult ElemOp::verify() {
  bool active = getMode() == SegmentMode::Active;
  if (active && (!getTable() || getOffset().empty()))
    return emitOpError("is active, so it needs a table and an offset");
  if (!active && (getTable() || !getOffset().empty()))
    return emitOpError("is ")
           << stringifySegmentMode(getMode())
           << ", so it must have neither a table nor an offset";
  return success();
}

LogicalResult ElemOp::verifyRegions() {
  if (!getOffset().empty()) {
    Type i32 = IntegerType::get(getContext(), 32);
    if (failed(verifyConstantExpression(*this, getOffset(), i32, "offset")))
      return failure();
  }
  auto yield = dyn_cast<YieldOp>(getItems().front().getTerminator());
  SmallVector<Type> itemTypes(yield ? yield.getValues().size() : 0,
                              getElemType());
  return verifyConstantExpression(*this, getItems(), itemTypes, "items");
}

LogicalResult ElemOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  if (!getTable())
    return success();
  auto table =
      lookupDefinition<TableOp>(*this, symbolTable, getTableAttr(), "table");
  if (failed(table))
    return failure();
  if (table->getElemType() != getElemType())
    return emitOpError("holds ")
           << getElemType() << " but table " << getTableAttr() << " holds "
           << table->getElemType();
  return success();
}

LogicalResult ExportOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  Operation *target =
      symbolTable.lookupNearestSymbolFrom(*this, getTargetAttr());
  bool matches = false;
  switch (getKind()) {
  case ExternKind::Func:
    matches = isa_and_present<FuncOp>(target);
    break;
  case ExternKind::Table:
    matches = isa_and_present<TableOp>(target);
    break;
  case ExternKind::Memory:
    matches = isa_and_present<MemoryOp>(target);
    break;
  case ExternKind::Global:
    matches = isa_and_present<GlobalOp>(target);
    break;
  }
  if (!matches)
    return emitOpError("exports ")
           << getTargetAttr() << ", which is not a "
           << stringifyExternKind(getKind()) << " of the module";
  return success();
}

LogicalResult KernelOp::verify() {
  if (getBlock().has_value() != getSharedBytes().has_value())
    return emitOpError("declares a launch shape with both a block and a "
                       "shared scratch size, or with neither");
  if (!getBlock())
    return success();
  llvm::ArrayRef<int32_t> block = *getBlock();
  if (block.size() != 3)
    return emitOpError("has a block of ")
           << block.size() << " dimensions; it has 3 (x, y, z)";
  int64_t threads = 1;
  for (int32_t extent : block) {
    if (extent < 1)
      return emitOpError("has a block dimension of ")
             << extent << "; each is at least 1";
    threads *= extent;
  }
  if (threads > kMaxBlockThreads)
    return emitOpError("has a block of ")
           << threads << " threads, more than the " << kMaxBlockThreads
           << " a block may hold";
  if (*getSharedBytes() < 0 || *getSharedBytes() > kMaxSharedBytes)
    return emitOpError("declares ")
           << *getSharedBytes() << " bytes of shared scratch; at most "
           << kMaxSharedBytes << " are possible";
  return success();
}

FuncOp KernelOp::getFunction() {
  auto module = (*this)->getParentOfType<twasm::ModuleOp>();
  for (ExportOp exportOp : module.getBody()->getOps<ExportOp>())
    if (exportOp.getName() == getName())
      return exportOp.getKind() == ExternKind::Func
                 ? SymbolTable::lookupNearestSymbolFrom<FuncOp>(
                       exportOp, exportOp.getTargetAttr())
                 : FuncOp();
  return {};
}

LogicalResult StartOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto func =
      lookupDefinition<FuncOp>(*this, symbolTable, getFuncAttr(), "function");
  if (failed(func))
    return failure();
  FunctionType type = func->getFunctionType();
  if (type.getNumInputs() || type.getNumResults())
    return emitOpError("names ")
           << getFuncAttr()
           << ", but a start function takes and returns nothing, not " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// Globals in function bodies and constant expressions
//===----------------------------------------------------------------------===//

LogicalResult
GlobalGetOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto global =
      lookupDefinition<GlobalOp>(*this, symbolTable, getGlobalAttr(), "global");
  if (failed(global))
    return failure();
  if (global->getType() != getType())
    return emitOpError("reads ") << getType() << " from " << getGlobalAttr()
                                 << " of type " << global->getType();
  if (isInConstantExpression(*this) && global->getIsMutable())
    return emitOpError("reads the mutable global ")
           << getGlobalAttr() << " in a constant expression";
  return success();
}

LogicalResult
GlobalSetOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto global =
      lookupDefinition<GlobalOp>(*this, symbolTable, getGlobalAttr(), "global");
  if (failed(global))
    return failure();
  if (!global->getIsMutable())
    return emitOpError("writes the immutable global ") << getGlobalAttr();
  if (global->getType() != getValue().getType())
    return emitOpError("writes ")
           << getValue().getType() << " to " << getGlobalAttr() << " of type "
           << global->getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Segments and references
//===----------------------------------------------------------------------===//

LogicalResult
MemoryInitOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return lookupDefinition<DataOp>(*this, symbolTable, getSegmentAttr(),
                                  "data segment");
}

LogicalResult DataDropOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return lookupDefinition<DataOp>(*this, symbolTable, getSegmentAttr(),
                                  "data segment");
}

LogicalResult ElemDropOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return lookupDefinition<ElemOp>(*this, symbolTable, getSegmentAttr(),
                                  "element segment");
}

LogicalResult RefFuncOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return lookupDefinition<FuncOp>(*this, symbolTable, getFuncAttr(),
                                  "function");
}

//===----------------------------------------------------------------------===//
// Tables
//===----------------------------------------------------------------------===//

/// Looks up the table `ref`; if `elementType` is given, checks it matches.
static LogicalResult verifyTableUse(Operation *user,
                                    SymbolTableCollection &symbolTable,
                                    FlatSymbolRefAttr ref,
                                    Type elementType = {}) {
  auto table = lookupDefinition<TableOp>(user, symbolTable, ref, "table");
  if (failed(table))
    return failure();
  if (elementType && table->getElemType() != elementType)
    return user->emitOpError("uses ") << elementType << " with table " << ref
                                      << " of " << table->getElemType();
  return success();
}

LogicalResult TableGetOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyTableUse(*this, symbolTable, getTableAttr(), getType());
}
LogicalResult TableSetOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyTableUse(*this, symbolTable, getTableAttr(),
                        getValue().getType());
}
LogicalResult
TableSizeOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyTableUse(*this, symbolTable, getTableAttr());
}
LogicalResult
TableGrowOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyTableUse(*this, symbolTable, getTableAttr(),
                        getInit().getType());
}
LogicalResult
TableFillOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyTableUse(*this, symbolTable, getTableAttr(),
                        getValue().getType());
}

LogicalResult
TableCopyOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto source =
      lookupDefinition<TableOp>(*this, symbolTable, getSrcTableAttr(), "table");
  if (failed(source))
    return failure();
  return verifyTableUse(*this, symbolTable, getDstTableAttr(),
                        source->getElemType());
}

LogicalResult
TableInitOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto segment = lookupDefinition<ElemOp>(*this, symbolTable, getSegmentAttr(),
                                          "element segment");
  if (failed(segment))
    return failure();
  return verifyTableUse(*this, symbolTable, getTableAttr(),
                        segment->getElemType());
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

void CallOp::build(OpBuilder &builder, OperationState &state, FuncOp callee,
                   ValueRange operands) {
  state.addOperands(operands);
  state.addAttribute(getCalleeAttrName(state.name),
                     FlatSymbolRefAttr::get(callee.getSymNameAttr()));
  state.addTypes(callee.getFunctionType().getResults());
}

FunctionType CallOp::getCalleeType() {
  return FunctionType::get(getContext(), getOperandTypes(), getResultTypes());
}

LogicalResult CallOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto callee =
      lookupDefinition<FuncOp>(*this, symbolTable, getCalleeAttr(), "function");
  if (failed(callee))
    return failure();
  if (callee->getFunctionType() != getCalleeType())
    return emitOpError("calls ")
           << getCalleeAttr() << " of type " << callee->getFunctionType()
           << " as " << getCalleeType();
  return success();
}

FunctionType CallIndirectOp::getCalleeType() {
  return FunctionType::get(getContext(), getCalleeOperands().getTypes(),
                           getResultTypes());
}

LogicalResult
CallIndirectOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyTableUse(*this, symbolTable, getTableAttr(),
                        FuncRefType::get(getContext()));
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

SuccessorOperands BrOp::getSuccessorOperands(unsigned index) {
  return SuccessorOperands(getDestOperandsMutable());
}

Block *BrOp::getSuccessorForOperands(ArrayRef<Attribute>) { return getDest(); }

SuccessorOperands BrIfOp::getSuccessorOperands(unsigned index) {
  return SuccessorOperands(index == 0 ? getTrueDestOperandsMutable()
                                      : getFalseDestOperandsMutable());
}

Block *BrIfOp::getSuccessorForOperands(ArrayRef<Attribute> operands) {
  auto condition = dyn_cast_or_null<IntegerAttr>(operands.front());
  if (!condition)
    return nullptr;
  return condition.getValue().isZero() ? getFalseDest() : getTrueDest();
}

SuccessorOperands BrTableOp::getSuccessorOperands(unsigned index) {
  return SuccessorOperands(index == 0 ? getDefaultOperandsMutable()
                                      : getTargetOperandsMutable()[index - 1]);
}

Block *BrTableOp::getSuccessorForOperands(ArrayRef<Attribute> operands) {
  auto index = dyn_cast_or_null<IntegerAttr>(operands.front());
  if (!index)
    return nullptr;
  uint64_t selected = index.getValue().getZExtValue();
  return selected < getTargetDests().size() ? getTargetDests()[selected]
                                            : getDefaultDest();
}

LogicalResult BrTableOp::verify() {
  if (getTargetOperandSegments().size() != getTargetDests().size())
    return emitOpError("has ")
           << getTargetDests().size() << " targets but "
           << getTargetOperandSegments().size() << " operand lists";
  return success();
}

LogicalResult ReturnOp::verify() {
  auto func = (*this)->getParentOfType<FuncOp>();
  if (getValues().getTypes() != func.getResultTypes())
    return emitOpError("returns ")
           << getValues().getTypes() << " from a function returning "
           << func.getResultTypes();
  return success();
}

//===----------------------------------------------------------------------===//
// Ops that may trap: division, remainder and float-to-int truncation
//===----------------------------------------------------------------------===//

using EffectList =
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>;

static void addTrapEffect(EffectList &effects) {
  effects.emplace_back(MemoryEffects::Write::get(), TrapResource::get());
}

/// Integer division and remainder trap on a zero divisor; signed division also
/// on the minimum value divided by -1. Without constants, assume they may.
static bool integerDivisionMayTrap(Value lhs, Value rhs, bool signedDivision) {
  APInt divisor, dividend;
  if (!matchPattern(rhs, m_ConstantInt(&divisor)) || divisor.isZero())
    return true;
  if (!signedDivision || !divisor.isAllOnes())
    return false;
  return !matchPattern(lhs, m_ConstantInt(&dividend)) ||
         dividend.isMinSignedValue();
}

static bool truncationMayTrap(Value operand, unsigned width, bool isSigned) {
  APFloat value(0.0f);
  if (!matchPattern(operand, m_ConstantFloat(&value)))
    return true;
  return !semantics::truncToInt(value, width, isSigned).has_value();
}

#define TWASM_DIVISION_EFFECTS(OP, SIGNED)                                     \
  void OP::getEffects(EffectList &effects) {                                   \
    if (integerDivisionMayTrap(getLhs(), getRhs(), SIGNED))                    \
      addTrapEffect(effects);                                                  \
  }
TWASM_DIVISION_EFFECTS(I32DivSOp, true)
TWASM_DIVISION_EFFECTS(I64DivSOp, true)
TWASM_DIVISION_EFFECTS(I32DivUOp, false)
TWASM_DIVISION_EFFECTS(I64DivUOp, false)
TWASM_DIVISION_EFFECTS(I32RemSOp, false)
TWASM_DIVISION_EFFECTS(I64RemSOp, false)
TWASM_DIVISION_EFFECTS(I32RemUOp, false)
TWASM_DIVISION_EFFECTS(I64RemUOp, false)
#undef TWASM_DIVISION_EFFECTS

#define TWASM_TRUNCATION_EFFECTS(OP, WIDTH, SIGNED)                            \
  void OP::getEffects(EffectList &effects) {                                   \
    if (truncationMayTrap(getOperand(), WIDTH, SIGNED))                        \
      addTrapEffect(effects);                                                  \
  }
TWASM_TRUNCATION_EFFECTS(I32TruncF32SOp, 32, true)
TWASM_TRUNCATION_EFFECTS(I32TruncF32UOp, 32, false)
TWASM_TRUNCATION_EFFECTS(I32TruncF64SOp, 32, true)
TWASM_TRUNCATION_EFFECTS(I32TruncF64UOp, 32, false)
TWASM_TRUNCATION_EFFECTS(I64TruncF32SOp, 64, true)
TWASM_TRUNCATION_EFFECTS(I64TruncF32UOp, 64, false)
TWASM_TRUNCATION_EFFECTS(I64TruncF64SOp, 64, true)
TWASM_TRUNCATION_EFFECTS(I64TruncF64UOp, 64, false)
#undef TWASM_TRUNCATION_EFFECTS
