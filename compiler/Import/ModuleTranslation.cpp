//===- ModuleTranslation.cpp - a validated wabt::Module to twasm.module
//----===//

#include "Translation.h"

#include "wabt/cast.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::twasm;
using namespace mlir::twasm::import_detail;

ModuleTranslation::ModuleTranslation(MLIRContext &context,
                                     llvm::StringRef filename,
                                     const wabt::Module &module,
                                     const EncodedText *text)
    : context(context), module(module), filename(filename), text(text) {}

//===----------------------------------------------------------------------===//
// Errors and locations
//===----------------------------------------------------------------------===//

LogicalResult ModuleTranslation::fail(const wabt::Location &location,
                                      const llvm::Twine &reason) {
  if (!errorMessage.empty())
    return failure();
  errorMessage = reason.str();
  if (location.offset == wabt::kInvalidOffset)
    return failure();
  if (text) {
    TextPosition position = text->positionOf(location.offset);
    errorMessage += llvm::formatv(" (at line {0}, column {1})", position.line,
                                  position.column);
  } else {
    errorMessage += llvm::formatv(" (at byte offset {0:x})", location.offset);
  }
  return failure();
}

Location ModuleTranslation::location(const wabt::Location &location) {
  size_t offset = location.offset == wabt::kInvalidOffset ? 0 : location.offset;
  if (text) {
    TextPosition position = text->positionOf(offset);
    return FileLineColLoc::get(&context, filename, position.line,
                               position.column);
  }
  return FileLineColLoc::get(&context, filename, 0,
                             static_cast<unsigned>(offset));
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

FailureOr<Type> ModuleTranslation::convertType(wabt::Type type,
                                               const wabt::Location &where) {
  Builder builder(&context);
  switch (type) {
  case wabt::Type::I32:
    return Type(builder.getI32Type());
  case wabt::Type::I64:
    return Type(builder.getI64Type());
  case wabt::Type::F32:
    return Type(builder.getF32Type());
  case wabt::Type::F64:
    return Type(builder.getF64Type());
  case wabt::Type::FuncRef:
    return Type(FuncRefType::get(&context));
  case wabt::Type::ExternRef:
    return Type(ExternRefType::get(&context));
  case wabt::Type::V128:
    return fail(where, "SIMD (the v128 type) is not supported yet");
  default:
    return fail(where, llvm::Twine("the value type '") + type.GetName() +
                           "' is not part of WebAssembly 2.0");
  }
}

FailureOr<FunctionType>
ModuleTranslation::convertSignature(const wabt::FuncSignature &signature,
                                    const wabt::Location &where) {
  SmallVector<Type> inputs, results;
  for (wabt::Type type : signature.param_types) {
    FailureOr<Type> converted = convertType(type, where);
    if (failed(converted))
      return failure();
    inputs.push_back(*converted);
  }
  for (wabt::Type type : signature.result_types) {
    FailureOr<Type> converted = convertType(type, where);
    if (failed(converted))
      return failure();
    results.push_back(*converted);
  }
  return FunctionType::get(&context, inputs, results);
}

const wabt::FuncSignature &
ModuleTranslation::signatureOf(const wabt::FuncDeclaration &decl) {
  if (decl.has_func_type)
    if (const wabt::FuncType *type = module.GetFuncType(decl.type_var))
      return type->sig;
  return decl.sig;
}

//===----------------------------------------------------------------------===//
// Symbols
//===----------------------------------------------------------------------===//

/// Wabt spells names from the name section and the text format with a `$`.
static llvm::StringRef stripDollar(llvm::StringRef name) {
  name.consume_front("$");
  return name;
}

StringAttr ModuleTranslation::uniqueSymbol(llvm::StringRef preferred,
                                           llvm::StringRef kind, size_t index) {
  std::string candidate =
      preferred.empty() ? (kind + llvm::Twine(index)).str() : preferred.str();
  if (!usedSymbols.insert(candidate).second) {
    std::string base = (kind + llvm::Twine(index)).str();
    candidate = base;
    for (unsigned suffix = 1; !usedSymbols.insert(candidate).second; ++suffix)
      candidate = (base + "_" + llvm::Twine(suffix)).str();
  }
  return StringAttr::get(&context, candidate);
}

void ModuleTranslation::assignSymbolNames() {
  // A definition is named by the name section (or text identifier), else by
  // its first export, else by its kind and index.
  llvm::DenseMap<std::pair<int, wabt::Index>, llvm::StringRef> exportNames;
  for (const wabt::Export *exp : module.exports) {
    wabt::Index index = wabt::kInvalidIndex;
    switch (exp->kind) {
    case wabt::ExternalKind::Func:
      index = module.GetFuncIndex(exp->var);
      break;
    case wabt::ExternalKind::Table:
      index = module.GetTableIndex(exp->var);
      break;
    case wabt::ExternalKind::Memory:
      index = module.GetMemoryIndex(exp->var);
      break;
    case wabt::ExternalKind::Global:
      index = module.GetGlobalIndex(exp->var);
      break;
    case wabt::ExternalKind::Tag:
      continue;
    }
    exportNames.try_emplace({static_cast<int>(exp->kind), index}, exp->name);
  }
  auto preferredName = [&](llvm::StringRef name, wabt::ExternalKind kind,
                           size_t index) -> llvm::StringRef {
    if (!stripDollar(name).empty())
      return stripDollar(name);
    auto it = exportNames.find({static_cast<int>(kind), index});
    return it == exportNames.end() ? llvm::StringRef() : it->second;
  };

  for (auto [index, func] : llvm::enumerate(module.funcs))
    funcNames.push_back(
        uniqueSymbol(preferredName(func->name, wabt::ExternalKind::Func, index),
                     "func", index));
  for (auto [index, global] : llvm::enumerate(module.globals))
    globalNames.push_back(uniqueSymbol(
        preferredName(global->name, wabt::ExternalKind::Global, index),
        "global", index));
  for (auto [index, table] : llvm::enumerate(module.tables))
    tableNames.push_back(uniqueSymbol(
        preferredName(table->name, wabt::ExternalKind::Table, index), "table",
        index));
  for (auto [index, memory] : llvm::enumerate(module.memories))
    memoryNames.push_back(uniqueSymbol(
        preferredName(memory->name, wabt::ExternalKind::Memory, index),
        "memory", index));
  for (auto [index, segment] : llvm::enumerate(module.data_segments))
    dataNames.push_back(
        uniqueSymbol(stripDollar(segment->name), "data", index));
  for (auto [index, segment] : llvm::enumerate(module.elem_segments))
    elemNames.push_back(
        uniqueSymbol(stripDollar(segment->name), "elem", index));
}

FailureOr<FlatSymbolRefAttr>
ModuleTranslation::symbolAt(llvm::ArrayRef<StringAttr> names, wabt::Index index,
                            const wabt::Var &var, llvm::StringRef kind) {
  if (index >= names.size())
    return fail(var.loc, llvm::Twine("unknown ") + kind);
  return FlatSymbolRefAttr::get(names[index]);
}

FailureOr<FlatSymbolRefAttr>
ModuleTranslation::funcSymbol(const wabt::Var &var) {
  return symbolAt(funcNames, module.GetFuncIndex(var), var, "function");
}
FailureOr<FlatSymbolRefAttr>
ModuleTranslation::globalSymbol(const wabt::Var &var) {
  return symbolAt(globalNames, module.GetGlobalIndex(var), var, "global");
}
FailureOr<FlatSymbolRefAttr>
ModuleTranslation::tableSymbol(const wabt::Var &var) {
  return symbolAt(tableNames, module.GetTableIndex(var), var, "table");
}
FailureOr<FlatSymbolRefAttr>
ModuleTranslation::dataSymbol(const wabt::Var &var) {
  return symbolAt(dataNames, module.GetDataSegmentIndex(var), var,
                  "data segment");
}
FailureOr<FlatSymbolRefAttr>
ModuleTranslation::elemSymbol(const wabt::Var &var) {
  return symbolAt(elemNames, module.GetElemSegmentIndex(var), var,
                  "element segment");
}

FailureOr<FuncOp> ModuleTranslation::funcOp(const wabt::Var &var) {
  wabt::Index index = module.GetFuncIndex(var);
  if (index >= funcOps.size())
    return fail(var.loc, "unknown function");
  return funcOps[index];
}
FailureOr<GlobalOp> ModuleTranslation::globalOp(const wabt::Var &var) {
  wabt::Index index = module.GetGlobalIndex(var);
  if (index >= globalOps.size())
    return fail(var.loc, "unknown global");
  return globalOps[index];
}
FailureOr<TableOp> ModuleTranslation::tableOp(const wabt::Var &var) {
  wabt::Index index = module.GetTableIndex(var);
  if (index >= tableOps.size())
    return fail(var.loc, "unknown table");
  return tableOps[index];
}

ImportAttr ModuleTranslation::importOf(wabt::ExternalKind kind, size_t index) {
  // Imports come first in each index space, in import order.
  if (importsByKind.empty()) {
    importsByKind.resize(static_cast<size_t>(wabt::ExternalKind::Last) + 1);
    for (const wabt::Import *import : module.imports)
      importsByKind[static_cast<size_t>(import->kind())].push_back(import);
  }
  const auto &imports = importsByKind[static_cast<size_t>(kind)];
  if (index >= imports.size())
    return {};
  return ImportAttr::get(&context, imports[index]->module_name,
                         imports[index]->field_name);
}

//===----------------------------------------------------------------------===//
// Definitions
//===----------------------------------------------------------------------===//

LogicalResult ModuleTranslation::translateMemory(OpBuilder &builder,
                                                 size_t index) {
  const wabt::Memory &memory = *module.memories[index];
  const wabt::Limits &limits = memory.page_limits;
  wabt::Location where;
  if (limits.is_64)
    return fail(where, "64-bit memories are not part of WebAssembly 2.0");
  IntegerAttr max =
      limits.has_max ? builder.getI64IntegerAttr(limits.max) : IntegerAttr();
  MemoryOp::create(builder, location(where), memoryNames[index],
                   builder.getI64IntegerAttr(limits.initial), max,
                   limits.is_shared ? builder.getUnitAttr() : UnitAttr(),
                   importOf(wabt::ExternalKind::Memory, index));
  return success();
}

LogicalResult ModuleTranslation::translateTable(OpBuilder &builder,
                                                size_t index) {
  const wabt::Table &table = *module.tables[index];
  wabt::Location where;
  FailureOr<Type> elemType = convertType(table.elem_type, where);
  if (failed(elemType))
    return failure();
  const wabt::Limits &limits = table.elem_limits;
  IntegerAttr max =
      limits.has_max ? builder.getI64IntegerAttr(limits.max) : IntegerAttr();
  tableOps.push_back(TableOp::create(
      builder, location(where), tableNames[index], TypeAttr::get(*elemType),
      builder.getI64IntegerAttr(limits.initial), max,
      importOf(wabt::ExternalKind::Table, index)));
  return success();
}

LogicalResult ModuleTranslation::translateGlobal(OpBuilder &builder,
                                                 size_t index) {
  const wabt::Global &global = *module.globals[index];
  wabt::Location where;
  FailureOr<Type> type = convertType(global.type, where);
  if (failed(type))
    return failure();
  ImportAttr import = importOf(wabt::ExternalKind::Global, index);
  auto op = GlobalOp::create(
      builder, location(where), globalNames[index], TypeAttr::get(*type),
      global.mutable_ ? builder.getUnitAttr() : UnitAttr(), import);
  globalOps.push_back(op);
  if (import)
    return success();
  return translateConstantExpression(global.init_expr, op.getInit(), *type,
                                     where, "global initializer");
}

LogicalResult ModuleTranslation::translateFunction(OpBuilder &builder,
                                                   size_t index) {
  const wabt::Func &func = *module.funcs[index];
  FailureOr<FunctionType> type =
      convertSignature(signatureOf(func.decl), func.loc);
  if (failed(type))
    return failure();
  auto op =
      FuncOp::create(builder, location(func.loc), funcNames[index], *type);
  if (ImportAttr import = importOf(wabt::ExternalKind::Func, index))
    op.setImportAttr(import);
  funcOps.push_back(op);
  return success();
}

LogicalResult ModuleTranslation::translateElemSegment(OpBuilder &builder,
                                                      size_t index) {
  const wabt::ElemSegment &segment = *module.elem_segments[index];
  wabt::Location where;
  FailureOr<Type> elemType = convertType(segment.elem_type, where);
  if (failed(elemType))
    return failure();
  SegmentMode mode = SegmentMode::Active;
  FlatSymbolRefAttr table;
  if (segment.kind == wabt::SegmentKind::Passive) {
    mode = SegmentMode::Passive;
  } else if (segment.kind == wabt::SegmentKind::Declared) {
    mode = SegmentMode::Declarative;
  } else {
    FailureOr<FlatSymbolRefAttr> tableRef = tableSymbol(segment.table_var);
    if (failed(tableRef))
      return failure();
    table = *tableRef;
  }
  auto op = ElemOp::create(builder, location(where), elemNames[index],
                           TypeAttr::get(*elemType),
                           SegmentModeAttr::get(&context, mode), table);
  if (mode == SegmentMode::Active &&
      failed(translateConstantExpression(segment.offset, op.getOffset(),
                                         builder.getI32Type(), where,
                                         "element segment offset")))
    return failure();

  // The items are constant expressions of one value each; one region yields
  // them all.
  OpBuilder itemBuilder(&context);
  itemBuilder.createBlock(&op.getItems());
  SmallVector<Value> values;
  for (const wabt::ExprList &item : segment.elem_exprs) {
    if (item.size() != 1)
      return fail(where, "type mismatch: an element segment item must be one "
                         "constant instruction");
    FailureOr<Value> value =
        constantInstruction(itemBuilder, item.front(), "element segment item");
    if (failed(value))
      return failure();
    values.push_back(*value);
  }
  YieldOp::create(itemBuilder, location(where), values);
  return success();
}

LogicalResult ModuleTranslation::translateDataSegment(OpBuilder &builder,
                                                      size_t index) {
  const wabt::DataSegment &segment = *module.data_segments[index];
  wabt::Location where;
  llvm::StringRef bytes(reinterpret_cast<const char *>(segment.data.data()),
                        segment.data.size());
  auto op = DataOp::create(builder, location(where), dataNames[index],
                           builder.getStringAttr(bytes));
  if (segment.kind == wabt::SegmentKind::Passive)
    return success();
  return translateConstantExpression(segment.offset, op.getOffset(),
                                     builder.getI32Type(), where,
                                     "data segment offset");
}

LogicalResult ModuleTranslation::translateExport(OpBuilder &builder,
                                                 const wabt::Export &exp) {
  ExternKind kind;
  FailureOr<FlatSymbolRefAttr> target;
  switch (exp.kind) {
  case wabt::ExternalKind::Func:
    kind = ExternKind::Func;
    target = funcSymbol(exp.var);
    break;
  case wabt::ExternalKind::Table:
    kind = ExternKind::Table;
    target = tableSymbol(exp.var);
    break;
  case wabt::ExternalKind::Memory:
    kind = ExternKind::Memory;
    target = symbolAt(memoryNames, module.GetMemoryIndex(exp.var), exp.var,
                      "memory");
    break;
  case wabt::ExternalKind::Global:
    kind = ExternKind::Global;
    target = globalSymbol(exp.var);
    break;
  case wabt::ExternalKind::Tag:
    return fail(exp.var.loc, "exception tags are not part of WebAssembly 2.0");
  }
  if (failed(target))
    return failure();
  ExportOp::create(builder, location(exp.var.loc),
                   builder.getStringAttr(exp.name),
                   ExternKindAttr::get(&context, kind), *target);
  return success();
}

FailureOr<Value>
ModuleTranslation::createConstant(OpBuilder &builder, Location loc,
                                  const wabt::Const &value,
                                  const wabt::Location &where) {
  switch (value.type()) {
  case wabt::Type::I32:
    return Value(I32ConstOp::create(builder, loc,
                                    builder.getI32IntegerAttr(value.u32())));
  case wabt::Type::I64:
    return Value(I64ConstOp::create(
        builder, loc,
        builder.getI64IntegerAttr(static_cast<int64_t>(value.u64()))));
  case wabt::Type::F32:
    return Value(F32ConstOp::create(
        builder, loc,
        builder.getF32FloatAttr(llvm::bit_cast<float>(value.f32_bits()))));
  case wabt::Type::F64:
    return Value(F64ConstOp::create(
        builder, loc,
        builder.getF64FloatAttr(llvm::bit_cast<double>(value.f64_bits()))));
  default:
    return fail(where, "SIMD (the v128 type) is not supported yet");
  }
}

FailureOr<Value> ModuleTranslation::constantInstruction(OpBuilder &builder,
                                                        const wabt::Expr &expr,
                                                        llvm::StringRef what) {
  Location loc = location(expr.loc);
  if (auto *constant = wabt::dyn_cast<wabt::ConstExpr>(&expr))
    return createConstant(builder, loc, constant->const_, expr.loc);
  if (auto *get = wabt::dyn_cast<wabt::GlobalGetExpr>(&expr)) {
    FailureOr<GlobalOp> global = globalOp(get->var);
    if (failed(global))
      return failure();
    return Value(GlobalGetOp::create(builder, loc, global->getType(),
                                     global->getSymName()));
  }
  if (auto *refNull = wabt::dyn_cast<wabt::RefNullExpr>(&expr)) {
    FailureOr<Type> type = convertType(refNull->type, expr.loc);
    if (failed(type))
      return failure();
    return Value(RefNullOp::create(builder, loc, *type));
  }
  if (auto *refFunc = wabt::dyn_cast<wabt::RefFuncExpr>(&expr)) {
    FailureOr<FlatSymbolRefAttr> func = funcSymbol(refFunc->var);
    if (failed(func))
      return failure();
    return Value(
        RefFuncOp::create(builder, loc, FuncRefType::get(&context), *func));
  }
  return fail(expr.loc,
              llvm::Twine("constant expression required in a ") + what);
}

LogicalResult ModuleTranslation::translateConstantExpression(
    const wabt::ExprList &exprs, Region &region, TypeRange expected,
    const wabt::Location &owner, llvm::StringRef what) {
  OpBuilder builder(&context);
  builder.createBlock(&region);
  SmallVector<Value> values;
  for (const wabt::Expr &expr : exprs) {
    FailureOr<Value> value = constantInstruction(builder, expr, what);
    if (failed(value))
      return failure();
    values.push_back(*value);
  }
  // The validator guarantees one value of the expected type (wabt 1.0.32's
  // own validator does not: it accepts an empty segment offset); checked
  // again so that a broken guarantee is an error, not a bad module.
  if (TypeRange(ValueRange(values)) != expected)
    return fail(owner, llvm::Twine("type mismatch: the ") + what +
                           " must produce exactly one value of the expected "
                           "type");
  YieldOp::create(builder, location(owner), values);
  return success();
}

//===----------------------------------------------------------------------===//
// The module
//===----------------------------------------------------------------------===//

OwningOpRef<twasm::ModuleOp> ModuleTranslation::translate() {
  assignSymbolNames();
  OpBuilder builder(&context);
  StringAttr name;
  if (!stripDollar(module.name).empty())
    name = builder.getStringAttr(stripDollar(module.name));
  OwningOpRef<twasm::ModuleOp> result = twasm::ModuleOp::create(
      builder, FileLineColLoc::get(&context, filename, 0, 0),
      name ? name.getValue() : llvm::StringRef());
  builder.setInsertionPointToEnd(result->getBody());

  for (size_t i = 0; i < module.memories.size(); ++i)
    if (failed(translateMemory(builder, i)))
      return nullptr;
  for (size_t i = 0; i < module.tables.size(); ++i)
    if (failed(translateTable(builder, i)))
      return nullptr;
  for (size_t i = 0; i < module.globals.size(); ++i)
    if (failed(translateGlobal(builder, i)))
      return nullptr;
  // Create every function before translating bodies, so calls can find them.
  for (size_t i = 0; i < module.funcs.size(); ++i)
    if (failed(translateFunction(builder, i)))
      return nullptr;
  for (size_t i = 0; i < module.elem_segments.size(); ++i)
    if (failed(translateElemSegment(builder, i)))
      return nullptr;
  for (size_t i = 0; i < module.data_segments.size(); ++i)
    if (failed(translateDataSegment(builder, i)))
      return nullptr;
  for (const wabt::Export *exp : module.exports)
    if (failed(translateExport(builder, *exp)))
      return nullptr;
  for (const wabt::Var *start : module.starts) {
    FailureOr<FlatSymbolRefAttr> func = funcSymbol(*start);
    if (failed(func))
      return nullptr;
    StartOp::create(builder, location(start->loc), *func);
  }

  for (auto [index, func] : llvm::enumerate(module.funcs)) {
    if (funcOps[index].isImported())
      continue;
    if (failed(translateFunctionBody(*this, *func, funcOps[index])))
      return nullptr;
  }
  return result;
}
