//===- Translation.h - state shared by the module and body translators ----===//
//
// Private to the importer. The input is a wabt::Module that wabt's binary
// reader built from a module our validator accepted; translation still checks
// every assumption it relies on and reports a violated one as an error, never
// as a crash.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_COMPILER_IMPORT_TRANSLATION_H
#define TWASM_COMPILER_IMPORT_TRANSLATION_H

#include "TextParser.h"

#include "twasm/TwasmOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include "wabt/ir.h"

#include <string>

namespace mlir::twasm::import_detail {

class ModuleTranslation {
public:
  /// `text` is the text module `module` was encoded from, if any: byte
  /// offsets then map back to its lines and columns.
  ModuleTranslation(MLIRContext &context, llvm::StringRef filename,
                    const wabt::Module &module, const EncodedText *text);

  /// Builds the twasm.module; on failure `error()` says why.
  OwningOpRef<ModuleOp> translate();
  const std::string &error() const { return errorMessage; }

  /// Records the first error, positioned at `location`, and returns failure.
  LogicalResult fail(const wabt::Location &location, const llvm::Twine &reason);
  Location location(const wabt::Location &location);

  FailureOr<Type> convertType(wabt::Type type, const wabt::Location &where);
  FailureOr<FunctionType> convertSignature(const wabt::FuncSignature &signature,
                                           const wabt::Location &where);
  /// The signature a block type or call_indirect type use stands for.
  const wabt::FuncSignature &signatureOf(const wabt::FuncDeclaration &decl);

  /// Symbols of the definitions in each index space; failure when the
  /// variable does not name one (which validation rules out).
  FailureOr<FlatSymbolRefAttr> funcSymbol(const wabt::Var &var);
  FailureOr<FlatSymbolRefAttr> globalSymbol(const wabt::Var &var);
  FailureOr<FlatSymbolRefAttr> tableSymbol(const wabt::Var &var);
  FailureOr<FlatSymbolRefAttr> dataSymbol(const wabt::Var &var);
  FailureOr<FlatSymbolRefAttr> elemSymbol(const wabt::Var &var);
  FailureOr<FuncOp> funcOp(const wabt::Var &var);

  /// Creates the twasm constant for an i32/i64/f32/f64 constant.
  FailureOr<Value> createConstant(OpBuilder &builder, Location loc,
                                  const wabt::Const &value,
                                  const wabt::Location &where);
  /// Translates one instruction of a constant expression (a constant,
  /// `global.get`, `ref.null` or `ref.func`); `what` names its context.
  FailureOr<Value> constantInstruction(OpBuilder &builder,
                                       const wabt::Expr &expr,
                                       llvm::StringRef what);
  FailureOr<GlobalOp> globalOp(const wabt::Var &var);
  FailureOr<TableOp> tableOp(const wabt::Var &var);

  MLIRContext &context;
  const wabt::Module &module;

private:
  void assignSymbolNames();
  StringAttr uniqueSymbol(llvm::StringRef preferred, llvm::StringRef kind,
                          size_t index);
  FailureOr<FlatSymbolRefAttr> symbolAt(llvm::ArrayRef<StringAttr> names,
                                        wabt::Index index, const wabt::Var &var,
                                        llvm::StringRef kind);

  LogicalResult translateMemory(OpBuilder &builder, size_t index);
  LogicalResult translateTable(OpBuilder &builder, size_t index);
  LogicalResult translateGlobal(OpBuilder &builder, size_t index);
  LogicalResult translateFunction(OpBuilder &builder, size_t index);
  LogicalResult translateElemSegment(OpBuilder &builder, size_t index);
  LogicalResult translateDataSegment(OpBuilder &builder, size_t index);
  LogicalResult translateExport(OpBuilder &builder, const wabt::Export &exp);
  /// Translates a constant expression into `region`, yielding `expected`.
  LogicalResult translateConstantExpression(const wabt::ExprList &exprs,
                                            Region &region, TypeRange expected,
                                            const wabt::Location &owner,
                                            llvm::StringRef what);
  /// The import of the `kind` definition with index `index`, if it is one.
  ImportAttr importOf(wabt::ExternalKind kind, size_t index);

  llvm::StringRef filename;
  const EncodedText *text;
  std::string errorMessage;
  llvm::StringSet<> usedSymbols;
  SmallVector<StringAttr> funcNames, globalNames, tableNames, memoryNames,
      dataNames, elemNames;
  /// The imports of each kind, in import order (filled on first use).
  std::vector<std::vector<const wabt::Import *>> importsByKind;
  SmallVector<FuncOp> funcOps;
  SmallVector<GlobalOp> globalOps;
  SmallVector<TableOp> tableOps;
};

/// Translates the body of the defined function `func` into `funcOp`.
LogicalResult translateFunctionBody(ModuleTranslation &translation,
                                    const wabt::Func &func, FuncOp funcOp);

} // namespace mlir::twasm::import_detail

#endif // TWASM_COMPILER_IMPORT_TRANSLATION_H
