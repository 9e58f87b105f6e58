//===- twasm-opt.cpp - mlir-opt for twasm, reading .mlir, .wasm or .wat ----===//
//
// A .wasm or .wat input (recognized by its magic bytes or extension) is
// imported into the twasm dialect first; everything else is MlirOptMain's.
//
//===----------------------------------------------------------------------===//

#include "twasm/Import/WasmImporter.h"
#include "twasm/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

static llvm::cl::opt<bool> keepLocals(
    "twasm-keep-locals",
    llvm::cl::desc("Import Wasm locals as twasm.local slots instead of "
                   "promoting them to SSA values"));

static int fail(llvm::StringRef file, const llvm::Twine &reason) {
  llvm::errs() << "error: " << file << ": " << reason << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  DialectRegistry registry;
  twasm::registerAllDialects(registry);
  twasm::registerAllPasses();
  auto [inputFile, outputFile] = registerAndParseCLIOptions(
      argc, argv, "TensorWasm optimizer driver (.mlir, .wasm, .wat)\n",
      registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputFile, &error);
  if (!input)
    return fail(inputFile, error);
  if (twasm::detectWasmFormat(inputFile, input->getBuffer()) !=
      twasm::WasmFormat::NotWasm) {
    MLIRContext context(registry);
    twasm::ImportOptions options;
    options.promoteLocals = !keepLocals;
    auto module = twasm::importWasmModule(context, inputFile,
                                          input->getBuffer(), options);
    if (!module)
      return fail(inputFile, llvm::toString(module.takeError()));
    // Hand the module to MlirOptMain as text, locations included.
    std::string text;
    llvm::raw_string_ostream stream(text);
    (*module)->print(stream, OpPrintingFlags().enableDebugInfo());
    input = llvm::MemoryBuffer::getMemBufferCopy(text, inputFile);
  }

  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output)
    return fail(outputFile, error);
  if (failed(MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  output->keep();
  return 0;
}
