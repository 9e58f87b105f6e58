;; Structured control flow becomes the control-flow graph it denotes.
;; RUN: twasm-opt %s --split-input-file | FileCheck %s

;; A block nothing branches to just falls through: no new block.
;; CHECK-LABEL: func @block_fallthrough
;; CHECK-NEXT:    %[[C:.+]] = twasm.i32.const 7
;; CHECK-NEXT:    return %[[C]] : i32
(module
  (func $block_fallthrough (result i32)
    (block (result i32) (i32.const 7))))

;; -----

;; A branch out of a block goes to a block after it; its values are
;; block arguments. Code after the branch is dead and is not imported.
;; CHECK-LABEL: func @block_exit(%arg0: i32) -> i32
;; CHECK:         br_if %arg0, ^[[EXIT:.+]](%{{.+}} : i32), ^[[NEXT:bb[0-9]+]]
;; CHECK:       ^[[NEXT]]:
;; CHECK:         br ^[[EXIT]](%{{.+}} : i32)
;; CHECK-NOT:     twasm.i32.const 99
;; CHECK:       ^[[EXIT]](%[[R:.+]]: i32):
;; CHECK-NEXT:    return %[[R]] : i32
(module
  (func $block_exit (param i32) (result i32)
    (block $out (result i32)
      (br_if $out (i32.const 1) (local.get 0))
      (drop)
      (br $out (i32.const 2))
      (i32.const 99))))

;; -----

;; A loop's label is its header; branching back carries the loop's
;; parameters, and locals changed in the loop become header arguments.
;; CHECK-LABEL: func @countdown(%arg0: i32) -> i32
;; CHECK:         br ^[[HEAD:bb[0-9]+]](%arg0 : i32)
;; CHECK:       ^[[HEAD]](%[[N:.+]]: i32):
;; CHECK:         %[[DEC:.+]] = twasm.i32.sub %[[N]], %{{.+}}
;; CHECK:         br_if %[[DEC]], ^[[HEAD]](%[[DEC]] : i32), ^[[DONE:bb[0-9]+]]
;; CHECK:       ^[[DONE]]:
;; CHECK-NEXT:    return %[[DEC]] : i32
(module
  (func $countdown (param $n i32) (result i32)
    (loop $again
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $again (local.get $n)))
    (local.get $n)))

;; -----

;; A loop with a parameter: the header takes it as a block argument, and
;; branching back passes the new value.
;; CHECK-LABEL: func @loop_param(%arg0: i32) -> i32
;; CHECK:         br ^[[HEAD:bb[0-9]+]](%{{.+}} : i32)
;; CHECK:       ^[[HEAD]](%[[P:.+]]: i32):
;; CHECK:         %[[NEXT:.+]] = twasm.i32.add %[[P]], %{{.+}}
;; CHECK:         %[[C:.+]] = twasm.i32.lt_u %[[NEXT]], %arg0
;; CHECK:         br_if %[[C]], ^[[HEAD]](%[[NEXT]] : i32), ^[[OUT:bb[0-9]+]]
;; CHECK:       ^[[OUT]]:
;; CHECK-NEXT:    return %[[NEXT]] : i32
(module
  (func $loop_param (param $n i32) (result i32) (local $t i32)
    (i32.const 0)
    (loop $l (param i32) (result i32)
      (i32.add (i32.const 1))
      (local.tee $t)
      (i32.lt_u (local.get $t) (local.get $n))
      (br_if $l))))

;; -----

;; if/else: two arms meet after the `end`; the results are block arguments.
;; CHECK-LABEL: func @select_arm(%arg0: i32) -> i64
;; CHECK:         br_if %arg0, ^[[THEN:bb[0-9]+]], ^[[ELSE:bb[0-9]+]]
;; CHECK:       ^[[THEN]]:
;; CHECK-NEXT:    %[[A:.+]] = twasm.i64.const 1
;; CHECK-NEXT:    br ^[[JOIN:bb[0-9]+]](%[[A]] : i64)
;; CHECK:       ^[[ELSE]]:
;; CHECK-NEXT:    %[[B:.+]] = twasm.i64.const 2
;; CHECK-NEXT:    br ^[[JOIN]](%[[B]] : i64)
;; CHECK:       ^[[JOIN]](%[[R:.+]]: i64):
;; CHECK-NEXT:    return %[[R]] : i64
(module
  (func $select_arm (param i32) (result i64)
    (if (result i64) (local.get 0)
      (then (i64.const 1))
      (else (i64.const 2)))))

;; -----

;; An if without else whose parameters are its results: the false edge
;; goes straight past the end with the parameters.
;; CHECK-LABEL: func @if_no_else(%arg0: i32, %arg1: f32) -> f32
;; CHECK:         br_if %arg0, ^[[THEN:bb[0-9]+]], ^[[JOIN:bb[0-9]+]](%arg1 : f32)
;; CHECK:       ^[[THEN]]:
;; CHECK-NEXT:    %[[N:.+]] = twasm.f32.neg %arg1
;; CHECK-NEXT:    br ^[[JOIN]](%[[N]] : f32)
;; CHECK:       ^[[JOIN]](%[[R:.+]]: f32):
;; CHECK-NEXT:    return %[[R]] : f32
(module
  (func $if_no_else (param i32 f32) (result f32)
    (local.get 1)
    (if (param f32) (result f32) (local.get 0)
      (then (f32.neg)))))

;; -----

;; br_table: one successor per label and a default; a branch to the
;; function's own label returns.
;; CHECK-LABEL: func @dispatch(%arg0: i32) -> i32
;; CHECK:         br_table %arg0 [^[[B0:bb[0-9]+]](%{{.+}} : i32), ^[[B1:bb[0-9]+]](%{{.+}} : i32), ^[[B0]](%{{.+}} : i32)], default ^[[RET:bb[0-9]+]](%{{.+}} : i32)
;; CHECK:       ^[[RET]](%[[V:.+]]: i32):
;; CHECK-NEXT:    return %[[V]] : i32
(module
  (func $dispatch (param i32) (result i32)
    (block $b1 (result i32)
      (block $b0 (result i32)
        (br_table $b0 $b1 $b0 2 (i32.const 5) (local.get 0))))
    (drop) (i32.const 3)))

;; -----

;; return, unreachable and nop; code after a return is dead.
;; CHECK-LABEL: func @early(%arg0: i32) -> i32
;; CHECK:         br_if %arg0, ^[[T:bb[0-9]+]], ^[[F:bb[0-9]+]]
;; CHECK:       ^[[T]]:
;; CHECK-NEXT:    %[[C:.+]] = twasm.i32.const 1
;; CHECK-NEXT:    return %[[C]] : i32
;; CHECK:       ^[[F]]:
;; CHECK-NEXT:    unreachable
;; CHECK-NOT:   twasm.i32.const 2
(module
  (func $early (param i32) (result i32)
    (nop)
    (if (local.get 0) (then (return (i32.const 1))))
    (unreachable)
    (i32.const 2)))

;; -----

;; Multi-value: a block with two parameters and two results.
;; CHECK-LABEL: func @swap(%arg0: i32, %arg1: i64) -> (i64, i32)
;; CHECK-NEXT:    return %arg1, %arg0 : i64, i32
(module
  (func $swap (param i32 i64) (result i64 i32)
    (local.get 0) (local.get 1)
    (block (param i32 i64) (result i64 i32)
      (local.set 1) (local.set 0) (local.get 1) (local.get 0))))
