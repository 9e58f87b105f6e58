;; Tables, reference instructions, element segments and call_indirect.
;; RUN: twasm-opt %s | FileCheck %s

;; CHECK:     table @fns : !twasm.funcref min 2 max 10
;; CHECK:     table @hosts : !twasm.externref min 0
(module
  (type $unop (func (param i32) (result i32)))
  (table $fns 2 10 funcref)
  (table $hosts 0 externref)
  (func $inc (type $unop) (i32.add (local.get 0) (i32.const 1)))

  ;; CHECK-LABEL: func @tables(%arg0: i32, %arg1: !twasm.externref) -> i32
  ;; CHECK-NEXT:    %[[F:.+]] = twasm.table.get @fns[%arg0] : !twasm.funcref
  ;; CHECK-NEXT:    twasm.table.set @fns[%arg0], %[[F]] : !twasm.funcref
  ;; CHECK-NEXT:    %[[SIZE:.+]] = twasm.table.size @hosts
  ;; CHECK-NEXT:    %[[OLD:.+]] = twasm.table.grow @hosts, %arg1, %arg0 : !twasm.externref
  ;; CHECK-NEXT:    twasm.table.fill @hosts, %arg0, %arg1, %arg0 : !twasm.externref
  ;; CHECK-NEXT:    twasm.table.copy @fns, @fns, %arg0, %arg0, %arg0
  ;; CHECK-NEXT:    twasm.table.init @fns, @passive, %arg0, %arg0, %arg0
  ;; CHECK-NEXT:    twasm.elem.drop @passive
  ;; CHECK-NEXT:    %[[R:.+]] = call_indirect @fns[%arg0](%[[SIZE]]) : (i32) -> i32
  ;; CHECK-NEXT:    %[[ISNULL:.+]] = twasm.ref.is_null %arg1 : !twasm.externref
  ;; CHECK-NEXT:    %[[FN:.+]] = twasm.ref.func @inc
  ;; CHECK-NEXT:    %{{.+}} = twasm.ref.is_null %[[FN]] : !twasm.funcref
  ;; CHECK:         return
  (func $tables (export "tables") (param i32 externref) (result i32)
    (table.set $fns (local.get 0) (table.get $fns (local.get 0)))
    (table.size $hosts)
    (drop (table.grow $hosts (local.get 1) (local.get 0)))
    (table.fill $hosts (local.get 0) (local.get 1) (local.get 0))
    (table.copy $fns $fns (local.get 0) (local.get 0) (local.get 0))
    (table.init $fns $passive (local.get 0) (local.get 0) (local.get 0))
    (elem.drop $passive)
    (call_indirect $fns (type $unop) (local.get 0))
    (drop (ref.is_null (local.get 1)))
    (drop (ref.is_null (ref.func $inc))))

  ;; CHECK:     elem @active : !twasm.funcref active table @fns offset {
  ;; CHECK-NEXT:  %[[O:.+]] = twasm.i32.const 1
  ;; CHECK-NEXT:  yield %[[O]] : i32
  ;; CHECK-NEXT: } items {
  ;; CHECK-NEXT:  %[[I:.+]] = twasm.ref.func @inc
  ;; CHECK-NEXT:  yield %[[I]] : !twasm.funcref
  ;; CHECK-NEXT: }
  (elem $active (table $fns) (i32.const 1) func $inc)
  ;; CHECK:     elem @passive : !twasm.funcref passive items {
  ;; CHECK-NEXT:  %[[A:.+]] = twasm.ref.func @inc
  ;; CHECK-NEXT:  %[[B:.+]] = twasm.ref.null : !twasm.funcref
  ;; CHECK-NEXT:  yield %[[A]], %[[B]] : !twasm.funcref, !twasm.funcref
  (elem $passive funcref (ref.func $inc) (ref.null func))
  ;; CHECK:     elem @declared : !twasm.funcref declarative items {
  (elem $declared declare func $inc))
