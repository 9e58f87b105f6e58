//===- Runtime.cpp - device choice and what every device shares -----------===//

#include "twasm/Runtime.h"

#include "Devices.h"
#include "cuda/CudaDriver.h"
#include "cuda/MockDriver.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace tensorwasm {

Instance::~Instance() = default;
Module::~Module() = default;
Device::~Device() = default;

Value Value::i32(int32_t value) {
  return {ValueType::I32, static_cast<uint32_t>(value)};
}
Value Value::i64(int64_t value) {
  return {ValueType::I64, static_cast<uint64_t>(value)};
}
Value Value::f32(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return {ValueType::F32, bits};
}
Value Value::f64(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return {ValueType::F64, bits};
}

// The public value types are the first four of the runtime's own.
static_assert(int(ValueType::I32) == int(cpu::ValueType::I32) &&
              int(ValueType::I64) == int(cpu::ValueType::I64) &&
              int(ValueType::F32) == int(cpu::ValueType::F32) &&
              int(ValueType::F64) == int(cpu::ValueType::F64));

const char *valueTypeName(ValueType type) {
  return cpu::valueTypeName(static_cast<cpu::ValueType>(type));
}

static std::string dimensions(const Dim3 &dim) {
  return "(" + std::to_string(dim.x) + ", " + std::to_string(dim.y) + ", " +
         std::to_string(dim.z) + ")";
}

std::string Trap::describe() const {
  std::ostringstream text;
  text << abi::trapMessage(code) << " in function " << function
       << " at offset 0x" << std::hex << offset << std::dec << ", block "
       << dimensions(block) << ", thread " << dimensions(thread);
  return text.str();
}

const KernelInfo *Module::findKernel(std::string_view name) const {
  for (const KernelInfo &kernel : kernels())
    if (kernel.name == name)
      return &kernel;
  return nullptr;
}

namespace runtime {

static std::optional<ValueType> publicType(cpu::ValueType type) {
  if (type == cpu::ValueType::FuncRef || type == cpu::ValueType::ExternRef)
    return std::nullopt;
  return static_cast<ValueType>(type);
}

Result<std::vector<KernelInfo>>
describeKernels(const cpu::ModuleDescription &description) {
  std::vector<KernelInfo> kernels;
  for (const cpu::ModuleDescription::Kernel &kernel : description.kernels) {
    KernelInfo info;
    info.name = kernel.name;
    for (cpu::ValueType type : kernel.params) {
      std::optional<ValueType> converted = publicType(type);
      if (!converted)
        return Error{ErrorCode::InvalidModule,
                     "kernel '" + kernel.name +
                         "' has a reference-typed parameter"};
      info.params.push_back(*converted);
    }
    if (kernel.block)
      info.block =
          Dim3{(*kernel.block)[0], (*kernel.block)[1], (*kernel.block)[2]};
    info.sharedBytes = kernel.sharedBytes;
    kernels.push_back(std::move(info));
  }
  return kernels;
}

/// The kernel's parameters, "(i32, f32, i32)".
static std::string parameterList(const std::vector<ValueType> &params) {
  std::string text = "(";
  for (size_t i = 0; i < params.size(); ++i)
    text += (i ? ", " : "") + std::string(valueTypeName(params[i]));
  return text + ")";
}

Result<const KernelInfo *> findLaunchedKernel(const Module &module,
                                              std::string_view name,
                                              const std::vector<Value> &args) {
  const KernelInfo *info = module.findKernel(name);
  if (!info) {
    std::string known;
    for (const KernelInfo &candidate : module.kernels())
      known += (known.empty() ? "" : ", ") + candidate.name;
    return Error{ErrorCode::InvalidArgument,
                 "no kernel '" + std::string(name) + "' in the module" +
                     (known.empty() ? " (it has none)"
                                    : " (its kernels: " + known + ")")};
  }
  bool matches = args.size() == info->params.size();
  for (size_t i = 0; matches && i < args.size(); ++i)
    matches = args[i].type == info->params[i];
  if (!matches) {
    std::vector<ValueType> given;
    for (const Value &argument : args)
      given.push_back(argument.type);
    return Error{ErrorCode::InvalidArgument,
                 "kernel '" + info->name + "' takes " +
                     parameterList(info->params) + ", given " +
                     parameterList(given)};
  }
  return info;
}

Status checkMemoryRange(bool hasMemory, uint64_t size, uint64_t address,
                        uint64_t bytes, const char *what) {
  if (!hasMemory)
    return Error{ErrorCode::InvalidArgument,
                 std::string("cannot ") + what +
                     ": the module has no linear memory"};
  if (address > size || bytes > size - address)
    return Error{ErrorCode::InvalidArgument,
                 std::string("cannot ") + what + " " + std::to_string(bytes) +
                     " bytes at address " + std::to_string(address) +
                     ": linear memory has " + std::to_string(size) + " bytes"};
  return {};
}

uint64_t threadCount(const LaunchOptions &options) {
  return uint64_t(options.grid.x) * options.grid.y * options.grid.z *
         options.block.x * options.block.y * options.block.z;
}

} // namespace runtime

const char *deviceKindName(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::Auto:
    return "auto";
  case DeviceKind::Cuda:
    return "cuda";
  case DeviceKind::Cpu:
    return "cpu";
  case DeviceKind::Mock:
    return "mock";
  }
  return "?";
}

std::optional<DeviceKind> parseDeviceKind(std::string_view name) {
  for (DeviceKind kind :
       {DeviceKind::Auto, DeviceKind::Cuda, DeviceKind::Cpu, DeviceKind::Mock})
    if (name == deviceKindName(kind))
      return kind;
  return std::nullopt;
}

/// The CUDA driver, if it is installed and sees a GPU; otherwise why not.
static std::unique_ptr<cuda::Driver> findGpu(std::string &why) {
  std::string error;
  std::unique_ptr<cuda::Driver> driver = cuda::Driver::load(error);
  if (!driver) {
    why = "no CUDA driver (" + error + ")";
    return nullptr;
  }
  if (cuda::CUresult result = driver->init(0); result != cuda::CUDA_SUCCESS) {
    why = "the CUDA driver does not start (" + driver->describe(result) + ")";
    return nullptr;
  }
  int count = 0;
  if (cuda::CUresult result = driver->deviceGetCount(&count);
      result != cuda::CUDA_SUCCESS || count == 0) {
    why = "the CUDA driver sees no GPU";
    return nullptr;
  }
  why = "the CUDA driver sees " + std::to_string(count) + " GPU" +
        (count == 1 ? "" : "s");
  return driver;
}

Result<std::shared_ptr<Device>> Device::open(const DeviceOptions &options) {
  switch (options.kind) {
  case DeviceKind::Cpu:
    return runtime::openCpuDevice(options, "cpu");
  case DeviceKind::Mock:
    return runtime::openCudaDevice(options, cuda::mock::load(),
                                   DeviceKind::Mock, "mock");
  case DeviceKind::Cuda: {
    std::string why;
    std::unique_ptr<cuda::Driver> driver = findGpu(why);
    if (!driver)
      return Error{ErrorCode::DeviceFailure,
                   "cannot open the cuda device: " + why +
                       "; use --device cpu (or auto)"};
    return runtime::openCudaDevice(options, std::move(driver), DeviceKind::Cuda,
                                   "cuda");
  }
  case DeviceKind::Auto: {
    std::string why;
    if (std::unique_ptr<cuda::Driver> driver = findGpu(why)) {
      auto gpu = runtime::openCudaDevice(options, std::move(driver),
                                         DeviceKind::Cuda, "auto: " + why);
      if (gpu)
        return gpu;
      why += ", but opening it failed (" + gpu.error().message + ")";
    }
    return runtime::openCpuDevice(options,
                                  "auto: " + why + ", so the CPU runs kernels");
  }
  }
  return Error{ErrorCode::InvalidArgument, "unknown device kind"};
}

static std::optional<std::string> readWholeFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return std::nullopt;
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad())
    return std::nullopt;
  return contents.str();
}

Result<std::shared_ptr<Module>>
Device::loadModuleFiles(const std::string &stem) {
  std::string codePath = stem + std::string(codeExtension());
  std::string manifestPath = stem + ".json";
  std::optional<std::string> code = readWholeFile(codePath);
  if (!code)
    return Error{ErrorCode::InvalidModule,
                 "cannot read " + codePath + ": " + std::strerror(errno)};
  std::optional<std::string> manifest = readWholeFile(manifestPath);
  if (!manifest)
    return Error{ErrorCode::InvalidModule,
                 "cannot read " + manifestPath + ": " + std::strerror(errno)};
  Result<std::shared_ptr<Module>> module = loadModule(*code, *manifest);
  if (!module)
    return Error{module.error().code, codePath + ": " + module.error().message};
  return module;
}

} // namespace tensorwasm
