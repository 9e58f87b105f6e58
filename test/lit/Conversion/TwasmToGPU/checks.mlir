// RUN: twasm-opt %s --split-input-file --convert-twasm-to-gpu | FileCheck %s

// The out-of-line trap function elects the first trapping thread with a
// compare-and-swap on the claim word, 4 bytes after the control word in
// device memory, not on the record (host memory on the runtime's GPU
// device); the winner writes the whole record, the code included; every
// trapping thread raises the control word (code 2, trapped).
// CHECK-LABEL: llvm.func internal @__twasm_record_trap(%arg0: !llvm.ptr<1>, %arg1: !llvm.ptr<1>
// CHECK:         %[[FOUR:.+]] = llvm.mlir.constant(4 : i64) : i64
// CHECK:         %[[CLAIM:.+]] = llvm.getelementptr %arg1[%[[FOUR]]]
// CHECK:         %[[SWAP:.+]] = llvm.cmpxchg %[[CLAIM]], %{{.+}}, %{{.+}} monotonic monotonic
// CHECK:         %[[WON:.+]] = llvm.extractvalue %[[SWAP]][1]
// CHECK:         llvm.cond_br %[[WON]], ^[[WRITE:bb[0-9]+]], ^[[RAISE:bb[0-9]+]]
// CHECK:       ^[[WRITE]]:
// CHECK:         %[[CODEFIELD:.+]] = llvm.getelementptr %arg0[%{{.+}}]
// CHECK-NEXT:    llvm.store %arg2, %[[CODEFIELD]]
// CHECK:       ^[[RAISE]]:
// CHECK:         %[[TRAPPED:.+]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT:    llvm.store volatile %[[TRAPPED]], %arg1

// A load: one branch on "aligned and in bounds" to the plain access; the
// rest goes to a cold path that traps (code 2, out of bounds) with the record
// and an in-place exit, or else reads the misaligned bytes. The bounds test
// is one 32-bit compare with the count of addresses where 4 bytes fit,
// memory_size - 3 clamped to [0, 2^32 - 1], computed at the function's entry.
// CHECK-LABEL: llvm.func internal @wasm_load
// CHECK:         %[[EXTENT:.+]] = llvm.mlir.constant(3 : i64) : i64
// CHECK:         %[[COUNT:.+]] = llvm.sub %arg1, %[[EXTENT]] : i64
// CHECK:         %[[LOW0:.+]] = llvm.intr.smax(%[[COUNT]], %{{.+}}) : (i64, i64) -> i64
// CHECK:         %[[CLAMPED:.+]] = llvm.intr.umin(%[[LOW0]], %{{.+}}) : (i64, i64) -> i64
// CHECK:         %[[COUNT32:.+]] = llvm.trunc %[[CLAMPED]] : i64 to i32
// CHECK:         %[[FITS:.+]] = llvm.icmp "ult" %arg5, %[[COUNT32]] : i32
// CHECK:         %[[LOW:.+]] = llvm.and %arg5, %{{.+}} : i32
// CHECK:         %[[ALIGNED:.+]] = llvm.icmp "eq" %[[LOW]], %{{.+}} : i32
// CHECK:         %[[FAST:.+]] = llvm.and %[[ALIGNED]], %[[FITS]] : i1
// CHECK:         llvm.cond_br %[[FAST]] weights([1048576, 1]), ^[[PLAIN:bb[0-9]+]], ^[[SLOW:bb[0-9]+]]
// CHECK:       ^[[PLAIN]]:
// CHECK-NEXT:    llvm.load %{{.+}} {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// CHECK:       ^[[SLOW]]:
// CHECK-NEXT:    llvm.cond_br %[[FITS]] weights([1048576, 1]), ^[[BYTES:bb[0-9]+]], ^[[TRAP:bb[0-9]+]]
// CHECK:       ^[[TRAP]]:
// CHECK:         %[[CODE:.+]] = llvm.mlir.constant(2 : i32) : i32
// CHECK:         llvm.call @__twasm_record_trap(%arg2, %arg3, %[[CODE]],
// CHECK-NEXT:    llvm.inline_asm has_side_effects "exit;", ""
// CHECK-NEXT:    llvm.br ^[[BYTES]]
// CHECK:       ^[[BYTES]]:
// CHECK-NEXT:    llvm.load volatile %{{.+}} {alignment = 1 : i64}
twasm.module {
  memory @m min 1
  func @load(%p: i32) -> f32 {
    %0 = twasm.f32.load %p
    return %0 : f32
  }
  func @k(%p: i32) {
    %0 = twasm.call @load(%p) : (i32) -> f32
    return
  }
  export "k" func @k
  kernel "k"
}

// -----

// An access marked in_bounds keeps its alignment test (a misaligned access
// is legal Wasm, and a fault on the GPU) but has no bounds check: no limit
// from the memory size, no compare of the address with it.
// CHECK-LABEL: llvm.func internal @wasm_in_bounds_store
// CHECK-NOT:     llvm.sub %arg1
// CHECK-NOT:     llvm.icmp "ult"
// CHECK:         llvm.icmp "eq"
// CHECK-NOT:     llvm.icmp "ult"
// CHECK:         llvm.store %{{.+}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// CHECK-NOT:     @__twasm_record_trap
// CHECK:         llvm.return
twasm.module {
  memory @m min 1
  func @in_bounds_store(%p: i32) {
    twasm.i32.store %p, %p in_bounds
    return
  }
  export "in_bounds_store" func @in_bounds_store
  kernel "in_bounds_store"
}

// -----

// Division by zero traps with code 3 before the division; i32.div_s also
// traps with code 4 on INT32_MIN / -1.
// CHECK-LABEL: llvm.func internal @wasm_division
// CHECK:         %[[NONZERO:.+]] = llvm.icmp "ne" %arg6, %{{.+}} : i32
// CHECK:         llvm.cond_br %[[NONZERO]] weights([1048576, 1]), ^[[OK:bb[0-9]+]], ^[[TRAP:bb[0-9]+]]
// CHECK:       ^[[TRAP]]:
// CHECK:         llvm.mlir.constant(3 : i32)
// CHECK:         llvm.call @__twasm_record_trap
// CHECK:       ^[[OK]]:
// CHECK:         llvm.mlir.constant(4 : i32)
// CHECK:         llvm.call @__twasm_record_trap
// CHECK:         llvm.sdiv %arg5, %arg6 : i32
twasm.module {
  memory @m min 1
  func @division(%a: i32, %b: i32) {
    %q = twasm.i32.div_s %a, %b
    twasm.i32.store %a, %q
    return
  }
  export "division" func @division
  kernel "division"
}

// -----

// A computed NaN is made canonical where its bits become visible (the
// store); a loaded value is stored unchanged, payload and all. A store of
// 32 bits takes its value's bits through an integer move (the driver's
// compiler must not see a float register stored narrower than it is).
// CHECK-LABEL: llvm.func internal @wasm_nan
// CHECK:         %[[SUM:.+]] = llvm.fadd %{{.+}}, %{{.+}} : f32
// CHECK:         %[[CANONICAL:.+]] = llvm.mlir.constant(0x7FC00000 : f32) : f32
// CHECK:         %[[ISNAN:.+]] = llvm.fcmp "uno" %[[SUM]], %[[SUM]] : f32
// CHECK:         %[[SAFE:.+]] = llvm.select %[[ISNAN]], %[[CANONICAL]], %[[SUM]] : i1, f32
// CHECK:         %[[SAFEBITS:.+]] = llvm.bitcast %[[SAFE]] : f32 to i32
// CHECK:         %[[MOVED:.+]] = llvm.inline_asm "mov.b32 $0, $1;", "=r,r" %[[SAFEBITS]]
// CHECK:         llvm.store %[[MOVED]], %{{.+}} {alignment = 4 : i64} : i32
// CHECK-NOT:     llvm.fcmp "uno"
// CHECK:         llvm.store %{{.+}}, %{{.+}} {alignment = 4 : i64} : i32
// CHECK:         llvm.return
twasm.module {
  memory @m min 1
  func @nan(%p: i32, %q: i32) {
    %0 = twasm.f32.load %p in_bounds
    %1 = twasm.f32.add %0, %0
    twasm.f32.store %q, %1 in_bounds
    twasm.f32.store %p, %0 in_bounds
    return
  }
  export "nan" func @nan
  kernel "nan"
}

// -----

// A loop with a constant trip count has no interruption check; one with a
// bound known only at run time counts down at its latch and, every 64
// iterations, reads the control word and stops with code 11 if it is set.
// CHECK-LABEL: llvm.func internal @wasm_loops
// CHECK:         %[[COUNTER:.+]] = llvm.alloca
// CHECK:         llvm.cond_br %{{.+}}, ^bb1(%{{.+}} : i32), ^bb2(%{{.+}} : i32) {twasm.bounded_loop}
// CHECK:       ^bb2(%{{.+}}: i32):
// CHECK:         %[[COUNT:.+]] = llvm.load %[[COUNTER]]
// CHECK:         %[[NEXT:.+]] = llvm.sub %[[COUNT]]
// CHECK:         llvm.cond_br %{{.+}} weights([1, 64]), ^[[CHECK:bb[0-9]+]], ^[[REST:bb[0-9]+]]
// CHECK:       ^[[CHECK]]:
// CHECK:         %[[WORD:.+]] = llvm.load volatile %arg3
// CHECK:         llvm.mlir.constant(11 : i32)
// CHECK:         llvm.call @__twasm_record_trap
// CHECK:       ^[[REST]]:
// CHECK-NEXT:    llvm.cond_br %{{.+}}, ^bb2(%{{.+}} : i32), ^{{bb[0-9]+}}
// CHECK-NOT:     twasm.bounded_loop
twasm.module {
  memory @m min 1
  func @loops(%n: i32) {
    %zero = twasm.i32.const 0
    %one = twasm.i32.const 1
    %ten = twasm.i32.const 10
    br ^bb1(%zero : i32)
  ^bb1(%i: i32):
    %next = twasm.i32.add %i, %one
    %more = twasm.i32.lt_u %next, %ten
    br_if %more, ^bb1(%next : i32), ^bb2(%zero : i32)
  ^bb2(%j: i32):
    %jn = twasm.i32.add %j, %one
    %again = twasm.i32.lt_u %jn, %n
    br_if %again, ^bb2(%jn : i32), ^bb3
  ^bb3:
    return
  }
  export "loops" func @loops
  kernel "loops"
}

// -----

// The kernel entry: the five hidden parameters (memory base and size, trap
// record, control word, globals) then the Wasm parameters; a declared launch
// shape becomes the block size the code is specialised for, and asks for as
// many resident blocks as an SM holds (2048 threads / 128).
// CHECK-LABEL: gpu.module @twasm_kernels
// CHECK:       gpu.func @entry(%arg0: !llvm.ptr<1>, %arg1: i64, %arg2: !llvm.ptr<1>, %arg3: !llvm.ptr<1>, %arg4: !llvm.ptr<1>, %arg5: i32, %arg6: f32) kernel
// CHECK-SAME:    known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME:    nvvm.minctasm = 16 : i32
// CHECK-SAME:    twasm.export = "entry"
// CHECK-NEXT:    llvm.call @wasm_entry(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6)
// CHECK-NEXT:    gpu.return
twasm.module {
  memory @m min 1
  func @entry(%n: i32, %a: f32) {
    return
  }
  export "entry" func @entry
  kernel "entry" block [128, 1, 1] shared 0
}

// -----

// A 1-byte access at offset 0 could fit at 2^32 addresses in a 4 GiB memory,
// a count 32 bits cannot hold: it tests "size > 0 and address <= size - 1"
// instead, both halves exact.
// CHECK-LABEL: llvm.func internal @wasm_byte
// CHECK:         %[[SOME:.+]] = llvm.icmp "ugt" %arg1, %{{.+}} : i64
// CHECK:         %[[LAST:.+]] = llvm.trunc %{{.+}} : i64 to i32
// CHECK:         %[[BELOW:.+]] = llvm.icmp "ule" %arg5, %[[LAST]] : i32
// CHECK:         llvm.and %[[SOME]], %[[BELOW]] : i1
twasm.module {
  memory @m min 1
  func @byte(%p: i32) {
    %0 = twasm.i32.load8_u %p
    twasm.i32.store %p, %0 in_bounds
    return
  }
  export "byte" func @byte
  kernel "byte"
}
