//===- CpuDevice.cpp - the cpu device of the public runtime API -----------===//

#include "Devices.h"

#include "cpu/HostModule.h"
#include "cpu/KernelExecutor.h"

#include <cstring>
#include <mutex>
#include <system_error>

namespace tensorwasm::runtime {
namespace {

class CpuModule;

class CpuInstance final : public Instance, public InstanceState {
public:
  CpuInstance(std::shared_ptr<const CpuModule> module,
              std::unique_ptr<cpu::Instance> instance)
      : module(std::move(module)), instance(std::move(instance)) {}

  uint64_t memoryBytes() const override {
    return instance->memory() ? instance->memory()->size() : 0;
  }

  Status write(uint64_t address, const void *data, size_t bytes) override {
    if (Status status = checkRange(address, bytes, "write"); !status)
      return status;
    if (bytes)
      std::memcpy(instance->memory()->data() + address, data, bytes);
    return {};
  }

  Status read(uint64_t address, void *data, size_t bytes) const override {
    if (Status status = checkRange(address, bytes, "read"); !status)
      return status;
    if (bytes)
      std::memcpy(data, instance->memory()->data() + address, bytes);
    return {};
  }

  Result<uint32_t> grow(uint32_t pages) override {
    if (!instance->memory())
      return Error{ErrorCode::InvalidArgument,
                   "the module has no linear memory to grow"};
    int32_t old = instance->memory()->grow(pages);
    if (old < 0)
      return Error{
          ErrorCode::ResourceExhausted,
          "cannot grow linear memory by " + std::to_string(pages) +
              " pages: it has " + std::to_string(instance->memory()->pages()) +
              " of at most " + std::to_string(instance->memory()->maxPages())};
    return static_cast<uint32_t>(old);
  }

  Result<LaunchResult> launch(std::string_view kernel,
                              const LaunchOptions &options,
                              const std::vector<Value> &arguments) override;

  void cancel() override {
    std::lock_guard<std::mutex> lock(controlMutex);
    if (launching)
      controlWord.store(abi::kControlInterrupt);
  }
  Status reset() override;

  // InstanceState
  DeviceKind deviceKind() const override { return DeviceKind::Cpu; }
  const cpu::ModuleDescription &layout() const override {
    return instance->description();
  }
  Status readGlobals(std::string &block) override {
    block.assign(reinterpret_cast<const char *>(instance->globals()),
                 instance->description().globalsBytes);
    return {};
  }
  Status writeGlobals(std::string_view block) override {
    if (block.size() != instance->description().globalsBytes)
      return Error{ErrorCode::InvalidArgument,
                   "a globals block of " + std::to_string(block.size()) +
                       " bytes for one of " +
                       std::to_string(instance->description().globalsBytes)};
    std::memcpy(instance->globals(), block.data(), block.size());
    return {};
  }
  const uint8_t *hostMemory() const override {
    return instance->memory() ? instance->memory()->data() : nullptr;
  }
  Result<std::unique_ptr<MemoryLoader>> memoryLoader(unsigned) override {
    /// Bytes are staged straight in the instance's memory.
    class Loader final : public MemoryLoader {
    public:
      explicit Loader(uint8_t *memory) : memory(memory) {}
      Result<uint8_t *> stage(unsigned, uint64_t address, size_t) override {
        return memory + address;
      }
      Status commit(unsigned, uint64_t, size_t) override { return {}; }
      Status finish() override { return {}; }

    private:
      uint8_t *memory;
    };
    return std::unique_ptr<MemoryLoader>(
        new Loader(instance->memory() ? instance->memory()->data() : nullptr));
  }

private:
  InstanceState &state() override { return *this; }
  Status checkRange(uint64_t address, uint64_t bytes, const char *what) const {
    return checkMemoryRange(instance->memory() != nullptr, memoryBytes(),
                            address, bytes, what);
  }

  std::shared_ptr<const CpuModule> module;
  std::unique_ptr<cpu::Instance> instance;
  std::mutex controlMutex;
  bool launching = false;
  std::atomic<uint32_t> controlWord{abi::kControlRun};
};

class CpuModule final : public Module,
                        public std::enable_shared_from_this<CpuModule> {
public:
  CpuModule(std::shared_ptr<cpu::KernelExecutor> executor,
            std::shared_ptr<cpu::LoadedCode> code,
            cpu::ModuleDescription description,
            std::vector<KernelInfo> kernelList)
      : executor(std::move(executor)), code(std::move(code)),
        description(std::move(description)), kernelList(std::move(kernelList)) {
  }

  const std::vector<KernelInfo> &kernels() const override { return kernelList; }

  Result<std::unique_ptr<Instance>> instantiate() override {
    return create(std::nullopt);
  }

  std::shared_ptr<cpu::KernelExecutor> executor;
  std::shared_ptr<cpu::LoadedCode> code;
  cpu::ModuleDescription description;
  std::vector<KernelInfo> kernelList;

private:
  Result<std::unique_ptr<Instance>> instantiateBlank(uint64_t pages) override {
    return create(pages);
  }

  Result<std::unique_ptr<Instance>> create(std::optional<uint64_t> blankPages) {
    Result<std::unique_ptr<cpu::Instance>> made = makeInstance(blankPages);
    if (!made)
      return made.error();
    return std::unique_ptr<Instance>(
        new CpuInstance(shared_from_this(), std::move(*made)));
  }

public:
  static void unavailableImport(void *, abi::host::ThreadContext *thread,
                                uint64_t *) {
    thread->trap(thread, static_cast<uint32_t>(abi::TrapCode::Unreachable), 0,
                 0);
  }

  /// An instance, initialised and started; or for a snapshot to fill,
  /// initialised (tables, segment state) without its start function, its
  /// memory then reset to `blankPages` pages of zeroes.
  Result<std::unique_ptr<cpu::Instance>>
  makeInstance(std::optional<uint64_t> blankPages) const {
    // Only kernels run here, and the compiler refuses a kernel that can
    // reach an imported function (a program's WASI and twasm_host imports
    // are its host code's, runtime/program/Program.h): each import is bound
    // to a stub that traps, which only a start function could reach.
    cpu::Instance::Imports imports;
    if (!description.functionImports.empty()) {
      if (description.start)
        return Error{ErrorCode::Unsupported,
                     "the module imports the function '" +
                         description.functionImports.front().import.first +
                         "." +
                         description.functionImports.front().import.second +
                         "' and has a start function, which may call it; "
                         "the runtime provides host functions to programs "
                         "only (twasm run)"};
      for (size_t i = 0; i < description.functionImports.size(); ++i)
        imports.functions.push_back({unavailableImport, nullptr});
    }
    auto created = cpu::Instance::create(code, description, std::move(imports));
    if (!created)
      return Error{ErrorCode::ResourceExhausted, created.error().message};
    std::atomic<uint32_t> controlWord{abi::kControlRun};
    auto started = (*created)->instantiate(&controlWord,
                                           /*runStart=*/!blankPages);
    if (!started)
      return Error{ErrorCode::InvalidModule, started.error().message};
    if (started->trapped())
      return Error{ErrorCode::InvalidModule,
                   std::string("instantiation trapped: ") +
                       abi::trapMessage(started->trap)};
    if (blankPages) {
      cpu::LinearMemory *memory = (*created)->memory().get();
      uint64_t pages = memory ? memory->pages() : 0;
      if (*blankPages < pages || (!memory && *blankPages))
        return Error{ErrorCode::InvalidArgument,
                     "linear memory of " + std::to_string(*blankPages) +
                         " pages: the module's starts with " +
                         std::to_string(pages)};
      if (memory) {
        memory->reset();
        if (*blankPages > pages &&
            memory->grow(static_cast<uint32_t>(*blankPages - pages)) < 0)
          return Error{ErrorCode::InvalidArgument,
                       "linear memory of " + std::to_string(*blankPages) +
                           " pages: the module's memory has at most " +
                           std::to_string(memory->maxPages())};
      }
    }
    return std::move(*created);
  }
};

Status CpuInstance::reset() {
  // A new instance in this one's place: fresh memory from the system (all
  // zero), the data segments and globals applied, the start function run;
  // nothing of the old one is reused.
  Result<std::unique_ptr<cpu::Instance>> fresh = module->makeInstance({});
  if (!fresh)
    return fresh.error();
  instance = std::move(*fresh);
  controlWord.store(abi::kControlRun);
  return {};
}

Result<LaunchResult> CpuInstance::launch(std::string_view kernel,
                                         const LaunchOptions &options,
                                         const std::vector<Value> &arguments) {
  Result<const KernelInfo *> found =
      findLaunchedKernel(*module, kernel, arguments);
  if (!found)
    return found.error();
  const KernelInfo *info = *found;
  std::vector<uint64_t> raw;
  for (const Value &argument : arguments)
    raw.push_back(argument.bits);
  cpu::LaunchConfig config{{options.grid.x, options.grid.y, options.grid.z},
                           {options.block.x, options.block.y, options.block.z},
                           options.sharedBytes};
  {
    std::lock_guard<std::mutex> lock(controlMutex);
    controlWord.store(abi::kControlRun);
    launching = true;
  }
  auto finishLaunch = [&] {
    std::lock_guard<std::mutex> lock(controlMutex);
    launching = false;
  };
  // The watchdog (started after the word is cleared, so that its raise is
  // never lost) has a thread: the one thing here that reports failure by
  // exception.
  // The timeout counts from the launch's start: a launch that times out has
  // run at least its timeout.
  auto start = std::chrono::steady_clock::now();
  std::optional<cpu::Watchdog> watchdog;
  try {
    if (options.timeout.count() > 0)
      watchdog.emplace(&controlWord, options.timeout);
  } catch (const std::system_error &error) {
    finishLaunch();
    return Error{ErrorCode::ResourceExhausted,
                 std::string("cannot start the launch's timeout thread: ") +
                     error.what()};
  }
  cpu::Expected<cpu::LaunchResult> launched = module->executor->launch(
      *instance, info->name, config, raw, &controlWord);
  watchdog.reset();
  auto end = std::chrono::steady_clock::now();
  finishLaunch();
  if (!launched)
    return Error{ErrorCode::InvalidArgument,
                 "cannot launch '" + info->name +
                     "': " + launched.error().message};

  LaunchResult result;
  result.elapsed =
      std::chrono::duration_cast<std::chrono::nanoseconds>(end - start);
  result.threads = threadCount(options);
  if (launched->trapped()) {
    result.outcome = launched->trap == abi::TrapCode::Interrupted
                         ? LaunchResult::Outcome::Interrupted
                         : LaunchResult::Outcome::Trapped;
    result.trap.code = launched->trap;
    result.trap.function = launched->function;
    result.trap.offset = launched->offset;
    result.trap.block = {launched->block[0], launched->block[1],
                         launched->block[2]};
    result.trap.thread = {launched->thread[0], launched->thread[1],
                          launched->thread[2]};
  }
  return result;
}

class CpuDevice final : public Device {
public:
  CpuDevice(unsigned workers, std::chrono::nanoseconds demoteAfter,
            std::string about)
      : executor(std::make_shared<cpu::KernelExecutor>(workers, demoteAfter)),
        about(std::move(about) + " (" +
              std::to_string(executor->workerCount()) + " worker threads)") {}

  DeviceKind kind() const override { return DeviceKind::Cpu; }
  const std::string &description() const override { return about; }
  std::string_view codeExtension() const override { return ".so"; }
  std::string codeTarget() const override { return "host"; }

protected:
  Result<std::shared_ptr<Module>>
  loadCompiled(std::string_view code, std::string_view manifest) override {
    auto description = cpu::ModuleDescription::parse(manifest);
    if (!description)
      return Error{ErrorCode::InvalidModule,
                   "bad manifest: " + description.error().message};
    Result<std::vector<KernelInfo>> kernels = describeKernels(*description);
    if (!kernels)
      return kernels.error();
    auto loaded = cpu::LoadedCode::load(code);
    if (!loaded)
      return Error{ErrorCode::InvalidModule, loaded.error().message};
    return std::shared_ptr<Module>(std::make_shared<CpuModule>(
        executor, std::move(*loaded), std::move(*description),
        std::move(*kernels)));
  }

private:
  std::shared_ptr<cpu::KernelExecutor> executor;
  std::string about;
};

} // namespace

Result<std::shared_ptr<Device>> openCpuDevice(const DeviceOptions &options,
                                              std::string description) {
  // The worker pool's threads are the one thing here that reports failure
  // by exception.
  try {
    return std::shared_ptr<Device>(std::make_shared<CpuDevice>(
        options.cpuWorkers, options.cpuDemoteAfter, std::move(description)));
  } catch (const std::system_error &error) {
    return Error{ErrorCode::ResourceExhausted,
                 std::string("cannot start the cpu device's worker threads: ") +
                     error.what()};
  }
}

} // namespace tensorwasm::runtime
