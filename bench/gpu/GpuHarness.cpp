//===- GpuHarness.cpp - run compiled kernels on a CUDA GPU ----------------===//

#include "GpuHarness.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace tensorwasm;
using namespace tensorwasm::bench;
using namespace tensorwasm::cuda;

std::string bench::readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw HarnessError("cannot read " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

//===----------------------------------------------------------------------===//
// Gpu
//===----------------------------------------------------------------------===//

std::unique_ptr<Gpu> Gpu::open(std::string &error) {
  std::unique_ptr<Gpu> gpu(new Gpu());
  gpu->cuda = Driver::load(error);
  if (!gpu->cuda)
    return nullptr;
  Driver &d = *gpu->cuda;
  if (CUresult r = d.init(0); r != CUDA_SUCCESS) {
    error = "cuInit failed: " + d.describe(r);
    return nullptr;
  }
  int count = 0;
  if (d.deviceGetCount(&count) != CUDA_SUCCESS || count == 0) {
    error = "the CUDA driver sees no device";
    return nullptr;
  }
  try {
    gpu->check(d.deviceGet(&gpu->device, 0), "cuDeviceGet");
    char name[256] = {};
    gpu->check(d.deviceGetName(name, sizeof(name), gpu->device),
               "cuDeviceGetName");
    gpu->name = name;
    gpu->check(d.deviceGetAttribute(&gpu->multiprocessors,
                                    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                    gpu->device),
               "cuDeviceGetAttribute");
    gpu->check(d.deviceGetAttribute(
                   &gpu->computeMajor,
                   CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, gpu->device),
               "cuDeviceGetAttribute");
    gpu->check(d.deviceGetAttribute(
                   &gpu->computeMinor,
                   CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, gpu->device),
               "cuDeviceGetAttribute");
    gpu->check(d.deviceGetAttribute(
                   &gpu->maxSharedOptIn,
                   CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                   gpu->device),
               "cuDeviceGetAttribute");
    gpu->check(d.driverGetVersion(&gpu->driverVersion), "cuDriverGetVersion");
    gpu->check(d.primaryCtxRetain(&gpu->context, gpu->device),
               "cuDevicePrimaryCtxRetain");
    gpu->check(d.ctxSetCurrent(gpu->context), "cuCtxSetCurrent");
    gpu->check(d.streamCreate(&gpu->stream, CU_STREAM_NON_BLOCKING),
               "cuStreamCreate");
    gpu->check(d.streamCreate(&gpu->sideStream, CU_STREAM_NON_BLOCKING),
               "cuStreamCreate");
    gpu->check(d.eventCreate(&gpu->start, CU_EVENT_DEFAULT), "cuEventCreate");
    gpu->check(d.eventCreate(&gpu->stop, CU_EVENT_DEFAULT), "cuEventCreate");
  } catch (const HarnessError &e) {
    error = e.what();
    return nullptr;
  }
  return gpu;
}

Gpu::~Gpu() {
  if (!cuda)
    return;
  if (start)
    cuda->eventDestroy(start);
  if (stop)
    cuda->eventDestroy(stop);
  if (stream)
    cuda->streamDestroy(stream);
  if (sideStream)
    cuda->streamDestroy(sideStream);
  if (context)
    cuda->primaryCtxRelease(device);
}

void Gpu::check(CUresult result, const char *what) const {
  if (result != CUDA_SUCCESS)
    throw HarnessError(std::string(what) +
                       " failed: " + cuda->describe(result));
}

CUdeviceptr Gpu::allocate(size_t bytes) {
  size_t free = 0, total = 0;
  check(cuda->memGetInfo(&free, &total), "cuMemGetInfo");
  // Leave headroom rather than push the device to its last byte.
  if (bytes + (size_t(256) << 20) > free)
    throw HarnessError("refusing to allocate " + std::to_string(bytes) +
                       " bytes: only " + std::to_string(free) +
                       " are free on the device");
  CUdeviceptr pointer = 0;
  check(cuda->memAlloc(&pointer, bytes), "cuMemAlloc");
  return pointer;
}

void Gpu::release(CUdeviceptr pointer) {
  if (pointer)
    cuda->memFree(pointer);
}

void Gpu::upload(CUdeviceptr to, const void *from, size_t bytes) {
  check(cuda->memcpyHtoD(to, from, bytes), "cuMemcpyHtoD");
}

void Gpu::download(void *to, CUdeviceptr from, size_t bytes) {
  check(cuda->memcpyDtoH(to, from, bytes), "cuMemcpyDtoH");
}

void Gpu::synchronize() {
  check(cuda->streamSynchronize(stream), "cuStreamSynchronize");
}

double Gpu::medianMs(const std::function<void()> &launch, int repetitions,
                     int warmup) {
  for (int i = 0; i < warmup; ++i)
    launch();
  synchronize();
  std::vector<double> times;
  for (int i = 0; i < repetitions; ++i) {
    check(cuda->eventRecord(start, stream), "cuEventRecord");
    launch();
    check(cuda->eventRecord(stop, stream), "cuEventRecord");
    check(cuda->eventSynchronize(stop), "cuEventSynchronize");
    float ms = 0;
    check(cuda->eventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  return n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
}

//===----------------------------------------------------------------------===//
// DeviceModule
//===----------------------------------------------------------------------===//

DeviceModule::DeviceModule(Gpu &gpu, const std::string &path) : gpu(gpu) {
  std::string image = readFile(path);
  image.push_back('\0'); // PTX is loaded as a C string
  char errorLog[8192] = {};
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {errorLog, reinterpret_cast<void *>(sizeof(errorLog))};
  CUresult result =
      gpu.driver().moduleLoadDataEx(&module, image.data(), 2, options, values);
  if (result != CUDA_SUCCESS)
    throw HarnessError("cannot load " + path + ": " +
                       gpu.driver().describe(result) + "\n" + errorLog);
}

DeviceModule::~DeviceModule() {
  if (module)
    gpu.driver().moduleUnload(module);
}

CUfunction DeviceModule::function(const std::string &name) {
  CUfunction function = nullptr;
  gpu.check(gpu.driver().moduleGetFunction(&function, module, name.c_str()),
            ("cuModuleGetFunction(" + name + ")").c_str());
  return function;
}

//===----------------------------------------------------------------------===//
// WasmInstance
//===----------------------------------------------------------------------===//

Arg Arg::f32(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  return {Type::F32, bits};
}

Arg Arg::f64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  return {Type::F64, bits};
}

WasmInstance::WasmInstance(Gpu &gpu, const std::string &stem,
                           uint64_t extraBytes)
    : WasmInstance(gpu, stem + ".ptx", stem + ".json", extraBytes) {}

WasmInstance::WasmInstance(Gpu &gpu, const std::string &ptxPath,
                           const std::string &manifestPath, uint64_t extraBytes)
    : gpu(gpu) {
  module = std::make_unique<DeviceModule>(gpu, ptxPath);
  instantiate(manifestPath, extraBytes);
}

WasmInstance::~WasmInstance() {
  gpu.release(memory);
  gpu.release(state);
  gpu.release(globals);
}

/// The bits of a manifest constant expression that is a literal.
static uint64_t constantBits(const nlohmann::json &init) {
  if (init.contains("i32"))
    return static_cast<uint32_t>(init["i32"].get<int64_t>());
  if (init.contains("i64"))
    return std::stoull(init["i64"].get<std::string>());
  if (init.contains("f32_bits"))
    return init["f32_bits"].get<uint64_t>();
  if (init.contains("f64_bits"))
    return std::stoull(init["f64_bits"].get<std::string>());
  if (init.contains("ref"))
    return init["ref"].get<uint64_t>();
  throw HarnessError("the harness supports only literal initialisers, not " +
                     init.dump());
}

void WasmInstance::instantiate(const std::string &manifestPath,
                               uint64_t extraBytes) {
  nlohmann::json manifest = nlohmann::json::parse(readFile(manifestPath));
  if (manifest["format"] != "tensorwasm-kernel-manifest" ||
      manifest["abi"] != abi::kVersion)
    throw HarnessError(manifestPath + " is not a version " +
                       std::to_string(abi::kVersion) + " kernel manifest");

  uint64_t initialBytes = 0;
  if (!manifest["memory"].is_null())
    initialBytes =
        manifest["memory"]["min_pages"].get<uint64_t>() * abi::kPageBytes;
  nextFree = initialBytes;
  memorySize = (initialBytes + extraBytes + abi::kPageBytes - 1) /
               abi::kPageBytes * abi::kPageBytes;
  if (memorySize > (uint64_t(1) << 32))
    throw HarnessError("linear memory cannot exceed 4 GiB");
  if (memorySize) {
    memory = gpu.allocate(memorySize);
    gpu.check(gpu.driver().memsetD8(memory, 0, memorySize), "cuMemsetD8");
  }
  for (const nlohmann::json &data : manifest["data"]) {
    uint64_t offset = constantBits(data["offset"]);
    std::string hex = data["hex"];
    std::vector<uint8_t> bytes(hex.size() / 2);
    for (size_t i = 0; i < bytes.size(); ++i)
      bytes[i] =
          static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    if (offset + bytes.size() > memorySize)
      throw HarnessError("a data segment lies outside linear memory");
    gpu.upload(memory + offset, bytes.data(), bytes.size());
  }

  globalsSize = manifest["globals_bytes"].get<uint64_t>();
  std::vector<uint8_t> block(globalsSize, 0);
  for (const nlohmann::json &global : manifest["globals"]) {
    if (!global["import"].is_null())
      throw HarnessError("the harness cannot supply imported globals");
    uint64_t bits = constantBits(global["init"]);
    std::memcpy(block.data() + global["offset"].get<uint64_t>(), &bits, 8);
  }
  for (const nlohmann::json &table : manifest["tables"]) {
    uint64_t offset = table["offset"].get<uint64_t>();
    uint32_t size = table["size"].get<uint32_t>();
    std::memcpy(block.data() + offset, &size, 4);
    for (const nlohmann::json &segment : table["segments"]) {
      uint64_t start = constantBits(segment["offset"]);
      const nlohmann::json &entries = segment["entries"];
      if (start + entries.size() > size)
        throw HarnessError("an element segment lies outside its table");
      for (size_t i = 0; i < entries.size(); ++i) {
        uint32_t entry = entries[i].get<uint32_t>();
        std::memcpy(block.data() + offset + 4 * (1 + start + i), &entry, 4);
      }
    }
  }
  globals = gpu.allocate(globalsSize);
  gpu.upload(globals, block.data(), block.size());

  state = gpu.allocate(sizeof(abi::TrapRecord) + abi::kControlBytes);
  clearTrap();

  for (const nlohmann::json &kernel : manifest["kernels"]) {
    KernelInfo info;
    info.entry = kernel["entry"];
    for (const nlohmann::json &param : kernel["params"])
      info.params.push_back(param);
    if (kernel.contains("shape")) {
      const nlohmann::json &shape = kernel["shape"];
      info.hasShape = true;
      info.block = {shape["block"][0], shape["block"][1], shape["block"][2]};
      info.sharedBytes = shape["shared_bytes"];
    }
    kernels[kernel["export"]] = info;
  }
}

uint32_t WasmInstance::reserve(uint64_t bytes, uint64_t alignment) {
  uint64_t address = (nextFree + alignment - 1) / alignment * alignment;
  if (address + bytes > memorySize)
    throw HarnessError("linear memory is full: " + std::to_string(bytes) +
                       " more bytes do not fit");
  nextFree = address + bytes;
  return static_cast<uint32_t>(address);
}

void WasmInstance::write(uint32_t address, const void *data, size_t bytes) {
  if (address + uint64_t(bytes) > memorySize)
    throw HarnessError("write outside linear memory");
  gpu.upload(memory + address, data, bytes);
}

void WasmInstance::read(uint32_t address, void *data, size_t bytes) {
  if (address + uint64_t(bytes) > memorySize)
    throw HarnessError("read outside linear memory");
  gpu.download(data, memory + address, bytes);
}

void WasmInstance::zero(uint32_t address, size_t bytes) {
  if (address + uint64_t(bytes) > memorySize)
    throw HarnessError("zeroing outside linear memory");
  gpu.check(gpu.driver().memsetD8Async(memory + address, 0, bytes, gpu.stream),
            "cuMemsetD8Async");
}

const KernelInfo &WasmInstance::kernel(const std::string &exportName) const {
  auto it = kernels.find(exportName);
  if (it == kernels.end())
    throw HarnessError("the module has no kernel \"" + exportName + "\"");
  return it->second;
}

void WasmInstance::launch(const std::string &exportName, Dim3 grid, Dim3 block,
                          const std::vector<Arg> &args, int sharedBytes) {
  const KernelInfo &info = kernel(exportName);
  launchFunction(module->function(info.entry), info, grid, block, args,
                 sharedBytes);
}

void WasmInstance::launchVariant(DeviceModule &variant,
                                 const std::string &exportName, Dim3 grid,
                                 Dim3 block, const std::vector<Arg> &args,
                                 int sharedBytes) {
  const KernelInfo &info = kernel(exportName);
  launchFunction(variant.function(info.entry), info, grid, block, args,
                 sharedBytes);
}

void WasmInstance::launchFunction(CUfunction function, const KernelInfo &info,
                                  Dim3 grid, Dim3 block,
                                  const std::vector<Arg> &args,
                                  int sharedBytes) {
  if (args.size() != info.params.size())
    throw HarnessError("the kernel takes " +
                       std::to_string(info.params.size()) + " arguments, not " +
                       std::to_string(args.size()));
  static const char *typeNames[] = {"i32", "i64", "f32", "f64"};
  for (size_t i = 0; i < args.size(); ++i)
    if (info.params[i] != typeNames[static_cast<int>(args[i].type)])
      throw HarnessError("argument " + std::to_string(i) + " is a " +
                         typeNames[static_cast<int>(args[i].type)] +
                         ", the kernel wants a " + info.params[i]);
  if (info.hasShape) {
    if (block.x != info.block.x || block.y != info.block.y ||
        block.z != info.block.z)
      throw HarnessError("the kernel's declared block shape is " +
                         std::to_string(info.block.x) + "x" +
                         std::to_string(info.block.y) + "x" +
                         std::to_string(info.block.z));
    if (sharedBytes < 0)
      sharedBytes = static_cast<int>(info.sharedBytes);
    if (static_cast<unsigned>(sharedBytes) < info.sharedBytes)
      throw HarnessError("the kernel needs its declared shared scratch");
  }
  if (sharedBytes < 0)
    sharedBytes = 0;
  if (sharedBytes > 48 * 1024)
    gpu.check(gpu.driver().funcSetAttribute(
                  function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                  sharedBytes),
              "cuFuncSetAttribute");

  CUdeviceptr trapRecord = state;
  CUdeviceptr controlWord = state + sizeof(abi::TrapRecord);
  std::vector<uint64_t> storage = {memory, memorySize, trapRecord, controlWord,
                                   globals};
  for (const Arg &arg : args)
    storage.push_back(arg.bits);
  // Each parameter is passed by address; a 4-byte one reads the low half of
  // its little-endian slot.
  std::vector<void *> parameters;
  for (uint64_t &value : storage)
    parameters.push_back(&value);
  gpu.check(gpu.driver().launchKernel(function, grid.x, grid.y, grid.z, block.x,
                                      block.y, block.z,
                                      static_cast<unsigned>(sharedBytes),
                                      gpu.stream, parameters.data(), nullptr),
            "cuLaunchKernel");
}

abi::TrapRecord WasmInstance::trapRecord() {
  gpu.synchronize();
  abi::TrapRecord record;
  gpu.download(&record, state, sizeof(record));
  return record;
}

void WasmInstance::clearTrap() {
  gpu.check(gpu.driver().memsetD8(state, 0,
                                  sizeof(abi::TrapRecord) + abi::kControlBytes),
            "cuMemsetD8");
}

void WasmInstance::setControlWord(uint32_t value) {
  controlValue = value;
  gpu.check(gpu.driver().memcpyHtoDAsync(state + sizeof(abi::TrapRecord),
                                         &controlValue, 4, gpu.sideStream),
            "cuMemcpyHtoDAsync");
  gpu.check(gpu.driver().streamSynchronize(gpu.sideStream),
            "cuStreamSynchronize");
}
