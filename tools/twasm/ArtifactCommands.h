//===- ArtifactCommands.h - keygen, verify and registry -------*- C++ -*-===//
//
// `twasm keygen`, `twasm verify` and `twasm registry`: keys, checking signed
// artifacts and the kernel registry (docs/artifact-format.md), in plain C++
// on the runtime's API (include/twasm/Artifact.h), without LLVM. Each parses
// its own command line; argv[0] is the subcommand's name ("keygen",
// "verify", "registry"). Each returns the exit status: 0 success, 1 an error
// (printed as "error: ..." on stderr) or, for `registry fsck`, an
// inconsistent registry.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_ARTIFACTCOMMANDS_H
#define TWASM_TOOLS_TWASM_ARTIFACTCOMMANDS_H

namespace tensorwasm::tool {

/// `twasm keygen -o NAME [--force]`: writes NAME.key and NAME.pub.
int keygenMain(int argc, char **argv);

/// `twasm verify FILE.twa... [--trust POLICY.json | --key KEY.pub... |
/// --registry DIR] [--json]`.
int verifyMain(int argc, char **argv);

/// `twasm registry [--registry DIR] SUBCOMMAND ...`: push, pull, list,
/// show, remove, gc, fsck, trust add|list|remove.
int registryMain(int argc, char **argv);

} // namespace tensorwasm::tool

#endif // TWASM_TOOLS_TWASM_ARTIFACTCOMMANDS_H
