//===- twasm-opt.cpp - mlir-opt for twasm, reading .mlir, .wasm or .wat
//----===//
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

static llvm::cl::list<std::string> extraKernels(
    "twasm-kernel",
    llvm::cl::desc("Declare the exported function NAME a kernel, as the "
                   "module's twasm.kernels custom section does"),
    llvm::cl::value_desc("NAME"));

static int fail(llvm::StringRef file, const llvm::Twine &reason) {
  llvm::errs() << "error: " << file << ": " << reason << "\n";
  return 1;
}

/// Imports one module and prints it as MLIR, locations included.
static llvm::Expected<std::string> importAsMLIR(DialectRegistry &registry,
                                                llvm::StringRef file,
                                                llvm::StringRef contents) {
  MLIRContext context(registry);
  twasm::ImportOptions options;
  options.promoteLocals = !keepLocals;
  options.kernels.assign(extraKernels.begin(), extraKernels.end());
  auto module = twasm::importWasmModule(context, file, contents, options);
  if (!module)
    return module.takeError();
  std::string text;
  llvm::raw_string_ostream stream(text);
  (*module)->print(stream, OpPrintingFlags().enableDebugInfo());
  return text;
}

/// With --split-input-file, a text file may hold several modules separated
/// by ";; -----" lines. Each chunk keeps its line numbers (it is padded with
/// the newlines before it) and becomes one "// -----" chunk of MLIR.
static llvm::Expected<std::string> importSplitText(DialectRegistry &registry,
                                                   llvm::StringRef file,
                                                   llvm::StringRef contents,
                                                   llvm::StringRef mlirMarker) {
  llvm::SmallVector<llvm::StringRef> chunks;
  contents.split(chunks, "\n;; -----");
  std::string result;
  size_t linesBefore = 0;
  for (auto [index, chunk] : llvm::enumerate(chunks)) {
    std::string padded(linesBefore, '\n');
    padded += chunk;
    linesBefore += chunk.count('\n') + 1;
    auto text = importAsMLIR(registry, file, padded);
    if (!text)
      return text.takeError();
    if (index)
      result += "\n" + mlirMarker.str() + "\n";
    result += *text;
  }
  return result;
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
  twasm::WasmFormat format =
      twasm::detectWasmFormat(inputFile, input->getBuffer());
  if (format != twasm::WasmFormat::NotWasm) {
    llvm::StringRef marker = config.inputSplitMarker();
    auto text =
        format == twasm::WasmFormat::Text && !marker.empty()
            ? importSplitText(registry, inputFile, input->getBuffer(), marker)
            : importAsMLIR(registry, inputFile, input->getBuffer());
    if (!text)
      return fail(inputFile, llvm::toString(text.takeError()));
    // MlirOptMain takes the module from here as text.
    input = llvm::MemoryBuffer::getMemBufferCopy(*text, inputFile);
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
