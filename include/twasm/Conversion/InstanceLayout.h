//===- InstanceLayout.h - where a module's state lives on a device -*- C++
//-*-===//
//
// Decides, once per module, how the state a kernel shares with its instance
// is laid out (docs/kernel-abi.md section 5.1): which globals get a slot in
// the globals block and which are compiled in as constants, where each table
// lives, and each function's Wasm index. The lowering and the manifest both
// read it, so they cannot disagree.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_CONVERSION_INSTANCELAYOUT_H
#define TWASM_CONVERSION_INSTANCELAYOUT_H

#include "twasm/TwasmOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <optional>

namespace mlir::twasm {

class InstanceLayout {
public:
  struct GlobalSlot {
    GlobalOp global;
    /// Byte offset in the globals block.
    uint64_t offset;
  };
  struct TableRegion {
    TableOp table;
    /// Byte offset of the element count; the elements follow it.
    uint64_t offset;
    /// Elements the region holds (the table's minimum size).
    uint32_t size;
  };

  struct Function {
    llvm::StringRef symbol;
    FunctionType type;
    /// Set for an imported function: its module and name.
    std::optional<std::pair<llvm::StringRef, llvm::StringRef>> import;
    /// Whether a `ref.func` names it anywhere, so a table may hold it.
    bool referenced = false;
  };

  explicit InstanceLayout(ModuleOp module);

  /// Functions by Wasm index.
  llvm::ArrayRef<Function> functions() const { return functionList; }
  const Function *function(llvm::StringRef symbol) const;

  /// The slot of a global that needs one, or nullopt if it is a constant.
  std::optional<uint64_t> globalSlot(llvm::StringRef symbol) const;
  /// The value of an immutable global with a literal initializer: an
  /// IntegerAttr or FloatAttr, or for references the i32 encoding (0 for
  /// null, function index + 1).
  Attribute constantGlobal(llvm::StringRef symbol) const;
  const TableRegion *table(llvm::StringRef symbol) const;
  /// The Wasm function index of a function symbol.
  uint32_t functionIndex(llvm::StringRef symbol) const;

  llvm::ArrayRef<GlobalSlot> globalSlots() const { return slots; }
  llvm::ArrayRef<TableRegion> tables() const { return tableRegions; }
  /// Bytes the globals block needs (at least 8, so it is never empty). May
  /// exceed what a device can hold for huge tables: callers check.
  uint64_t globalsBytes() const { return bytes; }

private:
  llvm::SmallVector<GlobalSlot> slots;
  llvm::StringMap<uint64_t> slotOfGlobal;
  llvm::StringMap<Attribute> constants;
  llvm::SmallVector<TableRegion> tableRegions;
  llvm::StringMap<uint32_t> functionIndices;
  llvm::SmallVector<Function> functionList;
  uint64_t bytes = 0;
};

/// The device entry-point name of the `index`-th kernel, exported as
/// `exportName`: the export name itself when it is a plain identifier that
/// cannot collide with the compiler's own symbols, else "twasm_kernel_<index>".
std::string kernelEntryName(llvm::StringRef exportName, unsigned index);

} // namespace mlir::twasm

#endif // TWASM_CONVERSION_INSTANCELAYOUT_H
