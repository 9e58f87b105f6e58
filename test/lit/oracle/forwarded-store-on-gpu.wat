;; Found by the differential oracle on an H100: an f64 stored, then its low
;; half loaded as an i32 and stored elsewhere. LLVM forwards the stored bits
;; to the load, so the i32.store became a 32-bit store of the 64-bit
;; register a float instruction wrote, and the driver's compiler
;; stored the number converted (+inf became 0xffffffff) instead of its low
;; half. Every store of 32 bits or fewer now takes its value from an integer
;; move: its register is 32 bits wide and an integer instruction wrote it.
;; RUN: twasm compile %s --kernel forward --target sm_90 -o %t.ptx
;; RUN: FileCheck %s < %t.ptx

;; CHECK-LABEL: .entry forward(
;; CHECK:         mul.rn.f64
;; CHECK:         selp.f64 [[PRODUCT:%rd[0-9]+]],
;; CHECK:         st.global.b64 [{{.*}}], [[PRODUCT]];
;; CHECK:         mov.b32 [[LOW:%r[0-9]+]], %r{{[0-9]+}};
;; CHECK:         st.global.b32 [{{.*}}], [[LOW]];
;; CHECK-NOT:     st.global.b32 [{{.*}}], %rd

(module
  (memory 1 1)
  (func (export "forward") (param $x f64) (param $y f64)
    (f64.store (i32.const 64) (f64.mul (local.get $x) (local.get $y)))
    (i32.store (i32.const 80) (i32.load (i32.const 64)))))
