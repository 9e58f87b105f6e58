;; twasm-version-loops: a loop counted against a run-time bound gets a copy
;; whose affine accesses are unchecked, entered only when a test before the
;; loop proves them in bounds (and aligned), and run in chunks of at most 64
;; iterations without interruption checks of their own.
;; RUN: twasm-opt %s --pass-pipeline='builtin.module(twasm.module(twasm.func(twasm-version-loops)))' | FileCheck %s

(module
  (import "twasm" "barrier" (func $barrier))
  (memory 1)

  ;; for (i = 0; i < count; ++i) ((int *)start)[i] = i;
  (func (export "fill") (param $start i32) (param $count i32)
    (local $i i32)
    (loop $next
      (i32.store
        (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 2)))
        (local.get $i))
      (br_if $next
        (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                  (local.get $count)))))

  ;; The same over bytes of an i32 each: in bounds when it fits, but a step
  ;; of 1 moves an i32 access off its alignment, so no `aligned`.
  (func (export "unaligned_steps") (param $start i32) (param $count i32)
    (local $i i32)
    (loop $next
      (i32.store (i32.add (local.get $start) (local.get $i)) (local.get $i))
      (br_if $next
        (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                  (local.get $count)))))

  ;; The bound is read in the loop: not countable before it.
  (func (export "bound_in_memory") (param $start i32)
    (local $i i32)
    (loop $next
      (i32.store
        (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 2)))
        (local.get $i))
      (br_if $next
        (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                  (i32.load (i32.const 0))))))

  ;; A barrier in the body: lanes in two copies would wait at two barriers.
  (func (export "with_barrier") (param $start i32) (param $count i32)
    (local $i i32)
    (loop $next
      (call $barrier)
      (i32.store
        (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 2)))
        (local.get $i))
      (br_if $next
        (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                  (local.get $count)))))

  ;; An address that is not affine in the counter (a loaded value) keeps
  ;; its check in both copies; the load, from an address fixed before the
  ;; loop, is versioned.
  (func (export "indirect") (param $start i32) (param $count i32)
    (local $i i32)
    (loop $next
      (i32.store (i32.load (local.get $start)) (local.get $i))
      (br_if $next
        (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                  (local.get $count))))))

;; The test: the counter cannot wrap, and the greatest address, start + 4 *
;; (0 + last) + 4 with last = (count - 0 - 1) / 1, fits in memory.size
;; pages; the first address is 4-aligned.
;; CHECK-LABEL: func @fill(
;; CHECK:         br ^[[TEST:bb[0-9]+]](%{{.+}} : i32)
;; CHECK:       ^[[TEST]](%[[I0:.+]]: i32):
;; CHECK:         twasm.i32.le_u %[[I0]]
;; CHECK:         twasm.i32.le_u %arg1
;; CHECK:         %[[LAST:.+]] = twasm.i32.div_u
;; CHECK:         %[[PAGES:.+]] = twasm.memory.size
;; CHECK:         %[[BYTES:.+]] = twasm.i64.shl
;; CHECK:         twasm.i64.le_u %{{.+}}, %[[BYTES]]
;; CHECK:         twasm.i32.eqz
;; CHECK:         br_if %{{.+}}, ^[[CHUNK:bb[0-9]+]](%[[I0]] : i32), ^[[SLOW:bb[0-9]+]](%[[I0]] : i32)
;; The original loop, checks and all.
;; CHECK:       ^[[SLOW]](%[[I:.+]]: i32):
;; CHECK:         twasm.i32.store %{{.+}}, %[[I]]{{$}}
;; CHECK:         br_if %{{.+}}, ^[[SLOW]](%{{.+}} : i32), ^[[EXIT:bb[0-9]+]]
;; A chunk ends at min(count, i + 64).
;; CHECK:       ^[[CHUNK]](%[[C:.+]]: i32):
;; CHECK:         twasm.i32.const 64
;; CHECK:         %[[LIMIT:.+]] = select
;; CHECK:         br ^[[FAST:bb[0-9]+]](%[[C]], %[[LIMIT]] : i32, i32)
;; CHECK:       ^[[FAST]](%[[F:.+]]: i32, %[[L:.+]]: i32):
;; CHECK:         twasm.i32.store %{{.+}}, %[[F]] in_bounds aligned
;; CHECK:         %[[MORE:.+]] = twasm.i32.lt_u %{{.+}}, %[[L]]
;; CHECK:         br_if %[[MORE]], ^[[FAST]](%{{.+}}, %[[L]] : i32, i32), ^[[RESUME:bb[0-9]+]](%{{.+}} : i32) {twasm.bounded_loop}
;; CHECK:       ^[[RESUME]](%[[N:.+]]: i32):
;; CHECK:         twasm.i32.lt_u %[[N]], %arg1
;; CHECK:         br_if %{{.+}}, ^[[CHUNK]](%[[N]] : i32), ^[[EXIT]]

;; CHECK-LABEL: func @unaligned_steps(
;; CHECK:         twasm.i32.store %{{.+}}, %{{.+}} in_bounds{{$}}

;; CHECK-LABEL: func @bound_in_memory(
;; CHECK-NOT:     in_bounds
;; CHECK-LABEL: func @with_barrier(
;; CHECK-NOT:     in_bounds
;; CHECK-LABEL: func @indirect(
;; CHECK:         %[[FROM:.+]] = twasm.i32.load %arg0 in_bounds aligned
;; CHECK-NEXT:    twasm.i32.store %[[FROM]], %{{.+}}{{$}}
