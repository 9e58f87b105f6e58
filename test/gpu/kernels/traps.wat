;; Kernels that trap on purpose, one per trap kind, for test/gpu: each traps
;; only in the thread whose global index is $victim (the first parameter), so
;; the test knows which block and thread the trap record must name. "spin"
;; never ends on its own; "fill" is the healthy launch that must work after
;; each of the others. "warp_leftovers" is not a trap: it checks that warp
;; operations leave out lanes that have finished (docs/kernel-abi.md §3).
(module
  (type $to_i32 (func (result i32)))
  (import "twasm" "thread_id_x" (func $thread_id (result i32)))
  (import "twasm" "block_id_x" (func $block_id (result i32)))
  (import "twasm" "block_dim_x" (func $block_dim (result i32)))
  (import "twasm" "shfl_down_i32" (func $shfl_down (param i32 i32) (result i32)))
  (import "twasm" "shfl_up_i32" (func $shfl_up (param i32 i32) (result i32)))
  (import "twasm" "ballot" (func $ballot (param i32) (result i32)))
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
  ;; A counted loop that stores i at start + 4 i for i < count: compiled in
  ;; two copies (twasm-version-loops), the unchecked one taken only when the
  ;; whole range fits, so a range running past the end must still trap at
  ;; the first store outside, after the stores before it.
  (func (export "loop_fill") (param $victim i32) (param $start i32)
    (param $count i32)
    (local $i i32)
    (if (call $is_victim (local.get $victim))
      (then
        (loop $next
          (i32.store
            (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 2)))
            (local.get $i))
          (br_if $next
            (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                      (local.get $count)))))))

  ;; The odd lanes of every warp finish at once; each even lane writes five
  ;; words at out + 20 * its global index: its value (the global index)
  ;; shuffled down by 2 and by 1 with constant distances, up by 2, down by
  ;; $delta (not a constant), and the ballot of the live lanes.
  (func (export "warp_leftovers") (param $out i32) (param $delta i32)
    (local $index i32) (local $slot i32)
    (local.set $index
      (i32.add (i32.mul (call $block_id) (call $block_dim)) (call $thread_id)))
    (if (i32.and (call $thread_id) (i32.const 1)) (then (return)))
    (local.set $slot
      (i32.add (local.get $out) (i32.mul (local.get $index) (i32.const 20))))
    (i32.store (local.get $slot)
      (call $shfl_down (local.get $index) (i32.const 2)))
    (i32.store offset=4 (local.get $slot)
      (call $shfl_down (local.get $index) (i32.const 1)))
    (i32.store offset=8 (local.get $slot)
      (call $shfl_up (local.get $index) (i32.const 2)))
    (i32.store offset=12 (local.get $slot)
      (call $shfl_down (local.get $index) (local.get $delta)))
    (i32.store offset=16 (local.get $slot) (call $ballot (i32.const 1))))

  (func (export "fill") (param $out i32) (param $value i32)
    (i32.store
      (i32.add (local.get $out)
        (i32.shl
          (i32.add (i32.mul (call $block_id) (call $block_dim))
                   (call $thread_id))
          (i32.const 2)))
      (local.get $value))))
