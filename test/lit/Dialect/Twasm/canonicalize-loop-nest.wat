;; Regression: a loop nest whose outer induction variable the inner loop
;; uses directly. The outer loop's header only branches on to the inner
;; loop, but its arguments are used inside the inner loop, so branches to it
;; must not skip it (canonicalization once left the inner loop's add with a
;; null operand).
;; RUN: twasm-opt %s --canonicalize | FileCheck %s

(module (memory 1)
  (func (export "sum_rows") (result i32) (local $y i32) (local $x i32) (local $acc i32)
    (loop $rows (local.set $x (i32.const 0))
      (loop $columns
        (local.set $acc (i32.add (local.get $acc) (i32.load (i32.add (local.get $y) (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br_if $columns (i32.lt_u (local.get $x) (i32.const 64))))
      (local.set $y (i32.add (local.get $y) (i32.const 64)))
      (br_if $rows (i32.lt_u (local.get $y) (i32.const 4096))))
    (local.get $acc)))

;; CHECK-LABEL: func @sum_rows
;; CHECK:         br ^[[ROWS:bb[0-9]+]](
;; CHECK:       ^[[ROWS]](%[[Y:.*]]: i32, %{{.*}}: i32):
;; CHECK-NEXT:    br ^[[COLUMNS:bb[0-9]+]](
;; CHECK:       ^[[COLUMNS]](%[[X:.*]]: i32, %{{.*}}: i32):
;; CHECK-NEXT:    twasm.i32.add %[[Y]], %[[X]]
