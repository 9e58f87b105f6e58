// Every kind of twasm op parses, verifies, and prints back the same, in the
// custom and in the generic form.
// RUN: twasm-opt %s | twasm-opt | FileCheck %s
// RUN: twasm-opt %s --mlir-print-op-generic | twasm-opt | FileCheck %s

// CHECK-LABEL: twasm.module @everything
twasm.module @everything {
  // CHECK: memory @memory min 1 max 2
  memory @memory min 1 max 2
  // CHECK: table @table : !twasm.funcref min 4 max 8 import <"env", "table">
  table @table : !twasm.funcref min 4 max 8 import <"env", "table">
  // CHECK: table @hosts : !twasm.externref min 0
  table @hosts : !twasm.externref min 0
  // CHECK: global @imported : f64 import <"env", "pi">
  global @imported : f64 import <"env", "pi">
  // CHECK: global @counter mutable : i64 {
  // CHECK:   twasm.i64.const -1
  global @counter mutable : i64 {
    %0 = twasm.i64.const -1
    yield %0 : i64
  }
  // CHECK: func @host(i32, f32) -> i64 import <"env", "host">
  func @host(i32, f32) -> i64 import <"env", "host">

  // CHECK-LABEL: func @numbers(%arg0: i32, %arg1: i64, %arg2: f32, %arg3: f64) -> (i32, f64)
  func @numbers(%a: i32, %b: i64, %c: f32, %d: f64) -> (i32, f64) {
    // CHECK: twasm.i32.const 2147483647
    %0 = twasm.i32.const 2147483647
    // CHECK: twasm.f32.const 0x7FC00001
    %1 = twasm.f32.const 0x7FC00001
    // CHECK: twasm.f64.const -0.000000e+00
    %2 = twasm.f64.const -0.0
    %3 = twasm.i32.add %a, %0
    %4 = twasm.i32.div_s %3, %a
    %5 = twasm.i32.rotl %4, %a
    %6 = twasm.i32.eqz %5
    %7 = twasm.i64.extend32_s %b
    %8 = twasm.i64.ge_u %7, %b
    %9 = twasm.f32.copysign %c, %1
    %10 = twasm.f32.nearest %9
    %11 = twasm.f32.lt %10, %c
    %12 = twasm.f64.max %d, %2
    %13 = twasm.i32.trunc_sat_f64_u %12
    %14 = twasm.i64.trunc_f32_s %c
    %15 = twasm.f64.convert_i64_u %14
    %16 = twasm.f32.demote_f64 %15
    %17 = twasm.i32.reinterpret_f32 %16
    %18 = twasm.i32.wrap_i64 %7
    // CHECK: select %{{.+}}, %{{.+}}, %{{.+}} : i32
    %19 = select %6, %17, %18 : i32
    %20 = twasm.i32.or %19, %11
    %21 = twasm.i32.and %20, %8
    %22 = twasm.i32.xor %21, %13
    return %22, %15 : i32, f64
  }

  // CHECK-LABEL: func @accesses(%arg0: i32, %arg1: i64)
  func @accesses(%addr: i32, %v: i64) {
    // CHECK: twasm.i64.load16_u %arg0 offset = 7 align = 1
    %0 = twasm.i64.load16_u %addr offset = 7 align = 1
    // CHECK: twasm.i64.store32 %arg0, %{{.+}} offset = 4294967295
    twasm.i64.store32 %addr, %0 offset = 4294967295
    // CHECK: twasm.f32.load %arg0 offset = 4 in_bounds
    %f = twasm.f32.load %addr offset = 4 in_bounds
    // CHECK: twasm.f32.store %arg0, %{{.+}} align = 2 in_bounds
    twasm.f32.store %addr, %f align = 2 in_bounds
    %1 = twasm.memory.size
    %2 = twasm.memory.grow %1
    twasm.memory.copy %addr, %1, %2
    twasm.memory.fill %addr, %1, %2
    // CHECK: twasm.memory.init @greeting, %arg0
    twasm.memory.init @greeting, %addr, %1, %2
    twasm.data.drop @greeting
    return
  }

  // CHECK-LABEL: func @tables(%arg0: i32, %arg1: !twasm.externref) -> i32
  func @tables(%i: i32, %e: !twasm.externref) -> i32 {
    %0 = twasm.table.get @table[%i] : !twasm.funcref
    twasm.table.set @table[%i], %0 : !twasm.funcref
    %1 = twasm.table.size @hosts
    %2 = twasm.table.grow @hosts, %e, %1 : !twasm.externref
    twasm.table.fill @hosts, %i, %e, %2 : !twasm.externref
    twasm.table.copy @table, @table, %i, %i, %i
    twasm.table.init @table, @handlers, %i, %i, %i
    twasm.elem.drop @handlers
    %3 = twasm.ref.null : !twasm.funcref
    %4 = twasm.ref.is_null %3 : !twasm.funcref
    %5 = twasm.ref.func @numbers
    // CHECK: %{{.+}} = call_indirect @table[%arg0](%{{.+}}, %{{.+}}) : (i32, f32) -> i64
    %f = twasm.f32.const 1.0
    %6 = call_indirect @table[%i](%4, %f) : (i32, f32) -> i64
    // CHECK: call @host(%{{.+}}, %{{.+}}) : (i32, f32) -> i64
    %7 = call @host(%4, %f) : (i32, f32) -> i64
    %8 = twasm.global.get @counter : i64
    twasm.global.set @counter, %7 : i64
    return %4 : i32
  }

  // CHECK-LABEL: func @control(%arg0: i32) -> i32
  func @control(%x: i32) -> i32 {
    // CHECK: br ^bb1(%arg0 : i32)
    br ^bb1(%x : i32)
  ^bb1(%n: i32):
    // CHECK: br_if %{{.+}}, ^bb1(%{{.+}} : i32), ^bb2
    br_if %n, ^bb1(%n : i32), ^bb2
  ^bb2:
    // CHECK: br_table %arg0 [^bb3, ^bb4(%arg0 : i32), ^bb3], default ^bb4(%arg0 : i32)
    br_table %x [^bb3, ^bb4(%x : i32), ^bb3], default ^bb4(%x : i32)
  ^bb3:
    // CHECK: unreachable
    unreachable
  ^bb4(%r: i32):
    // CHECK: br_table %{{.+}} [], default ^bb5
    br_table %r [], default ^bb5
  ^bb5:
    return %r : i32
  }

  // CHECK-LABEL: func @slots(%arg0: i32) -> i32
  func @slots(%x: i32) -> i32 {
    // CHECK: %[[S:.+]] = local : !twasm.local<i32>
    %s = local : !twasm.local<i32>
    // CHECK: twasm.local.set %[[S]], %arg0 : !twasm.local<i32>
    twasm.local.set %s, %x : !twasm.local<i32>
    // CHECK: twasm.local.get %[[S]] : !twasm.local<i32>
    %v = twasm.local.get %s : !twasm.local<i32>
    return %v : i32
  }

  // CHECK: elem @handlers : !twasm.funcref passive items {
  elem @handlers : !twasm.funcref passive items {
    %0 = twasm.ref.func @control
    %1 = twasm.ref.null : !twasm.funcref
    yield %0, %1 : !twasm.funcref, !twasm.funcref
  }
  // CHECK: elem @active : !twasm.funcref active table @table offset {
  elem @active : !twasm.funcref active table @table offset {
    %0 = twasm.i32.const 2
    yield %0 : i32
  } items {
    yield
  }
  // CHECK: data @greeting active offset {
  // CHECK: } "hello\00"
  data @greeting active offset {
    %0 = twasm.i32.const 8
    yield %0 : i32
  } "hello\00"
  // CHECK: data @lazy passive "\01\02"
  data @lazy passive "\01\02"
  // CHECK: export "numbers" func @numbers
  export "numbers" func @numbers
  // CHECK: export "memory" memory @memory
  export "memory" memory @memory
  // CHECK: export "counter" global @counter
  export "counter" global @counter
  // CHECK: export "table" table @table
  export "table" table @table
  // CHECK: export "accesses" func @accesses
  export "accesses" func @accesses
  // CHECK: kernel "accesses"
  kernel "accesses"
  // CHECK: start @start
  start @start
  func @start() {
    return
  }
}
