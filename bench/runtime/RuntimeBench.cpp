//===- RuntimeBench.cpp - what the runtime adds to the driver -------------===//
//
// twasm-bench-runtime KERNEL_DIR [--json FILE] [--device cuda|cpu]
//
// KERNEL_DIR holds empty.{ptx,json} (bench/runtime/empty.wat) and
// saxpy.{ptx,json} (examples/kernels/saxpy.c); for --device cpu, their host
// code under KERNEL_DIR/host. Measures, in one run on one device:
//
//  * launch overhead: Instance::launch of the empty kernel (launch and wait)
//    against a raw cuLaunchKernel + cuStreamSynchronize of the same compiled
//    function with the same parameters, through the driver directly;
//  * instantiate-to-first-launch: loadModule + instantiate + the first
//    launch of saxpy, cold (an empty cubin cache: the driver compiles the
//    PTX) and warm (the cubin from the cache);
//  * host <-> linear memory throughput of Instance::write and read, 64 MiB,
//    in managed and in device memory.
//
// Each figure is the median of repeated measurements; raw and runtime
// launches alternate in batches so that clock changes hit both alike.
//
//===----------------------------------------------------------------------===//

#include "cuda/CudaDriver.h"
#include "twasm/Runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace tensorwasm;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "twasm-bench-runtime: %s\n", message.c_str());
  std::exit(1);
}

template <typename T> T must(Result<T> result, const char *what) {
  if (!result)
    fail(std::string(what) + ": " + result.error().message);
  return std::move(*result);
}

void must(const Status &status, const char *what) {
  if (!status)
    fail(std::string(what) + ": " + status.error().message);
}

std::string readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    fail("cannot read " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double microseconds(Clock::duration duration) {
  return std::chrono::duration<double, std::micro>(duration).count();
}

std::string temporaryDirectory() {
  char pattern[] = "/tmp/twasm-bench-cache-XXXXXX";
  if (!mkdtemp(pattern))
    fail("cannot create a temporary directory");
  return pattern;
}

void removeDirectory(const std::string &path) {
  std::string command = "rm -rf '" + path + "'";
  if (std::system(command.c_str()) != 0)
    std::fprintf(stderr, "note: could not remove %s\n", path.c_str());
}

struct Figures {
  std::vector<std::pair<std::string, double>> values;
  void add(const std::string &name, double value) {
    values.push_back({name, value});
  }
};

/// Launch and wait of the empty kernel: through the runtime and through the
/// driver directly, alternating batches.
void launchOverhead(const std::string &kernelDir, Device &device,
                    Figures &figures) {
  auto module = must(device.loadModuleFiles(kernelDir + "/empty"), "load");
  auto instance = must(module->instantiate(), "instantiate");
  LaunchOptions options;
  options.grid = {1};
  options.block = {32};
  std::vector<Value> arguments = {Value::i32(0)};

  // The raw path: the same PTX through the driver, the same parameters.
  std::string error;
  std::unique_ptr<cuda::Driver> driver = cuda::Driver::load(error);
  if (!driver)
    fail(error);
  cuda::CUmodule rawModule = nullptr;
  std::string ptx = readFile(kernelDir + "/empty.ptx");
  cuda::CUfunction function = nullptr;
  cuda::CUstream stream = nullptr;
  cuda::CUdeviceptr buffers = 0;
  if (driver->moduleLoadDataEx(&rawModule, ptx.c_str(), 0, nullptr, nullptr) !=
          cuda::CUDA_SUCCESS ||
      driver->moduleGetFunction(&function, rawModule, "empty") !=
          cuda::CUDA_SUCCESS ||
      driver->streamCreate(&stream, cuda::CU_STREAM_NON_BLOCKING) !=
          cuda::CUDA_SUCCESS ||
      driver->memAlloc(&buffers, 65536 + 128) != cuda::CUDA_SUCCESS ||
      driver->memsetD8(buffers, 0, 65536 + 128) != cuda::CUDA_SUCCESS)
    fail("cannot set up the raw launch");
  uint64_t slots[6] = {buffers,
                       65536,
                       buffers + 65536,
                       buffers + 65536 + 64,
                       buffers + 65536 + 72,
                       0};
  void *parameters[6];
  for (int i = 0; i < 6; ++i)
    parameters[i] = &slots[i];

  const int batches = 40, perBatch = 500;
  std::vector<double> raw, runtime;
  for (int batch = -2; batch < batches; ++batch) { // two batches of warm-up
    Clock::time_point start = Clock::now();
    for (int i = 0; i < perBatch; ++i)
      if (driver->launchKernel(function, 1, 1, 1, 32, 1, 1, 0, stream,
                               parameters, nullptr) != cuda::CUDA_SUCCESS ||
          driver->streamSynchronize(stream) != cuda::CUDA_SUCCESS)
        fail("raw launch failed");
    double rawMicroseconds = microseconds(Clock::now() - start) / perBatch;
    start = Clock::now();
    for (int i = 0; i < perBatch; ++i) {
      auto result = instance->launch("empty", options, arguments);
      if (!result || result->outcome != LaunchResult::Outcome::Completed)
        fail("runtime launch failed");
    }
    double runtimeMicroseconds = microseconds(Clock::now() - start) / perBatch;
    if (batch >= 0) {
      raw.push_back(rawMicroseconds);
      runtime.push_back(runtimeMicroseconds);
    }
  }
  driver->memFree(buffers);
  driver->streamDestroy(stream);
  driver->moduleUnload(rawModule);
  double rawMedian = median(raw), runtimeMedian = median(runtime);
  std::printf("launch + wait, empty kernel (median of %d batches of %d)\n"
              "  raw cuLaunchKernel + cuStreamSynchronize  %8.2f us\n"
              "  Instance::launch                          %8.2f us\n"
              "  ratio                                     %8.3f\n",
              batches, perBatch, rawMedian, runtimeMedian,
              runtimeMedian / rawMedian);
  figures.add("launch_raw_us", rawMedian);
  figures.add("launch_runtime_us", runtimeMedian);
  figures.add("launch_ratio", runtimeMedian / rawMedian);
}

/// loadModule + instantiate + first launch of saxpy, in ms.
double firstLaunch(const std::string &kernelDir, const std::string &cache) {
  DeviceOptions options;
  options.allowUnsignedCode = true;
  options.kind = DeviceKind::Cuda;
  options.cubinCache = cache;
  auto device = must(Device::open(options), "open");
  Clock::time_point start = Clock::now();
  auto module = must(device->loadModuleFiles(kernelDir + "/saxpy"), "load");
  auto instance = must(module->instantiate(), "instantiate");
  LaunchOptions launch;
  launch.grid = {32};
  launch.block = {256};
  auto result = must(instance->launch("saxpy", launch,
                                      {Value::i32(8192), Value::f32(2.0f),
                                       Value::i32(0), Value::i32(32768)}),
                     "launch");
  if (result.outcome != LaunchResult::Outcome::Completed)
    fail("saxpy did not complete: " + result.trap.describe());
  return microseconds(Clock::now() - start) / 1000;
}

void instantiateToFirstLaunch(const std::string &kernelDir, Figures &figures) {
  std::vector<double> cold, warm;
  for (int round = 0; round < 7; ++round) {
    std::string cache = temporaryDirectory();
    cold.push_back(firstLaunch(kernelDir, cache));
    for (int i = 0; i < 3; ++i)
      warm.push_back(firstLaunch(kernelDir, cache));
    removeDirectory(cache);
  }
  std::printf("instantiate-to-first-launch of saxpy (loadModule + "
              "instantiate + launch; device already open)\n"
              "  cold: the driver compiles the PTX       %8.3f ms (median "
              "of %zu)\n"
              "  warm: the cubin from the cache          %8.3f ms (median "
              "of %zu)\n",
              median(cold), cold.size(), median(warm), warm.size());
  figures.add("first_launch_cold_ms", median(cold));
  figures.add("first_launch_warm_ms", median(warm));
}

void copyThroughput(const std::string &kernelDir, DeviceKind kind,
                    MemoryMode mode, const char *name, Figures &figures) {
  DeviceOptions options;
  options.allowUnsignedCode = true;
  options.kind = kind;
  options.memory = mode;
  options.cubinCache = "none";
  auto device = must(Device::open(options), "open");
  auto module = must(device->loadModuleFiles(kernelDir + "/saxpy"), "load");
  auto instance = must(module->instantiate(), "instantiate");
  const size_t bytes = size_t(64) << 20;
  must(instance->grow(bytes / 65536), "grow");
  std::vector<uint8_t> host(bytes, 0x5a);
  std::vector<double> writes, reads;
  for (int i = 0; i < 11; ++i) {
    Clock::time_point start = Clock::now();
    must(instance->write(0, host.data(), bytes), "write");
    writes.push_back(bytes / 1e3 / microseconds(Clock::now() - start));
    start = Clock::now();
    must(instance->read(0, host.data(), bytes), "read");
    reads.push_back(bytes / 1e3 / microseconds(Clock::now() - start));
  }
  std::printf("host <-> linear memory, 64 MiB, %s\n"
              "  write (host to memory)                  %8.2f GB/s\n"
              "  read  (memory to host)                  %8.2f GB/s\n",
              name, median(writes), median(reads));
  figures.add(std::string("write_") + name + "_GBps", median(writes));
  figures.add(std::string("read_") + name + "_GBps", median(reads));
}

} // namespace

int main(int argc, char **argv) {
  std::string kernelDir, jsonPath, deviceName = "cuda";
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--json" && i + 1 < argc)
      jsonPath = argv[++i];
    else if (argument == "--device" && i + 1 < argc)
      deviceName = argv[++i];
    else if (kernelDir.empty())
      kernelDir = argument;
    else
      fail("usage: twasm-bench-runtime KERNEL_DIR [--json FILE] "
           "[--device cuda|cpu]");
  }
  if (kernelDir.empty())
    fail("usage: twasm-bench-runtime KERNEL_DIR [--json FILE] "
         "[--device cuda|cpu]");
  Figures figures;
  if (deviceName == "cpu") {
    // The CPU has no driver to compare with: copy throughput only.
    copyThroughput(kernelDir + "/host", DeviceKind::Cpu, MemoryMode::Managed,
                   "cpu", figures);
  } else {
    DeviceOptions options;
    options.allowUnsignedCode = true;
    options.kind = DeviceKind::Cuda;
    options.cubinCache = "none";
    auto device = must(Device::open(options), "open");
    std::printf("device: %s\n", device->description().c_str());
    launchOverhead(kernelDir, *device, figures);
    instantiateToFirstLaunch(kernelDir, figures);
    copyThroughput(kernelDir, DeviceKind::Cuda, MemoryMode::Managed, "managed",
                   figures);
    copyThroughput(kernelDir, DeviceKind::Cuda, MemoryMode::Device, "device",
                   figures);
  }
  if (!jsonPath.empty()) {
    std::ofstream json(jsonPath);
    json << "{\n";
    for (size_t i = 0; i < figures.values.size(); ++i)
      json << "  \"" << figures.values[i].first
           << "\": " << figures.values[i].second
           << (i + 1 < figures.values.size() ? ",\n" : "\n");
    json << "}\n";
  }
  return 0;
}
