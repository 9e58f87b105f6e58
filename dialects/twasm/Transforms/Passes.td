//===- Passes.td - transformations of twasm IR ----------------*- tablegen -*-===//

#ifndef TWASM_TRANSFORMS_PASSES_TD
#define TWASM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TwasmPromoteLocalsPass
    : Pass<"twasm-promote-locals", "::mlir::twasm::FuncOp"> {
  let summary = "Promote Wasm locals to SSA values";
  let description = [{
    Replaces every `twasm.local` slot of a function, with its
    `twasm.local.get` and `twasm.local.set` uses, by SSA values and block
    arguments, through MLIR's mem2reg machinery. A read before any write sees
    the local's zero (or null) initial value.

    Every slot the importer creates is promotable, so the pass fails if one is
    left: that is a malformed use of a slot, not an optimization opportunity.

    ```mlir
    // Before
    %l = twasm.local : !twasm.local<i32>
    twasm.local.set %l, %x : !twasm.local<i32>
    %v = twasm.local.get %l : !twasm.local<i32>
    return %v : i32
    // After
    return %x : i32
    ```
  }];
  let statistics = [
    Statistic<"numPromotedLocals", "promoted-locals",
              "Number of locals promoted to SSA values">,
    Statistic<"numBlockArguments", "new-block-arguments",
              "Number of block arguments added for promoted locals">,
  ];
}

#endif // TWASM_TRANSFORMS_PASSES_TD
