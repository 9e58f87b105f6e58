//===- HostHarness.cpp - the example cases on the CPU backend -------------===//

#include "HostHarness.h"

#include <cstring>

using namespace tensorwasm;
using namespace tensorwasm::bench;

namespace {

class HostInstance final : public KernelInstance {
public:
  HostInstance(cpu::KernelExecutor &executor, const std::string &codePath,
               const std::string &manifestPath, uint64_t extraBytes)
      : executor(executor) {
    auto code = cpu::LoadedCode::load(readFile(codePath));
    if (!code)
      throw HarnessError(codePath + ": " + code.error().message);
    auto description = cpu::ModuleDescription::parse(readFile(manifestPath));
    if (!description)
      throw HarnessError(manifestPath + ": " + description.error().message);
    auto created = cpu::Instance::create(*code, *description, {});
    if (!created)
      throw HarnessError(codePath + ": " + created.error().message);
    instance = std::move(*created);
    if (!instance->memory())
      throw HarnessError(codePath + ": the module has no linear memory");
    std::atomic<uint32_t> controlWord{abi::kControlRun};
    auto started = instance->instantiate(&controlWord);
    if (!started || started->trapped())
      throw HarnessError(codePath + ": instantiation failed");
    nextFree = instance->memory()->size();
    uint64_t pages = (extraBytes + abi::kPageBytes - 1) / abi::kPageBytes;
    if (instance->memory()->grow(static_cast<uint32_t>(pages)) < 0)
      throw HarnessError(codePath + ": cannot grow linear memory by " +
                         std::to_string(pages) + " pages");
  }

  uint32_t reserve(uint64_t bytes, uint64_t alignment) override {
    uint64_t address = (nextFree + alignment - 1) / alignment * alignment;
    if (address + bytes > instance->memory()->size())
      throw HarnessError("linear memory is full");
    nextFree = address + bytes;
    return static_cast<uint32_t>(address);
  }

  void write(uint32_t address, const void *data, size_t bytes) override {
    std::memcpy(checked(address, bytes), data, bytes);
  }
  void read(uint32_t address, void *data, size_t bytes) override {
    std::memcpy(data, checked(address, bytes), bytes);
  }
  void zero(uint32_t address, size_t bytes) override {
    std::memset(checked(address, bytes), 0, bytes);
  }

  void launch(const std::string &exportName, Dim3 grid, Dim3 block,
              const std::vector<Arg> &args, int sharedBytes) override {
    std::vector<uint64_t> arguments;
    for (const Arg &arg : args)
      arguments.push_back(arg.bits);
    cpu::LaunchConfig config{
        {grid.x, grid.y, grid.z},
        {block.x, block.y, block.z},
        sharedBytes < 0 ? 0u : static_cast<uint32_t>(sharedBytes)};
    auto result =
        executor.launch(*instance, exportName, config, arguments, nullptr);
    if (!result)
      throw HarnessError(exportName + ": " + result.error().message);
    if (result->trapped() && record.code == 0) {
      record.code = static_cast<uint32_t>(result->trap);
      record.function = result->function;
      record.offset = result->offset;
      std::memcpy(record.block, result->block, sizeof(record.block));
      std::memcpy(record.thread, result->thread, sizeof(record.thread));
    }
  }

  abi::TrapRecord trapRecord() override { return record; }

private:
  uint8_t *checked(uint32_t address, size_t bytes) {
    if (address + uint64_t(bytes) > instance->memory()->size())
      throw HarnessError("access outside linear memory");
    return instance->memory()->data() + address;
  }

  cpu::KernelExecutor &executor;
  std::unique_ptr<cpu::Instance> instance;
  uint64_t nextFree = 0;
  abi::TrapRecord record{};
};

} // namespace

std::unique_ptr<KernelInstance>
HostDevice::instantiate(const std::string &code, const std::string &manifest,
                        uint64_t extraBytes) {
  return std::make_unique<HostInstance>(executor, code, manifest, extraBytes);
}
