;; Locals, parameters and globals; drop and select.
;; RUN: twasm-opt %s | FileCheck %s
;; RUN: twasm-opt %s --twasm-keep-locals | FileCheck %s --check-prefix=SLOTS

(module
  (global $counter (mut i32) (i32.const 0))
  (global $scale f64 (f64.const 2.5))

  ;; Locals start at zero; local.tee keeps its value on the stack.
  ;; CHECK-LABEL: func @locals(%arg0: i64) -> i64
  ;; CHECK-NEXT:    %[[ZERO:.+]] = twasm.i64.const 0
  ;; CHECK-NEXT:    %[[SUM:.+]] = twasm.i64.add %[[ZERO]], %arg0
  ;; CHECK-NEXT:    %[[TWICE:.+]] = twasm.i64.add %[[SUM]], %[[SUM]]
  ;; CHECK-NEXT:    return %[[TWICE]] : i64
  ;; SLOTS-LABEL: func @locals(%arg0: i64) -> i64
  ;; SLOTS:         %[[P:.+]] = local : !twasm.local<i64>
  ;; SLOTS-NEXT:    local.set %[[P]], %arg0 : !twasm.local<i64>
  ;; SLOTS-NEXT:    %[[L:.+]] = local : !twasm.local<i64>
  ;; SLOTS:         local.get %[[L]] : !twasm.local<i64>
  ;; SLOTS:         local.set %[[L]], %{{.+}} : !twasm.local<i64>
  (func $locals (param i64) (result i64) (local i64)
    (local.tee 1 (i64.add (local.get 1) (local.get 0)))
    (i64.add (local.get 1)))

  ;; Globals are read and written by symbol.
  ;; CHECK-LABEL: func @bump() -> f64
  ;; CHECK:         %[[OLD:.+]] = twasm.global.get @counter : i32
  ;; CHECK:         %[[NEW:.+]] = twasm.i32.add %[[OLD]], %{{.+}}
  ;; CHECK:         twasm.global.set @counter, %[[NEW]] : i32
  ;; CHECK:         %[[S:.+]] = twasm.global.get @scale : f64
  ;; CHECK:         return %[[S]] : f64
  (func $bump (result f64)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.get $scale))

  ;; select, typed select, and drop (which leaves no op).
  ;; CHECK-LABEL: func @pick(%arg0: i32, %arg1: f32, %arg2: f32) -> f32
  ;; CHECK-NEXT:    %[[R:.+]] = select %arg0, %arg1, %arg2 : f32
  ;; CHECK-NEXT:    %[[N1:.+]] = twasm.ref.null : !twasm.externref
  ;; CHECK-NEXT:    %[[N2:.+]] = twasm.ref.null : !twasm.externref
  ;; CHECK-NEXT:    %{{.+}} = select %arg0, %[[N1]], %[[N2]] : !twasm.externref
  ;; CHECK-NEXT:    return %[[R]] : f32
  (func $pick (param i32 f32 f32) (result f32)
    (select (local.get 1) (local.get 2) (local.get 0))
    (drop (select (result externref) (ref.null extern) (ref.null extern) (local.get 0)))))
