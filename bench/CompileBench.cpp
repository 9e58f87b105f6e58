//===- CompileBench.cpp - how long .wasm -> PTX takes per kernel ----------===//
//
// twasm-bench-compile [--repetitions N] [--target sm_XY] MODULE.wasm...
//
// Compiles each module to PTX N times, each time as `twasm compile` does it
// (a fresh MLIRContext, import, the twasm-to-ptx pipeline, the PTX text),
// and prints the median and the spread per module.
//
//===----------------------------------------------------------------------===//

#include "twasm/Import/WasmImporter.h"
#include "twasm/InitAll.h"
#include "twasm/Pipelines/Pipelines.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstring>

using namespace mlir;

static bool compileOnce(DialectRegistry &registry, llvm::StringRef path,
                        llvm::StringRef bytes, const std::string &chip,
                        size_t &ptxBytes) {
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto module = twasm::importWasmModule(context, path, bytes);
  if (!module) {
    llvm::errs() << "error: " << path << ": "
                 << llvm::toString(module.takeError()) << "\n";
    return false;
  }
  OwningOpRef<mlir::ModuleOp> top = mlir::ModuleOp::create((*module)->getLoc());
  top->getBody()->push_back(module->release());
  twasm::TwasmToPTXOptions options;
  options.chip = chip;
  PassManager pm(&context);
  twasm::buildTwasmToPTXPipeline(pm, options);
  if (failed(pm.run(*top)))
    return false;
  FailureOr<std::string> ptx = twasm::extractPTX(*top);
  if (failed(ptx))
    return false;
  ptxBytes = ptx->size();
  return true;
}

int main(int argc, char **argv) {
  int repetitions = 20;
  std::string chip = "sm_90";
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--repetitions") && i + 1 < argc)
      repetitions = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--target") && i + 1 < argc)
      chip = argv[++i];
    else
      inputs.push_back(argv[i]);
  }
  if (inputs.empty() || repetitions < 1) {
    llvm::errs() << "usage: twasm-bench-compile [--repetitions N] "
                    "[--target sm_XY] MODULE.wasm...\n";
    return 2;
  }
  DialectRegistry registry;
  twasm::registerAllDialects(registry);

  llvm::outs() << llvm::formatv("{0,-22} {1,10} {2,10} {3,10} {4,10}\n",
                                "module", "median ms", "min ms", "max ms",
                                "PTX bytes");
  for (const std::string &input : inputs) {
    auto buffer = llvm::MemoryBuffer::getFile(input);
    if (!buffer) {
      llvm::errs() << "error: " << input << ": " << buffer.getError().message()
                   << "\n";
      return 1;
    }
    std::vector<double> times;
    size_t ptxBytes = 0;
    for (int r = 0; r < repetitions; ++r) {
      auto start = std::chrono::steady_clock::now();
      if (!compileOnce(registry, input, (*buffer)->getBuffer(), chip, ptxBytes))
        return 1;
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
    }
    std::sort(times.begin(), times.end());
    size_t n = times.size();
    double median =
        n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    llvm::outs() << llvm::formatv("{0,-22} {1,10:f1} {2,10:f1} {3,10:f1} "
                                  "{4,10}\n",
                                  llvm::sys::path::filename(input), median,
                                  times.front(), times.back(), ptxBytes);
  }
  return 0;
}
