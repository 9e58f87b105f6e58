;; Kernel declarations: the twasm.kernels custom section (here through the
;; annotations proposal's @custom) and --twasm-kernel on the command line.
;; RUN: twasm-opt %s | FileCheck %s
;; RUN: twasm-opt %S/Inputs/kernel-option.wat --twasm-kernel=lonely | FileCheck %s --check-prefix=OPTION

(module
  (@custom "twasm.kernels" "scale\00")
  (@custom "twasm.kernels" (after export) "other\00" "scale\00")
  ;; Annotations the compiler does not know are ignored.
  (@producer (nested "things") 1 2)
  (memory 1)
  (func (export "scale") (param $p i32) (param $k f32)
    (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $k))))
  (func (export "other") (param i64 f64)))

;; Each kernel is declared once, in the order first named.
;; CHECK:      export "scale" func @scale
;; CHECK-NEXT: export "other" func @other
;; CHECK-NEXT: kernel "scale"
;; CHECK-NEXT: kernel "other"
;; CHECK-NOT:  kernel

;; OPTION-LABEL: export "lonely" func @lonely
;; OPTION-NEXT:  kernel "lonely"
;; OPTION-NOT:   kernel "helper"
