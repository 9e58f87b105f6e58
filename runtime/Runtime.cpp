//===- Runtime.cpp - device choice and what every device shares -----------===//

#include "twasm/Runtime.h"

#include "CpuDevice.h"
#include "cuda/CudaDriver.h"

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

const char *valueTypeName(ValueType type) {
  switch (type) {
  case ValueType::I32:
    return "i32";
  case ValueType::I64:
    return "i64";
  case ValueType::F32:
    return "f32";
  case ValueType::F64:
    return "f64";
  }
  return "?";
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

/// Whether a CUDA driver is installed and sees a device, and if not why.
static std::string findGpu(bool &found) {
  found = false;
  std::string error;
  std::unique_ptr<cuda::Driver> driver = cuda::Driver::load(error);
  if (!driver)
    return "no CUDA driver (" + error + ")";
  if (cuda::CUresult result = driver->init(0); result != cuda::CUDA_SUCCESS)
    return "the CUDA driver does not start (" + driver->describe(result) + ")";
  int count = 0;
  if (cuda::CUresult result = driver->deviceGetCount(&count);
      result != cuda::CUDA_SUCCESS || count == 0)
    return "the CUDA driver sees no device";
  found = true;
  return "the CUDA driver sees " + std::to_string(count) + " device" +
         (count == 1 ? "" : "s");
}

Result<std::shared_ptr<Device>> Device::open(const DeviceOptions &options) {
  switch (options.kind) {
  case DeviceKind::Cpu:
    return runtime::openCpuDevice(options, "cpu");
  case DeviceKind::Cuda:
  case DeviceKind::Mock:
    return Error{ErrorCode::Unsupported,
                 std::string("the ") + deviceKindName(options.kind) +
                     " device is not built yet; use --device cpu (or auto)"};
  case DeviceKind::Auto: {
    bool gpu = false;
    std::string why = findGpu(gpu);
    std::string reason =
        gpu ? "auto: " + why +
                  ", but the cuda device is not built yet, so the CPU runs "
                  "the kernels"
            : "auto: " + why + ", so the CPU runs the kernels";
    return runtime::openCpuDevice(options, reason);
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
