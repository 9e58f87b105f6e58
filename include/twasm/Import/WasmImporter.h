//===- WasmImporter.h - WebAssembly modules to twasm IR -----------*- C++
//-*-===//
//
// Reads a WebAssembly 2.0 module (binary `.wasm` or text `.wat`), validates it
// exactly as the spec requires, and translates it into a `twasm.module` whose
// function bodies are in SSA form.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_IMPORT_WASMIMPORTER_H
#define TWASM_IMPORT_WASMIMPORTER_H

#include "twasm/TwasmOps.h"

#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mlir::twasm {

/// Resource limits the importer enforces before and after parsing, so that a
/// hostile module is refused with a clear error instead of exhausting memory.
/// The defaults follow the WebAssembly JS API's implementation limits
/// (https://webassembly.github.io/spec/js-api/#limits).
struct ImportLimits {
  size_t maxModuleBytes = size_t(1) << 30;
  uint32_t maxFunctions = 1'000'000;
  uint32_t maxFunctionBodyBytes = 7'654'321;
  uint32_t maxLocals = 50'000;
  uint32_t maxParams = 1'000;
  uint32_t maxResults = 1'000;
  /// How deeply blocks, loops and ifs (and, in text, parentheses) may nest;
  /// the translation recurses on nesting, so this bounds its stack use.
  uint32_t maxNestingDepth = 1'024;
};

/// Proposals beyond WebAssembly 2.0 that the importer accepts.
struct ImportFeatures {
  /// The threads proposal's atomic instructions and shared memories (the
  /// kernel ABI's atomics, docs/kernel-abi.md section 3).
  bool threads = true;
};

struct ImportOptions {
  ImportLimits limits;
  ImportFeatures features;
  /// Promote locals to SSA values (`twasm-promote-locals`). Without it the
  /// bodies keep their `twasm.local` slots, mirroring Wasm one to one.
  bool promoteLocals = true;
  /// Name definitions after the "name" section (binary) or identifiers
  /// (text). Without it a definition is named by its first export, else by
  /// its kind and index (`func3`), so names depend only on the module's
  /// structure.
  bool useNames = true;
  /// Exports to declare as kernels in addition to those the module's
  /// `twasm.kernels` custom section names (docs/kernel-abi.md).
  std::vector<std::string> kernels;
  /// If set, receives the module's binary encoding once it has validated:
  /// the contents themselves, or the encoding of a text module (what a
  /// signed artifact carries as its Wasm).
  std::string *binary = nullptr;
};

enum class WasmFormat : uint8_t { Binary, Text, NotWasm };

/// A binary module starts with "\0asm"; a text module is recognized by its
/// `.wat`/`.wast` extension or by starting (after blanks and comments) with
/// `(module`.
WasmFormat detectWasmFormat(llvm::StringRef filename, llvm::StringRef contents);

/// Imports `contents`, a module read from `filename`. On failure the error's
/// message is the reason alone, e.g. "unexpected end of section (at byte
/// offset 0x1f)"; callers prefix it with the file name. Locations in the IR
/// are `filename:line:column` for text and `filename:0:byteOffset` for binary.
llvm::Expected<OwningOpRef<ModuleOp>>
importWasmModule(MLIRContext &context, llvm::StringRef filename,
                 llvm::StringRef contents, const ImportOptions &options = {});

} // namespace mlir::twasm

#endif // TWASM_IMPORT_WASMIMPORTER_H
