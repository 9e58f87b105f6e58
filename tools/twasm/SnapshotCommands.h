//===- SnapshotCommands.h - twasm snapshot ----------------------*- C++ -*-===//
//
// `twasm snapshot keygen|create|restore|inspect|verify`: secret keys, and
// snapshots of instances (docs/snapshot-format.md), in plain C++ on the
// runtime's API (include/twasm/Snapshot.h), without LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_SNAPSHOTCOMMANDS_H
#define TWASM_TOOLS_TWASM_SNAPSHOTCOMMANDS_H

#include "RunKernel.h"

namespace tensorwasm::tool {

/// `twasm snapshot COMMAND ...`; argv[0] is "snapshot". create and restore
/// run as `twasm run` does, compiling a .wasm or .wat with `compile`.
/// Returns the exit status: 0 success, 1 an error (printed as "error: ...")
/// or a snapshot that did not verify; create and restore also as `twasm
/// run` (2 trapped, 3 interrupted).
int snapshotMain(int argc, char **argv, const CompileFunction &compile);

} // namespace tensorwasm::tool

#endif // TWASM_TOOLS_TWASM_SNAPSHOTCOMMANDS_H
