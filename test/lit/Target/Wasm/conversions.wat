;; Every conversion, reinterpretation and saturating truncation.
;; RUN: twasm-opt %s | FileCheck %s

(module
  ;; CHECK-LABEL: func @conversions(%arg0: i32, %arg1: i64, %arg2: f32, %arg3: f64)
  ;; CHECK-NEXT:    twasm.i32.wrap_i64 %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.trunc_f32_s %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i32.trunc_f32_u %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i32.trunc_f64_s %arg3{{$}}
  ;; CHECK-NEXT:    twasm.i32.trunc_f64_u %arg3{{$}}
  ;; CHECK-NEXT:    twasm.i64.extend_i32_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.extend_i32_u %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.trunc_f32_s %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i64.trunc_f32_u %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i64.trunc_f64_s %arg3{{$}}
  ;; CHECK-NEXT:    twasm.i64.trunc_f64_u %arg3{{$}}
  ;; CHECK-NEXT:    twasm.f32.convert_i32_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.convert_i32_u %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.convert_i64_s %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.convert_i64_u %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.demote_f64 %arg3{{$}}
  ;; CHECK-NEXT:    twasm.f64.convert_i32_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.convert_i32_u %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.convert_i64_s %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.convert_i64_u %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.promote_f32 %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i32.reinterpret_f32 %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i64.reinterpret_f64 %arg3{{$}}
  ;; CHECK-NEXT:    twasm.f32.reinterpret_i32 %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.reinterpret_i64 %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.trunc_sat_f32_s %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i32.trunc_sat_f32_u %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i32.trunc_sat_f64_s %arg3{{$}}
  ;; CHECK-NEXT:    twasm.i32.trunc_sat_f64_u %arg3{{$}}
  ;; CHECK-NEXT:    twasm.i64.trunc_sat_f32_s %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i64.trunc_sat_f32_u %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i64.trunc_sat_f64_s %arg3{{$}}
  ;; CHECK-NEXT:    twasm.i64.trunc_sat_f64_u %arg3{{$}}
  ;; CHECK-NEXT:    return
  (func $conversions (param i32 i64 f32 f64)
    (drop (i32.wrap_i64 (local.get 1)))
    (drop (i32.trunc_f32_s (local.get 2)))
    (drop (i32.trunc_f32_u (local.get 2)))
    (drop (i32.trunc_f64_s (local.get 3)))
    (drop (i32.trunc_f64_u (local.get 3)))
    (drop (i64.extend_i32_s (local.get 0)))
    (drop (i64.extend_i32_u (local.get 0)))
    (drop (i64.trunc_f32_s (local.get 2)))
    (drop (i64.trunc_f32_u (local.get 2)))
    (drop (i64.trunc_f64_s (local.get 3)))
    (drop (i64.trunc_f64_u (local.get 3)))
    (drop (f32.convert_i32_s (local.get 0)))
    (drop (f32.convert_i32_u (local.get 0)))
    (drop (f32.convert_i64_s (local.get 1)))
    (drop (f32.convert_i64_u (local.get 1)))
    (drop (f32.demote_f64 (local.get 3)))
    (drop (f64.convert_i32_s (local.get 0)))
    (drop (f64.convert_i32_u (local.get 0)))
    (drop (f64.convert_i64_s (local.get 1)))
    (drop (f64.convert_i64_u (local.get 1)))
    (drop (f64.promote_f32 (local.get 2)))
    (drop (i32.reinterpret_f32 (local.get 2)))
    (drop (i64.reinterpret_f64 (local.get 3)))
    (drop (f32.reinterpret_i32 (local.get 0)))
    (drop (f64.reinterpret_i64 (local.get 1)))
    (drop (i32.trunc_sat_f32_s (local.get 2)))
    (drop (i32.trunc_sat_f32_u (local.get 2)))
    (drop (i32.trunc_sat_f64_s (local.get 3)))
    (drop (i32.trunc_sat_f64_u (local.get 3)))
    (drop (i64.trunc_sat_f32_s (local.get 2)))
    (drop (i64.trunc_sat_f32_u (local.get 2)))
    (drop (i64.trunc_sat_f64_s (local.get 3)))
    (drop (i64.trunc_sat_f64_u (local.get 3)))))
