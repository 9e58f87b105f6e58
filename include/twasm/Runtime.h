//===- Runtime.h - the runtime's public API -------------------*- C++ -*-===//
//
// What a service links in to run compiled kernels: a Device (where code
// runs), a Module (a compiled module loaded onto a device), an Instance (its
// linear memory and globals) and launches of its kernels, which end with a
// result, a typed Trap or an interruption. The library behind this header
// (TwasmRuntime) links no LLVM, MLIR or Binaryen.
//
// Errors are values: every call that can fail returns a Result, whose Error
// says what went wrong and what to do about it. No exception leaves this
// API and nothing aborts on bad input.
//
// Devices: `cuda` runs PTX (`twasm compile --target sm_90`) on an NVIDIA GPU
// through the driver API, loaded at run time; `cpu` runs the CPU backend's
// shared objects (`twasm compile --target host`) over a thread pool with the
// GPU's semantics; `mock` is the cuda device over a simulated driver that
// records calls and fails any of them on demand (for tests); `auto` is cuda
// where a driver sees a GPU, else cpu, and says which and why.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_H
#define TWASM_RUNTIME_H

#include "twasm/KernelAbi.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tensorwasm {

/// What kind of failure an Error is, for callers that react differently.
enum class ErrorCode {
  /// The caller asked for something impossible: an unknown kernel, wrong
  /// arguments, a range outside linear memory, a launch shape no device
  /// takes.
  InvalidArgument,
  /// A file or compiled module that cannot be read or is malformed.
  InvalidModule,
  /// Memory, threads or device resources ran out.
  ResourceExhausted,
  /// The device failed (a driver error, a lost context).
  DeviceFailure,
  /// A feature this build does not have yet.
  Unsupported,
  /// Code that may not run: an artifact whose signature or payload digests
  /// do not verify, signed by a key the trust policy does not allow for its
  /// name, expired, or an older version than one already accepted; or
  /// unsigned code on a device that does not allow it.
  Untrusted,
};

/// A failure: its kind and a message a user can act on.
struct Error {
  ErrorCode code;
  std::string message;
};

/// A value or an Error.
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : state(std::move(value)) {}
  Result(Error error) : state(std::move(error)) {}
  explicit operator bool() const { return state.index() == 0; }
  T &operator*() { return std::get<0>(state); }
  const T &operator*() const { return std::get<0>(state); }
  T *operator->() { return &std::get<0>(state); }
  const T *operator->() const { return &std::get<0>(state); }
  const Error &error() const { return std::get<1>(state); }

private:
  std::variant<T, Error> state;
};

/// Success, or an Error.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error error) : failure(std::move(error)) {}
  explicit operator bool() const { return !failure; }
  const Error &error() const { return *failure; }

private:
  std::optional<Error> failure;
};

/// A Wasm value: a kernel argument.
enum class ValueType : uint8_t { I32, I64, F32, F64 };
struct Value {
  ValueType type;
  /// The value's bits (floats by their bit pattern), zero-extended.
  uint64_t bits;
  static Value i32(int32_t value);
  static Value i64(int64_t value);
  static Value f32(float value);
  static Value f64(double value);
};
const char *valueTypeName(ValueType type);

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
};

/// A kernel of a loaded module, as its manifest declares it.
struct KernelInfo {
  std::string name;
  std::vector<ValueType> params;
  /// A declared launch shape: the only block size it runs in.
  std::optional<Dim3> block;
  uint32_t sharedBytes = 0;
};

struct LaunchOptions {
  Dim3 grid;
  Dim3 block;
  /// Shared scratch per block; a kernel with a declared shape gets at least
  /// its declared size.
  uint32_t sharedBytes = 0;
  /// Zero: no limit. Otherwise the launch is interrupted when it runs
  /// longer, and returns Outcome::Interrupted.
  std::chrono::nanoseconds timeout{0};
};

/// Where and why a launch trapped: the first trapping thread's record.
struct Trap {
  abi::TrapCode code = abi::TrapCode::None;
  /// The Wasm function index and the byte offset in its body.
  uint32_t function = 0;
  uint32_t offset = 0;
  Dim3 block{0, 0, 0};
  Dim3 thread{0, 0, 0};
  /// "out of bounds memory access in function 3 at offset 0x2a, block
  /// (1, 0, 0), thread (17, 0, 0)".
  std::string describe() const;
};

struct LaunchResult {
  enum class Outcome { Completed, Trapped, Interrupted };
  Outcome outcome = Outcome::Completed;
  /// Set when the outcome is Trapped.
  Trap trap;
  /// Wall time from the launch's start to its end, and the threads it ran.
  std::chrono::nanoseconds elapsed{0};
  uint64_t threads = 0;
};

class Artifact;
namespace runtime {
class InstanceState;
} // namespace runtime

/// A module instance: its linear memory and globals, and launches of its
/// kernels. Launches on one instance run one at a time; an instance may be
/// used from one thread at a time, except cancel().
class Instance {
public:
  virtual ~Instance();
  /// The linear memory's current size in bytes (0 without one).
  virtual uint64_t memoryBytes() const = 0;
  /// Copies between the host and linear memory; a range outside the memory
  /// is an InvalidArgument error and copies nothing.
  virtual Status write(uint64_t address, const void *data, size_t bytes) = 0;
  virtual Status read(uint64_t address, void *data, size_t bytes) const = 0;
  /// Grows linear memory by `pages` between launches; returns the old size
  /// in pages. Past the memory's maximum it is ResourceExhausted and
  /// nothing changes.
  virtual Result<uint32_t> grow(uint32_t pages) = 0;
  /// Launches a kernel and waits for it. An Error means nothing ran (an
  /// unknown kernel, arguments that do not match its parameters, a launch
  /// shape the device refuses); a trap or an interruption is a result.
  virtual Result<LaunchResult> launch(std::string_view kernel,
                                      const LaunchOptions &options,
                                      const std::vector<Value> &arguments) = 0;
  /// Interrupts the launch running on this instance, from any thread; it
  /// then returns Outcome::Interrupted. Without one running, it does
  /// nothing.
  virtual void cancel() = 0;
  /// Puts the instance back in the state instantiate() gives: linear
  /// memory of the module's initial size, all zero but for the data
  /// segments, globals and tables initialised, the start function run
  /// again. Nothing of what it held before survives, so an instance can
  /// serve someone else (an instance pool). On failure the instance must
  /// not be used again.
  virtual Status reset() = 0;

private:
  friend class runtime::InstanceState;
  /// The device's view of the instance, for snapshots.
  virtual runtime::InstanceState &state() = 0;
};

/// A compiled module loaded onto a device.
class Module {
public:
  virtual ~Module();
  virtual const std::vector<KernelInfo> &kernels() const = 0;
  const KernelInfo *findKernel(std::string_view name) const;
  /// A new instance: linear memory of the module's initial size with its
  /// data segments applied, globals initialised, the start function run.
  virtual Result<std::unique_ptr<Instance>> instantiate() = 0;
  /// The verified artifact the module was loaded from
  /// (Device::loadArtifact); null for code loaded with loadModule().
  const Artifact *artifact() const { return source.get(); }

private:
  friend class Device;
  // Snapshots (include/twasm/Snapshot.h) reach the device's own state
  // through these.
  friend class runtime::InstanceState;
  /// An instance of `pages` pages of zeroed memory, for a snapshot to fill:
  /// no data segment applied and no start function run.
  virtual Result<std::unique_ptr<Instance>>
  instantiateBlank(uint64_t pages) = 0;
  /// An instance whose linear memory stays at one host-addressable place
  /// of `capacityBytes` as it grows, for a program's host code to share
  /// with its kernels (runtime/program/Program.h); Unsupported where the
  /// device cannot.
  virtual Result<std::unique_ptr<Instance>>
  instantiateShared(uint64_t capacityBytes);
  std::shared_ptr<const Artifact> source;
};

enum class DeviceKind { Auto, Cuda, Cpu, Mock };
const char *deviceKindName(DeviceKind kind);
/// "auto", "cuda", "cpu" or "mock"; nullopt for anything else.
std::optional<DeviceKind> parseDeviceKind(std::string_view name);

/// Where a GPU instance's linear memory lives.
enum class MemoryMode {
  /// Unified (managed) memory, prefetched to the GPU before launches and
  /// advised to stay there; host reads and writes need no staging.
  Managed,
  /// Device memory; host reads and writes are explicit copies.
  Device,
};

struct DeviceOptions {
  DeviceKind kind = DeviceKind::Auto;
  /// CPU device: OS threads that run blocks (0: one per hardware thread).
  unsigned cpuWorkers = 0;
  /// CPU device: a launch that runs longer than this has its threads moved
  /// to the idle scheduling class for the rest of its time, so that other
  /// devices' launches (other tenants', include/twasm/Tenancy.h) run first
  /// whenever they have work. Zero: never.
  std::chrono::microseconds cpuDemoteAfter{0};
  /// cuda: the GPU's ordinal. The first cuda device of a process, opened
  /// before any other CUDA use, also asks the driver to load every kernel
  /// with its module (CUDA_MODULE_LOADING=EAGER, unless set): a kernel
  /// loaded lazily, at its first launch, may wait for every kernel running
  /// on the GPU, another tenant's endless one included (docs/tenancy.md).
  int gpuOrdinal = 0;
  /// cuda: where linear memory lives.
  MemoryMode memory = MemoryMode::Managed;
  /// cuda: run on a part of the GPU's streaming multiprocessors (a green
  /// context), so that another device's kernels, on another part, never
  /// wait for this one's: the SMs are split into disjoint groups of at
  /// least this many (rounded up to the GPU's granularity, 8 on sm_90) and
  /// the device takes group `gpuSmGroup` (modulo the number of groups).
  /// Zero: the whole GPU (its primary context). The first such device of a
  /// process, opened before any other CUDA use, also gives the process 32
  /// hardware work queues (CUDA_DEVICE_MAX_CONNECTIONS, unless set), which
  /// the groups' contexts share.
  unsigned gpuSmGroupSize = 0;
  unsigned gpuSmGroup = 0;
  /// cuda, device memory only: a cap the driver enforces on the device
  /// memory of all this device's instances together (linear memories and
  /// globals blocks). They come from a stream-ordered memory pool of this
  /// maximum size (the driver may round it up to its allocation
  /// granularity), so no accounting error in this process can take more.
  /// Zero: no cap (the pool is still used where the driver has pools).
  /// With managed memory, or a driver without memory pools, a cap is
  /// refused when the device opens.
  uint64_t gpuMemoryLimit = 0;
  /// cuda: the directory of the cubin cache (PTX compiled by the driver,
  /// keyed by the PTX's SHA-256, the driver version and the architecture).
  /// Empty: $TWASM_CACHE_DIR, else $XDG_CACHE_HOME/tensorwasm/cubin, else
  /// ~/.cache/tensorwasm/cubin. "none": no cache.
  std::string cubinCache = {};
  /// Development only: let loadModule() load compiled code that nothing has
  /// verified. The device says so on stderr when it opens. Without it, code
  /// comes from signed, verified artifacts (loadArtifact).
  bool allowUnsignedCode = false;
};

/// Where code runs.
class Device {
public:
  static Result<std::shared_ptr<Device>> open(const DeviceOptions &options);
  virtual ~Device();
  virtual DeviceKind kind() const = 0;
  /// What the device is, and for `auto` why it was chosen.
  virtual const std::string &description() const = 0;
  /// The file extension of the compiled code this device runs: ".so" on
  /// the CPU, ".ptx" on the GPU.
  virtual std::string_view codeExtension() const = 0;
  /// What to compile for it: `twasm compile --target <codeTarget()>`
  /// ("host", or the GPU's architecture such as "sm_90").
  virtual std::string codeTarget() const = 0;
  /// Loads a verified artifact's code for this device
  /// (include/twasm/Artifact.h): the code for codeTarget(), or on a GPU the
  /// newest PTX not newer than it. Its kernel manifest must declare the
  /// kernels the artifact's signed manifest lists.
  Result<std::shared_ptr<Module>> loadArtifact(const Artifact &artifact);
  /// Development only: loads compiled code and its manifest (what `twasm
  /// compile` writes), which nothing has verified. Refused (Untrusted)
  /// unless the device was opened with DeviceOptions::allowUnsignedCode.
  Result<std::shared_ptr<Module>> loadModule(std::string_view code,
                                             std::string_view manifest);
  /// loadModule() of `<stem><codeExtension()>` and `<stem>.json`.
  Result<std::shared_ptr<Module>> loadModuleFiles(const std::string &stem);
  bool allowsUnsignedCode() const { return unsignedCodeAllowed; }

protected:
  /// Loads code and its kernel manifest; the public calls have decided
  /// that it may run.
  virtual Result<std::shared_ptr<Module>>
  loadCompiled(std::string_view code, std::string_view manifest) = 0;

private:
  bool unsignedCodeAllowed = false;
};

} // namespace tensorwasm

#endif // TWASM_RUNTIME_H
