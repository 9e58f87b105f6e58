// RUN: twasm-opt %s --convert-twasm-to-host | FileCheck %s

// Every function checks at its entry that the stack has room (code 12). Only
// a function that calls another also reads the control word there (code
// 11): a recursion passes through such a function, while one that calls
// nothing runs a bounded time apart from its loops, which check the word at
// their back-edges.
// CHECK-LABEL: llvm.func internal @wasm_leaf
// CHECK:         llvm.intr.stacksave
// CHECK:         llvm.mlir.constant(12 : i32)
// CHECK:         llvm.call @__twasm_trap
// CHECK-NOT:     llvm.load volatile
// CHECK:         llvm.return

// CHECK-LABEL: llvm.func internal @wasm_caller
// CHECK:         llvm.intr.stacksave
// CHECK:         llvm.mlir.constant(12 : i32)
// CHECK:         llvm.call @__twasm_trap
// CHECK:         %[[WORD:.+]] = llvm.load volatile %arg3
// CHECK:         llvm.mlir.constant(11 : i32)
// CHECK:         llvm.call @__twasm_trap
// CHECK:         llvm.call notail @wasm_leaf
// CHECK:         llvm.return

// A loop in a leaf reads the control word at its back-edge.
// CHECK-LABEL: llvm.func internal @wasm_spin
// CHECK:         llvm.mlir.constant(12 : i32)
// CHECK:       ^[[LOOP:bb[0-9]+]]:
// CHECK:         llvm.load volatile %arg3
// CHECK:         llvm.mlir.constant(11 : i32)
twasm.module {
  func @leaf(%x: i32) -> i32 {
    %1 = twasm.i32.add %x, %x
    return %1 : i32
  }
  func @caller(%x: i32) -> i32 {
    %1 = call @leaf(%x) : (i32) -> i32
    return %1 : i32
  }
  func @spin() {
    br ^loop
  ^loop:
    br ^loop
  }
  export "caller" func @caller
  export "spin" func @spin
}
