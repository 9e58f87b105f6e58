;; Kernels that trap on purpose, one per trap kind, for test/gpu: each traps
;; only in the thread whose global index is $victim (the first parameter), so
;; the test knows which block and thread the trap record must name. "spin"
;; never ends on its own; "fill" is the healthy launch that must work after
;; each of the others.
(module
  (type $to_i32 (func (result i32)))
  (import "twasm" "thread_id_x" (func $thread_id (result i32)))
  (import "twasm" "block_id_x" (func $block_id (result i32)))
  (import "twasm" "block_dim_x" (func $block_dim (result i32)))
  (import "twasm" "shared_load_f32" (func $shared_load (param i32) (result f32)))
  (import "twasm" "atomic_add_f32"
    (func $atomic_add_f32 (param i32 f32) (result f32)))
  (memory 1)
  ;; Entry 0 returns an i32, entry 1 an f32 (a type mismatch for $to_i32),
  ;; entries 2 and 3 are null.
  (table 4 funcref)
  (elem (i32.const 0) $seven $one)
  (func $seven (result i32) (i32.const 7))
  (func $one (result f32) (f32.const 1))

  (func $is_victim (param $victim i32) (result i32)
    (i32.eq
      (i32.add (i32.mul (call $block_id) (call $block_dim)) (call $thread_id))
      (local.get $victim)))

  (func (export "oob_load") (param $victim i32) (param $address i32)
    (if (call $is_victim (local.get $victim))
      (then (drop (i32.load (local.get $address))))))

  (func (export "oob_store") (param $victim i32) (param $address i32)
    (if (call $is_victim (local.get $victim))
      (then (i32.store offset=8 (local.get $address) (i32.const 1)))))

  (func (export "div_zero") (param $victim i32) (param $divisor i32)
    (if (call $is_victim (local.get $victim))
      (then (drop (i32.div_u (i32.const 1) (local.get $divisor))))))

  (func (export "overflow") (param $victim i32) (param $divisor i32)
    (if (call $is_victim (local.get $victim))
      (then (drop (i32.div_s (i32.const 0x80000000) (local.get $divisor))))))

  (func (export "unreachable") (param $victim i32)
    (if (call $is_victim (local.get $victim))
      (then (unreachable))))

  (func (export "bad_conversion") (param $victim i32) (param $x f32)
    (if (call $is_victim (local.get $victim))
      (then (drop (i32.trunc_f32_s (local.get $x))))))

  (func (export "table_call") (param $victim i32) (param $index i32)
    (if (call $is_victim (local.get $victim))
      (then (drop (call_indirect (type $to_i32) (local.get $index))))))

  (func (export "shared_oob") (param $victim i32) (param $index i32)
    (if (call $is_victim (local.get $victim))
      (then (drop (call $shared_load (local.get $index))))))

  ;; Atomics trap out of bounds like any access, and also when misaligned:
  ;; Wasm's atomic read-modify-write and the float-add intrinsic alike.
  (func (export "atomic_oob") (param $victim i32) (param $address i32)
    (if (call $is_victim (local.get $victim))
      (then (drop (i32.atomic.rmw.add (local.get $address) (i32.const 1))))))

  (func (export "atomic_unaligned") (param $victim i32) (param $address i32)
    (if (call $is_victim (local.get $victim))
      (then (drop (i32.atomic.rmw.add (local.get $address) (i32.const 1))))))

  (func (export "atomic_add_f32_unaligned") (param $victim i32)
    (param $address i32)
    (if (call $is_victim (local.get $victim))
      (then (drop (call $atomic_add_f32 (local.get $address) (f32.const 1))))))

  ;; Every thread loops until the control word stops it.
  (func (export "spin") (param $victim i32)
    (loop $forever (br $forever)))

  ;; out[i] = value for the launch's threads.
  (func (export "fill") (param $out i32) (param $value i32)
    (i32.store
      (i32.add (local.get $out)
        (i32.shl
          (i32.add (i32.mul (call $block_id) (call $block_dim))
                   (call $thread_id))
          (i32.const 2)))
      (local.get $value))))
