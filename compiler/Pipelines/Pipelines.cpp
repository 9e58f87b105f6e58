//===- Pipelines.cpp - TensorWasm's compilation pipelines -----------------===//

#include "twasm/Pipelines/Pipelines.h"

#include "twasm/Conversion/Passes.h"
#include "twasm/Transforms/Passes.h"
#include "twasm/TwasmOps.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"

using namespace mlir;
using namespace mlir::twasm;

/// Shared memory is addressed in 32 bits on the GPU; LLVM's NVPTX backend
/// uses 64-bit pointers for it unless told otherwise, which costs 64-bit
/// address arithmetic on every scratch access. The switch is LLVM's
/// -nvptx-short-ptr, a process-wide option, set once here.
static void useShortSharedPointers() {
  static const bool done = [] {
    auto &registered = llvm::cl::getRegisteredOptions();
    auto it = registered.find("nvptx-short-ptr");
    if (it != registered.end())
      static_cast<llvm::cl::opt<bool> *>(it->second)->setValue(true);
    return true;
  }();
  (void)done;
}

void mlir::twasm::buildTwasmToPTXPipeline(OpPassManager &pm,
                                          const TwasmToPTXOptions &options) {
  useShortSharedPointers();
  // Fold and clean up in Wasm terms first: constants and dead code are
  // cheaper to remove before lowering multiplies them.
  OpPassManager &wasm = pm.nest<twasm::ModuleOp>();
  wasm.addPass(createCanonicalizerPass());
  wasm.addPass(createCSEPass());
  // Also without bounds checks: the copies they make have no alignment
  // tests.
  wasm.addNestedPass<FuncOp>(createTwasmVersionLoopsPass());
  wasm.addNestedPass<FuncOp>(createTwasmVersionFunctionsPass());
  // After CSE, so that accesses to one address share one SSA value.
  if (options.boundsChecks)
    wasm.addNestedPass<FuncOp>(createTwasmEliminateBoundsChecksPass());

  ConvertTwasmToGPUPassOptions lowering;
  lowering.boundsChecks = options.boundsChecks;
  lowering.epochChecks = options.epochChecks;
  pm.addPass(createConvertTwasmToGPUPass(lowering));

  PTXTarget target = options.target();
  GpuNVVMAttachTargetOptions attach;
  attach.chip = target.chip;
  attach.features = target.features;
  attach.optLevel = target.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(attach));
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  toNVVM.indexBitwidth = 64;
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(toNVVM));
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions toBinary;
  toBinary.compilationTarget = options.format;
  pm.addPass(createGpuModuleToBinaryPass(toBinary));
}

void mlir::twasm::registerTwasmPipelines() {
  PassPipelineRegistration<TwasmToPTXOptions>(
      "twasm-to-ptx",
      "Compile the kernels of a twasm module to PTX (a gpu.binary)",
      buildTwasmToPTXPipeline);
}

void mlir::twasm::registerPipelineDependencies(DialectRegistry &registry) {
  registry.insert<gpu::GPUDialect, LLVM::LLVMDialect, NVVM::NVVMDialect>();
  registerBuiltinDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  // convert-gpu-to-nvvm lowers through these interfaces; without them it
  // leaves casts behind.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  NVVM::registerConvertGpuToNVVMInterface(registry);
}

FailureOr<std::string> mlir::twasm::extractPTX(mlir::ModuleOp module) {
  auto binaries = module.getBody()->getOps<gpu::BinaryOp>();
  if (std::distance(binaries.begin(), binaries.end()) != 1)
    return module.emitError("expected one gpu.binary holding the kernels");
  gpu::BinaryOp binary = *binaries.begin();
  if (binary.getObjects().size() != 1)
    return binary.emitError("expected one object (one target)");
  auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
  return object.getObject().getValue().str();
}
