;; Every numeric instruction imports to the twasm op of the same name.
;; RUN: twasm-opt %s | FileCheck %s
;; Pure ops whose results are unused are kept by the importer (only a pass
;; removes them), so each one shows up in order.

(module
  ;; CHECK-LABEL: func @i32_ops(%arg0: i32, %arg1: i32)
  ;; CHECK-NEXT:    twasm.i32.clz %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.ctz %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.popcnt %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.eqz %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.extend8_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.extend16_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.add %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.sub %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.mul %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.div_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.div_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.rem_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.rem_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.and %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.or %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.xor %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.shl %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.shr_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.shr_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.rotl %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.rotr %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.eq %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.ne %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.lt_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.lt_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.gt_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.gt_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.le_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.le_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.ge_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.ge_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    return
  (func $i32_ops (param $a i32) (param $b i32)
    (drop (i32.clz (local.get $a)))
    (drop (i32.ctz (local.get $a)))
    (drop (i32.popcnt (local.get $a)))
    (drop (i32.eqz (local.get $a)))
    (drop (i32.extend8_s (local.get $a)))
    (drop (i32.extend16_s (local.get $a)))
    (drop (i32.add (local.get $a) (local.get $b)))
    (drop (i32.sub (local.get $a) (local.get $b)))
    (drop (i32.mul (local.get $a) (local.get $b)))
    (drop (i32.div_s (local.get $a) (local.get $b)))
    (drop (i32.div_u (local.get $a) (local.get $b)))
    (drop (i32.rem_s (local.get $a) (local.get $b)))
    (drop (i32.rem_u (local.get $a) (local.get $b)))
    (drop (i32.and (local.get $a) (local.get $b)))
    (drop (i32.or (local.get $a) (local.get $b)))
    (drop (i32.xor (local.get $a) (local.get $b)))
    (drop (i32.shl (local.get $a) (local.get $b)))
    (drop (i32.shr_s (local.get $a) (local.get $b)))
    (drop (i32.shr_u (local.get $a) (local.get $b)))
    (drop (i32.rotl (local.get $a) (local.get $b)))
    (drop (i32.rotr (local.get $a) (local.get $b)))
    (drop (i32.eq (local.get $a) (local.get $b)))
    (drop (i32.ne (local.get $a) (local.get $b)))
    (drop (i32.lt_s (local.get $a) (local.get $b)))
    (drop (i32.lt_u (local.get $a) (local.get $b)))
    (drop (i32.gt_s (local.get $a) (local.get $b)))
    (drop (i32.gt_u (local.get $a) (local.get $b)))
    (drop (i32.le_s (local.get $a) (local.get $b)))
    (drop (i32.le_u (local.get $a) (local.get $b)))
    (drop (i32.ge_s (local.get $a) (local.get $b)))
    (drop (i32.ge_u (local.get $a) (local.get $b))))
  ;; CHECK-LABEL: func @i64_ops(%arg0: i64, %arg1: i64)
  ;; CHECK-NEXT:    twasm.i64.clz %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.ctz %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.popcnt %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.eqz %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.extend8_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.extend16_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.extend32_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.add %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.sub %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.mul %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.div_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.div_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.rem_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.rem_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.and %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.or %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.xor %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.shl %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.shr_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.shr_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.rotl %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.rotr %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.eq %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.ne %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.lt_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.lt_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.gt_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.gt_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.le_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.le_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.ge_s %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.ge_u %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    return
  (func $i64_ops (param $a i64) (param $b i64)
    (drop (i64.clz (local.get $a)))
    (drop (i64.ctz (local.get $a)))
    (drop (i64.popcnt (local.get $a)))
    (drop (i64.eqz (local.get $a)))
    (drop (i64.extend8_s (local.get $a)))
    (drop (i64.extend16_s (local.get $a)))
    (drop (i64.extend32_s (local.get $a)))
    (drop (i64.add (local.get $a) (local.get $b)))
    (drop (i64.sub (local.get $a) (local.get $b)))
    (drop (i64.mul (local.get $a) (local.get $b)))
    (drop (i64.div_s (local.get $a) (local.get $b)))
    (drop (i64.div_u (local.get $a) (local.get $b)))
    (drop (i64.rem_s (local.get $a) (local.get $b)))
    (drop (i64.rem_u (local.get $a) (local.get $b)))
    (drop (i64.and (local.get $a) (local.get $b)))
    (drop (i64.or (local.get $a) (local.get $b)))
    (drop (i64.xor (local.get $a) (local.get $b)))
    (drop (i64.shl (local.get $a) (local.get $b)))
    (drop (i64.shr_s (local.get $a) (local.get $b)))
    (drop (i64.shr_u (local.get $a) (local.get $b)))
    (drop (i64.rotl (local.get $a) (local.get $b)))
    (drop (i64.rotr (local.get $a) (local.get $b)))
    (drop (i64.eq (local.get $a) (local.get $b)))
    (drop (i64.ne (local.get $a) (local.get $b)))
    (drop (i64.lt_s (local.get $a) (local.get $b)))
    (drop (i64.lt_u (local.get $a) (local.get $b)))
    (drop (i64.gt_s (local.get $a) (local.get $b)))
    (drop (i64.gt_u (local.get $a) (local.get $b)))
    (drop (i64.le_s (local.get $a) (local.get $b)))
    (drop (i64.le_u (local.get $a) (local.get $b)))
    (drop (i64.ge_s (local.get $a) (local.get $b)))
    (drop (i64.ge_u (local.get $a) (local.get $b))))
  ;; CHECK-LABEL: func @f32_ops(%arg0: f32, %arg1: f32)
  ;; CHECK-NEXT:    twasm.f32.abs %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.neg %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.ceil %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.floor %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.trunc %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.nearest %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.sqrt %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f32.add %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.sub %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.mul %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.div %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.min %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.max %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.copysign %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.eq %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.ne %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.lt %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.gt %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.le %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f32.ge %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    return
  (func $f32_ops (param $a f32) (param $b f32)
    (drop (f32.abs (local.get $a)))
    (drop (f32.neg (local.get $a)))
    (drop (f32.ceil (local.get $a)))
    (drop (f32.floor (local.get $a)))
    (drop (f32.trunc (local.get $a)))
    (drop (f32.nearest (local.get $a)))
    (drop (f32.sqrt (local.get $a)))
    (drop (f32.add (local.get $a) (local.get $b)))
    (drop (f32.sub (local.get $a) (local.get $b)))
    (drop (f32.mul (local.get $a) (local.get $b)))
    (drop (f32.div (local.get $a) (local.get $b)))
    (drop (f32.min (local.get $a) (local.get $b)))
    (drop (f32.max (local.get $a) (local.get $b)))
    (drop (f32.copysign (local.get $a) (local.get $b)))
    (drop (f32.eq (local.get $a) (local.get $b)))
    (drop (f32.ne (local.get $a) (local.get $b)))
    (drop (f32.lt (local.get $a) (local.get $b)))
    (drop (f32.gt (local.get $a) (local.get $b)))
    (drop (f32.le (local.get $a) (local.get $b)))
    (drop (f32.ge (local.get $a) (local.get $b))))
  ;; CHECK-LABEL: func @f64_ops(%arg0: f64, %arg1: f64)
  ;; CHECK-NEXT:    twasm.f64.abs %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.neg %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.ceil %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.floor %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.trunc %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.nearest %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.sqrt %arg0{{$}}
  ;; CHECK-NEXT:    twasm.f64.add %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.sub %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.mul %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.div %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.min %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.max %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.copysign %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.eq %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.ne %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.lt %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.gt %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.le %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.f64.ge %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    return
  (func $f64_ops (param $a f64) (param $b f64)
    (drop (f64.abs (local.get $a)))
    (drop (f64.neg (local.get $a)))
    (drop (f64.ceil (local.get $a)))
    (drop (f64.floor (local.get $a)))
    (drop (f64.trunc (local.get $a)))
    (drop (f64.nearest (local.get $a)))
    (drop (f64.sqrt (local.get $a)))
    (drop (f64.add (local.get $a) (local.get $b)))
    (drop (f64.sub (local.get $a) (local.get $b)))
    (drop (f64.mul (local.get $a) (local.get $b)))
    (drop (f64.div (local.get $a) (local.get $b)))
    (drop (f64.min (local.get $a) (local.get $b)))
    (drop (f64.max (local.get $a) (local.get $b)))
    (drop (f64.copysign (local.get $a) (local.get $b)))
    (drop (f64.eq (local.get $a) (local.get $b)))
    (drop (f64.ne (local.get $a) (local.get $b)))
    (drop (f64.lt (local.get $a) (local.get $b)))
    (drop (f64.gt (local.get $a) (local.get $b)))
    (drop (f64.le (local.get $a) (local.get $b)))
    (drop (f64.ge (local.get $a) (local.get $b))))
)
