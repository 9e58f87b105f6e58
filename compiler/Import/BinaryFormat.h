//===- BinaryFormat.h - encodings of the Wasm binary format we share ------===//
//
// Private to the importer: what the validator (which decodes) and the text
// parser (which encodes) both need to agree on.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_COMPILER_IMPORT_BINARYFORMAT_H
#define TWASM_COMPILER_IMPORT_BINARYFORMAT_H

#include <cstdint>

namespace mlir::twasm::import_detail::binary {

/// Value types, by their encoding.
enum class ValType : uint8_t {
  I32 = 0x7F,
  I64 = 0x7E,
  F32 = 0x7D,
  F64 = 0x7C,
  FuncRef = 0x70,
  ExternRef = 0x6F,
};

enum SectionId : uint8_t {
  kCustomSection = 0,
  kTypeSection = 1,
  kImportSection = 2,
  kFunctionSection = 3,
  kTableSection = 4,
  kMemorySection = 5,
  kGlobalSection = 6,
  kExportSection = 7,
  kStartSection = 8,
  kElementSection = 9,
  kCodeSection = 10,
  kDataSection = 11,
  kDataCountSection = 12,
};

/// The loads and stores, opcodes 0x28-0x3E in order: their names, the bytes
/// they access and the type of the value loaded or stored.
struct MemoryAccess {
  const char *name;
  uint8_t bytes;
  ValType valueType;
  bool isStore;
};
inline constexpr uint8_t kFirstMemoryAccess = 0x28;
inline constexpr MemoryAccess kMemoryAccesses[] = {
    {"i32.load", 4, ValType::I32, false},
    {"i64.load", 8, ValType::I64, false},
    {"f32.load", 4, ValType::F32, false},
    {"f64.load", 8, ValType::F64, false},
    {"i32.load8_s", 1, ValType::I32, false},
    {"i32.load8_u", 1, ValType::I32, false},
    {"i32.load16_s", 2, ValType::I32, false},
    {"i32.load16_u", 2, ValType::I32, false},
    {"i64.load8_s", 1, ValType::I64, false},
    {"i64.load8_u", 1, ValType::I64, false},
    {"i64.load16_s", 2, ValType::I64, false},
    {"i64.load16_u", 2, ValType::I64, false},
    {"i64.load32_s", 4, ValType::I64, false},
    {"i64.load32_u", 4, ValType::I64, false},
    {"i32.store", 4, ValType::I32, true},
    {"i64.store", 8, ValType::I64, true},
    {"f32.store", 4, ValType::F32, true},
    {"f64.store", 8, ValType::F64, true},
    {"i32.store8", 1, ValType::I32, true},
    {"i32.store16", 2, ValType::I32, true},
    {"i64.store8", 1, ValType::I64, true},
    {"i64.store16", 2, ValType::I64, true},
    {"i64.store32", 4, ValType::I64, true},
};

} // namespace mlir::twasm::import_detail::binary

#endif // TWASM_COMPILER_IMPORT_BINARYFORMAT_H
