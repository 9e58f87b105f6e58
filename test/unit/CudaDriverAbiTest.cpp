//===- CudaDriverAbiTest.cpp - our CUDA declarations against cuda.h ------===//
//
// runtime/cuda/CudaDriver.h declares the few driver types and constants it
// uses instead of including cuda.h, so that nothing needs the toolkit to
// build. This test, built only where cuda.h is installed, checks every one of
// them against the toolkit's own header: a wrong value here would pass the
// driver a different attribute or flag than intended.
//
//===----------------------------------------------------------------------===//

#include "cuda/CudaDriver.h"

#include <cuda.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

namespace ours = tensorwasm::cuda;

// Constants, each against the enumerator of the same name.
static_assert(ours::CUDA_SUCCESS == ::CUDA_SUCCESS);
static_assert(ours::CUDA_ERROR_NOT_READY == ::CUDA_ERROR_NOT_READY);
static_assert(ours::CUDA_ERROR_OUT_OF_MEMORY == ::CUDA_ERROR_OUT_OF_MEMORY);
static_assert(ours::CUDA_ERROR_INVALID_PTX == ::CUDA_ERROR_INVALID_PTX);
static_assert(ours::CUDA_ERROR_NOT_FOUND == ::CUDA_ERROR_NOT_FOUND);
static_assert(ours::CUDA_ERROR_ILLEGAL_ADDRESS == ::CUDA_ERROR_ILLEGAL_ADDRESS);
static_assert(ours::CUDA_ERROR_LAUNCH_FAILED == ::CUDA_ERROR_LAUNCH_FAILED);
static_assert(ours::CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY ==
              ::CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY);
static_assert(ours::CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS ==
              ::CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS);
static_assert(ours::CU_MEM_ATTACH_GLOBAL == ::CU_MEM_ATTACH_GLOBAL);
static_assert(ours::CU_MEM_ADVISE_SET_PREFERRED_LOCATION ==
              ::CU_MEM_ADVISE_SET_PREFERRED_LOCATION);
static_assert(ours::CU_MEM_ADVISE_SET_ACCESSED_BY ==
              ::CU_MEM_ADVISE_SET_ACCESSED_BY);
static_assert(ours::CU_MEM_LOCATION_TYPE_DEVICE ==
              ::CU_MEM_LOCATION_TYPE_DEVICE);
static_assert(ours::CU_JIT_INPUT_PTX == ::CU_JIT_INPUT_PTX);
static_assert(ours::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT ==
              ::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
static_assert(ours::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR ==
              ::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
static_assert(ours::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR ==
              ::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
static_assert(ours::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN ==
              ::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
static_assert(ours::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES ==
              ::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
static_assert(ours::CU_STREAM_NON_BLOCKING == ::CU_STREAM_NON_BLOCKING);
static_assert(ours::CU_EVENT_DEFAULT == ::CU_EVENT_DEFAULT);
static_assert(ours::CU_JIT_INFO_LOG_BUFFER == ::CU_JIT_INFO_LOG_BUFFER);
static_assert(ours::CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES ==
              ::CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES);
static_assert(ours::CU_JIT_ERROR_LOG_BUFFER == ::CU_JIT_ERROR_LOG_BUFFER);
static_assert(ours::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES ==
              ::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);

static_assert(ours::CU_DEV_RESOURCE_TYPE_SM == ::CU_DEV_RESOURCE_TYPE_SM);
static_assert(ours::CU_GREEN_CTX_DEFAULT_STREAM ==
              ::CU_GREEN_CTX_DEFAULT_STREAM);
static_assert(ours::CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED ==
              ::CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED);
static_assert(ours::CU_MEM_ALLOCATION_TYPE_PINNED ==
              ::CU_MEM_ALLOCATION_TYPE_PINNED);
static_assert(ours::CU_MEM_HANDLE_TYPE_NONE == ::CU_MEM_HANDLE_TYPE_NONE);
static_assert(ours::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD ==
              ::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD);
static_assert(ours::CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT ==
              ::CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT);
static_assert(ours::CU_MEMPOOL_ATTR_USED_MEM_CURRENT ==
              ::CU_MEMPOOL_ATTR_USED_MEM_CURRENT);
static_assert(sizeof(int) == sizeof(::CUmemPool_attribute));

// Types: the same size (and signedness where it matters), so a value passed
// through our declarations is what the driver reads.
static_assert(sizeof(ours::CUresult) == sizeof(::CUresult));
static_assert(sizeof(ours::CUdevice) == sizeof(::CUdevice));
static_assert(std::is_same_v<ours::CUdeviceptr, ::CUdeviceptr>);
static_assert(sizeof(ours::CUcontext) == sizeof(::CUcontext));
static_assert(sizeof(ours::CUmodule) == sizeof(::CUmodule));
static_assert(sizeof(ours::CUfunction) == sizeof(::CUfunction));
static_assert(sizeof(ours::CUstream) == sizeof(::CUstream));
static_assert(sizeof(ours::CUevent) == sizeof(::CUevent));
static_assert(sizeof(ours::CUlinkState) == sizeof(::CUlinkState));
// Enumerations the table passes as int.
static_assert(sizeof(int) == sizeof(::CUmem_advise));
static_assert(sizeof(int) == sizeof(::CUjit_option));
static_assert(sizeof(int) == sizeof(::CUjitInputType));
static_assert(sizeof(ours::CUgreenCtx) == sizeof(::CUgreenCtx));
static_assert(sizeof(ours::CUdevResourceDesc) == sizeof(::CUdevResourceDesc));
static_assert(sizeof(int) == sizeof(::CUdevResourceType));
// The driver writes CUdevResource arrays: the same size and field offsets.
static_assert(sizeof(ours::CUdevResource) == sizeof(::CUdevResource));
static_assert(offsetof(ours::CUdevResource, sm) ==
              offsetof(::CUdevResource, sm));
static_assert(offsetof(ours::CUdevResource, sm.minSmPartitionSize) ==
              offsetof(::CUdevResource, sm.minSmPartitionSize));
// The driver reads CUmemPoolProps: the same size and field offsets.
static_assert(sizeof(ours::CUmemoryPool) == sizeof(::CUmemoryPool));
static_assert(sizeof(int) == sizeof(::CUmemAllocationType));
static_assert(sizeof(int) == sizeof(::CUmemAllocationHandleType));
static_assert(sizeof(ours::CUmemPoolProps) == sizeof(::CUmemPoolProps));
static_assert(offsetof(ours::CUmemPoolProps, handleTypes) ==
              offsetof(::CUmemPoolProps, handleTypes));
static_assert(offsetof(ours::CUmemPoolProps, location) ==
              offsetof(::CUmemPoolProps, location));
static_assert(offsetof(ours::CUmemPoolProps, maxSize) ==
              offsetof(::CUmemPoolProps, maxSize));
static_assert(offsetof(ours::CUmemPoolProps, usage) ==
              offsetof(::CUmemPoolProps, usage));
// CUmemLocation is passed by value: the same layout.
static_assert(sizeof(ours::CUmemLocation) == sizeof(::CUmemLocation));
static_assert(offsetof(ours::CUmemLocation, type) ==
              offsetof(::CUmemLocation, type));
static_assert(offsetof(ours::CUmemLocation, id) ==
              offsetof(::CUmemLocation, id));

namespace {

#define TWASM_STRINGIFY(name) #name
#define TWASM_EXPANDED_NAME(name) TWASM_STRINGIFY(name)

// What cuda.h makes of each plain name whose entry point is versioned.
const char *const kHeaderSelections[] = {
    TWASM_EXPANDED_NAME(cuDeviceTotalMem),
    TWASM_EXPANDED_NAME(cuDevicePrimaryCtxRelease),
    TWASM_EXPANDED_NAME(cuMemGetInfo),
    TWASM_EXPANDED_NAME(cuMemAlloc),
    TWASM_EXPANDED_NAME(cuMemFree),
    TWASM_EXPANDED_NAME(cuMemcpyHtoD),
    TWASM_EXPANDED_NAME(cuMemcpyDtoH),
    TWASM_EXPANDED_NAME(cuMemcpyDtoD),
    TWASM_EXPANDED_NAME(cuMemcpyDtoDAsync),
    TWASM_EXPANDED_NAME(cuMemcpyHtoDAsync),
    TWASM_EXPANDED_NAME(cuMemsetD8),
    TWASM_EXPANDED_NAME(cuStreamDestroy),
    TWASM_EXPANDED_NAME(cuEventDestroy),
    TWASM_EXPANDED_NAME(cuEventElapsedTime),
    TWASM_EXPANDED_NAME(cuMemAdvise),
    TWASM_EXPANDED_NAME(cuMemPrefetchAsync),
    TWASM_EXPANDED_NAME(cuMemAllocHost),
    TWASM_EXPANDED_NAME(cuMemHostGetDevicePointer),
    TWASM_EXPANDED_NAME(cuLinkCreate),
    TWASM_EXPANDED_NAME(cuLinkAddData),
};

// Every versioned symbol the table loads is the version cuda.h selects for
// its plain name, and every plain name above is loaded in that version.
TEST(CudaDriverAbi, VersionedSymbolsAreTheOnesCudaHeaderSelects) {
  std::vector<std::string> versioned;
#define TWASM_COLLECT_VERSIONED(member, symbol, params)                        \
  if (std::string(symbol).find("_v") != std::string::npos)                     \
    versioned.push_back(symbol);
  TWASM_CUDA_DRIVER_SYMBOLS(TWASM_COLLECT_VERSIONED)
#undef TWASM_COLLECT_VERSIONED
  std::vector<std::string> selected(std::begin(kHeaderSelections),
                                    std::end(kHeaderSelections));
  std::sort(versioned.begin(), versioned.end());
  std::sort(selected.begin(), selected.end());
  EXPECT_EQ(versioned, selected);
}

#undef TWASM_EXPANDED_NAME
#undef TWASM_STRINGIFY

} // namespace
