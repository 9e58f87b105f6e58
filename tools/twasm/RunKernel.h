//===- RunKernel.h - One kernel launch through the runtime -------*- C++
//-*-===//
//
// What `twasm run` and `twasm-run` share (RunKernel.cpp): the command line,
// the fills and prints, the launch and the exit status, all in plain C++ on
// the runtime's public API (include/twasm/Runtime.h) and nothing of LLVM, so
// that `twasm-run` runs where there is no libLLVM. Only the compilation of a
// .wasm or .wat is handed in, by `twasm run` (Compile.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_RUNKERNEL_H
#define TWASM_TOOLS_TWASM_RUNKERNEL_H

#include <functional>
#include <string>

namespace tensorwasm::tool {

/// A module compiled in memory for a device, or why it did not compile.
struct CompiledCode {
  /// The device code and its manifest (docs/kernel-manifest.md).
  std::string code;
  std::string manifest;
  /// The module's Wasm binary, which the artifact it is signed into carries.
  std::string wasm;
  /// How long the compilation took, for the "compiled ... in" line.
  double milliseconds = 0;
  /// Non-empty: the reason it failed, without the file name.
  std::string error;
};

/// Compiles the .wasm or .wat at `path` for `target` (what
/// Device::codeTarget() says).
using CompileFunction = std::function<CompiledCode(const std::string &path,
                                                   const std::string &target)>;

/// Runs a kernel as the command line asks; argv[0] names the program ("run"
/// for `twasm run`). Without `compile`, only compiled modules (signed
/// artifacts, registry references, and with --allow-unsigned X.so or X.ptx
/// with X.json beside it) are run. Returns the exit status: 0 completed, 1 a
/// usage, I/O or compile error, 2 trapped, 3 interrupted.
int runMain(int argc, char **argv, const CompileFunction &compile);

} // namespace tensorwasm::tool

#endif // TWASM_TOOLS_TWASM_RUNKERNEL_H
