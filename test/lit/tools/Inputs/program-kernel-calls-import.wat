;; A kernel that calls a host function: only host code may (a GPU compile
;; refuses it); on the CPU the kernel's thread traps instead of running it.
(module
  (import "twasm_host" "launch" (func $launch
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "twasm_host" "synchronize" (func $synchronize (result i32)))
  (import "twasm_host" "log" (func $log (param i32 i32)))
  (memory 1)
  (data (i32.const 0) "sneaky")
  (@custom "twasm.kernels" "sneaky\00")
  (func (export "sneaky") (call $log (i32.const 0) (i32.const 6)))
  (func (export "run") (result i32 i32)
    (call $launch (i32.const 0) (i32.const 6) (i32.const 1) (i32.const 1)
      (i32.const 1) (i32.const 4) (i32.const 1) (i32.const 1) (i32.const 0)
      (i32.const 64) (i32.const 0))
    (call $synchronize)))
