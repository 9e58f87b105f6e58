//===- Compile.h - twasm's compilation, in memory -------------*- C++ -*-===//
//
// What `twasm compile` writes to files and `twasm run` hands to a device: a
// Wasm module compiled for a target, as the code and its manifest in memory.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_COMPILE_H
#define TWASM_TOOLS_TWASM_COMPILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::twasm::tool {

/// What a compilation produces as its code.
enum class Emit {
  /// The device code: PTX for an SM target, a shared object's bytes for
  /// "host"; the manifest comes with it.
  Code,
  /// The imported twasm IR.
  Twasm,
  /// The gpu.module before PTX emission, or the host's optimized LLVM IR.
  Lowered,
  /// One line per kernel: its name and parameter types.
  KernelList,
};

struct CompileSettings {
  /// An SM architecture ("sm_90") or "host" (the CPU backend).
  std::string target = "sm_90";
  /// With target "host": the x86-64 level the code may use.
  std::string hostCPU = "x86-64-v2";
  /// Exports to declare kernels besides the module's twasm.kernels section.
  std::vector<std::string> kernels;
  bool boundsChecks = true;
  bool epochChecks = true;
  Emit emit = Emit::Code;
};

struct CompiledModule {
  /// What `emit` asked for.
  std::string code;
  /// The manifest (docs/kernel-manifest.md); empty unless `emit` is Code.
  std::string manifest;
  /// The module's Wasm binary (a text module's encoding).
  std::string wasm;
  /// Milliseconds spent importing, and lowering and generating code.
  double importMs = 0;
  double lowerMs = 0;
};

/// Compiles the module in the file `path`. The error's message is the
/// reason alone ("unexpected end of section (at byte offset 0x1f)");
/// callers prefix it with the file name.
llvm::Expected<CompiledModule> compileModule(llvm::StringRef path,
                                             const CompileSettings &settings);

/// The same for a module in memory (binary or text); `name` stands for it
/// in diagnostics.
llvm::Expected<CompiledModule>
compileModuleBytes(llvm::StringRef name, llvm::StringRef bytes,
                   const CompileSettings &settings);

} // namespace mlir::twasm::tool

#endif // TWASM_TOOLS_TWASM_COMPILE_H
