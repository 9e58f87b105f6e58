//===- ServeCommand.h - twasm serve -----------------------------*- C++ -*-===//
//
// `twasm serve`: the runtime's HTTP/JSON API (include/twasm/Server.h,
// docs/serve.md). Plain C++: nothing here links LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_SERVECOMMAND_H
#define TWASM_TOOLS_TWASM_SERVECOMMAND_H

namespace tensorwasm::tool {

/// `twasm serve ...`; argv[0] is "serve". Returns the exit status: 0 after
/// a shutdown by signal, 1 an error (printed as "error: ...").
int serveMain(int argc, char **argv);

} // namespace tensorwasm::tool

#endif // TWASM_TOOLS_TWASM_SERVECOMMAND_H
