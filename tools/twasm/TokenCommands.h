//===- TokenCommands.h - twasm token ----------------------------*- C++ -*-===//
//
// `twasm token issue|verify|revoke`: capability tokens of tenants
// (docs/tenancy.md). Plain C++: nothing here links LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TOOLS_TWASM_TOKENCOMMANDS_H
#define TWASM_TOOLS_TWASM_TOKENCOMMANDS_H

#include "CommandLine.h"

#include "twasm/Tenancy.h"

namespace tensorwasm::tool {

/// A verifier that trusts the keys of `line`'s --issuer FILE... and, with
/// --revocations FILE, refuses what that list revokes.
Result<CapabilityVerifier> verifierFromLine(const ParsedLine &line);

/// `twasm token COMMAND ...`; argv[0] is "token". Returns the exit status:
/// 0 success, 1 an error (printed as "error: ...") or a token refused.
int tokenMain(int argc, char **argv);

} // namespace tensorwasm::tool

#endif // TWASM_TOOLS_TWASM_TOKENCOMMANDS_H
