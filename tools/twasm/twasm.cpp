//===- twasm.cpp - the TensorWasm command line ----------------------------===//
//
// `twasm compile kernel.wasm --target sm_90 -o kernel.ptx` compiles the
// kernels of a Wasm module ahead of time and writes the manifest a loader
// needs beside them (docs/kernel-manifest.md); `twasm run` runs a kernel
// through the runtime's API (RunKernel.cpp, shared with `twasm-run`). Further
// subcommands (sign, serve, ...) arrive with the runtime.
//
//===----------------------------------------------------------------------===//

#include "Compile.h"
#include "RunKernel.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>
#include <optional>

using namespace mlir;
namespace cl = llvm::cl;
using twasm::tool::Emit;

// `twasm run` parses its own command line (RunKernel.cpp); it is declared
// here so that `twasm --help` lists it.
static cl::SubCommand runCommand(
    "run", "Run a kernel of a module on a device, through the runtime (exit "
           "status 0: completed, 1: an error, 2: trapped, 3: interrupted)");

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
static cl::opt<Emit>
    emit("emit", cl::desc("What to write"), cl::init(Emit::Code),
         cl::values(clEnumValN(Emit::Code, "ptx", "PTX assembly (default)"),
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

static int compile() {
  auto started = std::chrono::steady_clock::now();
  twasm::tool::CompileSettings settings;
  settings.target = chip;
  settings.hostCPU = hostCPU;
  settings.kernels.assign(kernels.begin(), kernels.end());
  settings.boundsChecks = !noBoundsChecks;
  settings.epochChecks = !noEpochChecks;
  settings.emit = listKernels ? Emit::KernelList : emit.getValue();
  llvm::Expected<twasm::tool::CompiledModule> compiled =
      twasm::tool::compileModule(inputFile, settings);
  if (!compiled)
    return fail(inputFile, llvm::toString(compiled.takeError()));
  if (settings.emit == Emit::KernelList || settings.emit == Emit::Twasm) {
    llvm::outs() << compiled->code;
    return 0;
  }

  bool host = settings.target == "host";
  std::string outputPath = outputFile;
  if (outputPath.empty())
    outputPath = defaultOutputPath(settings.emit == Emit::Code
                                       ? (host ? ".so" : ".ptx")
                                       : (host ? ".ll" : ".mlir"));
  if (llvm::Error error = writeFile(outputPath, compiled->code))
    return fail(outputPath, llvm::toString(std::move(error)));
  if (settings.emit == Emit::Code && manifestFile != "none") {
    if (int failed = writeManifest(outputPath, compiled->manifest))
      return failed;
  }
  if (timing) {
    double totalMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - started)
                         .count();
    if (host)
      llvm::errs() << llvm::formatv(
          "twasm compile: import {0:f1} ms, total {1:f1} ms\n",
          compiled->importMs, totalMs);
    else
      llvm::errs() << llvm::formatv(
          "twasm compile: import {0:f1} ms, lowering and PTX {1:f1} ms, total "
          "{2:f1} ms\n",
          compiled->importMs, compiled->lowerMs, totalMs);
  }
  return 0;
}

/// `twasm run`'s compilation of a .wasm or .wat: compileModule, in memory.
static tensorwasm::tool::CompiledCode compileForRun(const std::string &path,
                                                    const std::string &target) {
  twasm::tool::CompileSettings settings;
  settings.target = target;
  tensorwasm::tool::CompiledCode result;
  llvm::Expected<twasm::tool::CompiledModule> compiled =
      twasm::tool::compileModule(path, settings);
  if (!compiled) {
    result.error = llvm::toString(compiled.takeError());
    return result;
  }
  result.code = std::move(compiled->code);
  result.manifest = std::move(compiled->manifest);
  result.milliseconds = compiled->importMs + compiled->lowerMs;
  return result;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // `twasm run ...` is `twasm-run ...` that can also compile: its command
  // line is RunKernel.cpp's, not llvm::cl's.
  if (argc > 1 && llvm::StringRef(argv[1]) == "run")
    return tensorwasm::tool::runMain(argc - 1, argv + 1, compileForRun);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "TensorWasm: compile WebAssembly kernels for GPUs and CPUs, and run "
          "them\n\n"
          "  twasm compile kernel.wasm --target sm_90 -o kernel.ptx\n"
          "  twasm run kernel.wasm --grid 4096 --block 256 ARGS...\n"))
    return 1;
  if (compileCommand)
    return compile();
  cl::PrintHelpMessage();
  return 1;
}
