//===- SpecScripts.h - the spec suite's .wast scripts as JSON ---*- C++ -*-===//
//
// What both spec-suite tests (the import test and the CPU-backend runner)
// need before they look at a script: the suite's .wast files, and each
// converted by wabt's wast2json into a JSON script beside its modules.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TEST_SUPPORT_SPECSCRIPTS_H
#define TWASM_TEST_SUPPORT_SPECSCRIPTS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <variant>
#include <vector>

namespace tensorwasm::testing {

/// The exit status of a spec program that cannot run here (no suite, no
/// wast2json): ctest's SKIP_RETURN_CODE.
inline constexpr int kSkippedExitCode = 77;

/// What a run over the suite needs: wast2json, the suite's .wast files and
/// a fresh scratch directory, which the run removes when it is done.
struct SuiteRun {
  std::string wast2json;
  std::vector<std::string> wastFiles;
  std::string scratch;
};

/// Prepares a run over the suite in `suiteDir`, finding `wast2jsonPath` on
/// the PATH and naming the scratch directory after `scratchPrefix`. When it
/// cannot, it prints why and returns the status to exit with
/// (kSkippedExitCode for a missing suite or wast2json, 1 otherwise).
std::variant<SuiteRun, int> prepareSuiteRun(llvm::StringRef suiteDir,
                                            llvm::StringRef wast2jsonPath,
                                            llvm::StringRef scratchPrefix);

/// The .wast files of `directory`, sorted by name.
std::vector<std::string> listWastFiles(llvm::StringRef directory);

/// Runs `wast2json` on `wast`, writing the script and its modules into
/// `directory` (created if needed), and returns the script's top-level
/// object.
llvm::Expected<llvm::json::Value> convertWast(llvm::StringRef wast2json,
                                              llvm::StringRef wast,
                                              llvm::StringRef directory);

} // namespace tensorwasm::testing

#endif // TWASM_TEST_SUPPORT_SPECSCRIPTS_H
