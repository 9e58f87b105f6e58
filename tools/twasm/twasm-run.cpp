//===- twasm-run.cpp - Run a compiled kernel, without the compiler --------===//
//
// `twasm run` for compiled modules (X.so or X.ptx with the X.json `twasm
// compile` writes beside it), linked with the runtime alone: no LLVM, MLIR or
// Binaryen, so that it runs on a machine that has a GPU but not the
// compiler's libraries. Same options, output and exit status (RunKernel.h).
//
//===----------------------------------------------------------------------===//

#include "RunKernel.h"

int main(int argc, char **argv) {
  return tensorwasm::tool::runMain(argc, argv, nullptr);
}
