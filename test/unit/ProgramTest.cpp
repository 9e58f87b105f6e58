//===- ProgramTest.cpp - programs launching their own kernels -------------===//
//
// A program (runtime/program/Program.h) runs its host code on the CPU and
// launches its kernels over its own memory (test/runtime/program.wat): on
// the cpu device, and on a GPU that shares the memory, which is the mock
// GPU here (its launches run no code: what they are given is checked) and,
// with TWASM_TEST_DEVICE=cuda, a real one, where the kernels' results are.
//
//===----------------------------------------------------------------------===//

#include "program/Program.h"
#include "cuda/MockDriver.h"

#include <gtest/gtest.h>

#include "TestSupport.h"

#include <cstdlib>
#include <cstring>

using namespace tensorwasm;
namespace mock = tensorwasm::cuda::mock;

#ifndef TWASM_RUNTIME_TEST_KERNEL_DIR
#error "the build defines TWASM_RUNTIME_TEST_KERNEL_DIR"
#endif

namespace {

constexpr uint64_t kPage = 65536;

/// A file the build compiled for these tests; TWASM_TEST_KERNEL_DIR names
/// where they are on a machine the build's paths do not exist on.
std::string kernelFile(const std::string &name) {
  const char *moved = std::getenv("TWASM_TEST_KERNEL_DIR");
  return std::string(moved ? moved : TWASM_RUNTIME_TEST_KERNEL_DIR) + "/" +
         name;
}

/// The GPU under test: the mock, or a real one (TWASM_TEST_DEVICE=cuda).
DeviceKind gpuKind() {
  const char *name = std::getenv("TWASM_TEST_DEVICE");
  return name && std::string(name) == "cuda" ? DeviceKind::Cuda
                                             : DeviceKind::Mock;
}

struct Loaded {
  std::shared_ptr<Device> device;
  std::unique_ptr<program::Program> program;
};

/// test/runtime/program.wat as a program, its kernels on the CPU or
/// (`onGpu`) on the GPU under test, its memory at most `capacity` bytes.
/// With `failure`, the load must fail with a message that contains it.
Loaded load(bool onGpu, uint64_t capacity = 64 * kPage,
            const char *failure = nullptr) {
  Loaded loaded;
  program::ProgramOptions options;
  options.args = {"program"};
  options.kernelWorkers = 2;
  if (onGpu) {
    if (gpuKind() == DeviceKind::Mock)
      mock::reset();
    DeviceOptions deviceOptions;
    deviceOptions.kind = gpuKind();
    deviceOptions.memory = MemoryMode::Managed;
    deviceOptions.cubinCache = "none";
    deviceOptions.allowUnsignedCode = true;
    Result<std::shared_ptr<Device>> device = Device::open(deviceOptions);
    EXPECT_TRUE(device) << device.error().message;
    if (!device)
      return loaded;
    loaded.device = *device;
    Result<std::shared_ptr<Module>> module =
        loaded.device->loadModuleFiles(kernelFile("program-gpu"));
    EXPECT_TRUE(module) << module.error().message;
    if (!module)
      return loaded;
    options.gpuKernels = *module;
    options.gpuName = loaded.device->description();
  }
  options.memoryCapacity = capacity;
  cpu::Expected<std::unique_ptr<program::Program>> program =
      program::Program::load(
          tensorwasm::testing::readTestFile(kernelFile("program.so")),
          tensorwasm::testing::readTestFile(kernelFile("program.json")),
          options);
  if (failure) {
    EXPECT_FALSE(program);
    if (!program)
      EXPECT_NE(program.error().message.find(failure), std::string::npos)
          << program.error().message;
    return loaded;
  }
  EXPECT_TRUE(program) << program.error().message;
  if (program)
    loaded.program = std::move(*program);
  return loaded;
}

/// The entry's results as 32-bit integers.
std::vector<int32_t> run(program::Program &program, const std::string &entry,
                         std::vector<uint64_t> arguments = {}) {
  cpu::Expected<program::ProgramOutcome> outcome =
      program.run(entry, std::move(arguments));
  EXPECT_TRUE(outcome) << outcome.error().message;
  std::vector<int32_t> results;
  if (!outcome)
    return results;
  EXPECT_EQ(outcome->kind, program::ProgramOutcome::Kind::Returned);
  for (uint64_t bits : outcome->results)
    results.push_back(static_cast<int32_t>(bits));
  return results;
}

/// The kernels compute only on the cpu device and a real GPU.
bool kernelsRun(bool onGpu) { return !onGpu || gpuKind() == DeviceKind::Cuda; }

class ProgramTest : public ::testing::TestWithParam<bool> {};

TEST_P(ProgramTest, LaunchesItsKernelOverItsOwnMemory) {
  Loaded loaded = load(GetParam());
  ASSERT_TRUE(loaded.program);
  std::vector<int32_t> results = run(*loaded.program, "launch_fill", {1000});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], 0); // launched
  EXPECT_EQ(results[1], 0); // completed
  if (kernelsRun(GetParam()))
    EXPECT_EQ(results[2], 3 * 999);
}

TEST_P(ProgramTest, KernelsSeeMemoryTheHostCodeGrew) {
  Loaded loaded = load(GetParam());
  ASSERT_TRUE(loaded.program);
  // 20,000 elements from byte 1024 need the 3 pages grown in host code.
  std::vector<int32_t> results = run(*loaded.program, "grow_and_fill", {20000});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], 1); // the old size in pages
  EXPECT_EQ(results[1], 0);
  if (kernelsRun(GetParam()))
    EXPECT_EQ(results[2], 3 * 19999);
}

TEST_P(ProgramTest, KernelsReadTheHostCodesGlobals) {
  Loaded loaded = load(GetParam());
  ASSERT_TRUE(loaded.program);
  for (int32_t value : {42, -7}) {
    std::vector<int32_t> results =
        run(*loaded.program, "share_global", {uint32_t(value)});
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[1], 0);
    if (kernelsRun(GetParam()))
      EXPECT_EQ(results[2], value);
  }
}

TEST_P(ProgramTest, SynchronizeReportsATrappingKernelOnce) {
  Loaded loaded = load(GetParam());
  ASSERT_TRUE(loaded.program);
  if (!kernelsRun(GetParam())) {
    tensorwasm::abi::TrapRecord record{};
    record.code = static_cast<uint32_t>(tensorwasm::abi::TrapCode::Unreachable);
    mock::trapNextLaunch(record);
  }
  std::vector<int32_t> results = run(*loaded.program, "launch_boom");
  EXPECT_EQ(results, (std::vector<int32_t>{0, 1, 0}));
}

TEST_P(ProgramTest, RefusedLaunchesRunNothing) {
  Loaded loaded = load(GetParam());
  ASSERT_TRUE(loaded.program);
  std::vector<int32_t> results = run(*loaded.program, "launch_errors");
  EXPECT_EQ(results, (std::vector<int32_t>{-1, -2, -3, -4}));
  if (GetParam() && gpuKind() == DeviceKind::Mock)
    EXPECT_TRUE(mock::launches().empty());
}

TEST_P(ProgramTest, MemoryStopsAtItsCapacity) {
  Loaded loaded = load(GetParam());
  ASSERT_TRUE(loaded.program);
  // 64 pages of capacity, on the CPU as on a GPU: grow_and_fill takes 3 at
  // a time until it fails.
  int32_t old = 0;
  int grown = 0;
  for (; grown < 30; ++grown) {
    std::vector<int32_t> results = run(*loaded.program, "grow_and_fill", {1});
    ASSERT_EQ(results.size(), 3u);
    old = results[0];
    if (old < 0)
      break;
  }
  EXPECT_EQ(old, -1);
  EXPECT_EQ(grown, 21); // 1 + 21 * 3 = 64 pages, then no more

  // A capacity under the memory's first page: nothing is run.
  Loaded tooSmall = load(GetParam(), kPage - 1, "capacity");
  EXPECT_FALSE(tooSmall.program);
}

INSTANTIATE_TEST_SUITE_P(KernelsOn, ProgramTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return std::string(info.param ? "Gpu" : "Cpu");
                         });

/// What the mock GPU was given: the host code's memory itself (its base and
/// current size), the arguments, the host code's globals.
TEST(ProgramOnMockGpu, KernelsAreGivenTheHostCodesMemoryAndGlobals) {
  if (gpuKind() != DeviceKind::Mock)
    GTEST_SKIP() << "checks the mock's record of launches";
  Loaded loaded = load(true);
  ASSERT_TRUE(loaded.program);
  ASSERT_EQ(run(*loaded.program, "launch_fill", {1000}).size(), 3u);
  std::vector<std::vector<uint64_t>> launches = mock::launches();
  ASSERT_EQ(launches.size(), 1u);
  // The first launch moves the memory to the GPU in one prefetch.
  EXPECT_EQ(mock::callCount("cuMemPrefetchAsync_v2"), 1u);
  const std::vector<uint64_t> slots = launches[0];
  ASSERT_EQ(slots.size(), 6u); // five hidden parameters and n
  EXPECT_EQ(slots[1], kPage);  // memory size
  EXPECT_EQ(slots[5], 1000u);
  // The memory the kernel gets holds what the host code wrote: n at 256
  // and the kernel's name at 0.
  const auto *memory = reinterpret_cast<const uint8_t *>(slots[0]);
  uint64_t stored = 0;
  std::memcpy(&stored, memory + 256, 8);
  EXPECT_EQ(stored, 1000u);
  EXPECT_EQ(std::memcmp(memory, "fill", 4), 0);

  ASSERT_EQ(run(*loaded.program, "grow_and_fill", {20000}).size(), 3u);
  launches = mock::launches();
  ASSERT_EQ(launches.size(), 2u);
  EXPECT_EQ(launches[1][0], slots[0]); // grown in place
  EXPECT_EQ(launches[1][1], 4 * kPage);
  // Grown: prefetched again.
  EXPECT_EQ(mock::callCount("cuMemPrefetchAsync_v2"), 2u);

  ASSERT_EQ(run(*loaded.program, "share_global", {uint32_t(77)}).size(), 3u);
  launches = mock::launches();
  ASSERT_EQ(launches.size(), 3u);
  // The same size: no prefetch (docs/host-programs.md).
  EXPECT_EQ(mock::callCount("cuMemPrefetchAsync_v2"), 2u);
  cpu::Expected<cpu::ModuleDescription> gpuLayout =
      cpu::ModuleDescription::parse(
          tensorwasm::testing::readTestFile(kernelFile("program-gpu.json")),
          cpu::ModuleDescription::Target::Ptx);
  ASSERT_TRUE(gpuLayout) << gpuLayout.error().message;
  const cpu::ModuleDescription::Export *shared =
      gpuLayout->findExport("shared");
  ASSERT_NE(shared, nullptr);
  uint64_t offset = 0;
  for (const cpu::ModuleDescription::Global &global : gpuLayout->globals)
    if (global.symbol == shared->symbol)
      offset = global.offset;
  int32_t seen = 0;
  std::memcpy(&seen, reinterpret_cast<const uint8_t *>(launches[2][4]) + offset,
              4);
  EXPECT_EQ(seen, 77);
  EXPECT_TRUE(mock::misuses().empty());
}

} // namespace
