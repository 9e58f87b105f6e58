//===- Compile.cpp - twasm's compilation, in memory -----------------------===//

#include "Compile.h"

#include "twasm/Import/WasmImporter.h"
#include "twasm/InitAll.h"
#include "twasm/Pipelines/HostCompiler.h"
#include "twasm/Pipelines/Manifest.h"
#include "twasm/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <chrono>

namespace mlir::twasm::tool {

using Clock = std::chrono::steady_clock;

static double msSince(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since)
      .count();
}

static llvm::Error failure(const llvm::Twine &reason) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), reason);
}

/// The whole module as a shared object for the CPU (or its LLVM IR).
static llvm::Expected<CompiledModule>
compileHostCode(OwningOpRef<ModuleOp> wasm, const CompileSettings &settings,
                CompiledModule compiled) {
  HostTarget target;
  target.cpu = settings.hostCPU;
  target.boundsChecks = settings.boundsChecks;
  target.epochChecks = settings.epochChecks;
  bool wantIR = settings.emit == Emit::Lowered;
  if (!wantIR)
    compiled.manifest = writeHostManifest(*wasm, target.cpu);
  auto started = Clock::now();
  llvm::Expected<HostArtifacts> artifacts =
      twasm::compileForHost(std::move(wasm), target, wantIR);
  if (!artifacts)
    return artifacts.takeError();
  compiled.code = wantIR ? std::move(artifacts->llvmIR)
                         : std::move(artifacts->sharedObject);
  compiled.lowerMs = msSince(started);
  return compiled;
}

/// The module's kernels as PTX for an SM architecture (or the gpu.module).
static llvm::Expected<CompiledModule>
compileGPUCode(MLIRContext &context, OwningOpRef<ModuleOp> wasm,
               const CompileSettings &settings, CompiledModule compiled) {
  TwasmToPTXOptions pipelineOptions;
  pipelineOptions.chip = settings.target;
  pipelineOptions.boundsChecks = settings.boundsChecks;
  pipelineOptions.epochChecks = settings.epochChecks;
  if (settings.emit == Emit::Code)
    compiled.manifest = writeKernelManifest(*wasm, pipelineOptions.target());

  OwningOpRef<mlir::ModuleOp> top = mlir::ModuleOp::create(wasm->getLoc());
  top->getBody()->push_back(wasm.release());

  // Errors from here on are about the module (an unsupported instruction, a
  // bad intrinsic): report them with where in the module they are.
  std::string diagnostic;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Error)
      return success();
    if (!diagnostic.empty())
      diagnostic += "\n";
    std::string where;
    if (auto fileLoc = dyn_cast<FileLineColLoc>(diag.getLocation()))
      where =
          fileLoc.getLine() == 0
              ? llvm::formatv(" (at byte offset {0:x})", fileLoc.getColumn())
                    .str()
              : llvm::formatv(" (at line {0}, column {1})", fileLoc.getLine(),
                              fileLoc.getColumn())
                    .str();
    diagnostic += diag.str() + where;
    return success();
  });
  PassManager pm(&context);
  if (settings.emit == Emit::Lowered) {
    ConvertTwasmToGPUPassOptions lowering;
    lowering.boundsChecks = settings.boundsChecks;
    lowering.epochChecks = settings.epochChecks;
    pm.addPass(createConvertTwasmToGPUPass(lowering));
  } else {
    buildTwasmToPTXPipeline(pm, pipelineOptions);
  }
  auto started = Clock::now();
  if (failed(pm.run(*top)))
    return failure(diagnostic.empty() ? "compilation failed" : diagnostic);
  if (settings.emit == Emit::Lowered) {
    llvm::raw_string_ostream stream(compiled.code);
    top->print(stream);
  } else {
    FailureOr<std::string> ptx = extractPTX(*top);
    if (failed(ptx))
      return failure(diagnostic.empty() ? "no PTX was produced" : diagnostic);
    compiled.code = std::move(*ptx);
  }
  compiled.lowerMs = msSince(started);
  return compiled;
}

llvm::Expected<CompiledModule> compileModule(llvm::StringRef path,
                                             const CompileSettings &settings) {
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(path, &error);
  if (!input)
    return failure(error);
  return compileModuleBytes(path, input->getBuffer(), settings);
}

llvm::Expected<CompiledModule>
compileModuleBytes(llvm::StringRef name, llvm::StringRef bytes,
                   const CompileSettings &settings) {
  auto started = Clock::now();
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  ImportOptions options;
  options.kernels = settings.kernels;
  std::string binary;
  options.binary = &binary;
  auto imported = importWasmModule(context, name, bytes, options);
  if (!imported)
    return imported.takeError();
  CompiledModule compiled;
  compiled.wasm = std::move(binary);
  compiled.importMs = msSince(started);

  ModuleOp wasm = **imported;
  switch (settings.emit) {
  case Emit::KernelList: {
    llvm::raw_string_ostream stream(compiled.code);
    for (KernelOp kernel : wasm.getBody()->getOps<KernelOp>()) {
      stream << kernel.getName() << "(";
      llvm::interleaveComma(kernel.getFunction().getFunctionType().getInputs(),
                            stream);
      stream << ")\n";
    }
    return compiled;
  }
  case Emit::Twasm: {
    llvm::raw_string_ostream stream(compiled.code);
    wasm->print(stream);
    stream << "\n";
    return compiled;
  }
  case Emit::Code:
  case Emit::Lowered:
    break;
  }
  if (settings.target == "host")
    return compileHostCode(std::move(*imported), settings, std::move(compiled));
  return compileGPUCode(context, std::move(*imported), settings,
                        std::move(compiled));
}

} // namespace mlir::twasm::tool
