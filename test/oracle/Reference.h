//===- Reference.h - generated cases on wabt's interpreter -----*- C++ -*-===//
//
// The reference the oracle compares with: wabt's interpreter, written from
// the spec by others, runs a batch's kernels as plain Wasm functions, each on
// a fresh instance.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TEST_ORACLE_REFERENCE_H
#define TWASM_TEST_ORACLE_REFERENCE_H

#include "Outcome.h"

#include <memory>
#include <string>

namespace twasm::oracle {

class Reference {
public:
  /// The module in binary form; an error (wabt's) if wabt cannot load it.
  static std::unique_ptr<Reference> load(const std::string &binary,
                                         std::string &error);
  ~Reference();

  /// Runs the export `launch.kernel` with its arguments on a new instance.
  /// A trap wabt names with a message the runtime has no code for is an
  /// error, as is a failure to instantiate.
  std::optional<Outcome> run(const Launch &launch, std::string &error);

private:
  struct Loaded;
  explicit Reference(std::unique_ptr<Loaded> loaded);
  std::unique_ptr<Loaded> loaded;
};

} // namespace twasm::oracle

#endif // TWASM_TEST_ORACLE_REFERENCE_H
