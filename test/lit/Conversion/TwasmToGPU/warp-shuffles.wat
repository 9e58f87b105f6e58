;; Warp shuffles (docs/kernel-abi.md section 3). Every shuffle takes a ballot
;; of the warp's live lanes and returns the caller's own value unless its
;; source lane exists and is live. Up or down by a constant distance uses the
;; hardware's shuffle of that kind and tests the source with one shift of the
;; live mask against this lane's bit; any other shuffle computes the source
;; lane and shuffles by index.
;; RUN: twasm-opt %s --twasm-kernel=k --convert-twasm-to-gpu | FileCheck %s

(module
  (import "twasm" "shfl_down_f32" (func $down (param f32 i32) (result f32)))
  (import "twasm" "shfl_up_i32" (func $up (param i32 i32) (result i32)))
  (import "twasm" "shfl_xor_i32" (func $xor (param i32 i32) (result i32)))
  (memory 1)
  (func (export "k") (param $v f32) (param $n i32) (param $d i32)
    (f32.store (i32.const 0) (call $down (local.get $v) (i32.const 8)))
    (i32.store (i32.const 4) (call $up (local.get $n) (i32.const 3)))
    (i32.store (i32.const 8) (call $up_by (local.get $n) (local.get $d)))
    (i32.store (i32.const 12) (call $xor (local.get $n) (i32.const 1)))
    (i32.store (i32.const 16) (call $up (local.get $n) (i32.const 32))))
  (func $up_by (param $n i32) (param $d i32) (result i32)
    (call $up (local.get $n) (local.get $d))))

;; CHECK-LABEL: llvm.func internal @wasm_k
;; Down by 8: the source of lane k is lane k + 8, live iff bit k of live >> 8.
;; CHECK:         %[[LIVE:.+]] = nvvm.vote.sync ballot %{{.+}}, %{{.+}} -> i32
;; CHECK:         %[[EIGHT:.+]] = llvm.mlir.constant(8 : i32) : i32
;; CHECK:         %[[SOURCES:.+]] = llvm.lshr %[[LIVE]], %[[EIGHT]] : i32
;; CHECK:         %[[OWN:.+]] = nvvm.read.ptx.sreg.lanemask.eq : i32
;; CHECK:         %[[HAS:.+]] = llvm.and %[[SOURCES]], %[[OWN]] : i32
;; CHECK:         %[[VALID:.+]] = llvm.icmp "ne" %[[HAS]], %{{.+}} : i32
;; CHECK:         %[[LAST:.+]] = llvm.mlir.constant(31 : i32) : i32
;; CHECK:         %[[GOT:.+]] = nvvm.shfl.sync down %{{.+}}, %arg5, %[[EIGHT]], %[[LAST]] : f32 -> f32
;; CHECK:         llvm.select %[[VALID]], %[[GOT]], %arg5 : i1, f32
;; Up by 3: live << 3, and the clamp is lane 0.
;; CHECK:         nvvm.vote.sync ballot
;; CHECK:         %[[THREE:.+]] = llvm.mlir.constant(3 : i32) : i32
;; CHECK:         llvm.shl %{{.+}}, %[[THREE]] : i32
;; CHECK:         llvm.icmp "ne"
;; CHECK-NEXT:    %[[FIRST:.+]] = llvm.mlir.constant(0 : i32) : i32
;; CHECK:         nvvm.shfl.sync up %{{.+}}, %arg6, %[[THREE]], %[[FIRST]] : i32 -> i32
;; Xor by a constant: by index.
;; CHECK:         nvvm.vote.sync ballot
;; CHECK:         nvvm.read.ptx.sreg.laneid
;; CHECK:         llvm.xor
;; CHECK:         nvvm.shfl.sync idx
;; Up by 32 or more has no source in the warp: the general path, whose range
;; test gives the caller's own value.
;; CHECK:         nvvm.vote.sync ballot
;; CHECK:         nvvm.read.ptx.sreg.laneid
;; CHECK:         llvm.sub
;; CHECK:         nvvm.shfl.sync idx
;; CHECK:         llvm.return

;; A distance that is not a constant: by index, after computing the source.
;; CHECK-LABEL: llvm.func internal @wasm_up_by
;; CHECK:         nvvm.vote.sync ballot
;; CHECK:         nvvm.read.ptx.sreg.laneid
;; CHECK:         llvm.sub
;; CHECK:         llvm.icmp "ult"
;; CHECK:         nvvm.shfl.sync idx
;; CHECK-NOT:     nvvm.shfl.sync up
;; CHECK:         llvm.return
