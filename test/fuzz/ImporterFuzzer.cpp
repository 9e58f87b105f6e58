//===- ImporterFuzzer.cpp - libFuzzer target for the Wasm importer --------===//
//
// An input that starts with "\0asm" is imported as a binary module, anything
// else as a text module. Whatever the bytes, the importer must return a
// module that verifies or an error; a crash, hang, leak or sanitizer report
// is a bug.
//
//===----------------------------------------------------------------------===//

#include "twasm/Import/WasmImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdlib>
#include <memory>

namespace {
/// A context lives across inputs (creating one per input would dominate the
/// run time), but is renewed now and then: attributes and types a context
/// interns are never freed, so one context would grow for the whole run.
class ContextPool {
public:
  mlir::MLIRContext &get() {
    if (!context || ++uses > 5000) {
      context = std::make_unique<mlir::MLIRContext>(
          mlir::MLIRContext::Threading::DISABLED);
      uses = 0;
    }
    return *context;
  }

private:
  std::unique_ptr<mlir::MLIRContext> context;
  unsigned uses = 0;
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ContextPool pool;
  llvm::StringRef input(reinterpret_cast<const char *>(data), size);
  llvm::StringRef name =
      input.starts_with(llvm::StringRef("\0asm", 4)) ? "fuzz.wasm" : "fuzz.wat";
  auto module = mlir::twasm::importWasmModule(pool.get(), name, input);
  if (!module) {
    llvm::consumeError(module.takeError());
    return 0;
  }
  if (mlir::failed(mlir::verify(**module)))
    std::abort(); // the importer returned a module that does not verify
  return 0;
}
