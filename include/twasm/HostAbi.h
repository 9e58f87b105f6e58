//===- HostAbi.h - the binary contract of host (CPU) code --------*- C++
//-*-===//
//
// What the CPU backend's shared objects expect from whoever loads them
// (docs/host-abi.md), on top of the kernel ABI of KernelAbi.h: the hidden
// parameters are the same five, but on the host
//
//  * `trap_record` points at a ThreadContext, whose first 64 bytes are the
//    trap record and whose other fields say where the stack ends and how to
//    leave the Wasm code when it traps;
//  * the globals block is preceded by an InstanceHeader, through which the
//    code reaches the memory's current size, memory.grow and the imported
//    functions.
//
// Plain C++ with no dependencies: the runtime includes it without the
// compiler. Offsets are fixed by the static_asserts, since generated code
// hard-codes them.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_HOSTABI_H
#define TWASM_HOSTABI_H

#include "twasm/KernelAbi.h"

#include <cstddef>
#include <cstdint>

namespace tensorwasm::abi::host {

/// The version of this contract a shared object was compiled for; the
/// exported symbol `twasm_host_abi_version` holds it.
inline constexpr uint32_t kVersion = 1;

struct ThreadContext;

/// Records `code` (with the trapping function's index and the instruction's
/// byte offset) and leaves the Wasm code; never returns to it.
using TrapHandler = void (*)(ThreadContext *thread, uint32_t code,
                             uint32_t function, uint32_t offset);

/// The state of one thread running Wasm code; the `trap_record` hidden
/// parameter points at it.
struct ThreadContext {
  TrapRecord record;
  /// A function traps with CallStackExhausted when it is entered with the
  /// stack pointer below this address.
  uint64_t stackLimit;
  /// The control word of the running call (set to non-zero to interrupt).
  uint32_t *controlWord;
  TrapHandler trap;
  /// The loader's own: where the trap handler resumes.
  void *resume;
};
static_assert(offsetof(ThreadContext, stackLimit) == 64, "host ABI layout");
static_assert(offsetof(ThreadContext, controlWord) == 72, "host ABI layout");
static_assert(offsetof(ThreadContext, trap) == 80, "host ABI layout");

/// One linear memory. Its base never moves: the loader reserves the largest
/// size the memory may reach when it creates it, so only `size` changes.
struct MemoryState {
  uint8_t *base;
  /// The current size in bytes.
  uint64_t size;
};
static_assert(offsetof(MemoryState, size) == 8, "host ABI layout");

/// A function the instance imports: called with the thread and an array of
/// 8-byte values, the arguments on entry and the results on return (a
/// 4-byte value in the low half of its slot).
struct ImportedFunction {
  void (*call)(void *environment, ThreadContext *thread, uint64_t *values);
  void *environment;
};
static_assert(sizeof(ImportedFunction) == 16, "host ABI layout");

struct InstanceHeader;
/// memory.grow: the old size in pages, or -1 (the memory is unchanged).
using MemoryGrowHandler = int32_t (*)(InstanceHeader *instance,
                                      uint32_t deltaPages);

/// The kInstanceHeaderBytes just before the globals block.
struct InstanceHeader {
  /// The instance's memory (its own or the one it imports); null if none.
  MemoryState *memory;
  MemoryGrowHandler memoryGrow;
  /// Indexed by function index (imports come first in Wasm's index space).
  const ImportedFunction *imports;
  /// The loader's own.
  void *loader;
};
inline constexpr uint64_t kInstanceHeaderBytes = 32;
static_assert(sizeof(InstanceHeader) == kInstanceHeaderBytes,
              "host ABI layout");
static_assert(offsetof(InstanceHeader, memoryGrow) == 8, "host ABI layout");
static_assert(offsetof(InstanceHeader, imports) == 16, "host ABI layout");

/// The entry points a shared object exports (all with C linkage):
///
///   uint32_t twasm_host_abi_version;
///   void twasm_instantiate(ThreadContext *, uint8_t *globals);
///     initialises the defined globals, then applies the active element and
///     data segments in module order (trapping like table.init and
///     memory.init when one does not fit);
///   void twasm_call_<index>(ThreadContext *, uint8_t *globals,
///                           uint64_t *values);
///     calls function <index> (each exported function and the start
///     function have one) with the arguments in `values`, and leaves its
///     results there.
using InstantiateEntry = void (*)(ThreadContext *thread, uint8_t *globals);
using CallEntry = void (*)(ThreadContext *thread, uint8_t *globals,
                           uint64_t *values);

} // namespace tensorwasm::abi::host

#endif // TWASM_HOSTABI_H
