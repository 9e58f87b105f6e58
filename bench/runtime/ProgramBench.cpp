//===- ProgramBench.cpp - a launch from Wasm host code vs the C++ API -----===//
//
// twasm-bench-program KERNEL_DIR [--device cuda|cpu|mock] [--json FILE]
//
// What a kernel launch costs when a program's host code makes it through
// twasm_host (launch, then synchronize), against the same launch made
// through the C++ runtime API (Instance::launch, which waits): the empty
// kernel of bench/runtime/program_launch.wat, one thread, on the same
// device. KERNEL_DIR holds the module compiled for the host
// (program_launch.{so,json}) and for the GPU (program_launch-gpu.{ptx,json}).
// Each figure is the median of rounds of 2,000 launches, the two ways
// alternating, after a warm-up; the ratio is what issue "launch from Wasm
// <= 1.2x the C++ API" measures.
//
//===----------------------------------------------------------------------===//

#include "program/Program.h"
#include "twasm/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace tensorwasm;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRounds = 15;
constexpr int kLaunches = 2000;

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "twasm-bench-program: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "twasm-bench-program: %s\n", message.c_str());
  std::exit(1);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: twasm-bench-program KERNEL_DIR [--device "
                         "cuda|cpu|mock] [--json FILE]\n");
    return 2;
  }
  std::string directory = argv[1], jsonPath;
  DeviceKind kind = DeviceKind::Cuda;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string option = argv[i];
    if (option == "--device") {
      std::optional<DeviceKind> parsed = parseDeviceKind(argv[i + 1]);
      if (!parsed)
        fail(std::string("unknown device ") + argv[i + 1]);
      kind = *parsed;
    } else if (option == "--json") {
      jsonPath = argv[i + 1];
    } else {
      fail("unknown option " + option);
    }
  }

  // Both ways load the same compiled code; unsigned, as a benchmark's own.
  DeviceOptions deviceOptions;
  deviceOptions.kind = kind;
  deviceOptions.memory = MemoryMode::Managed;
  deviceOptions.allowUnsignedCode = true;
  Result<std::shared_ptr<Device>> device = Device::open(deviceOptions);
  if (!device)
    fail(device.error().message);
  std::fprintf(stderr, "device: %s\n", (*device)->description().c_str());
  bool onGpu = (*device)->kind() != DeviceKind::Cpu;
  std::string gpuStem = directory + "/program_launch-gpu";
  std::string apiStem = onGpu ? gpuStem : directory + "/program_launch";

  program::ProgramOptions options;
  options.args = {"program_launch"};
  options.kernelWorkers = 1;
  if (onGpu) {
    Result<std::shared_ptr<Module>> kernels =
        (*device)->loadModuleFiles(gpuStem);
    if (!kernels)
      fail(kernels.error().message);
    options.gpuKernels = *kernels;
    options.gpuName = (*device)->description();
    options.memoryCapacity = 16 << 20;
  }
  cpu::Expected<std::unique_ptr<program::Program>> program =
      program::Program::load(readFile(directory + "/program_launch.so"),
                             readFile(directory + "/program_launch.json"),
                             options);
  if (!program)
    fail(program.error().message);

  Result<std::shared_ptr<Module>> apiModule =
      (*device)->loadModuleFiles(apiStem);
  if (!apiModule)
    fail(apiModule.error().message);
  Result<std::unique_ptr<Instance>> instance = (*apiModule)->instantiate();
  if (!instance)
    fail(instance.error().message);
  LaunchOptions launch;
  const std::vector<Value> arguments = {Value::i32(0)};

  auto fromWasm = [&](int launches) {
    cpu::Expected<program::ProgramOutcome> outcome =
        (*program)->run("launch_many", {uint64_t(launches)});
    if (!outcome || outcome->kind != program::ProgramOutcome::Kind::Returned ||
        static_cast<int64_t>(outcome->results[0]) < 0)
      fail("the program's launches did not all complete");
    return double(outcome->results[0]) / launches / 1000.0;
  };
  auto fromApi = [&](int launches) {
    Clock::time_point start = Clock::now();
    for (int i = 0; i < launches; ++i) {
      Result<LaunchResult> result =
          (*instance)->launch("empty", launch, arguments);
      if (!result || result->outcome != LaunchResult::Outcome::Completed)
        fail("a launch through the API did not complete");
    }
    return std::chrono::duration<double, std::micro>(Clock::now() - start)
               .count() /
           launches;
  };

  fromWasm(200); // warm-up: module loads, first-launch costs
  fromApi(200);
  std::vector<double> wasm, api;
  for (int round = 0; round < kRounds; ++round) {
    wasm.push_back(fromWasm(kLaunches));
    api.push_back(fromApi(kLaunches));
  }
  double wasmMedian = median(wasm), apiMedian = median(api);
  double ratio = wasmMedian / apiMedian;
  std::printf("launch + wait of the empty kernel (median of %d rounds of %d "
              "launches) on %s\n"
              "  from Wasm host code (twasm_host)  %8.3f us\n"
              "  through the C++ runtime API       %8.3f us\n"
              "  ratio                             %8.3f\n",
              kRounds, kLaunches, deviceKindName((*device)->kind()), wasmMedian,
              apiMedian, ratio);
  if (!jsonPath.empty()) {
    std::ofstream json(jsonPath);
    json << "{\"device\": \"" << deviceKindName((*device)->kind())
         << "\", \"from_wasm_us\": " << wasmMedian
         << ", \"through_api_us\": " << apiMedian << ", \"ratio\": " << ratio
         << ", \"rounds\": " << kRounds << ", \"launches\": " << kLaunches
         << "}\n";
  }
  return 0;
}
