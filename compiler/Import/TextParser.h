//===- TextParser.h - the WebAssembly text format to its binary encoding --===//
//
// Private to the importer. Parses a WebAssembly 2.0 text module (SIMD
// excepted) as the spec's text-format chapter defines it — tokens, literals,
// abbreviations, identifiers — and encodes it in the binary format, keeping
// the text position of every encoded definition and instruction. The binary
// then takes the same path as any binary module (validator, reader,
// translation), and positions map back to lines and columns.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_COMPILER_IMPORT_TEXTPARSER_H
#define TWASM_COMPILER_IMPORT_TEXTPARSER_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::twasm::import_detail {

struct TextPosition {
  uint32_t line = 0;
  uint32_t column = 0;
};

/// A text module encoded in the binary format.
struct EncodedText {
  std::string binary;
  /// The text position of each encoded definition and instruction, by the
  /// byte offset where its encoding starts; sorted by offset.
  std::vector<std::pair<size_t, TextPosition>> positions;

  /// The position of the item whose encoding covers `offset`.
  TextPosition positionOf(size_t offset) const;
};

struct TextError {
  std::string message;
  TextPosition position;
};

struct TextOptions {
  /// Whether to encode identifiers in a "name" section.
  bool names = true;
};

/// Parses and encodes `text`. Identifier, syntax and literal errors are
/// reported here; typing is left to the binary validator.
std::optional<TextError> encodeTextModule(llvm::StringRef text,
                                          EncodedText &encoded,
                                          const TextOptions &options = {});

} // namespace mlir::twasm::import_detail

#endif // TWASM_COMPILER_IMPORT_TEXTPARSER_H
