//===- TwasmOps.td - the twasm operations ---------------------*- tablegen -*-===//
//
// One op per WebAssembly 2.0 instruction (SIMD excepted), named as in the Wasm
// text format, plus the module-level definitions. Each op links to the spec
// section it implements.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_OPS_TD
#define TWASM_OPS_TD

include "TwasmDialect.td"
include "TwasmTypes.td"
include "TwasmAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/CallInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/FunctionInterfaces.td"
include "mlir/Interfaces/MemorySlotInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"


// Marks the ops allowed in a constant expression (global initializers and
// segment offsets and items).
def Twasm_ConstantExpression : NativeOpTrait<"ConstantExpression"> {
  let cppNamespace = "::mlir::twasm";
}

// The number of bytes a load or store accesses; verifies its `align`.
class Twasm_AccessWidth<int bytes>
    : ParamNativeOpTrait<"AccessWidth", !cast<string>(bytes)> {
  let cppNamespace = "::mlir::twasm";
}

//===----------------------------------------------------------------------===//
// Module structure
//===----------------------------------------------------------------------===//

def Twasm_ModuleOp : Twasm_Op<"module", [
    IsolatedFromAbove, SymbolTable, Symbol, NoTerminator, SingleBlock,
    NoRegionArguments, OpAsmOpInterface]> {
  let summary = "a WebAssembly module";
  let description = [{
    Holds one Wasm module's definitions as symbols. The order of definitions
    of one kind is the order of that kind's index space.

    ```mlir
    twasm.module @kernels {
      memory @memory min 1
      func @inc(%x: i32) -> i32 {
        %one = twasm.i32.const 1
        %r = twasm.i32.add %x, %one
        return %r : i32
      }
      export "inc" func @inc
    }
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#modules
  }];
  let arguments = (ins OptionalAttr<SymbolNameAttr>:$sym_name);
  let regions = (region SizedRegion<1>:$bodyRegion);
  let assemblyFormat = "($sym_name^)? attr-dict-with-keyword $bodyRegion";
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins CArg<"::llvm::StringRef", "{}">:$name)>];
  let extraClassDeclaration = [{
    /// A module's name is optional, as for `builtin.module`.
    bool isOptionalSymbol() { return true; }
    static ::llvm::StringRef getDefaultDialect() { return "twasm"; }
    /// The module's memory, or null when it has none.
    MemoryOp getMemory();
  }];
}

def Twasm_FuncOp : Twasm_Op<"func", [
    AutomaticAllocationScope, FunctionOpInterface, IsolatedFromAbove,
    OpAsmOpInterface, HasParent<"ModuleOp">]> {
  let summary = "a function, defined in the module or imported";
  let description = [{
    A Wasm function. A defined function has a body whose entry block takes
    the parameters; an imported one has no body and an `import` clause.

    ```mlir
    func @log(i32) import <"env", "log">
    func @square(%x: f32) -> f32 {
      %r = twasm.f32.mul %x, %x
      return %r : f32
    }
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#functions
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs,
                       OptionalAttr<Twasm_ImportAttr>:$import);
  let regions = (region AnyRegion:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "::llvm::StringRef":$name,
                                 "::mlir::FunctionType":$type)>];
  let extraClassDeclaration = [{
    ::mlir::Region *getCallableRegion() {
      return isExternal() ? nullptr : &getBody();
    }
    ::llvm::ArrayRef<::mlir::Type> getArgumentTypes() {
      return getFunctionType().getInputs();
    }
    ::llvm::ArrayRef<::mlir::Type> getResultTypes() {
      return getFunctionType().getResults();
    }
    static ::llvm::StringRef getDefaultDialect() { return "twasm"; }
    /// An imported function has no body, but it is not a declaration of a
    /// symbol defined elsewhere in the IR: the embedder supplies it. So it
    /// may be public, which MLIR forbids for declarations.
    bool isDeclaration() { return false; }
    bool isImported() { return getImport().has_value(); }
  }];
}

def Twasm_GlobalOp : Twasm_Op<"global", [
    IsolatedFromAbove, OpAsmOpInterface, Symbol, HasParent<"ModuleOp">]> {
  let summary = "a global variable, defined in the module or imported";
  let description = [{
    A defined global has an initializer region, a constant expression that
    yields its initial value; an imported global has an `import` clause.

    ```mlir
    global @counter mutable : i32 {
      %0 = twasm.i32.const 0
      yield %0 : i32
    }
    global @base : i32 import <"env", "base">
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#globals
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<Twasm_ValType>:$type,
                       UnitAttr:$is_mutable,
                       OptionalAttr<Twasm_ImportAttr>:$import);
  let regions = (region AnyRegion:$init);
  let assemblyFormat = [{
    $sym_name (`mutable` $is_mutable^)? `:` $type (`import` $import^)?
    attr-dict-with-keyword ($init^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    static ::llvm::StringRef getDefaultDialect() { return "twasm"; }
  }];
}

def Twasm_MemoryOp : Twasm_Op<"memory", [Symbol, HasParent<"ModuleOp">]> {
  let summary = "the module's linear memory, defined or imported";
  let description = [{
    Limits are in 64 KiB pages; at most 65536. A `shared` memory (the
    threads proposal) can be used by several threads at once; it must have a
    maximum.

    ```mlir
    memory @memory min 1 max 16
    memory @heap min 1 max 16 shared
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#memories
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       I64Attr:$min_pages,
                       OptionalAttr<I64Attr>:$max_pages,
                       UnitAttr:$shared,
                       OptionalAttr<Twasm_ImportAttr>:$import);
  let assemblyFormat = [{
    $sym_name `min` $min_pages (`max` $max_pages^)? (`shared` $shared^)?
    (`import` $import^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Twasm_TableOp : Twasm_Op<"table", [Symbol, HasParent<"ModuleOp">]> {
  let summary = "a table of references, defined or imported";
  let description = [{
    ```mlir
    table @dispatch : !twasm.funcref min 4 max 4
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#tables
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<Twasm_RefType>:$elem_type,
                       I64Attr:$min_size,
                       OptionalAttr<I64Attr>:$max_size,
                       OptionalAttr<Twasm_ImportAttr>:$import);
  let assemblyFormat = [{
    $sym_name `:` $elem_type `min` $min_size (`max` $max_size^)?
    (`import` $import^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Twasm_DataOp : Twasm_Op<"data", [
    IsolatedFromAbove, OpAsmOpInterface, Symbol, HasParent<"ModuleOp">]> {
  let summary = "a data segment";
  let description = [{
    An active segment (with an `offset` constant expression) is copied into
    memory at instantiation; a passive one only by `twasm.memory.init`.

    ```mlir
    data @greeting active offset {
      %0 = twasm.i32.const 16
      yield %0 : i32
    } "hello"
    data @table passive "\01\02\03"
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#data-segments
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$bytes);
  let regions = (region AnyRegion:$offset);
  let assemblyFormat = [{
    $sym_name (`active` `offset` $offset^) : (`passive`)? $bytes
    attr-dict-with-keyword
  }];
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    bool isActive() { return !getOffset().empty(); }
    static ::llvm::StringRef getDefaultDialect() { return "twasm"; }
  }];
}

def Twasm_ElemOp : Twasm_Op<"elem", [
    IsolatedFromAbove, OpAsmOpInterface, Symbol, HasParent<"ModuleOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "an element segment";
  let description = [{
    The `items` region yields the segment's references in order. An active
    segment names its table and has an `offset`; passive segments are used by
    `twasm.table.init`; declarative ones only declare `ref.func` targets.

    ```mlir
    elem @handlers : !twasm.funcref active table @dispatch offset {
      %0 = twasm.i32.const 0
      yield %0 : i32
    } items {
      %0 = twasm.ref.func @on_start
      yield %0 : !twasm.funcref
    }
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#element-segments
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<Twasm_RefType>:$elem_type,
                       Twasm_SegmentMode:$mode,
                       OptionalAttr<FlatSymbolRefAttr>:$table);
  let regions = (region AnyRegion:$offset, SizedRegion<1>:$items);
  let assemblyFormat = [{
    $sym_name `:` $elem_type $mode (`table` $table^)? (`offset` $offset^)?
    `items` $items attr-dict-with-keyword
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    static ::llvm::StringRef getDefaultDialect() { return "twasm"; }
  }];
}

def Twasm_ExportOp : Twasm_Op<"export", [
    HasParent<"ModuleOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "exports a definition under a name";
  let description = [{
    ```mlir
    export "saxpy" func @saxpy
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#exports
  }];
  let arguments = (ins StrAttr:$name, Twasm_ExternKind:$kind,
                       FlatSymbolRefAttr:$target);
  let assemblyFormat = "$name $kind $target attr-dict";
}

def Twasm_KernelOp : Twasm_Op<"kernel", [HasParent<"ModuleOp">]> {
  let summary = "declares that an exported function is a kernel";
  let description = [{
    One entry of the module's `twasm.kernels` custom section (or of
    `--kernel` on the command line): the export `name` is a kernel, a function
    launched once per thread of a grid (docs/kernel-abi.md). The export must
    name a function with no results and only i32, i64, f32 and f64
    parameters.

    A kernel may declare its launch shape (the `twasm.kernel_shapes` custom
    section): the block it always runs in, and the bytes of shared scratch it
    gets. Then block dimensions and scratch size are constants to the
    compiler, and launches of any other shape are refused.

    ```mlir
    export "saxpy" func @saxpy
    kernel "saxpy"
    kernel "sgemm" block [32, 8, 1] shared 8192
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<DenseI32ArrayAttr>:$block,
                       OptionalAttr<I64Attr>:$shared_bytes);
  let assemblyFormat = [{
    $name (`block` $block^)? (`shared` $shared_bytes^)? attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The kernel's function; null when the module does not export one
    /// under this name (which the verifier rejects).
    FuncOp getFunction();
    /// Limits of a launch shape on any device we target (the largest
    /// per-block shared memory, sm_90's, is 227 KiB).
    static constexpr int64_t kMaxBlockThreads = 1024;
    static constexpr int64_t kMaxSharedBytes = 227 * 1024;
  }];
}

def Twasm_StartOp : Twasm_Op<"start", [
    HasParent<"ModuleOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "names the function run at instantiation";
  let description = [{
    ```mlir
    start @init
    ```

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#start-function
  }];
  let arguments = (ins FlatSymbolRefAttr:$func);
  let assemblyFormat = "$func attr-dict";
}

def Twasm_YieldOp : Twasm_Op<"yield", [
    Pure, Terminator, ReturnLike,
    ParentOneOf<["GlobalOp", "DataOp", "ElemOp"]>]> {
  let summary = "ends a constant expression with its values";
  let description = [{
    ```mlir
    yield %0 : i32
    ```

    Spec: https://webassembly.github.io/spec/core/valid/instructions.html#constant-expressions
  }];
  let arguments = (ins Variadic<Twasm_ValType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Locals
//===----------------------------------------------------------------------===//

def Twasm_LocalOp : Twasm_Op<"local", [
    DeclareOpInterfaceMethods<PromotableAllocationOpInterface>]> {
  let summary = "a local variable slot, zero-initialized";
  let description = [{
    One Wasm local (or parameter) before promotion to SSA. Reads before any
    write see zero (or null), as Wasm specifies.

    ```mlir
    %sum = twasm.local : !twasm.local<i32>
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#variable-instructions
  }];
  let results = (outs Twasm_LocalSlot:$slot);
  let assemblyFormat = "attr-dict `:` qualified(type($slot))";
}

def Twasm_LocalGetOp : Twasm_Op<"local.get", [
    DeclareOpInterfaceMethods<PromotableMemOpInterface>,
    TypesMatchWith<"result type is the slot's value type", "slot", "result",
                   "::llvm::cast<::mlir::twasm::LocalType>($_self).getValueType()">]> {
  let summary = "reads a local slot";
  let description = [{
    ```mlir
    %v = twasm.local.get %sum : !twasm.local<i32>
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-variable-mathsf-local-get-x
  }];
  let arguments = (ins Arg<Twasm_LocalSlot, "the slot", [MemRead]>:$slot);
  let results = (outs Twasm_ValType:$result);
  let assemblyFormat = "$slot attr-dict `:` qualified(type($slot))";
}

def Twasm_LocalSetOp : Twasm_Op<"local.set", [
    DeclareOpInterfaceMethods<PromotableMemOpInterface>,
    TypesMatchWith<"value type is the slot's value type", "slot", "value",
                   "::llvm::cast<::mlir::twasm::LocalType>($_self).getValueType()">]> {
  let summary = "writes a local slot (also models `local.tee`)";
  let description = [{
    `local.tee` imports as a `twasm.local.set` whose value is used again.

    ```mlir
    twasm.local.set %sum, %v : !twasm.local<i32>
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-variable-mathsf-local-set-x
  }];
  let arguments = (ins Arg<Twasm_LocalSlot, "the slot", [MemWrite]>:$slot,
                       Twasm_ValType:$value);
  let assemblyFormat = "$slot `,` $value attr-dict `:` qualified(type($slot))";
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

class Twasm_ConstOp<string type, Type resultType, Attr valueAttr>
    : Twasm_Op<type # ".const", [ConstantLike, Pure, Twasm_ConstantExpression]> {
  let summary = "a constant of type " # type;
  let description = "Float constants keep their exact bits, NaN payloads "
      # "included.\n\n```mlir\n%c = twasm." # type # ".const 7\n```\n\n"
      # "Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-numeric-mathsf-const-c";
  let arguments = (ins valueAttr:$value);
  let results = (outs resultType:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
  // The attribute is typed, so it determines the result type.
  let builders = [OpBuilder<(ins valueAttr.storageType:$value), [{
    build($_builder, $_state, value.getType(), value);
  }]>];
}

def Twasm_I32ConstOp : Twasm_ConstOp<"i32", I32, I32Attr>;
def Twasm_I64ConstOp : Twasm_ConstOp<"i64", I64, I64Attr>;
def Twasm_F32ConstOp : Twasm_ConstOp<"f32", F32, F32Attr>;
def Twasm_F64ConstOp : Twasm_ConstOp<"f64", F64, F64Attr>;

//===----------------------------------------------------------------------===//
// Numeric operations
//===----------------------------------------------------------------------===//

// An op that can trap reports the trap resource as written, unless its
// operands are constants for which it provably cannot trap.
defvar MayTrap = [DeclareOpInterfaceMethods<MemoryEffectsOpInterface>];

class Twasm_UnaryOp<string mnemonic, Type operandType, Type resultType,
                    string specAnchor, string what, list<Trait> traits = [Pure]>
    : Twasm_Op<mnemonic, traits> {
  let summary = what;
  let description = "Wasm `" # mnemonic # "`: " # what # ".\n\n```mlir\n%r = twasm."
      # mnemonic # " %x\n```\n\nSpec: https://webassembly.github.io/spec/core/exec/numerics.html#" # specAnchor;
  let arguments = (ins operandType:$operand);
  let results = (outs resultType:$result);
  let assemblyFormat = "$operand attr-dict";
  let hasFolder = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$operand), [{
    build($_builder, $_state, }] # resultType.builderCall # [{, operand);
  }]>];
}

class Twasm_BinaryOp<string mnemonic, Type operandType, Type resultType,
                     string specAnchor, string what, list<Trait> traits = [Pure]>
    : Twasm_Op<mnemonic, traits> {
  let summary = what;
  let description = "Wasm `" # mnemonic # "`: " # what # ".\n\n```mlir\n%r = twasm."
      # mnemonic # " %a, %b\n```\n\nSpec: https://webassembly.github.io/spec/core/exec/numerics.html#" # specAnchor;
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs resultType:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict";
  let hasFolder = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs), [{
    build($_builder, $_state, }] # resultType.builderCall # [{, lhs, rhs);
  }]>];
}

defvar PureCommutative = [Pure, Commutative];

multiclass Twasm_IntegerOps<string t, Type T> {
  def ClzOp : Twasm_UnaryOp<t # ".clz", T, T, "op-iclz", "counts leading zero bits">;
  def CtzOp : Twasm_UnaryOp<t # ".ctz", T, T, "op-ictz", "counts trailing zero bits">;
  def PopcntOp : Twasm_UnaryOp<t # ".popcnt", T, T, "op-ipopcnt", "counts one bits">;
  def EqzOp : Twasm_UnaryOp<t # ".eqz", T, I32, "op-ieqz",
                            "1 if the operand is zero, else 0">;
  def Extend8SOp : Twasm_UnaryOp<t # ".extend8_s", T, T, "op-iextendn-s",
                                 "sign-extends the low 8 bits">;
  def Extend16SOp : Twasm_UnaryOp<t # ".extend16_s", T, T, "op-iextendn-s",
                                  "sign-extends the low 16 bits">;

  def AddOp : Twasm_BinaryOp<t # ".add", T, T, "op-iadd", "wrapping addition",
                             PureCommutative> {
    let hasCanonicalizer = 1;
  }
  def SubOp : Twasm_BinaryOp<t # ".sub", T, T, "op-isub", "wrapping subtraction"> {
    let hasCanonicalizer = 1;
  }
  def MulOp : Twasm_BinaryOp<t # ".mul", T, T, "op-imul",
                             "wrapping multiplication", PureCommutative>;
  def DivSOp : Twasm_BinaryOp<t # ".div_s", T, T, "op-idiv-s",
      "signed division rounding toward zero; traps on a zero divisor and on "
      # "overflow (the minimum value divided by -1)", MayTrap>;
  def DivUOp : Twasm_BinaryOp<t # ".div_u", T, T, "op-idiv-u",
      "unsigned division; traps on a zero divisor", MayTrap>;
  def RemSOp : Twasm_BinaryOp<t # ".rem_s", T, T, "op-irem-s",
      "signed remainder with the sign of the dividend; traps on a zero divisor",
      MayTrap>;
  def RemUOp : Twasm_BinaryOp<t # ".rem_u", T, T, "op-irem-u",
      "unsigned remainder; traps on a zero divisor", MayTrap>;
  def AndOp : Twasm_BinaryOp<t # ".and", T, T, "op-iand", "bitwise and",
                             PureCommutative>;
  def OrOp : Twasm_BinaryOp<t # ".or", T, T, "op-ior", "bitwise or",
                            PureCommutative>;
  def XorOp : Twasm_BinaryOp<t # ".xor", T, T, "op-ixor", "bitwise exclusive or",
                             PureCommutative>;
  def ShlOp : Twasm_BinaryOp<t # ".shl", T, T, "op-ishl",
      "shifts left by the count modulo the bit width"> {
    let hasCanonicalizer = 1;
  }
  def ShrSOp : Twasm_BinaryOp<t # ".shr_s", T, T, "op-ishr-s",
      "shifts right, copying the sign bit, by the count modulo the bit width"> {
    let hasCanonicalizer = 1;
  }
  def ShrUOp : Twasm_BinaryOp<t # ".shr_u", T, T, "op-ishr-u",
      "shifts right, filling with zeros, by the count modulo the bit width"> {
    let hasCanonicalizer = 1;
  }
  def RotlOp : Twasm_BinaryOp<t # ".rotl", T, T, "op-irotl",
      "rotates left by the count modulo the bit width"> {
    let hasCanonicalizer = 1;
  }
  def RotrOp : Twasm_BinaryOp<t # ".rotr", T, T, "op-irotr",
      "rotates right by the count modulo the bit width"> {
    let hasCanonicalizer = 1;
  }

  def EqOp : Twasm_BinaryOp<t # ".eq", T, I32, "op-ieq", "1 if equal, else 0",
                            PureCommutative>;
  def NeOp : Twasm_BinaryOp<t # ".ne", T, I32, "op-ine", "1 if not equal, else 0",
                            PureCommutative>;
  def LtSOp : Twasm_BinaryOp<t # ".lt_s", T, I32, "op-ilt-s", "signed less than">;
  def LtUOp : Twasm_BinaryOp<t # ".lt_u", T, I32, "op-ilt-u", "unsigned less than">;
  def GtSOp : Twasm_BinaryOp<t # ".gt_s", T, I32, "op-igt-s", "signed greater than">;
  def GtUOp : Twasm_BinaryOp<t # ".gt_u", T, I32, "op-igt-u", "unsigned greater than">;
  def LeSOp : Twasm_BinaryOp<t # ".le_s", T, I32, "op-ile-s",
                             "signed less than or equal">;
  def LeUOp : Twasm_BinaryOp<t # ".le_u", T, I32, "op-ile-u",
                             "unsigned less than or equal">;
  def GeSOp : Twasm_BinaryOp<t # ".ge_s", T, I32, "op-ige-s",
                             "signed greater than or equal">;
  def GeUOp : Twasm_BinaryOp<t # ".ge_u", T, I32, "op-ige-u",
                             "unsigned greater than or equal">;
}

defm Twasm_I32 : Twasm_IntegerOps<"i32", I32>;
defm Twasm_I64 : Twasm_IntegerOps<"i64", I64>;
def Twasm_I64Extend32SOp : Twasm_UnaryOp<"i64.extend32_s", I64, I64,
    "op-iextendn-s", "sign-extends the low 32 bits">;

multiclass Twasm_FloatOps<string t, Type T> {
  def AbsOp : Twasm_UnaryOp<t # ".abs", T, T, "op-fabs",
      "clears the sign bit; a NaN keeps its payload">;
  def NegOp : Twasm_UnaryOp<t # ".neg", T, T, "op-fneg",
      "flips the sign bit; a NaN keeps its payload">;
  def CeilOp : Twasm_UnaryOp<t # ".ceil", T, T, "op-fceil",
      "rounds toward positive infinity">;
  def FloorOp : Twasm_UnaryOp<t # ".floor", T, T, "op-ffloor",
      "rounds toward negative infinity">;
  def TruncOp : Twasm_UnaryOp<t # ".trunc", T, T, "op-ftrunc", "rounds toward zero">;
  def NearestOp : Twasm_UnaryOp<t # ".nearest", T, T, "op-fnearest",
      "rounds to the nearest integer, ties to even">;
  def SqrtOp : Twasm_UnaryOp<t # ".sqrt", T, T, "op-fsqrt",
      "the correctly rounded square root">;

  def AddOp : Twasm_BinaryOp<t # ".add", T, T, "op-fadd",
      "IEEE 754 addition, rounding to nearest", PureCommutative>;
  def SubOp : Twasm_BinaryOp<t # ".sub", T, T, "op-fsub",
      "IEEE 754 subtraction, rounding to nearest">;
  def MulOp : Twasm_BinaryOp<t # ".mul", T, T, "op-fmul",
      "IEEE 754 multiplication, rounding to nearest", PureCommutative>;
  def DivOp : Twasm_BinaryOp<t # ".div", T, T, "op-fdiv",
      "IEEE 754 division, rounding to nearest">;
  def MinOp : Twasm_BinaryOp<t # ".min", T, T, "op-fmin",
      "the minimum; NaN if either operand is NaN, and -0 below +0",
      PureCommutative>;
  def MaxOp : Twasm_BinaryOp<t # ".max", T, T, "op-fmax",
      "the maximum; NaN if either operand is NaN, and +0 above -0",
      PureCommutative>;
  def CopysignOp : Twasm_BinaryOp<t # ".copysign", T, T, "op-fcopysign",
      "the first operand with the sign bit of the second">;

  def EqOp : Twasm_BinaryOp<t # ".eq", T, I32, "op-feq",
      "1 if equal (false for NaN), else 0", PureCommutative>;
  def NeOp : Twasm_BinaryOp<t # ".ne", T, I32, "op-fne",
      "1 if not equal (true for NaN), else 0", PureCommutative>;
  def LtOp : Twasm_BinaryOp<t # ".lt", T, I32, "op-flt", "ordered less than">;
  def GtOp : Twasm_BinaryOp<t # ".gt", T, I32, "op-fgt", "ordered greater than">;
  def LeOp : Twasm_BinaryOp<t # ".le", T, I32, "op-fle",
                            "ordered less than or equal">;
  def GeOp : Twasm_BinaryOp<t # ".ge", T, I32, "op-fge",
                            "ordered greater than or equal">;
}

defm Twasm_F32 : Twasm_FloatOps<"f32", F32>;
defm Twasm_F64 : Twasm_FloatOps<"f64", F64>;

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

class Twasm_ConvertOp<string mnemonic, Type from, Type to, string specAnchor,
                      string what, list<Trait> traits = [Pure]>
    : Twasm_UnaryOp<mnemonic, from, to, specAnchor, what, traits>;

def Twasm_I32WrapI64Op : Twasm_ConvertOp<"i32.wrap_i64", I64, I32, "op-wrap",
    "keeps the low 32 bits">;
def Twasm_I64ExtendI32SOp : Twasm_ConvertOp<"i64.extend_i32_s", I32, I64,
    "op-extend-s", "sign-extends to 64 bits">;
def Twasm_I64ExtendI32UOp : Twasm_ConvertOp<"i64.extend_i32_u", I32, I64,
    "op-extend-u", "zero-extends to 64 bits">;

multiclass Twasm_TruncOps<string t, Type T, string f, Type F, string FName> {
  def Trunc#FName#SOp : Twasm_ConvertOp<t # ".trunc_" # f # "_s", F, T, "op-trunc-s",
      "truncates toward zero to a signed integer; traps on NaN and when out of "
      # "range", MayTrap>;
  def Trunc#FName#UOp : Twasm_ConvertOp<t # ".trunc_" # f # "_u", F, T, "op-trunc-u",
      "truncates toward zero to an unsigned integer; traps on NaN and when out "
      # "of range", MayTrap>;
  def TruncSat#FName#SOp : Twasm_ConvertOp<t # ".trunc_sat_" # f # "_s", F, T,
      "op-trunc-sat-s", "truncates toward zero to a signed integer, saturating; "
      # "NaN gives 0">;
  def TruncSat#FName#UOp : Twasm_ConvertOp<t # ".trunc_sat_" # f # "_u", F, T,
      "op-trunc-sat-u", "truncates toward zero to an unsigned integer, "
      # "saturating; NaN gives 0">;
}

defm Twasm_I32 : Twasm_TruncOps<"i32", I32, "f32", F32, "F32">;
defm Twasm_I32 : Twasm_TruncOps<"i32", I32, "f64", F64, "F64">;
defm Twasm_I64 : Twasm_TruncOps<"i64", I64, "f32", F32, "F32">;
defm Twasm_I64 : Twasm_TruncOps<"i64", I64, "f64", F64, "F64">;

multiclass Twasm_ConvertIntOps<string f, Type F, string t, Type T, string TName> {
  def Convert#TName#SOp : Twasm_ConvertOp<f # ".convert_" # t # "_s", T, F,
      "op-convert-s", "converts a signed integer, rounding to nearest">;
  def Convert#TName#UOp : Twasm_ConvertOp<f # ".convert_" # t # "_u", T, F,
      "op-convert-u", "converts an unsigned integer, rounding to nearest">;
}

defm Twasm_F32 : Twasm_ConvertIntOps<"f32", F32, "i32", I32, "I32">;
defm Twasm_F32 : Twasm_ConvertIntOps<"f32", F32, "i64", I64, "I64">;
defm Twasm_F64 : Twasm_ConvertIntOps<"f64", F64, "i32", I32, "I32">;
defm Twasm_F64 : Twasm_ConvertIntOps<"f64", F64, "i64", I64, "I64">;

def Twasm_F32DemoteF64Op : Twasm_ConvertOp<"f32.demote_f64", F64, F32,
    "op-demote", "rounds to single precision, to nearest">;
def Twasm_F64PromoteF32Op : Twasm_ConvertOp<"f64.promote_f32", F32, F64,
    "op-promote", "widens to double precision (exact)">;
def Twasm_I32ReinterpretF32Op : Twasm_ConvertOp<"i32.reinterpret_f32", F32, I32,
    "op-reinterpret", "reinterprets the bits">;
def Twasm_I64ReinterpretF64Op : Twasm_ConvertOp<"i64.reinterpret_f64", F64, I64,
    "op-reinterpret", "reinterprets the bits">;
def Twasm_F32ReinterpretI32Op : Twasm_ConvertOp<"f32.reinterpret_i32", I32, F32,
    "op-reinterpret", "reinterprets the bits">;
def Twasm_F64ReinterpretI64Op : Twasm_ConvertOp<"f64.reinterpret_i64", I64, F64,
    "op-reinterpret", "reinterprets the bits">;

//===----------------------------------------------------------------------===//
// Parametric
//===----------------------------------------------------------------------===//

def Twasm_SelectOp : Twasm_Op<"select", [
    Pure, AllTypesMatch<["true_value", "false_value", "result"]>]> {
  let summary = "picks one of two values by an i32 condition";
  let description = [{
    Yields `true_value` when `condition` is non-zero, else `false_value`.
    Models both the untyped and the typed `select`.

    ```mlir
    %m = select %c, %a, %b : i32
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-parametric-mathsf-select-t-ast
  }];
  let arguments = (ins I32:$condition, Twasm_ValType:$true_value,
                       Twasm_ValType:$false_value);
  let results = (outs Twasm_ValType:$result);
  let assemblyFormat = [{
    $condition `,` $true_value `,` $false_value attr-dict `:` type($result)
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Globals
//===----------------------------------------------------------------------===//

def Twasm_GlobalGetOp : Twasm_Op<"global.get", [
    Twasm_ConstantExpression,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Twasm_GlobalState>]>]> {
  let summary = "reads a global";
  let description = [{
    ```mlir
    %v = twasm.global.get @counter : i32
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-variable-mathsf-global-get-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$global);
  let results = (outs Twasm_ValType:$result);
  let assemblyFormat = "$global attr-dict `:` type($result)";
}

def Twasm_GlobalSetOp : Twasm_Op<"global.set", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemWrite<Twasm_GlobalState>]>]> {
  let summary = "writes a mutable global";
  let description = [{
    ```mlir
    twasm.global.set @counter, %v : i32
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-variable-mathsf-global-set-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$global, Twasm_ValType:$value);
  let assemblyFormat = "$global `,` $value attr-dict `:` type($value)";
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

// The effective address is `address + offset` in 33-bit arithmetic; an access
// any byte of which falls outside the memory traps.
// `in_bounds` records that the compiler proved the access in bounds (see
// twasm-eliminate-bounds-checks), so lowering emits no check for it.
// `aligned` records that the compiler proved the effective address a multiple
// of the access size (see twasm-version-loops), so a device that faults on
// misaligned accesses needs no test of it. Like LLVM's `inbounds`, both are
// promises: a wrong one is undefined behaviour.
defvar MemArgAttrs = (ins
    ConfinedAttr<DefaultValuedAttr<I64Attr, "0">,
                 [IntMinValue<0>, IntMaxValue<4294967295>]>:$offset,
    OptionalAttr<I64Attr>:$align,
    UnitAttr:$in_bounds,
    UnitAttr:$aligned);
defvar MemArg = !con((ins I32:$address), MemArgAttrs);

class Twasm_LoadOp<string mnemonic, Type resultType, int bytes, string what>
    : Twasm_Op<mnemonic, [
        Twasm_AccessWidth<bytes>,
        MemoryEffects<[MemRead<Twasm_LinearMemory>, MemWrite<Twasm_Trap>]>]> {
  let summary = what;
  let description = "Wasm `" # mnemonic # "`: " # what # ". `offset` is the "
      # "static offset added to the address; `align` (in bytes, a power of two "
      # "no larger than the access) is a hint and defaults to the access size. "
      # "Traps when any accessed byte is out of bounds.\n\n```mlir\n%v = twasm."
      # mnemonic # " %addr offset = 16\n```\n\nSpec: " # "https://webassembly.github.io/spec/core/exec/instructions.html#" # "xref-syntax-instructions-syntax-instr-memory-mathsf-load-xref-syntax-instructions-syntax-memarg-mathit-memarg";
  let arguments = MemArg;
  let results = (outs resultType:$result);
  let assemblyFormat = [{
    $address (`offset` `=` $offset^)? (`align` `=` $align^)?
    (`in_bounds` $in_bounds^)? (`aligned` $aligned^)? attr-dict
  }];
}

class Twasm_StoreOp<string mnemonic, Type valueType, int bytes, string what>
    : Twasm_Op<mnemonic, [
        Twasm_AccessWidth<bytes>,
        MemoryEffects<[MemWrite<Twasm_LinearMemory>, MemWrite<Twasm_Trap>]>]> {
  let summary = what;
  let description = "Wasm `" # mnemonic # "`: " # what # ". `offset` and "
      # "`align` are as for loads. Traps, writing nothing, when any accessed "
      # "byte is out of bounds.\n\n```mlir\ntwasm." # mnemonic
      # " %addr, %v offset = 16\n```\n\nSpec: " # "https://webassembly.github.io/spec/core/exec/instructions.html#" # "xref-syntax-instructions-syntax-instr-memory-mathsf-store-xref-syntax-instructions-syntax-memarg-mathit-memarg";
  let arguments = !con((ins I32:$address, valueType:$value), MemArgAttrs);
  let assemblyFormat = [{
    $address `,` $value (`offset` `=` $offset^)? (`align` `=` $align^)?
    (`in_bounds` $in_bounds^)? (`aligned` $aligned^)? attr-dict
  }];
}

def Twasm_I32LoadOp : Twasm_LoadOp<"i32.load", I32, 4, "loads 4 bytes">;
def Twasm_I64LoadOp : Twasm_LoadOp<"i64.load", I64, 8, "loads 8 bytes">;
def Twasm_F32LoadOp : Twasm_LoadOp<"f32.load", F32, 4, "loads 4 bytes">;
def Twasm_F64LoadOp : Twasm_LoadOp<"f64.load", F64, 8, "loads 8 bytes">;
def Twasm_I32Load8SOp : Twasm_LoadOp<"i32.load8_s", I32, 1,
    "loads 1 byte, sign-extended">;
def Twasm_I32Load8UOp : Twasm_LoadOp<"i32.load8_u", I32, 1,
    "loads 1 byte, zero-extended">;
def Twasm_I32Load16SOp : Twasm_LoadOp<"i32.load16_s", I32, 2,
    "loads 2 bytes, sign-extended">;
def Twasm_I32Load16UOp : Twasm_LoadOp<"i32.load16_u", I32, 2,
    "loads 2 bytes, zero-extended">;
def Twasm_I64Load8SOp : Twasm_LoadOp<"i64.load8_s", I64, 1,
    "loads 1 byte, sign-extended">;
def Twasm_I64Load8UOp : Twasm_LoadOp<"i64.load8_u", I64, 1,
    "loads 1 byte, zero-extended">;
def Twasm_I64Load16SOp : Twasm_LoadOp<"i64.load16_s", I64, 2,
    "loads 2 bytes, sign-extended">;
def Twasm_I64Load16UOp : Twasm_LoadOp<"i64.load16_u", I64, 2,
    "loads 2 bytes, zero-extended">;
def Twasm_I64Load32SOp : Twasm_LoadOp<"i64.load32_s", I64, 4,
    "loads 4 bytes, sign-extended">;
def Twasm_I64Load32UOp : Twasm_LoadOp<"i64.load32_u", I64, 4,
    "loads 4 bytes, zero-extended">;

def Twasm_I32StoreOp : Twasm_StoreOp<"i32.store", I32, 4, "stores 4 bytes">;
def Twasm_I64StoreOp : Twasm_StoreOp<"i64.store", I64, 8, "stores 8 bytes">;
def Twasm_F32StoreOp : Twasm_StoreOp<"f32.store", F32, 4, "stores 4 bytes">;
def Twasm_F64StoreOp : Twasm_StoreOp<"f64.store", F64, 8, "stores 8 bytes">;
def Twasm_I32Store8Op : Twasm_StoreOp<"i32.store8", I32, 1,
    "stores the low byte">;
def Twasm_I32Store16Op : Twasm_StoreOp<"i32.store16", I32, 2,
    "stores the low 2 bytes">;
def Twasm_I64Store8Op : Twasm_StoreOp<"i64.store8", I64, 1,
    "stores the low byte">;
def Twasm_I64Store16Op : Twasm_StoreOp<"i64.store16", I64, 2,
    "stores the low 2 bytes">;
def Twasm_I64Store32Op : Twasm_StoreOp<"i64.store32", I64, 4,
    "stores the low 4 bytes">;

def Twasm_MemorySizeOp : Twasm_Op<"memory.size", [
    MemoryEffects<[MemRead<Twasm_LinearMemory>]>]> {
  let summary = "the memory's size in 64 KiB pages";
  let description = [{
    ```mlir
    %pages = twasm.memory.size
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-memory-size
  }];
  let results = (outs I32:$result);
  let assemblyFormat = "attr-dict";
}

def Twasm_MemoryGrowOp : Twasm_Op<"memory.grow", [
    MemoryEffects<[MemRead<Twasm_LinearMemory>, MemWrite<Twasm_LinearMemory>]>]> {
  let summary = "grows the memory; yields the old size in pages or -1";
  let description = [{
    Growing may fail, in which case the result is -1 and nothing changes.

    ```mlir
    %old = twasm.memory.grow %pages
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-memory-grow
  }];
  let arguments = (ins I32:$delta);
  let results = (outs I32:$result);
  let assemblyFormat = "$delta attr-dict";
}

def Twasm_MemoryCopyOp : Twasm_Op<"memory.copy", [
    MemoryEffects<[MemRead<Twasm_LinearMemory>, MemWrite<Twasm_LinearMemory>,
                   MemWrite<Twasm_Trap>]>]> {
  let summary = "copies a byte range within memory (ranges may overlap)";
  let description = [{
    Traps, copying nothing, if either range is out of bounds.

    ```mlir
    twasm.memory.copy %dst, %src, %n
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-memory-copy
  }];
  let arguments = (ins I32:$dst, I32:$src, I32:$size);
  let assemblyFormat = "$dst `,` $src `,` $size attr-dict";
}

def Twasm_MemoryFillOp : Twasm_Op<"memory.fill", [
    MemoryEffects<[MemWrite<Twasm_LinearMemory>, MemWrite<Twasm_Trap>]>]> {
  let summary = "sets a byte range to a value";
  let description = [{
    Traps, writing nothing, if the range is out of bounds.

    ```mlir
    twasm.memory.fill %dst, %byte, %n
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-memory-fill
  }];
  let arguments = (ins I32:$dst, I32:$value, I32:$size);
  let assemblyFormat = "$dst `,` $value `,` $size attr-dict";
}

def Twasm_MemoryInitOp : Twasm_Op<"memory.init", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Twasm_SegmentState>, MemWrite<Twasm_LinearMemory>,
                   MemWrite<Twasm_Trap>]>]> {
  let summary = "copies bytes from a data segment into memory";
  let description = [{
    ```mlir
    twasm.memory.init @greeting, %dst, %src, %n
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-memory-init-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$segment, I32:$dst, I32:$src, I32:$size);
  let assemblyFormat = "$segment `,` $dst `,` $src `,` $size attr-dict";
}

def Twasm_DataDropOp : Twasm_Op<"data.drop", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemWrite<Twasm_SegmentState>]>]> {
  let summary = "discards a data segment's bytes";
  let description = [{
    ```mlir
    twasm.data.drop @greeting
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-data-drop-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$segment);
  let assemblyFormat = "$segment attr-dict";
}

//===----------------------------------------------------------------------===//
// Atomics (the threads proposal)
//===----------------------------------------------------------------------===//

// Every atomic access is sequentially consistent, aligned to its size (a
// misaligned address traps) and bounds-checked like a plain access. The
// memory effects are read and write on every one, so that no atomic is
// reordered with another memory access.
defvar AtomicEffects = MemoryEffects<[MemRead<Twasm_LinearMemory>,
                                      MemWrite<Twasm_LinearMemory>,
                                      MemWrite<Twasm_Trap>]>;
defvar AtomicOffset = (ins ConfinedAttr<DefaultValuedAttr<I64Attr, "0">,
                           [IntMinValue<0>, IntMaxValue<4294967295>]>:$offset);
defvar ThreadsSpec = "https://github.com/WebAssembly/threads/blob/main/proposals/threads/Overview.md";

class Twasm_AtomicOp<string mnemonic, int bytes, string what>
    : Twasm_Op<mnemonic, [AtomicEffects]> {
  let summary = what;
  let extraClassDeclaration = "static constexpr unsigned kAccessBytes = "
      # bytes # ";";
}

class Twasm_AtomicLoadOp<string mnemonic, Type resultType, int bytes>
    : Twasm_AtomicOp<mnemonic, bytes, "atomically loads " # bytes # " bytes"> {
  let description = "Wasm `" # mnemonic # "`: an atomic load, zero-extended "
      # "when narrower than the result.\n\n```mlir\n%v = twasm." # mnemonic
      # " %addr offset = 8\n```\n\nSpec: " # ThreadsSpec;
  let arguments = !con((ins I32:$address), AtomicOffset);
  let results = (outs resultType:$result);
  let assemblyFormat = "$address (`offset` `=` $offset^)? attr-dict";
}

class Twasm_AtomicStoreOp<string mnemonic, Type valueType, int bytes>
    : Twasm_AtomicOp<mnemonic, bytes, "atomically stores " # bytes # " bytes"> {
  let description = "Wasm `" # mnemonic # "`: an atomic store of the low "
      # "bytes of the value.\n\n```mlir\ntwasm." # mnemonic
      # " %addr, %v\n```\n\nSpec: " # ThreadsSpec;
  let arguments = !con((ins I32:$address, valueType:$value), AtomicOffset);
  let assemblyFormat = "$address `,` $value (`offset` `=` $offset^)? attr-dict";
}

class Twasm_AtomicRmwOp<string mnemonic, Type valueType, int bytes>
    : Twasm_AtomicOp<mnemonic, bytes,
                     "an atomic read-modify-write of " # bytes # " bytes"> {
  let description = "Wasm `" # mnemonic # "`: replaces the value in memory "
      # "and yields the old one (zero-extended when narrower).\n\n```mlir\n"
      # "%old = twasm." # mnemonic # " %addr, %v\n```\n\nSpec: " # ThreadsSpec;
  let arguments = !con((ins I32:$address, valueType:$value), AtomicOffset);
  let results = (outs valueType:$result);
  let assemblyFormat = "$address `,` $value (`offset` `=` $offset^)? attr-dict";
}

class Twasm_AtomicCmpxchgOp<string mnemonic, Type valueType, int bytes>
    : Twasm_AtomicOp<mnemonic, bytes,
                     "an atomic compare-exchange of " # bytes # " bytes"> {
  let description = "Wasm `" # mnemonic # "`: stores `replacement` if the "
      # "memory holds `expected` (compared in the access's width) and yields "
      # "the old value.\n\n```mlir\n%old = twasm." # mnemonic
      # " %addr, %expected, %replacement\n```\n\nSpec: " # ThreadsSpec;
  let arguments = !con((ins I32:$address, valueType:$expected,
                            valueType:$replacement), AtomicOffset);
  let results = (outs valueType:$result);
  let assemblyFormat = [{
    $address `,` $expected `,` $replacement (`offset` `=` $offset^)? attr-dict
  }];
}

def Twasm_I32AtomicLoadOp : Twasm_AtomicLoadOp<"i32.atomic.load", I32, 4>;
def Twasm_I64AtomicLoadOp : Twasm_AtomicLoadOp<"i64.atomic.load", I64, 8>;
def Twasm_I32AtomicLoad8UOp : Twasm_AtomicLoadOp<"i32.atomic.load8_u", I32, 1>;
def Twasm_I32AtomicLoad16UOp : Twasm_AtomicLoadOp<"i32.atomic.load16_u", I32, 2>;
def Twasm_I64AtomicLoad8UOp : Twasm_AtomicLoadOp<"i64.atomic.load8_u", I64, 1>;
def Twasm_I64AtomicLoad16UOp : Twasm_AtomicLoadOp<"i64.atomic.load16_u", I64, 2>;
def Twasm_I64AtomicLoad32UOp : Twasm_AtomicLoadOp<"i64.atomic.load32_u", I64, 4>;
def Twasm_I32AtomicStoreOp : Twasm_AtomicStoreOp<"i32.atomic.store", I32, 4>;
def Twasm_I64AtomicStoreOp : Twasm_AtomicStoreOp<"i64.atomic.store", I64, 8>;
def Twasm_I32AtomicStore8Op : Twasm_AtomicStoreOp<"i32.atomic.store8", I32, 1>;
def Twasm_I32AtomicStore16Op : Twasm_AtomicStoreOp<"i32.atomic.store16", I32, 2>;
def Twasm_I64AtomicStore8Op : Twasm_AtomicStoreOp<"i64.atomic.store8", I64, 1>;
def Twasm_I64AtomicStore16Op : Twasm_AtomicStoreOp<"i64.atomic.store16", I64, 2>;
def Twasm_I64AtomicStore32Op : Twasm_AtomicStoreOp<"i64.atomic.store32", I64, 4>;

// The read-modify-write family: seven operations in seven widths.
foreach rmw = [["add", "Add"], ["sub", "Sub"], ["and", "And"], ["or", "Or"],
               ["xor", "Xor"], ["xchg", "Xchg"]] in {
  defvar m = rmw[0];
  defvar n = rmw[1];
  def Twasm_I32AtomicRmw # n # Op
      : Twasm_AtomicRmwOp<"i32.atomic.rmw." # m, I32, 4>;
  def Twasm_I64AtomicRmw # n # Op
      : Twasm_AtomicRmwOp<"i64.atomic.rmw." # m, I64, 8>;
  def Twasm_I32AtomicRmw8 # n # UOp
      : Twasm_AtomicRmwOp<"i32.atomic.rmw8." # m # "_u", I32, 1>;
  def Twasm_I32AtomicRmw16 # n # UOp
      : Twasm_AtomicRmwOp<"i32.atomic.rmw16." # m # "_u", I32, 2>;
  def Twasm_I64AtomicRmw8 # n # UOp
      : Twasm_AtomicRmwOp<"i64.atomic.rmw8." # m # "_u", I64, 1>;
  def Twasm_I64AtomicRmw16 # n # UOp
      : Twasm_AtomicRmwOp<"i64.atomic.rmw16." # m # "_u", I64, 2>;
  def Twasm_I64AtomicRmw32 # n # UOp
      : Twasm_AtomicRmwOp<"i64.atomic.rmw32." # m # "_u", I64, 4>;
}
def Twasm_I32AtomicRmwCmpxchgOp
    : Twasm_AtomicCmpxchgOp<"i32.atomic.rmw.cmpxchg", I32, 4>;
def Twasm_I64AtomicRmwCmpxchgOp
    : Twasm_AtomicCmpxchgOp<"i64.atomic.rmw.cmpxchg", I64, 8>;
def Twasm_I32AtomicRmw8CmpxchgUOp
    : Twasm_AtomicCmpxchgOp<"i32.atomic.rmw8.cmpxchg_u", I32, 1>;
def Twasm_I32AtomicRmw16CmpxchgUOp
    : Twasm_AtomicCmpxchgOp<"i32.atomic.rmw16.cmpxchg_u", I32, 2>;
def Twasm_I64AtomicRmw8CmpxchgUOp
    : Twasm_AtomicCmpxchgOp<"i64.atomic.rmw8.cmpxchg_u", I64, 1>;
def Twasm_I64AtomicRmw16CmpxchgUOp
    : Twasm_AtomicCmpxchgOp<"i64.atomic.rmw16.cmpxchg_u", I64, 2>;
def Twasm_I64AtomicRmw32CmpxchgUOp
    : Twasm_AtomicCmpxchgOp<"i64.atomic.rmw32.cmpxchg_u", I64, 4>;

def Twasm_AtomicFenceOp : Twasm_Op<"atomic.fence", [AtomicEffects]> {
  let summary = "orders memory accesses, sequentially consistently";
  let description = "```mlir\ntwasm.atomic.fence\n```\n\nSpec: " # ThreadsSpec;
  let assemblyFormat = "attr-dict";
}

def Twasm_MemoryAtomicNotifyOp : Twasm_Op<"memory.atomic.notify", [AtomicEffects]> {
  let summary = "wakes threads waiting on an address; yields how many";
  let description = "```mlir\n%woken = twasm.memory.atomic.notify %addr, "
      # "%count\n```\n\nSpec: " # ThreadsSpec;
  let arguments = !con((ins I32:$address, I32:$count), AtomicOffset);
  let results = (outs I32:$result);
  let assemblyFormat = "$address `,` $count (`offset` `=` $offset^)? attr-dict";
  let extraClassDeclaration = "static constexpr unsigned kAccessBytes = 4;";
}

class Twasm_MemoryAtomicWaitOp<string mnemonic, Type valueType, int bytes>
    : Twasm_AtomicOp<mnemonic, bytes,
                     "waits until notified, if memory holds the expected value"> {
  let description = "Yields 0 (woken), 1 (the value differed) or 2 (timed "
      # "out).\n\n```mlir\n%r = twasm." # mnemonic
      # " %addr, %expected, %timeout\n```\n\nSpec: " # ThreadsSpec;
  let arguments = !con((ins I32:$address, valueType:$expected, I64:$timeout),
                       AtomicOffset);
  let results = (outs I32:$result);
  let assemblyFormat = [{
    $address `,` $expected `,` $timeout (`offset` `=` $offset^)? attr-dict
  }];
}
def Twasm_MemoryAtomicWait32Op
    : Twasm_MemoryAtomicWaitOp<"memory.atomic.wait32", I32, 4>;
def Twasm_MemoryAtomicWait64Op
    : Twasm_MemoryAtomicWaitOp<"memory.atomic.wait64", I64, 8>;

//===----------------------------------------------------------------------===//
// References and tables
//===----------------------------------------------------------------------===//

def Twasm_RefNullOp : Twasm_Op<"ref.null", [Pure, Twasm_ConstantExpression]> {
  let summary = "the null reference of a reference type";
  let description = [{
    ```mlir
    %n = twasm.ref.null : !twasm.externref
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-ref-mathsf-ref-null-t
  }];
  let results = (outs Twasm_RefType:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Twasm_RefIsNullOp : Twasm_Op<"ref.is_null", [Pure]> {
  let summary = "1 if a reference is null, else 0";
  let description = [{
    ```mlir
    %b = twasm.ref.is_null %r : !twasm.funcref
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-ref-mathsf-ref-is-null
  }];
  let arguments = (ins Twasm_RefType:$ref);
  let results = (outs I32:$result);
  let assemblyFormat = "$ref attr-dict `:` type($ref)";
  let hasFolder = 1;
}

def Twasm_RefFuncOp : Twasm_Op<"ref.func", [
    Pure, Twasm_ConstantExpression,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a reference to a function";
  let description = [{
    ```mlir
    %f = twasm.ref.func @on_start
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-ref-mathsf-ref-func-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$func);
  let results = (outs Twasm_FuncRef:$result);
  let assemblyFormat = "$func attr-dict";
}

def Twasm_TableGetOp : Twasm_Op<"table.get", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Twasm_TableState>, MemWrite<Twasm_Trap>]>]> {
  let summary = "reads a table element; traps out of bounds";
  let description = [{
    ```mlir
    %r = twasm.table.get @dispatch[%i] : !twasm.funcref
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-table-mathsf-table-get-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$table, I32:$index);
  let results = (outs Twasm_RefType:$result);
  let assemblyFormat = "$table `[` $index `]` attr-dict `:` type($result)";
}

def Twasm_TableSetOp : Twasm_Op<"table.set", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemWrite<Twasm_TableState>, MemWrite<Twasm_Trap>]>]> {
  let summary = "writes a table element; traps out of bounds";
  let description = [{
    ```mlir
    twasm.table.set @dispatch[%i], %r : !twasm.funcref
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-table-mathsf-table-set-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$table, I32:$index, Twasm_RefType:$value);
  let assemblyFormat = "$table `[` $index `]` `,` $value attr-dict `:` type($value)";
}

def Twasm_TableSizeOp : Twasm_Op<"table.size", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Twasm_TableState>]>]> {
  let summary = "the table's number of elements";
  let description = [{
    ```mlir
    %n = twasm.table.size @dispatch
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-table-mathsf-table-size-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$table);
  let results = (outs I32:$result);
  let assemblyFormat = "$table attr-dict";
}

def Twasm_TableGrowOp : Twasm_Op<"table.grow", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Twasm_TableState>, MemWrite<Twasm_TableState>]>]> {
  let summary = "grows a table; yields the old size or -1";
  let description = [{
    New elements are set to `init`.

    ```mlir
    %old = twasm.table.grow @dispatch, %init, %n : !twasm.funcref
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-table-mathsf-table-grow-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$table, Twasm_RefType:$init, I32:$delta);
  let results = (outs I32:$result);
  let assemblyFormat = "$table `,` $init `,` $delta attr-dict `:` type($init)";
}

def Twasm_TableFillOp : Twasm_Op<"table.fill", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemWrite<Twasm_TableState>, MemWrite<Twasm_Trap>]>]> {
  let summary = "sets a range of table elements to a value";
  let description = [{
    ```mlir
    twasm.table.fill @dispatch, %i, %r, %n : !twasm.funcref
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-table-mathsf-table-fill-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$table, I32:$index, Twasm_RefType:$value,
                       I32:$size);
  let assemblyFormat = [{
    $table `,` $index `,` $value `,` $size attr-dict `:` type($value)
  }];
}

def Twasm_TableCopyOp : Twasm_Op<"table.copy", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Twasm_TableState>, MemWrite<Twasm_TableState>,
                   MemWrite<Twasm_Trap>]>]> {
  let summary = "copies a range of elements between tables";
  let description = [{
    ```mlir
    twasm.table.copy @dst, @src, %d, %s, %n
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-table-mathsf-table-copy-x-y
  }];
  let arguments = (ins FlatSymbolRefAttr:$dst_table, FlatSymbolRefAttr:$src_table,
                       I32:$dst, I32:$src, I32:$size);
  let assemblyFormat = [{
    $dst_table `,` $src_table `,` $dst `,` $src `,` $size attr-dict
  }];
}

def Twasm_TableInitOp : Twasm_Op<"table.init", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Twasm_SegmentState>, MemWrite<Twasm_TableState>,
                   MemWrite<Twasm_Trap>]>]> {
  let summary = "copies elements from an element segment into a table";
  let description = [{
    ```mlir
    twasm.table.init @dispatch, @handlers, %d, %s, %n
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-table-mathsf-table-init-x-y
  }];
  let arguments = (ins FlatSymbolRefAttr:$table, FlatSymbolRefAttr:$segment,
                       I32:$dst, I32:$src, I32:$size);
  let assemblyFormat = [{
    $table `,` $segment `,` $dst `,` $src `,` $size attr-dict
  }];
}

def Twasm_ElemDropOp : Twasm_Op<"elem.drop", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemWrite<Twasm_SegmentState>]>]> {
  let summary = "discards an element segment's references";
  let description = [{
    ```mlir
    twasm.elem.drop @handlers
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-table-mathsf-elem-drop-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$segment);
  let assemblyFormat = "$segment attr-dict";
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

def Twasm_CallOp : Twasm_Op<"call", [
    CallOpInterface, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "calls a function directly";
  let description = [{
    ```mlir
    %r = call @square(%x) : (f32) -> f32
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-control-mathsf-call-x
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee,
                       Variadic<Twasm_ValType>:$operands,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs);
  let results = (outs Variadic<Twasm_ValType>);
  let assemblyFormat = [{
    $callee `(` $operands `)` attr-dict `:` functional-type($operands, results)
  }];
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "FuncOp":$callee, CArg<"::mlir::ValueRange", "{}">:$operands)>];
  let extraClassDeclaration = [{
    ::mlir::FunctionType getCalleeType();
    operand_range getArgOperands() { return getOperands(); }
    ::mlir::MutableOperandRange getArgOperandsMutable() {
      return getOperandsMutable();
    }
    ::mlir::CallInterfaceCallable getCallableForCallee() {
      return getCalleeAttr();
    }
    void setCalleeFromCallable(::mlir::CallInterfaceCallable callee) {
      (*this)->setAttr(getCalleeAttrName(),
                       ::llvm::cast<::mlir::SymbolRefAttr>(callee));
    }
  }];
}

def Twasm_CallIndirectOp : Twasm_Op<"call_indirect", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "calls the function a table element refers to";
  let description = [{
    The expected function type is the op's operand and result types. Traps if
    the index is out of the table's bounds, if the element is null, or if the
    function's type differs from the expected one.

    ```mlir
    %r = call_indirect @dispatch[%i](%x) : (i32) -> i32
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-control-mathsf-call-indirect-x-y
  }];
  let arguments = (ins FlatSymbolRefAttr:$table, I32:$index,
                       Variadic<Twasm_ValType>:$callee_operands);
  let results = (outs Variadic<Twasm_ValType>:$results);
  let assemblyFormat = [{
    $table `[` $index `]` `` `(` $callee_operands `)` attr-dict `:`
    functional-type($callee_operands, $results)
  }];
  let extraClassDeclaration = [{
    /// The function type the callee must have.
    ::mlir::FunctionType getCalleeType();
  }];
}

//===----------------------------------------------------------------------===//
// Control flow: the terminators of a function's control-flow graph
//===----------------------------------------------------------------------===//

def Twasm_BrOp : Twasm_Op<"br", [
    Pure, Terminator,
    DeclareOpInterfaceMethods<BranchOpInterface, ["getSuccessorForOperands"]>]> {
  let summary = "branches to a label";
  let description = [{
    A `br` to a `block` or `if` label goes to the block after its `end`; to a
    `loop` label, back to the loop's header. The label's values travel as
    block arguments.

    ```mlir
    br ^exit(%sum : i32)
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-control-mathsf-br-l
  }];
  let arguments = (ins Variadic<AnyType>:$dest_operands);
  let successors = (successor AnySuccessor:$dest);
  let assemblyFormat = [{
    $dest (`(` $dest_operands^ `:` type($dest_operands) `)`)? attr-dict
  }];
  let hasCanonicalizer = 1;
}

def Twasm_BrIfOp : Twasm_Op<"br_if", [
    Pure, Terminator, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<BranchOpInterface, ["getSuccessorForOperands"]>]> {
  let summary = "branches to the first successor if the condition is non-zero";
  let description = [{
    Models Wasm's `br_if` (the second successor is the fall-through) and the
    entry of an `if` (the successors are the two arms).

    ```mlir
    br_if %c, ^loop(%i : i32), ^next
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-control-mathsf-br-if-l
  }];
  let arguments = (ins I32:$condition,
                       Variadic<AnyType>:$true_dest_operands,
                       Variadic<AnyType>:$false_dest_operands);
  let successors = (successor AnySuccessor:$true_dest, AnySuccessor:$false_dest);
  let assemblyFormat = [{
    $condition `,`
    $true_dest (`(` $true_dest_operands^ `:` type($true_dest_operands) `)`)? `,`
    $false_dest (`(` $false_dest_operands^ `:` type($false_dest_operands) `)`)?
    attr-dict
  }];
  let hasCanonicalizer = 1;
}

def Twasm_BrTableOp : Twasm_Op<"br_table", [
    Pure, Terminator, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<BranchOpInterface, ["getSuccessorForOperands"]>]> {
  let summary = "branches to the label an index selects, or to the default";
  let description = [{
    Index `i` selects the `i`-th target; an index past the last target
    selects `default`.

    ```mlir
    br_table %i [^case0, ^case1(%x : i32)], default ^other
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-control-mathsf-br-table-l-ast-l-n
  }];
  let arguments = (ins I32:$index,
                       Variadic<AnyType>:$default_operands,
                       VariadicOfVariadic<AnyType, "target_operand_segments">:$target_operands,
                       DenseI32ArrayAttr:$target_operand_segments);
  let successors = (successor AnySuccessor:$default_dest,
                              VariadicSuccessor<AnySuccessor>:$target_dests);
  let assemblyFormat = [{
    $index custom<BrTableTargets>($target_dests, $target_operands,
                                  type($target_operands)) `,`
    `default` $default_dest (`(` $default_operands^ `:` type($default_operands) `)`)?
    attr-dict
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Twasm_ReturnOp : Twasm_Op<"return", [
    Pure, Terminator, ReturnLike, HasParent<"FuncOp">]> {
  let summary = "returns from the function";
  let description = [{
    ```mlir
    return %r : i32
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-control-mathsf-return
  }];
  let arguments = (ins Variadic<Twasm_ValType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let hasVerifier = 1;
}

def Twasm_UnreachableOp : Twasm_Op<"unreachable", [
    Terminator, MemoryEffects<[MemWrite<Twasm_Trap>]>]> {
  let summary = "traps unconditionally";
  let description = [{
    ```mlir
    unreachable
    ```

    Spec: https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-control-mathsf-unreachable
  }];
  let assemblyFormat = "attr-dict";
}

#endif // TWASM_OPS_TD
