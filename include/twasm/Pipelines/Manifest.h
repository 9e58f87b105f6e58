//===- Manifest.h - what a compiled module's loader must know ----*- C++
//-*-===//
//
// The kernel manifest: a JSON description of a compiled module, beside its
// device code, with everything needed to instantiate and launch it without
// the compiler — the kernels and their parameters, the linear memory's
// limits and data segments, the globals block's slots and initial values,
// the tables' layout and initial elements (docs/kernel-manifest.md).
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_PIPELINES_MANIFEST_H
#define TWASM_PIPELINES_MANIFEST_H

#include "twasm/Pipelines/Pipelines.h"
#include "twasm/TwasmOps.h"

#include <string>

namespace mlir::twasm {

/// Describes `module` (before lowering) compiled for `target`.
std::string writeKernelManifest(twasm::ModuleOp module,
                                const PTXTarget &target);
/// Describes `module` (before lowering) compiled by the CPU backend for the
/// x86-64 level `cpu`.
std::string writeHostManifest(twasm::ModuleOp module, llvm::StringRef cpu);

} // namespace mlir::twasm

#endif // TWASM_PIPELINES_MANIFEST_H
