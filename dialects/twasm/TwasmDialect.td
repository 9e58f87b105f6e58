//===- TwasmDialect.td - the twasm dialect and its op base class -*- tablegen -*-===//

#ifndef TWASM_DIALECT_TD
#define TWASM_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Twasm_Dialect : Dialect {
  let name = "twasm";
  let cppNamespace = "::mlir::twasm";
  let summary = "WebAssembly 2.0 semantics in SSA form";
  let description = [{
    The `twasm` dialect is TensorWasm's faithful model of a WebAssembly 2.0
    module (SIMD excepted). A `twasm.module` holds the module's functions,
    globals, memory, tables, data and element segments, exports and start
    function as symbols. Function bodies are in SSA form:

    * Wasm's structured control flow (`block`, `loop`, `if`/`else`) is
      represented by the control-flow graph it denotes: a label is a successor
      block, the values a branch carries are block arguments, and `br`,
      `br_if`, `br_table`, `return` and `unreachable` are terminators.
    * Locals start as `twasm.local` slots read and written by
      `twasm.local.get`/`twasm.local.set`; the importer promotes them to SSA
      values through MLIR's mem2reg interfaces (`twasm-promote-locals`).
    * `drop` and `nop` have no SSA counterpart and leave no op behind.

    Every numeric op keeps Wasm's exact semantics: integer arithmetic wraps,
    division, remainder and float-to-int truncation trap, float ops follow
    IEEE 754 without flushing denormals, and NaN results follow the spec's
    canonical/arithmetic NaN rules. Ops that may trap are never folded into a
    value and are not removed when their results are unused.

    Specification: https://webassembly.github.io/spec/core/
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
  private:
    void registerTypes();
    void registerAttributes();
  public:
  }];
}

class Twasm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Twasm_Dialect, mnemonic, traits>;

// Side-effect resources. Ops that may trap write the trap resource, so that a
// trapping op whose result is unused is never erased and never merged away.
def Twasm_LinearMemory : Resource<"::mlir::twasm::LinearMemoryResource">;
def Twasm_TableState : Resource<"::mlir::twasm::TableResource">;
def Twasm_GlobalState : Resource<"::mlir::twasm::GlobalResource">;
def Twasm_SegmentState : Resource<"::mlir::twasm::SegmentResource">;
def Twasm_Trap : Resource<"::mlir::twasm::TrapResource">;

#endif // TWASM_DIALECT_TD
