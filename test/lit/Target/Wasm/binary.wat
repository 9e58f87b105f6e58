;; A binary module imports exactly like its text form; binary locations are
;; byte offsets (line 0), and printing, parsing and printing again is stable.
;; REQUIRES: wabt
;; RUN: wat2wasm --debug-names %s -o %t.wasm
;; RUN: twasm-opt %t.wasm > %t.from-binary.mlir
;; RUN: twasm-opt %s > %t.from-text.mlir
;; RUN: diff %t.from-binary.mlir %t.from-text.mlir
;; RUN: twasm-opt %t.from-binary.mlir > %t.again.mlir
;; RUN: diff %t.from-binary.mlir %t.again.mlir
;; RUN: twasm-opt %t.wasm --mlir-print-debuginfo | FileCheck %s --check-prefix=BINLOC
;; RUN: twasm-opt %s --mlir-print-debuginfo | FileCheck %s --check-prefix=TEXTLOC

;; BINLOC: twasm.f32.mul %arg0, %arg0 loc(#[[MUL:loc[0-9]*]])
;; BINLOC: #[[MUL]] = loc("{{.*}}.wasm":0:[[#]])
;; TEXTLOC: twasm.f32.mul %arg0, %arg0 loc(#[[MUL:loc[0-9]*]])
;; TEXTLOC: #[[MUL]] = loc("{{.*}}binary.wat":[[# @LINE + 6]]:5)
(module
  (memory 1)
  (func $square (export "square") (param f32) (result f32)
    local.get 0
    local.get 0
    f32.mul)
  (func $store (param i32 i64) (i64.store offset=8 (local.get 0) (local.get 1))))
