// RUN: twasm-opt %s --split-input-file --allow-unregistered-dialect --pass-pipeline='builtin.module(twasm.module(twasm.func(twasm-promote-locals)))' --verify-diagnostics | FileCheck %s

// A read before any write sees the zero (or null) a Wasm local starts with;
// an unused slot disappears.
// CHECK-LABEL: func @defaults
// CHECK-DAG:     %[[I:.+]] = twasm.i64.const 0
// CHECK-DAG:     %[[F:.+]] = twasm.f64.const 0.000000e+00
// CHECK-DAG:     %[[R:.+]] = twasm.ref.null : !twasm.funcref
// CHECK-NOT:     local
// CHECK:         return %[[I]], %[[F]], %[[R]]
twasm.module {
  func @defaults() -> (i64, f64, !twasm.funcref) {
    %a = local : !twasm.local<i64>
    %b = local : !twasm.local<f64>
    %c = local : !twasm.local<!twasm.funcref>
    %unused = local : !twasm.local<i32>
    %0 = twasm.local.get %a : !twasm.local<i64>
    %1 = twasm.local.get %b : !twasm.local<f64>
    %2 = twasm.local.get %c : !twasm.local<!twasm.funcref>
    return %0, %1, %2 : i64, f64, !twasm.funcref
  }
}

// -----

// A local written in a loop becomes an argument of the loop header.
// CHECK-LABEL: func @loop(%arg0: i32) -> i32
// CHECK:         %[[ZERO:.+]] = twasm.i32.const 0
// CHECK:         br ^[[HEAD:bb[0-9]+]](%[[ZERO]] : i32)
// CHECK:       ^[[HEAD]](%[[ACC:.+]]: i32):
// CHECK:         %[[NEXT:.+]] = twasm.i32.add %[[ACC]], %arg0
// CHECK:         br_if %{{.+}}, ^[[HEAD]](%[[NEXT]] : i32), ^[[EXIT:bb[0-9]+]]
// CHECK:       ^[[EXIT]]:
// CHECK-NEXT:    return %[[NEXT]] : i32
twasm.module {
  func @loop(%n: i32) -> i32 {
    %acc = local : !twasm.local<i32>
    br ^head
  ^head:
    %0 = twasm.local.get %acc : !twasm.local<i32>
    %1 = twasm.i32.add %0, %n
    twasm.local.set %acc, %1 : !twasm.local<i32>
    %2 = twasm.i32.lt_u %1, %n
    br_if %2, ^head, ^exit
  ^exit:
    %3 = twasm.local.get %acc : !twasm.local<i32>
    return %3 : i32
  }
}

// -----

// A slot that something other than local.get/local.set uses cannot become
// SSA values; the pass says so instead of leaving it silently.
twasm.module {
  func @escapes() {
    // expected-error @+1 {{could not be promoted to SSA values}}
    %s = local : !twasm.local<i32>
    "test.use"(%s) : (!twasm.local<i32>) -> ()
    return
  }
}
