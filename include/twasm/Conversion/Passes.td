//===- Passes.td - conversions out of the twasm dialect -------*- tablegen -*-===//

#ifndef TWASM_CONVERSION_PASSES_TD
#define TWASM_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTwasmToGPUPass : Pass<"convert-twasm-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower a twasm module's kernels to a gpu.module for NVIDIA GPUs";
  let description = [{
    Compiles the kernels of the `twasm.module` in the input (those its
    `twasm.kernel` ops declare) and every function they can reach into a
    `gpu.module @twasm_kernels`, following the kernel ABI
    (docs/kernel-abi.md): each kernel becomes a `gpu.func` of the export's
    name taking the hidden parameters (memory base and size, trap record,
    control word, globals block) before its own; each reachable function an
    internal `llvm.func` named `wasm_<symbol>` that takes them too. Bodies are
    lowered to the LLVM and NVVM dialects with Wasm's semantics made
    explicit: bounds and alignment checks on memory accesses (unless the
    access is `in_bounds`), traps for division, truncation and `unreachable`,
    canonical NaNs where a result's bits can be seen, and an interruption
    check on every loop header.

    A kernel that calls an import other than a "twasm" intrinsic, that can
    recurse, that writes the C stack pointer or that uses table or segment
    instructions not supported on the GPU is rejected with an error naming
    the function (docs/kernel-abi.md section 8). The `twasm.module` is
    consumed.

    ```mlir
    // Before
    twasm.module {
      memory @memory min 1
      func @scale(%p: i32) { ... }
      export "scale" func @scale
      kernel "scale"
    }
    // After
    gpu.module @twasm_kernels {
      llvm.func internal @wasm_scale(%base: !llvm.ptr<1>, %size: i64, ...) { ... }
      gpu.func @scale(%base: !llvm.ptr<1>, %size: i64, ..., %p: i32) kernel {
        llvm.call @wasm_scale(%base, %size, ..., %p) : ...
        gpu.return
      }
    }
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect"];
  let options = [
    Option<"boundsChecks", "bounds-checks", "bool", /*default=*/"true",
           "Check memory accesses against the memory size. Turning this off "
           "makes kernels unsafe; it exists only to measure what the checks "
           "cost.">,
    Option<"epochChecks", "epoch-checks", "bool", /*default=*/"true",
           "Check the control word at loop headers. Turning this off makes "
           "kernels uninterruptible; it exists only to measure what the "
           "checks cost.">,
  ];
  let statistics = [
    Statistic<"numKernels", "kernels", "Number of kernels lowered">,
    Statistic<"numFunctions", "functions",
              "Number of functions lowered (kernels' callees included)">,
    Statistic<"numEpochChecks", "epoch-checks",
              "Number of loop headers given an interruption check">,
  ];
}

def ConvertTwasmToHostPass : Pass<"convert-twasm-to-host", "::mlir::ModuleOp"> {
  let summary = "Lower a whole twasm module to the LLVM dialect for the CPU";
  let description = [{
    Compiles every function of the `twasm.module` in the input for the host
    (docs/host-abi.md): each becomes an internal `llvm.func` named
    `wasm_<symbol>` taking the hidden parameters of the kernel ABI, with the
    same checks as on the GPU except the alignment test (x86-64 tolerates
    misaligned accesses) and the NaN canonicalization (x86 produces quiet
    NaNs, which Wasm allows). A trap calls the thread's trap handler, which
    does not return; every function entry checks the stack limit and the
    control word, and loops check the control word as on the GPU. The memory
    may grow: `memory.grow` calls the instance's handler, and a function that
    can make the memory grow rereads its size after every call. Functions
    imported from other modules are called through the instance's import
    table.

    Adds the entry points a loader calls, with C linkage:
    `twasm_instantiate(thread, globals)` (globals, then active element and
    data segments) and `twasm_call_<index>(thread, globals, values)` for each
    exported function and the start function. The `twasm.module` is
    consumed.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"boundsChecks", "bounds-checks", "bool", /*default=*/"true",
           "Check memory accesses against the memory size (off only to "
           "measure what the checks cost).">,
    Option<"epochChecks", "epoch-checks", "bool", /*default=*/"true",
           "Check the control word at loop back-edges and function entries "
           "(off only to measure what the checks cost).">,
  ];
  let statistics = [
    Statistic<"numFunctions", "functions", "Number of functions lowered">,
    Statistic<"numEpochChecks", "epoch-checks",
              "Number of loop back-edges given an interruption check">,
  ];
}

#endif // TWASM_CONVERSION_PASSES_TD
