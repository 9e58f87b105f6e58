//===- MockDriver.cpp - a simulated CUDA driver for tests -----------------===//

#include "cuda/MockDriver.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace tensorwasm;
using namespace tensorwasm::cuda;

namespace {

constexpr CUresult kInvalidValue = 1;
constexpr std::string_view kCubinMagic = "MOCK-CUBIN\n";

struct MockModule {
  std::string ptx;
};
struct MockFunction {
  std::string name;
  size_t paramCount;
};
struct MockStream {
  /// An endless launch in flight: its control word and trap record.
  uint32_t *controlWord = nullptr;
  abi::TrapRecord *trapRecord = nullptr;
};
/// A stream-ordered pool: what it may hold in all, and holds now; and the
/// blocks freed to it, which it hands out again as they are (as the
/// driver's pools reuse memory without clearing it).
struct MockPool {
  size_t maxSize;
  size_t usedBytes = 0;
  std::multimap<size_t, void *> freedBlocks;
  uint64_t releaseThreshold = 0;
  size_t reservedBytes() const {
    size_t bytes = usedBytes;
    for (const auto &[size, block] : freedBlocks)
      bytes += size;
    return bytes;
  }
  ~MockPool() {
    for (auto &[bytes, block] : freedBlocks)
      std::free(block);
  }
};
/// What new device memory holds: not zeroes, as the driver promises none.
constexpr unsigned char kUninitialised = 0xcd;
struct PlannedFailure {
  unsigned remaining;
  CUresult result;
};
/// A green context. Its CUgreenCtx is its address, and the CUcontext that
/// cuCtxFromGreenCtx gives is the address of `context`: two different
/// values, so that the mock refuses one where the other belongs, as the
/// driver does.
struct MockGreenContext {
  char green;
  char context;
};
/// A descriptor of a set of SMs (cuDevResourceGenerateDesc): only its
/// identity matters, to tell a descriptor made here from any other pointer.
struct MockResourceDesc {};
/// The simulated GPU's streaming multiprocessors.
constexpr unsigned kSmCount = 132;

/// The simulated GPU. One lock guards it; an endless launch's wait polls
/// its control word without it, so that another thread can set the word.
struct State {
  std::mutex mutex;
  uint64_t totalBytes = uint64_t(16) << 30;
  uint64_t allocatedBytes = 0;
  std::map<uintptr_t, size_t> deviceMemory;
  std::set<void *> hostMemory;
  std::set<MockModule *> modules;
  std::map<MockFunction *, MockModule *> functions;
  std::set<MockStream *> streams;
  std::set<void *> events;
  std::set<std::string *> linkStates;
  std::set<MockPool *> pools;
  /// Device allocations made from a pool, with their pool.
  std::map<uintptr_t, MockPool *> pooledMemory;
  size_t contextRetains = 0;
  bool contextLost = false;
  bool endlessLaunches = false;
  abi::TrapRecord plannedTrap{};
  std::vector<std::string> callLog;
  std::vector<std::string> misuseLog;
  std::vector<std::vector<uint64_t>> launchLog;
  std::vector<const void *> launchStreamLog;
  std::multimap<std::string, PlannedFailure> plannedFailures;
  std::set<MockGreenContext *> greenContexts;
  std::set<MockResourceDesc *> resourceDescs;
  /// Every stream made, in order, with the context current on the thread
  /// that made it; a green context's default stream is made with it.
  std::vector<mock::MadeStream> streamsMade;
};

/// The context current on the calling thread, as cuCtxSetCurrent made it.
thread_local const void *currentContext = nullptr;

State &state() {
  static State *simulated = new State(); // lives as long as any driver table
  return *simulated;
}

/// Records the call; returns the result it must give instead of running:
/// a planned failure, or the lost context's error.
CUresult enter(State &gpu, const char *symbol) {
  gpu.callLog.push_back(symbol);
  auto [first, last] = gpu.plannedFailures.equal_range(symbol);
  for (auto it = first; it != last; ++it)
    if (--it->second.remaining == 0) {
      CUresult result = it->second.result;
      gpu.plannedFailures.erase(it);
      return result;
    }
  return gpu.contextLost ? CUDA_ERROR_ILLEGAL_ADDRESS : CUDA_SUCCESS;
}

CUresult misuse(State &gpu, const std::string &what) {
  gpu.misuseLog.push_back(what);
  return kInvalidValue;
}

/// Whether [pointer, pointer + bytes) lies in one device allocation.
bool inDeviceMemory(State &gpu, CUdeviceptr pointer, size_t bytes) {
  auto it = gpu.deviceMemory.upper_bound(static_cast<uintptr_t>(pointer));
  if (it == gpu.deviceMemory.begin())
    return false;
  --it;
  uintptr_t offset = static_cast<uintptr_t>(pointer) - it->first;
  return offset <= it->second && bytes <= it->second - offset;
}

/// Whether the PTX declares `.entry name(` and with how many parameters.
bool findEntry(const std::string &ptx, const std::string &name,
               size_t &paramCount) {
  std::string marker = ".entry " + name;
  for (size_t at = ptx.find(marker); at != std::string::npos;
       at = ptx.find(marker, at + 1)) {
    size_t after = at + marker.size();
    if (after < ptx.size() && (ptx[after] == '(' || ptx[after] == ' ' ||
                               ptx[after] == '\n' || ptx[after] == '\t')) {
      size_t close = ptx.find(')', after);
      paramCount = 0;
      for (size_t p = ptx.find(".param", after); p < close;
           p = ptx.find(".param", p + 1))
        ++paramCount;
      return true;
    }
  }
  return false;
}

#define MOCK_ENTER(symbol)                                                     \
  State &gpu = state();                                                        \
  std::unique_lock<std::mutex> lock(gpu.mutex);                                \
  if (CUresult planned = enter(gpu, symbol); planned != CUDA_SUCCESS)          \
  return planned

CUresult mockInit(unsigned) {
  MOCK_ENTER("cuInit");
  return CUDA_SUCCESS;
}
CUresult mockDriverGetVersion(int *version) {
  MOCK_ENTER("cuDriverGetVersion");
  *version = 13000;
  return CUDA_SUCCESS;
}
CUresult mockDeviceGetCount(int *count) {
  MOCK_ENTER("cuDeviceGetCount");
  *count = 1;
  return CUDA_SUCCESS;
}
CUresult mockDeviceGet(CUdevice *device, int ordinal) {
  MOCK_ENTER("cuDeviceGet");
  if (ordinal != 0)
    return 101; // CUDA_ERROR_INVALID_DEVICE
  *device = 0;
  return CUDA_SUCCESS;
}
CUresult mockDeviceGetName(char *name, int length, CUdevice) {
  MOCK_ENTER("cuDeviceGetName");
  std::snprintf(name, static_cast<size_t>(length), "%s", "TensorWasm mock GPU");
  return CUDA_SUCCESS;
}
CUresult mockDeviceGetAttribute(int *value, int attribute, CUdevice) {
  MOCK_ENTER("cuDeviceGetAttribute");
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *value = kSmCount;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *value = 9;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *value = 0;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *value = 227 * 1024;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY:
  case CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS:
  case CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED:
    *value = 1;
    return CUDA_SUCCESS;
  default:
    return misuse(gpu, "cuDeviceGetAttribute of an attribute the mock "
                       "does not know: " +
                           std::to_string(attribute));
  }
}
CUresult mockDeviceTotalMem(size_t *bytes, CUdevice) {
  MOCK_ENTER("cuDeviceTotalMem_v2");
  *bytes = gpu.totalBytes;
  return CUDA_SUCCESS;
}
CUresult mockPrimaryCtxRetain(CUcontext *context, CUdevice) {
  MOCK_ENTER("cuDevicePrimaryCtxRetain");
  ++gpu.contextRetains;
  *context = reinterpret_cast<CUcontext>(&gpu);
  return CUDA_SUCCESS;
}
void releaseEverything(State &gpu);
CUresult mockPrimaryCtxRelease(CUdevice) {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  CUresult result = enter(gpu, "cuDevicePrimaryCtxRelease_v2");
  if (gpu.contextRetains == 0)
    return misuse(gpu, "cuDevicePrimaryCtxRelease without a retain");
  if (result != CUDA_SUCCESS && !gpu.contextLost)
    return result;
  // The last release destroys the context and everything in it, as the
  // driver does; a lost context comes back usable.
  if (--gpu.contextRetains == 0) {
    releaseEverything(gpu);
    gpu.contextLost = false;
  }
  return result;
}
CUresult mockCtxSetCurrent(CUcontext context) {
  MOCK_ENTER("cuCtxSetCurrent");
  bool green = std::any_of(gpu.greenContexts.begin(), gpu.greenContexts.end(),
                           [&](MockGreenContext *made) {
                             return context ==
                                    reinterpret_cast<CUcontext>(&made->context);
                           });
  if (context != reinterpret_cast<CUcontext>(&gpu) && !green)
    return misuse(gpu, "cuCtxSetCurrent of an unknown context");
  currentContext = context;
  return CUDA_SUCCESS;
}
// Green contexts: the GPU's SMs split into groups of at least the count
// asked for (rounded up to an even number, as SMs come in pairs).
CUresult mockDeviceGetDevResource(CUdevice, CUdevResource *resource, int type) {
  MOCK_ENTER("cuDeviceGetDevResource");
  if (!resource || type != CU_DEV_RESOURCE_TYPE_SM)
    return misuse(gpu, "cuDeviceGetDevResource of no SM resource");
  *resource = CUdevResource{};
  resource->type = CU_DEV_RESOURCE_TYPE_SM;
  resource->sm.smCount = kSmCount;
  resource->sm.minSmPartitionSize = 2;
  resource->sm.smCoscheduledAlignment = 2;
  return CUDA_SUCCESS;
}
CUresult mockDevSmResourceSplitByCount(CUdevResource *result, unsigned *groups,
                                       const CUdevResource *input,
                                       CUdevResource *remaining, unsigned flags,
                                       unsigned minimumCount) {
  MOCK_ENTER("cuDevSmResourceSplitByCount");
  if (!groups || !input || input->type != CU_DEV_RESOURCE_TYPE_SM || flags ||
      minimumCount == 0)
    return misuse(gpu, "cuDevSmResourceSplitByCount with wrong arguments");
  unsigned size = (minimumCount + 1) / 2 * 2;
  unsigned possible = input->sm.smCount / size;
  if (!result) {
    *groups = possible;
    return CUDA_SUCCESS;
  }
  *groups = std::min(*groups, possible);
  for (unsigned i = 0; i < *groups; ++i) {
    result[i] = *input;
    result[i].sm.smCount = size;
  }
  if (remaining) {
    *remaining = *input;
    remaining->sm.smCount = input->sm.smCount - *groups * size;
  }
  return CUDA_SUCCESS;
}
CUresult mockDevResourceGenerateDesc(CUdevResourceDesc *description,
                                     CUdevResource *resources, unsigned count) {
  MOCK_ENTER("cuDevResourceGenerateDesc");
  if (!description || !resources || count != 1 ||
      resources->type != CU_DEV_RESOURCE_TYPE_SM)
    return misuse(gpu, "cuDevResourceGenerateDesc of no one SM resource");
  auto *made = new MockResourceDesc{};
  gpu.resourceDescs.insert(made);
  *description = reinterpret_cast<CUdevResourceDesc>(made);
  return CUDA_SUCCESS;
}
CUresult mockGreenCtxCreate(CUgreenCtx *context, CUdevResourceDesc description,
                            CUdevice, unsigned flags) {
  MOCK_ENTER("cuGreenCtxCreate");
  auto *desc = reinterpret_cast<MockResourceDesc *>(description);
  if (!context || !gpu.resourceDescs.count(desc) ||
      flags != CU_GREEN_CTX_DEFAULT_STREAM)
    return misuse(gpu, "cuGreenCtxCreate of an unknown descriptor or "
                       "without its default stream");
  auto *made = new MockGreenContext{};
  gpu.greenContexts.insert(made);
  // It retains the primary context, and its default stream takes a
  // hardware queue as it is made.
  ++gpu.contextRetains;
  gpu.streamsMade.push_back({nullptr, &made->context});
  *context = reinterpret_cast<CUgreenCtx>(made);
  return CUDA_SUCCESS;
}
CUresult mockCtxFromGreenCtx(CUcontext *context, CUgreenCtx green) {
  MOCK_ENTER("cuCtxFromGreenCtx");
  auto *made = reinterpret_cast<MockGreenContext *>(green);
  if (!context || !gpu.greenContexts.count(made))
    return misuse(gpu, "cuCtxFromGreenCtx of an unknown green context");
  *context = reinterpret_cast<CUcontext>(&made->context);
  return CUDA_SUCCESS;
}
CUresult mockCtxSynchronize() {
  MOCK_ENTER("cuCtxSynchronize");
  return CUDA_SUCCESS;
}
CUresult mockMemGetInfo(size_t *free, size_t *total) {
  MOCK_ENTER("cuMemGetInfo_v2");
  *free = gpu.totalBytes - gpu.allocatedBytes;
  *total = gpu.totalBytes;
  return CUDA_SUCCESS;
}

CUresult allocateDevice(State &gpu, CUdeviceptr *pointer, size_t bytes) {
  if (!pointer || bytes == 0)
    return misuse(gpu, "an allocation of 0 bytes or with no output");
  if (bytes > gpu.totalBytes - gpu.allocatedBytes)
    return CUDA_ERROR_OUT_OF_MEMORY;
  void *memory = std::malloc(bytes);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  std::memset(memory, kUninitialised, bytes);
  gpu.deviceMemory[reinterpret_cast<uintptr_t>(memory)] = bytes;
  gpu.allocatedBytes += bytes;
  *pointer = reinterpret_cast<CUdeviceptr>(memory);
  return CUDA_SUCCESS;
}
CUresult mockMemAlloc(CUdeviceptr *pointer, size_t bytes) {
  MOCK_ENTER("cuMemAlloc_v2");
  return allocateDevice(gpu, pointer, bytes);
}
CUresult mockMemAllocManaged(CUdeviceptr *pointer, size_t bytes,
                             unsigned flags) {
  MOCK_ENTER("cuMemAllocManaged");
  if (flags != CU_MEM_ATTACH_GLOBAL)
    return misuse(gpu, "cuMemAllocManaged with flags other than global");
  return allocateDevice(gpu, pointer, bytes);
}
/// A call that releases an object: recorded; an unknown handle is a
/// misuse; a planned failure keeps the object (it goes with the context),
/// while a lost context's release frees it.
template <typename Known, typename Release>
CUresult releaseCall(const char *symbol, const char *unknown, Known known,
                     Release release) {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  CUresult result = enter(gpu, symbol);
  if (!known(gpu))
    return misuse(gpu, std::string(symbol) + " of " + unknown);
  if (result != CUDA_SUCCESS && !gpu.contextLost)
    return result;
  release(gpu);
  return result;
}

CUresult mockGreenCtxDestroy(CUgreenCtx context) {
  auto *destroyed = reinterpret_cast<MockGreenContext *>(context);
  return releaseCall(
      "cuGreenCtxDestroy", "an unknown green context",
      [&](State &gpu) {
        return gpu.greenContexts.count(destroyed) != 0 &&
               gpu.contextRetains > 1;
      },
      [&](State &gpu) {
        gpu.greenContexts.erase(destroyed);
        delete destroyed;
        --gpu.contextRetains;
      });
}

CUresult mockMemFree(CUdeviceptr pointer) {
  auto address = static_cast<uintptr_t>(pointer);
  return releaseCall(
      "cuMemFree_v2", "memory not allocated (or allocated from a pool)",
      [&](State &gpu) {
        return gpu.deviceMemory.count(address) != 0 &&
               gpu.pooledMemory.count(address) == 0;
      },
      [&](State &gpu) {
        gpu.allocatedBytes -= gpu.deviceMemory[address];
        gpu.deviceMemory.erase(address);
        std::free(reinterpret_cast<void *>(address));
      });
}
CUresult mockMemPoolCreate(CUmemoryPool *pool,
                           const CUmemPoolProps *properties) {
  MOCK_ENTER("cuMemPoolCreate");
  if (!pool || !properties ||
      properties->allocType != CU_MEM_ALLOCATION_TYPE_PINNED ||
      properties->location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
      properties->location.id != 0)
    return misuse(gpu, "cuMemPoolCreate with no output, or not of pinned "
                       "memory on the GPU");
  auto *made = new MockPool{properties->maxSize, 0, {}, 0};
  gpu.pools.insert(made);
  *pool = reinterpret_cast<CUmemoryPool>(made);
  return CUDA_SUCCESS;
}
CUresult mockMemPoolDestroy(CUmemoryPool pool) {
  auto *destroyed = reinterpret_cast<MockPool *>(pool);
  return releaseCall(
      "cuMemPoolDestroy", "an unknown pool",
      [&](State &gpu) { return gpu.pools.count(destroyed) != 0; },
      [&](State &gpu) {
        // As the driver's: allocations not yet freed stay valid until
        // they are.
        for (auto &[address, pool] : gpu.pooledMemory)
          if (pool == destroyed)
            pool = nullptr;
        gpu.pools.erase(destroyed);
        delete destroyed;
      });
}
CUresult mockMemPoolSetAttribute(CUmemoryPool pool, int attribute,
                                 void *value) {
  MOCK_ENTER("cuMemPoolSetAttribute");
  auto *target = reinterpret_cast<MockPool *>(pool);
  if (!gpu.pools.count(target) || !value ||
      attribute != CU_MEMPOOL_ATTR_RELEASE_THRESHOLD)
    return misuse(gpu, "cuMemPoolSetAttribute of an unknown pool or an "
                       "attribute the mock does not know");
  target->releaseThreshold = *static_cast<uint64_t *>(value);
  return CUDA_SUCCESS;
}
CUresult mockMemPoolGetAttribute(CUmemoryPool pool, int attribute,
                                 void *value) {
  MOCK_ENTER("cuMemPoolGetAttribute");
  auto *target = reinterpret_cast<MockPool *>(pool);
  if (!gpu.pools.count(target) || !value)
    return misuse(gpu, "cuMemPoolGetAttribute of an unknown pool");
  uint64_t &out = *static_cast<uint64_t *>(value);
  switch (attribute) {
  case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
    out = target->releaseThreshold;
    return CUDA_SUCCESS;
  case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT:
    out = target->reservedBytes();
    return CUDA_SUCCESS;
  case CU_MEMPOOL_ATTR_USED_MEM_CURRENT:
    out = target->usedBytes;
    return CUDA_SUCCESS;
  default:
    return misuse(gpu, "cuMemPoolGetAttribute of an attribute the mock does "
                       "not know");
  }
}
CUresult mockMemAllocFromPoolAsync(CUdeviceptr *pointer, size_t bytes,
                                   CUmemoryPool pool, CUstream stream) {
  MOCK_ENTER("cuMemAllocFromPoolAsync");
  auto *from = reinterpret_cast<MockPool *>(pool);
  if (!gpu.pools.count(from) ||
      !gpu.streams.count(reinterpret_cast<MockStream *>(stream)))
    return misuse(gpu, "cuMemAllocFromPoolAsync from an unknown pool or on "
                       "an unknown stream");
  // The driver's cap: a pool never holds more than its maximum size.
  // The driver's cap, on what the pool reserves: freed blocks it keeps
  // count until they are handed out again.
  auto reused = from->freedBlocks.find(bytes);
  size_t reserved = from->reservedBytes();
  if (from->maxSize && reused == from->freedBlocks.end() &&
      bytes > from->maxSize - std::min(from->maxSize, reserved))
    return CUDA_ERROR_OUT_OF_MEMORY;
  // A pool whose threshold is below what it keeps gives the rest back to
  // the system at a synchronize; the mock gives it back here.
  while (reused == from->freedBlocks.end() && !from->freedBlocks.empty() &&
         from->reservedBytes() > from->releaseThreshold) {
    std::free(from->freedBlocks.begin()->second);
    from->freedBlocks.erase(from->freedBlocks.begin());
  }
  if (reused != from->freedBlocks.end() && pointer) {
    // Whatever the block's last user left in it is still there.
    *pointer = reinterpret_cast<CUdeviceptr>(reused->second);
    from->freedBlocks.erase(reused);
    gpu.deviceMemory[static_cast<uintptr_t>(*pointer)] = bytes;
    gpu.allocatedBytes += bytes;
  } else if (CUresult result = allocateDevice(gpu, pointer, bytes);
             result != CUDA_SUCCESS) {
    return result;
  }
  gpu.pooledMemory[static_cast<uintptr_t>(*pointer)] = from;
  from->usedBytes += bytes;
  return CUDA_SUCCESS;
}
CUresult mockMemFreeAsync(CUdeviceptr pointer, CUstream stream) {
  auto address = static_cast<uintptr_t>(pointer);
  return releaseCall(
      "cuMemFreeAsync",
      "memory not allocated from a pool, or an unknown stream",
      [&](State &gpu) {
        return gpu.pooledMemory.count(address) != 0 &&
               gpu.streams.count(reinterpret_cast<MockStream *>(stream)) != 0;
      },
      [&](State &gpu) {
        size_t bytes = gpu.deviceMemory[address];
        MockPool *pool = gpu.pooledMemory[address];
        gpu.pooledMemory.erase(address);
        gpu.allocatedBytes -= bytes;
        gpu.deviceMemory.erase(address);
        if (pool) {
          pool->usedBytes -= bytes;
          pool->freedBlocks.insert({bytes, reinterpret_cast<void *>(address)});
        } else {
          std::free(reinterpret_cast<void *>(address));
        }
      });
}
CUresult mockMemAdvise(CUdeviceptr pointer, size_t bytes, int advice,
                       CUmemLocation location) {
  MOCK_ENTER("cuMemAdvise_v2");
  if (!inDeviceMemory(gpu, pointer, bytes) ||
      location.type != CU_MEM_LOCATION_TYPE_DEVICE)
    return misuse(gpu, "cuMemAdvise outside an allocation or not for a GPU");
  (void)advice;
  return CUDA_SUCCESS;
}
CUresult mockMemPrefetchAsync(CUdeviceptr pointer, size_t bytes,
                              CUmemLocation location, unsigned,
                              CUstream stream) {
  MOCK_ENTER("cuMemPrefetchAsync_v2");
  if (!inDeviceMemory(gpu, pointer, bytes) ||
      location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
      !gpu.streams.count(reinterpret_cast<MockStream *>(stream)))
    return misuse(gpu, "cuMemPrefetchAsync outside an allocation, not to a "
                       "GPU or on an unknown stream");
  return CUDA_SUCCESS;
}
CUresult mockMemAllocHost(void **pointer, size_t bytes) {
  MOCK_ENTER("cuMemAllocHost_v2");
  if (!pointer || bytes == 0)
    return misuse(gpu, "cuMemAllocHost of 0 bytes or with no output");
  void *memory = std::malloc(bytes);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  std::memset(memory, kUninitialised, bytes);
  gpu.hostMemory.insert(memory);
  *pointer = memory;
  return CUDA_SUCCESS;
}
CUresult mockMemFreeHost(void *pointer) {
  return releaseCall(
      "cuMemFreeHost", "memory not allocated",
      [&](State &gpu) { return gpu.hostMemory.count(pointer) != 0; },
      [&](State &gpu) {
        gpu.hostMemory.erase(pointer);
        std::free(pointer);
      });
}
CUresult mockMemHostGetDevicePointer(CUdeviceptr *device, void *host,
                                     unsigned flags) {
  MOCK_ENTER("cuMemHostGetDevicePointer_v2");
  if (!gpu.hostMemory.count(host) || flags != 0)
    return misuse(gpu, "cuMemHostGetDevicePointer of memory not allocated");
  *device = reinterpret_cast<CUdeviceptr>(host);
  return CUDA_SUCCESS;
}

/// Device memory is host memory here: a copy checks its device side.
CUresult copy(State &gpu, const char *what, void *to, const void *from,
              size_t bytes, bool toDevice, bool fromDevice) {
  if ((toDevice &&
       !inDeviceMemory(gpu, reinterpret_cast<CUdeviceptr>(to), bytes)) ||
      (fromDevice &&
       !inDeviceMemory(gpu, reinterpret_cast<CUdeviceptr>(from), bytes)))
    return misuse(gpu, std::string(what) + " outside an allocation");
  if (bytes)
    std::memmove(to, from, bytes);
  return CUDA_SUCCESS;
}
bool knownStream(State &gpu, CUstream stream) {
  return gpu.streams.count(reinterpret_cast<MockStream *>(stream)) != 0;
}
CUresult mockMemcpyHtoD(CUdeviceptr to, const void *from, size_t bytes) {
  MOCK_ENTER("cuMemcpyHtoD_v2");
  return copy(gpu, "cuMemcpyHtoD", reinterpret_cast<void *>(to), from, bytes,
              true, false);
}
CUresult mockMemcpyDtoH(void *to, CUdeviceptr from, size_t bytes) {
  MOCK_ENTER("cuMemcpyDtoH_v2");
  return copy(gpu, "cuMemcpyDtoH", to, reinterpret_cast<void *>(from), bytes,
              false, true);
}
CUresult mockMemcpyDtoD(CUdeviceptr to, CUdeviceptr from, size_t bytes) {
  MOCK_ENTER("cuMemcpyDtoD_v2");
  return copy(gpu, "cuMemcpyDtoD", reinterpret_cast<void *>(to),
              reinterpret_cast<void *>(from), bytes, true, true);
}
CUresult mockMemcpyDtoDAsync(CUdeviceptr to, CUdeviceptr from, size_t bytes,
                             CUstream stream) {
  MOCK_ENTER("cuMemcpyDtoDAsync_v2");
  if (!knownStream(gpu, stream))
    return misuse(gpu, "cuMemcpyDtoDAsync on an unknown stream");
  return copy(gpu, "cuMemcpyDtoDAsync", reinterpret_cast<void *>(to),
              reinterpret_cast<void *>(from), bytes, true, true);
}
CUresult mockMemcpyHtoDAsync(CUdeviceptr to, const void *from, size_t bytes,
                             CUstream stream) {
  MOCK_ENTER("cuMemcpyHtoDAsync_v2");
  if (!knownStream(gpu, stream))
    return misuse(gpu, "cuMemcpyHtoDAsync on an unknown stream");
  return copy(gpu, "cuMemcpyHtoDAsync", reinterpret_cast<void *>(to), from,
              bytes, true, false);
}
CUresult mockMemsetD8(CUdeviceptr to, unsigned char value, size_t count) {
  MOCK_ENTER("cuMemsetD8_v2");
  if (!inDeviceMemory(gpu, to, count))
    return misuse(gpu, "cuMemsetD8 outside an allocation");
  std::memset(reinterpret_cast<void *>(to), value, count);
  return CUDA_SUCCESS;
}
CUresult mockMemsetD8Async(CUdeviceptr to, unsigned char value, size_t count,
                           CUstream stream) {
  MOCK_ENTER("cuMemsetD8Async");
  if (!inDeviceMemory(gpu, to, count) || !knownStream(gpu, stream))
    return misuse(gpu, "cuMemsetD8Async outside an allocation");
  std::memset(reinterpret_cast<void *>(to), value, count);
  return CUDA_SUCCESS;
}

bool isPtx(std::string_view image) {
  return image.substr(0, 2) == "//" || image.substr(0, 8) == ".version";
}
CUresult mockModuleLoadDataEx(CUmodule *module, const void *image, unsigned,
                              int *, void **) {
  MOCK_ENTER("cuModuleLoadDataEx");
  if (!module || !image)
    return misuse(gpu, "cuModuleLoadDataEx with no image or output");
  std::string_view text(static_cast<const char *>(image));
  if (text.substr(0, kCubinMagic.size()) == kCubinMagic)
    text.remove_prefix(kCubinMagic.size());
  else if (!isPtx(text))
    return CUDA_ERROR_INVALID_PTX;
  auto *loaded = new MockModule{std::string(text)};
  gpu.modules.insert(loaded);
  *module = reinterpret_cast<CUmodule>(loaded);
  return CUDA_SUCCESS;
}
CUresult mockModuleUnload(CUmodule module) {
  auto *loaded = reinterpret_cast<MockModule *>(module);
  return releaseCall(
      "cuModuleUnload", "an unknown module",
      [&](State &gpu) { return gpu.modules.count(loaded) != 0; },
      [&](State &gpu) {
        for (auto it = gpu.functions.begin(); it != gpu.functions.end();)
          if (it->second == loaded) {
            delete it->first;
            it = gpu.functions.erase(it);
          } else {
            ++it;
          }
        gpu.modules.erase(loaded);
        delete loaded;
      });
}
CUresult mockModuleGetFunction(CUfunction *function, CUmodule module,
                               const char *name) {
  MOCK_ENTER("cuModuleGetFunction");
  auto *loaded = reinterpret_cast<MockModule *>(module);
  if (!gpu.modules.count(loaded) || !function || !name)
    return misuse(gpu, "cuModuleGetFunction of an unknown module");
  size_t paramCount = 0;
  if (!findEntry(loaded->ptx, name, paramCount))
    return CUDA_ERROR_NOT_FOUND;
  auto *entry = new MockFunction{name, paramCount};
  gpu.functions[entry] = loaded;
  *function = reinterpret_cast<CUfunction>(entry);
  return CUDA_SUCCESS;
}
CUresult mockFuncSetAttribute(CUfunction function, int attribute, int value) {
  MOCK_ENTER("cuFuncSetAttribute");
  if (!gpu.functions.count(reinterpret_cast<MockFunction *>(function)) ||
      attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES ||
      value > 227 * 1024)
    return kInvalidValue;
  return CUDA_SUCCESS;
}
CUresult mockLaunchKernel(CUfunction function, unsigned gridX, unsigned gridY,
                          unsigned gridZ, unsigned blockX, unsigned blockY,
                          unsigned blockZ, unsigned sharedBytes,
                          CUstream stream, void **parameters, void **extra) {
  MOCK_ENTER("cuLaunchKernel");
  auto *entry = reinterpret_cast<MockFunction *>(function);
  if (!gpu.functions.count(entry) || !knownStream(gpu, stream) || extra ||
      (entry->paramCount && !parameters))
    return misuse(gpu, "cuLaunchKernel of an unknown function or stream");
  if (!gridX || !gridY || !gridZ || !blockX || !blockY || !blockZ ||
      uint64_t(blockX) * blockY * blockZ > 1024 || gridY > 65535 ||
      gridZ > 65535 || sharedBytes > 227 * 1024)
    return kInvalidValue;
  std::vector<uint64_t> slots;
  for (size_t i = 0; i < entry->paramCount; ++i) {
    uint64_t slot;
    std::memcpy(&slot, parameters[i], sizeof slot);
    slots.push_back(slot);
  }
  gpu.launchLog.push_back(slots);
  gpu.launchStreamLog.push_back(stream);
  // The kernel ABI's hidden parameters: the trap record and the control
  // word are the third and fourth.
  if (slots.size() < 4)
    return CUDA_SUCCESS;
  auto *record = reinterpret_cast<abi::TrapRecord *>(slots[2]);
  auto *controlWord = reinterpret_cast<uint32_t *>(slots[3]);
  if (gpu.plannedTrap.code) {
    if (record->code == 0)
      *record = gpu.plannedTrap;
    *controlWord = abi::kControlInterrupt;
    gpu.plannedTrap = {};
  } else if (gpu.endlessLaunches) {
    auto *waiting = reinterpret_cast<MockStream *>(stream);
    waiting->controlWord = controlWord;
    waiting->trapRecord = record;
  }
  return CUDA_SUCCESS;
}
CUresult mockStreamCreate(CUstream *stream, unsigned) {
  MOCK_ENTER("cuStreamCreate");
  auto *created = new MockStream();
  gpu.streams.insert(created);
  gpu.streamsMade.push_back({created, currentContext});
  *stream = reinterpret_cast<CUstream>(created);
  return CUDA_SUCCESS;
}
CUresult mockStreamDestroy(CUstream stream) {
  auto *destroyed = reinterpret_cast<MockStream *>(stream);
  return releaseCall(
      "cuStreamDestroy_v2", "an unknown stream",
      [&](State &gpu) { return gpu.streams.count(destroyed) != 0; },
      [&](State &gpu) {
        gpu.streams.erase(destroyed);
        delete destroyed;
      });
}
/// Waits for an endless launch on `stream` to see its control word set.
CUresult waitForStream(std::unique_lock<std::mutex> &lock, State &gpu,
                       MockStream *stream) {
  while (stream->controlWord) {
    volatile uint32_t *word = stream->controlWord;
    if (*word) {
      if (stream->trapRecord->code == 0)
        stream->trapRecord->code =
            static_cast<uint32_t>(abi::TrapCode::Interrupted);
      stream->controlWord = nullptr;
      stream->trapRecord = nullptr;
      break;
    }
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    lock.lock();
  }
  return CUDA_SUCCESS;
}
CUresult mockStreamSynchronize(CUstream stream) {
  MOCK_ENTER("cuStreamSynchronize");
  auto *waited = reinterpret_cast<MockStream *>(stream);
  if (!knownStream(gpu, stream))
    return misuse(gpu, "cuStreamSynchronize of an unknown stream");
  return waitForStream(lock, gpu, waited);
}
CUresult mockStreamQuery(CUstream stream) {
  MOCK_ENTER("cuStreamQuery");
  if (!knownStream(gpu, stream))
    return misuse(gpu, "cuStreamQuery of an unknown stream");
  return reinterpret_cast<MockStream *>(stream)->controlWord
             ? CUDA_ERROR_NOT_READY
             : CUDA_SUCCESS;
}
CUresult mockEventCreate(CUevent *event, unsigned) {
  MOCK_ENTER("cuEventCreate");
  void *created = new char;
  gpu.events.insert(created);
  *event = reinterpret_cast<CUevent>(created);
  return CUDA_SUCCESS;
}
CUresult mockEventDestroy(CUevent event) {
  return releaseCall(
      "cuEventDestroy_v2", "an unknown event",
      [&](State &gpu) { return gpu.events.count(event) != 0; },
      [&](State &gpu) {
        gpu.events.erase(event);
        delete reinterpret_cast<char *>(event);
      });
}
CUresult mockEventRecord(CUevent event, CUstream) {
  MOCK_ENTER("cuEventRecord");
  return gpu.events.count(event) ? CUDA_SUCCESS
                                 : misuse(gpu, "cuEventRecord of no event");
}
CUresult mockEventSynchronize(CUevent event) {
  MOCK_ENTER("cuEventSynchronize");
  return gpu.events.count(event)
             ? CUDA_SUCCESS
             : misuse(gpu, "cuEventSynchronize of no event");
}
CUresult mockEventElapsedTime(float *milliseconds, CUevent, CUevent) {
  MOCK_ENTER("cuEventElapsedTime_v2");
  *milliseconds = 0;
  return CUDA_SUCCESS;
}
CUresult mockLinkCreate(unsigned, int *, void **, CUlinkState *link) {
  MOCK_ENTER("cuLinkCreate_v2");
  auto *created = new std::string();
  gpu.linkStates.insert(created);
  *link = reinterpret_cast<CUlinkState>(created);
  return CUDA_SUCCESS;
}
CUresult mockLinkAddData(CUlinkState link, int type, void *data, size_t bytes,
                         const char *, unsigned, int *, void **) {
  MOCK_ENTER("cuLinkAddData_v2");
  auto *linked = reinterpret_cast<std::string *>(link);
  if (!gpu.linkStates.count(linked) || type != CU_JIT_INPUT_PTX || !data)
    return misuse(gpu, "cuLinkAddData of no link state or not PTX");
  std::string_view ptx(static_cast<const char *>(data), bytes);
  if (!ptx.empty() && ptx.back() == '\0')
    ptx.remove_suffix(1);
  if (!isPtx(ptx))
    return CUDA_ERROR_INVALID_PTX;
  linked->append(ptx);
  return CUDA_SUCCESS;
}
CUresult mockLinkComplete(CUlinkState link, void **image, size_t *bytes) {
  MOCK_ENTER("cuLinkComplete");
  auto *linked = reinterpret_cast<std::string *>(link);
  if (!gpu.linkStates.count(linked))
    return misuse(gpu, "cuLinkComplete of no link state");
  // The image lives as long as the link state, as the driver's does.
  linked->insert(0, kCubinMagic);
  linked->push_back('\0');
  *image = linked->data();
  *bytes = linked->size();
  return CUDA_SUCCESS;
}
CUresult mockLinkDestroy(CUlinkState link) {
  auto *linked = reinterpret_cast<std::string *>(link);
  return releaseCall(
      "cuLinkDestroy", "no link state",
      [&](State &gpu) { return gpu.linkStates.count(linked) != 0; },
      [&](State &gpu) {
        gpu.linkStates.erase(linked);
        delete linked;
      });
}
CUresult mockGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    *name = "CUDA_ERROR_OUT_OF_MEMORY";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    *name = "CUDA_ERROR_INVALID_PTX";
    return CUDA_SUCCESS;
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    *name = "CUDA_ERROR_ILLEGAL_ADDRESS";
    return CUDA_SUCCESS;
  default:
    *name = nullptr;
    return kInvalidValue;
  }
}
CUresult mockGetErrorString(CUresult error, const char **text) {
  *text = error == CUDA_ERROR_OUT_OF_MEMORY ? "out of memory"
          : error == CUDA_ERROR_ILLEGAL_ADDRESS
              ? "an illegal memory access was encountered"
              : "a failure the mock driver was told to report";
  return CUDA_SUCCESS;
}

} // namespace

bool mock::LiveObjects::operator==(const LiveObjects &other) const {
  return deviceAllocations == other.deviceAllocations &&
         hostAllocations == other.hostAllocations && modules == other.modules &&
         streams == other.streams && events == other.events &&
         linkStates == other.linkStates && memoryPools == other.memoryPools &&
         contextRetains == other.contextRetains &&
         greenContexts == other.greenContexts;
}

std::unique_ptr<Driver> mock::load() {
  std::unique_ptr<Driver> driver = makeDriverTable();
  driver->init = mockInit;
  driver->driverGetVersion = mockDriverGetVersion;
  driver->deviceGetCount = mockDeviceGetCount;
  driver->deviceGet = mockDeviceGet;
  driver->deviceGetName = mockDeviceGetName;
  driver->deviceGetAttribute = mockDeviceGetAttribute;
  driver->deviceTotalMem = mockDeviceTotalMem;
  driver->primaryCtxRetain = mockPrimaryCtxRetain;
  driver->primaryCtxRelease = mockPrimaryCtxRelease;
  driver->ctxSetCurrent = mockCtxSetCurrent;
  driver->ctxSynchronize = mockCtxSynchronize;
  driver->memGetInfo = mockMemGetInfo;
  driver->memAlloc = mockMemAlloc;
  driver->memFree = mockMemFree;
  driver->memcpyHtoD = mockMemcpyHtoD;
  driver->memcpyDtoH = mockMemcpyDtoH;
  driver->memcpyDtoD = mockMemcpyDtoD;
  driver->memcpyDtoDAsync = mockMemcpyDtoDAsync;
  driver->memcpyHtoDAsync = mockMemcpyHtoDAsync;
  driver->memsetD8 = mockMemsetD8;
  driver->memsetD8Async = mockMemsetD8Async;
  driver->moduleLoadDataEx = mockModuleLoadDataEx;
  driver->moduleUnload = mockModuleUnload;
  driver->moduleGetFunction = mockModuleGetFunction;
  driver->funcSetAttribute = mockFuncSetAttribute;
  driver->launchKernel = mockLaunchKernel;
  driver->streamCreate = mockStreamCreate;
  driver->streamDestroy = mockStreamDestroy;
  driver->streamSynchronize = mockStreamSynchronize;
  driver->streamQuery = mockStreamQuery;
  driver->eventCreate = mockEventCreate;
  driver->eventDestroy = mockEventDestroy;
  driver->eventRecord = mockEventRecord;
  driver->eventSynchronize = mockEventSynchronize;
  driver->eventElapsedTime = mockEventElapsedTime;
  driver->memAllocManaged = mockMemAllocManaged;
  driver->memAdvise = mockMemAdvise;
  driver->memPrefetchAsync = mockMemPrefetchAsync;
  driver->memAllocHost = mockMemAllocHost;
  driver->memFreeHost = mockMemFreeHost;
  driver->memHostGetDevicePointer = mockMemHostGetDevicePointer;
  driver->linkCreate = mockLinkCreate;
  driver->linkAddData = mockLinkAddData;
  driver->linkComplete = mockLinkComplete;
  driver->linkDestroy = mockLinkDestroy;
  driver->memPoolCreate = mockMemPoolCreate;
  driver->memPoolDestroy = mockMemPoolDestroy;
  driver->memAllocFromPoolAsync = mockMemAllocFromPoolAsync;
  driver->memFreeAsync = mockMemFreeAsync;
  driver->memPoolSetAttribute = mockMemPoolSetAttribute;
  driver->memPoolGetAttribute = mockMemPoolGetAttribute;
  driver->getErrorName = mockGetErrorName;
  driver->getErrorString = mockGetErrorString;
  driver->deviceGetDevResource = mockDeviceGetDevResource;
  driver->devSmResourceSplitByCount = mockDevSmResourceSplitByCount;
  driver->devResourceGenerateDesc = mockDevResourceGenerateDesc;
  driver->greenCtxCreate = mockGreenCtxCreate;
  driver->greenCtxDestroy = mockGreenCtxDestroy;
  driver->ctxFromGreenCtx = mockCtxFromGreenCtx;
  return driver;
}

namespace {
void releaseEverything(State &gpu) {
  for (auto &[address, bytes] : gpu.deviceMemory)
    std::free(reinterpret_cast<void *>(address));
  for (void *memory : gpu.hostMemory)
    std::free(memory);
  for (auto &[function, module] : gpu.functions)
    delete function;
  for (MockModule *module : gpu.modules)
    delete module;
  for (MockStream *stream : gpu.streams)
    delete stream;
  for (void *event : gpu.events)
    delete reinterpret_cast<char *>(event);
  for (std::string *link : gpu.linkStates)
    delete link;
  for (MockPool *pool : gpu.pools)
    delete pool;
  for (MockGreenContext *green : gpu.greenContexts)
    delete green;
  gpu.greenContexts.clear();
  gpu.pools.clear();
  gpu.pooledMemory.clear();
  gpu.deviceMemory.clear();
  gpu.hostMemory.clear();
  gpu.functions.clear();
  gpu.modules.clear();
  gpu.streams.clear();
  gpu.events.clear();
  gpu.linkStates.clear();
  gpu.allocatedBytes = 0;
}
} // namespace

void mock::reset(uint64_t totalBytes) {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  releaseEverything(gpu);
  gpu.totalBytes = totalBytes;
  gpu.contextRetains = 0;
  gpu.contextLost = false;
  gpu.endlessLaunches = false;
  gpu.plannedTrap = {};
  gpu.callLog.clear();
  gpu.misuseLog.clear();
  gpu.launchLog.clear();
  gpu.launchStreamLog.clear();
  gpu.streamsMade.clear();
  for (MockResourceDesc *desc : gpu.resourceDescs)
    delete desc;
  gpu.resourceDescs.clear();
  gpu.plannedFailures.clear();
}

void mock::failCall(const std::string &symbol, CUresult result,
                    unsigned ordinal) {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  gpu.plannedFailures.insert({symbol, {ordinal, result}});
}

void mock::loseContext() {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  gpu.contextLost = true;
}

void mock::trapNextLaunch(const abi::TrapRecord &record) {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  gpu.plannedTrap = record;
}

void mock::setEndlessLaunches(bool endless) {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  gpu.endlessLaunches = endless;
}

std::vector<std::string> mock::calls() {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  return gpu.callLog;
}

unsigned mock::callCount(const std::string &symbol) {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  unsigned count = 0;
  for (const std::string &call : gpu.callLog)
    count += call == symbol;
  return count;
}

mock::LiveObjects mock::live() {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  mock::LiveObjects objects;
  objects.deviceAllocations = gpu.deviceMemory.size();
  objects.hostAllocations = gpu.hostMemory.size();
  objects.modules = gpu.modules.size();
  objects.streams = gpu.streams.size();
  objects.events = gpu.events.size();
  objects.linkStates = gpu.linkStates.size();
  objects.memoryPools = gpu.pools.size();
  objects.contextRetains = gpu.contextRetains;
  objects.greenContexts = gpu.greenContexts.size();
  return objects;
}

std::vector<size_t> mock::poolLimits() {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  std::vector<size_t> limits;
  for (MockPool *pool : gpu.pools)
    limits.push_back(pool->maxSize);
  std::sort(limits.begin(), limits.end());
  return limits;
}

std::vector<std::string> mock::misuses() {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  return gpu.misuseLog;
}

std::vector<std::vector<uint64_t>> mock::launches() {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  return gpu.launchLog;
}

std::vector<const void *> mock::launchStreams() {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  return gpu.launchStreamLog;
}

std::vector<mock::MadeStream> mock::streamsMade() {
  State &gpu = state();
  std::lock_guard<std::mutex> lock(gpu.mutex);
  return gpu.streamsMade;
}
