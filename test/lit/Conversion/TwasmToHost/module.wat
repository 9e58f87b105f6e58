;; A whole module for the CPU (docs/host-abi.md): every function is lowered,
;; an import is called through the instance's import table, memory.grow
;; through the instance header, a function that can make the memory grow
;; rereads its size after each call, calls keep their frames (notail), and
;; every function entry checks the stack limit and the control word. The
;; loader's entry points are added.
;; RUN: twasm-opt %s --convert-twasm-to-host | FileCheck %s

(module
  (import "env" "log" (func $log (param i32)))
  (memory 1)
  (global $counter (mut i32) (i32.const 0))
  (data (i32.const 8) "hi")

  ;; CHECK-LABEL: llvm.func internal @__twasm_trap
  ;; CHECK-SAME:    no_inline
  ;; CHECK-SAME:    passthrough = ["noreturn", "cold"]
  ;; CHECK:         %[[HANDLER:.*]] = llvm.load {{.*}} : !llvm.ptr -> !llvm.ptr
  ;; CHECK:         llvm.call %[[HANDLER]]

  ;; The import: arguments into an array, imports[0] called.
  ;; CHECK-LABEL: llvm.func internal @wasm_log
  ;; CHECK:         llvm.alloca {{.*}} x !llvm.array<1 x i64>
  ;; CHECK:         llvm.mlir.constant(-32 : i64)
  ;; CHECK:         llvm.call %{{.*}}(%{{.*}}, %{{.*}}, %{{.*}}) : !llvm.ptr, (!llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()

  ;; CHECK-LABEL: llvm.func internal @wasm_grow_and_load
  ;; CHECK:         %[[SLOT:.*]] = llvm.alloca {{.*}} {twasm.memory_size_slot}
  ;; CHECK:         llvm.intr.stacksave
  ;; CHECK:         llvm.mlir.constant(12 : i32)
  ;; CHECK:         llvm.load volatile
  ;; CHECK:         llvm.mlir.constant(11 : i32)
  ;; The grow handler, then the size is read again.
  ;; CHECK:         llvm.call notail %{{.*}}(%{{.*}}, %{{.*}}) : !llvm.ptr, (!llvm.ptr, i32) -> i32
  ;; CHECK:         llvm.store %{{.*}}, %[[SLOT]]
  ;; CHECK:         llvm.call notail @wasm_log(
  ;; CHECK:         llvm.store %{{.*}}, %[[SLOT]]
  ;; The access is checked against the current size.
  ;; CHECK:         llvm.load %[[SLOT]]
  ;; CHECK:         llvm.load %{{.*}} {alignment = 1 : i64} : !llvm.ptr -> i32
  (func (export "grow_and_load") (param $p i32) (result i32)
    (drop (memory.grow (i32.const 1)))
    (call $log (local.get $p))
    (i32.load (local.get $p)))

  ;; A function that cannot make the memory grow keeps its size parameter.
  ;; CHECK-LABEL: llvm.func internal @wasm_bump
  ;; CHECK-NOT:     twasm.memory_size_slot
  ;; CHECK:         llvm.return
  (func $bump (export "bump") (param $p i32)
    (global.set $counter (i32.add (global.get $counter) (i32.load (local.get $p)))))

  ;; CHECK-LABEL: llvm.func internal @wasm___twasm_instantiate
  ;; CHECK:         "llvm.intr.memcpy"

  ;; CHECK-DAG:   llvm.mlir.global external constant @twasm_host_abi_version(2 : i32)
  ;; CHECK-DAG:   llvm.func @twasm_call_1(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
  ;; CHECK-DAG:   llvm.func @twasm_call_2(
  ;; CHECK-DAG:   llvm.func @twasm_instantiate(
)
