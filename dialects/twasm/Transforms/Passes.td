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

def TwasmVersionLoopsPass
    : Pass<"twasm-version-loops", "::mlir::twasm::FuncOp"> {
  let summary = "Give loops a copy without checks, chosen by a test at entry";
  let description = [{
    A loop whose run-time bound keeps the checks in its body (see
    `twasm-eliminate-bounds-checks`) gets a second copy in which each load
    and store whose address is affine in the loop's induction variables is
    marked `in_bounds`, and also `aligned` when the address moves by a
    multiple of the access size each iteration. A block at the loop's entry
    computes, in 64-bit arithmetic, the greatest address each such access
    can reach and runs the copy only if every one fits in memory (and the
    first address of each `aligned` one is aligned); otherwise the original
    loop runs, checks and all, so a program that traps still traps at the
    same instruction after the same effects. Memory never shrinks, so the
    test stays true while the loop runs.

    The loop must be one the test can count:

    - one entry edge, one latch, one exit edge (from the latch), and no
      inner loop;
    - the latch goes back while `iv + step <u bound`, with `iv` a header
      argument the latch passes back as `iv + step` (a constant step), and
      `bound` defined before the loop; the test also requires that the
      counter cannot wrap (`iv <= 2^32 - 1 - step` at entry and `bound <=
      2^32 - step`), so the loop enters its header `(bound - iv - 1) / step
      + 1` times at most;
    - an address is a sum of constants, values defined before the loop and
      induction variables (header arguments the latch advances by a
      constant), each times a constant (`i32.mul`, `i32.shl`); while the
      test holds none of these sums wraps, because every term only grows
      and the largest stays within memory;
    - the body calls only "twasm" intrinsics that touch no memory and are not
      warp or block operations: the two copies are different instructions,
      and lanes of a warp may take different copies.

    Why: on the GPU every check is a branch, and a branch in a loop body
    keeps ptxas from unrolling the loop and overlapping its loads
    (docs/decisions/0003-gpu-checks-and-scheduling.md).

    ```mlir
    // Before
    ^loop(%a: i32, %i: i32):
      %x = twasm.f32.load %a
      ...
      %i2 = twasm.i32.add %i, %c256
      %more = twasm.i32.lt_u %i2, %n
      br_if %more, ^loop(%a2, %i2 : i32, i32), ^done
    // After
    ^test(%a0: i32, %i0: i32):
      ... %fits = (greatest address of the load + 4 <= memory size, aligned)
      br_if %fits, ^fast(%a0, %i0 : i32, i32), ^loop(%a0, %i0 : i32, i32)
    ^loop(...):   // unchanged
    ^fast(%a: i32, %i: i32):
      %x = twasm.f32.load %a in_bounds aligned
      ...
    ```
  }];
  let statistics = [
    Statistic<"numVersioned", "versioned-loops",
              "Loops given a copy without checks">,
    Statistic<"numMarked", "marked-accesses",
              "Accesses marked in_bounds in the copies">,
  ];
}

def TwasmVersionFunctionsPass
    : Pass<"twasm-version-functions", "::mlir::twasm::FuncOp"> {
  let summary = "Give a loop-free function a copy without checks, chosen at entry";
  let description = [{
    In a function without loops, each load and store whose address is
    integer arithmetic that cannot trap (`i32.const`, `add`, `sub`, `mul`,
    `shl`, `shr_u`, `and`, `or`, `xor`) over values the entry block already
    has (parameters, thread and block indices) can have its address computed
    at the end of the entry block. The pass computes them all there, tests
    that each fits in memory and is aligned, and branches to a copy of the
    rest of the function in which those accesses are marked `in_bounds` and
    `aligned`, or, if any test fails, to the original. The test covers
    accesses the thread may never reach (its guards are not evaluated), so a
    thread whose unreached accesses would be out of bounds just runs the
    checked original: what the program does is unchanged either way.

    The function may call only "twasm" intrinsics that touch no linear
    memory and are not warp operations, the block barrier (`barrier.sync`
    counts the threads that reach any barrier of the block) and the shared
    scratch accessors; lanes of a warp may take different copies.

    Why: a guarded access (`if (y < height) tile = in[y * width + x]`) whose
    check is a branch cannot become predicated code on the GPU, and its load
    waits for the branch (docs/decisions/0003-gpu-checks-and-scheduling.md).
  }];
  let statistics = [
    Statistic<"numVersioned", "versioned-functions",
              "Functions given a copy without checks">,
    Statistic<"numMarked", "marked-accesses",
              "Accesses marked in_bounds in the copies">,
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
