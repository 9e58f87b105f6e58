;; Found by the differential oracle on an H100: f64.abs of a signalling NaN
;; kernel argument (-nan:0x1) stored a quiet NaN. abs, neg and copysign act
;; on the sign bit only (Wasm keeps the payload, signalling or not), and the
;; compiler lowers them to integer operations, but LLVM turned the `and` of
;; a float's bits with the sign mask back into abs.f64, which the GPU
;; quiets. Their operands now come through an integer move LLVM cannot see
;; through, so no float sign instruction is left.
;; RUN: twasm compile %s --kernel signs --target sm_90 -o %t.ptx
;; RUN: FileCheck %s < %t.ptx

;; CHECK-LABEL: .entry signs(
;; CHECK-NOT:     abs.f
;; CHECK-NOT:     neg.f
;; CHECK-NOT:     copysign.f
;; CHECK:         mov.b64 [[ABS:%rd[0-9]+]], %rd{{[0-9]+}};
;; CHECK:         and.b64 {{%rd[0-9]+}}, [[ABS]], 9223372036854775807;
;; CHECK:         mov.b32 [[NEG:%r[0-9]+]], %r{{[0-9]+}};
;; CHECK:         xor.b32 {{%r[0-9]+}}, [[NEG]], -2147483648;
;; CHECK-NOT:     abs.f
;; CHECK-NOT:     neg.f
;; CHECK-NOT:     copysign.f
;; CHECK:         ret;

(module
  (memory 1 1)
  (func (export "signs") (param $x f64) (param $y f32) (param $z f64)
    (f64.store (i32.const 0) (f64.abs (local.get $x)))
    (f32.store (i32.const 8) (f32.neg (local.get $y)))
    (f64.store (i32.const 16) (f64.copysign (local.get $x) (local.get $z)))))
