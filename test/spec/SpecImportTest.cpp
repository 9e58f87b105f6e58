//===- SpecImportTest.cpp - the official spec suite as an import test -----===//
//
// Converts each .wast file of the WebAssembly core test suite with wast2json
// and imports every module it contains: modules the suite expects to be valid
// (`module`, `assert_unlinkable`, `assert_uninstantiable`) must import and
// verify; `assert_malformed` and `assert_invalid` modules must be rejected.
// Every module written as text in the .wast is also imported from its text
// and must give the same IR as its binary encoding by wast2json.
// Prints the counts per file and in total; exits 0 only if every
// expectation holds, and 77 (skipped) when the suite or wast2json is absent.
//
//   twasm-spec-import --suite DIR [--wast2json PATH] [--only NAME...]
//
//===----------------------------------------------------------------------===//

#include "SpecScripts.h"
#include "twasm/Import/WasmImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <optional>
#include <vector>

using namespace llvm;

static cl::opt<std::string>
    suiteDir("suite", cl::desc("The directory of .wast files"), cl::Required);
static cl::opt<std::string> wast2jsonPath("wast2json",
                                          cl::desc("wast2json to use"),
                                          cl::init("wast2json"));
static cl::list<std::string> only("only",
                                  cl::desc("Check only these files (stem)"));

namespace {

struct Counts {
  unsigned valid = 0, validImported = 0;
  unsigned rejectable = 0, rejected = 0;
  unsigned texts = 0, textsAgreeing = 0;
  Counts &operator+=(const Counts &other) {
    valid += other.valid;
    validImported += other.validImported;
    rejectable += other.rejectable;
    rejected += other.rejected;
    texts += other.texts;
    textsAgreeing += other.textsAgreeing;
    return *this;
  }
  bool allHold() const {
    return validImported == valid && rejected == rejectable &&
           textsAgreeing == texts;
  }
};

/// Skips blanks, line comments and (nested) block comments.
size_t skipBlank(StringRef text, size_t pos) {
  while (pos < text.size()) {
    if (isSpace(text[pos])) {
      ++pos;
    } else if (text.substr(pos).starts_with(";;")) {
      pos = text.find('\n', pos);
      if (pos == StringRef::npos)
        return text.size();
    } else if (text.substr(pos).starts_with("(;")) {
      unsigned depth = 0;
      do {
        if (text.substr(pos).starts_with("(;")) {
          ++depth;
          pos += 2;
        } else if (text.substr(pos).starts_with(";)")) {
          --depth;
          pos += 2;
        } else if (pos >= text.size()) {
          return text.size();
        } else {
          ++pos;
        }
      } while (depth);
    } else {
      break;
    }
  }
  return pos;
}

/// The end (one past the ')') of the form that opens at `open`.
std::optional<size_t> formEnd(StringRef text, size_t open) {
  int depth = 0;
  size_t pos = open;
  while (pos < text.size()) {
    size_t next = skipBlank(text, pos);
    if (next != pos) {
      pos = next;
      continue;
    }
    char c = text[pos];
    if (c == '"') {
      for (++pos; pos < text.size() && text[pos] != '"'; ++pos)
        if (text[pos] == '\\')
          ++pos;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      return pos + 1;
    }
    ++pos;
  }
  return std::nullopt;
}

/// The keyword after the '(' at `open`, and where it ends.
StringRef headOf(StringRef text, size_t open, size_t &after) {
  size_t start = skipBlank(text, open + 1);
  after = start;
  while (after < text.size() && !isSpace(text[after]) && text[after] != '(' &&
         text[after] != ')' && text[after] != ';')
    ++after;
  return text.slice(start, after);
}

/// The text of the module that the command starting at `line` holds: the
/// command itself if it is `(module ...)`, else its first `(module ...)`
/// argument. Nothing for `(module binary ...)` and `(module quote ...)`.
std::optional<std::string> moduleTextAt(StringRef wast, int64_t line) {
  size_t pos = 0;
  for (int64_t current = 1; current < line && pos < wast.size(); ++current) {
    pos = wast.find('\n', pos);
    pos = pos == StringRef::npos ? wast.size() : pos + 1;
  }
  size_t open = skipBlank(wast, pos);
  if (open >= wast.size() || wast[open] != '(')
    return std::nullopt;
  size_t after;
  StringRef head = headOf(wast, open, after);
  if (head != "module") {
    open = skipBlank(wast, after);
    if (open >= wast.size() || wast[open] != '(' ||
        headOf(wast, open, after) != "module")
      return std::nullopt;
  }
  size_t next = skipBlank(wast, after);
  if (next < wast.size() && wast[next] == '$') {
    size_t idEnd;
    headOf(wast, next - 1, idEnd);
    next = skipBlank(wast, idEnd);
  }
  StringRef rest = wast.substr(next);
  if (rest.starts_with("binary") || rest.starts_with("quote"))
    return std::nullopt;
  std::optional<size_t> end = formEnd(wast, open);
  if (!end)
    return std::nullopt;
  return wast.slice(open, *end).str();
}

/// Imports without names and prints without locations, or says why not.
std::string importAndPrint(mlir::MLIRContext &context, StringRef name,
                           StringRef contents, bool &ok) {
  mlir::twasm::ImportOptions options;
  options.useNames = false;
  auto module = mlir::twasm::importWasmModule(context, name, contents, options);
  ok = bool(module);
  if (!module)
    return toString(module.takeError());
  std::string text;
  raw_string_ostream stream(text);
  (*module)->print(stream);
  return text;
}

/// Checks one converted .wast file; prints each failed expectation. Each
/// module the file writes as text is also imported from that text (our text
/// parser) and must give the IR that wast2json's binary encoding of it gives,
/// or be rejected as that is.
Counts checkFile(StringRef directory, const json::Object &script,
                 StringRef wastName, StringRef wast) {
  Counts counts;
  const json::Array *commands = script.getArray("commands");
  if (!commands)
    return counts;
  mlir::MLIRContext context;
  for (const json::Value &value : *commands) {
    const json::Object *command = value.getAsObject();
    if (!command)
      continue;
    StringRef type = command->getString("type").value_or("");
    std::optional<StringRef> file = command->getString("filename");
    if (!file)
      continue;
    bool expectValid = type == "module" || type == "assert_unlinkable" ||
                       type == "assert_uninstantiable";
    bool expectRejected =
        type == "assert_malformed" || type == "assert_invalid";
    if (!expectValid && !expectRejected)
      continue;
    SmallString<256> path(directory);
    sys::path::append(path, *file);
    auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false);
    if (!buffer) {
      errs() << wastName << ": cannot read " << *file << "\n";
      (expectValid ? counts.valid : counts.rejectable)++;
      continue;
    }
    auto module =
        mlir::twasm::importWasmModule(context, path, (*buffer)->getBuffer());
    std::string error;
    if (!module)
      error = toString(module.takeError());
    else if (mlir::failed(mlir::verify(**module)))
      error = "the imported module does not verify";
    int64_t line = command->getInteger("line").value_or(0);
    if (std::optional<std::string> text = moduleTextAt(wast, line);
        text && file->ends_with(".wasm")) {
      ++counts.texts;
      bool fromTextOk, fromBinaryOk;
      std::string fromText =
          importAndPrint(context, "module.wat", *text, fromTextOk);
      std::string fromBinary = importAndPrint(
          context, "module.wasm", (*buffer)->getBuffer(), fromBinaryOk);
      if (fromTextOk == fromBinaryOk && (!fromTextOk || fromText == fromBinary))
        ++counts.textsAgreeing;
      else
        errs() << formatv("{0}:{1}: the text form imports differently from "
                          "its binary form:\n--- from text ---\n{2}\n--- "
                          "from binary ---\n{3}\n",
                          wastName, line, fromText, fromBinary);
    }
    if (expectValid) {
      ++counts.valid;
      if (error.empty())
        ++counts.validImported;
      else
        errs() << formatv("{0}:{1}: valid module {2} was not imported: {3}\n",
                          wastName, line, *file, error);
    } else {
      ++counts.rejectable;
      if (!error.empty())
        ++counts.rejected;
      else
        errs() << formatv("{0}:{1}: {2} module {3} was accepted (expected: "
                          "{4})\n",
                          wastName, line, type, *file,
                          command->getString("text").value_or(""));
    }
  }
  return counts;
}

} // namespace

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv,
                              "Imports every module of the WebAssembly spec "
                              "test suite and checks the suite's verdicts\n");
  auto prepared = tensorwasm::testing::prepareSuiteRun(suiteDir, wast2jsonPath,
                                                       "twasm-spec");
  if (int *status = std::get_if<int>(&prepared))
    return *status;
  auto &[wast2json, wastFiles, scratch] =
      std::get<tensorwasm::testing::SuiteRun>(prepared);

  Counts total;
  unsigned files = 0, skipped = 0, unconverted = 0;
  outs() << formatv("{0,-32} {1,17} {2,17} {3,17}\n", "file", "valid imported",
                    "bad rejected", "text == binary");
  for (const std::string &wast : wastFiles) {
    StringRef stem = sys::path::stem(wast);
    if (!only.empty() &&
        std::find(only.begin(), only.end(), stem) == only.end())
      continue;
    if (stem.starts_with("simd")) {
      outs() << formatv("{0,-32} skipped: SIMD is not supported yet\n", stem);
      ++skipped;
      continue;
    }
    SmallString<256> directory(scratch);
    sys::path::append(directory, stem);
    Expected<json::Value> script =
        tensorwasm::testing::convertWast(wast2json, wast, directory);
    if (!script) {
      errs() << stem << ": " << toString(script.takeError()) << "\n";
      ++unconverted;
      continue;
    }
    auto wastText = MemoryBuffer::getFile(wast);
    Counts counts =
        checkFile(directory, *script->getAsObject(), stem,
                  wastText ? (*wastText)->getBuffer() : StringRef());
    outs() << formatv("{0,-32} {1,8}/{2,-8} {3,8}/{4,-8} {5,8}/{6,-8}{7}\n",
                      stem, counts.validImported, counts.valid, counts.rejected,
                      counts.rejectable, counts.textsAgreeing, counts.texts,
                      counts.allHold() ? "" : "  FAIL");
    total += counts;
    ++files;
  }
  sys::fs::remove_directories(scratch);

  outs() << formatv("\n{0} files checked, {1} skipped (SIMD), {2} could not "
                    "be converted\n",
                    files, skipped, unconverted);
  outs() << formatv("valid modules imported and verified: {0}/{1}\n",
                    total.validImported, total.valid);
  outs() << formatv("malformed and invalid modules rejected: {0}/{1}\n",
                    total.rejected, total.rejectable);
  outs() << formatv("text modules importing as their binary encoding does: "
                    "{0}/{1}\n",
                    total.textsAgreeing, total.texts);
  return total.allHold() && unconverted == 0 ? 0 : 1;
}
