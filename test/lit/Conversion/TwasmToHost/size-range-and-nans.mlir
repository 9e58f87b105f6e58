// RUN: twasm-opt %s --split-input-file --convert-twasm-to-host | FileCheck %s

// The memory's size in bytes, a hidden parameter of every function, carries
// the range the module's memory type allows (at least the minimum, at most
// the maximum), so LLVM can drop the clamps of the bounds checks' limits.
// An accumulator that the loop's next iteration also uses is made canonical
// only where it is stored, after the loop, not in every iteration.
// CHECK-LABEL: llvm.func internal @wasm_sum
// CHECK-SAME:    %arg1: i64 {llvm.range = #llvm.constant_range<i64, 131072, 262145>}
// CHECK:       ^[[LOOP:bb[0-9]+]](%{{.+}}: i32, %[[ACC:.+]]: f32):
// CHECK:         %[[NEXT:.+]] = llvm.fadd %[[ACC]], %{{.+}} : f32
// CHECK-NOT:     llvm.fcmp "uno"
// CHECK:         llvm.cond_br %{{.+}}, ^[[LOOP]](%{{.+}}, %[[NEXT]] : i32, f32), ^[[DONE:bb[0-9]+]]
// CHECK:       ^[[DONE]]:
// CHECK:         %[[CANONICAL:.+]] = llvm.mlir.constant(0x7FC00000 : f32) : f32
// CHECK:         %[[ISNAN:.+]] = llvm.fcmp "uno" %[[NEXT]], %[[NEXT]] : f32
// CHECK:         %[[SAFE:.+]] = llvm.select %[[ISNAN]], %[[CANONICAL]], %[[NEXT]] : i1, f32
// CHECK:         llvm.store %[[SAFE]]
twasm.module {
  memory @m min 2 max 4
  func @sum(%p: i32, %n: i32) {
    %zero = twasm.i32.const 0
    %four = twasm.i32.const 4
    %fzero = twasm.f32.const 0.0
    br ^loop(%zero, %fzero : i32, f32)
  ^loop(%i: i32, %acc: f32):
    %x = twasm.f32.load %i in_bounds
    %next = twasm.f32.add %acc, %x
    %inext = twasm.i32.add %i, %four
    %more = twasm.i32.lt_u %inext, %n
    br_if %more, ^loop(%inext, %next : i32, f32), ^done
  ^done:
    twasm.f32.store %p, %next in_bounds
    return
  }
  export "sum" func @sum
}

// -----

// Without a maximum, a 32-bit memory holds at most 65536 pages (4 GiB). A
// result used by its store alone is made canonical where it is computed.
// CHECK-LABEL: llvm.func internal @wasm_double
// CHECK-SAME:    %arg1: i64 {llvm.range = #llvm.constant_range<i64, 65536, 4294967297>}
// CHECK:         %[[SUM:.+]] = llvm.fadd %{{.+}}, %{{.+}} : f32
// CHECK-NEXT:    %[[CANONICAL:.+]] = llvm.mlir.constant(0x7FC00000 : f32) : f32
// CHECK-NEXT:    %[[ISNAN:.+]] = llvm.fcmp "uno" %[[SUM]], %[[SUM]] : f32
// CHECK-NEXT:    %[[SAFE:.+]] = llvm.select %[[ISNAN]], %[[CANONICAL]], %[[SUM]] : i1, f32
// CHECK:         llvm.store %[[SAFE]]
twasm.module {
  memory @m min 1
  func @double(%p: i32) {
    %0 = twasm.f32.load %p in_bounds
    %1 = twasm.f32.add %0, %0
    twasm.f32.store %p, %1 in_bounds
    return
  }
  export "double" func @double
}

// -----

// A module without memory has no range to state.
// CHECK-LABEL: llvm.func internal @wasm_nothing
// CHECK-SAME:    %arg1: i64,
// CHECK-NOT:     llvm.range
twasm.module {
  func @nothing() {
    return
  }
  export "nothing" func @nothing
}
