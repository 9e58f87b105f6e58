;; The launch benchmark of programs (ProgramBench.cpp): host code that
;; launches the empty kernel n times through twasm_host, each launch waited
;; for, and returns the nanoseconds it took; the benchmark launches the same
;; kernel through the C++ runtime API to compare.
(module
  (import "twasm_host" "launch" (func $launch
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "twasm_host" "synchronize" (func $synchronize (result i32)))
  (import "twasm_host" "time_ns" (func $time_ns (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "empty")
  (func (export "empty") (param $unused i32))
  (@custom "twasm.kernels" "empty\00")

  ;; n launches of empty(0), each followed by synchronize: the elapsed
  ;; nanoseconds, or -1 if one did not launch or complete.
  (func (export "launch_many") (param $n i32) (result i64)
    (local $start i64)
    (local $failed i32)
    (local.set $start (call $time_ns))
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $failed (i32.or (local.get $failed)
          (call $launch (i32.const 0) (i32.const 5) (i32.const 1)
            (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1)
            (i32.const 1) (i32.const 0) (i32.const 64) (i32.const 1))))
        (local.set $failed (i32.or (local.get $failed) (call $synchronize)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $again)))
    (if (result i64) (local.get $failed)
      (then (i64.const -1))
      (else (i64.sub (call $time_ns) (local.get $start))))))
