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

/// What an InstanceLayout lays out beyond what the GPU needs.
struct InstanceLayoutOptions {
  /// Give every exported global a slot, constant or not, so a loader can
  /// read it.
  bool slotsForExportedGlobals = false;
  /// Lay out segment slots, for code that runs memory.init and
  /// table.init.
  bool segmentSlots = false;
  /// Let tables grow up to their maximum (at most
  /// InstanceLayout::kMaxGrownTableSize elements, or their minimum if larger).
  bool growableTables = false;
};

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
    /// Elements the table has at instantiation (its minimum size).
    uint32_t size;
    /// Elements the region has room for: how far table.grow can take it.
    uint32_t capacity;
  };
  /// The state of a data or element segment that the code can use after
  /// instantiation (memory.init, table.init): a 4-byte count of the elements
  /// it still has, 0 once dropped.
  struct SegmentSlot {
    Operation *segment;
    uint64_t offset;
    /// Bytes (data) or references (elements) of the segment.
    uint32_t length;
  };
  using Options = InstanceLayoutOptions;
  /// A table without a declared maximum grows to at most this many
  /// elements where tables can grow.
  static constexpr uint32_t kMaxGrownTableSize = 1 << 16;

  struct Function {
    llvm::StringRef symbol;
    FunctionType type;
    /// Set for an imported function: its module and name.
    std::optional<std::pair<llvm::StringRef, llvm::StringRef>> import;
    /// Whether a `ref.func` names it anywhere, so a table may hold it.
    bool referenced = false;
  };

  explicit InstanceLayout(ModuleOp module, Options options = {});
  /// The options of the CPU backend's layout (docs/host-abi.md).
  static Options hostOptions() {
    Options options;
    options.slotsForExportedGlobals = true;
    options.segmentSlots = true;
    options.growableTables = true;
    return options;
  }

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
  llvm::ArrayRef<SegmentSlot> segmentSlots() const { return segments; }
  /// The slot of the data or element segment `symbol`, if laid out.
  const SegmentSlot *segmentSlot(llvm::StringRef symbol) const;
  llvm::ArrayRef<TableRegion> tables() const { return tableRegions; }
  /// Bytes the globals block needs (at least 8, so it is never empty). May
  /// exceed what a device can hold for huge tables: callers check.
  uint64_t globalsBytes() const { return bytes; }

private:
  llvm::SmallVector<GlobalSlot> slots;
  llvm::StringMap<uint64_t> slotOfGlobal;
  llvm::StringMap<Attribute> constants;
  llvm::SmallVector<TableRegion> tableRegions;
  llvm::SmallVector<SegmentSlot> segments;
  llvm::StringMap<size_t> segmentOfSymbol;
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
