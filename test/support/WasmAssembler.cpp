//===- WasmAssembler.cpp - .wat text to .wasm bytes for tests, via wabt ---===//

#include "WasmAssembler.h"

#include "wabt/binary-writer.h"
#include "wabt/error-formatter.h"
#include "wabt/resolve-names.h"
#include "wabt/stream.h"
#include "wabt/validator.h"
#include "wabt/wast-lexer.h"
#include "wabt/wast-parser.h"

#include <cstdio>
#include <cstdlib>

std::string mlir::twasm::test::assembleWat(std::string_view wat) {
  wabt::Errors errors;
  auto lexer = wabt::WastLexer::CreateBufferLexer("test.wat", wat.data(),
                                                  wat.size(), &errors);
  wabt::Features features;
  wabt::WastParseOptions parseOptions(features);
  std::unique_ptr<wabt::Module> module;
  bool ok = wabt::Succeeded(wabt::ParseWatModule(lexer.get(), &module, &errors,
                                                 &parseOptions)) &&
            wabt::Succeeded(wabt::ResolveNamesModule(module.get(), &errors)) &&
            wabt::Succeeded(wabt::ValidateModule(
                module.get(), &errors, wabt::ValidateOptions(features)));
  wabt::MemoryStream stream;
  // With the name section, so that a binary imports with the text's names.
  wabt::WriteBinaryOptions writeOptions;
  writeOptions.write_debug_names = true;
  ok = ok && wabt::Succeeded(
                 wabt::WriteBinaryModule(&stream, module.get(), writeOptions));
  if (!ok) {
    std::fprintf(
        stderr, "test input does not assemble:\n%s\n%s\n",
        std::string(wat).c_str(),
        wabt::FormatErrorsToString(errors, wabt::Location::Type::Text).c_str());
    std::abort();
  }
  const std::vector<uint8_t> &bytes = stream.output_buffer().data;
  return std::string(bytes.begin(), bytes.end());
}
