//===- SpecRunner.cpp - the official spec suite on the CPU backend --------===//
//
// Runs every command of the WebAssembly core test suite's .wast files on the
// CPU backend: each module is compiled to a shared object (the same path as
// `twasm compile --target host`), loaded by the runtime's host loader and
// instantiated against the `spectest` host module and the modules the
// script registered; then every action and assertion is checked, with the
// spec's canonical and arithmetic NaN patterns.
//
// Each file runs in a child process, so a crash or a hang is seen, counted
// and reported as such instead of ending the run. Prints per-file and total
// counts; writes every failing assertion, with its reason, to --failures.
// Exits 0 when no file crashed or hung and the non-SIMD files pass at least
// --min-pass-rate of their assertions; 77 (skipped) when the suite or
// wast2json is absent.
//
//   twasm-spectest --suite DIR [--only NAME...] [--failures FILE]
//                  [--min-pass-rate PERCENT]
//
//===----------------------------------------------------------------------===//

#include "SpecScripts.h"
#include "cpu/HostModule.h"
#include "twasm/Import/WasmImporter.h"
#include "twasm/InitAll.h"
#include "twasm/Pipelines/HostCompiler.h"
#include "twasm/Pipelines/Manifest.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <map>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace llvm;
namespace cpu = tensorwasm::cpu;
namespace abi = tensorwasm::abi;

static cl::opt<std::string>
    suiteDir("suite", cl::desc("The directory of .wast files"), cl::Required);
static cl::opt<std::string> wast2jsonPath("wast2json",
                                          cl::desc("wast2json to use"),
                                          cl::init("wast2json"));
static cl::list<std::string> only("only",
                                  cl::desc("Run only these files (stem)"));
static cl::opt<std::string>
    failuresPath("failures",
                 cl::desc("Write each failing assertion and its reason here"));
static cl::opt<double> minPassRate(
    "min-pass-rate",
    cl::desc("Fail unless this percentage of the non-SIMD assertions pass"),
    cl::init(0.0));
static cl::opt<unsigned>
    fileTimeout("file-timeout",
                cl::desc("Seconds a file may take before it counts as hung"),
                cl::init(300));

static cl::opt<bool> inProcess(
    "in-process",
    cl::desc("Run the files in this process (to debug; a crash ends the run)"));

static cl::opt<bool> trace("trace",
                           cl::desc("Print each command before running it"));

namespace {

struct FileResult {
  unsigned modules = 0, modulesCompiled = 0;
  unsigned assertions = 0, passed = 0;
  std::vector<std::string> failures;
};

/// A value as the runtime passes it: 8 bytes, plus its type.
struct TypedValue {
  cpu::ValueType type;
  uint64_t bits;
};

/// What an exported definition of a live instance is.
struct Binding {
  cpu::Instance *instance;
  uint32_t functionIndex;
};

template <typename T> uint64_t bitsOf(T value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(value));
  return bits;
}

/// The spectest module's functions do nothing; they exist to be imported.
void ignoreCall(void *, abi::host::ThreadContext *, uint64_t *) {}

/// An import bound to another instance's exported function: a nested call
/// on the caller's thread, so a trap unwinds to the outermost call.
void callBinding(void *environment, abi::host::ThreadContext *thread,
                 uint64_t *values) {
  auto *binding = static_cast<Binding *>(environment);
  binding->instance->callNested(binding->functionIndex, thread, values);
}

class ScriptRunner {
public:
  ScriptRunner(StringRef directory, StringRef stem)
      : directory(directory), stem(stem.str()) {
    mlir::DialectRegistry registry;
    mlir::twasm::registerAllDialects(registry);
    context = std::make_unique<mlir::MLIRContext>(registry);
    context->loadAllAvailableDialects();
    // Diagnostics come back through compileForHost's errors.
    context->printOpOnDiagnostic(false);
  }

  FileResult run(const json::Object &script) {
    const json::Array *commands = script.getArray("commands");
    if (!commands) {
      result.failures.push_back(stem + ": no commands");
      return std::move(result);
    }
    for (const json::Value &value : *commands)
      if (const json::Object *command = value.getAsObject())
        runCommand(*command);
    return std::move(result);
  }

private:
  struct LiveModule {
    std::unique_ptr<cpu::Instance> instance;
    std::vector<std::unique_ptr<Binding>> bindings;
  };

  void fail(int64_t line, StringRef kind, const Twine &reason) {
    result.failures.push_back(
        formatv("{0}.wast:{1}: {2}: {3}", stem, line, kind, reason.str()));
  }

  void runCommand(const json::Object &command) {
    StringRef type = command.getString("type").value_or("");
    int64_t line = command.getInteger("line").value_or(0);
    if (trace)
      errs() << stem << ".wast:" << line << ": " << type << "\n";
    if (type == "module") {
      ++result.modules;
      std::string error;
      std::unique_ptr<LiveModule> module =
          instantiate(command.getString("filename").value_or(""), error);
      if (!module) {
        fail(line, "module", error);
        current = nullptr;
        return;
      }
      ++result.modulesCompiled;
      current = module.get();
      if (auto name = command.getString("name"))
        named[name->str()] = current;
      live.push_back(std::move(module));
      return;
    }
    if (type == "register") {
      LiveModule *module = current;
      if (auto name = command.getString("name"))
        module = named.count(name->str()) ? named[name->str()] : nullptr;
      if (module)
        registered[command.getString("as").value_or("").str()] = module;
      return;
    }
    ++result.assertions;
    std::string reason;
    bool ok = check(type, command, reason);
    if (ok)
      ++result.passed;
    else
      fail(line, type, reason);
  }

  bool check(StringRef type, const json::Object &command, std::string &reason) {
    if (type == "action" || type == "assert_return" || type == "assert_trap" ||
        type == "assert_exhaustion") {
      const json::Object *action = command.getObject("action");
      if (!action) {
        reason = "no action";
        return false;
      }
      std::vector<TypedValue> results;
      cpu::CallResult outcome;
      if (!perform(*action, results, outcome, reason))
        return false;
      if (type == "assert_trap" || type == "assert_exhaustion") {
        if (!outcome.trapped()) {
          reason = "returned instead of trapping";
          return false;
        }
        std::string expected = command.getString("text").value_or("").str();
        std::string actual = abi::trapMessage(outcome.trap);
        if (type == "assert_exhaustion")
          expected = "call stack exhausted";
        if (!StringRef(expected).starts_with(actual) &&
            !StringRef(actual).starts_with(expected)) {
          reason =
              "trapped with \"" + actual + "\", expected \"" + expected + "\"";
          return false;
        }
        return true;
      }
      if (outcome.trapped()) {
        reason = std::string("trapped: ") + abi::trapMessage(outcome.trap);
        return false;
      }
      if (type == "action")
        return true;
      const json::Array *expected = command.getArray("expected");
      if (!expected || expected->size() != results.size()) {
        reason = "wrong number of results";
        return false;
      }
      for (size_t i = 0; i < results.size(); ++i)
        if (!matches((*expected)[i], results[i], reason))
          return false;
      return true;
    }
    if (type == "assert_malformed" || type == "assert_invalid") {
      StringRef file = command.getString("filename").value_or("");
      std::string error;
      if (importModule(file, error)) {
        reason = "the module was accepted";
        return false;
      }
      return true;
    }
    if (type == "assert_unlinkable") {
      std::string error;
      auto module =
          compileAndLink(command.getString("filename").value_or(""), error);
      if (module) {
        reason = "the module linked";
        return false;
      }
      if (error.find("link: ") != 0) {
        reason = "failed before linking: " + error;
        return false;
      }
      return true;
    }
    if (type == "assert_uninstantiable") {
      std::string error;
      auto module =
          compileAndLink(command.getString("filename").value_or(""), error);
      if (!module) {
        reason = error;
        return false;
      }
      cpu::Expected<cpu::CallResult> started =
          module->instance->instantiate(&control);
      if (!started) {
        reason = started.error().message;
        return false;
      }
      if (!started->trapped()) {
        reason = "instantiation did not trap";
        return false;
      }
      // The instance lives on: what it wrote to shared state stays.
      live.push_back(std::move(module));
      return true;
    }
    reason = "unknown command";
    return false;
  }

  /// Runs an invoke or a get; false (with a reason) if it could not be run.
  bool perform(const json::Object &action, std::vector<TypedValue> &results,
               cpu::CallResult &outcome, std::string &reason) {
    LiveModule *module = current;
    if (auto name = action.getString("module"))
      module = named.count(name->str()) ? named[name->str()] : nullptr;
    if (!module) {
      reason = "no module to act on";
      return false;
    }
    StringRef field = action.getString("field").value_or("");
    const cpu::ModuleDescription &description = module->instance->description();
    const cpu::ModuleDescription::Export *exported =
        description.findExport(field);
    if (!exported) {
      reason = ("no export named \"" + field + "\"").str();
      return false;
    }
    StringRef type = action.getString("type").value_or("");
    if (type == "get") {
      if (exported->kind != cpu::ModuleDescription::ExportKind::Global ||
          !exported->globalOffset) {
        reason = "not a readable global";
        return false;
      }
      uint64_t bits = 0;
      std::memcpy(&bits, module->instance->globals() + *exported->globalOffset,
                  8);
      results.push_back({exported->globalType, bits});
      return true;
    }
    if (exported->kind != cpu::ModuleDescription::ExportKind::Func) {
      reason = "not a function";
      return false;
    }
    const json::Array *args = action.getArray("args");
    const cpu::Signature &signature = exported->signature;
    if (!args || args->size() != signature.params.size()) {
      reason = "wrong number of arguments";
      return false;
    }
    std::vector<uint64_t> values(
        std::max<size_t>(
            {signature.params.size(), signature.results.size(), size_t(1)}),
        0);
    for (size_t i = 0; i < args->size(); ++i) {
      std::optional<TypedValue> value = parseValue((*args)[i]);
      if (!value) {
        reason = "cannot read argument " + std::to_string(i);
        return false;
      }
      values[i] = value->bits;
    }
    cpu::Expected<cpu::CallResult> called = module->instance->call(
        exported->functionIndex, values.data(), &control);
    if (!called) {
      reason = called.error().message;
      return false;
    }
    outcome = *called;
    for (size_t i = 0; i < signature.results.size(); ++i) {
      uint64_t bits = values[i];
      cpu::ValueType resultType = signature.results[i];
      if (resultType != cpu::ValueType::I64 &&
          resultType != cpu::ValueType::F64)
        bits &= 0xffffffffu;
      results.push_back({resultType, bits});
    }
    return true;
  }

  /// A JSON value of the script as the runtime's 8 bytes. References: 0 is
  /// null, otherwise the host reference's number + 1 (docs/host-abi.md).
  static std::optional<TypedValue> parseValue(const json::Value &json) {
    const json::Object *object = json.getAsObject();
    if (!object)
      return std::nullopt;
    std::optional<cpu::ValueType> type =
        cpu::parseValueType(object->getString("type").value_or(""));
    std::optional<StringRef> text = object->getString("value");
    if (!type || !text)
      return std::nullopt;
    uint64_t bits = 0;
    if (*type == cpu::ValueType::ExternRef ||
        *type == cpu::ValueType::FuncRef) {
      if (*text == "null")
        return TypedValue{*type, 0};
      if (text->getAsInteger(10, bits))
        return std::nullopt;
      return TypedValue{*type, bits + 1};
    }
    if (text->getAsInteger(10, bits))
      return std::nullopt;
    return TypedValue{*type, bits};
  }

  static bool matches(const json::Value &expected, const TypedValue &actual,
                      std::string &reason) {
    const json::Object *object = expected.getAsObject();
    StringRef text =
        object ? object->getString("value").value_or("") : StringRef();
    std::optional<cpu::ValueType> type =
        object ? cpu::parseValueType(object->getString("type").value_or(""))
               : std::nullopt;
    auto mismatch = [&](StringRef what) {
      reason = formatv("got {0}:{1:x}, expected {2} {3}",
                       cpu::valueTypeName(actual.type), actual.bits,
                       type ? cpu::valueTypeName(*type) : "?", what)
                   .str();
      return false;
    };
    if (!type)
      return mismatch("(unreadable)");
    if (text.starts_with("nan:")) {
      bool isF32 = *type == cpu::ValueType::F32;
      uint64_t exponent = isF32 ? 0x7f800000u : 0x7ff0000000000000u;
      uint64_t quiet = isF32 ? 0x00400000u : 0x0008000000000000u;
      uint64_t payload = isF32 ? 0x007fffffu : 0x000fffffffffffffu;
      uint64_t bits = actual.bits;
      bool isNaN = (bits & exponent) == exponent && (bits & payload) != 0;
      if (!isNaN)
        return mismatch(text);
      if (text == "nan:canonical" && (bits & payload) != quiet)
        return mismatch(text);
      if (text == "nan:arithmetic" && (bits & quiet) == 0)
        return mismatch(text);
      return true;
    }
    if (*type == cpu::ValueType::FuncRef && text.empty())
      return actual.bits != 0 ? true : mismatch("a non-null funcref");
    std::optional<TypedValue> value = parseValue(expected);
    if (!value)
      return mismatch("(unreadable)");
    if (value->bits != actual.bits)
      return mismatch(text);
    return true;
  }

  mlir::OwningOpRef<mlir::twasm::ModuleOp> importModule(StringRef file,
                                                        std::string &error) {
    SmallString<256> path(directory);
    sys::path::append(path, file);
    auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false,
                                        /*RequiresNullTerminator=*/false);
    if (!buffer) {
      error = "cannot read " + path.str().str();
      return nullptr;
    }
    auto imported =
        mlir::twasm::importWasmModule(*context, file, (*buffer)->getBuffer());
    if (!imported) {
      error = toString(imported.takeError());
      return nullptr;
    }
    return std::move(*imported);
  }

  /// Compiles, loads and links a module; errors from linking start with
  /// "link: ".
  std::unique_ptr<LiveModule> compileAndLink(StringRef file,
                                             std::string &error) {
    mlir::OwningOpRef<mlir::twasm::ModuleOp> module = importModule(file, error);
    if (!module)
      return nullptr;
    mlir::twasm::HostTarget target;
    std::string manifest = mlir::twasm::writeHostManifest(*module, target.cpu);
    Expected<mlir::twasm::HostArtifacts> artifacts =
        mlir::twasm::compileForHost(std::move(module), target);
    if (!artifacts) {
      error = "compile: " + toString(artifacts.takeError());
      return nullptr;
    }
    cpu::Expected<std::shared_ptr<cpu::LoadedCode>> code =
        cpu::LoadedCode::load(artifacts->sharedObject);
    if (!code) {
      error = "load: " + code.error().message;
      return nullptr;
    }
    cpu::Expected<cpu::ModuleDescription> description =
        cpu::ModuleDescription::parse(manifest);
    if (!description) {
      error = "manifest: " + description.error().message;
      return nullptr;
    }
    auto live = std::make_unique<LiveModule>();
    cpu::Instance::Imports imports;
    if (!link(*description, imports, *live, error)) {
      error = "link: " + error;
      return nullptr;
    }
    cpu::Expected<std::unique_ptr<cpu::Instance>> instance =
        cpu::Instance::create(*code, *description, std::move(imports));
    if (!instance) {
      error = "instance: " + instance.error().message;
      return nullptr;
    }
    live->instance = std::move(*instance);
    return live;
  }

  std::unique_ptr<LiveModule> instantiate(StringRef file, std::string &error) {
    std::unique_ptr<LiveModule> module = compileAndLink(file, error);
    if (!module)
      return nullptr;
    cpu::Expected<cpu::CallResult> started =
        module->instance->instantiate(&control);
    if (!started) {
      error = started.error().message;
      return nullptr;
    }
    if (started->trapped()) {
      error = std::string("instantiation trapped: ") +
              abi::trapMessage(started->trap);
      return nullptr;
    }
    return module;
  }

  /// Resolves the module's imports against `spectest` and the registered
  /// modules, checking kinds, types and limits as the spec's linking does.
  bool link(const cpu::ModuleDescription &module,
            cpu::Instance::Imports &imports, LiveModule &live,
            std::string &error) {
    for (const auto &function : module.functionImports) {
      const auto &[moduleName, name] = function.import;
      if (moduleName == "spectest") {
        static const std::map<std::string, std::vector<cpu::ValueType>>
            printers = {
                {"print", {}},
                {"print_i32", {cpu::ValueType::I32}},
                {"print_i64", {cpu::ValueType::I64}},
                {"print_f32", {cpu::ValueType::F32}},
                {"print_f64", {cpu::ValueType::F64}},
                {"print_i32_f32", {cpu::ValueType::I32, cpu::ValueType::F32}},
                {"print_f64_f64", {cpu::ValueType::F64, cpu::ValueType::F64}}};
        auto it = printers.find(name);
        if (it == printers.end() ||
            !(function.signature == cpu::Signature{it->second, {}})) {
          error = "unknown import spectest." + name + " of that type";
          return false;
        }
        imports.functions.push_back({&ignoreCall, nullptr});
        continue;
      }
      const cpu::ModuleDescription::Export *exported = nullptr;
      LiveModule *source = findExport(function.import, exported, error);
      if (!source)
        return false;
      if (exported->kind != cpu::ModuleDescription::ExportKind::Func ||
          !(exported->signature == function.signature)) {
        error = "incompatible import type for " + moduleName + "." + name;
        return false;
      }
      live.bindings.push_back(std::make_unique<Binding>(
          Binding{source->instance.get(), exported->functionIndex}));
      imports.functions.push_back({&callBinding, live.bindings.back().get()});
    }
    for (const auto &global : module.globals) {
      if (!global.import)
        continue;
      const auto &[moduleName, name] = *global.import;
      if (moduleName == "spectest") {
        static const std::map<std::string, TypedValue> values = {
            {"global_i32", {cpu::ValueType::I32, 666}},
            {"global_i64", {cpu::ValueType::I64, 666}},
            {"global_f32", {cpu::ValueType::F32, bitsOf(666.6f)}},
            {"global_f64", {cpu::ValueType::F64, bitsOf(666.6)}}};
        auto it = values.find(name);
        if (it == values.end() || it->second.type != global.type ||
            global.isMutable) {
          error = "unknown import spectest." + name + " of that type";
          return false;
        }
        imports.globals.push_back(it->second.bits);
        continue;
      }
      const cpu::ModuleDescription::Export *exported = nullptr;
      LiveModule *source = findExport(*global.import, exported, error);
      if (!source)
        return false;
      if (exported->kind != cpu::ModuleDescription::ExportKind::Global ||
          exported->globalType != global.type ||
          exported->globalMutable != global.isMutable ||
          !exported->globalOffset) {
        error = "incompatible import type for " + moduleName + "." + name;
        return false;
      }
      uint64_t bits = 0;
      std::memcpy(&bits, source->instance->globals() + *exported->globalOffset,
                  8);
      imports.globals.push_back(bits);
    }
    if (module.memory && module.memory->import) {
      const auto &[moduleName, name] = *module.memory->import;
      std::shared_ptr<cpu::LinearMemory> memory;
      if (moduleName == "spectest" && name == "memory") {
        if (!spectestMemory) {
          auto created = cpu::LinearMemory::create(1, 2);
          if (!created) {
            error = created.error().message;
            return false;
          }
          spectestMemory = *created;
        }
        memory = spectestMemory;
      } else {
        const cpu::ModuleDescription::Export *exported = nullptr;
        LiveModule *source =
            findExport(*module.memory->import, exported, error);
        if (!source)
          return false;
        if (exported->kind != cpu::ModuleDescription::ExportKind::Memory) {
          error = "incompatible import type for " + moduleName + "." + name;
          return false;
        }
        memory = source->instance->memory();
      }
      if (!memory || memory->pages() < module.memory->minPages ||
          (module.memory->maxPages &&
           memory->maxPages() > *module.memory->maxPages)) {
        error = "incompatible import type (memory limits) for " + moduleName +
                "." + name;
        return false;
      }
      imports.memory = memory;
    }
    for (const auto &table : module.tables) {
      if (!table.import)
        continue;
      const auto &[moduleName, name] = *table.import;
      if (moduleName == "spectest" && name == "table") {
        // funcref, 10 elements, at most 20.
        if (table.type != cpu::ValueType::FuncRef || table.size > 10 ||
            (table.maxSize && *table.maxSize < 20)) {
          error = "incompatible import type (table) for spectest.table";
          return false;
        }
        imports.tables.push_back(std::vector<uint32_t>(10, 0));
        continue;
      }
      error = "importing the table " + moduleName + "." + name +
              " from another module is not supported by the CPU backend yet "
              "(docs/conformance.md)";
      return false;
    }
    return true;
  }

  LiveModule *findExport(const cpu::ImportName &import,
                         const cpu::ModuleDescription::Export *&exported,
                         std::string &error) {
    auto it = registered.find(import.first);
    if (it == registered.end() || !it->second->instance) {
      error = "unknown import " + import.first + "." + import.second;
      return nullptr;
    }
    exported = it->second->instance->description().findExport(import.second);
    if (!exported) {
      error = "unknown import " + import.first + "." + import.second;
      return nullptr;
    }
    return it->second;
  }

  std::string directory;
  std::string stem;
  std::unique_ptr<mlir::MLIRContext> context;
  FileResult result;
  std::atomic<uint32_t> control{0};
  std::vector<std::unique_ptr<LiveModule>> live;
  LiveModule *current = nullptr;
  std::map<std::string, LiveModule *> named;
  std::map<std::string, LiveModule *> registered;
  std::shared_ptr<cpu::LinearMemory> spectestMemory;
};

/// Runs one file in a child process; its result comes back as JSON through
/// a pipe.
FileResult runIsolated(StringRef directory, StringRef stem,
                       const json::Object &script, std::string &crash) {
  if (inProcess)
    return ScriptRunner(directory, stem).run(script);
  int fds[2];
  if (pipe(fds) != 0) {
    crash = "cannot create a pipe";
    return {};
  }
  outs().flush();
  errs().flush();
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    FileResult result = ScriptRunner(directory, stem).run(script);
    json::Array failures;
    for (std::string &failure : result.failures)
      failures.push_back(std::move(failure));
    std::string text;
    raw_string_ostream stream(text);
    stream << json::Value(
        json::Object{{"modules", result.modules},
                     {"modules_compiled", result.modulesCompiled},
                     {"assertions", result.assertions},
                     {"passed", result.passed},
                     {"failures", std::move(failures)}});
    stream.flush();
    size_t written = 0;
    while (written < text.size()) {
      ssize_t n = write(fds[1], text.data() + written, text.size() - written);
      if (n <= 0)
        break;
      written += static_cast<size_t>(n);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  if (child < 0) {
    close(fds[0]);
    crash = "cannot fork";
    return {};
  }
  std::string text;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::seconds(fileTimeout.getValue());
  bool hung = false;
  char chunk[65536];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      hung = true;
      break;
    }
    pollfd descriptor{fds[0], POLLIN, 0};
    if (poll(&descriptor, 1, static_cast<int>(left)) <= 0)
      continue;
    ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n <= 0)
      break;
    text.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (hung)
    kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  if (hung) {
    crash = formatv("hung (killed after {0} s)", fileTimeout.getValue());
    return {};
  }
  if (WIFSIGNALED(status)) {
    crash = formatv("crashed with signal {0} ({1})", WTERMSIG(status),
                    strsignal(WTERMSIG(status)));
    return {};
  }
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed || !parsed->getAsObject()) {
    if (!parsed)
      consumeError(parsed.takeError());
    crash = "exited without a result";
    return {};
  }
  const json::Object &object = *parsed->getAsObject();
  FileResult result;
  result.modules = object.getInteger("modules").value_or(0);
  result.modulesCompiled = object.getInteger("modules_compiled").value_or(0);
  result.assertions = object.getInteger("assertions").value_or(0);
  result.passed = object.getInteger("passed").value_or(0);
  if (const json::Array *failures = object.getArray("failures"))
    for (const json::Value &failure : *failures)
      if (auto text = failure.getAsString())
        result.failures.push_back(text->str());
  return result;
}

} // namespace

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(
      argc, argv, "Runs the WebAssembly spec test suite on the CPU backend\n");
  auto prepared = tensorwasm::testing::prepareSuiteRun(suiteDir, wast2jsonPath,
                                                       "twasm-spectest");
  if (int *status = std::get_if<int>(&prepared))
    return *status;
  auto &[wast2json, wastFiles, scratch] =
      std::get<tensorwasm::testing::SuiteRun>(prepared);

  struct Totals {
    unsigned assertions = 0, passed = 0, modules = 0, compiled = 0, files = 0;
  } core, simd;
  std::vector<std::string> crashes, failures;
  outs() << formatv("{0,-32} {1,15} {2,15}\n", "file", "assertions", "modules");
  for (const std::string &wast : wastFiles) {
    StringRef stem = sys::path::stem(wast);
    if (!only.empty() &&
        std::find(only.begin(), only.end(), stem) == only.end())
      continue;
    SmallString<256> directory(scratch);
    sys::path::append(directory, stem);
    Expected<json::Value> script =
        tensorwasm::testing::convertWast(wast2json, wast, directory);
    if (!script) {
      crashes.push_back(stem.str() + ": " + toString(script.takeError()));
      continue;
    }
    std::string crash;
    FileResult result =
        runIsolated(directory, stem, *script->getAsObject(), crash);
    Totals &totals = stem.starts_with("simd") ? simd : core;
    ++totals.files;
    if (!crash.empty()) {
      crashes.push_back(stem.str() + ": " + crash);
      outs() << formatv("{0,-32} {1}\n", stem, crash);
      continue;
    }
    totals.assertions += result.assertions;
    totals.passed += result.passed;
    totals.modules += result.modules;
    totals.compiled += result.modulesCompiled;
    outs() << formatv("{0,-32} {1,6}/{2,-8} {3,6}/{4,-8}\n", stem,
                      result.passed, result.assertions, result.modulesCompiled,
                      result.modules);
    failures.insert(failures.end(), result.failures.begin(),
                    result.failures.end());
    sys::fs::remove_directories(directory);
  }
  sys::fs::remove_directories(scratch);

  auto percent = [](unsigned part, unsigned whole) {
    return whole == 0 ? 100.0 : 100.0 * part / whole;
  };
  outs() << formatv("\nnon-SIMD: {0} files, assertions passed {1}/{2} "
                    "({3:f2}%), modules compiled and instantiated {4}/{5}\n",
                    core.files, core.passed, core.assertions,
                    percent(core.passed, core.assertions), core.compiled,
                    core.modules);
  outs() << formatv("SIMD (not required yet): {0} files, assertions passed "
                    "{1}/{2}, modules {3}/{4}\n",
                    simd.files, simd.passed, simd.assertions, simd.compiled,
                    simd.modules);
  outs() << formatv("crashed or hung: {0}\n", crashes.size());
  for (const std::string &crash : crashes)
    outs() << "  " << crash << "\n";
  if (!failuresPath.empty()) {
    std::error_code error;
    raw_fd_ostream stream(failuresPath, error);
    if (error) {
      errs() << "error: cannot write " << failuresPath << "\n";
      return 1;
    }
    for (const std::string &failure : failures)
      stream << failure << "\n";
  }
  double rate = percent(core.passed, core.assertions);
  if (rate < minPassRate) {
    outs() << formatv("FAIL: {0:f2}% of the non-SIMD assertions pass, below "
                      "the required {1:f2}%\n",
                      rate, minPassRate.getValue());
    return 1;
  }
  return crashes.empty() ? 0 : 1;
}
