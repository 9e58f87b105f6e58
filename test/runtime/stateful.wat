;; A module with state in every place a snapshot keeps it, for the snapshot
;; tests (SnapshotTest.cpp): linear memory with a data segment, mutable
;; globals of the four number types, and a table of functions.
(module
  (import "twasm" "thread_id_x" (func $tx (result i32)))
  (memory 2 64)
  (global $counter (mut i32) (i32.const 7))
  (global $total (mut i64) (i64.const -5))
  (global $scale (mut f32) (f32.const 1.5))
  (global $mean (mut f64) (f64.const 0.25))
  (table 3 funcref)
  (elem (i32.const 0) $one $two)
  (data (i32.const 16) "initial data")
  (type $constant (func (result i32)))
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))

  ;; Thread 0 moves every global on, and adds the table's second function's
  ;; value to the i32 at $address; every thread t adds the counter to the
  ;; i32 at $address + 4 * (t + 1).
  (func (export "step") (param $address i32)
    (local $slot i32)
    (if (i32.eqz (call $tx))
      (then
        (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
        (global.set $total
          (i64.add (global.get $total) (i64.const 1000000000000)))
        (global.set $scale (f32.mul (global.get $scale) (f32.const 2)))
        (global.set $mean (f64.add (global.get $mean) (f64.const 0.125)))
        (i32.store (local.get $address)
          (i32.add (i32.load (local.get $address))
                   (call_indirect (type $constant) (i32.const 1))))))
    (local.set $slot
      (i32.add (local.get $address)
               (i32.shl (i32.add (call $tx) (i32.const 1)) (i32.const 2))))
    (i32.store (local.get $slot)
      (i32.add (i32.load (local.get $slot)) (global.get $counter))))

  (@custom "twasm.kernels" "step\00"))
