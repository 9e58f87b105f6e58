//===- SanitizerDefaults.cpp - runtime defaults of the sanitizer builds ---===//
//
// Linked into every executable of a sanitizer build (TWASM_SANITIZERS).
//
// LLVM's headers make BumpPtrAllocator poison and unpoison its slabs when the
// including code is built with ASan; Debian's LLVM and MLIR libraries are not,
// so the two halves of one allocator disagree and ASan reports
// use-after-poison inside MLIR's own code. Manual poisoning is therefore off;
// every access that ASan instruments in this project stays checked.
//
//===----------------------------------------------------------------------===//

extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0:detect_leaks=1";
}

extern "C" const char *__ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}
