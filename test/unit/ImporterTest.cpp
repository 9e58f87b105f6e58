//===- ImporterTest.cpp - the importer's C++ API
//---------------------------===//

#include "WasmAssembler.h"

#include "twasm/Import/WasmImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::twasm;
using mlir::twasm::test::assembleWat;

namespace {

constexpr const char *kSample = R"((module
  (memory 1)
  (global $g (mut i32) (i32.const 3))
  (func $scale (export "scale") (param $x f32) (param $n i32) (result f32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (f32.mul (local.get $x) (f32.const 2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (f32.store (i32.const 16) (local.get $x))
    (local.get $x))
  (data (i32.const 0) "abc"))
)";

class ImporterTest : public ::testing::Test {
protected:
  /// Imports `contents`; returns the error message, or "" on success (the
  /// module is then in `module` and has been verified).
  std::string importModule(llvm::StringRef filename, llvm::StringRef contents,
                           const ImportOptions &options = {}) {
    auto imported = importWasmModule(context, filename, contents, options);
    if (!imported)
      return llvm::toString(imported.takeError());
    module = std::move(*imported);
    EXPECT_TRUE(succeeded(verify(*module)));
    return "";
  }

  std::string printWithoutLocations() {
    std::string text;
    llvm::raw_string_ostream stream(text);
    module->print(stream);
    return text;
  }

  MLIRContext context;
  OwningOpRef<twasm::ModuleOp> module;
};

TEST_F(ImporterTest, DetectsTheFormatByMagicBytesExtensionOrContent) {
  EXPECT_EQ(detectWasmFormat("k", llvm::StringRef("\0asm\1\0\0\0", 8)),
            WasmFormat::Binary);
  EXPECT_EQ(detectWasmFormat("k.wasm", "not a module"), WasmFormat::Binary);
  EXPECT_EQ(detectWasmFormat("k.wat", "anything"), WasmFormat::Text);
  EXPECT_EQ(detectWasmFormat("k", " ;; note\n(; block ;) (module)"),
            WasmFormat::Text);
  EXPECT_EQ(detectWasmFormat("k.mlir", "twasm.module {}"), WasmFormat::NotWasm);
}

TEST_F(ImporterTest, TextAndBinaryImportToTheSameIR) {
  ASSERT_EQ(importModule("sample.wat", kSample), "");
  std::string fromText = printWithoutLocations();
  ASSERT_EQ(importModule("sample.wasm", assembleWat(kSample)), "");
  EXPECT_EQ(printWithoutLocations(), fromText);
  EXPECT_NE(fromText.find("func @scale(%arg0: f32, %arg1: i32) -> f32"),
            std::string::npos);
}

TEST_F(ImporterTest, PromotesLocalsUnlessAskedToKeepThem) {
  ASSERT_EQ(importModule("sample.wat", kSample), "");
  size_t slots = 0;
  module->walk([&](LocalOp) { ++slots; });
  EXPECT_EQ(slots, 0u);

  ImportOptions keep;
  keep.promoteLocals = false;
  ASSERT_EQ(importModule("sample.wat", kSample, keep), "");
  module->walk([&](LocalOp) { ++slots; });
  EXPECT_EQ(slots, 3u) << "two parameters and one local";
}

TEST_F(ImporterTest, ImportsRepeatedlyIntoOneContext) {
  std::string binary = assembleWat(kSample);
  for (int round = 0; round < 3; ++round)
    ASSERT_EQ(importModule("sample.wasm", binary), "");
}

TEST_F(ImporterTest, MalformedBinaryErrorsGiveTheByteOffset) {
  std::string binary = assembleWat(kSample);
  std::string error = importModule("cut.wasm", binary.substr(0, 30));
  EXPECT_NE(error.find("(at byte offset 0x"), std::string::npos) << error;
}

TEST_F(ImporterTest, InvalidTextErrorsGiveLineAndColumn) {
  std::string error = importModule(
      "bad.wat", "(module\n  (func (result i32)\n    (f32.const 1)))");
  EXPECT_NE(error.find("type mismatch"), std::string::npos) << error;
  EXPECT_NE(error.find("(at line 3, column"), std::string::npos) << error;
}

// Found by the fuzzer: an active element segment whose offset is neither an
// `(offset ...)` clause nor a folded instruction, at the end of the input.
// The parser consumed a `(` that was not there and reported the error at a
// token past the end.
TEST_F(ImporterTest, ElementOffsetMissingAtTheEndIsAnErrorNotACrash) {
  for (llvm::StringRef text :
       {"(module (elem $active (table $fns)", "(elem (table 0) func",
        "(module (table 1 funcref) (elem (table 0) func $f))"}) {
    std::string error = importModule("elem.wat", text);
    EXPECT_NE(error.find("unexpected"), std::string::npos)
        << text.str() << ": " << error;
  }
}

TEST_F(ImporterTest, RejectsInputThatIsNoModule) {
  std::string error = importModule("notes.txt", "hello");
  EXPECT_NE(error.find("not a WebAssembly module"), std::string::npos) << error;
}

TEST_F(ImporterTest, SimdIsReportedAsNotSupportedYet) {
  std::string error = importModule(
      "simd.wat", "(module (func (param v128) (drop (local.get 0))))");
  EXPECT_NE(error.find("SIMD (the v128 type) is not supported yet"),
            std::string::npos)
      << error;
}

TEST_F(ImporterTest, EnforcesEveryLimitWithAClearError) {
  std::string binary = assembleWat(kSample);
  struct Case {
    const char *what;
    std::function<void(ImportLimits &)> tighten;
    std::string module;
    const char *expected;
  };
  std::vector<Case> cases = {
      {"size", [](ImportLimits &l) { l.maxModuleBytes = 16; }, binary,
       "more than the limit of 16"},
      {"functions (binary)", [](ImportLimits &l) { l.maxFunctions = 1; },
       assembleWat("(module (func) (func))"),
       "the module has 2 functions, more than the limit of 1"},
      {"functions (text)", [](ImportLimits &l) { l.maxFunctions = 1; },
       "(module (func) (func))",
       "the module has 2 functions, more than the limit of 1"},
      {"body size", [](ImportLimits &l) { l.maxFunctionBodyBytes = 8; }, binary,
       "bytes, more than the limit of 8"},
      {"locals", [](ImportLimits &l) { l.maxLocals = 3; },
       "(module (func (local i32 i64) (local f32 f64)))",
       "the function declares 4 locals, more than the limit of 3"},
      {"params", [](ImportLimits &l) { l.maxParams = 2; },
       "(module (func (param i32 i32 i32)))",
       "a function type has 3 parameters, more than the limit of 2"},
      {"results", [](ImportLimits &l) { l.maxResults = 1; },
       "(module (func (result i32 i32) (i32.const 0) (i32.const 0)))",
       "a function type has 2 results, more than the limit of 1"},
  };
  for (const Case &c : cases) {
    ImportOptions options;
    c.tighten(options.limits);
    bool isText = c.module.rfind("(module", 0) == 0;
    std::string error =
        importModule(isText ? "limit.wat" : "limit.wasm", c.module, options);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << c.what << ": " << error;
  }
}

/// The offsets at which a binary module may end: after the header and after
/// each whole section.
static std::set<size_t> sectionBoundaries(llvm::StringRef bytes) {
  std::set<size_t> boundaries = {8};
  size_t position = 8;
  while (position < bytes.size()) {
    ++position; // section id
    uint64_t size = 0;
    for (unsigned shift = 0;; shift += 7) {
      uint8_t byte = bytes[position++];
      size |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        break;
    }
    position += size;
    boundaries.insert(position);
  }
  return boundaries;
}

TEST_F(ImporterTest, EveryTruncationInsideASectionIsRejected) {
  // A prefix that ends between sections may still be a module (or be
  // rejected for a missing section); one that cuts a section never is.
  std::string binary = assembleWat(kSample);
  std::set<size_t> boundaries = sectionBoundaries(binary);
  for (size_t length = 0; length < binary.size(); ++length) {
    std::string error = importModule("cut.wasm", binary.substr(0, length));
    if (!boundaries.count(length))
      EXPECT_NE(error, "") << "prefix of " << length << " bytes was accepted";
  }
  EXPECT_EQ(importModule("whole.wasm", binary), "");
}

TEST_F(ImporterTest, EverySingleBitFlipIsRejectedOrImportsAValidModule) {
  std::string binary = assembleWat(kSample);
  size_t rejected = 0;
  for (size_t bit = 0; bit < binary.size() * 8; ++bit) {
    std::string flipped = binary;
    flipped[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    // importModule verifies whatever it accepts.
    if (!importModule("flipped.wasm", flipped).empty())
      ++rejected;
  }
  // Flips in the header, the section ids and sizes, and the code are all
  // caught; some flips (in constants, names, data) still give valid modules.
  EXPECT_GT(rejected, binary.size() * 8 / 4);
}

TEST_F(ImporterTest, GivesEveryDefinitionAUniqueSymbol) {
  // "func1" is both a name and the fallback name of the unnamed function 1.
  ASSERT_EQ(importModule("names.wat",
                         "(module (func $func1) (func) (func $func1x) "
                         "(export \"func1x\" (func 2)))"),
            "");
  std::vector<std::string> names;
  module->walk([&](FuncOp func) { names.push_back(func.getSymName().str()); });
  EXPECT_EQ(names, (std::vector<std::string>{"func1", "func1_1", "func1x"}));
}

} // namespace
