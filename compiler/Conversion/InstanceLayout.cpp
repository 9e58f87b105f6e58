//===- InstanceLayout.cpp - where a module's state lives on a device ------===//

#include "twasm/Conversion/InstanceLayout.h"
#include "twasm/KernelAbi.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::twasm;

/// The value of a constant expression that is a single literal, or null.
static Attribute
literalValue(Region &init, const llvm::StringMap<uint32_t> &functionIndices) {
  if (init.empty())
    return {};
  Block &block = init.front();
  if (block.getOperations().size() != 2)
    return {};
  Operation &op = block.front();
  MLIRContext *context = op.getContext();
  if (auto constant = dyn_cast<I32ConstOp>(op))
    return constant.getValueAttr();
  if (auto constant = dyn_cast<I64ConstOp>(op))
    return constant.getValueAttr();
  if (auto constant = dyn_cast<F32ConstOp>(op))
    return constant.getValueAttr();
  if (auto constant = dyn_cast<F64ConstOp>(op))
    return constant.getValueAttr();
  if (isa<RefNullOp>(op))
    return IntegerAttr::get(IntegerType::get(context, 32), 0);
  if (auto ref = dyn_cast<RefFuncOp>(op))
    return IntegerAttr::get(IntegerType::get(context, 32),
                            functionIndices.lookup(ref.getFunc()) + 1);
  return {};
}

InstanceLayout::InstanceLayout(ModuleOp module, Options options) {
  for (FuncOp func : module.getBody()->getOps<FuncOp>()) {
    functionIndices[func.getSymName()] = functionList.size();
    Function entry{func.getSymName(), func.getFunctionType(), std::nullopt};
    if (std::optional<ImportAttr> import = func.getImport())
      entry.import = {import->getModule(), import->getName()};
    functionList.push_back(entry);
  }
  module.walk([&](RefFuncOp ref) {
    auto it = functionIndices.find(ref.getFunc());
    if (it != functionIndices.end())
      functionList[it->second].referenced = true;
  });

  llvm::StringSet<> exportedGlobals;
  if (options.slotsForExportedGlobals)
    for (ExportOp exported : module.getBody()->getOps<ExportOp>())
      if (exported.getKind() == ExternKind::Global)
        exportedGlobals.insert(exported.getTarget());
  for (GlobalOp global : module.getBody()->getOps<GlobalOp>()) {
    if (!global.getIsMutable() && !global.getImport())
      if (Attribute value = literalValue(global.getInit(), functionIndices)) {
        constants[global.getSymName()] = value;
        if (!exportedGlobals.contains(global.getSymName()))
          continue;
      }
    slotOfGlobal[global.getSymName()] = bytes;
    slots.push_back({global, bytes});
    bytes += ::tensorwasm::abi::kGlobalSlotBytes;
  }
  for (TableOp table : module.getBody()->getOps<TableOp>()) {
    uint32_t size = static_cast<uint32_t>(table.getMinSize());
    uint32_t capacity = size;
    if (options.growableTables) {
      uint64_t limit = table.getMaxSize().value_or(kMaxGrownTableSize);
      capacity = static_cast<uint32_t>(std::max<uint64_t>(
          size, std::min<uint64_t>(limit, kMaxGrownTableSize)));
    }
    tableRegions.push_back({table, bytes, size, capacity});
    bytes += uint64_t(::tensorwasm::abi::kTableEntryBytes) *
             (uint64_t(capacity) + 1);
    bytes = llvm::alignTo(bytes, uint64_t(::tensorwasm::abi::kGlobalSlotBytes));
  }
  if (options.segmentSlots) {
    for (Operation &op : *module.getBody()) {
      uint32_t length;
      if (auto data = dyn_cast<DataOp>(op))
        length = static_cast<uint32_t>(data.getBytes().size());
      else if (auto elem = dyn_cast<ElemOp>(op))
        length = elem.getItems().front().getTerminator()->getNumOperands();
      else
        continue;
      segmentOfSymbol[SymbolTable::getSymbolName(&op)] = segments.size();
      segments.push_back({&op, bytes, length});
      bytes += 4;
    }
    bytes = llvm::alignTo(bytes, uint64_t(::tensorwasm::abi::kGlobalSlotBytes));
  }
  bytes = std::max<uint64_t>(bytes, ::tensorwasm::abi::kGlobalSlotBytes);
}

std::optional<uint64_t>
InstanceLayout::globalSlot(llvm::StringRef symbol) const {
  auto it = slotOfGlobal.find(symbol);
  if (it == slotOfGlobal.end())
    return std::nullopt;
  return it->second;
}

Attribute InstanceLayout::constantGlobal(llvm::StringRef symbol) const {
  return constants.lookup(symbol);
}

const InstanceLayout::TableRegion *
InstanceLayout::table(llvm::StringRef symbol) const {
  for (const TableRegion &region : tableRegions)
    if (const_cast<TableOp &>(region.table).getSymName() == symbol)
      return &region;
  return nullptr;
}

const InstanceLayout::SegmentSlot *
InstanceLayout::segmentSlot(llvm::StringRef symbol) const {
  auto it = segmentOfSymbol.find(symbol);
  return it == segmentOfSymbol.end() ? nullptr : &segments[it->second];
}

uint32_t InstanceLayout::functionIndex(llvm::StringRef symbol) const {
  return functionIndices.lookup(symbol);
}

const InstanceLayout::Function *
InstanceLayout::function(llvm::StringRef symbol) const {
  auto it = functionIndices.find(symbol);
  return it == functionIndices.end() ? nullptr : &functionList[it->second];
}

std::string mlir::twasm::kernelEntryName(llvm::StringRef exportName,
                                         unsigned index) {
  bool plain = !exportName.empty() && !llvm::isDigit(exportName[0]) &&
               llvm::all_of(exportName, [](char c) {
                 return llvm::isAlnum(c) || c == '_';
               });
  if (plain && !exportName.starts_with("wasm_") &&
      !exportName.starts_with("__twasm") &&
      !exportName.starts_with("twasm_kernel_"))
    return exportName.str();
  return "twasm_kernel_" + std::to_string(index);
}
