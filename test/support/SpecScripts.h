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
#include <vector>

namespace tensorwasm::testing {

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
