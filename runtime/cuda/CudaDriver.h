//===- CudaDriver.h - the CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// Binaries link no CUDA library: libcuda.so.1 is opened with dlopen and the
// entry points come from one X-macro symbol table, so everything builds and
// runs on a machine without CUDA (and says so). The few driver types and
// constants used are declared here; they are the driver's stable ABI
// (test/unit/CudaDriverAbiTest.cpp checks them against cuda.h where the
// toolkit is installed).
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CUDA_CUDADRIVER_H
#define TWASM_RUNTIME_CUDA_CUDADRIVER_H

#include <cstddef>
#include <memory>
#include <string>

namespace tensorwasm::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
using CUlinkState = struct CUlinkState_st *;
using CUgreenCtx = struct CUgreenCtx_st *;
using CUdevResourceDesc = struct CUdevResourceDesc_st *;
using CUmemoryPool = struct CUmemPoolHandle_st *;

/// A set of the GPU's streaming multiprocessors (cuda.h: CUdevSmResource).
struct CUdevSmResource {
  unsigned smCount;
  unsigned minSmPartitionSize;
  unsigned smCoscheduledAlignment;
};
/// A device resource, for green contexts (cuda.h: CUdevResource, resource
/// ABI version 1): its type, padding, and 48 bytes of which the SM fields
/// come first.
struct CUdevResource {
  int type;
  unsigned char internalPadding[92];
  union {
    CUdevSmResource sm;
    unsigned char oversize[48];
  };
};

/// Where memory is, for the managed-memory hints (cuda.h: CUmemLocation).
struct CUmemLocation {
  int type;
  int id;
};

/// A stream-ordered memory pool's properties (cuda.h: CUmemPoolProps, v1):
/// pinned device memory at `location`, at most `maxSize` bytes in all.
struct CUmemPoolProps {
  int allocType;
  int handleTypes;
  CUmemLocation location;
  void *win32SecurityAttributes;
  size_t maxSize;
  unsigned short usage;
  unsigned char reserved[54];
};

inline constexpr CUresult CUDA_SUCCESS = 0;
inline constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
inline constexpr CUresult CUDA_ERROR_INVALID_PTX = 218;
inline constexpr CUresult CUDA_ERROR_NOT_FOUND = 500;
inline constexpr CUresult CUDA_ERROR_NOT_READY = 600;
inline constexpr CUresult CUDA_ERROR_ILLEGAL_ADDRESS = 700;
inline constexpr CUresult CUDA_ERROR_LAUNCH_FAILED = 719;
inline constexpr int CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY = 83;
inline constexpr int CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS = 89;
inline constexpr unsigned CU_MEM_ATTACH_GLOBAL = 1;
inline constexpr int CU_MEM_ADVISE_SET_PREFERRED_LOCATION = 3;
inline constexpr int CU_MEM_ADVISE_SET_ACCESSED_BY = 5;
inline constexpr int CU_MEM_LOCATION_TYPE_DEVICE = 1;
inline constexpr int CU_JIT_INPUT_PTX = 1;
inline constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
inline constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
inline constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
inline constexpr unsigned CU_EVENT_DEFAULT = 0;
inline constexpr int CU_JIT_INFO_LOG_BUFFER = 3;
inline constexpr int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
inline constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
inline constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
inline constexpr int CU_DEV_RESOURCE_TYPE_SM = 1;
inline constexpr unsigned CU_GREEN_CTX_DEFAULT_STREAM = 1;
inline constexpr int CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED = 115;
inline constexpr int CU_MEM_ALLOCATION_TYPE_PINNED = 1;
inline constexpr int CU_MEM_HANDLE_TYPE_NONE = 0;
inline constexpr int CU_MEMPOOL_ATTR_RELEASE_THRESHOLD = 4;
inline constexpr int CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT = 5;
inline constexpr int CU_MEMPOOL_ATTR_USED_MEM_CURRENT = 7;

// X(member, symbol exported by libcuda.so.1, parameter list). Versioned
// symbols are named explicitly: cuda.h maps the plain names onto them.
#define TWASM_CUDA_DRIVER_SYMBOLS(X)                                           \
  X(init, "cuInit", (unsigned flags))                                          \
  X(driverGetVersion, "cuDriverGetVersion", (int *version))                    \
  X(deviceGetCount, "cuDeviceGetCount", (int *count))                          \
  X(deviceGet, "cuDeviceGet", (CUdevice * device, int ordinal))                \
  X(deviceGetName, "cuDeviceGetName",                                          \
    (char *name, int length, CUdevice device))                                 \
  X(deviceGetAttribute, "cuDeviceGetAttribute",                                \
    (int *value, int attribute, CUdevice device))                              \
  X(deviceTotalMem, "cuDeviceTotalMem_v2", (size_t *bytes, CUdevice device))   \
  X(primaryCtxRetain, "cuDevicePrimaryCtxRetain",                              \
    (CUcontext * context, CUdevice device))                                    \
  X(primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice device))      \
  X(ctxSetCurrent, "cuCtxSetCurrent", (CUcontext context))                     \
  X(ctxSynchronize, "cuCtxSynchronize", ())                                    \
  X(memGetInfo, "cuMemGetInfo_v2", (size_t *free, size_t *total))              \
  X(memAlloc, "cuMemAlloc_v2", (CUdeviceptr * pointer, size_t bytes))          \
  X(memFree, "cuMemFree_v2", (CUdeviceptr pointer))                            \
  X(memcpyHtoD, "cuMemcpyHtoD_v2",                                             \
    (CUdeviceptr destination, const void *source, size_t bytes))               \
  X(memcpyDtoH, "cuMemcpyDtoH_v2",                                             \
    (void *destination, CUdeviceptr source, size_t bytes))                     \
  X(memcpyDtoD, "cuMemcpyDtoD_v2",                                             \
    (CUdeviceptr destination, CUdeviceptr source, size_t bytes))               \
  X(memcpyDtoDAsync, "cuMemcpyDtoDAsync_v2",                                   \
    (CUdeviceptr destination, CUdeviceptr source, size_t bytes,                \
     CUstream stream))                                                         \
  X(memcpyHtoDAsync, "cuMemcpyHtoDAsync_v2",                                   \
    (CUdeviceptr destination, const void *source, size_t bytes,                \
     CUstream stream))                                                         \
  X(memsetD8, "cuMemsetD8_v2",                                                 \
    (CUdeviceptr destination, unsigned char value, size_t count))              \
  X(memsetD8Async, "cuMemsetD8Async",                                          \
    (CUdeviceptr destination, unsigned char value, size_t count,               \
     CUstream stream))                                                         \
  X(moduleLoadDataEx, "cuModuleLoadDataEx",                                    \
    (CUmodule * module, const void *image, unsigned optionCount, int *options, \
     void **optionValues))                                                     \
  X(moduleUnload, "cuModuleUnload", (CUmodule module))                         \
  X(moduleGetFunction, "cuModuleGetFunction",                                  \
    (CUfunction * function, CUmodule module, const char *name))                \
  X(funcSetAttribute, "cuFuncSetAttribute",                                    \
    (CUfunction function, int attribute, int value))                           \
  X(launchKernel, "cuLaunchKernel",                                            \
    (CUfunction function, unsigned gridX, unsigned gridY, unsigned gridZ,      \
     unsigned blockX, unsigned blockY, unsigned blockZ, unsigned sharedBytes,  \
     CUstream stream, void **parameters, void **extra))                        \
  X(streamCreate, "cuStreamCreate", (CUstream * stream, unsigned flags))       \
  X(streamDestroy, "cuStreamDestroy_v2", (CUstream stream))                    \
  X(streamSynchronize, "cuStreamSynchronize", (CUstream stream))               \
  X(streamQuery, "cuStreamQuery", (CUstream stream))                           \
  X(eventCreate, "cuEventCreate", (CUevent * event, unsigned flags))           \
  X(eventDestroy, "cuEventDestroy_v2", (CUevent event))                        \
  X(eventRecord, "cuEventRecord", (CUevent event, CUstream stream))            \
  X(eventSynchronize, "cuEventSynchronize", (CUevent event))                   \
  X(eventElapsedTime, "cuEventElapsedTime_v2",                                 \
    (float *milliseconds, CUevent start, CUevent end))                         \
  X(memAllocManaged, "cuMemAllocManaged",                                      \
    (CUdeviceptr * pointer, size_t bytes, unsigned flags))                     \
  X(memAdvise, "cuMemAdvise_v2",                                               \
    (CUdeviceptr pointer, size_t bytes, int advice, CUmemLocation location))   \
  X(memPrefetchAsync, "cuMemPrefetchAsync_v2",                                 \
    (CUdeviceptr pointer, size_t bytes, CUmemLocation location,                \
     unsigned flags, CUstream stream))                                         \
  X(memAllocHost, "cuMemAllocHost_v2", (void **pointer, size_t bytes))         \
  X(memFreeHost, "cuMemFreeHost", (void *pointer))                             \
  X(memHostGetDevicePointer, "cuMemHostGetDevicePointer_v2",                   \
    (CUdeviceptr * device, void *host, unsigned flags))                        \
  X(linkCreate, "cuLinkCreate_v2",                                             \
    (unsigned optionCount, int *options, void **optionValues,                  \
     CUlinkState *state))                                                      \
  X(linkAddData, "cuLinkAddData_v2",                                           \
    (CUlinkState state, int type, void *data, size_t bytes, const char *name,  \
     unsigned optionCount, int *options, void **optionValues))                 \
  X(linkComplete, "cuLinkComplete",                                            \
    (CUlinkState state, void **image, size_t *bytes))                          \
  X(linkDestroy, "cuLinkDestroy", (CUlinkState state))                         \
  X(getErrorName, "cuGetErrorName", (CUresult error, const char **name))       \
  X(getErrorString, "cuGetErrorString", (CUresult error, const char **text))   \
  X(deviceGetDevResource, "cuDeviceGetDevResource",                            \
    (CUdevice device, CUdevResource * resource, int type))                     \
  X(devSmResourceSplitByCount, "cuDevSmResourceSplitByCount",                  \
    (CUdevResource * result, unsigned *groups, const CUdevResource *input,     \
     CUdevResource *remaining, unsigned flags, unsigned minimumCount))         \
  X(devResourceGenerateDesc, "cuDevResourceGenerateDesc",                      \
    (CUdevResourceDesc * description, CUdevResource * resources,               \
     unsigned count))                                                          \
  X(greenCtxCreate, "cuGreenCtxCreate",                                        \
    (CUgreenCtx * context, CUdevResourceDesc description, CUdevice device,     \
     unsigned flags))                                                          \
  X(greenCtxDestroy, "cuGreenCtxDestroy", (CUgreenCtx context))                \
  X(ctxFromGreenCtx, "cuCtxFromGreenCtx",                                      \
    (CUcontext * context, CUgreenCtx green))                                   \
  X(memPoolCreate, "cuMemPoolCreate",                                          \
    (CUmemoryPool * pool, const CUmemPoolProps *properties))                   \
  X(memPoolDestroy, "cuMemPoolDestroy", (CUmemoryPool pool))                   \
  X(memAllocFromPoolAsync, "cuMemAllocFromPoolAsync",                          \
    (CUdeviceptr * pointer, size_t bytes, CUmemoryPool pool, CUstream stream)) \
  X(memFreeAsync, "cuMemFreeAsync", (CUdeviceptr pointer, CUstream stream))    \
  X(memPoolSetAttribute, "cuMemPoolSetAttribute",                              \
    (CUmemoryPool pool, int attribute, void *value))                           \
  X(memPoolGetAttribute, "cuMemPoolGetAttribute",                              \
    (CUmemoryPool pool, int attribute, void *value))

/// The loaded driver: one function pointer per symbol of the table.
class Driver {
public:
  /// Opens libcuda.so.1 and resolves every symbol. Returns null, with the
  /// reason in `error`, when there is no driver or it lacks a symbol.
  static std::unique_ptr<Driver> load(std::string &error);
  ~Driver();
  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;

#define TWASM_CUDA_DECLARE(member, symbol, params)                             \
  CUresult(*member) params = nullptr;
  TWASM_CUDA_DRIVER_SYMBOLS(TWASM_CUDA_DECLARE)
#undef TWASM_CUDA_DECLARE

  /// "CUDA_ERROR_OUT_OF_MEMORY: out of memory" for an error code.
  std::string describe(CUresult result) const;

private:
  friend std::unique_ptr<Driver> makeDriverTable();
  Driver() = default;
  void *library = nullptr;
};

/// An empty table, for a driver that is not libcuda (the mock device fills
/// it with its own functions).
std::unique_ptr<Driver> makeDriverTable();

} // namespace tensorwasm::cuda

#endif // TWASM_RUNTIME_CUDA_CUDADRIVER_H
