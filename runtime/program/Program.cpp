//===- Program.cpp - a whole module run as a program ----------------------===//

#include "Program.h"

#include "Devices.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace tensorwasm::program {

using cpu::CallResult;
using cpu::Expected;
using cpu::KernelExecutor;
using cpu::kWasiModule;
using cpu::LaunchConfig;
using cpu::LinearMemory;
using cpu::LoadedCode;
using cpu::ModuleDescription;
using cpu::Signature;

namespace {

/// What `twasm_host.launch` returns when nothing was launched (a launch
/// that ran reports its trap through `synchronize`).
enum LaunchError : int32_t {
  kNoSuchKernel = -1,
  kWrongArguments = -2,
  kRefusedShape = -3,
  kOutsideMemory = -4,
  kDeviceFailure = -5,
};

constexpr uint32_t kMaxNameBytes = 4096;
/// The most of one log line that is written.
constexpr uint32_t kMaxLogBytes = 64 * 1024;

/// The device kinds `twasm_host.device_kind` tells apart.
constexpr int32_t kDeviceCpu = 0;
constexpr int32_t kDeviceCuda = 1;

} // namespace

struct Program::HostCalls {
  static Program &self(void *environment) {
    return *static_cast<Program *>(environment);
  }

  static uint8_t *at(Program &program, uint64_t address, uint64_t bytes) {
    const std::shared_ptr<LinearMemory> &memory = program.instance->memory();
    return memory ? memory->range(address, bytes) : nullptr;
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
    // No export name is this long (the importer's limit is far below).
    if (arg(values, 1) > kMaxNameBytes)
      return fail(kNoSuchKernel);
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
      if (kernel->params[i] == cpu::ValueType::I32 ||
          kernel->params[i] == cpu::ValueType::F32)
        arguments[i] &= 0xffffffff;
    if (program.gpuInstance)
      return launchOnGpu(program, name, *kernel, arguments, values);
    LaunchConfig config;
    config.grid = {arg(values, 2), arg(values, 3), arg(values, 4)};
    config.block = {arg(values, 5), arg(values, 6), arg(values, 7)};
    config.sharedBytes = arg(values, 8);
    Expected<cpu::LaunchResult> launched =
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

  /// The launch of launch() on the GPU, over the shared memory.
  static void launchOnGpu(Program &program, const std::string &name,
                          const ModuleDescription::Kernel &kernel,
                          const std::vector<uint64_t> &arguments,
                          uint64_t *values) {
    if (!program.shareGlobals()) {
      values[0] = static_cast<uint32_t>(kDeviceFailure);
      return;
    }
    std::vector<Value> typed;
    for (size_t i = 0; i < arguments.size(); ++i)
      typed.push_back(
          {static_cast<tensorwasm::ValueType>(kernel.params[i]), arguments[i]});
    LaunchOptions options;
    options.grid = {arg(values, 2), arg(values, 3), arg(values, 4)};
    options.block = {arg(values, 5), arg(values, 6), arg(values, 7)};
    options.sharedBytes = arg(values, 8);
    options.timeout = program.options.kernelTimeout;
    Result<tensorwasm::LaunchResult> launched =
        program.gpuInstance->launch(name, options, typed);
    if (!launched) {
      values[0] = static_cast<uint32_t>(
          launched.error().code == ErrorCode::InvalidArgument ? kRefusedShape
                                                              : kDeviceFailure);
      return;
    }
    ++program.launches;
    if (launched->outcome == tensorwasm::LaunchResult::Outcome::Completed)
      ++program.completedLaunches;
    else if (program.pendingTrap == 0)
      program.pendingTrap = static_cast<uint32_t>(launched->trap.code);
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

  static void deviceKind(void *env, abi::host::ThreadContext *,
                         uint64_t *values) {
    values[0] =
        static_cast<uint32_t>(self(env).gpuInstance ? kDeviceCuda : kDeviceCpu);
  }

  /// device_name(buffer, capacity) -> i32: the name's length; at most
  /// `capacity` bytes of it are written.
  static void deviceName(void *env, abi::host::ThreadContext *,
                         uint64_t *values) {
    Program &program = self(env);
    std::string name =
        program.gpuInstance
            ? program.options.gpuName
            : "cpu (" + std::to_string(program.executor->workerCount()) +
                  " threads)";
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
    uint32_t length = std::min(arg(values, 1), kMaxLogBytes);
    const uint8_t *text = at(program, arg(values, 0), length);
    if (!text)
      return;
    std::string line = "log: ";
    line.append(reinterpret_cast<const char *>(text), length);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
};

namespace {

using cpu::HostFunction;

const std::vector<HostFunction> &hostFunctions() {
  using V = cpu::ValueType;
  static const std::vector<HostFunction> table = {
      {"launch",
       std::vector<V>(11, V::I32),
       {V::I32},
       cpu::hostOnly<Program::HostCalls::launch>},
      {"synchronize",
       {},
       {V::I32},
       cpu::hostOnly<Program::HostCalls::synchronize>},
      {"device_kind",
       {},
       {V::I32},
       cpu::hostOnly<Program::HostCalls::deviceKind>},
      {"device_name",
       {V::I32, V::I32},
       {V::I32},
       cpu::hostOnly<Program::HostCalls::deviceName>},
      {"time_ns", {}, {V::I64}, cpu::hostOnly<Program::HostCalls::timeNs>},
      {"log", {V::I32, V::I32}, {}, cpu::hostOnly<Program::HostCalls::log>},
  };
  return table;
}

} // namespace

Program::Program(ModuleDescription module, ProgramOptions options)
    : module(std::move(module)), options(options),
      wasi(options.args, options.environment) {
  if (!this->options.gpuKernels)
    executor = std::make_unique<KernelExecutor>(options.kernelWorkers);
}

Program::~Program() = default;

Status Program::shareGlobals() {
  if (globalPlaces.empty())
    return {};
  std::string wanted = gpuGlobals;
  for (const auto &[hostOffset, gpuOffset] : globalPlaces)
    std::memcpy(&wanted[gpuOffset], instance->globals() + hostOffset, 8);
  if (wanted == gpuGlobals)
    return {};
  if (Status written =
          runtime::InstanceState::of(*gpuInstance).writeGlobals(wanted);
      !written)
    return written;
  gpuGlobals = std::move(wanted);
  return {};
}

Expected<std::unique_ptr<Program>> Program::load(std::string_view code,
                                                 std::string_view manifest,
                                                 ProgramOptions options) {
  Expected<ModuleDescription> description = ModuleDescription::parse(manifest);
  if (!description)
    return cpu::Error{"manifest: " + description.error().message};
  Expected<std::shared_ptr<LoadedCode>> loaded = LoadedCode::load(code);
  if (!loaded)
    return loaded.error();
  std::unique_ptr<Program> program(
      new Program(std::move(*description), std::move(options)));

  cpu::Instance::Imports imports;
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
      Expected<abi::host::ImportedFunction> bound = cpu::bindHostFunction(
          hostFunctions(), moduleName, name, import.signature, program.get());
      if (!bound)
        return bound.error();
      imports.functions.push_back(*bound);
      continue;
    }
    return cpu::Error{"the module imports " + moduleName + "." + name +
                      "; a program may import only WASI (" + kWasiModule +
                      ") and " + kHostModule + " functions"};
  }
  if (program->module.memory && program->module.memory->import)
    return cpu::Error{
        "the module imports its memory; a program must define it"};
  for (const auto &global : program->module.globals)
    if (global.import)
      return cpu::Error{"the module imports the global " +
                        global.import->first + "." + global.import->second +
                        "; a program may import only functions"};
  for (const auto &table : program->module.tables)
    if (table.import)
      return cpu::Error{"the module imports the table " + table.import->first +
                        "." + table.import->second +
                        "; a program may import only functions"};

  if (program->module.memory &&
      program->module.memory->minPages * abi::kPageBytes >
          program->options.memoryCapacity)
    return cpu::Error{"the module's memory starts at " +
                      std::to_string(program->module.memory->minPages) +
                      " pages, more than the program's capacity of " +
                      std::to_string(program->options.memoryCapacity) +
                      " bytes"};
  if (program->options.gpuKernels) {
    // The GPU instance first: its managed memory becomes the host code's.
    if (!program->module.memory)
      return cpu::Error{"a program whose kernels run on a GPU needs a memory"};
    Result<std::unique_ptr<tensorwasm::Instance>> shared =
        runtime::InstanceState::shared(*program->options.gpuKernels,
                                       program->options.memoryCapacity);
    if (!shared)
      return cpu::Error{"the GPU: " + shared.error().message};
    program->gpuInstance = std::move(*shared);
    runtime::InstanceState &state =
        runtime::InstanceState::of(*program->gpuInstance);
    tensorwasm::Instance *gpu = program->gpuInstance.get();
    Expected<std::shared_ptr<LinearMemory>> memory = LinearMemory::adopt(
        state.sharedMemory(), program->options.memoryCapacity,
        program->module.memory->minPages,
        program->module.memory->maxPages.value_or(65536),
        [gpu](uint64_t bytes) {
          return static_cast<bool>(
              runtime::InstanceState::of(*gpu).sharedMemoryResized(bytes));
        });
    if (!memory)
      return memory.error();
    imports.memory = std::move(*memory);
    // Kernels read the host code's globals: where each goes in the GPU's
    // block (the same module: the same symbols).
    if (Status read = state.readGlobals(program->gpuGlobals); !read)
      return cpu::Error{"the GPU: " + read.error().message};
    for (const ModuleDescription::Global &host : program->module.globals)
      for (const ModuleDescription::Global &gpuGlobal : state.layout().globals)
        if (gpuGlobal.symbol == host.symbol &&
            (host.type == cpu::ValueType::I32 ||
             host.type == cpu::ValueType::I64 ||
             host.type == cpu::ValueType::F32 ||
             host.type == cpu::ValueType::F64) &&
            gpuGlobal.offset + 8 <= program->gpuGlobals.size())
          program->globalPlaces.emplace_back(host.offset, gpuGlobal.offset);
  } else if (program->module.memory) {
    // On the CPU too the memory stops at the capacity, as it does where it
    // is shared with a GPU.
    const ModuleDescription::Memory &declared = *program->module.memory;
    Expected<std::shared_ptr<LinearMemory>> memory = LinearMemory::create(
        declared.minPages,
        std::min(declared.maxPages.value_or(65536),
                 program->options.memoryCapacity / abi::kPageBytes));
    if (!memory)
      return memory.error();
    imports.memory = std::move(*memory);
  }

  Expected<std::unique_ptr<cpu::Instance>> instance =
      cpu::Instance::create(*loaded, program->module, std::move(imports));
  if (!instance)
    return instance.error();
  program->instance = std::move(*instance);
  program->wasi.attach(program->instance.get());
  std::atomic<uint32_t> controlWord{abi::kControlRun};
  Expected<CallResult> started = program->instance->instantiate(&controlWord);
  if (!started)
    return started.error();
  if (started->trapped() && program->wasi.exitStatus())
    return cpu::Error{"the module's start function exited with status " +
                      std::to_string(*program->wasi.exitStatus())};
  if (started->trapped())
    return cpu::Error{std::string("the module's start function trapped: ") +
                      abi::trapMessage(started->trap)};
  return program;
}

Expected<ProgramOutcome> Program::run(const std::string &entry,
                                      std::vector<uint64_t> arguments) {
  const ModuleDescription::Export *exported = module.findExport(entry);
  if (!exported || exported->kind != ModuleDescription::ExportKind::Func)
    return cpu::Error{"the module exports no function '" + entry + "'"};
  const Signature &signature = exported->signature;
  if (arguments.size() != signature.params.size())
    return cpu::Error{"'" + entry + "' takes " +
                      std::to_string(signature.params.size()) +
                      " arguments, not " + std::to_string(arguments.size())};
  arguments.resize(std::max<size_t>(
      {arguments.size(), signature.results.size(), size_t(1)}));
  wasi.clearExit();
  pendingTrap = 0;
  launches = completedLaunches = 0;
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

} // namespace tensorwasm::program
