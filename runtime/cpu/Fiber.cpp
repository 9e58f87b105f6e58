//===- Fiber.cpp - stacks and switches for kernel threads on the CPU ------===//

#include "Fiber.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TWASM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TWASM_ASAN 1
#endif
#ifdef TWASM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if !defined(__x86_64__)
#error "fibers for kernel threads are written for x86-64"
#endif

// The switch: push the callee-saved registers and the floating-point
// control state, swap stack pointers, pop the other context's. A new fiber's
// stack is laid out as if it had switched away just before entering
// twasm_fiber_start, which calls the entry (r13) with its argument (r12).
asm(R"(
  .text
  .p2align 4
  .globl twasm_fiber_switch
  .hidden twasm_fiber_switch
  .type twasm_fiber_switch,@function
twasm_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size twasm_fiber_switch, .-twasm_fiber_switch

  .p2align 4
  .type twasm_fiber_start,@function
twasm_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size twasm_fiber_start, .-twasm_fiber_start
)");

extern "C" void twasm_fiber_start();

namespace tensorwasm::cpu {

void *prepareFiberStack(uint8_t *low, size_t bytes, void (*entry)(void *),
                        void *argument) {
  // Eight words, from the stack pointer up: the control state, r15, r14,
  // r13, r12, rbx, rbp, the return address. After the switch pops them the
  // stack pointer is 16-byte aligned at twasm_fiber_start's call, as the ABI
  // wants.
  uintptr_t top = (reinterpret_cast<uintptr_t>(low) + bytes) & ~uintptr_t(15);
  auto *frame = reinterpret_cast<uint64_t *>(top - 80);
  uint32_t mxcsr;
  uint16_t x87;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(x87));
  frame[0] = uint64_t(mxcsr) | (uint64_t(x87) << 32);
  frame[1] = 0;                                    // r15
  frame[2] = 0;                                    // r14
  frame[3] = reinterpret_cast<uint64_t>(entry);    // r13
  frame[4] = reinterpret_cast<uint64_t>(argument); // r12
  frame[5] = 0;                                    // rbx
  frame[6] = 0;                                    // rbp
  frame[7] = reinterpret_cast<uint64_t>(&twasm_fiber_start);
  return frame;
}

FiberStacks::~FiberStacks() {
  if (base)
    munmap(base, mapped);
}

std::string FiberStacks::reserve(size_t wanted, size_t stackBytes) {
  if (wanted <= count && stackBytes == bytes)
    return {};
  if (base)
    munmap(base, mapped);
  base = nullptr;
  count = 0;
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  guard = page;
  bytes = (stackBytes + page - 1) / page * page;
  stride = guard + bytes;
  mapped = stride * wanted;
  void *region = mmap(nullptr, mapped, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED)
    return "cannot reserve " + std::to_string(mapped) +
           " bytes for kernel thread stacks: " + std::strerror(errno);
  base = static_cast<uint8_t *>(region);
  for (size_t i = 0; i < wanted; ++i)
    if (mprotect(base + i * stride + guard, bytes, PROT_READ | PROT_WRITE) != 0)
      return std::string("cannot commit a kernel thread stack: ") +
             std::strerror(errno);
  count = wanted;
  return {};
}

#ifdef TWASM_ASAN
void beforeStackSwitch(void **fakeStack, const void *bottom, size_t size) {
  __sanitizer_start_switch_fiber(fakeStack, bottom, size);
}
void afterStackSwitch(void *fakeStack, const void **fromBottom,
                      size_t *fromSize) {
  __sanitizer_finish_switch_fiber(fakeStack, fromBottom, fromSize);
}
void forgetStackFrames(uint8_t *low, size_t bytes) {
  ASAN_UNPOISON_MEMORY_REGION(low, bytes);
}
#else
void beforeStackSwitch(void **, const void *, size_t) {}
void afterStackSwitch(void *, const void **, size_t *) {}
void forgetStackFrames(uint8_t *, size_t) {}
#endif

} // namespace tensorwasm::cpu
