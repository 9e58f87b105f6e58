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

def TwasmEliminateBoundsChecksPass
    : Pass<"twasm-eliminate-bounds-checks", "::mlir::twasm::FuncOp"> {
  let summary = "Mark memory accesses that provably cannot trap `in_bounds`";
  let description = [{
    A load or store is marked `in_bounds`, so lowering emits no check for it,
    when one of these proves that none of its bytes lies past the end of
    linear memory:

    - *A dominating equal or stronger check.* Linear memory never shrinks,
      so once an access at `address + offset` of `n` bytes has run without
      trapping, every later access (one the first dominates) that ends no
      further from the same SSA address is in bounds: `offset' + n' <=
      offset + n`. The same holds for an address `address + C` computed by
      `i32.add` with a constant `C` when `C + offset' + n' <= offset + n`
      (the sum cannot wrap, since the first access ended within 4 GiB).
    - *The memory's declared minimum size.* Memory is never smaller than its
      minimum, so an access whose every possible address range ends within
      it cannot trap. Address ranges come from constants, from the
      induction variables of counted loops (constant start, step and bound;
      the loop's range covers the access), and from `i32.add`, `i32.mul`,
      `i32.shl`, `i32.and`, `i32.rem_u` and `i32.shr_u` of those, as long as
      no step can wrap.

    Everything else keeps its check. In particular a loop whose bound is
    only known at run time keeps the checks in its body: moving them before
    the loop would trap before the iterations that precede the faulty one
    had run, which Wasm forbids.

    ```mlir
    // Before
    %a = twasm.f32.load %p
    twasm.f32.store %p, %v
    // After
    %a = twasm.f32.load %p
    twasm.f32.store %p, %v in_bounds
    ```
  }];
  let statistics = [
    Statistic<"numDominated", "dominated-checks",
              "Checks removed because a dominating access covers them">,
    Statistic<"numWithinMinimum", "checks-within-minimum",
              "Checks removed because the access ends within the minimum "
              "memory size">,
    Statistic<"numKept", "kept-checks", "Checks kept">,
  ];
}

#endif // TWASM_TRANSFORMS_PASSES_TD
