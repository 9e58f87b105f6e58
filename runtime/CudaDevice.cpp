//===- CudaDevice.cpp - the cuda device of the public runtime API ---------===//
//
// Where the time goes in a launch, and why this code is shaped as it is:
// a raw cuLaunchKernel + cuStreamSynchronize of an empty kernel takes a few
// microseconds, and a launch here must cost little more (issue budget:
// 1.25x). So the fast path makes exactly those two driver calls. The trap
// record lives in pinned host memory that the GPU writes through its
// mapping, so after the synchronize its code is a plain load, not a copy;
// the control word stays in device memory, where every loop of the kernel
// reads it, and is reset (a copy) only after a launch that raised it. The
// argument buffers are the instance's, reused. Managed memory is prefetched
// to the GPU once, when it is created or grown; host reads and writes are
// driver copies, so its pages never migrate back.
//
// Making and dropping instances must not wait for other tenants' kernels
// (the management gate below): device memory comes from a stream-ordered
// pool, whose allocations and frees never wait for the GPU to go idle, and
// each instance's streams, trap record and control word are taken from a
// per-GPU stock of launch slots that outlives instances, so that after the
// first instances no driver management call is made at all.
//
//===----------------------------------------------------------------------===//

#include "Devices.h"

#include "cuda/CubinCache.h"

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

namespace tensorwasm::runtime {
namespace {

using namespace cuda;
using Clock = std::chrono::steady_clock;

/// Wasm's limit on a 32-bit linear memory: 65536 pages, 4 GiB.
constexpr uint64_t kMaxPages = 65536;

/// Errors after which the context is unusable (the driver's "sticky"
/// errors): every later call fails, so the device says so once, clearly.
bool destroysContext(CUresult result) {
  switch (result) {
  case 4:   // CUDA_ERROR_DEINITIALIZED
  case 214: // CUDA_ERROR_ECC_UNCORRECTABLE
  case 700: // CUDA_ERROR_ILLEGAL_ADDRESS
  case 702: // CUDA_ERROR_LAUNCH_TIMEOUT
  case 709: // CUDA_ERROR_CONTEXT_IS_DESTROYED
  case 714: // CUDA_ERROR_HARDWARE_STACK_ERROR
  case 715: // CUDA_ERROR_ILLEGAL_INSTRUCTION
  case 716: // CUDA_ERROR_MISALIGNED_ADDRESS
  case 717: // CUDA_ERROR_INVALID_ADDRESS_SPACE
  case 718: // CUDA_ERROR_INVALID_PC
  case 719: // CUDA_ERROR_LAUNCH_FAILED
    return true;
  default:
    return false;
  }
}

class CudaInstance;

/// Interrupts launches that outlive their timeout: one thread per device,
/// started by the first launch with a timeout, waiting for the earliest
/// deadline.
class DeadlineWatch {
public:
  ~DeadlineWatch() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    if (thread.joinable())
      thread.join();
  }
  /// Interrupts `instance` at `deadline` unless unwatch() comes first.
  Status watch(CudaInstance *instance, Clock::time_point deadline);
  /// After this returns, `instance` is not interrupted by the watch.
  void unwatch(CudaInstance *instance) {
    std::unique_lock<std::mutex> lock(mutex);
    deadlines.erase(instance);
    changed.wait(lock, [&] { return interrupting != instance; });
  }

private:
  void run();
  std::mutex mutex;
  std::condition_variable changed;
  std::map<CudaInstance *, Clock::time_point> deadlines;
  /// The instance whose control word the watch is raising, outside the
  /// lock: a raise waits for a copy to the GPU, and other tenants' launches
  /// must not wait for it to watch and unwatch their own deadlines.
  CudaInstance *interrupting = nullptr;
  std::thread thread;
  bool stopping = false;
};

/// Keeps the driver's management calls (allocating and freeing memory,
/// pinned memory, streams and modules) apart from running kernels. The
/// driver makes some of them wait until the whole GPU is idle, across
/// contexts, and one that waits for an endless kernel holds the lock that
/// the deadline watch needs to raise that kernel's control word: both then
/// wait for ever (seen on an H100: one tenant making an instance while
/// another's endless kernel ran hung the GPU for every tenant). So a
/// management call waits until the launches in flight have ended (each by
/// its deadline, at the latest), and new launches wait while one is
/// pending. One gate per GPU of the process: every device on it, green
/// contexts included, shares it. Management calls may nest and run
/// together; only launches are kept apart from them.
class LaunchGate {
public:
  /// The gate of GPU `ordinal` (mock devices each have their own).
  static std::shared_ptr<LaunchGate> of(DeviceKind kind, int ordinal) {
    if (kind == DeviceKind::Mock)
      return std::make_shared<LaunchGate>();
    static std::mutex gatesMutex;
    static std::map<int, std::weak_ptr<LaunchGate>> gates;
    std::lock_guard<std::mutex> lock(gatesMutex);
    std::shared_ptr<LaunchGate> gate = gates[ordinal].lock();
    if (!gate)
      gates[ordinal] = gate = std::make_shared<LaunchGate>();
    return gate;
  }

  class Management {
  public:
    explicit Management(LaunchGate &gate) : gate(gate) {
      std::unique_lock<std::mutex> lock(gate.mutex);
      ++gate.waitingManagers;
      gate.changed.wait(lock, [&] { return gate.launches == 0; });
      --gate.waitingManagers;
      ++gate.managers;
    }
    ~Management() {
      std::lock_guard<std::mutex> lock(gate.mutex);
      if (--gate.managers == 0)
        gate.changed.notify_all();
    }
    Management(const Management &) = delete;
    Management &operator=(const Management &) = delete;

  private:
    LaunchGate &gate;
  };

  class Launch {
  public:
    explicit Launch(LaunchGate &gate) : gate(gate) {
      std::unique_lock<std::mutex> lock(gate.mutex);
      gate.changed.wait(lock, [&] {
        return gate.managers == 0 && gate.waitingManagers == 0;
      });
      ++gate.launches;
    }
    ~Launch() {
      std::lock_guard<std::mutex> lock(gate.mutex);
      if (--gate.launches == 0)
        gate.changed.notify_all();
    }
    Launch(const Launch &) = delete;
    Launch &operator=(const Launch &) = delete;

  private:
    LaunchGate &gate;
  };

private:
  std::mutex mutex;
  std::condition_variable changed;
  unsigned launches = 0, managers = 0, waitingManagers = 0;
};

/// What every object of one cuda device shares: the driver, the context and
/// what is known about the GPU.
class Gpu {
public:
  Gpu(std::unique_ptr<Driver> driver, DeviceKind kind)
      : driver(std::move(driver)), kind(kind) {}
  ~Gpu() {
    watch.reset();
    std::optional<LaunchGate::Management> managing;
    if (gate)
      managing.emplace(*gate);
    if (context) {
      driver->ctxSetCurrent(context);
      if (!lost.load()) {
        releaseStaging();
        releaseSlots();
        releaseSpares();
        if (pool)
          driver->memPoolDestroy(pool);
      }
      if (green)
        driver->greenCtxDestroy(green);
      driver->primaryCtxRelease(device);
    }
  }

  /// Makes the context current on the calling thread (services call from
  /// thread pools); refuses once the context is lost.
  Status enter() {
    if (lost.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(lostMutex);
      return Error{ErrorCode::DeviceFailure, "the GPU context was lost (" +
                                                 lostReason +
                                                 "); open the device again"};
    }
    return check(driver->ctxSetCurrent(context), "cuCtxSetCurrent");
  }

  /// Before releasing objects: whether their release can still matter
  /// (after a lost context, the context's release frees everything).
  bool enterForRelease() {
    if (lost.load(std::memory_order_acquire))
      return false;
    driver->ctxSetCurrent(context);
    return true;
  }

  Status check(CUresult result, const std::string &what) {
    if (result == CUDA_SUCCESS)
      return {};
    std::string message = what + " failed: " + driver->describe(result);
    if (destroysContext(result)) {
      std::lock_guard<std::mutex> lock(lostMutex);
      if (!lost.exchange(true))
        lostReason = message;
      return Error{ErrorCode::DeviceFailure,
                   message + "; the GPU context is lost: open the device "
                             "again"};
    }
    return Error{result == CUDA_ERROR_OUT_OF_MEMORY
                     ? ErrorCode::ResourceExhausted
                     : ErrorCode::DeviceFailure,
                 message};
  }

  /// Refuses `bytes` before the driver is asked when the GPU does not have
  /// them free.
  Status checkFree(uint64_t bytes, const char *purpose) {
    size_t free = 0, total = 0;
    if (Status status =
            check(driver->memGetInfo(&free, &total), "cuMemGetInfo");
        !status)
      return status;
    if (bytes > free)
      return Error{ErrorCode::ResourceExhausted,
                   std::string("cannot allocate ") + purpose + " of " +
                       std::to_string(bytes) + " bytes: the GPU has " +
                       std::to_string(free) + " of " + std::to_string(total) +
                       " bytes free"};
    return {};
  }

  /// `bytes` of managed or device memory, refused before the driver is
  /// asked when the GPU does not have them free.
  Result<CUdeviceptr> allocate(uint64_t bytes, bool managedMemory,
                               const char *purpose) {
    if (Status status = checkFree(bytes, purpose); !status)
      return status.error();
    CUdeviceptr pointer = 0;
    LaunchGate::Management managing(*gate);
    CUresult result =
        managedMemory
            ? driver->memAllocManaged(&pointer, bytes, CU_MEM_ATTACH_GLOBAL)
            : driver->memAlloc(&pointer, bytes);
    if (Status status =
            check(result, managedMemory ? "cuMemAllocManaged" : "cuMemAlloc");
        !status)
      return status.error();
    return pointer;
  }

  /// An instance's memory (linear memory, or its globals block, which is
  /// always device memory): from the pool in the order of `stream` where
  /// there is one, else a spare block of that size, else behind the gate.
  Result<CUdeviceptr> allocateForInstance(uint64_t bytes, bool managed,
                                          CUstream stream,
                                          const char *purpose) {
    if (!pool) {
      if (std::optional<CUdeviceptr> spare = takeSpare(bytes, managed))
        return *spare;
      return allocate(bytes, managed, purpose);
    }
    // What the pool holds and has not handed out is free for this device.
    uint64_t reserved = 0, used = 0;
    for (auto [attribute, value] :
         {std::pair{CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT, &reserved},
          std::pair{CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &used}})
      if (Status status =
              check(driver->memPoolGetAttribute(pool, attribute, value),
                    "cuMemPoolGetAttribute");
          !status)
        return status.error();
    uint64_t idle = reserved - std::min(reserved, used);
    if (bytes > idle)
      if (Status status = checkFree(bytes - idle, purpose); !status)
        return status.error();
    CUdeviceptr pointer = 0;
    CUresult result =
        driver->memAllocFromPoolAsync(&pointer, bytes, pool, stream);
    if (result == CUDA_ERROR_OUT_OF_MEMORY && memoryLimit)
      return Error{ErrorCode::ResourceExhausted,
                   std::string("cannot allocate ") + purpose + " of " +
                       std::to_string(bytes) +
                       " bytes: the device's memory is capped at " +
                       std::to_string(memoryLimit) +
                       " bytes for all its instances together "
                       "(DeviceOptions::gpuMemoryLimit)"};
    if (Status status = check(result, "cuMemAllocFromPoolAsync"); !status)
      return status.error();
    return pointer;
  }
  /// Frees what allocateForInstance() gave (`bytes` of it, managed or
  /// not), in the order of `stream`; without a pool, keeps it as a spare
  /// block where `reusable` and there is room. A reusable block has nothing
  /// queued on it any more (the caller knows: an instance waits for each
  /// piece of its work before it returns, and checks its stream before it
  /// goes).
  void freeForInstance(CUdeviceptr pointer, uint64_t bytes, bool managed,
                       bool reusable, CUstream stream) {
    if (!pointer)
      return;
    if (pool) {
      driver->memFreeAsync(pointer, stream);
      return;
    }
    if (reusable) {
      std::lock_guard<std::mutex> lock(spareMutex);
      if (spareBytes + bytes <= kSpareBytes) {
        spareBlocks.insert({{managed, bytes}, pointer});
        spareBytes += bytes;
        return;
      }
    }
    LaunchGate::Management managing(*gate);
    driver->memFree(pointer);
  }

  /// Without a pool (linear memory in managed memory, which has none),
  /// every allocation and free passes the launch gate, and so waits for
  /// every launch in flight while holding up new ones: a tenant making and
  /// freeing instances held every other tenant's launches for up to the
  /// longest launch's time (100 ms on an H100, docs/tenancy.md). So blocks
  /// that instances free are kept, by size and kind, for the next
  /// instances, up to kSpareBytes a device; each instance writes the whole
  /// of a block it takes (memory zeroed, globals copied, growth copied and
  /// zeroed) before anything reads it. Managed memory shared with a
  /// program's host code is never kept: only its used part is zeroed.
  static constexpr uint64_t kSpareBytes = uint64_t(64) << 20;
  std::optional<CUdeviceptr> takeSpare(uint64_t bytes, bool managed) {
    std::lock_guard<std::mutex> lock(spareMutex);
    auto found = spareBlocks.find({managed, bytes});
    if (found == spareBlocks.end())
      return std::nullopt;
    CUdeviceptr block = found->second;
    spareBlocks.erase(found);
    spareBytes -= bytes;
    return block;
  }
  void releaseSpares() {
    LaunchGate::Management managing(*gate);
    for (const auto &[kind, block] : spareBlocks)
      driver->memFree(block);
    spareBlocks.clear();
    spareBytes = 0;
  }
  std::multimap<std::pair<bool, uint64_t>, CUdeviceptr> spareBlocks;
  uint64_t spareBytes = 0;
  std::mutex spareMutex;

  /// What a launch of an instance needs besides its memory: a stream for
  /// its work, one for raising its control word beside a running kernel,
  /// the trap record (pinned host memory the GPU writes through its
  /// mapping) and the control word (device memory, read by every loop).
  /// Kept for the next instance when one goes: making them is management
  /// the driver may hold until the GPU is idle.
  struct LaunchSlot {
    CUstream stream = nullptr;
    CUstream controlStream = nullptr;
    abi::TrapRecord *trapRecord = nullptr;
    CUdeviceptr trapRecordOnGpu = 0;
    CUdeviceptr controlWord = 0;
  };
  /// Slots are made this many at a time: one pinned block of trap records,
  /// one device block of control words.
  static constexpr unsigned kSlotsPerBlock = 16;
  static constexpr uint64_t kControlWordBytes = abi::kControlBytes;

  Result<LaunchSlot> takeSlot() {
    {
      std::lock_guard<std::mutex> lock(slotsMutex);
      if (!freeSlots.empty()) {
        LaunchSlot slot = freeSlots.back();
        freeSlots.pop_back();
        return slot;
      }
    }
    // A new block of slots: the only management a new instance makes
    // once the stock is large enough.
    LaunchGate::Management managing(*gate);
    SlotBlock block;
    std::vector<LaunchSlot> made;
    auto fail = [&](Status status) -> Error {
      for (const LaunchSlot &slot : made)
        for (CUstream stream : {slot.stream, slot.controlStream})
          if (stream)
            driver->streamDestroy(stream);
      releaseBlock(block);
      return status.error();
    };
    void *records = nullptr;
    if (Status status =
            check(driver->memAllocHost(&records, kSlotsPerBlock *
                                                     sizeof(abi::TrapRecord)),
                  "cuMemAllocHost");
        !status)
      return fail(status);
    block.trapRecords = static_cast<abi::TrapRecord *>(records);
    std::memset(records, 0, kSlotsPerBlock * sizeof(abi::TrapRecord));
    CUdeviceptr recordsOnGpu = 0;
    if (Status status =
            check(driver->memHostGetDevicePointer(&recordsOnGpu, records, 0),
                  "cuMemHostGetDevicePointer");
        !status)
      return fail(status);
    Result<CUdeviceptr> words =
        allocate(kSlotsPerBlock * kControlWordBytes, false, "control words");
    if (!words)
      return fail(words.error());
    // Each word is zeroed on its instance's stream when it is taken.
    block.controlWords = *words;
    for (unsigned i = 0; i < kSlotsPerBlock; ++i) {
      LaunchSlot slot;
      slot.trapRecord = block.trapRecords + i;
      slot.trapRecordOnGpu = recordsOnGpu + i * sizeof(abi::TrapRecord);
      slot.controlWord = block.controlWords + i * kControlWordBytes;
      made.push_back(slot);
      for (CUstream *stream : {&made.back().stream, &made.back().controlStream})
        if (Status status =
                check(driver->streamCreate(stream, CU_STREAM_NON_BLOCKING),
                      "cuStreamCreate");
            !status)
          return fail(status);
    }
    LaunchSlot taken = made.back();
    made.pop_back();
    std::lock_guard<std::mutex> lock(slotsMutex);
    blocks.push_back(block);
    freeSlots.insert(freeSlots.end(), made.begin(), made.end());
    return taken;
  }
  void giveSlot(const LaunchSlot &slot) {
    std::lock_guard<std::mutex> lock(slotsMutex);
    freeSlots.push_back(slot);
  }

  std::unique_ptr<Driver> driver;
  DeviceKind kind;
  CUdevice device = 0;
  /// The primary context, or the green context of an SM group (which
  /// keeps the primary context retained while it lives).
  CUcontext context = nullptr;
  CUgreenCtx green = nullptr;
  std::shared_ptr<LaunchGate> gate;
  std::string arch;
  int driverVersion = 0;
  int maxSharedOptIn = 48 * 1024;
  /// Whether linear memory is managed memory.
  bool managedMemory = false;
  /// Device memory: the pool instances' memory comes from, and its cap
  /// (zero: none).
  CUmemoryPool pool = nullptr;
  uint64_t memoryLimit = 0;
  CubinCache cache;
  std::string about;
  std::optional<DeadlineWatch> watch{std::in_place};
  std::mutex watchMutex;

  /// A restoring thread's two pinned buffers, each with its stream: it
  /// fills one while the other's copy runs.
  struct Staging {
    void *buffers[2] = {nullptr, nullptr};
    CUstream streams[2] = {nullptr, nullptr};
  };
  static constexpr size_t kStagingBytes = 1 << 20;
  /// Staging sets kept between restores: pinning memory costs more than a
  /// small restore's copies.
  std::vector<Staging> stagingPool;
  std::mutex stagingMutex;

  /// `count` staging sets, from the pool or new.
  Result<std::vector<Staging>> takeStaging(unsigned count) {
    std::vector<Staging> taken;
    {
      std::lock_guard<std::mutex> lock(stagingMutex);
      while (taken.size() < count && !stagingPool.empty()) {
        taken.push_back(stagingPool.back());
        stagingPool.pop_back();
      }
    }
    std::optional<LaunchGate::Management> managing;
    if (taken.size() < count)
      managing.emplace(*gate);
    while (taken.size() < count) {
      Staging staging;
      Status made;
      for (int i = 0; i < 2 && made; ++i) {
        made = check(driver->memAllocHost(&staging.buffers[i], kStagingBytes),
                     "cuMemAllocHost");
        if (made)
          made = check(
              driver->streamCreate(&staging.streams[i], CU_STREAM_NON_BLOCKING),
              "cuStreamCreate");
      }
      if (!made) {
        // Only whole sets go back to the pool; this one is freed.
        releaseStaging(staging);
        giveStaging(std::move(taken));
        return made.error();
      }
      taken.push_back(staging);
    }
    return taken;
  }
  void giveStaging(std::vector<Staging> sets) {
    std::lock_guard<std::mutex> lock(stagingMutex);
    stagingPool.insert(stagingPool.end(), sets.begin(), sets.end());
  }
  void releaseStaging(const Staging &staging) {
    LaunchGate::Management managing(*gate);
    for (int i = 0; i < 2; ++i) {
      if (staging.streams[i])
        driver->streamDestroy(staging.streams[i]);
      if (staging.buffers[i])
        driver->memFreeHost(staging.buffers[i]);
    }
  }
  void releaseStaging() {
    for (const Staging &staging : stagingPool)
      releaseStaging(staging);
    stagingPool.clear();
  }

private:
  /// What a block of launch slots holds besides their streams.
  struct SlotBlock {
    abi::TrapRecord *trapRecords = nullptr;
    CUdeviceptr controlWords = 0;
  };
  void releaseBlock(const SlotBlock &block) {
    if (block.controlWords)
      driver->memFree(block.controlWords);
    if (block.trapRecords)
      driver->memFreeHost(block.trapRecords);
  }
  /// At the end: every instance is gone, so every slot is free.
  void releaseSlots() {
    LaunchGate::Management managing(*gate);
    for (const LaunchSlot &slot : freeSlots)
      for (CUstream stream : {slot.stream, slot.controlStream})
        driver->streamDestroy(stream);
    for (const SlotBlock &block : blocks)
      releaseBlock(block);
    freeSlots.clear();
    blocks.clear();
  }
  std::mutex slotsMutex;
  std::vector<LaunchSlot> freeSlots;
  std::vector<SlotBlock> blocks;

  std::atomic<bool> lost{false};
  std::mutex lostMutex;
  std::string lostReason;
};

/// A loaded module: the driver's module, its kernels' functions, and what
/// an instance starts from.
class CudaModule final : public Module,
                         public std::enable_shared_from_this<CudaModule> {
public:
  CudaModule(std::shared_ptr<Gpu> gpu) : gpu(std::move(gpu)) {}
  ~CudaModule() override {
    if (module && gpu->enterForRelease()) {
      LaunchGate::Management managing(*gpu->gate);
      gpu->driver->moduleUnload(module);
    }
  }

  const std::vector<KernelInfo> &kernels() const override { return kernelList; }
  Result<std::unique_ptr<Instance>> instantiate() override;
  Result<std::unique_ptr<Instance>> instantiateBlank(uint64_t pages) override;
  Result<std::unique_ptr<Instance>>
  instantiateShared(uint64_t capacityBytes) override;

  /// The function of kernel `info`, with room for `sharedBytes` of dynamic
  /// shared memory.
  Result<CUfunction> function(const KernelInfo &info, uint32_t sharedBytes) {
    size_t index = static_cast<size_t>(&info - kernelList.data());
    if (sharedBytes > 48 * 1024) {
      std::lock_guard<std::mutex> lock(sharedLimitMutex);
      if (sharedLimits[index] < sharedBytes) {
        if (Status status =
                gpu->check(gpu->driver->funcSetAttribute(
                               functions[index],
                               CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                               static_cast<int>(sharedBytes)),
                           "cuFuncSetAttribute");
            !status)
          return status.error();
        sharedLimits[index] = sharedBytes;
      }
    }
    return functions[index];
  }

  std::shared_ptr<Gpu> gpu;
  CUmodule module = nullptr;
  cpu::ModuleDescription description;
  std::vector<KernelInfo> kernelList;
  std::vector<CUfunction> functions;
  std::mutex sharedLimitMutex;
  std::vector<uint32_t> sharedLimits;
  /// The globals block as instantiation writes it.
  std::string initialGlobals;
};

class CudaInstance final : public Instance, public InstanceState {
public:
  explicit CudaInstance(std::shared_ptr<CudaModule> module)
      : module(std::move(module)), gpu(*this->module->gpu) {}

  ~CudaInstance() override {
    // Releases whatever was acquired, also after a failed instantiation.
    if (!gpu.enterForRelease())
      return; // the context is gone, and everything in it
    // Its blocks serve other instances only if nothing it queued is left
    // (a failed instantiation may leave a copy behind).
    bool idle = stream && gpu.driver->streamQuery(stream) == CUDA_SUCCESS;
    gpu.freeForInstance(memory, sharedCapacity ? maxBytes : memorySize,
                        gpu.managedMemory || sharedCapacity,
                        /*reusable=*/idle && !sharedCapacity, stream);
    gpu.freeForInstance(globals, module->initialGlobals.size(),
                        /*managed=*/false, /*reusable=*/idle, stream);
    // The frees are queued on the slot's stream, before whatever its next
    // instance queues there.
    if (stream)
      gpu.giveSlot(slot);
  }

  /// Acquires the instance's resources and applies its initial state; or
  /// for a snapshot to fill, `blankPages` pages of zeroes and no data
  /// segment. With `sharedCapacity` set, linear memory is managed memory of
  /// that many bytes from the start, which never moves (instantiateShared).
  Status create(std::optional<uint64_t> blankPages = std::nullopt);

  uint8_t *sharedMemory() override {
    return sharedCapacity ? reinterpret_cast<uint8_t *>(memory) : nullptr;
  }
  Status sharedMemoryResized(uint64_t bytes) override {
    if (!sharedCapacity || bytes > maxBytes || bytes % abi::kPageBytes)
      return Error{ErrorCode::InvalidArgument,
                   "linear memory of " + std::to_string(bytes) +
                       " bytes does not fit the shared capacity of " +
                       std::to_string(maxBytes)};
    memorySize = bytes;
    return {};
  }
  /// Set before create(): the bytes of a shared instance's memory.
  uint64_t sharedCapacity = 0;
  /// The memory size at the last prefetch of shared memory (launch()).
  uint64_t prefetchedBytes = 0;

  // InstanceState
  DeviceKind deviceKind() const override { return gpu.kind; }
  const cpu::ModuleDescription &layout() const override {
    return module->description;
  }
  Status readGlobals(std::string &block) override {
    if (Status status = gpu.enter(); !status)
      return status;
    block.resize(module->initialGlobals.size());
    return gpu.check(
        gpu.driver->memcpyDtoH(block.data(), globals, block.size()),
        "cuMemcpyDtoH");
  }
  Status writeGlobals(std::string_view block) override {
    if (block.size() != module->initialGlobals.size())
      return Error{ErrorCode::InvalidArgument,
                   "a globals block of " + std::to_string(block.size()) +
                       " bytes for one of " +
                       std::to_string(module->initialGlobals.size())};
    if (Status status = gpu.enter(); !status)
      return status;
    return copyIn(globals, block.data(), block.size());
  }
  const uint8_t *hostMemory() const override { return nullptr; }
  Result<std::unique_ptr<MemoryLoader>> memoryLoader(unsigned workers) override;

  uint64_t memoryBytes() const override { return memorySize; }

  Status write(uint64_t address, const void *data, size_t bytes) override {
    if (Status status =
            checkMemoryRange(hasMemory(), memorySize, address, bytes, "write");
        !status || bytes == 0)
      return status;
    if (Status status = gpu.enter(); !status)
      return status;
    return copyIn(memory + address, data, bytes);
  }

  Status read(uint64_t address, void *data, size_t bytes) const override {
    if (Status status =
            checkMemoryRange(hasMemory(), memorySize, address, bytes, "read");
        !status || bytes == 0)
      return status;
    if (Status status = gpu.enter(); !status)
      return status;
    return gpu.check(gpu.driver->memcpyDtoH(data, memory + address, bytes),
                     "cuMemcpyDtoH");
  }

  Result<uint32_t> grow(uint32_t pages) override;
  Status reset() override;

  Result<LaunchResult> launch(std::string_view kernel,
                              const LaunchOptions &options,
                              const std::vector<Value> &arguments) override;

  void cancel() override { interrupt(); }

  /// Raises the control word of the launch in flight, if there is one.
  void interrupt() {
    std::lock_guard<std::mutex> lock(controlMutex);
    if (!launching || controlRaised)
      return;
    static const uint32_t raised = abi::kControlInterrupt;
    // A copy on the instance's second stream runs beside the launch (a
    // copy engine, not an SM, which the launch may fill); failures surface
    // in the launch's own synchronize.
    if (gpu.enter() &&
        gpu.driver->memcpyHtoDAsync(controlWord, &raised, sizeof raised,
                                    controlStream) == CUDA_SUCCESS &&
        gpu.driver->streamSynchronize(controlStream) == CUDA_SUCCESS)
      controlRaised = true;
  }

private:
  InstanceState &state() override { return *this; }
  bool hasMemory() const { return module->description.memory.has_value(); }
  /// Advises the driver to keep managed linear memory on the GPU, and moves
  /// it there.
  Status placeOnGpu();
  /// Clears the trap record and the control word after a launch that
  /// raised them: on the instance's own stream, so that nothing else on
  /// the GPU is waited for.
  Status resetControl() {
    std::memset(trapRecord, 0, sizeof(abi::TrapRecord));
    return zero(controlWord, Gpu::kControlWordBytes);
  }
  /// Writes the state instantiation gives: the control word and trap
  /// record cleared, the globals block, linear memory zeroed and (unless
  /// `blank`) the data segments; then waits.
  Status applyInitialState(bool blank);
  /// Copies host bytes in and waits: on the instance's stream, so that the
  /// copy is ordered with the stream's frees and memsets (a synchronous
  /// copy from pageable memory may still be under way when it returns, on
  /// the legacy stream, which orders nothing with this one).
  Status copyIn(CUdeviceptr to, const void *from, size_t bytes) {
    Driver &driver = *gpu.driver;
    if (Status status =
            gpu.check(driver.memcpyHtoDAsync(to, from, bytes, stream),
                      "cuMemcpyHtoDAsync");
        !status)
      return status;
    return gpu.check(driver.streamSynchronize(stream), "cuStreamSynchronize");
  }
  /// Zeroes device memory and waits: on the instance's stream, which the
  /// launches and a restore's copies (other non-blocking streams) come
  /// after; a memset on the legacy stream would not be ordered before them.
  Status zero(CUdeviceptr pointer, uint64_t bytes) {
    Driver &driver = *gpu.driver;
    if (Status status = gpu.check(
            driver.memsetD8Async(pointer, 0, bytes, stream), "cuMemsetD8Async");
        !status)
      return status;
    return gpu.check(driver.streamSynchronize(stream), "cuStreamSynchronize");
  }

  std::shared_ptr<CudaModule> module;
  Gpu &gpu;
  Gpu::LaunchSlot slot;
  // The slot's parts, by name.
  CUstream &stream = slot.stream;
  CUstream &controlStream = slot.controlStream;
  abi::TrapRecord *&trapRecord = slot.trapRecord;
  CUdeviceptr &trapRecordOnGpu = slot.trapRecordOnGpu;
  CUdeviceptr &controlWord = slot.controlWord;
  CUdeviceptr memory = 0;
  uint64_t memorySize = 0;
  uint64_t maxBytes = 0;
  CUdeviceptr globals = 0;
  std::mutex controlMutex;
  bool launching = false;
  bool controlRaised = false;
  std::vector<uint64_t> parameterSlots;
  std::vector<void *> parameterPointers;
};

Status DeadlineWatch::watch(CudaInstance *instance,
                            Clock::time_point deadline) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!thread.joinable()) {
    try {
      thread = std::thread([this] { run(); });
    } catch (const std::system_error &error) {
      return Error{ErrorCode::ResourceExhausted,
                   std::string("cannot start the timeout thread: ") +
                       error.what()};
    }
  }
  deadlines[instance] = deadline;
  changed.notify_all();
  return {};
}

void DeadlineWatch::run() {
  std::unique_lock<std::mutex> lock(mutex);
  while (!stopping) {
    if (deadlines.empty()) {
      changed.wait(lock);
      continue;
    }
    auto earliest = deadlines.begin();
    for (auto it = deadlines.begin(); it != deadlines.end(); ++it)
      if (it->second < earliest->second)
        earliest = it;
    if (Clock::now() < earliest->second) {
      changed.wait_until(lock, earliest->second);
      continue;
    }
    // Outside the lock; unwatch() of this instance waits until it is done.
    CudaInstance *instance = interrupting = earliest->first;
    deadlines.erase(earliest);
    lock.unlock();
    instance->interrupt();
    lock.lock();
    interrupting = nullptr;
    changed.notify_all();
  }
}

Status CudaInstance::create(std::optional<uint64_t> blankPages) {
  if (Status status = gpu.enter(); !status)
    return status;
  const cpu::ModuleDescription &description = module->description;
  Result<Gpu::LaunchSlot> taken = gpu.takeSlot();
  if (!taken)
    return taken.error();
  slot = *taken;

  Result<CUdeviceptr> block = gpu.allocateForInstance(
      module->initialGlobals.size(), false, stream, "the globals block");
  if (!block)
    return block.error();
  globals = *block;

  if (description.memory) {
    uint64_t maxPages = std::min<uint64_t>(
        description.memory->maxPages.value_or(kMaxPages), kMaxPages);
    maxBytes = maxPages * abi::kPageBytes;
    uint64_t pages = blankPages.value_or(description.memory->minPages);
    if (pages > maxPages || pages < description.memory->minPages)
      return Error{blankPages ? ErrorCode::InvalidArgument
                              : ErrorCode::InvalidModule,
                   "linear memory of " + std::to_string(pages) +
                       " pages: the module's memory has " +
                       std::to_string(description.memory->minPages) + " to " +
                       std::to_string(maxPages) + " pages"};
    if (sharedCapacity) {
      // The host code that shares it reads and writes it where it is, and
      // grows it in place: managed memory of the whole capacity, taken
      // now (pages are backed as they are first touched).
      if (!gpu.managedMemory)
        return Error{ErrorCode::Unsupported,
                     "a program shares its memory with its kernels through "
                     "managed memory; this device uses device memory"};
      maxBytes = std::min(maxBytes,
                          sharedCapacity / abi::kPageBytes * abi::kPageBytes);
      if (pages * abi::kPageBytes > maxBytes)
        return Error{ErrorCode::ResourceExhausted,
                     "linear memory of " + std::to_string(pages) +
                         " pages does not fit in the " +
                         std::to_string(sharedCapacity) +
                         " bytes shared with the program"};
      Result<CUdeviceptr> allocated = gpu.allocateForInstance(
          maxBytes, /*managed=*/true, stream, "shared linear memory");
      if (!allocated)
        return allocated.error();
      memory = *allocated;
      memorySize = pages * abi::kPageBytes;
    } else if (pages) {
      Result<CUdeviceptr> allocated = gpu.allocateForInstance(
          pages * abi::kPageBytes, gpu.managedMemory, stream, "linear memory");
      if (!allocated)
        return allocated.error();
      memory = *allocated;
      memorySize = pages * abi::kPageBytes;
      // Placed on the GPU before it is written: the memset then fills pages
      // the GPU already holds instead of faulting each one in.
      if (Status status = placeOnGpu(); !status)
        return status;
    }
  }
  return applyInitialState(blankPages.has_value());
}

Status CudaInstance::applyInitialState(bool blank) {
  static_assert(abi::kControlRun == 0, "a zeroed control word says 'run'");
  Driver &driver = *gpu.driver;
  const cpu::ModuleDescription &description = module->description;
  std::memset(trapRecord, 0, sizeof(abi::TrapRecord));
  if (Status status = gpu.check(
          driver.memsetD8Async(controlWord, 0, Gpu::kControlWordBytes, stream),
          "cuMemsetD8Async");
      !status)
    return status;
  if (Status status = gpu.check(
          driver.memcpyHtoDAsync(globals, module->initialGlobals.data(),
                                 module->initialGlobals.size(), stream),
          "cuMemcpyHtoDAsync");
      !status)
    return status;
  if (memorySize)
    if (Status status =
            gpu.check(driver.memsetD8Async(memory, 0, memorySize, stream),
                      "cuMemsetD8Async");
        !status)
      return status;
  for (size_t index = 0; !blank && index < description.data.size(); ++index) {
    const cpu::ModuleDescription::DataSegment &segment =
        description.data[index];
    uint64_t offset = segment.offset.bits;
    if (offset > memorySize || segment.bytes.size() > memorySize - offset)
      return Error{
          ErrorCode::InvalidModule,
          "instantiation failed: data segment " + std::to_string(index) + " (" +
              std::to_string(segment.bytes.size()) + " bytes at offset " +
              std::to_string(offset) + ") lies outside linear memory of " +
              std::to_string(memorySize) + " bytes"};
    // The module keeps the segment's bytes: the copy may finish later.
    if (!segment.bytes.empty())
      if (Status status = gpu.check(
              driver.memcpyHtoDAsync(memory + offset, segment.bytes.data(),
                                     segment.bytes.size(), stream),
              "cuMemcpyHtoDAsync");
          !status)
        return status;
  }
  return gpu.check(driver.streamSynchronize(stream), "cuStreamSynchronize");
}

Status CudaInstance::reset() {
  if (Status status = gpu.enter(); !status)
    return status;
  uint64_t initialBytes = 0;
  if (hasMemory())
    initialBytes = module->description.memory->minPages * abi::kPageBytes;
  if (sharedCapacity)
    return Error{ErrorCode::Unsupported,
                 "this instance's memory is a program's, whose host code "
                 "holds its state: it cannot be reset alone"};
  if (memorySize != initialBytes) {
    // Grown: memory of the initial size takes the grown one's place (freed
    // first: nothing in it is kept, and the peak stays at the larger one).
    gpu.freeForInstance(memory, memorySize, gpu.managedMemory,
                        /*reusable=*/true, stream);
    memory = 0;
    memorySize = 0;
    if (initialBytes) {
      Result<CUdeviceptr> allocated = gpu.allocateForInstance(
          initialBytes, gpu.managedMemory, stream, "linear memory");
      if (!allocated)
        return allocated.error();
      memory = *allocated;
    }
    memorySize = initialBytes;
    if (Status status = placeOnGpu(); !status)
      return status;
  }
  return applyInitialState(/*blank=*/false);
}

Status CudaInstance::placeOnGpu() {
  if (!gpu.managedMemory || !memory)
    return {};
  Driver &driver = *gpu.driver;
  CUmemLocation here{CU_MEM_LOCATION_TYPE_DEVICE, gpu.device};
  if (Status status = gpu.check(
          driver.memAdvise(memory, memorySize,
                           CU_MEM_ADVISE_SET_PREFERRED_LOCATION, here),
          "cuMemAdvise");
      !status)
    return status;
  if (Status status =
          gpu.check(driver.memAdvise(memory, memorySize,
                                     CU_MEM_ADVISE_SET_ACCESSED_BY, here),
                    "cuMemAdvise");
      !status)
    return status;
  return gpu.check(driver.memPrefetchAsync(memory, memorySize, here, 0, stream),
                   "cuMemPrefetchAsync");
}

Result<uint32_t> CudaInstance::grow(uint32_t pages) {
  if (!hasMemory())
    return Error{ErrorCode::InvalidArgument,
                 "the module has no linear memory to grow"};
  uint64_t oldPages = memorySize / abi::kPageBytes;
  uint64_t newSize = memorySize + uint64_t(pages) * abi::kPageBytes;
  if (newSize > maxBytes)
    return Error{ErrorCode::ResourceExhausted,
                 "cannot grow linear memory by " + std::to_string(pages) +
                     " pages: it has " + std::to_string(oldPages) +
                     " of at most " +
                     std::to_string(maxBytes / abi::kPageBytes)};
  if (pages == 0)
    return static_cast<uint32_t>(oldPages);
  if (Status status = gpu.enter(); !status)
    return status.error();
  if (sharedCapacity)
    return Error{ErrorCode::Unsupported,
                 "this instance's memory is a program's: it grows through "
                 "the program's host code (memory.grow there)"};
  // Linear memory is one allocation: a larger one takes its place, and the
  // old one is freed only once the new one holds everything.
  Result<CUdeviceptr> allocated = gpu.allocateForInstance(
      newSize, gpu.managedMemory, stream, "linear memory");
  if (!allocated)
    return allocated.error();
  Driver &driver = *gpu.driver;
  Status copied = memorySize
                      ? gpu.check(driver.memcpyDtoDAsync(*allocated, memory,
                                                         memorySize, stream),
                                  "cuMemcpyDtoDAsync")
                      : Status();
  if (copied)
    copied = zero(*allocated + memorySize, newSize - memorySize);
  if (!copied) {
    // The copy may still be queued: not a block to hand out again.
    gpu.freeForInstance(*allocated, newSize, gpu.managedMemory,
                        /*reusable=*/false, stream);
    return copied.error();
  }
  gpu.freeForInstance(memory, memorySize, gpu.managedMemory,
                      /*reusable=*/true, stream);
  memory = *allocated;
  memorySize = newSize;
  if (Status status = placeOnGpu(); !status)
    return status.error();
  return static_cast<uint32_t>(oldPages);
}

/// Whether the GPU can run a launch of this shape: what cuLaunchKernel
/// would refuse, said in the launch's terms.
Status checkShape(const KernelInfo &info, const LaunchOptions &options,
                  int maxSharedOptIn) {
  const Dim3 &grid = options.grid, &block = options.block;
  if (!grid.x || !grid.y || !grid.z || !block.x || !block.y || !block.z)
    return Error{ErrorCode::InvalidArgument,
                 "a launch's grid and block extents must be at least 1"};
  if (grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
    return Error{ErrorCode::InvalidArgument,
                 "a grid has at most 2^31-1 x 65535 x 65535 blocks"};
  if (uint64_t(block.x) * block.y * block.z > 1024 || block.z > 64)
    return Error{ErrorCode::InvalidArgument,
                 "a block has at most 1024 threads (and z at most 64)"};
  if (info.block && (info.block->x != block.x || info.block->y != block.y ||
                     info.block->z != block.z))
    return Error{ErrorCode::InvalidArgument,
                 "kernel '" + info.name + "' is declared for blocks of " +
                     std::to_string(info.block->x) + "x" +
                     std::to_string(info.block->y) + "x" +
                     std::to_string(info.block->z) + " threads"};
  if (options.sharedBytes > static_cast<uint32_t>(maxSharedOptIn))
    return Error{ErrorCode::InvalidArgument,
                 "a block has at most " + std::to_string(maxSharedOptIn) +
                     " bytes of shared memory on this GPU"};
  return {};
}

Result<LaunchResult> CudaInstance::launch(std::string_view kernel,
                                          const LaunchOptions &options,
                                          const std::vector<Value> &arguments) {
  Result<const KernelInfo *> found =
      findLaunchedKernel(*module, kernel, arguments);
  if (!found)
    return found.error();
  const KernelInfo &info = **found;
  if (Status status = checkShape(info, options, gpu.maxSharedOptIn); !status)
    return status.error();
  uint32_t sharedBytes = std::max(options.sharedBytes, info.sharedBytes);
  if (Status status = gpu.enter(); !status)
    return status.error();
  Result<CUfunction> function = module->function(info, sharedBytes);
  if (!function)
    return function.error();

  // The hidden parameters of kernel-abi.md §5, then the kernel's own; each
  // is passed by the address of its 8-byte slot (a 4-byte parameter reads
  // the slot's low half).
  static_assert(abi::kHiddenParameterCount == 5 && abi::kTrapRecord == 2 &&
                abi::kControlWord == 3 && abi::kGlobals == 4);
  parameterSlots.assign(
      {memory, memorySize, trapRecordOnGpu, controlWord, globals});
  for (const Value &argument : arguments)
    parameterSlots.push_back(argument.bits);
  parameterPointers.clear();
  for (uint64_t &slot : parameterSlots)
    parameterPointers.push_back(&slot);

  // Memory shared with host code: its pages move to the GPU in one
  // prefetch instead of a fault each, at the first launch and after the
  // host code grew it (new data, typically). Not at every launch: a
  // prefetch costs tens of microseconds even when nothing moves, and it
  // pulls back the pages the host code keeps touching (its stack, where a
  // launch's arguments are made), which then fault back to the CPU; later
  // writes by host code move to the GPU on demand.
  if (sharedCapacity && memorySize && memorySize != prefetchedBytes) {
    prefetchedBytes = memorySize;
    CUmemLocation here{CU_MEM_LOCATION_TYPE_DEVICE, gpu.device};
    if (Status status = gpu.check(
            gpu.driver->memPrefetchAsync(memory, memorySize, here, 0, stream),
            "cuMemPrefetchAsync");
        !status)
      return status.error();
  }

  // Past the gate first: a launch waiting there has not started, and its
  // deadline must not run out meanwhile.
  std::optional<LaunchGate::Launch> inFlight(std::in_place, *gpu.gate);
  {
    std::lock_guard<std::mutex> lock(controlMutex);
    launching = true;
  }
  // The deadline counts from the launch's start, so that a launch that
  // times out has run at least its timeout.
  Clock::time_point start = Clock::now();
  bool watched = options.timeout.count() > 0;
  if (watched) {
    if (Status status = gpu.watch->watch(this, start + options.timeout);
        !status) {
      std::lock_guard<std::mutex> lock(controlMutex);
      launching = false;
      return status.error();
    }
  }
  Status ran =
      gpu.check(gpu.driver->launchKernel(
                    *function, options.grid.x, options.grid.y, options.grid.z,
                    options.block.x, options.block.y, options.block.z,
                    sharedBytes, stream, parameterPointers.data(), nullptr),
                "cuLaunchKernel");
  if (ran)
    ran =
        gpu.check(gpu.driver->streamSynchronize(stream), "cuStreamSynchronize");
  inFlight.reset();
  Clock::time_point end = Clock::now();
  if (watched)
    gpu.watch->unwatch(this);
  bool raised;
  {
    std::lock_guard<std::mutex> lock(controlMutex);
    launching = false;
    raised = controlRaised;
    controlRaised = false;
  }
  abi::TrapRecord record;
  std::memcpy(&record, trapRecord, sizeof record);
  if (record.code != 0 || raised)
    if (Status status = resetControl(); !status && ran)
      ran = status;
  if (!ran)
    return ran.error();

  LaunchResult result;
  result.elapsed =
      std::chrono::duration_cast<std::chrono::nanoseconds>(end - start);
  result.threads = threadCount(options);
  if (record.code != 0) {
    auto code = static_cast<abi::TrapCode>(record.code);
    result.outcome = code == abi::TrapCode::Interrupted
                         ? LaunchResult::Outcome::Interrupted
                         : LaunchResult::Outcome::Trapped;
    result.trap.code = code;
    result.trap.function = record.function;
    result.trap.offset = record.offset;
    result.trap.block = {record.block[0], record.block[1], record.block[2]};
    result.trap.thread = {record.thread[0], record.thread[1], record.thread[2]};
  }
  return result;
}

Result<std::unique_ptr<Instance>> CudaModule::instantiate() {
  auto instance = std::make_unique<CudaInstance>(shared_from_this());
  if (Status status = instance->create(); !status)
    return status.error();
  return std::unique_ptr<Instance>(std::move(instance));
}

Result<std::unique_ptr<Instance>>
CudaModule::instantiateShared(uint64_t capacityBytes) {
  auto instance = std::make_unique<CudaInstance>(shared_from_this());
  instance->sharedCapacity = capacityBytes;
  if (Status status = instance->create(); !status)
    return status.error();
  return std::unique_ptr<Instance>(std::move(instance));
}

Result<std::unique_ptr<Instance>> CudaModule::instantiateBlank(uint64_t pages) {
  auto instance = std::make_unique<CudaInstance>(shared_from_this());
  if (Status status = instance->create(pages); !status)
    return status.error();
  return std::unique_ptr<Instance>(std::move(instance));
}

/// Restores into device or managed memory: each worker fills and checks
/// one of its two pinned buffers while the other's asynchronous copy runs,
/// so the copy engine streams at pinned speed while the workers hash.
class CudaMemoryLoader final : public MemoryLoader {
public:
  CudaMemoryLoader(Gpu &gpu, CUdeviceptr memory,
                   std::vector<Gpu::Staging> staging)
      : gpu(gpu), memory(memory), staging(std::move(staging)),
        next(this->staging.size(), 0), entered(this->staging.size(), false) {}
  ~CudaMemoryLoader() override {
    (void)finish();
    gpu.giveStaging(std::move(staging));
  }

  Result<uint8_t *> stage(unsigned worker, uint64_t, size_t bytes) override {
    if (bytes > Gpu::kStagingBytes)
      return Error{ErrorCode::InvalidArgument,
                   "a restored range of " + std::to_string(bytes) +
                       " bytes is larger than a staging buffer"};
    if (!entered[worker]) {
      if (Status status = gpu.enter(); !status)
        return status.error();
      entered[worker] = true;
    }
    Gpu::Staging &set = staging[worker];
    int slot = next[worker];
    // The buffer's last copy must have left it before it is refilled.
    if (Status status =
            gpu.check(gpu.driver->streamSynchronize(set.streams[slot]),
                      "cuStreamSynchronize");
        !status)
      return status.error();
    return static_cast<uint8_t *>(set.buffers[slot]);
  }

  Status commit(unsigned worker, uint64_t address, size_t bytes) override {
    Gpu::Staging &set = staging[worker];
    int slot = next[worker];
    next[worker] ^= 1;
    return gpu.check(gpu.driver->memcpyHtoDAsync(memory + address,
                                                 set.buffers[slot], bytes,
                                                 set.streams[slot]),
                     "cuMemcpyHtoDAsync");
  }

  Status finish() override {
    if (Status status = gpu.enter(); !status)
      return status;
    Status result;
    for (Gpu::Staging &set : staging)
      for (CUstream stream : set.streams)
        if (Status status = gpu.check(gpu.driver->streamSynchronize(stream),
                                      "cuStreamSynchronize");
            !status && result)
          result = status;
    return result;
  }

private:
  Gpu &gpu;
  CUdeviceptr memory;
  std::vector<Gpu::Staging> staging;
  // One element per worker, each touched by its worker alone (so not
  // vector<bool>, whose elements share words).
  std::vector<int> next;
  std::vector<uint8_t> entered;
};

Result<std::unique_ptr<MemoryLoader>>
CudaInstance::memoryLoader(unsigned workers) {
  if (Status status = gpu.enter(); !status)
    return status.error();
  // The prefetch of managed memory that create() queued comes first.
  if (Status status = gpu.check(gpu.driver->streamSynchronize(stream),
                                "cuStreamSynchronize");
      !status)
    return status.error();
  Result<std::vector<Gpu::Staging>> staging = gpu.takeStaging(workers);
  if (!staging)
    return staging.error();
  return std::unique_ptr<MemoryLoader>(
      new CudaMemoryLoader(gpu, memory, std::move(*staging)));
}

/// Why the cuda device cannot instantiate a module, if it cannot.
std::optional<Error>
unsupportedFeature(const cpu::ModuleDescription &description) {
  auto unsupported = [](const std::string &what) {
    return Error{ErrorCode::Unsupported,
                 what + "; the cuda device does not provide that yet"};
  };
  // Imported functions are never called here: the GPU runs only kernels,
  // and the compiler refuses a kernel that can reach one (a program's
  // WASI and twasm_host imports are its host code's).
  if (description.memory && description.memory->import)
    return unsupported("the module imports its linear memory");
  for (const auto &global : description.globals)
    if (global.import)
      return unsupported("the module imports the global '" +
                         global.import->first + "." + global.import->second +
                         "'");
  for (const auto &table : description.tables)
    if (table.import)
      return unsupported("the module imports a table");
  if (description.start)
    return unsupported("the module has a start function (run it with the "
                       "cpu device)");
  return std::nullopt;
}

/// The literal value of a constant, or why it has none.
Result<uint64_t> literal(const cpu::ModuleDescription::Constant &constant) {
  using Kind = cpu::ModuleDescription::Constant::Kind;
  if (constant.kind == Kind::Literal)
    return constant.bits;
  if (constant.kind == Kind::Unsupported)
    return Error{ErrorCode::Unsupported,
                 "the module uses the constant expression '" + constant.name +
                     "', which the runtime cannot evaluate yet"};
  return Error{ErrorCode::Unsupported,
               "the module initialises from the imported global '" +
                   constant.name + "', which the runtime does not supply yet"};
}

/// The globals block at instantiation: global initialisers and tables
/// with their element segments (kernel-abi.md §5.1).
Result<std::string> initialGlobals(cpu::ModuleDescription &description) {
  std::string block(std::max<uint64_t>(description.globalsBytes, 8), '\0');
  for (const auto &global : description.globals) {
    if (!global.init)
      continue;
    Result<uint64_t> bits = literal(*global.init);
    if (!bits)
      return bits.error();
    std::memcpy(block.data() + global.offset, &*bits, 8);
  }
  for (const auto &table : description.tables) {
    std::memcpy(block.data() + table.offset, &table.size, 4);
    for (const auto &segment : table.segments) {
      Result<uint64_t> start = literal(segment.offset);
      if (!start)
        return start.error();
      if (*start > table.size || segment.entries.size() > table.size - *start)
        return Error{ErrorCode::InvalidModule,
                     "instantiation failed: an element segment lies outside "
                     "its table"};
      for (size_t i = 0; i < segment.entries.size(); ++i)
        std::memcpy(block.data() + table.offset +
                        abi::kTableEntryBytes * (1 + *start + i),
                    &segment.entries[i], 4);
    }
  }
  for (const auto &segment : description.data)
    if (Result<uint64_t> offset = literal(segment.offset); !offset)
      return offset.error();
  return block;
}

/// The sm number of "sm_90" (90), or 0.
int smNumber(const std::string &arch) {
  if (arch.rfind("sm_", 0) != 0)
    return 0;
  int number = 0;
  for (char c : arch.substr(3)) {
    if (c < '0' || c > '9')
      break;
    number = number * 10 + (c - '0');
  }
  return number;
}

class CudaDevice final : public Device {
public:
  explicit CudaDevice(std::shared_ptr<Gpu> gpu) : gpu(std::move(gpu)) {}

  DeviceKind kind() const override { return gpu->kind; }
  const std::string &description() const override { return gpu->about; }
  std::string_view codeExtension() const override { return ".ptx"; }
  std::string codeTarget() const override { return gpu->arch; }

protected:
  Result<std::shared_ptr<Module>>
  loadCompiled(std::string_view code, std::string_view manifest) override;

private:
  /// The module's cubin: from the cache, else compiled by the driver from
  /// the PTX (and then cached).
  Result<CUmodule> loadCode(std::string_view ptx);
  std::shared_ptr<Gpu> gpu;
};

Result<CUmodule> CudaDevice::loadCode(std::string_view ptx) {
  Driver &driver = *gpu->driver;
  LaunchGate::Management managing(*gpu->gate);
  std::string key = CubinCache::key(ptx, gpu->driverVersion, gpu->arch);
  CUmodule module = nullptr;
  if (std::optional<std::string> cubin = gpu->cache.find(key))
    if (driver.moduleLoadDataEx(&module, cubin->data(), 0, nullptr, nullptr) ==
        CUDA_SUCCESS)
      return module;

  // The PTX as a C string, as the JIT reads it.
  std::string text(ptx);
  text.push_back('\0');
  char errorLog[8192] = {};
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {errorLog, reinterpret_cast<void *>(sizeof errorLog - 1)};
  CUlinkState link = nullptr;
  if (Status status = gpu->check(driver.linkCreate(2, options, values, &link),
                                 "cuLinkCreate");
      !status)
    return status.error();
  void *image = nullptr;
  size_t imageBytes = 0;
  CUresult result =
      driver.linkAddData(link, CU_JIT_INPUT_PTX, text.data(), text.size(),
                         "module.ptx", 0, nullptr, nullptr);
  const char *stage = "cuLinkAddData";
  if (result == CUDA_SUCCESS) {
    result = driver.linkComplete(link, &image, &imageBytes);
    stage = "cuLinkComplete";
  }
  if (result == CUDA_SUCCESS) {
    gpu->cache.store(key,
                     std::string_view(static_cast<char *>(image), imageBytes));
    result = driver.moduleLoadDataEx(&module, image, 0, nullptr, nullptr);
    stage = "cuModuleLoadDataEx";
  }
  driver.linkDestroy(link);
  if (result == CUDA_SUCCESS)
    return module;
  Status status = gpu->check(result, stage);
  Error error = status.error();
  // What the driver says of code it cannot take: the module is at fault.
  if (result == CUDA_ERROR_INVALID_PTX || result == 200 /*INVALID_IMAGE*/ ||
      result == 209 /*NO_BINARY_FOR_GPU*/ ||
      result == 222 /*UNSUPPORTED_PTX_VERSION*/)
    error.code = ErrorCode::InvalidModule;
  if (errorLog[0])
    error.message += "\n" + std::string(errorLog);
  return error;
}

Result<std::shared_ptr<Module>>
CudaDevice::loadCompiled(std::string_view code, std::string_view manifest) {
  auto description = cpu::ModuleDescription::parse(
      manifest, cpu::ModuleDescription::Target::Ptx);
  if (!description)
    return Error{ErrorCode::InvalidModule,
                 "bad manifest: " + description.error().message};
  if (std::optional<Error> unsupported = unsupportedFeature(*description))
    return *unsupported;
  int needed = smNumber(description->chip), have = smNumber(gpu->arch);
  if (needed == 0 || needed > have)
    return Error{ErrorCode::InvalidModule,
                 "the PTX was compiled for " + description->chip +
                     ", this GPU is " + gpu->arch + ": compile with --target " +
                     gpu->arch};
  Result<std::vector<KernelInfo>> kernels = describeKernels(*description);
  if (!kernels)
    return kernels.error();
  Result<std::string> globals = initialGlobals(*description);
  if (!globals)
    return globals.error();
  if (Status status = gpu->enter(); !status)
    return status.error();

  auto module = std::make_shared<CudaModule>(gpu);
  Result<CUmodule> loaded = loadCode(code);
  if (!loaded)
    return loaded.error();
  module->module = *loaded;
  module->description = std::move(*description);
  module->kernelList = std::move(*kernels);
  module->initialGlobals = std::move(*globals);
  // Behind the gate, as the module's loading: with lazy loading (the
  // driver's default since CUDA 12.2, unless openCudaDevice's EAGER took
  // effect) the driver loads a kernel here, and loading one may wait for
  // the kernels running on the GPU; while it waits, an endless kernel of
  // another tenant may not be interrupted (its control word's copy waits
  // for the load), and every tenant hangs.
  LaunchGate::Management managing(*gpu->gate);
  for (const auto &kernel : module->description.kernels) {
    CUfunction function = nullptr;
    CUresult result = gpu->driver->moduleGetFunction(&function, module->module,
                                                     kernel.entry.c_str());
    if (Status status =
            gpu->check(result, "cuModuleGetFunction(" + kernel.entry + ")");
        !status) {
      Error error = status.error();
      if (result == CUDA_ERROR_NOT_FOUND)
        error = {ErrorCode::InvalidModule,
                 "the PTX has no entry '" + kernel.entry +
                     "' that the manifest names for kernel '" + kernel.name +
                     "'"};
      return error;
    }
    module->functions.push_back(function);
  }
  module->sharedLimits.assign(module->functions.size(), 48 * 1024);
  return std::shared_ptr<Module>(std::move(module));
}

/// Moves `gpu` from the primary context onto a green context of group
/// `group` of its SMs split into groups of at least `groupSize`; returns
/// what that is, for the device's description.
Result<std::string> enterSmGroup(Gpu &gpu, unsigned groupSize, unsigned group) {
  Driver &d = *gpu.driver;
  if (!d.deviceGetDevResource || !d.devSmResourceSplitByCount ||
      !d.devResourceGenerateDesc || !d.greenCtxCreate || !d.ctxFromGreenCtx)
    return Error{ErrorCode::Unsupported,
                 "this driver has no green contexts, so a device cannot "
                 "have a group of the GPU's SMs to itself"};
  auto fail = [&](CUresult result, const char *what) -> Error {
    return Error{result == CUDA_ERROR_OUT_OF_MEMORY
                     ? ErrorCode::ResourceExhausted
                     : ErrorCode::DeviceFailure,
                 std::string("cannot give the device a group of SMs: ") + what +
                     " failed: " + d.describe(result)};
  };
  CUdevResource all{};
  if (CUresult r =
          d.deviceGetDevResource(gpu.device, &all, CU_DEV_RESOURCE_TYPE_SM);
      r != CUDA_SUCCESS)
    return fail(r, "cuDeviceGetDevResource");
  if (groupSize > all.sm.smCount)
    return Error{ErrorCode::InvalidArgument,
                 "a group of " + std::to_string(groupSize) +
                     " SMs: the GPU has " + std::to_string(all.sm.smCount)};
  // The split is deterministic: every device that asks for groups of this
  // size gets the same disjoint groups, and takes its own.
  unsigned groups = 0;
  if (CUresult r = d.devSmResourceSplitByCount(nullptr, &groups, &all, nullptr,
                                               0, groupSize);
      r != CUDA_SUCCESS)
    return fail(r, "cuDevSmResourceSplitByCount");
  if (groups == 0)
    return Error{ErrorCode::InvalidArgument,
                 "the GPU's SMs make no group of " + std::to_string(groupSize)};
  std::vector<CUdevResource> split(groups);
  if (CUresult r = d.devSmResourceSplitByCount(split.data(), &groups, &all,
                                               nullptr, 0, groupSize);
      r != CUDA_SUCCESS)
    return fail(r, "cuDevSmResourceSplitByCount");
  unsigned chosen = group % groups;
  CUdevResourceDesc description = nullptr;
  if (CUresult r = d.devResourceGenerateDesc(&description, &split[chosen], 1);
      r != CUDA_SUCCESS)
    return fail(r, "cuDevResourceGenerateDesc");
  if (CUresult r = d.greenCtxCreate(&gpu.green, description, gpu.device,
                                    CU_GREEN_CTX_DEFAULT_STREAM);
      r != CUDA_SUCCESS)
    return fail(r, "cuGreenCtxCreate");
  CUcontext context = nullptr;
  if (CUresult r = d.ctxFromGreenCtx(&context, gpu.green); r != CUDA_SUCCESS)
    return fail(r, "cuCtxFromGreenCtx");
  if (CUresult r = d.ctxSetCurrent(context); r != CUDA_SUCCESS)
    return fail(r, "cuCtxSetCurrent");
  gpu.context = context;
  return "SM group " + std::to_string(chosen) + " of " +
         std::to_string(groups) + " (" +
         std::to_string(split[chosen].sm.smCount) + " of " +
         std::to_string(all.sm.smCount) + " SMs)";
}

} // namespace

Result<std::shared_ptr<Device>>
openCudaDevice(const DeviceOptions &options,
               std::unique_ptr<cuda::Driver> driver, DeviceKind kind,
               const std::string &why) {
  auto gpu = std::make_shared<Gpu>(std::move(driver), kind);
  Driver &d = *gpu->driver;
  auto fail = [&](CUresult result, const char *what) -> Error {
    return Error{ErrorCode::DeviceFailure,
                 std::string("cannot open the GPU: ") + what +
                     " failed: " + d.describe(result)};
  };
  // Every kernel loaded with its module, when the module loads (behind the
  // launch gate), not at its first launch: the driver's lazy loading may
  // make a launch wait for the kernels running on the GPU, another
  // tenant's endless kernel included, while that kernel's interruption
  // waits for the launch (docs/tenancy.md). The driver reads the variable
  // when the process first initializes CUDA; a value the process set
  // itself wins, and loadCompiled looks each kernel up behind the gate in
  // any case.
  static std::once_flag loading;
  std::call_once(
      loading, [] { setenv("CUDA_MODULE_LOADING", "EAGER", /*overwrite=*/0); });
  if (options.gpuSmGroupSize > 0) {
    // The green contexts of one process share its hardware work queues:
    // with the driver's default of 8, a tenant's launch can wait behind
    // another tenant's long kernel in the same queue (docs/tenancy.md). 32
    // is the most the driver takes. It reads the variable when it makes the
    // process's first context, so this counts only before any CUDA use, and
    // a value the process set itself wins.
    static std::once_flag queues;
    std::call_once(queues, [] {
      setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", /*overwrite=*/0);
    });
  }
  if (CUresult r = d.init(0); r != CUDA_SUCCESS)
    return fail(r, "cuInit");
  int count = 0;
  if (CUresult r = d.deviceGetCount(&count); r != CUDA_SUCCESS)
    return fail(r, "cuDeviceGetCount");
  if (options.gpuOrdinal < 0 || options.gpuOrdinal >= count)
    return Error{ErrorCode::InvalidArgument,
                 "there is no GPU " + std::to_string(options.gpuOrdinal) +
                     ": the driver sees " + std::to_string(count)};
  if (CUresult r = d.deviceGet(&gpu->device, options.gpuOrdinal);
      r != CUDA_SUCCESS)
    return fail(r, "cuDeviceGet");
  char name[256] = {};
  int major = 0, minor = 0, managed = 0;
  for (auto [value, attribute] :
       {std::pair{&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR},
        std::pair{&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR},
        std::pair{&gpu->maxSharedOptIn,
                  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN},
        std::pair{&managed, CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY}})
    if (CUresult r = d.deviceGetAttribute(value, attribute, gpu->device);
        r != CUDA_SUCCESS)
      return fail(r, "cuDeviceGetAttribute");
  if (CUresult r = d.deviceGetName(name, sizeof name - 1, gpu->device);
      r != CUDA_SUCCESS)
    return fail(r, "cuDeviceGetName");
  if (CUresult r = d.driverGetVersion(&gpu->driverVersion); r != CUDA_SUCCESS)
    return fail(r, "cuDriverGetVersion");
  gpu->gate = LaunchGate::of(kind, options.gpuOrdinal);
  std::optional<LaunchGate::Management> managing(std::in_place, *gpu->gate);
  if (CUresult r = d.primaryCtxRetain(&gpu->context, gpu->device);
      r != CUDA_SUCCESS)
    return fail(r, "cuDevicePrimaryCtxRetain");
  if (CUresult r = d.ctxSetCurrent(gpu->context); r != CUDA_SUCCESS)
    return fail(r, "cuCtxSetCurrent");
  std::string smNote;
  if (options.gpuSmGroupSize > 0) {
    Result<std::string> grouped =
        enterSmGroup(*gpu, options.gpuSmGroupSize, options.gpuSmGroup);
    if (!grouped)
      return grouped.error();
    smNote = "; " + *grouped;
  }
  gpu->arch = "sm_" + std::to_string(major * 10 + minor);
  std::string memoryNote;
  if (options.memory == MemoryMode::Managed && !managed)
    memoryNote = "device memory (the GPU has no managed memory)";
  else
    memoryNote = options.memory == MemoryMode::Managed ? "managed memory"
                                                       : "device memory";
  gpu->managedMemory = options.memory == MemoryMode::Managed && managed;
  if (options.gpuMemoryLimit && gpu->managedMemory)
    return Error{ErrorCode::InvalidArgument,
                 "a driver-enforced memory cap needs linear memory in device "
                 "memory (MemoryMode::Device): managed memory comes from no "
                 "pool the driver can cap"};
  if (!gpu->managedMemory) {
    int pools = 0;
    if (CUresult r = d.deviceGetAttribute(
            &pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, gpu->device);
        r != CUDA_SUCCESS)
      return fail(r, "cuDeviceGetAttribute");
    // A pool's maximum size is honoured from CUDA 12.2 on.
    if ((!pools || gpu->driverVersion < 12020) && options.gpuMemoryLimit)
      return Error{ErrorCode::Unsupported,
                   "this GPU's driver has no memory pools with a maximum "
                   "size (CUDA 12.2), so it cannot cap the device's memory "
                   "(DeviceOptions::gpuMemoryLimit)"};
    if (pools) {
      CUmemPoolProps properties{};
      properties.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
      properties.handleTypes = CU_MEM_HANDLE_TYPE_NONE;
      properties.location = {CU_MEM_LOCATION_TYPE_DEVICE, gpu->device};
      // A cap past the GPU's memory caps nothing.
      size_t totalBytes = 0;
      if (CUresult r = d.deviceTotalMem(&totalBytes, gpu->device);
          r != CUDA_SUCCESS)
        return fail(r, "cuDeviceTotalMem");
      properties.maxSize =
          std::min<uint64_t>(options.gpuMemoryLimit, totalBytes);
      if (CUresult r = d.memPoolCreate(&gpu->pool, &properties);
          r != CUDA_SUCCESS)
        return fail(r, "cuMemPoolCreate");
      // The pool keeps what its allocations freed until the device closes:
      // at the default threshold (0) it would give memory back to the
      // system at each synchronize, and giving physical memory back may
      // wait for the whole GPU, another tenant's endless kernel included.
      uint64_t keepAll = UINT64_MAX;
      if (CUresult r = d.memPoolSetAttribute(
              gpu->pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keepAll);
          r != CUDA_SUCCESS)
        return fail(r, "cuMemPoolSetAttribute");
      gpu->memoryLimit = properties.maxSize;
      if (gpu->memoryLimit)
        memoryNote += " (at most " + std::to_string(gpu->memoryLimit >> 20) +
                      " MiB, a cap of the driver's)";
    }
  }
  managing.reset();
  gpu->cache = CubinCache::open(options.cubinCache);
  gpu->about = why + ": " + name + " (" + gpu->arch + ", driver " +
               std::to_string(gpu->driverVersion / 1000) + "." +
               std::to_string(gpu->driverVersion % 1000 / 10) + ")" + smNote +
               "; linear memory in " + memoryNote + "; " + gpu->cache.about();
  return std::shared_ptr<Device>(std::make_shared<CudaDevice>(std::move(gpu)));
}

} // namespace tensorwasm::runtime
