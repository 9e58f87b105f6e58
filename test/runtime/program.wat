;; A program that launches its own kernels through twasm_host
;; (docs/kernel-abi.md section 9): for test/unit/ProgramTest.cpp (on the
;; CPU, the mock GPU and a real one) and twasm-run-program-host.test.
(module
  (import "twasm_host" "launch" (func $launch
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "twasm_host" "synchronize" (func $synchronize (result i32)))
  (import "twasm_host" "device_kind" (func $device_kind (result i32)))
  (import "twasm_host" "time_ns" (func $time_ns (result i64)))
  (import "twasm_host" "log" (func $log (param i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "twasm" "thread_id_x" (func $thread_id_x (result i32)))
  (import "twasm" "block_id_x" (func $block_id_x (result i32)))
  (import "twasm" "block_dim_x" (func $block_dim_x (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "fill")
  (data (i32.const 8) "boom")
  (data (i32.const 16) "nope")
  (data (i32.const 24) "a line to log")
  (data (i32.const 40) "copy_global")
  (global $shared (export "shared") (mut i32) (i32.const 0))
  (@custom "twasm.kernels" "fill\00boom\00copy_global\00")

  ;; fill(n): memory[1024 + 4*i] = 3*i for every thread i < n.
  (func $fill (export "fill") (param $n i32)
    (local $i i32)
    (local.set $i (i32.add (call $thread_id_x)
      (i32.mul (call $block_id_x) (call $block_dim_x))))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then (i32.store offset=1024 (i32.shl (local.get $i) (i32.const 2))
                       (i32.mul (local.get $i) (i32.const 3))))))
  (func $boom (export "boom") unreachable)
  ;; copy_global(): memory[2048] = the global $shared, as the kernel sees it.
  (func $copy_global (export "copy_global")
    (i32.store (i32.const 2048) (global.get $shared)))

  ;; Sets $shared in host code, launches copy_global: (launch status,
  ;; synchronize status, what the kernel read).
  (func (export "share_global") (param $value i32) (result i32 i32 i32)
    (global.set $shared (local.get $value))
    (call $launch (i32.const 40) (i32.const 11) (i32.const 1) (i32.const 1)
      (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0)
      (i32.const 256) (i32.const 0))
    (call $synchronize)
    (i32.load (i32.const 2048)))

  ;; Grows memory by 3 pages in host code, then fills its last page's
  ;; first n elements through a kernel: (old size in pages, synchronize
  ;; status, the last element written).
  (func (export "grow_and_fill") (param $n i32) (result i32 i32 i32)
    (local $old i32)
    (local.set $old (memory.grow (i32.const 3)))
    (i64.store (i32.const 256) (i64.extend_i32_u (local.get $n)))
    (drop (call $launch (i32.const 0) (i32.const 4)
      (i32.div_u (i32.add (local.get $n) (i32.const 63)) (i32.const 64))
      (i32.const 1) (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 1)
      (i32.const 0) (i32.const 256) (i32.const 1)))
    (local.get $old)
    (call $synchronize)
    (i32.load offset=1020 (i32.shl (local.get $n) (i32.const 2))))

  ;; Launches fill over n threads: (launch status, synchronize status, the
  ;; last element).
  (func (export "launch_fill") (param $n i32) (result i32 i32 i32)
    (i64.store (i32.const 256) (i64.extend_i32_u (local.get $n)))
    (call $launch (i32.const 0) (i32.const 4)
      (i32.div_u (i32.add (local.get $n) (i32.const 63)) (i32.const 64))
      (i32.const 1) (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 1)
      (i32.const 0) (i32.const 256) (i32.const 1))
    (call $synchronize)
    (i32.load offset=1020 (i32.shl (local.get $n) (i32.const 2))))

  ;; A kernel that traps: launched (0), and synchronize reports its trap
  ;; (1, unreachable); a second synchronize reports nothing (0).
  (func (export "launch_boom") (result i32 i32 i32)
    (call $launch (i32.const 8) (i32.const 4) (i32.const 1) (i32.const 1)
      (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0)
      (i32.const 256) (i32.const 0))
    (call $synchronize)
    (call $synchronize))

  ;; What launch says when nothing can run: no such kernel (-1), a wrong
  ;; argument count (-2), a block the GPU would refuse (-3), a name outside
  ;; memory (-4).
  (func (export "launch_errors") (result i32 i32 i32 i32)
    (call $launch (i32.const 16) (i32.const 4) (i32.const 1) (i32.const 1)
      (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0)
      (i32.const 256) (i32.const 0))
    (call $launch (i32.const 0) (i32.const 4) (i32.const 1) (i32.const 1)
      (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0)
      (i32.const 256) (i32.const 2))
    (call $launch (i32.const 0) (i32.const 4) (i32.const 1) (i32.const 1)
      (i32.const 1) (i32.const 2048) (i32.const 1) (i32.const 1) (i32.const 0)
      (i32.const 256) (i32.const 1))
    (call $launch (i32.const 65534) (i32.const 4) (i32.const 1) (i32.const 1)
      (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0)
      (i32.const 256) (i32.const 1)))

  (func (export "device") (result i32) (call $device_kind))
  (func (export "clock_moves") (result i32)
    (local $first i64)
    (local.set $first (call $time_ns))
    (i64.ge_u (call $time_ns) (local.get $first)))
  (func (export "log_line") (call $log (i32.const 24) (i32.const 13)))

  ;; fd_write's errors: iovecs outside memory (21, FAULT), a descriptor
  ;; other than 1 and 2 (8, BADF); nothing is written.
  (func (export "write_errors") (result i32 i32)
    (call $fd_write (i32.const 1) (i32.const 65530) (i32.const 1)
      (i32.const 512))
    (call $fd_write (i32.const 7) (i32.const 256) (i32.const 1)
      (i32.const 512))))
