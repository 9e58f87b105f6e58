;; `twasm compile --target host` writes a shared object with the entry points
;; of docs/host-abi.md, and the manifest beside it.
;; RUN: twasm compile %s --target host -o %t.so
;; RUN: llvm-nm -D --defined-only %t.so | FileCheck %s --check-prefix=SYMBOLS
;; RUN: FileCheck %s --check-prefix=MANIFEST < %t.json
;; RUN: twasm compile %s --target host --emit lowered -o - | FileCheck %s --check-prefix=IR

;; SYMBOLS-DAG: R twasm_host_abi_version
;; SYMBOLS-DAG: T twasm_call_0
;; SYMBOLS-DAG: T twasm_call_1
;; SYMBOLS-DAG: T twasm_instantiate
;; SYMBOLS-NOT: wasm_

;; MANIFEST: "kind": "host",
;; MANIFEST: "cpu": "x86-64-v2"
;; MANIFEST: "exports": [
;; MANIFEST: "name": "fac",
;; MANIFEST: "function_index": 0,
;; MANIFEST: "start": 1,

;; Optimized LLVM IR for x86-64; the recursion keeps its frames.
;; IR: target triple = "x86_64-unknown-linux-gnu"
;; IR: define void @twasm_call_0(
;; IR: call {{.*}}@wasm_fac(

(module
  (global $started (mut i32) (i32.const 0))
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0)
                     (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func $start (global.set $started (i32.const 1)))
  (start $start))
