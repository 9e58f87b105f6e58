;; Module structure: imports of every kind, exports, the start function,
;; data segments and initializers that read imported globals.
;; RUN: twasm-opt %s | FileCheck %s

(module $kernels
  ;; CHECK:      twasm.module @kernels {
  ;; CHECK-NEXT:   memory @mem min 1 max 2 import <"env", "memory">
  ;; CHECK-NEXT:   table @tab : !twasm.funcref min 1 import <"env", "table">
  ;; CHECK-NEXT:   global @base : i32 import <"env", "base">
  ;; CHECK-NEXT:   global @total mutable : i64 import <"env", "total">
  ;; CHECK-NEXT:   global @offset : i32 {
  ;; CHECK-NEXT:     %[[B:.+]] = twasm.global.get @base : i32
  ;; CHECK-NEXT:     yield %[[B]] : i32
  ;; CHECK-NEXT:   }
  ;; CHECK-NEXT:   func @log(i32) import <"env", "log">
  ;; CHECK-NEXT:   func @init() {
  ;; CHECK-NEXT:     %[[V:.+]] = twasm.global.get @offset : i32
  ;; CHECK-NEXT:     call @log(%[[V]]) : (i32) -> ()
  ;; CHECK-NEXT:     return
  ;; CHECK-NEXT:   }
  (import "env" "memory" (memory $mem 1 2))
  (import "env" "table" (table $tab 1 funcref))
  (import "env" "base" (global $base i32))
  (import "env" "total" (global $total (mut i64)))
  (import "env" "log" (func $log (param i32)))
  (global $offset i32 (global.get $base))
  (func $init (call $log (global.get $offset)))

  ;; A definition without a name takes its export's name, else its kind and
  ;; index; a name already taken falls back to kind and index.
  ;; CHECK-NEXT:   func @answer() -> i32 {
  ;; CHECK:        func @func3() {
  ;; CHECK:        func @func4() {
  (func (export "answer") (result i32) (i32.const 42))
  (func $answer)
  (func)

  ;; CHECK:        data @greeting active offset {
  ;; CHECK-NEXT:     %[[O:.+]] = twasm.global.get @base : i32
  ;; CHECK-NEXT:     yield %[[O]] : i32
  ;; CHECK-NEXT:   } "hi\00\FF"
  (data $greeting (global.get $base) "hi\00\ff")
  ;; CHECK-NEXT:   data @data1 passive ""
  (data "")

  ;; CHECK-NEXT:   export "answer" func @answer
  ;; CHECK-NEXT:   export "memory" memory @mem
  ;; CHECK-NEXT:   export "table" table @tab
  ;; CHECK-NEXT:   export "total" global @total
  ;; CHECK-NEXT:   export "again" func @answer
  ;; CHECK-NEXT:   start @init
  (export "memory" (memory $mem))
  (export "table" (table $tab))
  (export "total" (global $total))
  (export "again" (func 2))
  (start $init))
