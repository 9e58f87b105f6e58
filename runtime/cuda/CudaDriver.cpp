//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//

#include "cuda/CudaDriver.h"

#include <dlfcn.h>

using namespace tensorwasm::cuda;

std::unique_ptr<Driver> Driver::load(std::string &error) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    error = std::string("no CUDA driver: cannot open libcuda.so.1 (") +
            (reason ? reason : "unknown reason") + ")";
    return nullptr;
  }
  std::unique_ptr<Driver> driver(new Driver());
  driver->library = library;
#define TWASM_CUDA_RESOLVE(member, symbol, params)                             \
  driver->member =                                                             \
      reinterpret_cast<decltype(driver->member)>(dlsym(library, symbol));      \
  if (!driver->member) {                                                       \
    error = std::string("the CUDA driver lacks ") + symbol +                   \
            " (a driver for CUDA 12.8 or newer is needed)";                    \
    return nullptr;                                                            \
  }
  TWASM_CUDA_DRIVER_SYMBOLS(TWASM_CUDA_RESOLVE)
#undef TWASM_CUDA_RESOLVE
  return driver;
}

Driver::~Driver() {
  if (library)
    dlclose(library);
}

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  getErrorName(result, &name);
  getErrorString(result, &text);
  return std::string(name ? name : "CUDA error " + std::to_string(result)) +
         ": " + (text ? text : "no description");
}

std::unique_ptr<Driver> tensorwasm::cuda::makeDriverTable() {
  return std::unique_ptr<Driver>(new Driver());
}
