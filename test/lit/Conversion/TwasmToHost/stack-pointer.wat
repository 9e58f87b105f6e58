;; A kernel's threads share their instance's globals, so a kernel that moves
;; the C stack pointer (as clang's code does for an array in a local) would
;; let their frames collide: refused for the CPU as for the GPU, also when
;; the move is in a function the kernel reaches through a call or a table.
;; Host code that moves it (a program's main) compiles.
;; RUN: rm -rf %t && mkdir -p %t
;; RUN: not twasm compile %s --kernel direct --target host -o %t/direct.so 2>&1 | FileCheck %s --check-prefix=DIRECT
;; RUN: not twasm compile %s --kernel direct --target sm_90 -o %t/direct.ptx 2>&1 | FileCheck %s --check-prefix=GPU
;; RUN: not twasm compile %s --kernel through_table --target host -o %t/table.so 2>&1 | FileCheck %s --check-prefix=TABLE
;; RUN: twasm compile %s --kernel clean --target host -o %t/clean.so
;; RUN: twasm compile %s --kernel clean --target sm_90 -o %t/clean.ptx

;; DIRECT: @with_frame, which the kernel @direct can reach, moves the C stack pointer (__stack_pointer), which all its threads share
;; GPU: moves the C stack pointer (__stack_pointer), which all threads share
;; TABLE: @with_frame, which the kernel @through_table can reach, moves the C stack pointer

(module
  (type $helper (func (param i32) (result i32)))
  (memory 1)
  (global $__stack_pointer (mut i32) (i32.const 65536))
  (table 1 funcref)
  (elem (i32.const 0) $with_frame)
  (func $with_frame (type $helper) (param $n i32) (result i32)
    (local $frame i32)
    (global.set $__stack_pointer
      (local.tee $frame (i32.sub (global.get $__stack_pointer) (i32.const 16))))
    (i32.store (local.get $frame) (local.get $n))
    (global.set $__stack_pointer (i32.add (local.get $frame) (i32.const 16)))
    (i32.load (local.get $frame)))
  (func $plain (type $helper) (param $n i32) (result i32)
    (i32.add (local.get $n) (i32.const 1)))
  (func (export "direct") (param $out i32)
    (i32.store (local.get $out) (call $with_frame (i32.const 7))))
  (func (export "through_table") (param $out i32)
    (i32.store (local.get $out)
      (call_indirect (type $helper) (i32.const 3) (i32.const 0))))
  (func (export "clean") (param $out i32)
    (i32.store (local.get $out) (call $plain (i32.const 7))))
  ;; Host code: not a kernel, free to move it.
  (func (export "main") (result i32)
    (call $with_frame (i32.const 1))))
