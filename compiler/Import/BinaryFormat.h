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

/// The threads proposal's atomic accesses, 0xFE-prefixed opcodes 0x10-0x4E
/// in order: loads, stores, then seven read-modify-write operations (add,
/// sub, and, or, xor, xchg, cmpxchg) in seven widths each.
enum class AtomicKind : uint8_t { Load, Store, Rmw, Cmpxchg };
struct AtomicAccess {
  const char *name;
  uint8_t bytes;
  ValType valueType;
  AtomicKind kind;
};
inline constexpr uint32_t kFirstAtomicAccess = 0x10;
#define TWASM_ATOMIC_RMW(op, kind)                                             \
  {"i32.atomic.rmw." op, 4, ValType::I32, kind},                               \
      {"i64.atomic.rmw." op, 8, ValType::I64, kind},                           \
      {"i32.atomic.rmw8." op "_u", 1, ValType::I32, kind},                     \
      {"i32.atomic.rmw16." op "_u", 2, ValType::I32, kind},                    \
      {"i64.atomic.rmw8." op "_u", 1, ValType::I64, kind},                     \
      {"i64.atomic.rmw16." op "_u", 2, ValType::I64, kind}, {                  \
    "i64.atomic.rmw32." op "_u", 4, ValType::I64, kind                         \
  }
inline constexpr AtomicAccess kAtomicAccesses[] = {
    {"i32.atomic.load", 4, ValType::I32, AtomicKind::Load},
    {"i64.atomic.load", 8, ValType::I64, AtomicKind::Load},
    {"i32.atomic.load8_u", 1, ValType::I32, AtomicKind::Load},
    {"i32.atomic.load16_u", 2, ValType::I32, AtomicKind::Load},
    {"i64.atomic.load8_u", 1, ValType::I64, AtomicKind::Load},
    {"i64.atomic.load16_u", 2, ValType::I64, AtomicKind::Load},
    {"i64.atomic.load32_u", 4, ValType::I64, AtomicKind::Load},
    {"i32.atomic.store", 4, ValType::I32, AtomicKind::Store},
    {"i64.atomic.store", 8, ValType::I64, AtomicKind::Store},
    {"i32.atomic.store8", 1, ValType::I32, AtomicKind::Store},
    {"i32.atomic.store16", 2, ValType::I32, AtomicKind::Store},
    {"i64.atomic.store8", 1, ValType::I64, AtomicKind::Store},
    {"i64.atomic.store16", 2, ValType::I64, AtomicKind::Store},
    {"i64.atomic.store32", 4, ValType::I64, AtomicKind::Store},
    TWASM_ATOMIC_RMW("add", AtomicKind::Rmw),
    TWASM_ATOMIC_RMW("sub", AtomicKind::Rmw),
    TWASM_ATOMIC_RMW("and", AtomicKind::Rmw),
    TWASM_ATOMIC_RMW("or", AtomicKind::Rmw),
    TWASM_ATOMIC_RMW("xor", AtomicKind::Rmw),
    TWASM_ATOMIC_RMW("xchg", AtomicKind::Rmw),
    TWASM_ATOMIC_RMW("cmpxchg", AtomicKind::Cmpxchg),
};
#undef TWASM_ATOMIC_RMW
static_assert(sizeof(kAtomicAccesses) / sizeof(kAtomicAccesses[0]) == 63,
              "0xFE 0x10 through 0xFE 0x4E");

} // namespace mlir::twasm::import_detail::binary

#endif // TWASM_COMPILER_IMPORT_BINARYFORMAT_H
