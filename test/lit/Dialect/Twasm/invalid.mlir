// Every rule the verifiers add to ODS's constraints, each with its message.
// RUN: twasm-opt %s --split-input-file --verify-diagnostics

twasm.module {
  // expected-error @+1 {{is imported, so it must not have a body}}
  func @f() import <"env", "f"> {
    return
  }
}

// -----

twasm.module {
  // expected-error @+1 {{must have a body unless it is imported}}
  func @f()
}

// -----

twasm.module {
  // expected-error @+1 {{has a parameter of type 'index', which is not a Wasm value type}}
  func @f(%x: index) {
    return
  }
}

// -----

twasm.module {
  func @f(%x: i32) -> i64 {
    // expected-error @+1 {{returns 'i32' from a function returning 'i64'}}
    return %x : i32
  }
}

// -----

twasm.module {
  memory @m min 1
  func @f(%x: i32) -> i32 {
    // expected-error @+1 {{alignment must be a power of two no larger than 4 bytes, not 8}}
    %v = twasm.i32.load %x align = 8
    return %v : i32
  }
}

// -----

twasm.module {
  memory @m min 1
  func @f(%x: i32) -> i64 {
    // expected-error @+1 {{alignment must be a power of two no larger than 8 bytes, not 3}}
    %v = twasm.i64.load %x align = 3
    return %v : i64
  }
}

// -----

twasm.module {
  func @f(%x: i32) {
    // expected-error @+1 {{accesses linear memory, but the module has none}}
    twasm.i32.store8 %x, %x
    return
  }
}

// -----

twasm.module {
  // expected-error @+1 {{is an active data segment, but the module has no memory}}
  data @d active offset {
    %0 = twasm.i32.const 0
    yield %0 : i32
  } "x"
}

// -----

twasm.module {
  memory @a min 1
  // expected-error @+1 {{is a second memory; a Wasm 2.0 module has at most one}}
  memory @b min 1
}

// -----

twasm.module {
  // expected-error @+1 {{minimum size 65537 exceeds the limit of 65536 pages}}
  memory @m min 65537
}

// -----

twasm.module {
  // expected-error @+1 {{minimum size 3 exceeds the maximum size 2}}
  table @t : !twasm.funcref min 3 max 2
}

// -----

twasm.module {
  // expected-error @+1 {{is imported, so it must not have an initializer}}
  global @g : i32 import <"env", "g"> {
    %0 = twasm.i32.const 0
    yield %0 : i32
  }
}

// -----

twasm.module {
  // expected-error @+1 {{must have an initializer unless it is imported}}
  global @g : i32
}

// -----

twasm.module {
  global @g : i32 {
    %0 = twasm.i32.const 1
    // expected-error @+1 {{is not allowed in a constant expression (initializer of 'twasm.global')}}
    %1 = twasm.i32.add %0, %0
    yield %1 : i32
  }
}

// -----

twasm.module {
  global @g : i64 {
    %0 = twasm.i32.const 1
    // expected-error @+1 {{yields 'i32' but initializer needs 'i64'}}
    yield %0 : i32
  }
}

// -----

twasm.module {
  global @g mutable : i32 {
    %0 = twasm.i32.const 1
    yield %0 : i32
  }
  global @h : i32 {
    // expected-error @+1 {{reads the mutable global @g in a constant expression}}
    %0 = twasm.global.get @g : i32
    yield %0 : i32
  }
}

// -----

twasm.module {
  global @g : i32 {
    %0 = twasm.i32.const 1
    yield %0 : i32
  }
  func @f(%x: i32) {
    // expected-error @+1 {{writes the immutable global @g}}
    twasm.global.set @g, %x : i32
    return
  }
}

// -----

twasm.module {
  global @g : i32 {
    %0 = twasm.i32.const 1
    yield %0 : i32
  }
  func @f() -> f32 {
    // expected-error @+1 {{reads 'f32' from @g of type 'i32'}}
    %0 = twasm.global.get @g : f32
    return %0 : f32
  }
}

// -----

twasm.module {
  func @f(%x: i32) {
    // expected-error @+1 {{refers to @nowhere, which is not a function of the module}}
    call @nowhere(%x) : (i32) -> ()
    return
  }
}

// -----

twasm.module {
  func @callee(%x: i64) {
    return
  }
  func @f(%x: i32) {
    // expected-error @+1 {{calls @callee of type '(i64) -> ()' as '(i32) -> ()'}}
    call @callee(%x) : (i32) -> ()
    return
  }
}

// -----

twasm.module {
  table @t : !twasm.externref min 1
  func @f(%x: i32) {
    // expected-error @+1 {{uses '!twasm.funcref' with table @t of '!twasm.externref'}}
    call_indirect @t[%x]() : () -> ()
    return
  }
}

// -----

twasm.module {
  table @t : !twasm.funcref min 1
  func @f(%x: i32) -> !twasm.externref {
    // expected-error @+1 {{uses '!twasm.externref' with table @t of '!twasm.funcref'}}
    %r = twasm.table.get @t[%x] : !twasm.externref
    return %r : !twasm.externref
  }
}

// -----

twasm.module {
  table @t : !twasm.funcref min 1
  // expected-error @+1 {{is active, so it needs a table and an offset}}
  elem @e : !twasm.funcref active items {
    yield
  }
}

// -----

twasm.module {
  table @t : !twasm.funcref min 1
  // expected-error @+1 {{is passive, so it must have neither a table nor an offset}}
  elem @e : !twasm.funcref passive table @t items {
    yield
  }
}

// -----

twasm.module {
  elem @e : !twasm.externref passive items {
    %0 = twasm.ref.null : !twasm.funcref
    // expected-error @+1 {{yields '!twasm.funcref' but items needs '!twasm.externref'}}
    yield %0 : !twasm.funcref
  }
}

// -----

twasm.module {
  global @g : i32 {
    %0 = twasm.i32.const 1
    yield %0 : i32
  }
  // expected-error @+1 {{exports @g, which is not a func of the module}}
  export "g" func @g
}

// -----

twasm.module {
  func @f() {
    return
  }
  export "f" func @f
  // expected-error @+1 {{duplicates the export name "f"}}
  export "f" func @f
}

// -----

twasm.module {
  func @f(%x: i32) {
    return
  }
  // expected-error @+1 {{names @f, but a start function takes and returns nothing, not '(i32) -> ()'}}
  start @f
}

// -----

twasm.module {
  global @g : i32 {
    %0 = twasm.i32.const 1
    yield %0 : i32
  }
  export "g" global @g
  // expected-error @+1 {{names "g", which is not the name of a function export}}
  kernel "g"
}

// -----

twasm.module {
  func @f() -> i32 {
    %0 = twasm.i32.const 1
    return %0 : i32
  }
  export "f" func @f
  // expected-error @+1 {{names "f", whose function returns results ('() -> i32'); a kernel returns nothing}}
  kernel "f"
}

// -----

twasm.module {
  func @f(%r: !twasm.funcref) {
    return
  }
  export "f" func @f
  // expected-error @+1 {{names "f", whose function takes a '!twasm.funcref'; a kernel takes only i32, i64, f32 and f64}}
  kernel "f"
}

// -----

twasm.module {
  func @f() {
    return
  }
  export "f" func @f
  kernel "f"
  // expected-error @+1 {{declares "f" a kernel a second time}}
  kernel "f"
}

// -----

twasm.module {
  memory @m min 1
  func @f(%x: i32) {
    // expected-error @+1 {{refers to @d, which is not a data segment of the module}}
    twasm.memory.init @d, %x, %x, %x
    return
  }
}

// -----

twasm.module {
  // expected-error @+1 {{is not a module-level definition, so it cannot appear directly in a twasm.module}}
  %0 = twasm.i32.const 1
}

// -----

twasm.module {
  func @f() {
    // expected-error @+1 {{a local holds a Wasm value type, not 'index'}}
    %s = local : !twasm.local<index>
    return
  }
}

// -----

twasm.module {
  func @f(%c: i32, %a: i32, %b: i64) -> i32 {
    // expected-error @+1 {{all of {true_value, false_value, result} have same type}}
    %r = "twasm.select"(%c, %a, %b) : (i32, i32, i64) -> i32
    return %r : i32
  }
}

// -----

twasm.module {
  func @f(%a: i32) -> i32 {
    // expected-error @+1 {{operand #0 must be 64-bit signless integer, but got 'i32'}}
    %r = "twasm.i64.add"(%a, %a) : (i32, i32) -> i64
    return %a : i32
  }
}

// -----

twasm.module {
  // expected-error @+1 {{a shared memory must have a maximum}}
  memory @m min 1 shared
}
