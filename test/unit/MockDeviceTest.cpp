//===- MockDeviceTest.cpp - the cuda device's error and cleanup paths -----===//
//
// The cuda device over the mock driver (runtime/cuda/MockDriver.h): every
// driver call the device makes in a module's whole life is made to fail in
// turn, and each failure must come back as an Error (never a crash), leave
// nothing allocated once the objects are gone, and make no call with wrong
// arguments. Also: what a launch passes (the kernel ABI's hidden
// parameters), trap read-back, timeouts and cancellation, the free-memory
// check before allocation, a lost context, and the cubin cache.
//
// Tests, not the runtime, pick the failures: the mock is process-wide, so
// each test resets it first.
//
//===----------------------------------------------------------------------===//

#include "cuda/CubinCache.h"
#include "cuda/MockDriver.h"
#include "support/Files.h"
#include "twasm/Runtime.h"

#include <gtest/gtest.h>

#include "TestSupport.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <thread>

using namespace tensorwasm;
using namespace std::chrono_literals;
namespace mock = tensorwasm::cuda::mock;

#ifndef TWASM_RUNTIME_TEST_KERNEL_DIR
#error "the build defines TWASM_RUNTIME_TEST_KERNEL_DIR"
#endif

namespace {

const std::string &kernelsPtx() {
  static std::string ptx = tensorwasm::testing::readTestFile(
      TWASM_RUNTIME_TEST_KERNEL_DIR "/runtime-kernels-gpu.ptx");
  return ptx;
}
const std::string &kernelsManifest() {
  static std::string manifest = tensorwasm::testing::readTestFile(
      TWASM_RUNTIME_TEST_KERNEL_DIR "/runtime-kernels-gpu.json");
  return manifest;
}

DeviceOptions mockOptions(const std::string &cache = "none") {
  DeviceOptions options;
  options.kind = DeviceKind::Mock;
  options.cubinCache = cache;
  // These tests exercise the driver's paths from loaded code on; where code
  // may come from is RuntimeApiTest's and ArtifactTest's concern.
  options.allowUnsignedCode = true;
  return options;
}

LaunchOptions oneBlock(std::chrono::nanoseconds timeout = 0ns) {
  LaunchOptions options;
  options.grid = {2};
  options.block = {64};
  options.timeout = timeout;
  return options;
}

const std::vector<Value> kScaleArguments = {Value::i32(100), Value::i32(3),
                                            Value::i32(1024), Value::i32(8192)};

/// The test kernels' manifest with their memory declared up to 4 GiB
/// (65536 pages) instead of 4 pages.
std::string manifestUpTo4GiB() {
  std::string manifest = kernelsManifest();
  size_t maxPages = manifest.find("\"max_pages\": 4");
  EXPECT_NE(maxPages, std::string::npos);
  if (maxPages != std::string::npos)
    manifest.replace(maxPages, 14, "\"max_pages\": 65536");
  return manifest;
}

/// Nothing alive but the device's own context.
mock::LiveObjects onlyTheContext() {
  mock::LiveObjects objects;
  objects.contextRetains = 1;
  return objects;
}

std::string describe(const mock::LiveObjects &objects) {
  return "device allocations " + std::to_string(objects.deviceAllocations) +
         ", host allocations " + std::to_string(objects.hostAllocations) +
         ", modules " + std::to_string(objects.modules) + ", streams " +
         std::to_string(objects.streams) + ", events " +
         std::to_string(objects.events) + ", link states " +
         std::to_string(objects.linkStates) + ", context retains " +
         std::to_string(objects.contextRetains) + ", green contexts " +
         std::to_string(objects.greenContexts);
}

class MockDevice : public ::testing::Test {
protected:
  void SetUp() override { mock::reset(); }
  void TearDown() override {
    EXPECT_TRUE(mock::misuses().empty())
        << "the device called the driver wrongly: " << mock::misuses().front();
    mock::reset();
  }
};

TEST_F(MockDevice, OpensAsAnSm90GpuAndReleasesItsContext) {
  {
    auto device = Device::open(mockOptions());
    ASSERT_TRUE(device) << device.error().message;
    EXPECT_EQ((*device)->kind(), DeviceKind::Mock);
    EXPECT_EQ((*device)->codeTarget(), "sm_90");
    EXPECT_EQ((*device)->codeExtension(), ".ptx");
    EXPECT_NE((*device)->description().find("TensorWasm mock GPU"),
              std::string::npos)
        << (*device)->description();
    EXPECT_NE((*device)->description().find("managed memory"),
              std::string::npos);
    EXPECT_EQ(mock::live(), onlyTheContext());
  }
  EXPECT_EQ(mock::live(), mock::LiveObjects()) << describe(mock::live());
}

TEST_F(MockDevice, LaunchPassesTheHiddenParametersThenTheArguments) {
  auto device = Device::open(mockOptions());
  ASSERT_TRUE(device) << device.error().message;
  auto module = (*device)->loadModule(kernelsPtx(), kernelsManifest());
  ASSERT_TRUE(module) << module.error().message;
  ASSERT_EQ((*module)->kernels().size(), 5u);
  auto instance = (*module)->instantiate();
  ASSERT_TRUE(instance) << instance.error().message;
  EXPECT_EQ((*instance)->memoryBytes(), 65536u);

  uint32_t word = 0xabcd1234, back = 0;
  ASSERT_TRUE((*instance)->write(1024, &word, 4));
  ASSERT_TRUE((*instance)->read(1024, &back, 4));
  EXPECT_EQ(back, word);

  auto result = (*instance)->launch("scale", oneBlock(), kScaleArguments);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->outcome, LaunchResult::Outcome::Completed);
  EXPECT_EQ(result->threads, 128u);
  auto launches = mock::launches();
  ASSERT_EQ(launches.size(), 1u);
  const std::vector<uint64_t> &slots = launches[0];
  ASSERT_EQ(slots.size(), 9u) << "5 hidden parameters and 4 arguments";
  EXPECT_NE(slots[0], 0u) << "memory base";
  EXPECT_EQ(slots[1], 65536u) << "memory size";
  EXPECT_NE(slots[2], 0u) << "trap record";
  EXPECT_NE(slots[3], 0u) << "control word";
  EXPECT_NE(slots[4], 0u) << "globals";
  EXPECT_EQ(std::vector<uint64_t>(slots.begin() + 5, slots.end()),
            (std::vector<uint64_t>{100, 3, 1024, 8192}));
  // What the host wrote is in the memory the kernel gets.
  EXPECT_EQ(*reinterpret_cast<uint32_t *>(slots[0] + 1024), word);

  // Linear memory is managed, advised and prefetched to the GPU once.
  EXPECT_EQ(mock::callCount("cuMemAllocManaged"), 1u);
  EXPECT_EQ(mock::callCount("cuMemPrefetchAsync_v2"), 1u);
  EXPECT_EQ(mock::callCount("cuMemAdvise_v2"), 2u);
  // A launch is the launch and its synchronize, nothing more.
  EXPECT_EQ(mock::callCount("cuLaunchKernel"), 1u);

  // Growth keeps the contents, zeroes the new pages, and moves the memory.
  auto grown = (*instance)->grow(2);
  ASSERT_TRUE(grown) << grown.error().message;
  EXPECT_EQ(*grown, 1u);
  EXPECT_EQ((*instance)->memoryBytes(), 3 * 65536u);
  ASSERT_TRUE((*instance)->read(1024, &back, 4));
  EXPECT_EQ(back, word);
  ASSERT_TRUE((*instance)->read(2 * 65536, &back, 4));
  EXPECT_EQ(back, 0u);
  auto refused = (*instance)->grow(2); // declared maximum: 4 pages
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::ResourceExhausted);
  EXPECT_EQ((*instance)->memoryBytes(), 3 * 65536u);
}

TEST_F(MockDevice, DeviceMemoryModeCopiesAndNeverManages) {
  DeviceOptions options = mockOptions();
  options.memory = MemoryMode::Device;
  auto device = Device::open(options);
  ASSERT_TRUE(device) << device.error().message;
  EXPECT_NE((*device)->description().find("device memory"), std::string::npos);
  auto module = (*device)->loadModule(kernelsPtx(), kernelsManifest());
  ASSERT_TRUE(module) << module.error().message;
  auto instance = (*module)->instantiate();
  ASSERT_TRUE(instance) << instance.error().message;
  uint32_t word = 7, back = 0;
  ASSERT_TRUE((*instance)->write(60000, &word, 4));
  ASSERT_TRUE((*instance)->read(60000, &back, 4));
  EXPECT_EQ(back, word);
  EXPECT_EQ(mock::callCount("cuMemAllocManaged"), 0u);
  EXPECT_EQ(mock::callCount("cuMemPrefetchAsync_v2"), 0u);
}

TEST_F(MockDevice, TrapsAreReadBackAndTheNextLaunchRuns) {
  auto device = Device::open(mockOptions());
  ASSERT_TRUE(device);
  auto module = (*device)->loadModule(kernelsPtx(), kernelsManifest());
  ASSERT_TRUE(module) << module.error().message;
  auto instance = (*module)->instantiate();
  ASSERT_TRUE(instance);

  tensorwasm::abi::TrapRecord record{};
  record.code =
      static_cast<uint32_t>(tensorwasm::abi::TrapCode::IntegerDivideByZero);
  record.function = 4;
  record.offset = 0x51;
  record.block[0] = 1;
  record.thread[0] = 9;
  record.thread[1] = 2;
  mock::trapNextLaunch(record);
  auto trapped = (*instance)->launch("scale", oneBlock(), kScaleArguments);
  ASSERT_TRUE(trapped) << trapped.error().message;
  ASSERT_EQ(trapped->outcome, LaunchResult::Outcome::Trapped);
  EXPECT_EQ(trapped->trap.code, tensorwasm::abi::TrapCode::IntegerDivideByZero);
  EXPECT_EQ(trapped->trap.function, 4u);
  EXPECT_EQ(trapped->trap.offset, 0x51u);
  EXPECT_EQ(trapped->trap.block.x, 1u);
  EXPECT_EQ(trapped->trap.thread.x, 9u);
  EXPECT_EQ(trapped->trap.thread.y, 2u);

  // The record and the control word were reset: the next launch runs.
  auto next = (*instance)->launch("scale", oneBlock(), kScaleArguments);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->outcome, LaunchResult::Outcome::Completed);
  uint64_t controlWord = mock::launches().back()[3];
  EXPECT_EQ(*reinterpret_cast<uint32_t *>(controlWord), 0u);
}

TEST_F(MockDevice, TimeoutsAndCancellationInterruptAnEndlessLaunch) {
  auto device = Device::open(mockOptions());
  ASSERT_TRUE(device);
  auto module = (*device)->loadModule(kernelsPtx(), kernelsManifest());
  ASSERT_TRUE(module) << module.error().message;
  auto endless = (*module)->instantiate();
  auto other = (*module)->instantiate();
  ASSERT_TRUE(endless && other);
  mock::setEndlessLaunches(true);

  auto timedOut = (*endless)->launch("spin", oneBlock(30ms), {Value::i32(0)});
  ASSERT_TRUE(timedOut) << timedOut.error().message;
  EXPECT_EQ(timedOut->outcome, LaunchResult::Outcome::Interrupted);
  EXPECT_GE(timedOut->elapsed, 30ms);
  EXPECT_LT(timedOut->elapsed, 5s);

  std::thread canceller([&] {
    std::this_thread::sleep_for(30ms);
    (*endless)->cancel();
  });
  auto cancelled = (*endless)->launch("spin", oneBlock(), {Value::i32(0)});
  canceller.join();
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_EQ(cancelled->outcome, LaunchResult::Outcome::Interrupted);

  // Two instances time out at once, each at its own deadline.
  std::thread second([&] {
    auto result = (*other)->launch("spin", oneBlock(60ms), {Value::i32(0)});
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->outcome, LaunchResult::Outcome::Interrupted);
    EXPECT_GE(result->elapsed, 60ms);
  });
  auto first = (*endless)->launch("spin", oneBlock(20ms), {Value::i32(0)});
  second.join();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->outcome, LaunchResult::Outcome::Interrupted);
  EXPECT_LT(first->elapsed, 60ms);

  mock::setEndlessLaunches(false);
  (*endless)->cancel(); // nothing in flight: no effect on the next launch
  auto after = (*endless)->launch("scale", oneBlock(1s), kScaleArguments);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->outcome, LaunchResult::Outcome::Completed);
}

TEST_F(MockDevice, AllocationsBeyondFreeMemoryAreRefusedBeforeTheDriver) {
  mock::reset(uint64_t(4) << 20); // a 4 MiB GPU
  auto device = Device::open(mockOptions());
  ASSERT_TRUE(device);
  // A module whose memory is declared up to 4 GiB: growth is bounded by
  // the GPU's free memory.
  auto module = (*device)->loadModule(kernelsPtx(), manifestUpTo4GiB());
  ASSERT_TRUE(module) << module.error().message;
  auto instance = (*module)->instantiate();
  ASSERT_TRUE(instance) << instance.error().message;
  unsigned allocations = mock::callCount("cuMemAllocManaged");
  auto refused = (*instance)->grow(100); // 6.4 MiB more
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::ResourceExhausted);
  EXPECT_NE(refused.error().message.find("bytes free"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(mock::callCount("cuMemAllocManaged"), allocations)
      << "the driver was asked";
  EXPECT_EQ((*instance)->memoryBytes(), 65536u);
  auto fits = (*instance)->grow(10);
  EXPECT_TRUE(fits) << fits.error().message;
}

TEST_F(MockDevice, BadModulesAreRefusedWithReasons) {
  auto device = Device::open(mockOptions());
  ASSERT_TRUE(device);
  auto notPtx = (*device)->loadModule("\x7f"
                                      "ELF",
                                      kernelsManifest());
  ASSERT_FALSE(notPtx);
  EXPECT_EQ(notPtx.error().code, ErrorCode::InvalidModule);

  std::string renamed = kernelsManifest();
  size_t entry = renamed.find("\"entry\": \"scale\"");
  ASSERT_NE(entry, std::string::npos);
  renamed.replace(entry, 16, "\"entry\": \"scalf\"");
  auto missingEntry = (*device)->loadModule(kernelsPtx(), renamed);
  ASSERT_FALSE(missingEntry);
  EXPECT_EQ(missingEntry.error().message,
            "the PTX has no entry 'scalf' that the manifest names for kernel "
            "'scale'");

  std::string newer = kernelsManifest();
  size_t chip = newer.find("\"sm_90\"");
  ASSERT_NE(chip, std::string::npos);
  newer.replace(chip, 7, "\"sm_100\"");
  auto tooNew = (*device)->loadModule(kernelsPtx(), newer);
  ASSERT_FALSE(tooNew);
  EXPECT_NE(tooNew.error().message.find("compile with --target sm_90"),
            std::string::npos)
      << tooNew.error().message;
  EXPECT_EQ(mock::live(), onlyTheContext()) << describe(mock::live());
}

/// How many driver calls the last whole life made before its objects were
/// destroyed (the calls after that release them, and cannot report).
size_t callsBeforeRelease = 0;

/// A module's whole life on a fresh mock device, its linear memory in
/// `memory`; the first failure.
Status wholeLife(MemoryMode memory) {
  DeviceOptions deviceOptions = mockOptions();
  deviceOptions.memory = memory;
  deviceOptions.gpuMemoryLimit = memory == MemoryMode::Device ? 64 << 20 : 0;
  auto device = Device::open(deviceOptions);
  if (!device)
    return device.error();
  auto module = (*device)->loadModule(kernelsPtx(), kernelsManifest());
  if (!module)
    return module.error();
  auto instance = (*module)->instantiate();
  if (!instance)
    return instance.error();
  uint32_t word = 5;
  if (Status status = (*instance)->write(1024, &word, 4); !status)
    return status;
  LaunchOptions options = oneBlock(1s);
  options.sharedBytes = 64 * 1024; // past the default: an attribute call
  auto launched = (*instance)->launch("scale", options, kScaleArguments);
  if (!launched)
    return launched.error();
  if (Status status = (*instance)->read(1024, &word, 4); !status)
    return status;
  auto grown = (*instance)->grow(1);
  if (!grown)
    return grown.error();
  if (Status status = (*instance)->reset(); !status)
    return status;
  callsBeforeRelease = mock::calls().size();
  return {};
}

bool releases(const std::string &symbol) {
  static const std::set<std::string> cleanup = {"cuDevicePrimaryCtxRelease_v2",
                                                "cuMemFree_v2",
                                                "cuMemFreeAsync",
                                                "cuMemPoolDestroy",
                                                "cuMemFreeHost",
                                                "cuModuleUnload",
                                                "cuLinkDestroy",
                                                "cuStreamDestroy_v2",
                                                "cuEventDestroy_v2"};
  return cleanup.count(symbol) != 0;
}

/// Fails each driver call of a whole life in turn (in `memory` mode).
void failEachCallInTurn(MemoryMode memory) {
  ASSERT_TRUE(wholeLife(memory)) << "the unfailed run must succeed";
  std::vector<std::string> calls = mock::calls();
  size_t releaseStart = callsBeforeRelease;
  ASSERT_GT(calls.size(), 30u);
  EXPECT_EQ(mock::live(), mock::LiveObjects()) << describe(mock::live());

  // Fail each call in turn: as an ordinary error (out of memory) and as an
  // error that destroys the context.
  std::map<std::string, unsigned> seen;
  size_t failuresChecked = 0;
  for (size_t index = 0; index < calls.size(); ++index) {
    const std::string &symbol = calls[index];
    unsigned ordinal = ++seen[symbol];
    for (cuda::CUresult failure :
         {cuda::CUDA_ERROR_OUT_OF_MEMORY, cuda::CUDA_ERROR_ILLEGAL_ADDRESS}) {
      SCOPED_TRACE(symbol + " #" + std::to_string(ordinal) + " fails with " +
                   std::to_string(failure));
      mock::reset();
      mock::failCall(symbol, failure, ordinal);
      Status status = wholeLife(memory);
      if (!releases(symbol) && index < releaseStart) {
        ASSERT_FALSE(status) << "the failure went unnoticed";
        EXPECT_FALSE(status.error().message.empty());
        ++failuresChecked;
      }
      EXPECT_TRUE(mock::misuses().empty()) << mock::misuses().front();
      // A context whose release fails stays retained: nothing can be done.
      if (symbol != "cuDevicePrimaryCtxRelease_v2")
        EXPECT_EQ(mock::live(), mock::LiveObjects()) << describe(mock::live());
    }
  }
  EXPECT_GT(failuresChecked, 40u);
}

TEST_F(MockDevice, EveryFailingDriverCallIsAnErrorAndLeaksNothing) {
  for (MemoryMode memory : {MemoryMode::Managed, MemoryMode::Device}) {
    SCOPED_TRACE(memory == MemoryMode::Device ? "device memory"
                                              : "managed memory");
    mock::reset();
    failEachCallInTurn(memory);
  }
}

TEST_F(MockDevice, ObjectsReleaseTheirResourcesWhileTheDeviceLives) {
  auto device = Device::open(mockOptions());
  ASSERT_TRUE(device);
  mock::LiveObjects afterFirst;
  for (int cycle = 0; cycle < 100; ++cycle) {
    auto module = (*device)->loadModule(kernelsPtx(), kernelsManifest());
    ASSERT_TRUE(module) << module.error().message;
    auto instance = (*module)->instantiate();
    ASSERT_TRUE(instance) << instance.error().message;
    auto result = (*instance)->launch("scale", oneBlock(), kScaleArguments);
    ASSERT_TRUE(result) << result.error().message;
    instance->reset();
    module->reset();
    if (cycle == 0)
      afterFirst = mock::live();
  }
  // What stays is the device's stock of launch slots (one block: its
  // streams, trap records and control words) and the spare blocks of the
  // last instance (its linear memory and globals, kept for the next), the
  // same after 100 cycles as after one.
  mock::LiveObjects stock = onlyTheContext();
  stock.streams = 2 * 16;
  stock.hostAllocations = 1;
  stock.deviceAllocations = 1 + 2;
  EXPECT_EQ(afterFirst, stock) << describe(afterFirst);
  EXPECT_EQ(mock::live(), stock) << describe(mock::live());
}

TEST_F(MockDevice, DeviceMemoryComesFromAPoolTheDriverCaps) {
  DeviceOptions options = mockOptions();
  options.memory = MemoryMode::Device;
  options.gpuMemoryLimit = uint64_t(1) << 20;
  auto device = Device::open(options);
  ASSERT_TRUE(device) << device.error().message;
  EXPECT_NE((*device)->description().find("at most 1 MiB"), std::string::npos)
      << (*device)->description();
  EXPECT_EQ(mock::live().memoryPools, 1u);
  // Memory declared up to 4 GiB: only the cap stops growth.
  auto module = (*device)->loadModule(kernelsPtx(), manifestUpTo4GiB());
  ASSERT_TRUE(module) << module.error().message;
  auto instance = (*module)->instantiate();
  ASSERT_TRUE(instance) << instance.error().message;
  uint32_t word = 0x5eed, back = 0;
  ASSERT_TRUE((*instance)->write(100, &word, 4));

  // Past the cap (the GPU has 16 GiB free): refused by the driver, with
  // the cap named, and nothing changed.
  auto refused = (*instance)->grow(16);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::ResourceExhausted);
  EXPECT_NE(refused.error().message.find("capped at 1048576 bytes"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ((*instance)->memoryBytes(), 65536u);
  ASSERT_TRUE((*instance)->read(100, &back, 4));
  EXPECT_EQ(back, word);
  auto grown = (*instance)->grow(7);
  ASSERT_TRUE(grown) << grown.error().message;
  ASSERT_TRUE((*instance)->read(100, &back, 4));
  EXPECT_EQ(back, word);

  // Instances come and go with no call that may wait for the GPU to be
  // idle: memory from the pool in stream order, slots from the stock.
  unsigned streamsMade = mock::callCount("cuStreamCreate");
  for (int cycle = 0; cycle < 20; ++cycle) {
    auto more = (*module)->instantiate();
    ASSERT_TRUE(more) << more.error().message;
    auto launched = (*more)->launch("scale", oneBlock(), kScaleArguments);
    ASSERT_TRUE(launched) << launched.error().message;
  }
  // The stock's one block: its trap records and its control words.
  EXPECT_EQ(mock::callCount("cuMemAllocHost_v2"), 1u);
  EXPECT_EQ(mock::callCount("cuMemAlloc_v2"), 1u);
  for (const char *waits : {"cuMemFree_v2", "cuMemFreeHost", "cuMemcpyDtoD_v2"})
    EXPECT_EQ(mock::callCount(waits), 0u) << waits;
  EXPECT_EQ(mock::callCount("cuStreamCreate"), streamsMade);
  instance->reset();
  module->reset();
  device->reset();
  EXPECT_EQ(mock::live(), mock::LiveObjects()) << describe(mock::live());

  // A cap needs memory a pool can hold.
  options.memory = MemoryMode::Managed;
  auto managed = Device::open(options);
  ASSERT_FALSE(managed);
  EXPECT_EQ(managed.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(managed.error().message.find("device memory"), std::string::npos)
      << managed.error().message;
}

// In managed memory there is no stream-ordered pool, and every allocation
// and free passes the launch gate (waiting for every launch in flight and
// holding up new ones). Instances that come and go reuse the blocks the
// last ones freed instead, zeroed before use; a block larger than the
// spare room goes back to the driver.
TEST_F(MockDevice, ManagedInstancesReuseFreedBlocksZeroedAndBounded) {
  auto device = Device::open(mockOptions());
  ASSERT_TRUE(device) << device.error().message;
  auto module = (*device)->loadModule(kernelsPtx(), manifestUpTo4GiB());
  ASSERT_TRUE(module) << module.error().message;
  {
    auto first = (*module)->instantiate();
    ASSERT_TRUE(first) << first.error().message;
    uint32_t word = 0xdeadbeef;
    ASSERT_TRUE((*first)->write(100, &word, 4));
  }
  auto allocations = [] {
    return mock::callCount("cuMemAllocManaged") +
           mock::callCount("cuMemAlloc_v2") + mock::callCount("cuMemFree_v2");
  };
  unsigned before = allocations();
  for (int cycle = 0; cycle < 20; ++cycle) {
    auto instance = (*module)->instantiate();
    ASSERT_TRUE(instance) << instance.error().message;
    uint32_t word = 1;
    ASSERT_TRUE((*instance)->read(100, &word, 4));
    EXPECT_EQ(word, 0u) << "a reused block kept an earlier instance's bytes";
    word = 0xdeadbeef;
    ASSERT_TRUE((*instance)->write(100, &word, 4));
    auto launched = (*instance)->launch("scale", oneBlock(), kScaleArguments);
    ASSERT_TRUE(launched) << launched.error().message;
  }
  EXPECT_EQ(allocations(), before) << "instances that come and go allocated";

  // Grown past the spare room (64 MiB): its memory goes back to the driver
  // (the page it grew from, and its globals, are kept).
  unsigned frees = mock::callCount("cuMemFree_v2");
  {
    auto large = (*module)->instantiate();
    ASSERT_TRUE(large);
    ASSERT_TRUE((*large)->grow(1100)) << "to 1101 pages, 68.8 MiB";
  }
  EXPECT_EQ(mock::callCount("cuMemFree_v2"), frees + 1);
  module->reset();
  device->reset();
  EXPECT_EQ(mock::live(), mock::LiveObjects()) << describe(mock::live());
}

// The mock tells a green context from the context cuCtxFromGreenCtx gives
// for it, as the driver does: each passed where the other belongs is a
// misuse, so the device's tests would catch such a mix-up.
TEST_F(MockDevice, AGreenContextAndItsContextAreNotInterchangeable) {
  using namespace tensorwasm::cuda;
  std::unique_ptr<cuda::Driver> driver = mock::load();
  CUdevice gpu = 0;
  CUcontext primary = nullptr;
  ASSERT_EQ(driver->init(0), CUDA_SUCCESS);
  ASSERT_EQ(driver->deviceGet(&gpu, 0), CUDA_SUCCESS);
  ASSERT_EQ(driver->primaryCtxRetain(&primary, gpu), CUDA_SUCCESS);
  CUdevResource all{}, group{};
  unsigned groups = 1;
  ASSERT_EQ(driver->deviceGetDevResource(gpu, &all, CU_DEV_RESOURCE_TYPE_SM),
            CUDA_SUCCESS);
  ASSERT_EQ(
      driver->devSmResourceSplitByCount(&group, &groups, &all, nullptr, 0, 16),
      CUDA_SUCCESS);
  CUdevResourceDesc description = nullptr;
  ASSERT_EQ(driver->devResourceGenerateDesc(&description, &group, 1),
            CUDA_SUCCESS);
  CUgreenCtx green = nullptr;
  ASSERT_EQ(driver->greenCtxCreate(&green, description, gpu,
                                   CU_GREEN_CTX_DEFAULT_STREAM),
            CUDA_SUCCESS);
  CUcontext context = nullptr;
  ASSERT_EQ(driver->ctxFromGreenCtx(&context, green), CUDA_SUCCESS);

  EXPECT_NE(static_cast<const void *>(green),
            static_cast<const void *>(context));
  EXPECT_NE(driver->ctxSetCurrent(reinterpret_cast<CUcontext>(green)),
            CUDA_SUCCESS);
  EXPECT_NE(driver->greenCtxDestroy(reinterpret_cast<CUgreenCtx>(context)),
            CUDA_SUCCESS);
  EXPECT_EQ(mock::misuses().size(), 2u);
  EXPECT_EQ(driver->ctxSetCurrent(context), CUDA_SUCCESS);
  EXPECT_EQ(driver->greenCtxDestroy(green), CUDA_SUCCESS);
  EXPECT_EQ(driver->primaryCtxRelease(gpu), CUDA_SUCCESS);
  // The two misuses were this test's own.
  mock::reset();
}

/// Options for a mock device on SM group `group` (of 16 SMs: eight groups).
DeviceOptions onSmGroup(unsigned group) {
  DeviceOptions options = mockOptions();
  options.memory = MemoryMode::Device;
  options.gpuSmGroupSize = 16;
  options.gpuSmGroup = group;
  return options;
}

// Devices on groups of SMs, opened and filled from several threads at once:
// each is a green context of its own group, its instances launch on
// streams made in that context alone, and closing them leaves nothing.
TEST_F(MockDevice, DevicesOnSmGroupsLaunchInGreenContextsOfTheirOwn) {
  constexpr unsigned kDevices = 4, kInstances = 3;
  std::vector<std::shared_ptr<Device>> devices(kDevices);
  std::vector<std::shared_ptr<Module>> modules(kDevices);
  std::vector<std::vector<std::unique_ptr<Instance>>> instances(kDevices);
  std::vector<std::thread> openers;
  for (unsigned d = 0; d < kDevices; ++d)
    openers.emplace_back([&, d] {
      auto device = Device::open(onSmGroup(d));
      ASSERT_TRUE(device) << device.error().message;
      EXPECT_NE((*device)->description().find("SM group " + std::to_string(d) +
                                              " of 8 (16 of 132 SMs)"),
                std::string::npos)
          << (*device)->description();
      devices[d] = *device;
      auto module = devices[d]->loadModule(kernelsPtx(), kernelsManifest());
      ASSERT_TRUE(module) << module.error().message;
      modules[d] = *module;
      for (unsigned i = 0; i < kInstances; ++i) {
        auto instance = modules[d]->instantiate();
        ASSERT_TRUE(instance) << instance.error().message;
        instances[d].push_back(std::move(*instance));
      }
    });
  for (std::thread &opener : openers)
    opener.join();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(mock::live().greenContexts, kDevices);

  std::map<const void *, const void *> contextOf;
  for (const mock::MadeStream &made : mock::streamsMade())
    contextOf[made.stream] = made.context;
  std::set<const void *> contextsUsed;
  for (unsigned d = 0; d < kDevices; ++d) {
    size_t before = mock::launchStreams().size();
    for (auto &instance : instances[d]) {
      auto launched = instance->launch("scale", oneBlock(), kScaleArguments);
      ASSERT_TRUE(launched) << launched.error().message;
    }
    std::vector<const void *> used = mock::launchStreams();
    std::set<const void *> contexts;
    for (size_t at = before; at < used.size(); ++at)
      contexts.insert(contextOf.at(used[at]));
    ASSERT_EQ(contexts.size(), 1u) << "one device launched in two contexts";
    EXPECT_NE(*contexts.begin(), nullptr);
    EXPECT_TRUE(contextsUsed.insert(*contexts.begin()).second)
        << "two devices launched in one green context";
  }

  instances.clear();
  modules.clear();
  devices.clear();
  EXPECT_EQ(mock::live(), mock::LiveObjects()) << describe(mock::live());
}

// Opening a device on a group of SMs fails cleanly at each driver call it
// makes for the group: a clear error, nothing left behind.
TEST_F(MockDevice, AGroupOfSmsThatCannotBeHadIsAnErrorAndLeaksNothing) {
  for (auto [symbol, ordinal] : std::vector<std::pair<std::string, unsigned>>{
           {"cuDeviceGetDevResource", 1},
           {"cuDevSmResourceSplitByCount", 1},
           {"cuDevSmResourceSplitByCount", 2},
           {"cuDevResourceGenerateDesc", 1},
           {"cuGreenCtxCreate", 1},
           {"cuCtxFromGreenCtx", 1}}) {
    SCOPED_TRACE(symbol + " #" + std::to_string(ordinal));
    mock::reset();
    mock::failCall(symbol, cuda::CUDA_ERROR_OUT_OF_MEMORY, ordinal);
    auto device = Device::open(onSmGroup(0));
    ASSERT_FALSE(device);
    EXPECT_NE(device.error().message.find(symbol), std::string::npos)
        << device.error().message;
    EXPECT_EQ(mock::live(), mock::LiveObjects()) << describe(mock::live());
  }
  // A group larger than the GPU.
  DeviceOptions tooLarge = onSmGroup(0);
  tooLarge.gpuSmGroupSize = 200;
  auto refused = Device::open(tooLarge);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(refused.error().message.find("the GPU has 132"), std::string::npos)
      << refused.error().message;
}

TEST_F(MockDevice, ALostContextFailsEveryCallClearly) {
  auto device = Device::open(mockOptions());
  ASSERT_TRUE(device);
  auto module = (*device)->loadModule(kernelsPtx(), kernelsManifest());
  ASSERT_TRUE(module);
  auto instance = (*module)->instantiate();
  ASSERT_TRUE(instance);
  mock::loseContext();
  auto failed = (*instance)->launch("scale", oneBlock(), kScaleArguments);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::DeviceFailure);
  EXPECT_NE(failed.error().message.find("lost"), std::string::npos)
      << failed.error().message;
  uint32_t word = 0;
  Status read = (*instance)->read(0, &word, 4);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find("open the device again"),
            std::string::npos)
      << read.error().message;
  EXPECT_FALSE((*module)->instantiate());
  EXPECT_FALSE((*device)->loadModule(kernelsPtx(), kernelsManifest()));
  instance->reset();
  module->reset();
  device->reset();
  EXPECT_EQ(mock::live(), mock::LiveObjects()) << describe(mock::live());
  // Opened again, the device works.
  EXPECT_TRUE(wholeLife(MemoryMode::Managed));
}

TEST_F(MockDevice, TheCubinCacheSkipsTheCompilerAndSurvivesDamage) {
  char directory[] = "/tmp/twasm-cubin-cache-XXXXXX";
  ASSERT_NE(mkdtemp(directory), nullptr);
  std::string cache = std::string(directory) + "/cubin";
  {
    auto device = Device::open(mockOptions(cache));
    ASSERT_TRUE(device);
    EXPECT_NE((*device)->description().find("cubin cache in " + cache),
              std::string::npos)
        << (*device)->description();
    ASSERT_TRUE((*device)->loadModule(kernelsPtx(), kernelsManifest()));
    EXPECT_EQ(mock::callCount("cuLinkComplete"), 1u);
    ASSERT_TRUE((*device)->loadModule(kernelsPtx(), kernelsManifest()));
    EXPECT_EQ(mock::callCount("cuLinkComplete"), 1u) << "not taken from cache";
  }
  // Damage the entry: it is compiled again, not loaded.
  std::string key = cuda::CubinCache::key(kernelsPtx(), 13000, "sm_90");
  std::string entry = cache + "/" + key + ".cubin";
  std::string contents = tensorwasm::testing::readTestFile(entry);
  ASSERT_FALSE(contents.empty()) << entry;
  contents.back() ^= 1;
  std::ofstream(entry, std::ios::binary | std::ios::trunc) << contents;
  {
    auto device = Device::open(mockOptions(cache));
    ASSERT_TRUE(device);
    ASSERT_TRUE((*device)->loadModule(kernelsPtx(), kernelsManifest()));
    EXPECT_EQ(mock::callCount("cuLinkComplete"), 2u);
  }
  // A directory others can write to is not trusted.
  ASSERT_EQ(chmod(cache.c_str(), 0777), 0);
  {
    auto device = Device::open(mockOptions(cache));
    ASSERT_TRUE(device);
    EXPECT_NE((*device)->description().find("is not private"),
              std::string::npos)
        << (*device)->description();
  }
  std::remove(entry.c_str());
  rmdir(cache.c_str());
  rmdir(directory);
}

TEST(CubinCache, KeysAreSha256OfThePtxWithDriverAndArchitecture) {
  EXPECT_EQ(files::sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(cuda::CubinCache::key("abc", 13000, "sm_90"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            "-driver13000-sm_90");
}

} // namespace
