//===- FunctionTranslation.cpp - Wasm function bodies to twasm SSA CFGs
//----===//
//
// Walks a validated function body the way the spec's validation algorithm
// does, keeping an operand stack of SSA values and a stack of control frames.
// Structured control becomes the control-flow graph it denotes:
//
//  * `block`: its label is a block after the body, created only when some
//    branch targets it; otherwise the body just falls through.
//  * `loop`: its label is a header block that takes the loop's parameters.
//  * `if`: a `twasm.br_if` into two arm blocks that meet after the `end`.
//  * a branch to the function's own label is a return.
//
// Code after an unconditional branch, `return` or `unreachable` can never run
// and is not translated. Locals become `twasm.local` slots, promoted to SSA
// values afterwards.
//
//===----------------------------------------------------------------------===//

#include "Translation.h"

#include "wabt/cast.h"

using namespace mlir;
using namespace mlir::twasm;
using namespace mlir::twasm::import_detail;

namespace {

class FunctionTranslator {
public:
  FunctionTranslator(ModuleTranslation &translation, const wabt::Func &func,
                     FuncOp funcOp)
      : translation(translation), func(func), funcOp(funcOp),
        builder(funcOp.getContext()), location(funcOp.getLoc()) {}

  LogicalResult translate();

private:
  enum class FrameKind : uint8_t { Function, Block, Loop, If };
  struct Frame {
    FrameKind kind;
    /// Where a branch to this frame's label goes; created on first use,
    /// except for loops, whose header exists from the start.
    Block *label = nullptr;
    /// The types a branch to the label carries.
    SmallVector<Type, 2> labelTypes;
    /// The operand stack's height when the frame's body began.
    size_t height = 0;
  };

  // The operand stack. Validation guarantees it never underflows; the checks
  // turn a broken guarantee into an error instead of undefined behaviour.
  FailureOr<Value> pop();
  FailureOr<SmallVector<Value>> pop(size_t count);
  FailureOr<SmallVector<Value>> top(size_t count);
  void push(ValueRange values) { stack.append(values.begin(), values.end()); }
  LogicalResult internalError(const wabt::Expr &expr, llvm::StringRef what);

  size_t pushFrame(FrameKind kind, TypeRange labelTypes,
                   Block *label = nullptr);
  Block *labelOf(size_t frameIndex);
  FailureOr<size_t> frameOfLabel(const wabt::Var &var);
  /// Emits a branch from the current block to the label of `frameIndex`.
  void branchTo(size_t frameIndex, ValueRange values);
  /// Ends a `block` or `if` frame, continuing after it if that is reachable.
  void endFrame(size_t frameIndex);
  Block *appendBlock() {
    Block *block = new Block();
    funcOp.getBody().push_back(block);
    return block;
  }

  LogicalResult translateList(const wabt::ExprList &exprs);
  LogicalResult translateExpr(const wabt::Expr &expr);
  LogicalResult translateBlock(const wabt::Block &block, bool isLoop);
  LogicalResult translateIf(const wabt::IfExpr &expr);
  LogicalResult translateBranchTable(const wabt::BrTableExpr &expr);
  LogicalResult translateOpcode(const wabt::Expr &expr, wabt::Opcode opcode);
  LogicalResult translateAtomic(const wabt::Expr &expr, wabt::Opcode opcode,
                                wabt::Address offset);
  LogicalResult translateMemoryAccess(const wabt::Expr &expr,
                                      wabt::Opcode opcode, wabt::Address align,
                                      wabt::Address offset);
  FailureOr<std::pair<SmallVector<Type>, SmallVector<Type>>>
  blockSignature(const wabt::BlockDeclaration &decl, const wabt::Location &loc);
  FailureOr<Value> localSlot(const wabt::Var &var);

  template <typename OpT> LogicalResult unary() {
    FailureOr<Value> operand = pop();
    if (failed(operand))
      return failure();
    stack.push_back(OpT::create(builder, location, *operand));
    return success();
  }
  template <typename OpT> LogicalResult binary() {
    FailureOr<SmallVector<Value>> operands = pop(2);
    if (failed(operands))
      return failure();
    stack.push_back(
        OpT::create(builder, location, (*operands)[0], (*operands)[1]));
    return success();
  }

  ModuleTranslation &translation;
  const wabt::Func &func;
  FuncOp funcOp;
  OpBuilder builder;
  /// The location of the instruction being translated.
  Location location;
  SmallVector<Value> stack;
  SmallVector<Frame> frames;
  SmallVector<Value> locals;
  /// Whether the instruction being translated can run.
  bool reachable = true;
  const wabt::Expr *currentExpr = nullptr;
};

} // namespace

//===----------------------------------------------------------------------===//
// Operand and control stacks
//===----------------------------------------------------------------------===//

LogicalResult FunctionTranslator::internalError(const wabt::Expr &expr,
                                                llvm::StringRef what) {
  return translation.fail(expr.loc, llvm::Twine("internal error: ") + what +
                                        " in a module that passed validation");
}

FailureOr<SmallVector<Value>> FunctionTranslator::top(size_t count) {
  size_t floor = frames.empty() ? 0 : frames.back().height;
  if (stack.size() < floor + count)
    return internalError(*currentExpr, "operand stack underflow");
  return SmallVector<Value>(stack.end() - count, stack.end());
}

FailureOr<SmallVector<Value>> FunctionTranslator::pop(size_t count) {
  FailureOr<SmallVector<Value>> values = top(count);
  if (succeeded(values))
    stack.resize(stack.size() - count);
  return values;
}

FailureOr<Value> FunctionTranslator::pop() {
  FailureOr<SmallVector<Value>> values = pop(1);
  if (failed(values))
    return failure();
  return values->front();
}

size_t FunctionTranslator::pushFrame(FrameKind kind, TypeRange labelTypes,
                                     Block *label) {
  Frame &frame = frames.emplace_back();
  frame.kind = kind;
  frame.label = label;
  frame.labelTypes.assign(labelTypes.begin(), labelTypes.end());
  frame.height = stack.size();
  return frames.size() - 1;
}

Block *FunctionTranslator::labelOf(size_t frameIndex) {
  Frame &frame = frames[frameIndex];
  if (!frame.label) {
    frame.label = new Block();
    for (Type type : frame.labelTypes)
      frame.label->addArgument(type, location);
  }
  return frame.label;
}

FailureOr<size_t> FunctionTranslator::frameOfLabel(const wabt::Var &var) {
  if (!var.is_index() || var.index() >= frames.size())
    return internalError(*currentExpr, "an unknown branch label");
  return frames.size() - 1 - var.index();
}

void FunctionTranslator::branchTo(size_t frameIndex, ValueRange values) {
  // The function's label is its return: branch to a shared return block.
  BrOp::create(builder, location, values, labelOf(frameIndex));
}

void FunctionTranslator::endFrame(size_t frameIndex) {
  Frame frame = frames.pop_back_val();
  if (!frame.label) {
    // Nothing branched here: what follows is reached by falling through (the
    // results are already on the stack) or not at all.
    if (!reachable)
      stack.resize(frame.height);
    return;
  }
  if (reachable) {
    SmallVector<Value> results(stack.end() - frame.labelTypes.size(),
                               stack.end());
    BrOp::create(builder, location, results, frame.label);
  }
  stack.resize(frame.height);
  funcOp.getBody().push_back(frame.label);
  builder.setInsertionPointToStart(frame.label);
  push(frame.label->getArguments());
  reachable = true;
}

//===----------------------------------------------------------------------===//
// The function
//===----------------------------------------------------------------------===//

FailureOr<Value> FunctionTranslator::localSlot(const wabt::Var &var) {
  wabt::Index index = func.GetLocalIndex(var);
  if (index >= locals.size())
    return internalError(*currentExpr, "an unknown local");
  return locals[index];
}

LogicalResult FunctionTranslator::translate() {
  Block *entry = funcOp.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  // Parameters and locals become slots; parameters start with their argument.
  for (BlockArgument argument : entry->getArguments()) {
    Value slot =
        LocalOp::create(builder, location, LocalType::get(argument.getType()));
    LocalSetOp::create(builder, location, slot, argument);
    locals.push_back(slot);
  }
  for (wabt::Type type : func.local_types) {
    FailureOr<Type> converted = translation.convertType(type, func.loc);
    if (failed(converted))
      return failure();
    locals.push_back(
        LocalOp::create(builder, location, LocalType::get(*converted)));
  }

  TypeRange results = funcOp.getResultTypes();
  size_t functionFrame = pushFrame(FrameKind::Function, results);
  if (failed(translateList(func.exprs)))
    return failure();
  if (reachable) {
    FailureOr<SmallVector<Value>> values = top(results.size());
    if (failed(values))
      return failure();
    ReturnOp::create(builder, location, *values);
  }
  // Branches to the function's label went to a block that returns.
  if (Block *returnBlock = frames[functionFrame].label) {
    funcOp.getBody().push_back(returnBlock);
    builder.setInsertionPointToStart(returnBlock);
    ReturnOp::create(builder, location, returnBlock->getArguments());
  }
  frames.clear();
  return success();
}

LogicalResult FunctionTranslator::translateList(const wabt::ExprList &exprs) {
  for (const wabt::Expr &expr : exprs) {
    if (!reachable)
      return success();
    currentExpr = &expr;
    location = translation.location(expr.loc);
    if (failed(translateExpr(expr)))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Structured control
//===----------------------------------------------------------------------===//

FailureOr<std::pair<SmallVector<Type>, SmallVector<Type>>>
FunctionTranslator::blockSignature(const wabt::BlockDeclaration &decl,
                                   const wabt::Location &loc) {
  FailureOr<FunctionType> type =
      translation.convertSignature(translation.signatureOf(decl), loc);
  if (failed(type))
    return failure();
  return std::make_pair(SmallVector<Type>(type->getInputs()),
                        SmallVector<Type>(type->getResults()));
}

LogicalResult FunctionTranslator::translateBlock(const wabt::Block &block,
                                                 bool isLoop) {
  const wabt::Expr &expr = *currentExpr;
  auto signature = blockSignature(block.decl, expr.loc);
  if (failed(signature))
    return failure();
  const SmallVector<Type> &params = signature->first;
  const SmallVector<Type> &results = signature->second;
  FailureOr<SmallVector<Value>> arguments = pop(params.size());
  if (failed(arguments))
    return failure();

  if (!isLoop) {
    size_t frameIndex = pushFrame(FrameKind::Block, results);
    push(*arguments);
    if (failed(translateList(block.exprs)))
      return failure();
    currentExpr = &expr;
    endFrame(frameIndex);
    return success();
  }

  // A loop's label is its header; branches to it carry the parameters.
  Block *header = appendBlock();
  for (Type type : params)
    header->addArgument(type, location);
  BrOp::create(builder, location, *arguments, header);
  builder.setInsertionPointToStart(header);
  pushFrame(FrameKind::Loop, params, header);
  push(header->getArguments());
  if (failed(translateList(block.exprs)))
    return failure();
  currentExpr = &expr;
  // Falling out of the loop body continues after the loop with the results
  // on the stack; there is nothing to branch to.
  Frame frame = frames.pop_back_val();
  if (!reachable)
    stack.resize(frame.height);
  return success();
}

LogicalResult FunctionTranslator::translateIf(const wabt::IfExpr &expr) {
  auto signature = blockSignature(expr.true_.decl, expr.loc);
  if (failed(signature))
    return failure();
  const SmallVector<Type> &params = signature->first;
  const SmallVector<Type> &results = signature->second;
  FailureOr<Value> condition = pop();
  if (failed(condition))
    return failure();
  FailureOr<SmallVector<Value>> arguments = pop(params.size());
  if (failed(arguments))
    return failure();

  size_t frameIndex = pushFrame(FrameKind::If, results);
  Block *thenBlock = appendBlock();
  bool hasElse = !expr.false_.empty();
  // Without an else arm, the false edge goes straight past the `end`,
  // carrying the parameters (validation made them equal to the results).
  Block *elseBlock = hasElse ? appendBlock() : labelOf(frameIndex);
  BrIfOp::create(builder, location, *condition, ValueRange(),
                 hasElse ? ValueRange() : ValueRange(*arguments), thenBlock,
                 elseBlock);

  auto translateArm = [&](Block *arm, const wabt::ExprList &exprs) {
    stack.resize(frames[frameIndex].height);
    builder.setInsertionPointToStart(arm);
    push(*arguments);
    reachable = true;
    if (failed(translateList(exprs)))
      return failure();
    currentExpr = &expr;
    if (reachable) {
      FailureOr<SmallVector<Value>> values = top(results.size());
      if (failed(values))
        return failure();
      branchTo(frameIndex, *values);
    }
    return success();
  };
  if (failed(translateArm(thenBlock, expr.true_.exprs)))
    return failure();
  if (hasElse && failed(translateArm(elseBlock, expr.false_)))
    return failure();
  // Both arms ended in a branch; only the label can be reached now.
  reachable = false;
  endFrame(frameIndex);
  return success();
}

LogicalResult
FunctionTranslator::translateBranchTable(const wabt::BrTableExpr &expr) {
  FailureOr<Value> index = pop();
  if (failed(index))
    return failure();
  FailureOr<size_t> defaultFrame = frameOfLabel(expr.default_target);
  if (failed(defaultFrame))
    return failure();
  FailureOr<SmallVector<Value>> values =
      top(frames[*defaultFrame].labelTypes.size());
  if (failed(values))
    return failure();
  SmallVector<Block *> targets;
  for (const wabt::Var &target : expr.targets) {
    FailureOr<size_t> frame = frameOfLabel(target);
    if (failed(frame))
      return failure();
    targets.push_back(labelOf(*frame));
  }
  SmallVector<ValueRange> targetOperands(targets.size(), *values);
  BrTableOp::create(builder, location, *index, *values, targetOperands,
                    labelOf(*defaultFrame), targets);
  reachable = false;
  return success();
}

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

LogicalResult FunctionTranslator::translateExpr(const wabt::Expr &expr) {
  using wabt::cast;
  switch (expr.type()) {
  case wabt::ExprType::Nop:
    return success();
  case wabt::ExprType::Drop:
    return pop();
  case wabt::ExprType::Unreachable:
    UnreachableOp::create(builder, location);
    reachable = false;
    return success();

  case wabt::ExprType::Block:
    return translateBlock(cast<wabt::BlockExpr>(&expr)->block, false);
  case wabt::ExprType::Loop:
    return translateBlock(cast<wabt::LoopExpr>(&expr)->block, true);
  case wabt::ExprType::If:
    return translateIf(*cast<wabt::IfExpr>(&expr));

  case wabt::ExprType::Br: {
    FailureOr<size_t> frame = frameOfLabel(cast<wabt::BrExpr>(&expr)->var);
    if (failed(frame))
      return failure();
    FailureOr<SmallVector<Value>> values =
        top(frames[*frame].labelTypes.size());
    if (failed(values))
      return failure();
    if (frames[*frame].kind == FrameKind::Function)
      ReturnOp::create(builder, location, *values);
    else
      branchTo(*frame, *values);
    reachable = false;
    return success();
  }
  case wabt::ExprType::BrIf: {
    FailureOr<Value> condition = pop();
    if (failed(condition))
      return failure();
    FailureOr<size_t> frame = frameOfLabel(cast<wabt::BrIfExpr>(&expr)->var);
    if (failed(frame))
      return failure();
    FailureOr<SmallVector<Value>> values =
        top(frames[*frame].labelTypes.size());
    if (failed(values))
      return failure();
    Block *fallThrough = appendBlock();
    BrIfOp::create(builder, location, *condition, *values, ValueRange(),
                   labelOf(*frame), fallThrough);
    builder.setInsertionPointToStart(fallThrough);
    return success();
  }
  case wabt::ExprType::BrTable:
    return translateBranchTable(*cast<wabt::BrTableExpr>(&expr));
  case wabt::ExprType::Return: {
    FailureOr<SmallVector<Value>> values = top(funcOp.getNumResults());
    if (failed(values))
      return failure();
    ReturnOp::create(builder, location, *values);
    reachable = false;
    return success();
  }

  case wabt::ExprType::Call: {
    FailureOr<FuncOp> callee =
        translation.funcOp(cast<wabt::CallExpr>(&expr)->var);
    if (failed(callee))
      return failure();
    FailureOr<SmallVector<Value>> arguments = pop(callee->getNumArguments());
    if (failed(arguments))
      return failure();
    push(CallOp::create(builder, location, *callee, *arguments).getResults());
    return success();
  }
  case wabt::ExprType::CallIndirect: {
    auto *call = cast<wabt::CallIndirectExpr>(&expr);
    FailureOr<FunctionType> type = translation.convertSignature(
        translation.signatureOf(call->decl), expr.loc);
    FailureOr<FlatSymbolRefAttr> table = translation.tableSymbol(call->table);
    if (failed(type) || failed(table))
      return failure();
    FailureOr<Value> index = pop();
    if (failed(index))
      return failure();
    FailureOr<SmallVector<Value>> arguments = pop(type->getNumInputs());
    if (failed(arguments))
      return failure();
    push(CallIndirectOp::create(builder, location, type->getResults(), *table,
                                *index, *arguments)
             .getResults());
    return success();
  }

  case wabt::ExprType::Select: {
    FailureOr<SmallVector<Value>> operands = pop(3);
    if (failed(operands))
      return failure();
    Value trueValue = (*operands)[0], falseValue = (*operands)[1],
          condition = (*operands)[2];
    stack.push_back(SelectOp::create(builder, location, trueValue.getType(),
                                     condition, trueValue, falseValue));
    return success();
  }

  case wabt::ExprType::LocalGet: {
    FailureOr<Value> slot = localSlot(cast<wabt::LocalGetExpr>(&expr)->var);
    if (failed(slot))
      return failure();
    auto type = cast<LocalType>(slot->getType());
    stack.push_back(
        LocalGetOp::create(builder, location, type.getValueType(), *slot));
    return success();
  }
  case wabt::ExprType::LocalSet:
  case wabt::ExprType::LocalTee: {
    const wabt::Var &var = expr.type() == wabt::ExprType::LocalSet
                               ? cast<wabt::LocalSetExpr>(&expr)->var
                               : cast<wabt::LocalTeeExpr>(&expr)->var;
    FailureOr<Value> slot = localSlot(var);
    FailureOr<Value> value = pop();
    if (failed(slot) || failed(value))
      return failure();
    LocalSetOp::create(builder, location, *slot, *value);
    if (expr.type() == wabt::ExprType::LocalTee)
      stack.push_back(*value);
    return success();
  }
  case wabt::ExprType::GlobalGet: {
    FailureOr<GlobalOp> global =
        translation.globalOp(cast<wabt::GlobalGetExpr>(&expr)->var);
    if (failed(global))
      return failure();
    stack.push_back(GlobalGetOp::create(builder, location, global->getType(),
                                        global->getSymName()));
    return success();
  }
  case wabt::ExprType::GlobalSet: {
    FailureOr<FlatSymbolRefAttr> global =
        translation.globalSymbol(cast<wabt::GlobalSetExpr>(&expr)->var);
    FailureOr<Value> value = pop();
    if (failed(global) || failed(value))
      return failure();
    GlobalSetOp::create(builder, location, *global, *value);
    return success();
  }

  case wabt::ExprType::Const: {
    FailureOr<Value> constant = translation.createConstant(
        builder, location, cast<wabt::ConstExpr>(&expr)->const_, expr.loc);
    if (failed(constant))
      return failure();
    stack.push_back(*constant);
    return success();
  }

  case wabt::ExprType::Unary:
    return translateOpcode(expr, cast<wabt::UnaryExpr>(&expr)->opcode);
  case wabt::ExprType::Binary:
    return translateOpcode(expr, cast<wabt::BinaryExpr>(&expr)->opcode);
  case wabt::ExprType::Compare:
    return translateOpcode(expr, cast<wabt::CompareExpr>(&expr)->opcode);
  case wabt::ExprType::Convert:
    return translateOpcode(expr, cast<wabt::ConvertExpr>(&expr)->opcode);

  case wabt::ExprType::Load: {
    auto *load = cast<wabt::LoadExpr>(&expr);
    return translateMemoryAccess(expr, load->opcode, load->align, load->offset);
  }
  case wabt::ExprType::Store: {
    auto *store = cast<wabt::StoreExpr>(&expr);
    return translateMemoryAccess(expr, store->opcode, store->align,
                                 store->offset);
  }
  case wabt::ExprType::AtomicLoad:
    return translateAtomic(expr, cast<wabt::AtomicLoadExpr>(&expr)->opcode,
                           cast<wabt::AtomicLoadExpr>(&expr)->offset);
  case wabt::ExprType::AtomicStore:
    return translateAtomic(expr, cast<wabt::AtomicStoreExpr>(&expr)->opcode,
                           cast<wabt::AtomicStoreExpr>(&expr)->offset);
  case wabt::ExprType::AtomicRmw:
    return translateAtomic(expr, cast<wabt::AtomicRmwExpr>(&expr)->opcode,
                           cast<wabt::AtomicRmwExpr>(&expr)->offset);
  case wabt::ExprType::AtomicRmwCmpxchg:
    return translateAtomic(expr,
                           cast<wabt::AtomicRmwCmpxchgExpr>(&expr)->opcode,
                           cast<wabt::AtomicRmwCmpxchgExpr>(&expr)->offset);
  case wabt::ExprType::AtomicWait:
    return translateAtomic(expr, cast<wabt::AtomicWaitExpr>(&expr)->opcode,
                           cast<wabt::AtomicWaitExpr>(&expr)->offset);
  case wabt::ExprType::AtomicNotify:
    return translateAtomic(expr, cast<wabt::AtomicNotifyExpr>(&expr)->opcode,
                           cast<wabt::AtomicNotifyExpr>(&expr)->offset);
  case wabt::ExprType::AtomicFence:
    AtomicFenceOp::create(builder, location);
    return success();
  case wabt::ExprType::MemorySize:
    stack.push_back(
        MemorySizeOp::create(builder, location, builder.getI32Type()));
    return success();
  case wabt::ExprType::MemoryGrow: {
    FailureOr<Value> delta = pop();
    if (failed(delta))
      return failure();
    stack.push_back(
        MemoryGrowOp::create(builder, location, builder.getI32Type(), *delta));
    return success();
  }
  case wabt::ExprType::MemoryCopy:
  case wabt::ExprType::MemoryFill: {
    FailureOr<SmallVector<Value>> operands = pop(3);
    if (failed(operands))
      return failure();
    auto &o = *operands;
    if (expr.type() == wabt::ExprType::MemoryCopy)
      MemoryCopyOp::create(builder, location, o[0], o[1], o[2]);
    else
      MemoryFillOp::create(builder, location, o[0], o[1], o[2]);
    return success();
  }
  case wabt::ExprType::MemoryInit: {
    FailureOr<FlatSymbolRefAttr> segment =
        translation.dataSymbol(cast<wabt::MemoryInitExpr>(&expr)->var);
    FailureOr<SmallVector<Value>> operands = pop(3);
    if (failed(segment) || failed(operands))
      return failure();
    auto &o = *operands;
    MemoryInitOp::create(builder, location, *segment, o[0], o[1], o[2]);
    return success();
  }
  case wabt::ExprType::DataDrop: {
    FailureOr<FlatSymbolRefAttr> segment =
        translation.dataSymbol(cast<wabt::DataDropExpr>(&expr)->var);
    if (failed(segment))
      return failure();
    DataDropOp::create(builder, location, *segment);
    return success();
  }

  case wabt::ExprType::RefNull: {
    FailureOr<Type> type =
        translation.convertType(cast<wabt::RefNullExpr>(&expr)->type, expr.loc);
    if (failed(type))
      return failure();
    stack.push_back(RefNullOp::create(builder, location, *type));
    return success();
  }
  case wabt::ExprType::RefIsNull: {
    FailureOr<Value> ref = pop();
    if (failed(ref))
      return failure();
    stack.push_back(
        RefIsNullOp::create(builder, location, builder.getI32Type(), *ref));
    return success();
  }
  case wabt::ExprType::RefFunc: {
    FailureOr<FlatSymbolRefAttr> callee =
        translation.funcSymbol(cast<wabt::RefFuncExpr>(&expr)->var);
    if (failed(callee))
      return failure();
    stack.push_back(RefFuncOp::create(
        builder, location, FuncRefType::get(builder.getContext()), *callee));
    return success();
  }

  case wabt::ExprType::TableGet: {
    FailureOr<TableOp> table =
        translation.tableOp(cast<wabt::TableGetExpr>(&expr)->var);
    FailureOr<Value> index = pop();
    if (failed(table) || failed(index))
      return failure();
    stack.push_back(TableGetOp::create(builder, location, table->getElemType(),
                                       table->getSymName(), *index));
    return success();
  }
  case wabt::ExprType::TableSet: {
    FailureOr<FlatSymbolRefAttr> table =
        translation.tableSymbol(cast<wabt::TableSetExpr>(&expr)->var);
    FailureOr<SmallVector<Value>> operands = pop(2);
    if (failed(table) || failed(operands))
      return failure();
    TableSetOp::create(builder, location, *table, (*operands)[0],
                       (*operands)[1]);
    return success();
  }
  case wabt::ExprType::TableSize: {
    FailureOr<FlatSymbolRefAttr> table =
        translation.tableSymbol(cast<wabt::TableSizeExpr>(&expr)->var);
    if (failed(table))
      return failure();
    stack.push_back(
        TableSizeOp::create(builder, location, builder.getI32Type(), *table));
    return success();
  }
  case wabt::ExprType::TableGrow: {
    FailureOr<FlatSymbolRefAttr> table =
        translation.tableSymbol(cast<wabt::TableGrowExpr>(&expr)->var);
    FailureOr<SmallVector<Value>> operands = pop(2);
    if (failed(table) || failed(operands))
      return failure();
    stack.push_back(TableGrowOp::create(builder, location, builder.getI32Type(),
                                        *table, (*operands)[0],
                                        (*operands)[1]));
    return success();
  }
  case wabt::ExprType::TableFill: {
    FailureOr<FlatSymbolRefAttr> table =
        translation.tableSymbol(cast<wabt::TableFillExpr>(&expr)->var);
    FailureOr<SmallVector<Value>> operands = pop(3);
    if (failed(table) || failed(operands))
      return failure();
    auto &o = *operands;
    TableFillOp::create(builder, location, *table, o[0], o[1], o[2]);
    return success();
  }
  case wabt::ExprType::TableCopy: {
    auto *copy = cast<wabt::TableCopyExpr>(&expr);
    FailureOr<FlatSymbolRefAttr> dst = translation.tableSymbol(copy->dst_table);
    FailureOr<FlatSymbolRefAttr> src = translation.tableSymbol(copy->src_table);
    FailureOr<SmallVector<Value>> operands = pop(3);
    if (failed(dst) || failed(src) || failed(operands))
      return failure();
    auto &o = *operands;
    TableCopyOp::create(builder, location, *dst, *src, o[0], o[1], o[2]);
    return success();
  }
  case wabt::ExprType::TableInit: {
    auto *init = cast<wabt::TableInitExpr>(&expr);
    FailureOr<FlatSymbolRefAttr> table =
        translation.tableSymbol(init->table_index);
    FailureOr<FlatSymbolRefAttr> segment =
        translation.elemSymbol(init->segment_index);
    FailureOr<SmallVector<Value>> operands = pop(3);
    if (failed(table) || failed(segment) || failed(operands))
      return failure();
    auto &o = *operands;
    TableInitOp::create(builder, location, *table, *segment, o[0], o[1], o[2]);
    return success();
  }
  case wabt::ExprType::ElemDrop: {
    FailureOr<FlatSymbolRefAttr> segment =
        translation.elemSymbol(cast<wabt::ElemDropExpr>(&expr)->var);
    if (failed(segment))
      return failure();
    ElemDropOp::create(builder, location, *segment);
    return success();
  }

  case wabt::ExprType::SimdLaneOp:
  case wabt::ExprType::SimdLoadLane:
  case wabt::ExprType::SimdStoreLane:
  case wabt::ExprType::SimdShuffleOp:
  case wabt::ExprType::LoadSplat:
  case wabt::ExprType::LoadZero:
  case wabt::ExprType::Ternary:
    return translation.fail(expr.loc,
                            "SIMD instructions are not supported yet");
  default:
    return translation.fail(expr.loc, llvm::Twine("the instruction '") +
                                          wabt::GetExprTypeName(expr.type()) +
                                          "' is not part of WebAssembly 2.0");
  }
}

/// An instruction of the threads proposal. The twasm ops are named exactly
/// as the instructions are, so one generic path builds all 70 of them: pop
/// the operands the opcode takes, push its result, keep the offset (the
/// alignment is always the natural one: the validator checked).
LogicalResult FunctionTranslator::translateAtomic(const wabt::Expr &expr,
                                                  wabt::Opcode opcode,
                                                  wabt::Address offset) {
  if (offset > UINT32_MAX)
    return internalError(expr, "a memory offset beyond 32 bits");
  unsigned operandCount = 0;
  for (wabt::Type param :
       {opcode.GetParamType1(), opcode.GetParamType2(), opcode.GetParamType3()})
    if (param != wabt::Type::Void)
      ++operandCount;
  FailureOr<SmallVector<Value>> operands = pop(operandCount);
  if (failed(operands))
    return failure();
  OperationState state(location, std::string("twasm.") + opcode.GetName());
  state.addOperands(*operands);
  state.addAttribute("offset", builder.getI64IntegerAttr(offset));
  if (opcode.GetResultType() != wabt::Type::Void) {
    FailureOr<Type> type =
        translation.convertType(opcode.GetResultType(), expr.loc);
    if (failed(type))
      return failure();
    state.addTypes(*type);
  }
  if (!state.name.isRegistered())
    return internalError(expr,
                         std::string("no twasm op for ") + opcode.GetName());
  Operation *op = builder.create(state);
  stack.append(op->result_begin(), op->result_end());
  return success();
}

LogicalResult FunctionTranslator::translateMemoryAccess(const wabt::Expr &expr,
                                                        wabt::Opcode opcode,
                                                        wabt::Address align,
                                                        wabt::Address offset) {
  if (offset > UINT32_MAX)
    return internalError(expr, "a memory offset beyond 32 bits");
  IntegerAttr offsetAttr = builder.getI64IntegerAttr(offset);
  // The alignment is kept only where it differs from the natural one.
  IntegerAttr alignAttr;
  if (align != wabt::WABT_USE_NATURAL_ALIGNMENT &&
      align != opcode.GetMemorySize())
    alignAttr = builder.getI64IntegerAttr(align);

  auto load = [&](auto op) -> LogicalResult {
    using OpT = decltype(op);
    FailureOr<Value> address = pop();
    if (failed(address))
      return failure();
    FailureOr<Type> type =
        translation.convertType(opcode.GetResultType(), expr.loc);
    if (failed(type))
      return failure();
    stack.push_back(OpT::create(builder, location, *type, *address, offsetAttr,
                                alignAttr,
                                /*in_bounds=*/UnitAttr()));
    return success();
  };
  auto store = [&](auto op) -> LogicalResult {
    using OpT = decltype(op);
    FailureOr<SmallVector<Value>> operands = pop(2);
    if (failed(operands))
      return failure();
    OpT::create(builder, location, (*operands)[0], (*operands)[1], offsetAttr,
                alignAttr, /*in_bounds=*/UnitAttr());
    return success();
  };

  switch (opcode) {
  case wabt::Opcode::I32Load:
    return load(I32LoadOp());
  case wabt::Opcode::I64Load:
    return load(I64LoadOp());
  case wabt::Opcode::F32Load:
    return load(F32LoadOp());
  case wabt::Opcode::F64Load:
    return load(F64LoadOp());
  case wabt::Opcode::I32Load8S:
    return load(I32Load8SOp());
  case wabt::Opcode::I32Load8U:
    return load(I32Load8UOp());
  case wabt::Opcode::I32Load16S:
    return load(I32Load16SOp());
  case wabt::Opcode::I32Load16U:
    return load(I32Load16UOp());
  case wabt::Opcode::I64Load8S:
    return load(I64Load8SOp());
  case wabt::Opcode::I64Load8U:
    return load(I64Load8UOp());
  case wabt::Opcode::I64Load16S:
    return load(I64Load16SOp());
  case wabt::Opcode::I64Load16U:
    return load(I64Load16UOp());
  case wabt::Opcode::I64Load32S:
    return load(I64Load32SOp());
  case wabt::Opcode::I64Load32U:
    return load(I64Load32UOp());
  case wabt::Opcode::I32Store:
    return store(I32StoreOp());
  case wabt::Opcode::I64Store:
    return store(I64StoreOp());
  case wabt::Opcode::F32Store:
    return store(F32StoreOp());
  case wabt::Opcode::F64Store:
    return store(F64StoreOp());
  case wabt::Opcode::I32Store8:
    return store(I32Store8Op());
  case wabt::Opcode::I32Store16:
    return store(I32Store16Op());
  case wabt::Opcode::I64Store8:
    return store(I64Store8Op());
  case wabt::Opcode::I64Store16:
    return store(I64Store16Op());
  case wabt::Opcode::I64Store32:
    return store(I64Store32Op());
  default:
    return translation.fail(expr.loc,
                            "SIMD memory instructions are not supported yet");
  }
}

LogicalResult FunctionTranslator::translateOpcode(const wabt::Expr &expr,
                                                  wabt::Opcode opcode) {
  switch (opcode) {
  // i32
  case wabt::Opcode::I32Eqz:
    return unary<I32EqzOp>();
  case wabt::Opcode::I32Clz:
    return unary<I32ClzOp>();
  case wabt::Opcode::I32Ctz:
    return unary<I32CtzOp>();
  case wabt::Opcode::I32Popcnt:
    return unary<I32PopcntOp>();
  case wabt::Opcode::I32Extend8S:
    return unary<I32Extend8SOp>();
  case wabt::Opcode::I32Extend16S:
    return unary<I32Extend16SOp>();
  case wabt::Opcode::I32Eq:
    return binary<I32EqOp>();
  case wabt::Opcode::I32Ne:
    return binary<I32NeOp>();
  case wabt::Opcode::I32LtS:
    return binary<I32LtSOp>();
  case wabt::Opcode::I32LtU:
    return binary<I32LtUOp>();
  case wabt::Opcode::I32GtS:
    return binary<I32GtSOp>();
  case wabt::Opcode::I32GtU:
    return binary<I32GtUOp>();
  case wabt::Opcode::I32LeS:
    return binary<I32LeSOp>();
  case wabt::Opcode::I32LeU:
    return binary<I32LeUOp>();
  case wabt::Opcode::I32GeS:
    return binary<I32GeSOp>();
  case wabt::Opcode::I32GeU:
    return binary<I32GeUOp>();
  case wabt::Opcode::I32Add:
    return binary<I32AddOp>();
  case wabt::Opcode::I32Sub:
    return binary<I32SubOp>();
  case wabt::Opcode::I32Mul:
    return binary<I32MulOp>();
  case wabt::Opcode::I32DivS:
    return binary<I32DivSOp>();
  case wabt::Opcode::I32DivU:
    return binary<I32DivUOp>();
  case wabt::Opcode::I32RemS:
    return binary<I32RemSOp>();
  case wabt::Opcode::I32RemU:
    return binary<I32RemUOp>();
  case wabt::Opcode::I32And:
    return binary<I32AndOp>();
  case wabt::Opcode::I32Or:
    return binary<I32OrOp>();
  case wabt::Opcode::I32Xor:
    return binary<I32XorOp>();
  case wabt::Opcode::I32Shl:
    return binary<I32ShlOp>();
  case wabt::Opcode::I32ShrS:
    return binary<I32ShrSOp>();
  case wabt::Opcode::I32ShrU:
    return binary<I32ShrUOp>();
  case wabt::Opcode::I32Rotl:
    return binary<I32RotlOp>();
  case wabt::Opcode::I32Rotr:
    return binary<I32RotrOp>();
  // i64
  case wabt::Opcode::I64Eqz:
    return unary<I64EqzOp>();
  case wabt::Opcode::I64Clz:
    return unary<I64ClzOp>();
  case wabt::Opcode::I64Ctz:
    return unary<I64CtzOp>();
  case wabt::Opcode::I64Popcnt:
    return unary<I64PopcntOp>();
  case wabt::Opcode::I64Extend8S:
    return unary<I64Extend8SOp>();
  case wabt::Opcode::I64Extend16S:
    return unary<I64Extend16SOp>();
  case wabt::Opcode::I64Extend32S:
    return unary<I64Extend32SOp>();
  case wabt::Opcode::I64Eq:
    return binary<I64EqOp>();
  case wabt::Opcode::I64Ne:
    return binary<I64NeOp>();
  case wabt::Opcode::I64LtS:
    return binary<I64LtSOp>();
  case wabt::Opcode::I64LtU:
    return binary<I64LtUOp>();
  case wabt::Opcode::I64GtS:
    return binary<I64GtSOp>();
  case wabt::Opcode::I64GtU:
    return binary<I64GtUOp>();
  case wabt::Opcode::I64LeS:
    return binary<I64LeSOp>();
  case wabt::Opcode::I64LeU:
    return binary<I64LeUOp>();
  case wabt::Opcode::I64GeS:
    return binary<I64GeSOp>();
  case wabt::Opcode::I64GeU:
    return binary<I64GeUOp>();
  case wabt::Opcode::I64Add:
    return binary<I64AddOp>();
  case wabt::Opcode::I64Sub:
    return binary<I64SubOp>();
  case wabt::Opcode::I64Mul:
    return binary<I64MulOp>();
  case wabt::Opcode::I64DivS:
    return binary<I64DivSOp>();
  case wabt::Opcode::I64DivU:
    return binary<I64DivUOp>();
  case wabt::Opcode::I64RemS:
    return binary<I64RemSOp>();
  case wabt::Opcode::I64RemU:
    return binary<I64RemUOp>();
  case wabt::Opcode::I64And:
    return binary<I64AndOp>();
  case wabt::Opcode::I64Or:
    return binary<I64OrOp>();
  case wabt::Opcode::I64Xor:
    return binary<I64XorOp>();
  case wabt::Opcode::I64Shl:
    return binary<I64ShlOp>();
  case wabt::Opcode::I64ShrS:
    return binary<I64ShrSOp>();
  case wabt::Opcode::I64ShrU:
    return binary<I64ShrUOp>();
  case wabt::Opcode::I64Rotl:
    return binary<I64RotlOp>();
  case wabt::Opcode::I64Rotr:
    return binary<I64RotrOp>();
  // f32
  case wabt::Opcode::F32Abs:
    return unary<F32AbsOp>();
  case wabt::Opcode::F32Neg:
    return unary<F32NegOp>();
  case wabt::Opcode::F32Ceil:
    return unary<F32CeilOp>();
  case wabt::Opcode::F32Floor:
    return unary<F32FloorOp>();
  case wabt::Opcode::F32Trunc:
    return unary<F32TruncOp>();
  case wabt::Opcode::F32Nearest:
    return unary<F32NearestOp>();
  case wabt::Opcode::F32Sqrt:
    return unary<F32SqrtOp>();
  case wabt::Opcode::F32Add:
    return binary<F32AddOp>();
  case wabt::Opcode::F32Sub:
    return binary<F32SubOp>();
  case wabt::Opcode::F32Mul:
    return binary<F32MulOp>();
  case wabt::Opcode::F32Div:
    return binary<F32DivOp>();
  case wabt::Opcode::F32Min:
    return binary<F32MinOp>();
  case wabt::Opcode::F32Max:
    return binary<F32MaxOp>();
  case wabt::Opcode::F32Copysign:
    return binary<F32CopysignOp>();
  case wabt::Opcode::F32Eq:
    return binary<F32EqOp>();
  case wabt::Opcode::F32Ne:
    return binary<F32NeOp>();
  case wabt::Opcode::F32Lt:
    return binary<F32LtOp>();
  case wabt::Opcode::F32Gt:
    return binary<F32GtOp>();
  case wabt::Opcode::F32Le:
    return binary<F32LeOp>();
  case wabt::Opcode::F32Ge:
    return binary<F32GeOp>();
  // f64
  case wabt::Opcode::F64Abs:
    return unary<F64AbsOp>();
  case wabt::Opcode::F64Neg:
    return unary<F64NegOp>();
  case wabt::Opcode::F64Ceil:
    return unary<F64CeilOp>();
  case wabt::Opcode::F64Floor:
    return unary<F64FloorOp>();
  case wabt::Opcode::F64Trunc:
    return unary<F64TruncOp>();
  case wabt::Opcode::F64Nearest:
    return unary<F64NearestOp>();
  case wabt::Opcode::F64Sqrt:
    return unary<F64SqrtOp>();
  case wabt::Opcode::F64Add:
    return binary<F64AddOp>();
  case wabt::Opcode::F64Sub:
    return binary<F64SubOp>();
  case wabt::Opcode::F64Mul:
    return binary<F64MulOp>();
  case wabt::Opcode::F64Div:
    return binary<F64DivOp>();
  case wabt::Opcode::F64Min:
    return binary<F64MinOp>();
  case wabt::Opcode::F64Max:
    return binary<F64MaxOp>();
  case wabt::Opcode::F64Copysign:
    return binary<F64CopysignOp>();
  case wabt::Opcode::F64Eq:
    return binary<F64EqOp>();
  case wabt::Opcode::F64Ne:
    return binary<F64NeOp>();
  case wabt::Opcode::F64Lt:
    return binary<F64LtOp>();
  case wabt::Opcode::F64Gt:
    return binary<F64GtOp>();
  case wabt::Opcode::F64Le:
    return binary<F64LeOp>();
  case wabt::Opcode::F64Ge:
    return binary<F64GeOp>();
  // conversions
  case wabt::Opcode::I32WrapI64:
    return unary<I32WrapI64Op>();
  case wabt::Opcode::I32TruncF32S:
    return unary<I32TruncF32SOp>();
  case wabt::Opcode::I32TruncF32U:
    return unary<I32TruncF32UOp>();
  case wabt::Opcode::I32TruncF64S:
    return unary<I32TruncF64SOp>();
  case wabt::Opcode::I32TruncF64U:
    return unary<I32TruncF64UOp>();
  case wabt::Opcode::I64ExtendI32S:
    return unary<I64ExtendI32SOp>();
  case wabt::Opcode::I64ExtendI32U:
    return unary<I64ExtendI32UOp>();
  case wabt::Opcode::I64TruncF32S:
    return unary<I64TruncF32SOp>();
  case wabt::Opcode::I64TruncF32U:
    return unary<I64TruncF32UOp>();
  case wabt::Opcode::I64TruncF64S:
    return unary<I64TruncF64SOp>();
  case wabt::Opcode::I64TruncF64U:
    return unary<I64TruncF64UOp>();
  case wabt::Opcode::F32ConvertI32S:
    return unary<F32ConvertI32SOp>();
  case wabt::Opcode::F32ConvertI32U:
    return unary<F32ConvertI32UOp>();
  case wabt::Opcode::F32ConvertI64S:
    return unary<F32ConvertI64SOp>();
  case wabt::Opcode::F32ConvertI64U:
    return unary<F32ConvertI64UOp>();
  case wabt::Opcode::F32DemoteF64:
    return unary<F32DemoteF64Op>();
  case wabt::Opcode::F64ConvertI32S:
    return unary<F64ConvertI32SOp>();
  case wabt::Opcode::F64ConvertI32U:
    return unary<F64ConvertI32UOp>();
  case wabt::Opcode::F64ConvertI64S:
    return unary<F64ConvertI64SOp>();
  case wabt::Opcode::F64ConvertI64U:
    return unary<F64ConvertI64UOp>();
  case wabt::Opcode::F64PromoteF32:
    return unary<F64PromoteF32Op>();
  case wabt::Opcode::I32ReinterpretF32:
    return unary<I32ReinterpretF32Op>();
  case wabt::Opcode::I64ReinterpretF64:
    return unary<I64ReinterpretF64Op>();
  case wabt::Opcode::F32ReinterpretI32:
    return unary<F32ReinterpretI32Op>();
  case wabt::Opcode::F64ReinterpretI64:
    return unary<F64ReinterpretI64Op>();
  case wabt::Opcode::I32TruncSatF32S:
    return unary<I32TruncSatF32SOp>();
  case wabt::Opcode::I32TruncSatF32U:
    return unary<I32TruncSatF32UOp>();
  case wabt::Opcode::I32TruncSatF64S:
    return unary<I32TruncSatF64SOp>();
  case wabt::Opcode::I32TruncSatF64U:
    return unary<I32TruncSatF64UOp>();
  case wabt::Opcode::I64TruncSatF32S:
    return unary<I64TruncSatF32SOp>();
  case wabt::Opcode::I64TruncSatF32U:
    return unary<I64TruncSatF32UOp>();
  case wabt::Opcode::I64TruncSatF64S:
    return unary<I64TruncSatF64SOp>();
  case wabt::Opcode::I64TruncSatF64U:
    return unary<I64TruncSatF64UOp>();
  default:
    return translation.fail(expr.loc, llvm::Twine("the instruction '") +
                                          opcode.GetName() +
                                          "' is not supported yet (SIMD)");
  }
}

LogicalResult
import_detail::translateFunctionBody(ModuleTranslation &translation,
                                     const wabt::Func &func, FuncOp funcOp) {
  return FunctionTranslator(translation, func, funcOp).translate();
}
