;; The threads proposal: a shared memory and the atomic instructions, one per
;; shape (loads, stores, read-modify-write, compare-exchange, fence), each
;; with the Wasm instruction's name. The text is encoded to the binary format
;; and validated like any module; the second run reads the printed IR back.
;; RUN: twasm-opt %s | FileCheck %s
;; RUN: twasm-opt %s | twasm-opt | FileCheck %s

(module
  ;; CHECK: memory @memory0 min 1 max 2 shared
  (memory 1 2 shared)

  ;; CHECK-LABEL: func @atomics(%arg0: i32, %arg1: i64) -> i64
  (func (export "atomics") (param $p i32) (param $v i64) (result i64)
    ;; CHECK:      %[[L:.+]] = twasm.i32.atomic.load %arg0 offset = 4
    ;; CHECK:      twasm.i32.atomic.rmw8.xor_u %arg0, %[[L]]
    ;; CHECK:      twasm.i64.atomic.store16 %arg0, %arg1
    ;; CHECK:      twasm.i64.atomic.rmw.xchg %arg0, %arg1 offset = 16
    ;; CHECK:      twasm.i64.atomic.rmw32.cmpxchg_u %arg0, %arg1, %arg1
    ;; CHECK:      twasm.atomic.fence
    ;; CHECK:      %[[SUM:.+]] = twasm.i64.atomic.rmw.add %arg0, %arg1
    ;; CHECK:      return %[[SUM]] : i64
    (drop (i32.atomic.rmw8.xor_u
      (local.get $p) (i32.atomic.load offset=4 (local.get $p))))
    (i64.atomic.store16 (local.get $p) (local.get $v))
    (drop (i64.atomic.rmw.xchg offset=16 (local.get $p) (local.get $v)))
    (drop (i64.atomic.rmw32.cmpxchg_u
      (local.get $p) (local.get $v) (local.get $v)))
    (atomic.fence)
    (i64.atomic.rmw.add (local.get $p) (local.get $v))))
