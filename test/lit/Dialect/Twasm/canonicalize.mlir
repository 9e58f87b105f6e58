// Folding follows the spec exactly: integers wrap, an op that would trap is
// never folded to a value nor erased, float folds keep NaN rules, signed
// zeros and denormals. Expected values are computed from the spec, not from
// the implementation.
// RUN: twasm-opt %s --split-input-file --canonicalize | FileCheck %s

twasm.module {
  // CHECK-LABEL: func @integers
  // CHECK-DAG:     %[[MIN:.+]] = twasm.i32.const -2147483648
  // CHECK-DAG:     %[[M1:.+]] = twasm.i32.const -1
  // CHECK-DAG:     %[[Z:.+]] = twasm.i32.const 0
  // CHECK-DAG:     %[[M3:.+]] = twasm.i32.const -3
  // CHECK-DAG:     %[[IMAX:.+]] = twasm.i32.const 2147483647
  // CHECK-DAG:     %[[TWO:.+]] = twasm.i32.const 2
  // CHECK-DAG:     %[[M4:.+]] = twasm.i32.const -4
  // CHECK-DAG:     %[[BIG:.+]] = twasm.i32.const 2147483644
  // CHECK-DAG:     %[[THREE:.+]] = twasm.i32.const 3
  // CHECK-DAG:     %[[C32:.+]] = twasm.i32.const 32
  // CHECK-DAG:     %[[M128:.+]] = twasm.i32.const -128
  // CHECK-DAG:     %[[M32768:.+]] = twasm.i32.const -32768
  // CHECK-DAG:     %[[ONE:.+]] = twasm.i32.const 1
  // CHECK:         return %[[MIN]], %[[M1]], %[[Z]], %[[M3]], %[[M1]], %[[Z]], %[[IMAX]], %[[TWO]], %[[M4]], %[[BIG]], %[[THREE]], %[[MIN]], %[[C32]], %[[C32]], %[[C32]], %[[M128]], %[[M32768]], %[[ONE]], %[[ONE]], %[[Z]]
  func @integers() -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) {
    %max = twasm.i32.const 2147483647
    %min = twasm.i32.const -2147483648
    %c0 = twasm.i32.const 0
    %c1 = twasm.i32.const 1
    %c2 = twasm.i32.const 2
    %cm1 = twasm.i32.const -1
    %cm7 = twasm.i32.const -7
    %cm8 = twasm.i32.const -8
    %c33 = twasm.i32.const 33
    %c65536 = twasm.i32.const 65536
    %c128 = twasm.i32.const 128
    %c32768 = twasm.i32.const 32768
    %odd = twasm.i32.const -2147483647
    %0 = twasm.i32.add %max, %c1
    %1 = twasm.i32.sub %c0, %c1
    %2 = twasm.i32.mul %c65536, %c65536
    %3 = twasm.i32.div_s %cm7, %c2
    %4 = twasm.i32.rem_s %cm7, %c2
    %5 = twasm.i32.rem_s %min, %cm1
    %6 = twasm.i32.div_u %cm1, %c2
    %7 = twasm.i32.shl %c1, %c33
    %8 = twasm.i32.shr_s %cm8, %c1
    %9 = twasm.i32.shr_u %cm8, %c1
    %10 = twasm.i32.rotl %odd, %c1
    %11 = twasm.i32.rotr %c1, %c1
    %12 = twasm.i32.clz %c0
    %13 = twasm.i32.ctz %c0
    %14 = twasm.i32.popcnt %cm1
    %15 = twasm.i32.extend8_s %c128
    %16 = twasm.i32.extend16_s %c32768
    %17 = twasm.i32.eqz %c0
    %18 = twasm.i32.lt_s %cm1, %c0
    %19 = twasm.i32.lt_u %cm1, %c0
    return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19 : i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32
  }

  // CHECK-LABEL: func @wide
  // CHECK-DAG:     %[[C63:.+]] = twasm.i64.const 63
  // CHECK-DAG:     %[[EXT:.+]] = twasm.i64.const -2147483648
  // CHECK-DAG:     %[[FIVE:.+]] = twasm.i32.const 5
  // CHECK:         return %[[C63]], %[[EXT]], %[[FIVE]] : i64, i64, i32
  func @wide() -> (i64, i64, i32) {
    %c1 = twasm.i64.const 1
    %c2p31 = twasm.i64.const 2147483648
    %c = twasm.i64.const 4294967301
    %0 = twasm.i64.clz %c1
    %1 = twasm.i64.extend32_s %c2p31
    %2 = twasm.i32.wrap_i64 %c
    return %0, %1, %2 : i64, i64, i32
  }

  // Identities that hold for every operand.
  // CHECK-LABEL: func @identities(%arg0: i32, %arg1: i64)
  // CHECK-DAG:     %[[Z:.+]] = twasm.i32.const 0
  // CHECK-DAG:     %[[ONE:.+]] = twasm.i32.const 1
  // CHECK:         return %arg0, %arg0, %[[Z]], %[[Z]], %arg0, %arg0, %[[Z]], %arg0, %[[Z]], %[[ONE]], %[[Z]], %[[ONE]], %arg0
  func @identities(%x: i32, %y: i64) -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) {
    %c0 = twasm.i32.const 0
    %c1 = twasm.i32.const 1
    %c32 = twasm.i32.const 32
    %0 = twasm.i32.add %x, %c0
    %1 = twasm.i32.mul %c1, %x
    %2 = twasm.i32.sub %x, %x
    %3 = twasm.i32.xor %x, %x
    %4 = twasm.i32.and %x, %x
    %5 = twasm.i32.or %x, %c0
    %6 = twasm.i32.mul %x, %c0
    %7 = twasm.i32.div_s %x, %c1
    %8 = twasm.i32.rem_u %x, %c1
    %9 = twasm.i32.eq %x, %x
    %10 = twasm.i32.lt_s %x, %x
    %11 = twasm.i32.le_u %x, %x
    %12 = twasm.i32.rotl %x, %c32
    return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12 : i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32
  }
}

// -----

// Operations that trap are neither folded nor erased, even when unused;
// the same operations that provably cannot trap are erased when unused.
twasm.module {
  // CHECK-LABEL: func @traps(%arg0: i32, %arg1: f32)
  // CHECK-DAG:     %[[Z:.+]] = twasm.i32.const 0
  // CHECK-DAG:     %[[MIN:.+]] = twasm.i32.const -2147483648
  // CHECK-DAG:     %[[M1:.+]] = twasm.i32.const -1
  // CHECK-DAG:     %[[BIG:.+]] = twasm.f32.const 2.14748365E+9
  // CHECK:         twasm.i32.div_s %[[MIN]], %[[M1]]
  // CHECK-NEXT:    twasm.i32.rem_u %arg0, %[[Z]]
  // CHECK-NEXT:    twasm.i32.div_s %arg0, %[[M1]]
  // CHECK-NEXT:    twasm.i32.trunc_f32_s %[[BIG]]
  // CHECK-NEXT:    twasm.i32.trunc_f32_u %arg1
  // CHECK-NEXT:    return
  func @traps(%x: i32, %f: f32) {
    %c0 = twasm.i32.const 0
    %c2 = twasm.i32.const 2
    %cm1 = twasm.i32.const -1
    %min = twasm.i32.const -2147483648
    %big = twasm.f32.const 2147483648.0
    %ok = twasm.f32.const -2147483648.0
    %0 = twasm.i32.div_s %min, %cm1
    %1 = twasm.i32.rem_u %x, %c0
    %2 = twasm.i32.div_s %x, %cm1
    %3 = twasm.i32.div_u %x, %c2
    %4 = twasm.i32.rem_s %x, %cm1
    %5 = twasm.i32.trunc_f32_s %big
    %6 = twasm.i32.trunc_f32_s %ok
    %7 = twasm.i32.trunc_f32_u %f
    %8 = twasm.i32.add %x, %x
    return
  }
}

// -----

twasm.module {
  // CHECK-LABEL: func @floats
  // CHECK-DAG:     %[[THREE:.+]] = twasm.f32.const 3.000000e+00
  // CHECK-DAG:     %[[INF:.+]] = twasm.f32.const 0x7F800000
  // CHECK-DAG:     %[[CNAN:.+]] = twasm.f32.const 0x7FC00000
  // CHECK-DAG:     %[[QNAN:.+]] = twasm.f32.const 0x7FE00000
  // CHECK-DAG:     %[[NZ:.+]] = twasm.f32.const -0.000000e+00
  // CHECK-DAG:     %[[PZ:.+]] = twasm.f32.const 0.000000e+00
  // CHECK-DAG:     %[[TWO:.+]] = twasm.f32.const 2.000000e+00
  // CHECK-DAG:     %[[FOUR:.+]] = twasm.f32.const 4.000000e+00
  // CHECK-DAG:     %[[M1:.+]] = twasm.f32.const -1.000000e+00
  // CHECK-DAG:     %[[NEGSNAN:.+]] = twasm.f32.const 0xFFA00000
  // CHECK-DAG:     %[[DENORMAL:.+]] = twasm.f32.const 5.87747175E-39
  // CHECK:         return %[[THREE]], %[[INF]], %[[CNAN]], %[[CNAN]], %[[QNAN]], %[[NZ]], %[[PZ]], %[[CNAN]], %[[TWO]], %[[NZ]], %[[FOUR]], %[[NZ]], %[[M1]], %[[M1]], %[[CNAN]], %[[TWO]], %[[NZ]], %[[NEGSNAN]], %[[PZ]], %[[M1]], %[[DENORMAL]]
  func @floats() -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
    %one = twasm.f32.const 1.0
    %two = twasm.f32.const 2.0
    %zero = twasm.f32.const 0.0
    %nzero = twasm.f32.const -0.0
    %inf = twasm.f32.const 0x7F800000
    %snan = twasm.f32.const 0x7FA00000
    %cnan = twasm.f32.const 0x7FC00000
    %half = twasm.f32.const 0.5
    %nhalf = twasm.f32.const -0.5
    %twohalf = twasm.f32.const 2.5
    %threehalf = twasm.f32.const 3.5
    %n1half = twasm.f32.const -1.5
    %four = twasm.f32.const 4.0
    %none = twasm.f32.const -1.0
    %minnormal = twasm.f32.const 0x00800000
    %0 = twasm.f32.add %one, %two
    %1 = twasm.f32.div %one, %zero
    %2 = twasm.f32.div %zero, %zero
    %3 = twasm.f32.sub %inf, %inf
    %4 = twasm.f32.add %snan, %one
    %5 = twasm.f32.min %nzero, %zero
    %6 = twasm.f32.max %nzero, %zero
    %7 = twasm.f32.min %cnan, %one
    %8 = twasm.f32.nearest %twohalf
    %9 = twasm.f32.nearest %nhalf
    %10 = twasm.f32.nearest %threehalf
    %11 = twasm.f32.ceil %nhalf
    %12 = twasm.f32.floor %nhalf
    %13 = twasm.f32.trunc %n1half
    %14 = twasm.f32.sqrt %none
    %15 = twasm.f32.sqrt %four
    %16 = twasm.f32.sqrt %nzero
    %17 = twasm.f32.neg %snan
    %18 = twasm.f32.abs %nzero
    %19 = twasm.f32.copysign %one, %none
    %20 = twasm.f32.mul %minnormal, %half
    return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20 : f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32
  }

  // CHECK-LABEL: func @compares
  // CHECK-DAG:     %[[Z:.+]] = twasm.i32.const 0
  // CHECK-DAG:     %[[ONE:.+]] = twasm.i32.const 1
  // CHECK:         return %[[Z]], %[[ONE]], %[[Z]], %[[ONE]], %[[ONE]]
  func @compares() -> (i32, i32, i32, i32, i32) {
    %nan = twasm.f64.const 0x7FF8000000000000
    %nzero = twasm.f64.const -0.0
    %zero = twasm.f64.const 0.0
    %0 = twasm.f64.eq %nan, %nan
    %1 = twasm.f64.ne %nan, %nan
    %2 = twasm.f64.lt %nzero, %zero
    %3 = twasm.f64.le %nzero, %zero
    %4 = twasm.f64.ge %zero, %nzero
    return %0, %1, %2, %3, %4 : i32, i32, i32, i32, i32
  }

  // CHECK-LABEL: func @doubles
  // CHECK:         %[[SUM:.+]] = twasm.f64.const 0.30000000000000004
  // CHECK:         return %[[SUM]]
  func @doubles() -> f64 {
    %a = twasm.f64.const 0.1
    %b = twasm.f64.const 0.2
    %0 = twasm.f64.add %a, %b
    return %0 : f64
  }

  // x * 1.0, x + -0.0 and min(x, x) are not x: for a signaling NaN x the
  // spec wants a quiet (arithmetic) NaN. neg(neg(x)) and copysign(x, x) are
  // bitwise, so they are x.
  // CHECK-LABEL: func @float_identities(%arg0: f32)
  // CHECK-DAG:     %[[MUL:.+]] = twasm.f32.mul %arg0, %{{.+}}
  // CHECK-DAG:     %[[ADD:.+]] = twasm.f32.add %arg0, %{{.+}}
  // CHECK-DAG:     %[[MIN:.+]] = twasm.f32.min %arg0, %arg0
  // CHECK:         return %[[MUL]], %[[ADD]], %[[MIN]], %arg0, %arg0
  func @float_identities(%x: f32) -> (f32, f32, f32, f32, f32) {
    %one = twasm.f32.const 1.0
    %nzero = twasm.f32.const -0.0
    %0 = twasm.f32.mul %x, %one
    %1 = twasm.f32.add %x, %nzero
    %2 = twasm.f32.min %x, %x
    %n = twasm.f32.neg %x
    %3 = twasm.f32.neg %n
    %4 = twasm.f32.copysign %x, %x
    return %0, %1, %2, %3, %4 : f32, f32, f32, f32, f32
  }
}

// -----

twasm.module {
  // CHECK-LABEL: func @conversions
  // CHECK-DAG:     %[[IMIN:.+]] = twasm.i32.const -2147483648
  // CHECK-DAG:     %[[IM1:.+]] = twasm.i32.const -1
  // CHECK-DAG:     %[[IZ:.+]] = twasm.i32.const 0
  // CHECK-DAG:     %[[M256:.+]] = twasm.i32.const -256
  // CHECK-DAG:     %[[IMAX:.+]] = twasm.i32.const 2147483647
  // CHECK-DAG:     %[[P32:.+]] = twasm.f32.const 4.2949673E+9
  // CHECK-DAG:     %[[U64:.+]] = twasm.f64.const 1.8446744073709552E+19
  // CHECK-DAG:     %[[FINF:.+]] = twasm.f32.const 0x7F800000
  // CHECK-DAG:     %[[FONE:.+]] = twasm.f32.const 1.000000e+00
  // CHECK-DAG:     %[[PNAN:.+]] = twasm.f64.const 0x7FFC000000000000
  // CHECK-DAG:     %[[SNANBITS:.+]] = twasm.f32.const 0x7FA00001
  // CHECK:         return %[[IMIN]], %[[IM1]], %[[IZ]], %[[M256]], %[[IZ]], %[[IMAX]], %[[IMIN]], %[[IZ]], %[[IM1]], %[[P32]], %[[U64]], %[[FINF]], %[[FONE]], %[[PNAN]], %[[IMIN]], %[[SNANBITS]]
  func @conversions() -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, f32, f64, f32, f32, f64, i32, f32) {
    %fmin = twasm.f32.const -2147483648.0
    %fm15 = twasm.f32.const -1.5
    %fm09 = twasm.f32.const -0.9
    %flarge = twasm.f32.const 4294967040.0
    %nan = twasm.f32.const 0x7FC00000
    %f3e9 = twasm.f32.const 3.0e9
    %fm3e9 = twasm.f32.const -3.0e9
    %fm5 = twasm.f32.const -5.0
    %f5e9 = twasm.f32.const 5.0e9
    %im1 = twasm.i32.const -1
    %lm1 = twasm.i64.const -1
    %d1e300 = twasm.f64.const 1.0e300
    %dtie = twasm.f64.const 1.0000000596046448
    %snan = twasm.f32.const 0x7FA00000
    %nzero = twasm.f32.const -0.0
    %bits = twasm.i32.const 2141192193
    %0 = twasm.i32.trunc_f32_s %fmin
    %1 = twasm.i32.trunc_f32_s %fm15
    %2 = twasm.i32.trunc_f32_u %fm09
    %3 = twasm.i32.trunc_f32_u %flarge
    %4 = twasm.i32.trunc_sat_f32_s %nan
    %5 = twasm.i32.trunc_sat_f32_s %f3e9
    %6 = twasm.i32.trunc_sat_f32_s %fm3e9
    %7 = twasm.i32.trunc_sat_f32_u %fm5
    %8 = twasm.i32.trunc_sat_f32_u %f5e9
    %9 = twasm.f32.convert_i32_u %im1
    %10 = twasm.f64.convert_i64_u %lm1
    %11 = twasm.f32.demote_f64 %d1e300
    %12 = twasm.f32.demote_f64 %dtie
    %13 = twasm.f64.promote_f32 %snan
    %14 = twasm.i32.reinterpret_f32 %nzero
    %15 = twasm.f32.reinterpret_i32 %bits
    return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15 : i32, i32, i32, i32, i32, i32, i32, i32, i32, f32, f64, f32, f32, f64, i32, f32
  }

  // Round trips through an exact conversion are the identity.
  // CHECK-LABEL: func @round_trips(%arg0: f32, %arg1: i32)
  // CHECK-NEXT:    return %arg0, %arg1, %arg1
  func @round_trips(%f: f32, %i: i32) -> (f32, i32, i32) {
    %0 = twasm.i32.reinterpret_f32 %f
    %1 = twasm.f32.reinterpret_i32 %0
    %2 = twasm.i64.extend_i32_u %i
    %3 = twasm.i32.wrap_i64 %2
    %4 = twasm.i64.extend_i32_s %i
    %5 = twasm.i32.wrap_i64 %4
    return %1, %3, %5 : f32, i32, i32
  }
}

// -----

twasm.module {
  // CHECK-LABEL: func @selects(%arg0: i32, %arg1: i64, %arg2: i64)
  // CHECK-NEXT:    %[[S:.+]] = select %arg0, %arg2, %arg1 : i64
  // CHECK-NEXT:    return %arg2, %arg1, %[[S]]
  func @selects(%c: i32, %a: i64, %b: i64) -> (i64, i64, i64) {
    %c0 = twasm.i32.const 0
    %0 = select %c0, %a, %b : i64
    %1 = select %c, %a, %a : i64
    %e = twasm.i32.eqz %c
    %2 = select %e, %a, %b : i64
    return %0, %1, %2 : i64, i64, i64
  }

  // CHECK-LABEL: func @refs
  // CHECK-NEXT:    %[[ONE:.+]] = twasm.i32.const 1
  // CHECK-NEXT:    return %[[ONE]]
  func @refs() -> i32 {
    %n = twasm.ref.null : !twasm.externref
    %0 = twasm.ref.is_null %n : !twasm.externref
    return %0 : i32
  }

  // A shift or rotate count is taken modulo the bit width, so masking it
  // first is redundant and a large constant count is reduced.
  // CHECK-LABEL: func @shift_counts(%arg0: i32, %arg1: i32, %arg2: i64)
  // CHECK-DAG:     %[[C1:.+]] = twasm.i64.const 1
  // CHECK-DAG:     %[[C15:.+]] = twasm.i32.const 15
  // CHECK-DAG:     %[[A:.+]] = twasm.i32.shl %arg0, %arg1
  // CHECK-DAG:     %[[MASK:.+]] = twasm.i32.and %arg1, %[[C15]]
  // CHECK-DAG:     %[[B:.+]] = twasm.i32.rotr %arg0, %[[MASK]]
  // CHECK-DAG:     %[[C:.+]] = twasm.i64.shr_u %arg2, %[[C1]]
  // CHECK:         return %[[A]], %[[B]], %[[C]]
  func @shift_counts(%x: i32, %y: i32, %z: i64) -> (i32, i32, i64) {
    %c31 = twasm.i32.const 31
    %c15 = twasm.i32.const 15
    %c65 = twasm.i64.const 65
    %m = twasm.i32.and %y, %c31
    %0 = twasm.i32.shl %x, %m
    %n = twasm.i32.and %y, %c15
    %1 = twasm.i32.rotr %x, %n
    %2 = twasm.i64.shr_u %z, %c65
    return %0, %1, %2 : i32, i32, i64
  }

  // Constant offsets meet in one wrapping add: (x + max) + max + 3 = x + 1.
  // CHECK-LABEL: func @offsets(%arg0: i32)
  // CHECK-DAG:     %[[SEVEN:.+]] = twasm.i32.const 7
  // CHECK-DAG:     %[[M5:.+]] = twasm.i32.const -5
  // CHECK-DAG:     %[[ONE:.+]] = twasm.i32.const 1
  // CHECK-DAG:     %[[A:.+]] = twasm.i32.add %arg0, %[[SEVEN]]
  // CHECK-DAG:     %[[B:.+]] = twasm.i32.add %arg0, %[[M5]]
  // CHECK-DAG:     %[[C:.+]] = twasm.i32.add %arg0, %[[ONE]]
  // CHECK:         return %[[A]], %[[B]], %[[C]]
  func @offsets(%x: i32) -> (i32, i32, i32) {
    %c3 = twasm.i32.const 3
    %c4 = twasm.i32.const 4
    %c5 = twasm.i32.const 5
    %max = twasm.i32.const 2147483647
    %t = twasm.i32.add %x, %c3
    %0 = twasm.i32.add %t, %c4
    %1 = twasm.i32.sub %x, %c5
    %u = twasm.i32.add %x, %max
    %2 = twasm.i32.add %u, %max
    %w = twasm.i32.add %2, %c3
    return %0, %1, %w : i32, i32, i32
  }
}

// -----

twasm.module {
  // Constant conditions and indices pick their target, chains of blocks
  // merge, and br_if on eqz(x) becomes br_if on x with the targets swapped.
  // CHECK-LABEL: func @branches(%arg0: i32, %arg1: i32) -> i32
  // CHECK-DAG:     %[[FOUR:.+]] = twasm.i32.const 4
  // CHECK-DAG:     %[[FIVE:.+]] = twasm.i32.const 5
  // CHECK:         br_if %arg0, ^[[NONZERO:bb[0-9]+]], ^[[ZERO:bb[0-9]+]]
  // CHECK:       ^[[ZERO]]:
  // CHECK-NEXT:    return %[[FOUR]] : i32
  // CHECK:       ^[[NONZERO]]:
  // CHECK-NEXT:    return %[[FIVE]] : i32
  // CHECK-NOT:     unreachable
  func @branches(%x: i32, %y: i32) -> i32 {
    %c1 = twasm.i32.const 1
    %c0 = twasm.i32.const 0
    %c5 = twasm.i32.const 5
    br_if %c1, ^bb1, ^bb9
  ^bb1:
    br_if %c0, ^bb9, ^bb2
  ^bb2:
    br_table %c5 [^bb9, ^bb9], default ^bb3
  ^bb3:
    %e = twasm.i32.eqz %x
    br_if %e, ^bb4, ^bb5
  ^bb4:
    %r4 = twasm.i32.const 4
    return %r4 : i32
  ^bb5:
    %r5 = twasm.i32.const 5
    return %r5 : i32
  ^bb9:
    unreachable
  }

  // CHECK-LABEL: func @same_targets(%arg0: i32, %arg1: i32) -> i32
  // CHECK-NEXT:    return %arg1 : i32
  func @same_targets(%x: i32, %y: i32) -> i32 {
    br_table %x [^bb1(%y : i32), ^bb1(%y : i32)], default ^bb1(%y : i32)
  ^bb1(%v: i32):
    return %v : i32
  }

  // Blocks that only branch on in a circle are an endless loop (from
  // `(loop (br 0))` and its kin, as in the spec suite's loop.wast): a
  // branch into the circle is not redirected round it (canonicalization
  // used to do so forever); the circle shrinks to one block.
  // CHECK-LABEL: func @endless_loop_of_empty_blocks()
  // CHECK-NEXT:    br ^[[LOOP:bb[0-9]+]]
  // CHECK-NEXT:  ^[[LOOP]]:
  // CHECK-NEXT:    br ^[[LOOP]]
  func @endless_loop_of_empty_blocks() {
    %c = twasm.i32.const 0
    br ^bb1
  ^bb1:
    br ^bb2
  ^bb2:
    br ^bb1
  }
}
