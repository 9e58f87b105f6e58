//===- TwasmAttrs.td - twasm attributes and enums -------------*- tablegen -*-===//

#ifndef TWASM_ATTRS_TD
#define TWASM_ATTRS_TD

include "TwasmDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class Twasm_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Twasm_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Twasm_ImportAttr : Twasm_Attr<"Import", "import"> {
  let summary = "where an imported definition comes from";
  let description = [{
    The two-level name `module`/`name` under which the embedder supplies an
    imported function, global, memory or table.

    Example: `#twasm.import<"env", "log">`

    Spec: https://webassembly.github.io/spec/core/syntax/modules.html#imports
  }];
  let parameters = (ins StringRefParameter<"module name">:$module,
                        StringRefParameter<"field name">:$name);
  let assemblyFormat = "`<` $module `,` $name `>`";
}

def Twasm_ExternKind : I32EnumAttr<"ExternKind", "kind of an exported definition", [
    I32EnumAttrCase<"Func", 0, "func">,
    I32EnumAttrCase<"Table", 1, "table">,
    I32EnumAttrCase<"Memory", 2, "memory">,
    I32EnumAttrCase<"Global", 3, "global">]> {
  let cppNamespace = "::mlir::twasm";
}

def Twasm_SegmentMode : I32EnumAttr<"SegmentMode", "how an element segment is used", [
    I32EnumAttrCase<"Active", 0, "active">,
    I32EnumAttrCase<"Passive", 1, "passive">,
    I32EnumAttrCase<"Declarative", 2, "declarative">]> {
  let cppNamespace = "::mlir::twasm";
}

#endif // TWASM_ATTRS_TD
