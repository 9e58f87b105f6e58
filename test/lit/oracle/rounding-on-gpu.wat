;; Found by the differential oracle (docs/testing.md): a kernel using
;; f32/f64 floor, ceil, nearest or sqrt did not compile for a GPU ("failed to
;; legalize operation 'llvm.intr.floor'"): the conversion to NVVM refuses
;; LLVM's ops for them. They are now generic intrinsic calls, which NVPTX
;; lowers to the exact instructions: round to minus infinity (rmi), plus
;; infinity (rpi), nearest even (rni), toward zero (rzi), and a correctly
;; rounded square root (rn), never an approximation, never flushing
;; subnormals to zero.
;; REQUIRES: ptxas
;; RUN: rm -rf %t && mkdir -p %t
;; RUN: twasm compile %s --kernel k --target sm_90 -o %t/k.ptx --manifest none
;; RUN: FileCheck %s --input-file %t/k.ptx --implicit-check-not=approx --implicit-check-not=.ftz
;; RUN: %ptxas -arch=sm_90 %t/k.ptx -o %t/k.cubin

;; CHECK-DAG: cvt.rmi.f32.f32
;; CHECK-DAG: cvt.rmi.f64.f64
;; CHECK-DAG: cvt.rpi.f32.f32
;; CHECK-DAG: cvt.rpi.f64.f64
;; CHECK-DAG: cvt.rni.f32.f32
;; CHECK-DAG: cvt.rni.f64.f64
;; CHECK-DAG: cvt.rzi.f32.f32
;; CHECK-DAG: cvt.rzi.f64.f64
;; CHECK-DAG: sqrt.rn.f32
;; CHECK-DAG: sqrt.rn.f64

(module
  (memory 1)
  (func (export "k") (param $x f32) (param $y f64)
    (f32.store (i32.const 0) (f32.floor (local.get $x)))
    (f64.store (i32.const 8) (f64.floor (local.get $y)))
    (f32.store (i32.const 16) (f32.ceil (local.get $x)))
    (f64.store (i32.const 24) (f64.ceil (local.get $y)))
    (f32.store (i32.const 32) (f32.nearest (local.get $x)))
    (f64.store (i32.const 40) (f64.nearest (local.get $y)))
    (f32.store (i32.const 48) (f32.trunc (local.get $x)))
    (f64.store (i32.const 56) (f64.trunc (local.get $y)))
    (f32.store (i32.const 64) (f32.sqrt (local.get $x)))
    (f64.store (i32.const 72) (f64.sqrt (local.get $y)))))
