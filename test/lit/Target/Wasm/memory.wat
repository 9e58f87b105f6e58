;; All 23 load and store forms, with offsets and alignment, and the memory
;; and bulk-memory instructions.
;; RUN: twasm-opt %s | FileCheck %s

(module
  (memory 1 4)
  (data $bytes "\01\02\03")

  ;; The alignment is printed only where it is not the natural one.
  ;; CHECK-LABEL: func @loads(%arg0: i32)
  ;; CHECK-NEXT:    twasm.i32.load %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.load %arg0 offset = 8{{$}}
  ;; CHECK-NEXT:    twasm.f32.load %arg0 align = 2{{$}}
  ;; CHECK-NEXT:    twasm.f64.load %arg0 offset = 4294967295 align = 1{{$}}
  ;; CHECK-NEXT:    twasm.i32.load8_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.load8_u %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.load16_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i32.load16_u %arg0 align = 1{{$}}
  ;; CHECK-NEXT:    twasm.i64.load8_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.load8_u %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.load16_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.load16_u %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.load32_s %arg0{{$}}
  ;; CHECK-NEXT:    twasm.i64.load32_u %arg0 offset = 12{{$}}
  ;; CHECK-NEXT:    return
  (func $loads (param i32)
    (drop (i32.load (local.get 0)))
    (drop (i64.load offset=8 (local.get 0)))
    (drop (f32.load align=2 (local.get 0)))
    (drop (f64.load offset=4294967295 align=1 (local.get 0)))
    (drop (i32.load8_s (local.get 0)))
    (drop (i32.load8_u (local.get 0)))
    (drop (i32.load16_s (local.get 0)))
    (drop (i32.load16_u align=1 (local.get 0)))
    (drop (i64.load8_s (local.get 0)))
    (drop (i64.load8_u (local.get 0)))
    (drop (i64.load16_s (local.get 0)))
    (drop (i64.load16_u (local.get 0)))
    (drop (i64.load32_s (local.get 0)))
    (drop (i64.load32_u offset=12 (local.get 0))))

  ;; CHECK-LABEL: func @stores(%arg0: i32, %arg1: i32, %arg2: i64, %arg3: f32, %arg4: f64)
  ;; CHECK-NEXT:    twasm.i32.store %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.store %arg0, %arg2 offset = 16{{$}}
  ;; CHECK-NEXT:    twasm.f32.store %arg0, %arg3 align = 1{{$}}
  ;; CHECK-NEXT:    twasm.f64.store %arg0, %arg4{{$}}
  ;; CHECK-NEXT:    twasm.i32.store8 %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i32.store16 %arg0, %arg1{{$}}
  ;; CHECK-NEXT:    twasm.i64.store8 %arg0, %arg2{{$}}
  ;; CHECK-NEXT:    twasm.i64.store16 %arg0, %arg2 offset = 2 align = 1{{$}}
  ;; CHECK-NEXT:    twasm.i64.store32 %arg0, %arg2{{$}}
  ;; CHECK-NEXT:    return
  (func $stores (param i32 i32 i64 f32 f64)
    (i32.store (local.get 0) (local.get 1))
    (i64.store offset=16 (local.get 0) (local.get 2))
    (f32.store align=1 (local.get 0) (local.get 3))
    (f64.store (local.get 0) (local.get 4))
    (i32.store8 (local.get 0) (local.get 1))
    (i32.store16 (local.get 0) (local.get 1))
    (i64.store8 (local.get 0) (local.get 2))
    (i64.store16 offset=2 align=1 (local.get 0) (local.get 2))
    (i64.store32 (local.get 0) (local.get 2)))

  ;; CHECK-LABEL: func @bulk(%arg0: i32, %arg1: i32, %arg2: i32) -> i32
  ;; CHECK-NEXT:    %[[SIZE:.+]] = twasm.memory.size
  ;; CHECK-NEXT:    %[[OLD:.+]] = twasm.memory.grow %arg0
  ;; CHECK-NEXT:    twasm.memory.copy %arg0, %arg1, %arg2
  ;; CHECK-NEXT:    twasm.memory.fill %arg0, %arg1, %arg2
  ;; CHECK-NEXT:    twasm.memory.init @bytes, %arg0, %arg1, %arg2
  ;; CHECK-NEXT:    twasm.data.drop @bytes
  ;; CHECK-NEXT:    %[[SUM:.+]] = twasm.i32.add %[[SIZE]], %[[OLD]]
  ;; CHECK-NEXT:    return %[[SUM]] : i32
  (func $bulk (param i32 i32 i32) (result i32)
    (memory.size)
    (memory.grow (local.get 0))
    (memory.copy (local.get 0) (local.get 1) (local.get 2))
    (memory.fill (local.get 0) (local.get 1) (local.get 2))
    (memory.init $bytes (local.get 0) (local.get 1) (local.get 2))
    (data.drop $bytes)
    (i32.add)))
