;; twasm-version-functions: in a loop-free function, the addresses of the
;; accesses are computed at the end of the entry block, tested there (one
;; 32-bit compare each, one alignment test per access size), and a copy of
;; the rest of the function with those accesses unchecked runs when all pass.
;; RUN: twasm-opt %s --pass-pipeline='builtin.module(twasm.module(twasm.func(twasm-version-functions)))' | FileCheck %s

(module
  (import "twasm" "thread_id_x" (func $tid (result i32)))
  (import "twasm" "barrier" (func $barrier))
  (import "twasm" "shfl_down_i32" (func $shfl (param i32 i32) (result i32)))
  (memory 1)

  ;; if (i < n) out[i] = in[i] + in[i + 1], i the thread index.
  (func (export "guarded") (param $n i32) (param $in i32) (param $out i32)
    (local $i i32) (local $p i32)
    (local.set $i (call $tid))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $p (i32.add (local.get $in)
                               (i32.shl (local.get $i) (i32.const 2))))
        (call $barrier)
        (i32.store
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (i32.add (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))))))

  ;; A division can trap: an address computed through one is not hoisted.
  (func (export "divided") (param $n i32) (param $in i32)
    (if (local.get $n)
      (then (drop (i32.load (i32.div_u (local.get $in) (local.get $n)))))))

  ;; A warp operation: lanes in two copies would meet at two instructions.
  (func (export "warp") (param $in i32)
    (if (call $tid)
      (then (drop (call $shfl (i32.load (local.get $in)) (i32.const 1))))))

  ;; A loop: left to twasm-version-loops.
  (func (export "looping") (param $in i32) (param $n i32)
    (local $i i32)
    (if (local.get $n)
      (then
        (loop $next
          (drop (i32.load (local.get $in)))
          (br_if $next
            (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                      (local.get $n))))))))

;; CHECK-LABEL: func @guarded(
;; CHECK:         %[[I:.+]] = call @{{.+}}() : () -> i32
;; The count of addresses where an access of 4 (then 8) bytes fits.
;; CHECK:         %[[SIZE:.+]] = twasm.memory.size
;; CHECK:         %[[P:.+]] = twasm.i32.add %arg1,
;; CHECK:         twasm.i64.sub
;; CHECK:         %[[COUNT4:.+]] = twasm.i32.wrap_i64
;; CHECK:         twasm.i32.lt_u %[[P]], %[[COUNT4]]
;; CHECK:         %[[COUNT8:.+]] = twasm.i32.wrap_i64
;; CHECK:         twasm.i32.lt_u %[[P]], %[[COUNT8]]
;; CHECK:         twasm.i32.or
;; CHECK:         twasm.i32.const 3
;; CHECK:         twasm.i32.eqz
;; CHECK:         br_if %{{.+}}, ^[[FAST:bb[0-9]+]], ^[[SLOW:bb[0-9]+]]
;; The original, checked.
;; CHECK:       ^[[SLOW]]:
;; CHECK:         twasm.i32.load %{{.+}}{{$}}
;; CHECK:         twasm.i32.load %{{.+}} offset = 4{{$}}
;; CHECK:         twasm.i32.store %{{.+}}, %{{.+}}{{$}}
;; The copy: the same code, unchecked.
;; CHECK:       ^[[FAST]]:
;; CHECK:         twasm.i32.load %{{.+}} in_bounds aligned
;; CHECK:         twasm.i32.load %{{.+}} offset = 4 in_bounds aligned
;; CHECK:         twasm.i32.store %{{.+}}, %{{.+}} in_bounds aligned

;; CHECK-LABEL: func @divided(
;; CHECK-NOT:     in_bounds
;; CHECK-LABEL: func @warp(
;; CHECK-NOT:     in_bounds
;; CHECK-LABEL: func @looping(
;; CHECK-NOT:     in_bounds
;; CHECK:         return
