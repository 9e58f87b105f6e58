//===- twasm-serve.cpp - Serve the HTTP API, without the compiler ---------===//
//
// `twasm serve`, linked with the runtime and the server alone: no LLVM or
// MLIR, so that it runs on a machine that has a GPU but not the compiler's
// libraries. Same options and exit status (ServeCommand.h).
//
//===----------------------------------------------------------------------===//

#include "ServeCommand.h"

int main(int argc, char **argv) {
  return tensorwasm::tool::serveMain(argc, argv);
}
