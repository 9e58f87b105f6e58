//===- twasm.cpp - the TensorWasm command line ----------------------------===//
//
// `twasm compile kernel.wasm --target sm_90 -o kernel.ptx` compiles the
// kernels of a Wasm module ahead of time and writes the manifest a loader
// needs beside them (docs/kernel-manifest.md), or with --sign a signed
// artifact (docs/artifact-format.md); `twasm run` runs a kernel through the
// runtime's API (RunKernel.cpp, shared with `twasm-run`); `twasm keygen`,
// `verify` and `registry` make keys, check artifacts and store them
// (ArtifactCommands.cpp).
//
//===----------------------------------------------------------------------===//

#include "ArtifactCommands.h"
#include "Compile.h"
#include "RunKernel.h"
#include "ServeCommand.h"
#include "SnapshotCommands.h"
#include "TokenCommands.h"
#include "twasm/Artifact.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>
#include <ctime>
#include <optional>

using namespace mlir;
namespace cl = llvm::cl;
using twasm::tool::Emit;

// `twasm run` parses its own command line (RunKernel.cpp); it is declared
// here so that `twasm --help` lists it.
static cl::SubCommand runCommand(
    "run", "Run a kernel of a module on a device, through the runtime (exit "
           "status 0: completed, 1: an error, 2: trapped, 3: interrupted)");

// So are the artifact commands (ArtifactCommands.cpp).
static cl::SubCommand keygenCommand(
    "keygen", "Make an Ed25519 key pair for signing artifacts: NAME.key and "
              "NAME.pub");
static cl::SubCommand
    verifyCommand("verify",
                  "Check a signed artifact (.twa) against a trust policy and "
                  "describe it");
static cl::SubCommand registryCommand(
    "registry", "Push, pull, list, show, remove, gc and fsck artifacts in a "
                "kernel registry, and manage its trusted keys");
static cl::SubCommand
    snapshotCommand("snapshot",
                    "Make keys for, create, restore, inspect and verify signed "
                    "snapshots of instances");

static cl::SubCommand
    tokenCommand("token", "Issue, verify and revoke capability tokens of "
                          "tenants");
static cl::SubCommand serveCommand(
    "serve", "Serve the runtime's HTTP/JSON API to tenants (docs/serve.md)");

static cl::SubCommand compileCommand(
    "compile", "Compile a Wasm module's kernels to PTX, with their manifest");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<module.wasm|module.wat>"),
                                      cl::sub(compileCommand));
static cl::opt<std::string> outputFile(
    "o", cl::desc("Output file (default: the input with .ptx; - for stdout)"),
    cl::value_desc("file"), cl::sub(compileCommand));
static cl::opt<std::string> manifestFile(
    "manifest",
    cl::desc("Where to write the manifest (default: the output with .json; "
             "'none' to skip)"),
    cl::value_desc("file"), cl::sub(compileCommand));
static cl::opt<std::string>
    chip("target",
         cl::desc("What to compile for: an SM architecture (PTX of the "
                  "kernels) or 'host' (a shared object of the whole module "
                  "for the CPU, docs/host-abi.md)"),
         cl::init("sm_90"), cl::value_desc("sm_XY|host"),
         cl::sub(compileCommand));
static cl::opt<std::string>
    hostCPU("host-cpu",
            cl::desc("With --target host: the x86-64 level the code may use"),
            cl::init("x86-64-v2"), cl::value_desc("cpu"),
            cl::sub(compileCommand));
static cl::list<std::string>
    kernels("kernel",
            cl::desc("Declare the export NAME a kernel (besides the module's "
                     "twasm.kernels section)"),
            cl::value_desc("NAME"), cl::sub(compileCommand));
static cl::opt<bool>
    listKernels("list-kernels",
                cl::desc("Print the module's kernels and their parameters"),
                cl::sub(compileCommand));
static cl::opt<Emit>
    emit("emit", cl::desc("What to write"), cl::init(Emit::Code),
         cl::values(clEnumValN(Emit::Code, "ptx", "PTX assembly (default)"),
                    clEnumValN(Emit::Twasm, "twasm", "the imported twasm IR"),
                    clEnumValN(Emit::Lowered, "lowered",
                               "the gpu.module before PTX emission")),
         cl::sub(compileCommand));
static cl::opt<bool> noBoundsChecks(
    "unsafe-no-bounds-checks",
    cl::desc("Measurement only: omit memory bounds checks (unsafe)"),
    cl::sub(compileCommand));
static cl::opt<bool> noEpochChecks(
    "unsafe-no-epoch-checks",
    cl::desc("Measurement only: omit interruption checks in loops"),
    cl::sub(compileCommand));
static cl::opt<std::string> signingKey(
    "sign",
    cl::desc("Write a signed artifact (.twa, docs/artifact-format.md) with "
             "the Wasm and code for each --target (default: host,sm_90), "
             "signed with this private key (twasm keygen)"),
    cl::value_desc("key file"), cl::sub(compileCommand));
static cl::opt<std::string>
    artifactName("name",
                 cl::desc("With --sign: the artifact's name, such as "
                          "acme/saxpy (default: the input file's stem)"),
                 cl::value_desc("name"), cl::sub(compileCommand));
static cl::opt<uint64_t> artifactVersion(
    "artifact-version",
    cl::desc("With --sign: the artifact's version; a registry takes a "
             "name's versions only in increasing order"),
    cl::init(1), cl::value_desc("N"), cl::sub(compileCommand));
static cl::opt<unsigned> expiresInDays(
    "expires-in", cl::desc("With --sign: days until the artifact expires"),
    cl::init(365), cl::value_desc("days"), cl::sub(compileCommand));
static cl::opt<bool> timing("time", cl::desc("Print how long each stage took"),
                            cl::sub(compileCommand));

static int fail(llvm::StringRef file, const llvm::Twine &reason) {
  llvm::errs() << "error: " << file << ": " << reason << "\n";
  return 1;
}

static llvm::Error writeFile(llvm::StringRef path, llvm::StringRef contents) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output = openOutputFile(path, &error);
  if (!output)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  output->os() << contents;
  output->keep();
  return llvm::Error::success();
}

static std::string defaultOutputPath(llvm::StringRef extension) {
  llvm::SmallString<128> path(inputFile);
  llvm::sys::path::replace_extension(path, extension);
  return path.str().str();
}

/// Writes the manifest where --manifest says, by default beside the output
/// with the extension .json. Returns the exit status.
static int writeManifest(llvm::StringRef outputPath, llvm::StringRef manifest) {
  std::string manifestPath = manifestFile;
  if (manifestPath.empty()) {
    if (outputPath == "-")
      return fail(inputFile, "--manifest is needed when the output is -");
    llvm::SmallString<128> path(outputPath);
    llvm::sys::path::replace_extension(path, ".json");
    manifestPath = path.str().str();
  }
  if (llvm::Error error = writeFile(manifestPath, manifest))
    return fail(manifestPath, llvm::toString(std::move(error)));
  return 0;
}

/// compile --sign: every target's code in one signed artifact.
static int compileArtifact() {
  using namespace tensorwasm;
  if (emit != Emit::Code || listKernels)
    return fail(inputFile, "--sign writes an artifact of compiled code; it "
                           "does not combine with --emit or --list-kernels");
  if (noBoundsChecks || noEpochChecks)
    return fail(inputFile, "--sign does not sign code compiled with "
                           "--unsafe-* options: they are for measurement");
  Result<SigningKey> key = SigningKey::readFile(signingKey);
  if (!key)
    return fail(signingKey, key.error().message);

  ArtifactContents contents;
  contents.name = artifactName;
  if (contents.name.empty())
    contents.name = llvm::StringRef(llvm::sys::path::stem(inputFile)).lower();
  if (Status valid = checkArtifactName(contents.name); !valid)
    return fail(inputFile,
                valid.error().message +
                    (artifactName.empty() ? "; give one with --name" : ""));
  contents.version = artifactVersion;
  contents.created = static_cast<int64_t>(std::time(nullptr));
  contents.expires = contents.created + int64_t(expiresInDays) * 86400;

  std::string targets =
      chip.getNumOccurrences() ? std::string(chip) : std::string("host,sm_90");
  llvm::SmallVector<llvm::StringRef> targetList;
  llvm::StringRef(targets).split(targetList, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef target : targetList) {
    twasm::tool::CompileSettings settings;
    settings.target = target.str();
    settings.hostCPU = hostCPU;
    settings.kernels.assign(kernels.begin(), kernels.end());
    llvm::Expected<twasm::tool::CompiledModule> compiled =
        twasm::tool::compileModule(inputFile, settings);
    if (!compiled)
      return fail(inputFile, llvm::toString(compiled.takeError()));
    contents.wasm = std::move(compiled->wasm);
    contents.targets.push_back({settings.target, std::move(compiled->code),
                                std::move(compiled->manifest)});
  }
  Result<std::string> artifact = buildArtifact(contents, *key);
  if (!artifact)
    return fail(inputFile, artifact.error().message);
  std::string outputPath =
      outputFile.empty() ? defaultOutputPath(".twa") : std::string(outputFile);
  if (llvm::Error error = writeFile(outputPath, *artifact))
    return fail(outputPath, llvm::toString(std::move(error)));
  llvm::errs() << llvm::formatv(
      "signed {0}@{1} ({2}) with key {3}, expires in {4} days: {5}\n",
      contents.name, contents.version, targets,
      key->publicKey().keyId().substr(0, 16), unsigned(expiresInDays),
      outputPath);
  return 0;
}

static int compile() {
  if (!signingKey.empty())
    return compileArtifact();
  auto started = std::chrono::steady_clock::now();
  twasm::tool::CompileSettings settings;
  settings.target = chip;
  settings.hostCPU = hostCPU;
  settings.kernels.assign(kernels.begin(), kernels.end());
  settings.boundsChecks = !noBoundsChecks;
  settings.epochChecks = !noEpochChecks;
  settings.emit = listKernels ? Emit::KernelList : emit.getValue();
  llvm::Expected<twasm::tool::CompiledModule> compiled =
      twasm::tool::compileModule(inputFile, settings);
  if (!compiled)
    return fail(inputFile, llvm::toString(compiled.takeError()));
  if (settings.emit == Emit::KernelList || settings.emit == Emit::Twasm) {
    llvm::outs() << compiled->code;
    return 0;
  }

  bool host = settings.target == "host";
  std::string outputPath = outputFile;
  if (outputPath.empty())
    outputPath = defaultOutputPath(settings.emit == Emit::Code
                                       ? (host ? ".so" : ".ptx")
                                       : (host ? ".ll" : ".mlir"));
  if (llvm::Error error = writeFile(outputPath, compiled->code))
    return fail(outputPath, llvm::toString(std::move(error)));
  if (settings.emit == Emit::Code && manifestFile != "none") {
    if (int failed = writeManifest(outputPath, compiled->manifest))
      return failed;
  }
  if (timing) {
    double totalMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - started)
                         .count();
    if (host)
      llvm::errs() << llvm::formatv(
          "twasm compile: import {0:f1} ms, total {1:f1} ms\n",
          compiled->importMs, totalMs);
    else
      llvm::errs() << llvm::formatv(
          "twasm compile: import {0:f1} ms, lowering and PTX {1:f1} ms, total "
          "{2:f1} ms\n",
          compiled->importMs, compiled->lowerMs, totalMs);
  }
  return 0;
}

/// `twasm run`'s compilation of a .wasm or .wat: compileModule, in memory.
static tensorwasm::tool::CompiledCode compileForRun(const std::string &path,
                                                    const std::string &target) {
  twasm::tool::CompileSettings settings;
  settings.target = target;
  tensorwasm::tool::CompiledCode result;
  llvm::Expected<twasm::tool::CompiledModule> compiled =
      twasm::tool::compileModule(path, settings);
  if (!compiled) {
    result.error = llvm::toString(compiled.takeError());
    return result;
  }
  result.code = std::move(compiled->code);
  result.manifest = std::move(compiled->manifest);
  result.wasm = std::move(compiled->wasm);
  result.milliseconds = compiled->importMs + compiled->lowerMs;
  return result;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // `twasm run ...` is `twasm-run ...` that can also compile: its command
  // line is RunKernel.cpp's, not llvm::cl's.
  if (argc > 1 && llvm::StringRef(argv[1]) == "run")
    return tensorwasm::tool::runMain(argc - 1, argv + 1, compileForRun);
  if (argc > 1 && llvm::StringRef(argv[1]) == "keygen")
    return tensorwasm::tool::keygenMain(argc - 1, argv + 1);
  if (argc > 1 && llvm::StringRef(argv[1]) == "verify")
    return tensorwasm::tool::verifyMain(argc - 1, argv + 1);
  if (argc > 1 && llvm::StringRef(argv[1]) == "registry")
    return tensorwasm::tool::registryMain(argc - 1, argv + 1);
  if (argc > 1 && llvm::StringRef(argv[1]) == "snapshot")
    return tensorwasm::tool::snapshotMain(argc - 1, argv + 1, compileForRun);
  if (argc > 1 && llvm::StringRef(argv[1]) == "token")
    return tensorwasm::tool::tokenMain(argc - 1, argv + 1);
  if (argc > 1 && llvm::StringRef(argv[1]) == "serve")
    return tensorwasm::tool::serveMain(argc - 1, argv + 1);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "TensorWasm: compile WebAssembly kernels for GPUs and CPUs, and run "
          "them\n\n"
          "  twasm compile kernel.wasm --target sm_90 -o kernel.ptx\n"
          "  twasm run kernel.wasm --grid 4096 --block 256 ARGS...\n"))
    return 1;
  if (compileCommand)
    return compile();
  cl::PrintHelpMessage();
  return 1;
}
