;; Found by the differential oracle on an H100: a store narrower than the
;; register holding its value (a misaligned f32 store, done byte by byte, or
;; i32.store8 of a float's bits) took its low byte as a conversion of the
;; number when a float instruction had written that register (6.0 stored
;; 0x06 where Wasm stores 0x00; 8.6e22 stored 0xff): LLVM folds the bitcast
;; away and the driver's compiler converts. The value now reaches such a
;; store through an integer move.
;; RUN: twasm compile %s --kernel misaligned --kernel bits --kernel fill --kernel wordbits --kernel atomicbits --target sm_90 -o %t.ptx
;; RUN: FileCheck %s < %t.ptx

;; CHECK-LABEL: .entry misaligned(
;; CHECK:         mul.rn.f32
;; CHECK:         mov.b32 [[BITS:%r[0-9]+]], %r{{[0-9]+}};
;; CHECK:         st.global.b8 [{{.*}}], [[BITS]];
;; CHECK-LABEL: .entry bits(
;; CHECK:         mul.rn.f32
;; CHECK:         mov.b32 [[BITS:%r[0-9]+]], %r{{[0-9]+}};
;; CHECK:         st.global.b8 [{{.*}}], [[BITS]];
;; CHECK-LABEL: .entry fill(
;; CHECK:         mul.rn.f32
;; CHECK:         mov.b32 [[BITS:%r[0-9]+]], %r{{[0-9]+}};
;; CHECK:         cvt.u16.u32 {{%rs[0-9]+}}, [[BITS]];
;; A whole i32 of a float's bits, misaligned: stored byte by byte too.
;; CHECK-LABEL: .entry wordbits(
;; CHECK:         mul.rn.f32
;; CHECK:         mov.b32 [[BITS:%r[0-9]+]], %r{{[0-9]+}};
;; CHECK:         st.global.b8 [{{.*}}], [[BITS]];
;; CHECK-LABEL: .entry atomicbits(
;; CHECK:         mul.rn.f32
;; CHECK:         mov.b32 [[BITS:%r[0-9]+]], %r{{[0-9]+}};
;; CHECK:         cvt.u16.u32 [[BYTE:%rs[0-9]+]], [[BITS]];
;; CHECK:         st.release.gpu.global.b8 [{{.*}}], [[BYTE]];

(module
  (memory 1 1)
  (func (export "misaligned") (param $address i32) (param $x f32)
    (f32.store align=1 (local.get $address)
      (f32.mul (local.get $x) (f32.const 3))))
  (func (export "bits") (param $address i32) (param $x f32)
    (i32.store8 (local.get $address)
      (i32.reinterpret_f32 (f32.mul (local.get $x) (f32.const 3)))))
  (func (export "fill") (param $address i32) (param $x f32)
    (memory.fill (local.get $address)
      (i32.reinterpret_f32 (f32.mul (local.get $x) (f32.const 3)))
      (i32.const 16)))
  (func (export "wordbits") (param $address i32) (param $x f32)
    (i32.store align=1 (local.get $address)
      (i32.reinterpret_f32 (f32.mul (local.get $x) (f32.const 3)))))
  (func (export "atomicbits") (param $address i32) (param $x f32)
    (i32.atomic.store8 (local.get $address)
      (i32.reinterpret_f32 (f32.mul (local.get $x) (f32.const 3))))))
