//===- KernelAbi.h - the binary contract of a compiled kernel ---*- C++ -*-===//
//
// What the compiler emits and the runtime relies on (docs/kernel-abi.md):
// trap codes, the trap record's layout, the control word, the hidden
// parameters and the globals block. Plain C++ with no dependencies, so the
// runtime includes it without the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_KERNELABI_H
#define TWASM_KERNELABI_H

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tensorwasm::abi {

/// The ABI version a compiled kernel declares in its manifest.
inline constexpr uint32_t kVersion = 1;

/// Why a thread stopped; 0 means it did not trap.
enum class TrapCode : uint32_t {
  None = 0,
  Unreachable = 1,
  MemoryOutOfBounds = 2,
  IntegerDivideByZero = 3,
  IntegerOverflow = 4,
  InvalidConversion = 5,
  UndefinedElement = 6,
  UninitializedElement = 7,
  IndirectCallTypeMismatch = 8,
  UnalignedAtomic = 9,
  SharedOutOfBounds = 10,
  Interrupted = 11,
  /// The host's call stack ran out (only the CPU allows recursion).
  CallStackExhausted = 12,
  /// A table or element segment access out of range (table.init, table.copy,
  /// table.fill, table.get, table.set; only the CPU runs those).
  TableOutOfBounds = 13,
  /// The threads of a block wait at synchronisation points that can never
  /// all be passed: some at a barrier, others of the same warp at a warp
  /// operation, or lanes of one warp at different warp operations. The GPU
  /// would wait until the launch's timeout; the CPU detects it.
  DivergentSynchronization = 14,
};

/// The message the Wasm spec tests use for each trap, where there is one.
inline const char *trapMessage(TrapCode code) {
  switch (code) {
  case TrapCode::None:
    return "no trap";
  case TrapCode::Unreachable:
    return "unreachable";
  case TrapCode::MemoryOutOfBounds:
    return "out of bounds memory access";
  case TrapCode::IntegerDivideByZero:
    return "integer divide by zero";
  case TrapCode::IntegerOverflow:
    return "integer overflow";
  case TrapCode::InvalidConversion:
    return "invalid conversion to integer";
  case TrapCode::UndefinedElement:
    return "undefined element";
  case TrapCode::UninitializedElement:
    return "uninitialized element";
  case TrapCode::IndirectCallTypeMismatch:
    return "indirect call type mismatch";
  case TrapCode::UnalignedAtomic:
    return "unaligned atomic";
  case TrapCode::SharedOutOfBounds:
    return "out of bounds shared scratch access";
  case TrapCode::Interrupted:
    return "interrupted";
  case TrapCode::CallStackExhausted:
    return "call stack exhausted";
  case TrapCode::TableOutOfBounds:
    return "out of bounds table access";
  case TrapCode::DivergentSynchronization:
    return "threads of a block wait at different synchronisation points";
  }
  return "unknown trap";
}

/// Whether the "twasm" intrinsic `name` makes a thread wait for others of
/// its block (the barrier) or of its warp (shuffles and votes). A kernel
/// that reaches none of them needs no scheduling of its threads against
/// each other.
inline bool isSynchronizingIntrinsic(std::string_view name) {
  return name == "barrier" || name.substr(0, 5) == "shfl_" ||
         name == "vote_any" || name == "vote_all" || name == "ballot";
}

/// Written by the first thread of a launch that traps; zeroed before the
/// launch. Little-endian, as every device we target is.
struct TrapRecord {
  uint32_t code;
  /// The Wasm function index where the trap happened.
  uint32_t function;
  /// The byte offset in the module of the trapping instruction (0 if unknown).
  uint32_t offset;
  uint32_t block[3];
  uint32_t thread[3];
  uint32_t reserved[7];
};
static_assert(sizeof(TrapRecord) == 64, "the trap record is 64 bytes");
static_assert(offsetof(TrapRecord, block) == 12, "ABI layout");
static_assert(offsetof(TrapRecord, thread) == 24, "ABI layout");

/// The control word: 0 lets a launch run; anything else stops it at the next
/// check. A trapping thread stores kControlTrapped.
inline constexpr uint32_t kControlRun = 0;
inline constexpr uint32_t kControlInterrupt = 1;
inline constexpr uint32_t kControlTrapped = 2;
/// On the GPU the control word is the first u32 of 8 bytes; the second is
/// the claim word, 0 before a launch, which the first thread to record a
/// trap sets (so that the record, in host memory, is written by one thread
/// and no other touches it). Both are zeroed before a launch.
inline constexpr uint32_t kControlClaimOffset = 4;
inline constexpr uint32_t kControlBytes = 8;

/// Hidden parameters, in order, before a kernel's own.
enum HiddenParameter : unsigned {
  kMemoryBase = 0,
  kMemorySize = 1,
  kTrapRecord = 2,
  kControlWord = 3,
  kGlobals = 4,
  kHiddenParameterCount = 5,
};

/// Each global with a slot in the globals block takes 8 bytes.
inline constexpr uint32_t kGlobalSlotBytes = 8;
/// A table in the globals block: a 4-byte element count, then 4 bytes per
/// element (0 for null, else function index + 1).
inline constexpr uint32_t kTableEntryBytes = 4;

/// On the GPU a loop back-edge reads the control word once every this many
/// iterations.
inline constexpr uint32_t kEpochPeriod = 64;

/// Linear memory's page size.
inline constexpr uint64_t kPageBytes = 65536;

} // namespace tensorwasm::abi

#endif // TWASM_KERNELABI_H
