//===- ImportBench.cpp - how fast modules import into twasm --------------===//
//
// Generates a module of many loop-heavy functions, then times importing it:
// binary and text, with and without promoting locals to SSA. Reports the
// median of several repetitions, in MB/s of input and microseconds per
// function.
//
//   twasm-bench-import [--functions N] [--repetitions R]
//
//===----------------------------------------------------------------------===//

#include "WasmAssembler.h"

#include "twasm/Import/WasmImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

using namespace llvm;

static cl::opt<unsigned> numFunctions("functions",
                                      cl::desc("Functions in the module"),
                                      cl::init(2000));
static cl::opt<unsigned>
    repetitions("repetitions", cl::desc("Timed imports per case"), cl::init(7));

/// A function with a counted loop, a conditional, a br_table and memory
/// traffic; `index` varies its constants so that no two are alike.
static std::string function(unsigned index) {
  return formatv(R"(
  (func $f{0} (export "f{0}") (param $base i32) (param $n i32) (param $a f32) (result f32)
    (local $i i32) (local $acc f32) (local $t i32)
    (block $exit
      (loop $next
        (br_if $exit (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $t (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $acc
          (f32.add (local.get $acc)
            (f32.mul (local.get $a) (f32.load offset={1} (local.get $t)))))
        (if (i32.and (local.get $i) (i32.const {2}))
          (then (f32.store offset={1} (local.get $t) (local.get $acc)))
          (else (local.set $acc (f32.sqrt (local.get $acc)))))
        (block $b2 (block $b1 (block $b0
          (br_table $b0 $b1 $b2 (i32.rem_u (local.get $i) (i32.const 3))))
          (local.set $acc (f32.neg (local.get $acc))))
          (local.set $i (i32.add (local.get $i) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc)))",
                 index, (index % 64) * 4, 1 + index % 7)
      .str();
}

static std::string generateText(unsigned count) {
  std::string text = "(module\n  (memory 16)";
  for (unsigned i = 0; i < count; ++i)
    text += function(i);
  return text + ")\n";
}

/// The median seconds one import of `contents` takes.
static double timeImport(StringRef name, StringRef contents,
                         bool promoteLocals) {
  std::vector<double> seconds;
  mlir::twasm::ImportOptions options;
  options.promoteLocals = promoteLocals;
  for (unsigned run = 0; run < repetitions; ++run) {
    mlir::MLIRContext context;
    auto start = std::chrono::steady_clock::now();
    auto module =
        mlir::twasm::importWasmModule(context, name, contents, options);
    auto end = std::chrono::steady_clock::now();
    if (!module)
      report_fatal_error(Twine("import failed: ") +
                         toString(module.takeError()));
    seconds.push_back(std::chrono::duration<double>(end - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv, "TensorWasm import benchmark\n");
  std::string text = generateText(numFunctions);
  std::string binary = mlir::twasm::test::assembleWat(text);
  outs() << formatv("module: {0} functions; binary {1} KiB, text {2} KiB; "
                    "median of {3} imports\n\n",
                    numFunctions, binary.size() / 1024, text.size() / 1024,
                    repetitions);
  outs() << formatv("{0,-34} {1,10} {2,10} {3,12}\n", "case", "ms", "MB/s",
                    "us/function");
  struct Case {
    const char *name;
    StringRef file;
    StringRef contents;
    bool promote;
  } cases[] = {
      {"binary, locals promoted to SSA", "bench.wasm", binary, true},
      {"binary, locals kept as slots", "bench.wasm", binary, false},
      {"text, locals promoted to SSA", "bench.wat", text, true},
  };
  for (const Case &c : cases) {
    double seconds = timeImport(c.file, c.contents, c.promote);
    outs() << formatv("{0,-34} {1,10:f1} {2,10:f1} {3,12:f1}\n", c.name,
                      seconds * 1e3, c.contents.size() / seconds / 1e6,
                      seconds * 1e6 / numFunctions);
  }
  return 0;
}
