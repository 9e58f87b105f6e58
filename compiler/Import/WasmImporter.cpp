//===- WasmImporter.cpp - WebAssembly modules to twasm IR
//------------------===//
//
// Text is parsed and encoded by our own parser; every binary is checked by our
// own validator before wabt's binary reader builds the IR the translation
// walks (docs/decisions/0001-wasm-front-end.md).
//
//===----------------------------------------------------------------------===//

#include "twasm/Import/WasmImporter.h"

#include "BinaryValidator.h"
#include "TextParser.h"
#include "Translation.h"
#include "Utf8.h"
#include "twasm/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"

using namespace mlir;
using namespace mlir::twasm;

static llvm::Error makeError(const llvm::Twine &reason) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), reason);
}

//===----------------------------------------------------------------------===//
// Format detection
//===----------------------------------------------------------------------===//

/// Skips whitespace and `;;` / `(; ;)` comments at the start of a text module.
static llvm::StringRef skipBlanksAndComments(llvm::StringRef text) {
  while (true) {
    text = text.ltrim();
    if (text.consume_front(";;")) {
      text = text.drop_until([](char c) { return c == '\n'; });
    } else if (text.starts_with("(;")) {
      size_t end = text.find(";)");
      text = end == llvm::StringRef::npos ? llvm::StringRef()
                                          : text.drop_front(end + 2);
    } else {
      return text;
    }
  }
}

WasmFormat mlir::twasm::detectWasmFormat(llvm::StringRef filename,
                                         llvm::StringRef contents) {
  if (contents.starts_with(llvm::StringRef("\0asm", 4)))
    return WasmFormat::Binary;
  llvm::StringRef extension = llvm::sys::path::extension(filename);
  if (extension == ".wat" || extension == ".wast" ||
      skipBlanksAndComments(contents).starts_with("(module"))
    return WasmFormat::Text;
  if (extension == ".wasm")
    return WasmFormat::Binary;
  return WasmFormat::NotWasm;
}

//===----------------------------------------------------------------------===//
// Reading a validated binary with wabt
//===----------------------------------------------------------------------===//

static std::string describeWabtErrors(const wabt::Errors &errors) {
  for (const wabt::Error &error : errors)
    if (error.error_level == wabt::ErrorLevel::Error)
      return error.message;
  return "the module cannot be read";
}

/// Reads a binary module that our validator has accepted. wabt's binary
/// reader is not hardened against malformed input (it aborts on some), so it
/// only ever sees modules already known to be valid.
static llvm::Expected<std::unique_ptr<wabt::Module>>
readValidatedBinary(const std::string &filename, llvm::StringRef bytes,
                    bool useNames, const ImportFeatures &enabled) {
  // The features of WebAssembly 2.0 (wabt's defaults), with the proposals
  // our validator accepted; SIMD never gets here.
  wabt::Features features;
  if (enabled.threads)
    features.enable_threads();
  wabt::Errors errors;
  std::unique_ptr<wabt::Module> module;
  auto read = [&](bool readNames) {
    errors.clear();
    module = std::make_unique<wabt::Module>();
    wabt::ReadBinaryOptions options(features, /*log_stream=*/nullptr, readNames,
                                    /*stop_on_first_error=*/true,
                                    /*fail_on_custom_section_error=*/true);
    return wabt::ReadBinaryIr(filename.c_str(), bytes.data(), bytes.size(),
                              options, &errors, module.get());
  };
  if (wabt::Failed(read(useNames))) {
    // A malformed payload of the "name" section does not make the module
    // malformed (spec appendix, custom sections): read it without names.
    wabt::Errors firstErrors = std::move(errors);
    if (wabt::Failed(read(/*readNames=*/false)))
      return makeError("internal error: a validated module cannot be read: " +
                       describeWabtErrors(firstErrors));
  }
  return std::move(module);
}

static std::string describe(const import_detail::ValidationError &error,
                            const import_detail::EncodedText *text) {
  if (!error.offset)
    return error.message;
  if (text) {
    import_detail::TextPosition position = text->positionOf(*error.offset);
    return error.message + llvm::formatv(" (at line {0}, column {1})",
                                         position.line, position.column)
                               .str();
  }
  return error.message +
         llvm::formatv(" (at byte offset {0:x})", *error.offset).str();
}

//===----------------------------------------------------------------------===//
// Kernel declarations
//===----------------------------------------------------------------------===//

/// The export names a `twasm.kernels` custom section lists: each UTF-8 and
/// terminated by a zero byte.
static llvm::Error kernelsOfSection(const import_detail::CustomSection &section,
                                    const import_detail::EncodedText *text,
                                    std::vector<std::string> &names) {
  llvm::StringRef rest = section.content;
  while (!rest.empty()) {
    size_t end = rest.find('\0');
    size_t at = section.contentOffset + (rest.data() - section.content.data());
    auto malformed = [&](const llvm::Twine &why) {
      return makeError(describe(
          {("malformed twasm.kernels custom section: " + why).str(), at},
          text));
    };
    if (end == llvm::StringRef::npos)
      return malformed("the last name is not terminated by a zero byte");
    llvm::StringRef name = rest.take_front(end);
    if (name.empty())
      return malformed("an empty name");
    if (!import_detail::isValidUtf8(name))
      return malformed("a name is not valid UTF-8");
    names.push_back(name.str());
    rest = rest.drop_front(end + 1);
  }
  return llvm::Error::success();
}

struct KernelShape {
  uint32_t block[3];
  uint32_t sharedBytes;
  size_t offset;
};

/// The launch shapes a `twasm.kernel_shapes` custom section declares: per
/// kernel its name (UTF-8, zero-terminated), then the block's x, y and z and
/// the shared scratch bytes as little-endian u32.
static llvm::Error shapesOfSection(const import_detail::CustomSection &section,
                                   const import_detail::EncodedText *text,
                                   llvm::StringMap<KernelShape> &shapes) {
  llvm::StringRef rest = section.content;
  while (!rest.empty()) {
    size_t at = section.contentOffset + (rest.data() - section.content.data());
    auto malformed = [&](const llvm::Twine &why) {
      return makeError(describe(
          {("malformed twasm.kernel_shapes custom section: " + why).str(), at},
          text));
    };
    size_t end = rest.find('\0');
    if (end == llvm::StringRef::npos || end == 0)
      return malformed("a shape must start with a kernel's zero-terminated "
                       "name");
    llvm::StringRef name = rest.take_front(end);
    if (!import_detail::isValidUtf8(name))
      return malformed("a name is not valid UTF-8");
    rest = rest.drop_front(end + 1);
    if (rest.size() < 16)
      return malformed("the shape of \"" + name +
                       "\" is cut short: 16 bytes expected");
    KernelShape shape;
    uint32_t fields[4];
    for (int i = 0; i < 4; ++i)
      fields[i] = llvm::support::endian::read32le(rest.data() + 4 * i);
    shape = {{fields[0], fields[1], fields[2]}, fields[3], at};
    rest = rest.drop_front(16);
    if (!shapes.try_emplace(name, shape).second)
      return malformed("\"" + name + "\" has two shapes");
  }
  return llvm::Error::success();
}

/// Attaches each declared shape to its kernel, checking it first.
static llvm::Error applyShapes(twasm::ModuleOp module,
                               const llvm::StringMap<KernelShape> &shapes) {
  llvm::StringMap<KernelOp> kernels;
  for (KernelOp kernel : module.getBody()->getOps<KernelOp>())
    kernels[kernel.getName()] = kernel;
  for (const auto &entry : shapes) {
    llvm::StringRef name = entry.getKey();
    const KernelShape &shape = entry.getValue();
    auto it = kernels.find(name);
    if (it == kernels.end())
      return makeError("the twasm.kernel_shapes section gives a shape for \"" +
                       name + "\", which is not a kernel");
    uint64_t threads = 1;
    for (uint32_t extent : shape.block) {
      if (extent == 0)
        return makeError("kernel \"" + name +
                         "\" declares a block with a zero dimension");
      threads *= extent;
    }
    if (threads > KernelOp::kMaxBlockThreads)
      return makeError(llvm::formatv("kernel \"{0}\" declares a block of {1} "
                                     "threads, more than the {2} a block may "
                                     "hold",
                                     name, threads, KernelOp::kMaxBlockThreads)
                           .str());
    if (shape.sharedBytes > KernelOp::kMaxSharedBytes)
      return makeError(llvm::formatv("kernel \"{0}\" declares {1} bytes of "
                                     "shared scratch, more than the {2} a "
                                     "block may have",
                                     name, shape.sharedBytes,
                                     KernelOp::kMaxSharedBytes)
                           .str());
    KernelOp kernel = it->second;
    Builder builder(kernel.getContext());
    kernel.setBlockAttr(builder.getDenseI32ArrayAttr(
        {int32_t(shape.block[0]), int32_t(shape.block[1]),
         int32_t(shape.block[2])}));
    kernel.setSharedBytesAttr(builder.getI64IntegerAttr(shape.sharedBytes));
  }
  return llvm::Error::success();
}

/// The function a wasm-ld command export wraps, if `func` is one. In a
/// command module (one with _start, a C program's), wasm-ld exports each
/// other function as "NAME.command_export", which calls the function and
/// then __wasm_call_dtors (after __wasm_call_ctors, where there are
/// constructors). A kernel's threads must not run the program's
/// constructors and destructors, so a kernel's export is taken to the
/// function itself.
static FuncOp commandExportTarget(FuncOp func) {
  if (!func.getSymName().ends_with(".command_export") || func.isImported() ||
      !func.getBody().hasOneBlock())
    return {};
  Block &body = func.getBody().front();
  FuncOp target;
  for (Operation &op : body) {
    if (isa<ReturnOp>(op) && op.getNumOperands() == 0)
      continue;
    auto call = dyn_cast<CallOp>(op);
    if (!call)
      return {};
    llvm::StringRef callee = call.getCallee();
    if ((callee == "__wasm_call_ctors" || callee == "__wasm_call_dtors") &&
        call.getNumOperands() == 0)
      continue;
    if (target || call.getNumResults() != 0 ||
        !llvm::equal(call.getOperands(), body.getArguments()))
      return {};
    target = SymbolTable::lookupNearestSymbolFrom<FuncOp>(func,
                                                          call.getCalleeAttr());
    if (!target || target.getFunctionType() != func.getFunctionType())
      return {};
  }
  return target;
}

/// Takes each kernel's export from a wasm-ld command export to the function
/// it wraps (commandExportTarget); after locals are promoted, when the
/// wrapper's body is just its calls.
static void unwrapCommandExports(twasm::ModuleOp module) {
  llvm::StringSet<> kernels;
  for (KernelOp kernel : module.getBody()->getOps<KernelOp>())
    kernels.insert(kernel.getName());
  for (ExportOp exportOp : module.getBody()->getOps<ExportOp>()) {
    if (exportOp.getKind() != ExternKind::Func ||
        !kernels.contains(exportOp.getName()))
      continue;
    auto func = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
        exportOp, exportOp.getTargetAttr());
    if (FuncOp wrapped = func ? commandExportTarget(func) : FuncOp())
      exportOp.setTargetAttr(FlatSymbolRefAttr::get(wrapped.getSymNameAttr()));
  }
}

/// Adds a `twasm.kernel` declaration for each name, after checking that it
/// names an exported function a kernel can be (the verifier would reject the
/// others too, but as an internal error rather than a user's).
static llvm::Error declareKernels(twasm::ModuleOp module,
                                  llvm::ArrayRef<std::string> names) {
  llvm::StringMap<ExportOp> exports;
  for (ExportOp exportOp : module.getBody()->getOps<ExportOp>())
    exports[exportOp.getName()] = exportOp;
  llvm::StringSet<> declared;
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  for (const std::string &name : names) {
    if (!declared.insert(name).second)
      continue;
    auto it = exports.find(name);
    if (it == exports.end() || it->second.getKind() != ExternKind::Func)
      return makeError("\"" + name +
                       "\" is declared a kernel, but the module exports no "
                       "function of that name");
    auto func = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
        it->second, it->second.getTargetAttr());
    FunctionType type = func.getFunctionType();
    if (type.getNumResults() != 0)
      return makeError("kernel \"" + name +
                       "\" returns results; a kernel returns nothing");
    for (Type input : type.getInputs())
      if (!isa<IntegerType, FloatType>(input))
        return makeError("kernel \"" + name +
                         "\" takes a reference; a kernel takes only i32, "
                         "i64, f32 and f64");
    KernelOp::create(builder, it->second.getLoc(), name,
                     /*block=*/DenseI32ArrayAttr(),
                     /*shared_bytes=*/IntegerAttr());
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Import
//===----------------------------------------------------------------------===//

llvm::Expected<OwningOpRef<twasm::ModuleOp>>
mlir::twasm::importWasmModule(MLIRContext &context, llvm::StringRef filename,
                              llvm::StringRef contents,
                              const ImportOptions &options) {
  context.getOrLoadDialect<TwasmDialect>();
  if (contents.size() > options.limits.maxModuleBytes)
    return makeError(
        llvm::formatv("the module is {0} bytes, more than the limit of {1}",
                      contents.size(), options.limits.maxModuleBytes));
  WasmFormat format = detectWasmFormat(filename, contents);
  if (format == WasmFormat::NotWasm)
    return makeError("not a WebAssembly module: a binary module starts with "
                     "\"\\0asm\" and a text module with \"(module\"");

  // Text is parsed and encoded by our own parser; from there on, binary and
  // text take the same path.
  std::optional<import_detail::EncodedText> text;
  llvm::StringRef binary = contents;
  if (format == WasmFormat::Text) {
    text.emplace();
    import_detail::TextOptions textOptions;
    textOptions.names = options.useNames;
    if (auto error =
            import_detail::encodeTextModule(contents, *text, textOptions))
      return makeError(error->message +
                       llvm::formatv(" (at line {0}, column {1})",
                                     error->position.line,
                                     error->position.column)
                           .str());
    binary = text->binary;
  }
  std::vector<import_detail::CustomSection> customSections;
  if (auto error = import_detail::validateBinaryModule(
          binary, options.limits, options.features, &customSections))
    return makeError(describe(*error, text ? &*text : nullptr));
  if (options.binary)
    *options.binary = binary.str();
  std::vector<std::string> kernels;
  llvm::StringMap<KernelShape> shapes;
  for (const import_detail::CustomSection &section : customSections) {
    if (section.name == "twasm.kernels") {
      if (llvm::Error error =
              kernelsOfSection(section, text ? &*text : nullptr, kernels))
        return std::move(error);
    } else if (section.name == "twasm.kernel_shapes") {
      if (llvm::Error error =
              shapesOfSection(section, text ? &*text : nullptr, shapes))
        return std::move(error);
    }
  }
  kernels.insert(kernels.end(), options.kernels.begin(), options.kernels.end());
  llvm::Expected<std::unique_ptr<wabt::Module>> parsed = readValidatedBinary(
      filename.str(), binary, options.useNames, options.features);
  if (!parsed)
    return parsed.takeError();

  import_detail::ModuleTranslation translation(context, filename, **parsed,
                                               text ? &*text : nullptr);
  OwningOpRef<twasm::ModuleOp> module = translation.translate();
  if (!module)
    return makeError(translation.error());
  if (llvm::Error error = declareKernels(*module, kernels))
    return std::move(error);
  if (llvm::Error error = applyShapes(*module, shapes))
    return std::move(error);

  // Anything that goes wrong from here on is a bug in the importer; say so
  // with the diagnostic rather than printing it to the terminal.
  std::string diagnostic;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error && diagnostic.empty())
      diagnostic = diag.str();
    return success();
  });
  if (options.promoteLocals) {
    PassManager passes(&context, twasm::ModuleOp::getOperationName());
    passes.addNestedPass<FuncOp>(createTwasmPromoteLocalsPass());
    if (failed(passes.run(*module)))
      return makeError("internal error: promoting locals failed: " +
                       diagnostic);
    unwrapCommandExports(*module);
  }
  if (failed(verify(*module)))
    return makeError("internal error: the imported module does not verify: " +
                     diagnostic);
  return std::move(module);
}
