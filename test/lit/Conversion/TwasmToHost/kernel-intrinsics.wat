;; The kernel intrinsics on the CPU (docs/host-abi.md section 5): geometry and
;; the shared scratch are invariant loads through the thread context's
;; KernelThread (offset 96), the shared access is checked against its size
;; (trap 10), barriers and warp operations call the runtime's handlers (a
;; float travels as its bits), and fast math is LLVM's libm intrinsic.
;; RUN: twasm-opt %s --convert-twasm-to-host | FileCheck %s

(module
  (import "twasm" "thread_id_x" (func $tid (result i32)))
  (import "twasm" "barrier" (func $barrier))
  (import "twasm" "shared_load_f32" (func $sload (param i32) (result f32)))
  (import "twasm" "shfl_down_f32" (func $down (param f32 i32) (result f32)))
  (import "twasm" "expf" (func $exp (param f32) (result f32)))
  (memory 1)
  (func (export "k") (param $out i32)
    (call $barrier)
    (f32.store (local.get $out)
      (call $exp (call $down (call $sload (call $tid)) (i32.const 1))))))

;; CHECK-LABEL: llvm.func internal @wasm_k(
;; CHECK:         llvm.mlir.constant(96 : i64)
;; CHECK-NEXT:    llvm.getelementptr %arg2
;; CHECK-NEXT:    llvm.load %{{.*}} invariant {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
;; CHECK-NEXT:    llvm.mlir.constant(64 : i64)
;; CHECK-NEXT:    llvm.getelementptr
;; CHECK-NEXT:    %[[BARRIER:.*]] = llvm.load %{{.*}} invariant {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
;; CHECK-NEXT:    llvm.call notail %[[BARRIER]](%arg2) : !llvm.ptr, (!llvm.ptr) -> ()
;; CHECK:         llvm.mlir.constant(52 : i64)
;; CHECK-NEXT:    llvm.getelementptr
;; CHECK-NEXT:    llvm.load %{{.*}} invariant {alignment = 4 : i64} : !llvm.ptr -> i32
;; CHECK:         llvm.icmp "ult"
;; CHECK:         llvm.mlir.constant(10 : i32)
;; CHECK:         llvm.call @__twasm_trap
;; CHECK:         %[[VALUE:.*]] = llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr -> f32
;; CHECK:         %[[BITS:.*]] = llvm.bitcast %[[VALUE]] : f32 to i32
;; CHECK:         llvm.mlir.constant(72 : i64)
;; CHECK-NEXT:    llvm.getelementptr
;; CHECK-NEXT:    %[[WARP:.*]] = llvm.load %{{.*}} invariant {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
;; CHECK-NEXT:    %[[RESULT:.*]] = llvm.call notail %[[WARP]](%arg2, %{{.*}}, %[[BITS]], %{{.*}}) : !llvm.ptr, (!llvm.ptr, i32, i32, i32) -> i32
;; CHECK:         %[[FLOAT:.*]] = llvm.bitcast %[[RESULT]] : i32 to f32
;; CHECK:         llvm.intr.exp(%[[FLOAT]]) : (f32) -> f32
