//===- twasm-oracle.cpp - random kernels, the CPU backend vs wabt ---------===//
//
// Generates batches of random kernels (ProgramGenerator.h), runs each case
// on wabt's interpreter and on the CPU backend (compiled for the host, run by
// the runtime's cpu device), and compares how each ended and the memory it
// left. A divergence is shrunk to its smallest form through RapidCheck's
// shrink tree, and the case is printed and saved.
//
// With --emit DIR it compiles each batch for a GPU instead and writes the
// PTX, its manifest and the reference's expectations, for
// twasm-oracle-replay to run on a machine with a GPU (and no compiler).
//
//===----------------------------------------------------------------------===//

#include "Outcome.h"
#include "ProgramGenerator.h"
#include "Reference.h"
#include "WasmAssembler.h"

#include "Compile.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <map>

using namespace llvm;
using namespace twasm::oracle;
using tensorwasm::abi::TrapCode;

static cl::opt<uint64_t> caseCount("cases", cl::desc("Cases to run"),
                                   cl::init(1000));
static cl::opt<uint64_t> seed("seed", cl::desc("The first batch's seed"),
                              cl::init(1));
static cl::opt<unsigned>
    batchSize("batch", cl::desc("Cases compiled as one module"), cl::init(50));
static cl::opt<int> depth("depth", cl::desc("Deepest expression nesting"),
                          cl::init(4));
static cl::opt<std::string>
    emitDirectory("emit",
                  cl::desc("Compile for --target and write each batch's code, "
                           "manifest and expectations here instead of running"),
                  cl::init(""));
static cl::opt<std::string>
    target("target",
           cl::desc("With --emit: the SM architecture, or host (the CPU)"),
           cl::init("sm_90"));
static cl::opt<std::string>
    failures("failures",
             cl::desc("Write each divergent case (shrunk) here as .wat"),
             cl::init(""));
static cl::opt<std::string>
    show("show", cl::desc("Print case BATCH:INDEX (of --seed) and exit"),
         cl::init(""));
static cl::opt<unsigned>
    shrinkBudget("shrink-budget",
                 cl::desc("Most candidates tried while shrinking a case"),
                 cl::init(2000));

namespace {

using Clock = std::chrono::steady_clock;

/// Each case has its own seed, from the batch's seed and its index, so that
/// any case can be generated again alone.
rc::Shrinkable<Case> generate(uint64_t batch, uint64_t index) {
  uint64_t caseSeed = (seed + batch) * 0x9e3779b97f4a7c15 + index;
  return caseGen(depth)(rc::Random(caseSeed), rc::kNominalSize);
}

Launch launchOf(const Case &oneCase, size_t index) {
  Launch launch{kernelName(index), {}};
  for (size_t i = 0; i < oneCase.params.size(); ++i)
    launch.arguments.push_back(
        {static_cast<tensorwasm::ValueType>(oneCase.params[i]),
         oneCase.arguments[i]});
  return launch;
}

std::vector<std::string> kernelNames(size_t count) {
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i)
    names.push_back(kernelName(i));
  return names;
}

/// The CPU backend: compiled for the host, on the runtime's cpu device.
class CpuBackend {
public:
  CpuBackend() {
    tensorwasm::DeviceOptions options;
    options.kind = tensorwasm::DeviceKind::Cpu;
    options.cpuWorkers = 1;
    options.allowUnsignedCode = true;
    auto opened = tensorwasm::Device::open(options);
    if (!opened) {
      errs() << "twasm-oracle: " << opened.error().message << "\n";
      std::exit(2);
    }
    device = *opened;
  }

  /// The compiled batch, instantiated; an error says why not.
  std::unique_ptr<tensorwasm::Instance> load(const std::string &binary,
                                             size_t cases, std::string &error) {
    mlir::twasm::tool::CompileSettings settings;
    settings.target = "host";
    settings.kernels = kernelNames(cases);
    auto compiled =
        mlir::twasm::tool::compileModuleBytes("batch.wasm", binary, settings);
    if (!compiled) {
      error = "compile: " + toString(compiled.takeError());
      return nullptr;
    }
    auto module = device->loadModule(compiled->code, compiled->manifest);
    if (!module) {
      error = "load: " + module.error().message;
      return nullptr;
    }
    auto instance = (*module)->instantiate();
    if (!instance) {
      error = "instantiate: " + instance.error().message;
      return nullptr;
    }
    return std::move(*instance);
  }

private:
  std::shared_ptr<tensorwasm::Device> device;
};

/// Why `cases` do not compile for `target`; empty if they do, with the
/// code and manifest in `compiled`.
std::string compileFor(const std::string &binary, size_t cases,
                       mlir::twasm::tool::CompiledModule &compiled) {
  mlir::twasm::tool::CompileSettings settings;
  settings.target = target;
  settings.kernels = kernelNames(cases);
  auto result =
      mlir::twasm::tool::compileModuleBytes("batch.wasm", binary, settings);
  if (!result)
    return "does not compile for " + target + ": " +
           toString(result.takeError());
  compiled = std::move(*result);
  return "";
}

/// What the reference and the backend did with a batch of one case;
/// empty when they agree. Without a backend (--emit), whether it compiles.
std::string divergence(CpuBackend *backend, const Case &oneCase) {
  std::string binary = mlir::twasm::test::assembleWat(moduleText({oneCase}));
  if (!backend) {
    mlir::twasm::tool::CompiledModule compiled;
    return compileFor(binary, 1, compiled);
  }
  std::string error;
  std::unique_ptr<Reference> reference = Reference::load(binary, error);
  if (!reference)
    return "wabt: " + error;
  Launch launch = launchOf(oneCase, 0);
  std::optional<Outcome> expected = reference->run(launch, error);
  if (!expected)
    return "wabt: " + error;
  std::unique_ptr<tensorwasm::Instance> instance =
      backend->load(binary, 1, error);
  if (!instance)
    return error;
  auto actual = runCase(*instance, launch);
  if (!actual)
    return "run: " + actual.error().message;
  return difference(*expected, *actual);
}

/// The smallest form of a divergent case that still diverges, found by
/// walking RapidCheck's shrink tree (first shrink that still fails, again).
Case shrink(CpuBackend *backend, rc::Shrinkable<Case> failing,
            std::string &why) {
  unsigned tried = 0;
  bool progress = true;
  while (progress && tried < shrinkBudget) {
    progress = false;
    auto candidates = failing.shrinks();
    while (auto candidate = candidates.next()) {
      if (++tried > shrinkBudget)
        break;
      std::string reason = divergence(backend, candidate->value());
      if (!reason.empty()) {
        failing = *candidate;
        why = reason;
        progress = true;
        break;
      }
    }
  }
  return failing.value();
}

bool writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    errs() << "twasm-oracle: cannot write " << path << "\n";
    return false;
  }
  return true;
}

/// Prints a divergent case, shrunk, and saves it under --failures.
void report(uint64_t batch, size_t index, const std::string &why,
            const Case &smallest) {
  std::string text = describe(smallest);
  outs() << "DIVERGENCE in case " << batch << ":" << index << " (--seed "
         << seed << " --show " << batch << ":" << index << "): " << why
         << "\nshrunk to:\n"
         << text << "\n";
  if (!failures.empty()) {
    char file[64];
    std::snprintf(file, sizeof file, "/case-%" PRIu64 "-%zu.wat", batch, index);
    writeFile(failures + file, text);
  }
}

int showCase() {
  size_t colon = show.find(':');
  uint64_t batch = 0, index = 0;
  if (colon == std::string::npos ||
      StringRef(show).substr(0, colon).getAsInteger(10, batch) ||
      StringRef(show).substr(colon + 1).getAsInteger(10, index)) {
    errs() << "twasm-oracle: --show takes BATCH:INDEX\n";
    return 2;
  }
  outs() << describe(generate(batch, index).value());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Random kernels on the CPU backend (or compiled for a GPU) against "
      "wabt's interpreter (docs/testing.md)\n");
  if (!show.empty())
    return showCase();
  bool emitting = !emitDirectory.empty();
  if (emitting)
    sys::fs::create_directories(emitDirectory);
  if (!failures.empty())
    sys::fs::create_directories(failures);

  std::optional<CpuBackend> backend;
  if (!emitting)
    backend.emplace();
  std::map<TrapCode, uint64_t> endings;
  uint64_t ran = 0, divergent = 0;
  auto started = Clock::now();
  for (uint64_t batch = 0; ran < caseCount; ++batch) {
    size_t count = std::min<uint64_t>(batchSize, caseCount - ran);
    std::vector<rc::Shrinkable<Case>> shrinkables;
    std::vector<Case> cases;
    for (size_t i = 0; i < count; ++i) {
      shrinkables.push_back(generate(batch, i));
      cases.push_back(shrinkables.back().value());
    }
    std::string text = moduleText(cases);
    std::string binary = mlir::twasm::test::assembleWat(text);
    std::string error;
    std::unique_ptr<Reference> reference = Reference::load(binary, error);
    if (!reference) {
      errs() << "twasm-oracle: wabt cannot load batch " << batch << ": "
             << error << "\n";
      return 2;
    }
    std::vector<ExpectedCase> expectations;
    std::vector<Outcome> expected;
    for (size_t i = 0; i < count; ++i) {
      Launch launch = launchOf(cases[i], i);
      std::optional<Outcome> outcome = reference->run(launch, error);
      if (!outcome) {
        errs() << "twasm-oracle: batch " << batch << " case " << i << ": "
               << error << "\n";
        return 2;
      }
      ++endings[outcome->trap];
      expectations.push_back({launch, outcome->trap, digest(outcome->memory)});
      expected.push_back(std::move(*outcome));
    }

    if (emitting) {
      mlir::twasm::tool::CompiledModule compiled;
      if (compileFor(binary, count, compiled).empty()) {
        char stem[64];
        std::snprintf(stem, sizeof stem, "/batch-%06" PRIu64, batch);
        std::string path = emitDirectory + stem;
        std::string extension = target == "host" ? ".so" : ".ptx";
        if (!writeFile(path + extension, compiled.code) ||
            !writeFile(path + ".json", compiled.manifest) ||
            !writeFile(path + ".expected", writeExpectations(expectations)))
          return 2;
        ran += count;
        continue;
      }
      // A batch that does not compile: its first case that does not alone,
      // shrunk, explains it.
      for (size_t i = 0; i < count; ++i) {
        std::string why = divergence(nullptr, cases[i]);
        if (why.empty())
          continue;
        ++divergent;
        report(batch, i, why, shrink(nullptr, shrinkables[i], why));
        break;
      }
      break;
    }

    std::unique_ptr<tensorwasm::Instance> instance =
        backend->load(binary, count, error);
    for (size_t i = 0; i < count; ++i) {
      std::string why = error;
      if (instance) {
        auto actual = runCase(*instance, expectations[i].launch);
        why = actual ? difference(expected[i], *actual)
                     : "run: " + actual.error().message;
      }
      ++ran;
      if (why.empty())
        continue;
      ++divergent;
      report(batch, i, why, shrink(&*backend, shrinkables[i], why));
    }
    // Without a compiled batch, the first case's shrunk form explains it.
    if (!instance && divergent)
      break;
  }

  double seconds =
      std::chrono::duration<double>(Clock::now() - started).count();
  outs() << ran << " cases (seed " << seed << "), "
         << (emitting ? "compiled for " + target : std::string("run on cpu"))
         << " in " << format("%.1f", seconds) << " s; the reference:";
  for (const auto &[trap, count] : endings)
    outs() << " " << describe(trap) << " " << count << ";";
  outs() << " divergences: " << divergent << "\n";
  return divergent ? 1 : 0;
}
