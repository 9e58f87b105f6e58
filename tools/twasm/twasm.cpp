//===- twasm.cpp - the TensorWasm command line ----------------------------===//
//
// `twasm compile kernel.wasm --target sm_90 -o kernel.ptx` compiles the
// kernels of a Wasm module ahead of time and writes the manifest a loader
// needs beside them (docs/kernel-manifest.md). Further subcommands (run,
// sign, serve, ...) arrive with the runtime.
//
//===----------------------------------------------------------------------===//

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
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>

using namespace mlir;
namespace cl = llvm::cl;

static cl::SubCommand compileCommand(
    "compile", "Compile a Wasm module's kernels to PTX, with their manifest");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<module.wasm|module.wat>"),
                                      cl::sub(compileCommand));
static cl::opt<std::string> outputFile(
    "o", cl::desc("Output file (default: the input with .ptx; - for stdout)"),
    cl::value_desc("file"), cl::sub(compileCommand));
static cl::opt<std::string> manifestFile(
    "manifest",
    cl::desc("Where to write the manifest (default: the output with .json; "
             "'none' to skip)"),
    cl::value_desc("file"), cl::sub(compileCommand));
static cl::opt<std::string>
    chip("target",
         cl::desc("What to compile for: an SM architecture (PTX of the "
                  "kernels) or 'host' (a shared object of the whole module "
                  "for the CPU, docs/host-abi.md)"),
         cl::init("sm_90"), cl::value_desc("sm_XY|host"),
         cl::sub(compileCommand));
static cl::opt<std::string>
    hostCPU("host-cpu",
            cl::desc("With --target host: the x86-64 level the code may use"),
            cl::init("x86-64-v2"), cl::value_desc("cpu"),
            cl::sub(compileCommand));
static cl::list<std::string>
    kernels("kernel",
            cl::desc("Declare the export NAME a kernel (besides the module's "
                     "twasm.kernels section)"),
            cl::value_desc("NAME"), cl::sub(compileCommand));
static cl::opt<bool>
    listKernels("list-kernels",
                cl::desc("Print the module's kernels and their parameters"),
                cl::sub(compileCommand));
enum class Emit { PTX, Twasm, Lowered };
static cl::opt<Emit>
    emit("emit", cl::desc("What to write"), cl::init(Emit::PTX),
         cl::values(clEnumValN(Emit::PTX, "ptx", "PTX assembly (default)"),
                    clEnumValN(Emit::Twasm, "twasm", "the imported twasm IR"),
                    clEnumValN(Emit::Lowered, "lowered",
                               "the gpu.module before PTX emission")),
         cl::sub(compileCommand));
static cl::opt<bool> noBoundsChecks(
    "unsafe-no-bounds-checks",
    cl::desc("Measurement only: omit memory bounds checks (unsafe)"),
    cl::sub(compileCommand));
static cl::opt<bool> noEpochChecks(
    "unsafe-no-epoch-checks",
    cl::desc("Measurement only: omit interruption checks in loops"),
    cl::sub(compileCommand));
static cl::opt<bool> timing("time", cl::desc("Print how long each stage took"),
                            cl::sub(compileCommand));

static int fail(llvm::StringRef file, const llvm::Twine &reason) {
  llvm::errs() << "error: " << file << ": " << reason << "\n";
  return 1;
}

static llvm::Error writeFile(llvm::StringRef path, llvm::StringRef contents) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output = openOutputFile(path, &error);
  if (!output)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  output->os() << contents;
  output->keep();
  return llvm::Error::success();
}

static std::string defaultOutputPath(llvm::StringRef extension) {
  llvm::SmallString<128> path(inputFile);
  llvm::sys::path::replace_extension(path, extension);
  return path.str().str();
}

/// Writes the manifest where --manifest says, by default beside the output
/// with the extension .json. Returns the exit status.
static int writeManifest(llvm::StringRef outputPath, llvm::StringRef manifest) {
  std::string manifestPath = manifestFile;
  if (manifestPath.empty()) {
    if (outputPath == "-")
      return fail(inputFile, "--manifest is needed when the output is -");
    llvm::SmallString<128> path(outputPath);
    llvm::sys::path::replace_extension(path, ".json");
    manifestPath = path.str().str();
  }
  if (llvm::Error error = writeFile(manifestPath, manifest))
    return fail(manifestPath, llvm::toString(std::move(error)));
  return 0;
}

/// --target host: the whole module as a shared object (or its LLVM IR).
static int compileForHost(OwningOpRef<twasm::ModuleOp> wasm,
                          std::chrono::steady_clock::time_point started,
                          double importMs) {
  twasm::HostTarget target;
  target.cpu = hostCPU;
  target.boundsChecks = !noBoundsChecks;
  target.epochChecks = !noEpochChecks;
  std::string manifest = twasm::writeHostManifest(*wasm, target.cpu);
  bool wantIR = emit == Emit::Lowered;
  llvm::Expected<twasm::HostArtifacts> artifacts =
      twasm::compileForHost(std::move(wasm), target, wantIR);
  if (!artifacts)
    return fail(inputFile, llvm::toString(artifacts.takeError()));
  std::string outputPath = outputFile;
  if (outputPath.empty())
    outputPath = defaultOutputPath(wantIR ? ".ll" : ".so");
  if (llvm::Error error = writeFile(
          outputPath, wantIR ? artifacts->llvmIR : artifacts->sharedObject))
    return fail(outputPath, llvm::toString(std::move(error)));
  if (!wantIR && manifestFile != "none") {
    if (int failed = writeManifest(outputPath, manifest))
      return failed;
  }
  if (timing)
    llvm::errs() << llvm::formatv(
        "twasm compile: import {0:f1} ms, total {1:f1} ms\n", importMs,
        std::chrono::duration<double, std::milli>(
            std::chrono::steady_clock::now() - started)
            .count());
  return 0;
}

static int compile() {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto elapsedMs = [](Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since)
        .count();
  };

  DialectRegistry registry;
  twasm::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputFile, &error);
  if (!input)
    return fail(inputFile, error);
  twasm::ImportOptions options;
  options.kernels.assign(kernels.begin(), kernels.end());
  auto imported =
      twasm::importWasmModule(context, inputFile, input->getBuffer(), options);
  if (!imported)
    return fail(inputFile, llvm::toString(imported.takeError()));
  double importMs = elapsedMs(started);

  twasm::ModuleOp wasm = **imported;
  if (listKernels) {
    for (twasm::KernelOp kernel : wasm.getBody()->getOps<twasm::KernelOp>()) {
      llvm::outs() << kernel.getName() << "(";
      llvm::interleaveComma(kernel.getFunction().getFunctionType().getInputs(),
                            llvm::outs());
      llvm::outs() << ")\n";
    }
    return 0;
  }
  if (emit == Emit::Twasm) {
    wasm->print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  }

  if (chip == "host")
    return compileForHost(std::move(*imported), started, importMs);

  twasm::TwasmToPTXOptions pipelineOptions;
  pipelineOptions.chip = chip;
  pipelineOptions.boundsChecks = !noBoundsChecks;
  pipelineOptions.epochChecks = !noEpochChecks;
  std::string manifest =
      twasm::writeKernelManifest(wasm, pipelineOptions.target());

  OwningOpRef<mlir::ModuleOp> top = mlir::ModuleOp::create(wasm.getLoc());
  top->getBody()->push_back(imported->release());

  // Errors from here on are about the module (an unsupported instruction, a
  // bad intrinsic): report them as "error: file: ...".
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
  if (emit == Emit::Lowered) {
    twasm::ConvertTwasmToGPUPassOptions lowering;
    lowering.boundsChecks = !noBoundsChecks;
    lowering.epochChecks = !noEpochChecks;
    pm.addPass(twasm::createConvertTwasmToGPUPass(lowering));
  } else {
    twasm::buildTwasmToPTXPipeline(pm, pipelineOptions);
  }
  auto loweringStarted = Clock::now();
  if (failed(pm.run(*top)))
    return fail(inputFile,
                diagnostic.empty() ? "compilation failed" : diagnostic);
  double lowerMs = elapsedMs(loweringStarted);

  std::string output;
  if (emit == Emit::Lowered) {
    llvm::raw_string_ostream stream(output);
    top->print(stream);
  } else {
    FailureOr<std::string> ptx = twasm::extractPTX(*top);
    if (failed(ptx))
      return fail(inputFile, diagnostic);
    output = std::move(*ptx);
  }

  std::string outputPath = outputFile;
  if (outputPath.empty())
    outputPath = defaultOutputPath(emit == Emit::PTX ? ".ptx" : ".mlir");
  if (llvm::Error error = writeFile(outputPath, output))
    return fail(outputPath, llvm::toString(std::move(error)));
  if (emit == Emit::PTX && manifestFile != "none") {
    if (int failed = writeManifest(outputPath, manifest))
      return failed;
  }
  if (timing)
    llvm::errs() << llvm::formatv(
        "twasm compile: import {0:f1} ms, lowering and PTX {1:f1} ms, total "
        "{2:f1} ms\n",
        importMs, lowerMs, elapsedMs(started));
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "TensorWasm: compile WebAssembly kernels for GPUs\n\n"
          "  twasm compile kernel.wasm --target sm_90 -o kernel.ptx\n"))
    return 1;
  if (compileCommand)
    return compile();
  cl::PrintHelpMessage();
  return 1;
}
