//===- HostCompiler.cpp - twasm modules to shared objects for the CPU -----===//

#include "twasm/Pipelines/HostCompiler.h"

#include "twasm/Conversion/Passes.h"
#include "twasm/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;
using namespace mlir::twasm;

static constexpr llvm::StringLiteral kTriple = "x86_64-unknown-linux-gnu";

void mlir::twasm::buildTwasmToHostPipeline(OpPassManager &pm,
                                           const HostTarget &target) {
  OpPassManager &wasm = pm.nest<twasm::ModuleOp>();
  wasm.addPass(createCanonicalizerPass());
  wasm.addPass(createCSEPass());
  // Loops are versioned (checks leave the hot copy, which LLVM can then
  // vectorize); loop-free functions are not, unlike on the GPU: there the
  // copy turns guarded accesses into predicated code, here a predicted
  // branch costs less than the copy's entry test, which in a small function
  // (a kernel's thread, called once per thread) is most of the work.
  wasm.addNestedPass<FuncOp>(createTwasmVersionLoopsPass());
  if (target.boundsChecks)
    wasm.addNestedPass<FuncOp>(createTwasmEliminateBoundsChecksPass());
  ConvertTwasmToHostPassOptions lowering;
  lowering.boundsChecks = target.boundsChecks;
  lowering.epochChecks = target.epochChecks;
  pm.addPass(createConvertTwasmToHostPass(lowering));
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static llvm::Expected<std::string> findLinker(const HostTarget &target) {
  if (!target.linker.empty())
    return target.linker;
  if (const char *path = std::getenv("TWASM_LD_LLD"))
    return std::string(path);
  for (llvm::StringRef candidate :
       {"/usr/lib/llvm-22/bin/ld.lld", "/usr/bin/ld.lld-22"})
    if (llvm::sys::fs::can_execute(candidate))
      return candidate.str();
  if (llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName("ld.lld"))
    return *found;
  return makeError("cannot find ld.lld (install lld-22, or set TWASM_LD_LLD)");
}

static llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const HostTarget &target) {
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  llvm::Triple triple(kTriple);
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return makeError("no LLVM target for " + kTriple + ": " + error);
  llvm::TargetOptions options;
  // Wasm rounds every float operation: no fused multiply-adds.
  options.AllowFPOpFusion = llvm::FPOpFusion::Strict;
  llvm::CodeGenOptLevel level =
      target.optLevel == 0   ? llvm::CodeGenOptLevel::None
      : target.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                             : llvm::CodeGenOptLevel::Default;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.cpu, "", options, llvm::Reloc::PIC_, std::nullopt, level));
  if (!machine)
    return makeError("cannot create a target machine for " + target.cpu);
  return machine;
}

static void optimize(llvm::Module &module, llvm::TargetMachine &machine,
                     unsigned optLevel) {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);
  llvm::OptimizationLevel level = optLevel == 0   ? llvm::OptimizationLevel::O0
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager pipeline =
      optLevel == 0 ? builder.buildO0DefaultPipeline(level)
                    : builder.buildPerModuleDefaultPipeline(level);
  pipeline.run(module, modules);
}

/// Links `object` into a shared object with ld.lld, through temporary
/// files that are always removed.
static llvm::Expected<std::string> link(llvm::StringRef object,
                                        const HostTarget &target) {
  llvm::Expected<std::string> linker = findLinker(target);
  if (!linker)
    return linker.takeError();
  llvm::SmallString<128> objectPath, libraryPath, logPath;
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("twasm-host", "o", objectPath))
    return makeError("cannot create a temporary file: " + error.message());
  llvm::scope_exit removeObject([&] { llvm::sys::fs::remove(objectPath); });
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("twasm-host", "so", libraryPath))
    return makeError("cannot create a temporary file: " + error.message());
  llvm::scope_exit removeLibrary([&] { llvm::sys::fs::remove(libraryPath); });
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("twasm-host", "log", logPath))
    return makeError("cannot create a temporary file: " + error.message());
  llvm::scope_exit removeLog([&] { llvm::sys::fs::remove(logPath); });
  {
    std::error_code error;
    llvm::raw_fd_ostream stream(objectPath, error);
    if (error)
      return makeError("cannot write " + objectPath + ": " + error.message());
    stream << object;
  }
  llvm::SmallVector<llvm::StringRef> arguments = {
      *linker, "-shared",          "-z", "noexecstack", "-z",
      "now",   "--hash-style=gnu", "-o", libraryPath,   objectPath};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string error;
  int status = llvm::sys::ExecuteAndWait(*linker, arguments, std::nullopt,
                                         redirects, 0, 0, &error);
  if (status != 0) {
    std::string log;
    if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
      log = (*buffer)->getBuffer().str();
    return makeError(
        llvm::formatv(
            "linking with {0} failed ({1}): {2}", *linker,
            error.empty() ? "status " + std::to_string(status) : error, log)
            .str());
  }
  auto buffer = llvm::MemoryBuffer::getFile(libraryPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read the linked object: " +
                     buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

llvm::Expected<HostArtifacts>
mlir::twasm::compileForHost(OwningOpRef<ModuleOp> module,
                            const HostTarget &target, bool keepLLVMIR) {
  MLIRContext *context = module->getContext();
  OwningOpRef<mlir::ModuleOp> top = mlir::ModuleOp::create(module->getLoc());
  top->getBody()->push_back(module.release());

  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error) {
        if (!diagnostics.empty())
          diagnostics += "\n";
        diagnostics += diag.str();
      }
      return success();
    });
    PassManager pm(context);
    buildTwasmToHostPipeline(pm, target);
    if (failed(pm.run(*top)))
      return makeError(diagnostics.empty() ? "lowering failed" : diagnostics);
  }

  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(target);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*top, llvmContext, "twasm_host");
  if (!llvmModule)
    return makeError("translation to LLVM IR failed");
  llvmModule->setTargetTriple(llvm::Triple(kTriple));
  llvmModule->setDataLayout((*machine)->createDataLayout());
  optimize(*llvmModule, **machine, target.optLevel);

  HostArtifacts artifacts;
  if (keepLLVMIR) {
    llvm::raw_string_ostream stream(artifacts.llvmIR);
    llvmModule->print(stream, nullptr);
  }
  llvm::SmallVector<char> object;
  {
    llvm::raw_svector_ostream stream(object);
    llvm::legacy::PassManager emit;
    if ((*machine)->addPassesToEmitFile(emit, stream, nullptr,
                                        llvm::CodeGenFileType::ObjectFile))
      return makeError("the target cannot emit object files");
    emit.run(*llvmModule);
  }
  llvm::Expected<std::string> library =
      link(llvm::StringRef(object.data(), object.size()), target);
  if (!library)
    return library.takeError();
  artifacts.sharedObject = std::move(*library);
  return artifacts;
}
