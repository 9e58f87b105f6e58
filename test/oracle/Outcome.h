//===- Outcome.h - what one case did, and comparing two of them -*- C++ -*-===//
//
// A case's outcome is how it ended (completed, or its trap's kind) and the
// whole linear memory after it. Two outcomes agree when both match exactly:
// the generator makes every NaN that reaches memory deterministic
// (ProgramGenerator.h), so memory compares byte for byte.
//
// This part links the runtime alone (no LLVM, no wabt), so that the replay
// of compiled batches runs on a GPU machine.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TEST_ORACLE_OUTCOME_H
#define TWASM_TEST_ORACLE_OUTCOME_H

#include "twasm/Runtime.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace twasm::oracle {

struct Outcome {
  /// TrapCode::None when the kernel completed.
  tensorwasm::abi::TrapCode trap = tensorwasm::abi::TrapCode::None;
  /// Linear memory afterwards.
  std::string memory;
};

/// How a launch is asked for: the kernel's export and its arguments.
struct Launch {
  std::string kernel;
  std::vector<tensorwasm::Value> arguments;
};

/// FNV-1a over the bytes: a batch's expected memories are kept as digests.
uint64_t digest(const std::string &bytes);

/// Empty when the outcomes agree; otherwise what differs (the trap kinds,
/// or the first differing bytes and the values stored around them).
std::string difference(const Outcome &expected, const Outcome &actual);

/// "completed", or the trap's message.
std::string describe(tensorwasm::abi::TrapCode trap);

/// Runs one case on an instance of a loaded batch: resets the instance,
/// launches the kernel on one thread (with a timeout: generated kernels
/// always end) and reads memory back. An Error means it could not run.
tensorwasm::Result<Outcome> runCase(tensorwasm::Instance &instance,
                                    const Launch &launch);

/// One case of a compiled batch as the reference ran it: what to launch,
/// how it must end, and its memory's digest.
struct ExpectedCase {
  Launch launch;
  tensorwasm::abi::TrapCode trap = tensorwasm::abi::TrapCode::None;
  uint64_t memoryDigest = 0;
};

/// The expectations of a batch as text, one case a line:
/// `KERNEL TRAP DIGEST TYPE:BITS...` (numbers in hex).
std::string writeExpectations(const std::vector<ExpectedCase> &cases);
std::optional<std::vector<ExpectedCase>>
readExpectations(const std::string &text, std::string &error);

} // namespace twasm::oracle

#endif // TWASM_TEST_ORACLE_OUTCOME_H
