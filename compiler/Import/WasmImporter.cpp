//===- WasmImporter.cpp - WebAssembly modules to twasm IR ------------------===//
//
// wabt (the WebAssembly Binary Toolkit) parses and validates; it is the
// reference implementation of the text format and its validator accepts
// exactly the valid modules of the spec test suite (docs/decisions). The
// translation to twasm then only ever sees valid modules.
//
//===----------------------------------------------------------------------===//

#include "twasm/Import/WasmImporter.h"

#include "Translation.h"
#include "twasm/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include "wabt/binary-reader-ir.h"
#include "wabt/cast.h"
#include "wabt/binary-reader.h"
#include "wabt/resolve-names.h"
#include "wabt/validator.h"
#include "wabt/wast-lexer.h"
#include "wabt/wast-parser.h"

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
// Limits
//===----------------------------------------------------------------------===//

namespace {
/// Reads the function and code sections of a binary module for the counts
/// and sizes the limits bound, before wabt builds anything. Malformed input is
/// left alone here: wabt reports it precisely.
class BinaryLimitScanner {
public:
  BinaryLimitScanner(llvm::StringRef bytes, const ImportLimits &limits)
      : bytes(bytes), limits(limits) {}

  llvm::Error scan() {
    position = 8; // magic and version
    while (position < bytes.size()) {
      uint8_t sectionId = bytes[position++];
      uint64_t size;
      if (!readLeb(size) || size > bytes.size() - position)
        return llvm::Error::success();
      size_t end = position + size;
      if (sectionId == kFunctionSection) {
        uint64_t count;
        if (readLeb(count) && count > limits.maxFunctions)
          return makeError(llvm::formatv(
              "the module defines {0} functions, more than the limit of {1}",
              count, limits.maxFunctions));
      } else if (sectionId == kCodeSection) {
        if (llvm::Error error = scanCodeSection(end))
          return error;
      }
      position = end;
    }
    return llvm::Error::success();
  }

private:
  static constexpr uint8_t kFunctionSection = 3;
  static constexpr uint8_t kCodeSection = 10;

  llvm::Error scanCodeSection(size_t end) {
    uint64_t count;
    if (!readLeb(count))
      return llvm::Error::success();
    for (uint64_t index = 0; index < count && position < end; ++index) {
      uint64_t bodySize;
      if (!readLeb(bodySize))
        return llvm::Error::success();
      if (bodySize > limits.maxFunctionBodyBytes)
        return makeError(llvm::formatv(
            "the body of defined function {0} is {1} bytes, more than the "
            "limit of {2} (at byte offset {3:x})",
            index, bodySize, limits.maxFunctionBodyBytes, position));
      if (bodySize > end - position)
        return llvm::Error::success();
      position += bodySize;
    }
    return llvm::Error::success();
  }

  bool readLeb(uint64_t &value) {
    value = 0;
    for (unsigned shift = 0; shift < 64 && position < bytes.size(); shift += 7) {
      uint8_t byte = bytes[position++];
      value |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return true;
    }
    return false;
  }

  llvm::StringRef bytes;
  const ImportLimits &limits;
  size_t position = 0;
};
} // namespace

static llvm::Error checkSignatureLimits(const wabt::FuncSignature &signature,
                                        const ImportLimits &limits,
                                        const llvm::Twine &what) {
  if (signature.GetNumParams() > limits.maxParams)
    return makeError(what + " has " + llvm::Twine(signature.GetNumParams()) +
                     " parameters, more than the limit of " +
                     llvm::Twine(limits.maxParams));
  if (signature.GetNumResults() > limits.maxResults)
    return makeError(what + " has " + llvm::Twine(signature.GetNumResults()) +
                     " results, more than the limit of " +
                     llvm::Twine(limits.maxResults));
  return llvm::Error::success();
}

/// Checks the limits that only the parsed module shows.
static llvm::Error checkModuleLimits(const wabt::Module &module,
                                     const ImportLimits &limits) {
  if (module.funcs.size() > limits.maxFunctions)
    return makeError(llvm::formatv(
        "the module has {0} functions, more than the limit of {1}",
        module.funcs.size(), limits.maxFunctions));
  for (auto [index, type] : llvm::enumerate(module.types))
    if (auto *funcType = wabt::dyn_cast<wabt::FuncType>(type))
      if (llvm::Error error = checkSignatureLimits(
              funcType->sig, limits, "type " + llvm::Twine(index)))
        return error;
  for (auto [index, func] : llvm::enumerate(module.funcs)) {
    uint64_t locals = 0;
    for (const auto &decl : func->local_types.decls())
      locals += decl.second;
    if (locals > limits.maxLocals)
      return makeError(llvm::formatv(
          "function {0} declares {1} locals, more than the limit of {2}", index,
          locals, limits.maxLocals));
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Parsing and validation with wabt
//===----------------------------------------------------------------------===//

/// The first error wabt reported, with its position.
static std::string describeWabtErrors(const wabt::Errors &errors,
                                      bool isBinary) {
  for (const wabt::Error &error : errors) {
    if (error.error_level != wabt::ErrorLevel::Error)
      continue;
    std::string message = error.message;
    if (isBinary && error.loc.offset != wabt::kInvalidOffset)
      message += llvm::formatv(" (at byte offset {0:x})", error.loc.offset);
    else if (!isBinary && error.loc.line > 0)
      message += llvm::formatv(" (at line {0}, column {1})", error.loc.line,
                               error.loc.first_column);
    return message;
  }
  return "the module is malformed or invalid";
}

/// The features of WebAssembly 2.0, which is wabt's default set. SIMD stays
/// enabled so that a SIMD module is read and then refused with a message that
/// says SIMD is not supported yet, rather than as a malformed module.
static wabt::Features wasm2Features() { return wabt::Features(); }

static llvm::Expected<std::unique_ptr<wabt::Module>>
parseModule(const std::string &filename, llvm::StringRef contents,
            WasmFormat format, const ImportLimits &limits) {
  wabt::Features features = wasm2Features();
  wabt::Errors errors;
  bool isBinary = format == WasmFormat::Binary;
  auto module = std::make_unique<wabt::Module>();
  if (isBinary) {
    if (llvm::Error error = BinaryLimitScanner(contents, limits).scan())
      return std::move(error);
    auto read = [&](bool readNames) {
      errors.clear();
      module = std::make_unique<wabt::Module>();
      // Custom sections must be well-formed as sections (name, size).
      wabt::ReadBinaryOptions options(features, /*log_stream=*/nullptr,
                                      readNames, /*stop_on_first_error=*/true,
                                      /*fail_on_custom_section_error=*/true);
      return wabt::ReadBinaryIr(filename.c_str(), contents.data(),
                                contents.size(), options, &errors,
                                module.get());
    };
    if (wabt::Failed(read(/*readNames=*/true))) {
      // A malformed payload of the "name" section does not make the module
      // malformed (spec appendix, custom sections): read it without names.
      wabt::Errors firstErrors = errors;
      if (wabt::Failed(read(/*readNames=*/false)))
        return makeError(describeWabtErrors(firstErrors, isBinary));
    }
  } else {
    std::unique_ptr<wabt::WastLexer> lexer = wabt::WastLexer::CreateBufferLexer(
        filename, contents.data(), contents.size(), &errors);
    wabt::WastParseOptions options(features);
    if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors,
                                          &options)) ||
        wabt::Failed(wabt::ResolveNamesModule(module.get(), &errors)))
      return makeError(describeWabtErrors(errors, isBinary));
  }
  wabt::ValidateOptions validateOptions(features);
  if (wabt::Failed(wabt::ValidateModule(module.get(), &errors, validateOptions)))
    return makeError(describeWabtErrors(errors, isBinary));
  if (llvm::Error error = checkModuleLimits(*module, limits))
    return std::move(error);
  return std::move(module);
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
    return makeError(llvm::formatv(
        "the module is {0} bytes, more than the limit of {1}", contents.size(),
        options.limits.maxModuleBytes));
  WasmFormat format = detectWasmFormat(filename, contents);
  if (format == WasmFormat::NotWasm)
    return makeError("not a WebAssembly module: a binary module starts with "
                     "\"\\0asm\" and a text module with \"(module\"");

  std::string name = filename.str();
  llvm::Expected<std::unique_ptr<wabt::Module>> parsed =
      parseModule(name, contents, format, options.limits);
  if (!parsed)
    return parsed.takeError();

  import_detail::ModuleTranslation translation(context, filename, **parsed,
                                               format == WasmFormat::Binary);
  OwningOpRef<twasm::ModuleOp> module = translation.translate();
  if (!module)
    return makeError(translation.error());

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
      return makeError("internal error: promoting locals failed: " + diagnostic);
  }
  if (failed(verify(*module)))
    return makeError("internal error: the imported module does not verify: " +
                     diagnostic);
  return std::move(module);
}
