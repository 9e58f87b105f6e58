;; Kernels for the runtime API's and the tenancy tests (RuntimeApiTest.cpp,
;; TenancyTest.cpp), compiled by the build: one that computes, one that traps
;; in a known thread, two that never end (one storing to memory, one touching
;; none), and one that reads and writes wherever it is told.
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

  ;; Never ends and touches no memory (only its epoch checks read the
  ;; control word): an endless kernel that keeps its SMs busy without any
  ;; traffic to the memory system.
  (func (export "idle") (param $seed i32)
    (loop $forever
      (local.set $seed (i32.add (i32.mul (local.get $seed) (i32.const 1103515245))
                                (i32.const 12345)))
      (br $forever)))

  ;; Each thread adds 1 to the i32 at $base + (its global index) * $stride,
  ;; wrapping at 4 GiB: with a large stride, accesses all over the 32-bit
  ;; address space, nearly all of them out of bounds.
  (func (export "poke") (param $base i32) (param $stride i32)
    (local $address i32)
    (local.set $address
      (i32.add (local.get $base) (i32.mul (call $global) (local.get $stride))))
    (i32.store (local.get $address)
      (i32.add (i32.load (local.get $address)) (i32.const 1))))

  (@custom "twasm.kernels" "scale\00store_out_of_bounds\00spin\00idle\00poke\00"))
