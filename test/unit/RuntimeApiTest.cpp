//===- RuntimeApiTest.cpp - the public runtime API on a real device -------===//
//
// What include/twasm/Runtime.h promises, on the cpu device (every machine
// has it; CI) or, with TWASM_TEST_DEVICE=cuda, on a GPU (the same tests):
// devices are chosen and refused with reasons, bad modules and bad calls are
// errors that change nothing, a launch's arguments are checked against the
// kernel's parameters, traps come back typed with their thread, timeouts and
// cancellation interrupt, one instance's trap or timeout leaves the others
// working, and many instantiate/launch/destroy cycles leak nothing (the
// asan preset runs this with LeakSanitizer).
//
// This binary links the runtime alone, no compiler: its kernels were
// compiled by the build (test/runtime/kernels.wat, examples/kernels/saxpy.c)
// for the host and for sm_90, and test/runtime/check-runtime-deps.sh checks
// that no LLVM, MLIR or Binaryen is in it. On a machine where the build's
// paths do not exist, TWASM_TEST_KERNEL_DIR names the directory that holds
// runtime-kernels{,-gpu}.* and saxpy.* (host code in host/).
//
//===----------------------------------------------------------------------===//

#include "twasm/Artifact.h"
#include "twasm/Runtime.h"

#include <gtest/gtest.h>

#include "cuda/CudaDriver.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

using namespace tensorwasm;
using namespace std::chrono_literals;

#ifndef TWASM_RUNTIME_TEST_KERNEL_DIR
#error "the build defines TWASM_RUNTIME_TEST_KERNEL_DIR"
#endif
#ifndef TWASM_EXAMPLE_KERNEL_DIR
#error "the build defines TWASM_EXAMPLE_KERNEL_DIR"
#endif

namespace {

/// The device under test: TWASM_TEST_DEVICE (cpu by default, or cuda).
DeviceKind testedKind() {
  const char *name = std::getenv("TWASM_TEST_DEVICE");
  std::optional<DeviceKind> kind = parseDeviceKind(name ? name : "cpu");
  return kind && *kind != DeviceKind::Auto ? *kind : DeviceKind::Cpu;
}
bool onGpu() { return testedKind() == DeviceKind::Cuda; }

/// The stem of a kernel module compiled for the device under test.
std::string stem(const char *buildDirectory, const std::string &name) {
  const char *moved = std::getenv("TWASM_TEST_KERNEL_DIR");
  std::string directory = moved ? moved : buildDirectory;
  if (onGpu())
    return directory + "/" + name;
  return directory + (moved || name == "saxpy" ? "/host/" : "/") + name;
}
std::string testKernels() {
  return stem(TWASM_RUNTIME_TEST_KERNEL_DIR,
              onGpu() ? "runtime-kernels-gpu" : "runtime-kernels");
}
std::string saxpyStem() { return stem(TWASM_EXAMPLE_KERNEL_DIR, "saxpy"); }

/// The test kernels as the build signed them (host and sm_90 code), and the
/// public key that signed them.
std::string kernelArtifact(const char *file) {
  const char *moved = std::getenv("TWASM_TEST_KERNEL_DIR");
  return std::string(moved ? moved : TWASM_RUNTIME_TEST_KERNEL_DIR) + "/" +
         file;
}

/// `allowUnsigned`: for the tests of loading raw compiled code.
std::shared_ptr<Device> openDevice(bool allowUnsigned = false) {
  DeviceOptions options;
  options.kind = testedKind();
  options.cpuWorkers = 2;
  options.allowUnsignedCode = allowUnsigned;
  auto device = Device::open(options);
  EXPECT_TRUE(device) << device.error().message;
  return *device;
}

/// The test kernels, loaded as a service loads code: from an artifact that
/// a trusted key signed.
std::shared_ptr<Module> loadKernels(Device &device) {
  Result<PublicKey> key =
      PublicKey::readFile(kernelArtifact("test-publisher.pub"));
  EXPECT_TRUE(key) << key.error().message;
  TrustPolicy trust;
  EXPECT_TRUE(trust.add(*key, {"test/*"}));
  Result<Artifact> artifact =
      Artifact::readFile(kernelArtifact("runtime-kernels.twa"), trust);
  EXPECT_TRUE(artifact) << artifact.error().message;
  auto module = device.loadArtifact(*artifact);
  EXPECT_TRUE(module) << module.error().message;
  return *module;
}

std::unique_ptr<Instance> instantiate(Module &module) {
  auto instance = module.instantiate();
  EXPECT_TRUE(instance) << instance.error().message;
  return std::move(*instance);
}

/// Launches `scale` over n elements at in = 1024, out = 8192 with the
/// inputs i * 3, and checks out[i] = in[i] * factor + i.
void runScale(Instance &instance, int32_t n, int32_t factor) {
  std::vector<int32_t> input(n), output(n, -1);
  for (int32_t i = 0; i < n; ++i)
    input[i] = i * 3;
  ASSERT_TRUE(instance.write(1024, input.data(), n * 4));
  ASSERT_TRUE(instance.write(8192, output.data(), n * 4));
  LaunchOptions options;
  options.grid = {static_cast<uint32_t>((n + 63) / 64)};
  options.block = {64};
  auto result = instance.launch(
      "scale", options,
      {Value::i32(n), Value::i32(factor), Value::i32(1024), Value::i32(8192)});
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->outcome, LaunchResult::Outcome::Completed)
      << result->trap.describe();
  EXPECT_EQ(result->threads, options.grid.x * 64ull);
  ASSERT_TRUE(instance.read(8192, output.data(), n * 4));
  for (int32_t i = 0; i < n; ++i)
    ASSERT_EQ(output[i], i * 3 * factor + i) << "element " << i;
}

TEST(RuntimeApi, DevicesAreChosenOrRefusedWithReasons) {
  auto cpu = Device::open({DeviceKind::Cpu, 1});
  ASSERT_TRUE(cpu) << cpu.error().message;
  EXPECT_EQ((*cpu)->kind(), DeviceKind::Cpu);
  EXPECT_EQ((*cpu)->codeExtension(), ".so");
  EXPECT_EQ((*cpu)->codeTarget(), "host");
  EXPECT_NE((*cpu)->description().find("1 worker threads"), std::string::npos)
      << (*cpu)->description();

  // auto takes the GPU where the driver sees one, else the CPU, and says
  // why either way.
  auto chosen = Device::open({DeviceKind::Auto, 1});
  ASSERT_TRUE(chosen) << chosen.error().message;
  EXPECT_EQ((*chosen)->kind(), onGpu() ? DeviceKind::Cuda : DeviceKind::Cpu)
      << (*chosen)->description();
  EXPECT_EQ((*chosen)->description().rfind("auto: ", 0), 0u)
      << (*chosen)->description();

  auto cuda = Device::open({DeviceKind::Cuda, 1});
  if (onGpu()) {
    ASSERT_TRUE(cuda) << cuda.error().message;
    EXPECT_EQ((*cuda)->codeExtension(), ".ptx");
    EXPECT_EQ((*cuda)->codeTarget().rfind("sm_", 0), 0u);
  } else {
    ASSERT_FALSE(cuda);
    EXPECT_EQ(cuda.error().code, ErrorCode::DeviceFailure);
    EXPECT_NE(cuda.error().message.find("--device cpu"), std::string::npos)
        << cuda.error().message;
  }

  EXPECT_EQ(parseDeviceKind("cpu"), DeviceKind::Cpu);
  EXPECT_EQ(parseDeviceKind("auto"), DeviceKind::Auto);
  EXPECT_EQ(parseDeviceKind("mock"), DeviceKind::Mock);
  EXPECT_EQ(parseDeviceKind("gpu"), std::nullopt);
}

TEST(RuntimeApi, UnsignedCodeLoadsOnlyWhereAllowed) {
  auto refused = openDevice()->loadModuleFiles(testKernels());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::Untrusted);
  EXPECT_NE(refused.error().message.find("refusing unsigned compiled code"),
            std::string::npos)
      << refused.error().message;
  auto device = openDevice(/*allowUnsigned=*/true);
  EXPECT_TRUE(device->allowsUnsignedCode());
  auto allowed = device->loadModuleFiles(testKernels());
  EXPECT_TRUE(allowed) << allowed.error().message;
}

TEST(RuntimeApi, BadModulesAreErrors) {
  auto device = openDevice(/*allowUnsigned=*/true);
  auto missing = device->loadModuleFiles("/nonexistent/kernels");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidModule);
  EXPECT_NE(missing.error().message.find("/nonexistent/kernels" +
                                         std::string(device->codeExtension())),
            std::string::npos)
      << missing.error().message;

  auto badManifest = device->loadModule("not an ELF file", "{ not json");
  ASSERT_FALSE(badManifest);
  EXPECT_EQ(badManifest.error().code, ErrorCode::InvalidModule);

  // A manifest that is fine with code that is not a shared object.
  std::string manifest;
  {
    FILE *file = std::fopen((testKernels() + ".json").c_str(), "rb");
    ASSERT_NE(file, nullptr);
    char buffer[4096];
    size_t read;
    while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0)
      manifest.append(buffer, read);
    std::fclose(file);
  }
  auto badCode = device->loadModule("\x7f"
                                    "ELF truncated",
                                    manifest);
  ASSERT_FALSE(badCode);
  EXPECT_EQ(badCode.error().code, ErrorCode::InvalidModule)
      << badCode.error().message;

  // Code for the other kind of device is refused by its manifest.
  std::string otherManifest = manifest;
  size_t target = otherManifest.find(onGpu() ? "\"ptx\"" : "\"host\"");
  ASSERT_NE(target, std::string::npos);
  otherManifest.replace(target, onGpu() ? 5 : 6,
                        onGpu() ? "\"host\"" : "\"ptx\"");
  auto otherTarget = device->loadModule("code", otherManifest);
  ASSERT_FALSE(otherTarget);
  EXPECT_EQ(otherTarget.error().code, ErrorCode::InvalidModule);
}

TEST(RuntimeApi, KernelsAreListedWithTheirParameters) {
  auto device = openDevice();
  auto module = loadKernels(*device);
  ASSERT_EQ(module->kernels().size(), 5u);
  const KernelInfo *scale = module->findKernel("scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ(scale->params, std::vector<ValueType>(4, ValueType::I32));
  EXPECT_EQ(module->findKernel("nothing"), nullptr);
}

TEST(RuntimeApi, LaunchRunsAndArgumentsAreChecked) {
  auto device = openDevice();
  auto module = loadKernels(*device);
  auto instance = instantiate(*module);
  runScale(*instance, 1000, 7);

  LaunchOptions options;
  options.grid = {1};
  options.block = {32};
  auto unknown = instance->launch("scael", options, {});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(unknown.error().message.find("its kernels: scale, "),
            std::string::npos)
      << unknown.error().message;

  auto tooFew = instance->launch("scale", options, {Value::i32(1)});
  ASSERT_FALSE(tooFew);
  EXPECT_EQ(tooFew.error().message,
            "kernel 'scale' takes (i32, i32, i32, i32), given (i32)");

  auto wrongType = instance->launch(
      "scale", options,
      {Value::i32(1), Value::f32(2.0f), Value::i32(0), Value::i32(0)});
  ASSERT_FALSE(wrongType);
  EXPECT_EQ(wrongType.error().message,
            "kernel 'scale' takes (i32, i32, i32, i32), given (i32, f32, "
            "i32, i32)");

  // A block the GPU would refuse is refused here too, before anything runs.
  options.block = {2048};
  auto huge = instance->launch(
      "scale", options,
      {Value::i32(0), Value::i32(0), Value::i32(0), Value::i32(0)});
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code, ErrorCode::InvalidArgument);

  // Nothing above disturbed the instance.
  runScale(*instance, 1000, 5);
}

TEST(RuntimeApi, MemoryRangesAreChecked) {
  auto device = openDevice();
  auto module = loadKernels(*device);
  auto instance = instantiate(*module);
  uint64_t size = instance->memoryBytes();
  ASSERT_EQ(size, 65536u);
  uint32_t word = 0x12345678, back = 0;
  ASSERT_TRUE(instance->write(size - 4, &word, 4));
  ASSERT_TRUE(instance->read(size - 4, &back, 4));
  EXPECT_EQ(back, word);

  uint32_t other = 0xdeadbeef;
  Status outside = instance->write(size - 2, &other, 4);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(outside.error().message,
            "cannot write 4 bytes at address 65534: linear memory has 65536 "
            "bytes");
  EXPECT_FALSE(instance->write(UINT64_MAX - 1, &other, 4));
  EXPECT_FALSE(instance->read(size, &back, 1));
  ASSERT_TRUE(instance->read(size - 4, &back, 4));
  EXPECT_EQ(back, word) << "a refused write changed memory";
  EXPECT_TRUE(instance->read(size, &back, 0)) << "an empty range at the end";

  // The memory is declared with at most 4 pages.
  auto grown = instance->grow(3);
  ASSERT_TRUE(grown) << grown.error().message;
  EXPECT_EQ(*grown, 1u);
  EXPECT_EQ(instance->memoryBytes(), 4 * 65536u);
  auto refused = instance->grow(1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::ResourceExhausted);
  EXPECT_EQ(instance->memoryBytes(), 4 * 65536u);
}

TEST(RuntimeApi, TrapsComeBackTypedWithTheirThread) {
  auto device = openDevice();
  auto module = loadKernels(*device);
  auto instance = instantiate(*module);
  LaunchOptions options;
  options.grid = {4};
  options.block = {32};
  // Thread 77 of the grid: block 2, thread 13.
  auto result =
      instance->launch("store_out_of_bounds", options, {Value::i32(77)});
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->outcome, LaunchResult::Outcome::Trapped);
  EXPECT_EQ(result->trap.code, tensorwasm::abi::TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(result->trap.block.x, 2u);
  EXPECT_EQ(result->trap.thread.x, 13u);
  EXPECT_NE(result->trap.describe().find("block (2, 0, 0), thread (13, 0, 0)"),
            std::string::npos)
      << result->trap.describe();
  // The instance goes on.
  runScale(*instance, 100, 3);
}

TEST(RuntimeApi, TimeoutAndCancellationInterrupt) {
  auto device = openDevice();
  auto module = loadKernels(*device);
  auto instance = instantiate(*module);
  LaunchOptions options;
  options.grid = {2};
  options.block = {1};
  options.timeout = 50ms;
  auto timedOut = instance->launch("spin", options, {Value::i32(0)});
  ASSERT_TRUE(timedOut) << timedOut.error().message;
  EXPECT_EQ(timedOut->outcome, LaunchResult::Outcome::Interrupted);
  EXPECT_EQ(timedOut->trap.code, tensorwasm::abi::TrapCode::Interrupted);
  EXPECT_GE(timedOut->elapsed, 50ms);
  EXPECT_LT(timedOut->elapsed, 5s);

  options.timeout = 0ns;
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    instance->cancel();
  });
  auto cancelled = instance->launch("spin", options, {Value::i32(0)});
  canceller.join();
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_EQ(cancelled->outcome, LaunchResult::Outcome::Interrupted);

  // A cancel with nothing running does not stop the next launch.
  instance->cancel();
  runScale(*instance, 200, 2);
}

TEST(RuntimeApi, OneInstanceFailingLeavesTheOthersWorking) {
  auto device = openDevice();
  auto module = loadKernels(*device);
  auto healthy = instantiate(*module);
  auto hostile = instantiate(*module);
  uint32_t marker = 0xfeedface;
  ASSERT_TRUE(healthy->write(60000, &marker, 4));

  LaunchOptions options;
  options.grid = {8};
  options.block = {64};
  auto trapped =
      hostile->launch("store_out_of_bounds", options, {Value::i32(300)});
  ASSERT_TRUE(trapped);
  EXPECT_EQ(trapped->outcome, LaunchResult::Outcome::Trapped);
  runScale(*healthy, 500, 9);

  options.timeout = 20ms;
  auto interrupted = hostile->launch("spin", options, {Value::i32(0)});
  ASSERT_TRUE(interrupted);
  EXPECT_EQ(interrupted->outcome, LaunchResult::Outcome::Interrupted);
  runScale(*healthy, 500, 11);

  uint32_t back = 0;
  ASSERT_TRUE(healthy->read(60000, &back, 4));
  EXPECT_EQ(back, marker);
  runScale(*hostile, 50, 1);
}

TEST(RuntimeApi, SaxpyExampleGivesTheReferenceResult) {
  // The example kernels are compiled unsigned by the build.
  auto device = openDevice(/*allowUnsigned=*/true);
  auto module = device->loadModuleFiles(saxpyStem());
  ASSERT_TRUE(module) << module.error().message;
  auto instance = instantiate(**module);
  const uint32_t n = 100003;
  uint64_t base = instance->memoryBytes();
  auto grown = instance->grow((2 * n * 4 + 65535) / 65536);
  ASSERT_TRUE(grown) << grown.error().message;
  uint32_t x = static_cast<uint32_t>(base), y = x + n * 4;
  std::vector<float> xs(n), ys(n), out(n);
  for (uint32_t i = 0; i < n; ++i) {
    xs[i] = static_cast<float>(i % 1000) * 0.25f - 7.0f;
    ys[i] = static_cast<float>(i % 77) * -1.5f;
  }
  ASSERT_TRUE(instance->write(x, xs.data(), n * 4));
  ASSERT_TRUE(instance->write(y, ys.data(), n * 4));
  LaunchOptions options;
  options.grid = {(n + 255) / 256};
  options.block = {256};
  const float a = 2.5f;
  auto result = instance->launch("saxpy", options,
                                 {Value::i32(n), Value::f32(a),
                                  Value::i32(static_cast<int32_t>(x)),
                                  Value::i32(static_cast<int32_t>(y))});
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->outcome, LaunchResult::Outcome::Completed)
      << result->trap.describe();
  ASSERT_TRUE(instance->read(y, out.data(), n * 4));
  for (uint32_t i = 0; i < n; ++i) {
    // Wasm rounds the product, then the sum (no fused multiply-add).
    volatile float product = a * xs[i];
    float expected = product + ys[i];
    ASSERT_EQ(std::memcmp(&out[i], &expected, 4), 0)
        << "element " << i << ": " << out[i] << " != " << expected;
  }
}

/// The GPU's free memory (on the GPU), through the driver the runtime made
/// current on this thread.
std::optional<size_t> freeGpuMemory() {
  if (!onGpu())
    return std::nullopt;
  std::string error;
  static std::unique_ptr<cuda::Driver> driver = cuda::Driver::load(error);
  size_t free = 0, total = 0;
  if (!driver || driver->memGetInfo(&free, &total) != cuda::CUDA_SUCCESS)
    return std::nullopt;
  return free;
}

TEST(RuntimeApi, ManyInstanceLifetimesLeakNothing) {
  // Under the asan preset, LeakSanitizer checks at exit that these 10,000
  // instantiate/launch/destroy cycles freed what they took; on a GPU, the
  // free device memory is the same before and after.
  auto device = openDevice();
  auto module = loadKernels(*device);
  {
    auto warm = instantiate(*module);
  }
  std::optional<size_t> freeBefore = freeGpuMemory();
  EXPECT_EQ(freeBefore.has_value(), onGpu());
  LaunchOptions options;
  options.grid = {1};
  options.block = {32};
  for (int cycle = 0; cycle < 10000; ++cycle) {
    auto instance = module->instantiate();
    ASSERT_TRUE(instance) << "cycle " << cycle << ": "
                          << instance.error().message;
    auto result = (*instance)->launch(
        "scale", options,
        {Value::i32(32), Value::i32(cycle), Value::i32(0), Value::i32(4096)});
    ASSERT_TRUE(result) << result.error().message;
    ASSERT_EQ(result->outcome, LaunchResult::Outcome::Completed);
  }
  if (freeBefore) {
    std::optional<size_t> freeAfter = freeGpuMemory();
    ASSERT_TRUE(freeAfter);
    // The driver may give back memory it kept from earlier work; what
    // matters is that the lifetimes took none for good.
    EXPECT_GE(*freeAfter, *freeBefore) << "device memory leaked";
    std::printf("free GPU memory: %zu bytes before and %zu after 10,000 "
                "instance lifetimes\n",
                *freeBefore, *freeAfter);
  }
}

} // namespace
