//===- BinaryValidator.h - a spec-exact check of a binary Wasm module -----===//
//
// Private to the importer. Decodes and validates a WebAssembly 2.0 binary
// module (SIMD excepted) exactly as the spec's binary-format and validation
// chapters require, before any other library parses it: wabt 1.0.32's binary
// reader aborts on some malformed input, so no input reaches it unchecked.
// Every read is bounds-checked and every error names its byte offset.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_COMPILER_IMPORT_BINARYVALIDATOR_H
#define TWASM_COMPILER_IMPORT_BINARYVALIDATOR_H

#include "twasm/Import/WasmImporter.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::twasm::import_detail {

struct ValidationError {
  /// The reason, e.g. "type mismatch in i32.add: expected i32, found f32".
  std::string message;
  /// Where it was found; absent for a limit on a whole count.
  std::optional<size_t> offset;
};

/// A custom section of a module: its name and the bytes after the name.
struct CustomSection {
  llvm::StringRef name;
  llvm::StringRef content;
  /// The byte offset of `content` in the module.
  size_t contentOffset;
};

/// Checks that `bytes` is a valid WebAssembly 2.0 module (with the proposals
/// `features` enables) within `limits`;
/// returns why not, if it is not. When `customSections` is given, it
/// receives the module's custom sections in order (views into `bytes`).
std::optional<ValidationError>
validateBinaryModule(llvm::StringRef bytes, const ImportLimits &limits,
                     const ImportFeatures &features,
                     std::vector<CustomSection> *customSections = nullptr);

} // namespace mlir::twasm::import_detail

#endif // TWASM_COMPILER_IMPORT_BINARYVALIDATOR_H
