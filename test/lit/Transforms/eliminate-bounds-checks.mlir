// RUN: twasm-opt %s --split-input-file --pass-pipeline='builtin.module(twasm.module(twasm.func(twasm-eliminate-bounds-checks)))' | FileCheck %s

// A store to the address a load just read: the load's check covers it.
// The first access to each address keeps its check.
// CHECK-LABEL: func @same_address
// CHECK:         %[[X:.+]] = twasm.f32.load %arg0{{$}}
// CHECK:         %[[Y:.+]] = twasm.f32.load %arg1{{$}}
// CHECK:         twasm.f32.store %arg1, %{{.+}} in_bounds
twasm.module {
  memory @m min 1
  func @same_address(%x: i32, %y: i32, %a: f32) {
    %0 = twasm.f32.load %x
    %1 = twasm.f32.load %y
    %2 = twasm.f32.mul %a, %0
    %3 = twasm.f32.add %2, %1
    twasm.f32.store %y, %3
    return
  }
}

// -----

// The first access ends furthest: the narrower and nearer ones after it are
// covered; a wider one (bytes 8..16 against 0..8) is not.
// CHECK-LABEL: func @offsets
// CHECK:         twasm.i64.load %arg0 offset = 4{{$}}
// CHECK:         twasm.i32.load %arg0 in_bounds
// CHECK:         twasm.i32.load8_u %arg0 offset = 11 in_bounds
// CHECK:         twasm.i64.load %arg0 offset = 8{{$}}
twasm.module {
  memory @m min 1
  func @offsets(%p: i32) -> i64 {
    %0 = twasm.i64.load %p offset = 4
    %1 = twasm.i32.load %p
    %2 = twasm.i32.load8_u %p offset = 11
    %3 = twasm.i64.load %p offset = 8
    return %3 : i64
  }
}

// -----

// An address computed as address + constant is covered when the sum stays
// inside the dominating access: p + 4 (4 bytes) within p..p+8, but not
// p + 8.
// CHECK-LABEL: func @constant_addend
// CHECK:         twasm.i64.load %arg0{{$}}
// CHECK:         twasm.i32.load %{{.+}} in_bounds
// CHECK:         twasm.i32.load %{{.+}}{{$}}
twasm.module {
  memory @m min 1
  func @constant_addend(%p: i32) -> i32 {
    %four = twasm.i32.const 4
    %eight = twasm.i32.const 8
    %0 = twasm.i64.load %p
    %q = twasm.i32.add %p, %four
    %1 = twasm.i32.load %q
    %r = twasm.i32.add %p, %eight
    %2 = twasm.i32.load %r
    %3 = twasm.i32.add %1, %2
    return %3 : i32
  }
}

// -----

// A check only covers what runs after it on every path. An access on one
// side of a branch covers nothing after the join; an access before the
// branch covers both sides.
// CHECK-LABEL: func @dominance
// CHECK:         twasm.i32.load %arg0{{$}}
// CHECK:       ^bb1:
// CHECK:         twasm.i32.store %arg0, %{{.+}} in_bounds
// CHECK:         twasm.i32.load %arg1{{$}}
// CHECK:       ^bb2:
// CHECK:         twasm.i32.load %arg1{{$}}
twasm.module {
  memory @m min 1
  func @dominance(%p: i32, %q: i32, %c: i32) -> i32 {
    %0 = twasm.i32.load %p
    br_if %c, ^bb1, ^bb2
  ^bb1:
    twasm.i32.store %p, %0
    %1 = twasm.i32.load %q
    br ^bb2
  ^bb2:
    %2 = twasm.i32.load %q
    return %2 : i32
  }
}

// -----

// Memory never shrinks below its declared minimum (here 1 page): constant
// addresses inside it cannot trap; one that ends past 65536 can.
// CHECK-LABEL: func @minimum_size
// CHECK:         twasm.i32.load %{{.+}} offset = 65532 in_bounds
// CHECK:         twasm.i32.load %{{.+}} offset = 65533{{$}}
// CHECK:         twasm.i32.load %{{.+}} offset = 16 in_bounds
// CHECK:         twasm.i32.load %{{.+}} offset = 16{{$}}
twasm.module {
  memory @m min 1
  func @minimum_size(%x: i32) -> i32 {
    %zero = twasm.i32.const 0
    %0 = twasm.i32.load %zero offset = 65532
    %1 = twasm.i32.load %zero offset = 65533
    // x & 1023 is at most 1023, so the access ends by 1043.
    %mask = twasm.i32.const 1023
    %masked = twasm.i32.and %x, %mask
    %2 = twasm.i32.load %masked offset = 16
    // x alone could be anything.
    %3 = twasm.i32.load %x offset = 16
    %4 = twasm.i32.add %0, %1
    %5 = twasm.i32.add %2, %3
    %6 = twasm.i32.add %4, %5
    return %6 : i32
  }
}

// -----

// A counted loop's range covers its accesses: i runs over 0, 4, ..., 1020,
// so 256 + i ends by 1280, inside the minimum. The same loop with a bound
// only known at run time keeps its check: hoisting it before the loop would
// trap before the iterations that come first had run.
// CHECK-LABEL: func @loop_range
// CHECK:       ^bb1(%{{.+}}: i32, %{{.+}}: i32):
// CHECK:         twasm.i32.load %{{.+}} offset = 256 in_bounds
// CHECK-LABEL: func @runtime_bound
// CHECK:       ^bb1(%{{.+}}: i32, %{{.+}}: i32):
// CHECK:         twasm.i32.load %{{.+}} offset = 256{{$}}
twasm.module {
  memory @m min 1
  func @loop_range() -> i32 {
    %zero = twasm.i32.const 0
    %step = twasm.i32.const 4
    %bound = twasm.i32.const 1024
    br ^bb1(%zero, %zero : i32, i32)
  ^bb1(%i: i32, %sum: i32):
    %v = twasm.i32.load %i offset = 256
    %s = twasm.i32.add %sum, %v
    %next = twasm.i32.add %i, %step
    %more = twasm.i32.lt_u %next, %bound
    br_if %more, ^bb1(%next, %s : i32, i32), ^bb2
  ^bb2:
    return %s : i32
  }
  func @runtime_bound(%n: i32) -> i32 {
    %zero = twasm.i32.const 0
    %step = twasm.i32.const 4
    br ^bb1(%zero, %zero : i32, i32)
  ^bb1(%i: i32, %sum: i32):
    %v = twasm.i32.load %i offset = 256
    %s = twasm.i32.add %sum, %v
    %next = twasm.i32.add %i, %step
    %more = twasm.i32.lt_u %next, %n
    br_if %more, ^bb1(%next, %s : i32, i32), ^bb2
  ^bb2:
    return %s : i32
  }
}

// -----

// A loop whose counter could wrap is not given a range: i += 0x40000000
// from 0 under `ne 0x7fffffff` never stops, and i * 64 wraps.
// CHECK-LABEL: func @wrapping
// CHECK:         twasm.i32.load %{{.+}}{{$}}
twasm.module {
  memory @m min 1
  func @wrapping() -> i32 {
    %zero = twasm.i32.const 0
    %step = twasm.i32.const 1073741824
    %bound = twasm.i32.const 2147483647
    %scale = twasm.i32.const 64
    br ^bb1(%zero : i32)
  ^bb1(%i: i32):
    %a = twasm.i32.mul %i, %scale
    %v = twasm.i32.load %a
    %next = twasm.i32.add %i, %step
    %more = twasm.i32.ne %next, %bound
    br_if %more, ^bb1(%next : i32), ^bb2
  ^bb2:
    return %v : i32
  }
}
