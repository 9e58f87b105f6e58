//===- Fiber.h - stacks and switches for kernel threads on the CPU -*- C++
//-*-===//
//
// The threads of a block that synchronise (barriers, warp operations) run as
// fibers: each has its own stack, and a thread that waits switches to the
// block's scheduler, which runs the others until all have arrived. A switch
// saves and restores only what the x86-64 System V ABI says a call
// preserves (six registers, the MXCSR and the x87 control word), so it costs
// a few nanoseconds; no system call is involved.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CPU_FIBER_H
#define TWASM_RUNTIME_CPU_FIBER_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace tensorwasm::cpu {

/// Saves the running context's stack pointer in `*save` and continues the
/// context whose stack pointer is `next`.
extern "C" void twasm_fiber_switch(void **save, void *next);

/// Prepares the stack [low, low + bytes) so that switching to the returned
/// stack pointer calls `entry(argument)`, which must never return.
void *prepareFiberStack(uint8_t *low, size_t bytes, void (*entry)(void *),
                        void *argument);

/// `count` stacks of `bytes` each, with an inaccessible guard page below
/// each one, in one mapping.
class FiberStacks {
public:
  FiberStacks() = default;
  ~FiberStacks();
  FiberStacks(const FiberStacks &) = delete;
  FiberStacks &operator=(const FiberStacks &) = delete;

  /// Makes room for at least `count` stacks (keeping none of the old ones);
  /// an empty string on success, else why not.
  std::string reserve(size_t count, size_t bytes);
  uint8_t *stack(size_t index) const { return base + index * stride + guard; }
  size_t stackBytes() const { return bytes; }
  size_t capacity() const { return count; }

private:
  uint8_t *base = nullptr;
  size_t mapped = 0, stride = 0, guard = 0, bytes = 0, count = 0;
};

/// AddressSanitizer must be told about every switch between stacks (what it
/// knows of the stack otherwise goes wrong); without ASan these do nothing.
/// Before a switch: `fakeStack` keeps the leaving context's fake frames (null
/// when that context will never run again); [bottom, bottom + size) is the
/// stack being entered.
void beforeStackSwitch(void **fakeStack, const void *bottom, size_t size);
/// After a switch, in the context that now runs: gives back its fake frames,
/// and tells where the stack it came from lies (where the pointers are not
/// null).
void afterStackSwitch(void *fakeStack, const void **fromBottom,
                      size_t *fromSize);
/// Clears what ASan remembers of frames abandoned on a stack that is reused.
void forgetStackFrames(uint8_t *low, size_t bytes);

} // namespace tensorwasm::cpu

#endif // TWASM_RUNTIME_CPU_FIBER_H
