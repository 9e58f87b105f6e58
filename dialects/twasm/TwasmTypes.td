//===- TwasmTypes.td - twasm reference and local-slot types ---*- tablegen -*-===//

#ifndef TWASM_TYPES_TD
#define TWASM_TYPES_TD

include "TwasmDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class Twasm_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Twasm_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Twasm_FuncRefType : Twasm_Type<"FuncRef", "funcref"> {
  let summary = "a nullable reference to a function (Wasm `funcref`)";
  let description = [{
    Example: `%f = twasm.ref.func @callee`

    Spec: https://webassembly.github.io/spec/core/syntax/types.html#reference-types
  }];
}

def Twasm_ExternRefType : Twasm_Type<"ExternRef", "externref"> {
  let summary = "a nullable reference to a host object (Wasm `externref`)";
  let description = [{
    Example: `%e = twasm.ref.null : !twasm.externref`

    Spec: https://webassembly.github.io/spec/core/syntax/types.html#reference-types
  }];
}

def Twasm_LocalType : Twasm_Type<"Local", "local"> {
  let summary = "a function-local variable slot holding one value";
  let description = [{
    The type of a `twasm.local` slot. Slots exist only until
    `twasm-promote-locals` turns them into SSA values.

    Example: `%l = twasm.local : !twasm.local<i32>`
  }];
  let parameters = (ins "::mlir::Type":$valueType);
  let builders = [TypeBuilderWithInferredContext<(ins "::mlir::Type":$valueType), [{
    return $_get(valueType.getContext(), valueType);
  }]>];
  let assemblyFormat = "`<` $valueType `>`";
  let genVerifyDecl = 1;
}

def Twasm_FuncRef : Type<CPred<"::llvm::isa<::mlir::twasm::FuncRefType>($_self)">,
                         "funcref", "::mlir::twasm::FuncRefType">,
                    BuildableType<"::mlir::twasm::FuncRefType::get($_builder.getContext())">;
def Twasm_ExternRef : Type<CPred<"::llvm::isa<::mlir::twasm::ExternRefType>($_self)">,
                           "externref", "::mlir::twasm::ExternRefType">;
def Twasm_RefType : AnyTypeOf<[Twasm_FuncRef, Twasm_ExternRef], "reference type">;
def Twasm_NumType : AnyTypeOf<[I32, I64, F32, F64], "Wasm number type">;
def Twasm_ValType : AnyTypeOf<[I32, I64, F32, F64, Twasm_FuncRef, Twasm_ExternRef],
                              "Wasm value type">;
def Twasm_LocalSlot : Type<CPred<"::llvm::isa<::mlir::twasm::LocalType>($_self)">,
                           "local slot", "::mlir::twasm::LocalType">;

#endif // TWASM_TYPES_TD
