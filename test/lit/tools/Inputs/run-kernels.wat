;; Kernels for the `twasm run` tests: integer and float arithmetic over
;; memory, arguments of every type stored as given, a trap in a chosen
;; thread, and a loop that never ends.
(module
  (import "twasm" "thread_id_x" (func $tx (result i32)))
  (import "twasm" "block_id_x" (func $bx (result i32)))
  (import "twasm" "block_dim_x" (func $dx (result i32)))
  (memory 1 4)
  (func $global (result i32)
    (i32.add (call $tx) (i32.mul (call $bx) (call $dx))))

  ;; out[i] = in[i] * factor + i, for i < n (i32 elements).
  (func (export "scale") (param $n i32) (param $factor i32) (param $in i32)
        (param $out i32)
    (local $i i32)
    (local.set $i (call $global))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (i32.store
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (i32.add
            (i32.mul
              (i32.load
                (i32.add (local.get $in) (i32.shl (local.get $i) (i32.const 2))))
              (local.get $factor))
            (local.get $i))))))

  ;; y[i] = a * x[i] + y[i], for i < n (f32 elements).
  (func (export "saxpy") (param $n i32) (param $a f32) (param $x i32)
        (param $y i32)
    (local $i i32) (local $at i32)
    (local.set $i (call $global))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $at
          (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))
        (f32.store (local.get $at)
          (f32.add
            (f32.mul (local.get $a)
              (f32.load
                (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
            (f32.load (local.get $at)))))))

  ;; Thread 0 stores its arguments at $at: i32, i64, f32, f64 (24 bytes).
  (func (export "store_args") (param $at i32) (param $a i32) (param $b i64)
        (param $c f32) (param $d f64)
    (if (i32.eqz (call $global))
      (then
        (i32.store (local.get $at) (local.get $a))
        (i64.store offset=4 (local.get $at) (local.get $b))
        (f32.store offset=12 (local.get $at) (local.get $c))
        (f64.store offset=16 (local.get $at) (local.get $d)))))

  ;; Thread $bad of the grid stores past the end of linear memory.
  (func (export "store_out_of_bounds") (param $bad i32)
    (if (i32.eq (call $global) (local.get $bad))
      (then (i32.store (i32.const -4) (i32.const 1)))))

  ;; Never ends.
  (func (export "spin") (param $counter i32)
    (loop $forever
      (i32.store (local.get $counter)
        (i32.add (i32.load (local.get $counter)) (i32.const 1)))
      (br $forever)))

  (@custom "twasm.kernels"
    "scale\00saxpy\00store_args\00store_out_of_bounds\00spin\00"))
