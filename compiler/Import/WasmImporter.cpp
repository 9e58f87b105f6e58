//===- WasmImporter.cpp - WebAssembly modules to twasm IR ------------------===//
//
// wabt (the WebAssembly Binary Toolkit) parses and validates; it is the
// reference implementation of the text format and its validator accepts
// exactly the valid modules of the spec test suite (docs/decisions). The
// translation to twasm then only ever sees valid modules.
//
//===----------------------------------------------------------------------===//

#include "twasm/Import/WasmImporter.h"

#include "BinaryValidator.h"
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
#include "wabt/binary-writer.h"
#include "wabt/resolve-names.h"
#include "wabt/stream.h"
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

static std::string describe(const import_detail::ValidationError &error) {
  if (!error.offset)
    return error.message;
  return error.message +
         llvm::formatv(" (at byte offset {0:x})", *error.offset).str();
}

/// Parses a binary module. Our own validator sees the bytes first: wabt's
/// binary reader is not hardened against malformed input (it aborts on some),
/// so it only ever reads modules already known to be valid.
static llvm::Expected<std::unique_ptr<wabt::Module>>
parseBinary(const std::string &filename, llvm::StringRef contents,
            const ImportLimits &limits) {
  if (auto error = import_detail::validateBinaryModule(contents, limits))
    return makeError(describe(*error));
  wabt::Features features = wasm2Features();
  wabt::Errors errors;
  std::unique_ptr<wabt::Module> module;
  auto read = [&](bool readNames) {
    errors.clear();
    module = std::make_unique<wabt::Module>();
    wabt::ReadBinaryOptions options(features, /*log_stream=*/nullptr,
                                    readNames, /*stop_on_first_error=*/true,
                                    /*fail_on_custom_section_error=*/true);
    return wabt::ReadBinaryIr(filename.c_str(), contents.data(),
                              contents.size(), options, &errors, module.get());
  };
  if (wabt::Failed(read(/*readNames=*/true))) {
    // A malformed payload of the "name" section does not make the module
    // malformed (spec appendix, custom sections): read it without names.
    wabt::Errors firstErrors = errors;
    if (wabt::Failed(read(/*readNames=*/false)))
      return makeError(describeWabtErrors(firstErrors, /*isBinary=*/true));
  }
  return std::move(module);
}

/// Parses and validates a text module with wabt, whose errors point at lines
/// and columns; then checks its binary encoding with our validator too, which
/// also enforces the limits.
static llvm::Expected<std::unique_ptr<wabt::Module>>
parseText(const std::string &filename, llvm::StringRef contents,
          const ImportLimits &limits) {
  wabt::Features features = wasm2Features();
  wabt::Errors errors;
  std::unique_ptr<wabt::Module> module;
  std::unique_ptr<wabt::WastLexer> lexer = wabt::WastLexer::CreateBufferLexer(
      filename, contents.data(), contents.size(), &errors);
  wabt::WastParseOptions options(features);
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors,
                                        &options)) ||
      wabt::Failed(wabt::ResolveNamesModule(module.get(), &errors)) ||
      wabt::Failed(wabt::ValidateModule(module.get(), &errors,
                                        wabt::ValidateOptions(features))))
    return makeError(describeWabtErrors(errors, /*isBinary=*/false));
  wabt::MemoryStream stream;
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(),
                                           wabt::WriteBinaryOptions())))
    return makeError("the text module cannot be encoded in binary");
  const std::vector<uint8_t> &encoded = stream.output_buffer().data;
  llvm::StringRef binary(reinterpret_cast<const char *>(encoded.data()),
                         encoded.size());
  // Positions in the encoding mean nothing to the author of the text.
  if (auto error = import_detail::validateBinaryModule(binary, limits))
    return makeError(error->message);
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
      format == WasmFormat::Binary
          ? parseBinary(name, contents, options.limits)
          : parseText(name, contents, options.limits);
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
