//===- Manifest.cpp - what a compiled module's loader must know -----------===//

#include "twasm/Pipelines/Manifest.h"

#include "twasm/Conversion/InstanceLayout.h"
#include "twasm/KernelAbi.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::twasm;

namespace {

std::string typeName(Type type) {
  if (isa<FuncRefType>(type))
    return "funcref";
  if (isa<ExternRefType>(type))
    return "externref";
  std::string name;
  llvm::raw_string_ostream stream(name);
  type.print(stream);
  return name;
}

/// A constant expression's value: a literal, a reference, or another
/// global's value (which the loader reads at instantiation).
void writeConstantExpression(llvm::json::OStream &json, Region &region,
                             const InstanceLayout &layout) {
  json.objectBegin();
  Operation &op = region.front().front();
  if (auto c = dyn_cast<I32ConstOp>(op))
    json.attribute("i32", int64_t(static_cast<int32_t>(c.getValue())));
  else if (auto c = dyn_cast<I64ConstOp>(op))
    // As a string: JSON numbers lose 64-bit precision in many readers.
    json.attribute("i64", std::to_string(static_cast<int64_t>(c.getValue())));
  else if (auto c = dyn_cast<F32ConstOp>(op))
    json.attribute("f32_bits", c.getValue().bitcastToAPInt().getZExtValue());
  else if (auto c = dyn_cast<F64ConstOp>(op))
    json.attribute(
        "f64_bits",
        std::to_string(c.getValue().bitcastToAPInt().getZExtValue()));
  else if (isa<RefNullOp>(op))
    json.attribute("ref", 0);
  else if (auto ref = dyn_cast<RefFuncOp>(op))
    json.attribute("ref", layout.functionIndex(ref.getFunc()) + 1);
  else if (auto get = dyn_cast<GlobalGetOp>(op))
    json.attribute("global", get.getGlobal());
  else
    json.attribute("unsupported", op.getName().getStringRef());
  json.objectEnd();
}

void writeImport(llvm::json::OStream &json, std::optional<ImportAttr> import) {
  if (!import) {
    json.attribute("import", nullptr);
    return;
  }
  json.attributeArray("import", [&] {
    json.value(import->getModule());
    json.value(import->getName());
  });
}

/// Whether a thread of `kernel` may wait for other threads: whether it
/// reaches, through direct calls, a call of a synchronizing intrinsic, or an
/// indirect call in a module that calls one anywhere.
bool synchronizes(twasm::ModuleOp module, FuncOp kernel) {
  auto callsSynchronizingIntrinsic = [&](CallOp call) {
    auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
        call, call.getCalleeAttr());
    std::optional<ImportAttr> import =
        callee ? callee.getImport() : std::nullopt;
    return import && import->getModule() == "twasm" &&
           tensorwasm::abi::isSynchronizingIntrinsic(import->getName().str());
  };
  bool moduleSynchronizes = false;
  module.walk([&](CallOp call) {
    moduleSynchronizes |= callsSynchronizingIntrinsic(call);
  });
  if (!moduleSynchronizes)
    return false;
  llvm::SmallPtrSet<Operation *, 16> visited;
  llvm::SmallVector<FuncOp> pending = {kernel};
  while (!pending.empty()) {
    FuncOp func = pending.pop_back_val();
    if (!visited.insert(func).second)
      continue;
    WalkResult result = func.walk([&](Operation *op) {
      if (isa<CallIndirectOp>(op))
        return WalkResult::interrupt();
      auto call = dyn_cast<CallOp>(op);
      if (!call)
        return WalkResult::advance();
      if (callsSynchronizingIntrinsic(call))
        return WalkResult::interrupt();
      if (auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
              call, call.getCalleeAttr()))
        pending.push_back(callee);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return true;
  }
  return false;
}

} // namespace

static void writeTypes(llvm::json::OStream &json, llvm::StringRef key,
                       TypeRange types) {
  json.attributeArray(key, [&] {
    for (Type type : types)
      json.value(typeName(type));
  });
}

static std::string writeManifest(twasm::ModuleOp module, llvm::StringRef kind,
                                 llvm::StringRef targetKey,
                                 llvm::StringRef targetValue,
                                 const InstanceLayout &layout) {
  std::string text;
  llvm::raw_string_ostream stream(text);
  llvm::json::OStream json(stream, /*IndentSize=*/2);
  json.objectBegin();
  json.attribute("format", "tensorwasm-kernel-manifest");
  json.attribute("abi", int64_t(tensorwasm::abi::kVersion));
  json.attributeObject("target", [&] {
    json.attribute("kind", kind);
    json.attribute(targetKey, targetValue);
  });

  json.attributeBegin("memory");
  if (MemoryOp memory = module.getMemory()) {
    json.objectBegin();
    json.attribute("min_pages", int64_t(memory.getMinPages()));
    if (std::optional<uint64_t> max = memory.getMaxPages())
      json.attribute("max_pages", int64_t(*max));
    else
      json.attribute("max_pages", nullptr);
    json.attribute("shared", memory.getShared());
    writeImport(json, memory.getImport());
    json.objectEnd();
  } else {
    json.value(nullptr);
  }
  json.attributeEnd();

  json.attribute("globals_bytes", int64_t(layout.globalsBytes()));
  json.attributeArray("globals", [&] {
    for (const InstanceLayout::GlobalSlot &slot : layout.globalSlots()) {
      GlobalOp global = slot.global;
      json.objectBegin();
      json.attribute("symbol", global.getSymName());
      json.attribute("type", typeName(global.getType()));
      json.attribute("offset", int64_t(slot.offset));
      json.attribute("mutable", global.getIsMutable());
      writeImport(json, global.getImport());
      if (!global.getImport()) {
        json.attributeBegin("init");
        writeConstantExpression(json, global.getInit(), layout);
        json.attributeEnd();
      }
      json.objectEnd();
    }
  });

  json.attributeArray("tables", [&] {
    for (const InstanceLayout::TableRegion &region : layout.tables()) {
      TableOp table = region.table;
      json.objectBegin();
      json.attribute("symbol", table.getSymName());
      json.attribute("offset", int64_t(region.offset));
      json.attribute("size", int64_t(region.size));
      json.attribute("capacity", int64_t(region.capacity));
      if (std::optional<uint64_t> max = table.getMaxSize())
        json.attribute("max_size", int64_t(*max));
      else
        json.attribute("max_size", nullptr);
      json.attribute("type", typeName(table.getElemType()));
      writeImport(json, table.getImport());
      json.attributeArray("segments", [&] {
        for (ElemOp elem : module.getBody()->getOps<ElemOp>()) {
          if (elem.getMode() != SegmentMode::Active ||
              elem.getTable() != table.getSymName())
            continue;
          json.objectBegin();
          json.attributeBegin("offset");
          writeConstantExpression(json, elem.getOffset(), layout);
          json.attributeEnd();
          json.attributeArray("entries", [&] {
            auto yield = cast<YieldOp>(elem.getItems().front().getTerminator());
            for (Value item : yield.getOperands()) {
              Operation *def = item.getDefiningOp();
              if (auto ref = dyn_cast<RefFuncOp>(def))
                json.value(layout.functionIndex(ref.getFunc()) + 1);
              else
                json.value(0);
            }
          });
          json.objectEnd();
        }
      });
      json.objectEnd();
    }
  });

  json.attributeArray("data", [&] {
    for (DataOp data : module.getBody()->getOps<DataOp>()) {
      if (!data.isActive())
        continue;
      json.objectBegin();
      json.attributeBegin("offset");
      writeConstantExpression(json, data.getOffset(), layout);
      json.attributeEnd();
      json.attribute("hex", llvm::toHex(data.getBytes(), /*LowerCase=*/true));
      json.objectEnd();
    }
  });

  json.attributeArray("function_imports", [&] {
    for (const InstanceLayout::Function &function : layout.functions()) {
      // The "twasm" intrinsics are the compiler's to lower, not the
      // loader's to supply.
      if (!function.import || function.import->first == "twasm")
        continue;
      json.objectBegin();
      json.attribute("function_index",
                     int64_t(layout.functionIndex(function.symbol)));
      json.attributeArray("import", [&] {
        json.value(function.import->first);
        json.value(function.import->second);
      });
      writeTypes(json, "params", function.type.getInputs());
      writeTypes(json, "results", function.type.getResults());
      json.objectEnd();
    }
  });

  json.attributeArray("exports", [&] {
    for (ExportOp exported : module.getBody()->getOps<ExportOp>()) {
      json.objectBegin();
      json.attribute("name", exported.getName());
      json.attribute("kind", stringifyExternKind(exported.getKind()));
      json.attribute("symbol", exported.getTarget());
      if (exported.getKind() == ExternKind::Func) {
        const InstanceLayout::Function *function =
            layout.function(exported.getTarget());
        json.attribute("function_index",
                       int64_t(layout.functionIndex(exported.getTarget())));
        writeTypes(json, "params", function->type.getInputs());
        writeTypes(json, "results", function->type.getResults());
      } else if (exported.getKind() == ExternKind::Global) {
        auto global = SymbolTable::lookupNearestSymbolFrom<GlobalOp>(
            module, exported.getTargetAttr());
        json.attribute("type", typeName(global.getType()));
        json.attribute("mutable", global.getIsMutable());
        if (std::optional<uint64_t> slot =
                layout.globalSlot(exported.getTarget()))
          json.attribute("offset", int64_t(*slot));
        else
          json.attribute("offset", nullptr);
      }
      json.objectEnd();
    }
  });

  json.attributeBegin("start");
  auto starts = module.getBody()->getOps<StartOp>();
  if (!starts.empty())
    json.value(int64_t(layout.functionIndex((*starts.begin()).getFunc())));
  else
    json.value(nullptr);
  json.attributeEnd();

  json.attributeArray("kernels", [&] {
    unsigned index = 0;
    for (KernelOp kernel : module.getBody()->getOps<KernelOp>()) {
      FuncOp func = kernel.getFunction();
      json.objectBegin();
      json.attribute("export", kernel.getName());
      json.attribute("entry", kernelEntryName(kernel.getName(), index++));
      json.attribute("function_index",
                     int64_t(layout.functionIndex(func.getSymName())));
      json.attributeArray("params", [&] {
        for (Type input : func.getFunctionType().getInputs())
          json.value(typeName(input));
      });
      json.attribute("synchronizes", synchronizes(module, func));
      if (std::optional<llvm::ArrayRef<int32_t>> block = kernel.getBlock()) {
        json.attributeObject("shape", [&] {
          json.attributeArray("block", [&] {
            for (int32_t extent : *block)
              json.value(extent);
          });
          json.attribute("shared_bytes", int64_t(*kernel.getSharedBytes()));
        });
      }
      json.objectEnd();
    }
  });
  json.objectEnd();
  stream << "\n";
  return text;
}

std::string mlir::twasm::writeKernelManifest(twasm::ModuleOp module,
                                             const PTXTarget &target) {
  InstanceLayout layout(module);
  return writeManifest(module, "ptx", "chip", target.chip, layout);
}

std::string mlir::twasm::writeHostManifest(twasm::ModuleOp module,
                                           llvm::StringRef cpu) {
  InstanceLayout layout(module, InstanceLayout::hostOptions());
  return writeManifest(module, "host", "cpu", cpu, layout);
}
