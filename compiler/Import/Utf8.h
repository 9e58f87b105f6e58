//===- Utf8.h - strict UTF-8 validation for Wasm names --------------------===//

#ifndef TWASM_COMPILER_IMPORT_UTF8_H
#define TWASM_COMPILER_IMPORT_UTF8_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace mlir::twasm::import_detail {

/// Whether `text` is valid UTF-8 as Wasm names require: no overlong
/// encodings, no surrogates (U+D800-U+DFFF), nothing above U+10FFFF.
inline bool isValidUtf8(llvm::StringRef text) {
  const auto *p = reinterpret_cast<const uint8_t *>(text.data());
  const auto *end = p + text.size();
  while (p < end) {
    uint8_t lead = *p++;
    if (lead < 0x80)
      continue;
    unsigned extra;
    uint32_t codePoint;
    if ((lead & 0xE0) == 0xC0) {
      extra = 1;
      codePoint = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2;
      codePoint = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3;
      codePoint = lead & 0x07;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < extra)
      return false;
    for (unsigned i = 0; i < extra; ++i) {
      if ((p[i] & 0xC0) != 0x80)
        return false;
      codePoint = (codePoint << 6) | (p[i] & 0x3F);
    }
    p += extra;
    static constexpr uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (codePoint < kMinimum[extra] || codePoint > 0x10FFFF ||
        (codePoint >= 0xD800 && codePoint <= 0xDFFF))
      return false;
  }
  return true;
}

} // namespace mlir::twasm::import_detail

#endif // TWASM_COMPILER_IMPORT_UTF8_H
