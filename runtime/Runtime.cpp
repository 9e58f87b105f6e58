//===- Runtime.cpp - device choice and what every device shares -----------===//

#include "twasm/Runtime.h"

#include "Devices.h"
#include "cuda/CudaDriver.h"
#include "cuda/MockDriver.h"
#include "support/Files.h"
#include "twasm/Artifact.h"

#include <cstdio>
#include <cstring>
#include <sstream>

namespace tensorwasm {

Instance::~Instance() = default;
Module::~Module() = default;

Result<std::unique_ptr<Instance>> Module::instantiateShared(uint64_t) {
  return Error{ErrorCode::Unsupported,
               "this device cannot share an instance's memory with host "
               "code (only a GPU with managed memory does)"};
}
runtime::InstanceState::~InstanceState() = default;
runtime::MemoryLoader::~MemoryLoader() = default;
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

static Result<std::shared_ptr<Device>>
openDevice(const DeviceOptions &options) {
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

Result<std::shared_ptr<Device>> Device::open(const DeviceOptions &options) {
  Result<std::shared_ptr<Device>> device = openDevice(options);
  if (device && options.allowUnsignedCode) {
    (*device)->unsignedCodeAllowed = true;
    std::fprintf(stderr,
                 "twasm: WARNING: the %s device loads unsigned compiled code "
                 "(DeviceOptions::allowUnsignedCode): for development only, "
                 "nothing checks where the code it runs came from\n",
                 deviceKindName((*device)->kind()));
  }
  return device;
}

Result<std::shared_ptr<Module>> Device::loadModule(std::string_view code,
                                                   std::string_view manifest) {
  if (!unsignedCodeAllowed)
    return Error{ErrorCode::Untrusted,
                 "refusing unsigned compiled code: load a signed artifact "
                 "(Device::loadArtifact, docs/artifact-format.md), or open "
                 "the device with DeviceOptions::allowUnsignedCode "
                 "(development only)"};
  return loadCompiled(code, manifest);
}

Result<std::shared_ptr<Module>> Device::loadArtifact(const Artifact &artifact) {
  const ArtifactManifest &manifest = artifact.manifest();
  std::string what =
      "'" + manifest.name + "' version " + std::to_string(manifest.version);
  std::string device = codeTarget();
  std::optional<std::string> target = artifact.targetFor(device);
  if (!target) {
    std::string targets;
    for (const PayloadEntry &entry : manifest.payloads)
      if (entry.kind == "code")
        targets += (targets.empty() ? "" : ", ") + entry.target;
    return Error{ErrorCode::InvalidModule,
                 what + " has code for " + targets + ", none of which the " +
                     deviceKindName(kind()) + " device (" + device +
                     ") runs: build it with --target " + device};
  }
  std::optional<std::string_view> code = artifact.payload("code", *target);
  std::optional<std::string_view> kernelManifest =
      artifact.payload("kernel-manifest", *target);
  Result<std::shared_ptr<Module>> module =
      loadCompiled(code.value_or(""), kernelManifest.value_or(""));
  if (!module)
    return Error{module.error().code, what + ": " + module.error().message};
  // The signed manifest lists the kernels for readers that do not load the
  // code; the loaded code must be what it says.
  const std::vector<KernelInfo> &loaded = (*module)->kernels();
  bool agrees = loaded.size() == manifest.kernels.size();
  for (size_t i = 0; agrees && i < loaded.size(); ++i)
    agrees = loaded[i].name == manifest.kernels[i].name &&
             loaded[i].params == manifest.kernels[i].params;
  if (!agrees)
    return Error{ErrorCode::InvalidModule,
                 what + ": the kernel manifest for " + *target +
                     " declares other kernels than the artifact's manifest"};
  (*module)->source = std::make_shared<const Artifact>(artifact);
  return module;
}

Result<std::shared_ptr<Module>>
Device::loadModuleFiles(const std::string &stem) {
  std::string codePath = stem + std::string(codeExtension());
  std::string manifestPath = stem + ".json";
  std::string error;
  std::optional<std::string> code = files::readFile(codePath, &error);
  if (!code)
    return Error{ErrorCode::InvalidModule, error};
  std::optional<std::string> manifest = files::readFile(manifestPath, &error);
  if (!manifest)
    return Error{ErrorCode::InvalidModule, error};
  Result<std::shared_ptr<Module>> module = loadModule(*code, *manifest);
  if (!module)
    return Error{module.error().code, codePath + ": " + module.error().message};
  return module;
}

} // namespace tensorwasm
