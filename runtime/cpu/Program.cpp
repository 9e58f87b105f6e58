//===- Program.cpp - a whole module run as a program on the host ----------===//

#include "Program.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace tensorwasm::cpu {

namespace {

/// What `twasm_host.launch` returns when nothing was launched (a launch
/// that ran reports its trap through `synchronize`).
enum LaunchError : int32_t {
  kNoSuchKernel = -1,
  kWrongArguments = -2,
  kRefusedShape = -3,
  kOutsideMemory = -4,
};

/// The device kinds `twasm_host.device_kind` tells apart.
constexpr int32_t kDeviceCpu = 0;

} // namespace

struct Program::HostCalls {
  static Program &self(void *environment) {
    return *static_cast<Program *>(environment);
  }

  static uint8_t *at(Program &program, uint64_t address, uint64_t bytes) {
    const std::shared_ptr<LinearMemory> &memory = program.instance->memory();
    if (!memory || address > memory->size() || bytes > memory->size() - address)
      return nullptr;
    return memory->data() + address;
  }

  static uint32_t arg(const uint64_t *values, int index) {
    return static_cast<uint32_t>(values[index]);
  }

  /// launch(name, name_length, grid x y z, block x y z, shared_bytes,
  /// arguments, argument_count) -> i32
  static void launch(void *env, abi::host::ThreadContext *, uint64_t *values) {
    Program &program = self(env);
    auto fail = [&](LaunchError error) {
      values[0] = static_cast<uint32_t>(error);
    };
    const uint8_t *nameBytes = at(program, arg(values, 0), arg(values, 1));
    if (!nameBytes)
      return fail(kOutsideMemory);
    std::string name(reinterpret_cast<const char *>(nameBytes), arg(values, 1));
    const ModuleDescription::Kernel *kernel = program.module.findKernel(name);
    if (!kernel)
      return fail(kNoSuchKernel);
    uint32_t count = arg(values, 10);
    if (count != kernel->params.size())
      return fail(kWrongArguments);
    const uint8_t *argumentBytes =
        at(program, arg(values, 9), uint64_t(count) * 8);
    if (!argumentBytes)
      return fail(kOutsideMemory);
    std::vector<uint64_t> arguments(count);
    if (count)
      std::memcpy(arguments.data(), argumentBytes, size_t(count) * 8);
    // Narrow parameters take the low half of their 8 bytes.
    for (size_t i = 0; i < count; ++i)
      if (kernel->params[i] == ValueType::I32 ||
          kernel->params[i] == ValueType::F32)
        arguments[i] &= 0xffffffff;
    LaunchConfig config;
    config.grid = {arg(values, 2), arg(values, 3), arg(values, 4)};
    config.block = {arg(values, 5), arg(values, 6), arg(values, 7)};
    config.sharedBytes = arg(values, 8);
    Expected<LaunchResult> launched =
        program.options.kernelTimeout.count() > 0
            ? program.executor->launchWithTimeout(*program.instance, name,
                                                  config, arguments,
                                                  program.options.kernelTimeout)
            : program.executor->launch(*program.instance, name, config,
                                       arguments, nullptr);
    if (!launched)
      return fail(kRefusedShape);
    ++program.launches;
    if (!launched->trapped())
      ++program.completedLaunches;
    else if (program.pendingTrap == 0)
      program.pendingTrap = static_cast<uint32_t>(launched->trap);
    values[0] = 0;
  }

  /// synchronize() -> i32: 0, or the trap code of the first launch since
  /// the last synchronize that did not complete.
  static void synchronize(void *env, abi::host::ThreadContext *,
                          uint64_t *values) {
    Program &program = self(env);
    values[0] = program.pendingTrap;
    program.pendingTrap = 0;
  }

  static void deviceKind(void *, abi::host::ThreadContext *, uint64_t *values) {
    values[0] = static_cast<uint32_t>(kDeviceCpu);
  }

  /// device_name(buffer, capacity) -> i32: the name's length; at most
  /// `capacity` bytes of it are written.
  static void deviceName(void *env, abi::host::ThreadContext *,
                         uint64_t *values) {
    Program &program = self(env);
    std::string name =
        "cpu (" + std::to_string(program.executor->workerCount()) + " threads)";
    uint32_t capacity = arg(values, 1);
    uint32_t written = std::min<uint32_t>(capacity, name.size());
    uint8_t *buffer = at(program, arg(values, 0), written);
    if (buffer)
      std::memcpy(buffer, name.data(), written);
    values[0] = buffer ? static_cast<uint32_t>(name.size())
                       : static_cast<uint32_t>(kOutsideMemory);
  }

  /// time_ns() -> i64: a monotonic clock.
  static void timeNs(void *, abi::host::ThreadContext *, uint64_t *values) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    values[0] = uint64_t(now.tv_sec) * 1000000000 + uint64_t(now.tv_nsec);
  }

  /// log(text, length): one line on standard error.
  static void log(void *env, abi::host::ThreadContext *, uint64_t *values) {
    Program &program = self(env);
    const uint8_t *text = at(program, arg(values, 0), arg(values, 1));
    if (!text)
      return;
    std::fprintf(stderr, "log: %.*s\n", static_cast<int>(arg(values, 1)),
                 reinterpret_cast<const char *>(text));
  }
};

namespace {

struct HostFunction {
  const char *name;
  std::vector<ValueType> params;
  std::vector<ValueType> results;
  void (*call)(void *, abi::host::ThreadContext *, uint64_t *);
};

const std::vector<HostFunction> &hostFunctions() {
  using V = ValueType;
  static const std::vector<HostFunction> table = {
      {"launch",
       std::vector<V>(11, V::I32),
       {V::I32},
       Program::HostCalls::launch},
      {"synchronize", {}, {V::I32}, Program::HostCalls::synchronize},
      {"device_kind", {}, {V::I32}, Program::HostCalls::deviceKind},
      {"device_name",
       {V::I32, V::I32},
       {V::I32},
       Program::HostCalls::deviceName},
      {"time_ns", {}, {V::I64}, Program::HostCalls::timeNs},
      {"log", {V::I32, V::I32}, {}, Program::HostCalls::log},
  };
  return table;
}

} // namespace

Program::Program(ModuleDescription module, ProgramOptions options)
    : module(std::move(module)), options(options),
      wasi(options.args, options.environment),
      executor(std::make_unique<KernelExecutor>(options.kernelWorkers)) {}

Program::~Program() = default;

Expected<std::unique_ptr<Program>> Program::load(std::string_view code,
                                                 std::string_view manifest,
                                                 ProgramOptions options) {
  Expected<ModuleDescription> description = ModuleDescription::parse(manifest);
  if (!description)
    return Error{"manifest: " + description.error().message};
  Expected<std::shared_ptr<LoadedCode>> loaded = LoadedCode::load(code);
  if (!loaded)
    return loaded.error();
  std::unique_ptr<Program> program(
      new Program(std::move(*description), std::move(options)));

  Instance::Imports imports;
  for (const ModuleDescription::FunctionImport &import :
       program->module.functionImports) {
    const auto &[moduleName, name] = import.import;
    if (moduleName == kWasiModule) {
      Expected<abi::host::ImportedFunction> bound =
          program->wasi.bind(name, import.signature);
      if (!bound)
        return bound.error();
      imports.functions.push_back(*bound);
      continue;
    }
    if (moduleName == kHostModule) {
      const HostFunction *found = nullptr;
      for (const HostFunction &function : hostFunctions())
        if (name == function.name)
          found = &function;
      if (!found)
        return Error{"the module imports " + moduleName + "." + name +
                     ", which twasm_host does not have (docs/kernel-abi.md "
                     "section 9)"};
      if (import.signature.params != found->params ||
          import.signature.results != found->results)
        return Error{moduleName + "." + name +
                     " is imported with another type than twasm_host's "
                     "(docs/kernel-abi.md section 9)"};
      imports.functions.push_back({found->call, program.get()});
      continue;
    }
    return Error{"the module imports " + moduleName + "." + name +
                 "; a program may import only WASI (" + kWasiModule + ") and " +
                 kHostModule + " functions"};
  }
  if (program->module.memory && program->module.memory->import)
    return Error{"the module imports its memory; a program must define it"};
  for (const auto &global : program->module.globals)
    if (global.import)
      return Error{"the module imports the global " + global.import->first +
                   "." + global.import->second +
                   "; a program may import only functions"};
  for (const auto &table : program->module.tables)
    if (table.import)
      return Error{"the module imports the table " + table.import->first + "." +
                   table.import->second +
                   "; a program may import only functions"};

  Expected<std::unique_ptr<Instance>> instance =
      Instance::create(*loaded, program->module, std::move(imports));
  if (!instance)
    return instance.error();
  program->instance = std::move(*instance);
  program->wasi.attach(program->instance.get());
  std::atomic<uint32_t> controlWord{abi::kControlRun};
  Expected<CallResult> started = program->instance->instantiate(&controlWord);
  if (!started)
    return started.error();
  if (started->trapped())
    return Error{std::string("the module's start function trapped: ") +
                 abi::trapMessage(started->trap)};
  return program;
}

Expected<ProgramOutcome> Program::run(const std::string &entry,
                                      std::vector<uint64_t> arguments) {
  const ModuleDescription::Export *exported = module.findExport(entry);
  if (!exported || exported->kind != ModuleDescription::ExportKind::Func)
    return Error{"the module exports no function '" + entry + "'"};
  const Signature &signature = exported->signature;
  if (arguments.size() != signature.params.size())
    return Error{"'" + entry + "' takes " +
                 std::to_string(signature.params.size()) + " arguments, not " +
                 std::to_string(arguments.size())};
  arguments.resize(std::max<size_t>(
      {arguments.size(), signature.results.size(), size_t(1)}));
  std::atomic<uint32_t> controlWord{abi::kControlRun};
  Expected<CallResult> called =
      instance->call(exported->functionIndex, arguments.data(), &controlWord);
  if (!called)
    return called.error();
  ProgramOutcome outcome;
  outcome.launches = launches;
  outcome.completedLaunches = completedLaunches;
  if (wasi.exitStatus()) {
    outcome.kind = ProgramOutcome::Kind::Exited;
    outcome.exitStatus = *wasi.exitStatus();
  } else if (called->trapped()) {
    outcome.kind = ProgramOutcome::Kind::Trapped;
    outcome.trap = *called;
  } else {
    outcome.results.assign(arguments.begin(),
                           arguments.begin() + signature.results.size());
  }
  return outcome;
}

} // namespace tensorwasm::cpu
