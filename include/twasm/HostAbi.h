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
inline constexpr uint32_t kVersion = 2;

struct ThreadContext;
struct KernelThread;

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
  /// While a kernel runs, the thread of the grid this is; null otherwise.
  KernelThread *kernel;
};
static_assert(offsetof(ThreadContext, stackLimit) == 64, "host ABI layout");
static_assert(offsetof(ThreadContext, controlWord) == 72, "host ABI layout");
static_assert(offsetof(ThreadContext, trap) == 80, "host ABI layout");
static_assert(offsetof(ThreadContext, kernel) == 96, "host ABI layout");

/// The warp operations of docs/kernel-abi.md section 3, as the runtime's
/// warp handler numbers them.
enum class WarpOperation : uint32_t {
  ShuffleDown = 0,
  ShuffleUp = 1,
  ShuffleXor = 2,
  ShuffleIndex = 3,
  VoteAny = 4,
  VoteAll = 5,
  Ballot = 6,
};

/// Returns once every unfinished thread of the block has arrived.
using BarrierHandler = void (*)(ThreadContext *thread);
/// Performs `operation` with every unfinished lane of the warp: `value` is
/// the lane's 32 bits (a float's bits; the predicate of a vote), `operand`
/// the shuffle's distance, mask or source lane. Returns the 32-bit result.
using WarpHandler = uint32_t (*)(ThreadContext *thread, uint32_t operation,
                                 uint32_t value, uint32_t operand);

/// One thread of a kernel launch on the CPU: what the geometry intrinsics
/// read, the block's shared scratch, and how the thread synchronises with
/// the others of its block.
struct KernelThread {
  uint32_t threadId[3];
  uint32_t blockId[3];
  uint32_t blockDim[3];
  uint32_t gridDim[3];
  /// The thread's lane in its warp (its linear index in the block mod 32).
  uint32_t lane;
  /// The size of the shared scratch, in bytes.
  uint32_t sharedBytes;
  uint8_t *shared;
  BarrierHandler barrier;
  WarpHandler warp;
};
static_assert(offsetof(KernelThread, blockId) == 12, "host ABI layout");
static_assert(offsetof(KernelThread, blockDim) == 24, "host ABI layout");
static_assert(offsetof(KernelThread, gridDim) == 36, "host ABI layout");
static_assert(offsetof(KernelThread, lane) == 48, "host ABI layout");
static_assert(offsetof(KernelThread, sharedBytes) == 52, "host ABI layout");
static_assert(offsetof(KernelThread, shared) == 56, "host ABI layout");
static_assert(offsetof(KernelThread, barrier) == 64, "host ABI layout");
static_assert(offsetof(KernelThread, warp) == 72, "host ABI layout");

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
///     results there. A kernel is called this way once per thread of the
///     grid, with `kernel` of the ThreadContext set.
using InstantiateEntry = void (*)(ThreadContext *thread, uint8_t *globals);
using CallEntry = void (*)(ThreadContext *thread, uint8_t *globals,
                           uint64_t *values);

} // namespace tensorwasm::abi::host

#endif // TWASM_HOSTABI_H
