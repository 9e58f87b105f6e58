//===- KernelCases.cpp - the example kernels, run and checked on a GPU ----===//
//
// References are computed here on the CPU, in the order the kernels compute,
// without contraction (this file is built with -ffp-contract=off): a Wasm
// kernel's float results must then match bit for bit wherever the kernel
// uses only exact operations. The twins, compiled by nvcc with its default
// contraction of a*b+c into fma, are held to a tolerance instead.
//
//===----------------------------------------------------------------------===//

#include "KernelCases.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

using namespace tensorwasm;
using namespace tensorwasm::bench;
using cuda::CUdeviceptr;
using cuda::CUfunction;

namespace {

std::vector<float> randomFloats(size_t n, uint32_t seed, float lo = -1.0f,
                                float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(n);
  for (float &v : values)
    v = dist(rng);
  return values;
}

template <typename T>
uint32_t place(KernelInstance &instance, const std::vector<T> &values) {
  uint32_t address = instance.reserve(values.size() * sizeof(T));
  instance.write(address, values.data(), values.size() * sizeof(T));
  return address;
}

template <typename T>
std::vector<T> fetch(KernelInstance &instance, uint32_t address, size_t n) {
  std::vector<T> values(n);
  instance.read(address, values.data(), n * sizeof(T));
  return values;
}

/// Fetches a result of the Wasm kernel, folding its bytes into the report's
/// digest (FNV-1a), which other devices' runs are compared with.
template <typename T>
std::vector<T> fetchResult(KernelInstance &instance, uint32_t address, size_t n,
                           CaseReport &report) {
  std::vector<T> values = fetch<T>(instance, address, n);
  if (report.digest == 0)
    report.digest = 0xcbf29ce484222325ull;
  const auto *bytes = reinterpret_cast<const uint8_t *>(values.data());
  for (size_t i = 0; i < n * sizeof(T); ++i)
    report.digest = (report.digest ^ bytes[i]) * 0x100000001b3ull;
  return values;
}

/// Device memory for a twin.
class DeviceBuffer {
public:
  DeviceBuffer(Gpu &gpu, size_t bytes)
      : gpu(gpu), pointer(gpu.allocate(bytes)), bytes(bytes) {}
  template <typename T>
  DeviceBuffer(Gpu &gpu, const std::vector<T> &values)
      : DeviceBuffer(gpu, values.size() * sizeof(T)) {
    gpu.upload(pointer, values.data(), bytes);
  }
  ~DeviceBuffer() { gpu.release(pointer); }
  template <typename T> std::vector<T> fetch() {
    std::vector<T> values(bytes / sizeof(T));
    gpu.download(values.data(), pointer, bytes);
    return values;
  }
  Gpu &gpu;
  CUdeviceptr pointer;
  size_t bytes;
};

/// Launches a twin with parameters given by address.
void launchTwin(Gpu &gpu, CUfunction function, Dim3 grid, Dim3 block,
                std::vector<void *> parameters, unsigned sharedBytes = 0) {
  gpu.check(gpu.driver().launchKernel(function, grid.x, grid.y, grid.z, block.x,
                                      block.y, block.z, sharedBytes, gpu.stream,
                                      parameters.data(), nullptr),
            "cuLaunchKernel (twin)");
}

uint32_t ulpDistance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if (ia < 0)
    ia = INT32_MIN - ia;
  if (ib < 0)
    ib = INT32_MIN - ib;
  int64_t d = int64_t(ia) - int64_t(ib);
  return static_cast<uint32_t>(d < 0 ? -d : d);
}

/// Bit-exact comparison; on a mismatch, says where.
template <typename T>
bool exactly(const std::vector<T> &got, const std::vector<T> &want,
             std::string &report) {
  for (size_t i = 0; i < want.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      std::ostringstream s;
      s << "element " << i << " is " << got[i] << ", expected " << want[i];
      report = s.str();
      return false;
    }
  report = "bit-exact (" + std::to_string(want.size()) + " values)";
  return true;
}

/// Within `maxUlps` of the reference, element by element.
bool withinUlps(const std::vector<float> &got, const std::vector<float> &want,
                uint32_t maxUlps, std::string &report) {
  uint32_t worst = 0;
  size_t worstAt = 0, differing = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    uint32_t d = ulpDistance(got[i], want[i]);
    if (d)
      ++differing;
    if (d > worst) {
      worst = d;
      worstAt = i;
    }
  }
  std::ostringstream s;
  s << differing << " of " << want.size() << " values differ, by at most "
    << worst << " ulp (at " << worstAt << "; allowed " << maxUlps << ")";
  report = s.str();
  return worst <= maxUlps;
}

/// |got - want| <= tolerance * scale, element by element.
bool withinScaled(const std::vector<float> &got, const std::vector<float> &want,
                  const std::vector<double> &scale, double tolerance,
                  std::string &report) {
  double worst = 0;
  size_t worstAt = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double error = std::fabs(double(got[i]) - double(want[i])) / scale[i];
    if (!(error <= worst)) {
      worst = error;
      worstAt = i;
    }
  }
  std::ostringstream s;
  s << "max error " << worst << " of |a*x|+|y| (at " << worstAt << "; allowed "
    << tolerance << ")";
  report = s.str();
  return worst <= tolerance;
}

bool withinRelative(const std::vector<float> &got,
                    const std::vector<double> &want, double tolerance,
                    std::string &report) {
  double worst = 0;
  size_t worstAt = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double error = std::fabs(got[i] - want[i]) / std::fabs(want[i]);
    if (!(error <= worst)) {
      worst = error;
      worstAt = i;
    }
  }
  std::ostringstream s;
  s << "max relative error " << worst << " (at " << worstAt << "; allowed "
    << tolerance << ")";
  report = s.str();
  return worst <= tolerance;
}

/// Times a run of the Wasm kernel in each compilation: the safe one and the
/// measurement-only variants without bounds checks, without epoch checks,
/// and without both.
void timeWasm(Gpu &gpu, const CaseOptions &options, const std::string &name,
              const std::function<void(DeviceModule *)> &run,
              CaseReport &report) {
  report.twasmMs = gpu.medianMs([&] { run(nullptr); }, options.repetitions);
  std::string stem = options.kernelDir + "/" + name;
  DeviceModule noBounds(gpu, stem + ".nobounds.ptx");
  report.noBoundsMs =
      gpu.medianMs([&] { run(&noBounds); }, options.repetitions);
  DeviceModule noEpoch(gpu, stem + ".noepoch.ptx");
  report.noEpochMs = gpu.medianMs([&] { run(&noEpoch); }, options.repetitions);
  DeviceModule unchecked(gpu, stem + ".unchecked.ptx");
  report.uncheckedMs =
      gpu.medianMs([&] { run(&unchecked); }, options.repetitions);
}

std::string codeOf(const CaseDevice &device, const CaseOptions &options,
                   const std::string &name) {
  return options.kernelDir + "/" + name + options.variant +
         device.codeExtension();
}

/// The grid of the reductions' first launch: enough blocks to fill the GPU
/// when timing; when checking, the same on every device, since the blocks'
/// partial sums are part of the result.
unsigned gridBlocks(CaseDevice &device, const CaseOptions &options) {
  if (options.benchmark && device.gpu())
    return static_cast<unsigned>(device.gpu()->multiprocessors) * 8;
  return 1056; // an H100's 132 multiprocessors times 8
}
std::string manifestOf(const CaseOptions &options, const std::string &name) {
  return options.kernelDir + "/" + name + ".json";
}

/// False, with the trap in the report, if the last launches trapped.
bool ranWithoutTrap(KernelInstance &instance, CaseReport &report) {
  abi::TrapRecord record = instance.trapRecord();
  if (record.code == 0)
    return true;
  std::ostringstream s;
  s << "trapped: " << abi::trapMessage(static_cast<abi::TrapCode>(record.code))
    << " in function " << record.function << " at byte offset " << record.offset
    << ", block (" << record.block[0] << "," << record.block[1] << ","
    << record.block[2] << "), thread (" << record.thread[0] << ","
    << record.thread[1] << "," << record.thread[2] << ")";
  report.check = s.str();
  report.correct = false;
  return false;
}

void launchWasm(KernelInstance &instance, DeviceModule *variant,
                const std::string &kernel, Dim3 grid, Dim3 block,
                const std::vector<Arg> &args) {
  // Only the GPU has other compilations to time.
  if (variant)
    static_cast<WasmInstance &>(instance).launchVariant(*variant, kernel, grid,
                                                        block, args);
  else
    instance.launch(kernel, grid, block, args);
}

unsigned blocksFor(uint64_t n, unsigned block) {
  return static_cast<unsigned>((n + block - 1) / block);
}

//===----------------------------------------------------------------------===//
// saxpy
//===----------------------------------------------------------------------===//

CaseReport saxpy(CaseDevice &device, const CaseOptions &options) {
  CaseReport report;
  report.name = "saxpy";
  uint32_t n = options.benchmark ? (1u << 26) : 1000003u;
  report.problem = "n = " + std::to_string(n);
  float a = 2.5f;
  std::vector<float> x = randomFloats(n, 1), y = randomFloats(n, 2);
  std::vector<float> want(n);
  for (uint32_t i = 0; i < n; ++i)
    want[i] = a * x[i] + y[i];
  Dim3 grid{blocksFor(n, 256)}, block{256};

  std::unique_ptr<KernelInstance> held =
      device.instantiate(codeOf(device, options, "saxpy"),
                         manifestOf(options, "saxpy"), 2ull * n * 4 + 4096);
  KernelInstance &instance = *held;
  uint32_t xa = place(instance, x), ya = place(instance, y);
  auto run = [&](DeviceModule *variant) {
    launchWasm(instance, variant, "saxpy", grid, block,
               {Arg::i32(n), Arg::f32(a), Arg::i32(xa), Arg::i32(ya)});
  };
  run(nullptr);
  if (!ranWithoutTrap(instance, report))
    return report;
  report.correct =
      exactly(fetchResult<float>(instance, ya, n, report), want, report.check);
  if (options.benchmark && device.gpu())
    timeWasm(*device.gpu(), options, "saxpy", run, report);
  report.work = 3.0 * n * 4;

  if (!options.twinDir.empty() && device.gpu()) {
    Gpu &gpu = *device.gpu();
    DeviceModule twin(gpu, options.twinDir + "/saxpy.cubin");
    CUfunction f = twin.function("saxpy");
    DeviceBuffer dx(gpu, x), dy(gpu, y);
    int ni = static_cast<int>(n);
    auto runTwin = [&] {
      launchTwin(gpu, f, grid, block, {&ni, &a, &dx.pointer, &dy.pointer});
    };
    runTwin();
    gpu.synchronize();
    report.twinRan = true;
    // nvcc contracts a*x+y into one fma: one rounding instead of two, so
    // the results differ by up to an ulp of a*x, however small a*x+y is.
    std::vector<double> scale(n);
    for (uint32_t i = 0; i < n; ++i)
      scale[i] = std::fabs(a * x[i]) + std::fabs(y[i]);
    report.twinCorrect = withinScaled(dy.fetch<float>(), want, scale,
                                      std::ldexp(1.0, -23), report.twinCheck);
    if (options.benchmark) {
      report.twinMs = gpu.medianMs(runTwin, options.repetitions);
      // The bandwidth yardstick: a device-to-device copy as large as the
      // saxpy's two arrays (read once, written once).
      DeviceBuffer from(gpu, 2ull * n * 4), to(gpu, 2ull * n * 4);
      double copyMs = gpu.medianMs(
          [&] {
            gpu.check(gpu.driver().memcpyDtoDAsync(to.pointer, from.pointer,
                                                   from.bytes, gpu.stream),
                      "cuMemcpyDtoDAsync");
          },
          options.repetitions);
      report.copyGBps = 2.0 * from.bytes / (copyMs * 1e6);
    }
  }
  return report;
}

//===----------------------------------------------------------------------===//
// reduce_sum
//===----------------------------------------------------------------------===//

/// What one launch of the reduce_sum kernel computes, in its exact order:
/// grid-stride sums, a shuffle-down tree per warp (a lane whose source is
/// past the warp adds its own value), then the warps' sums through the first
/// warp.
std::vector<float> reduceLikeTheKernel(const std::vector<float> &x,
                                       unsigned blocks) {
  const unsigned block = 256, warps = block / 32;
  uint64_t stride = uint64_t(blocks) * block;
  auto warpSum = [](std::vector<float> lanes) {
    for (unsigned offset = 16; offset > 0; offset /= 2) {
      std::vector<float> next(32);
      for (unsigned lane = 0; lane < 32; ++lane)
        next[lane] = lanes[lane] +
                     (lane + offset < 32 ? lanes[lane + offset] : lanes[lane]);
      lanes = next;
    }
    return lanes[0];
  };
  std::vector<float> partial(blocks);
  for (unsigned b = 0; b < blocks; ++b) {
    std::vector<float> warpSums(warps);
    for (unsigned w = 0; w < warps; ++w) {
      std::vector<float> lanes(32);
      for (unsigned lane = 0; lane < 32; ++lane) {
        float sum = 0.0f;
        for (uint64_t i = uint64_t(b) * block + w * 32 + lane; i < x.size();
             i += stride)
          sum += x[i];
        lanes[lane] = sum;
      }
      warpSums[w] = warpSum(lanes);
    }
    std::vector<float> lanes(32, 0.0f);
    for (unsigned lane = 0; lane < warps; ++lane)
      lanes[lane] = warpSums[lane];
    partial[b] = warpSum(lanes);
  }
  return partial;
}

CaseReport reduceSum(CaseDevice &device, const CaseOptions &options) {
  CaseReport report;
  report.name = "reduce_sum";
  uint32_t n = options.benchmark ? (1u << 26) : 1000003u;
  unsigned blocks = gridBlocks(device, options);
  report.problem = "n = " + std::to_string(n) + ", " + std::to_string(blocks) +
                   " blocks then 1";
  std::vector<float> x = randomFloats(n, 3);
  std::vector<float> wantPartial = reduceLikeTheKernel(x, blocks);
  std::vector<float> want = reduceLikeTheKernel(wantPartial, 1);
  double exact = 0;
  for (float v : x)
    exact += v;

  std::unique_ptr<KernelInstance> held = device.instantiate(
      codeOf(device, options, "reduce_sum"), manifestOf(options, "reduce_sum"),
      uint64_t(n) * 4 + blocks * 4 + 8192);
  KernelInstance &instance = *held;
  uint32_t xa = place(instance, x);
  uint32_t pa = instance.reserve(blocks * 4), ra = instance.reserve(4);
  auto run = [&](DeviceModule *variant) {
    launchWasm(instance, variant, "reduce_sum", {blocks}, {256},
               {Arg::i32(n), Arg::i32(xa), Arg::i32(pa)});
    launchWasm(instance, variant, "reduce_sum", {1}, {256},
               {Arg::i32(blocks), Arg::i32(pa), Arg::i32(ra)});
  };
  run(nullptr);
  if (!ranWithoutTrap(instance, report))
    return report;
  std::vector<float> got = fetchResult<float>(instance, ra, 1, report);
  // The blocks' partial sums first: a wrong total says little about why.
  std::string partials;
  report.correct = exactly(fetchResult<float>(instance, pa, blocks, report),
                           wantPartial, partials) &&
                   exactly(got, want, report.check);
  if (!report.correct && report.check.empty())
    report.check = "partial sums: " + partials;
  report.check += "; the sum in double is " + std::to_string(exact);
  if (options.benchmark && device.gpu())
    timeWasm(*device.gpu(), options, "reduce_sum", run, report);
  report.work = double(n) * 4;

  if (!options.twinDir.empty() && device.gpu()) {
    Gpu &gpu = *device.gpu();
    DeviceModule twin(gpu, options.twinDir + "/reduce_sum.cubin");
    CUfunction f = twin.function("reduce_sum");
    DeviceBuffer dx(gpu, x), dp(gpu, blocks * 4), dr(gpu, 4);
    auto runTwin = [&] {
      launchTwin(gpu, f, {blocks}, {256}, {&n, &dx.pointer, &dp.pointer});
      launchTwin(gpu, f, {1}, {256}, {&blocks, &dp.pointer, &dr.pointer});
    };
    runTwin();
    gpu.synchronize();
    report.twinRan = true;
    report.twinCorrect = exactly(dr.fetch<float>(), want, report.twinCheck);
    if (options.benchmark)
      report.twinMs = gpu.medianMs(runTwin, options.repetitions);
  }
  return report;
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

CaseReport transpose(CaseDevice &device, const CaseOptions &options) {
  CaseReport report;
  report.name = "transpose";
  uint32_t width = options.benchmark ? 8192 : 1000;
  uint32_t height = options.benchmark ? 8192 : 777;
  report.problem = std::to_string(height) + " x " + std::to_string(width);
  size_t count = size_t(width) * height;
  std::vector<float> in = randomFloats(count, 4);
  std::vector<float> want(count);
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x)
      want[size_t(x) * height + y] = in[size_t(y) * width + x];
  Dim3 grid{blocksFor(width, 32), blocksFor(height, 32)}, block{32, 8};

  std::unique_ptr<KernelInstance> held = device.instantiate(
      codeOf(device, options, "transpose"), manifestOf(options, "transpose"),
      2ull * count * 4 + 4096);
  KernelInstance &instance = *held;
  uint32_t ia = place(instance, in), oa = instance.reserve(count * 4);
  auto run = [&](DeviceModule *variant) {
    launchWasm(instance, variant, "transpose", grid, block,
               {Arg::i32(width), Arg::i32(height), Arg::i32(ia), Arg::i32(oa)});
  };
  run(nullptr);
  if (!ranWithoutTrap(instance, report))
    return report;
  report.correct = exactly(fetchResult<float>(instance, oa, count, report),
                           want, report.check);
  if (options.benchmark && device.gpu())
    timeWasm(*device.gpu(), options, "transpose", run, report);
  report.work = 2.0 * count * 4;

  if (!options.twinDir.empty() && device.gpu()) {
    Gpu &gpu = *device.gpu();
    DeviceModule twin(gpu, options.twinDir + "/transpose.cubin");
    CUfunction f = twin.function("transpose");
    DeviceBuffer di(gpu, in), dout(gpu, count * 4);
    auto runTwin = [&] {
      launchTwin(gpu, f, grid, block,
                 {&width, &height, &di.pointer, &dout.pointer});
    };
    runTwin();
    gpu.synchronize();
    report.twinRan = true;
    report.twinCorrect = exactly(dout.fetch<float>(), want, report.twinCheck);
    if (options.benchmark)
      report.twinMs = gpu.medianMs(runTwin, options.repetitions);
  }
  return report;
}

//===----------------------------------------------------------------------===//
// stencil5
//===----------------------------------------------------------------------===//

CaseReport stencil(CaseDevice &device, const CaseOptions &options) {
  CaseReport report;
  report.name = "stencil5";
  uint32_t width = options.benchmark ? 8192 : 999;
  uint32_t height = options.benchmark ? 8192 : 517;
  report.problem = std::to_string(height) + " x " + std::to_string(width);
  size_t count = size_t(width) * height;
  float c0 = 0.5f, c1 = 0.125f;
  std::vector<float> in = randomFloats(count, 5);
  std::vector<float> want(count);
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x) {
      size_t i = size_t(y) * width + x;
      if (x == 0 || y == 0 || x == width - 1 || y == height - 1)
        want[i] = in[i];
      else
        want[i] = c0 * in[i] +
                  c1 * (in[i - 1] + in[i + 1] + in[i - width] + in[i + width]);
    }
  Dim3 grid{blocksFor(width, 32), blocksFor(height, 8)}, block{32, 8};

  std::unique_ptr<KernelInstance> held = device.instantiate(
      codeOf(device, options, "stencil"), manifestOf(options, "stencil"),
      2ull * count * 4 + 4096);
  KernelInstance &instance = *held;
  uint32_t ia = place(instance, in), oa = instance.reserve(count * 4);
  auto run = [&](DeviceModule *variant) {
    launchWasm(instance, variant, "stencil5", grid, block,
               {Arg::i32(width), Arg::i32(height), Arg::f32(c0), Arg::f32(c1),
                Arg::i32(ia), Arg::i32(oa)});
  };
  run(nullptr);
  if (!ranWithoutTrap(instance, report))
    return report;
  report.correct = exactly(fetchResult<float>(instance, oa, count, report),
                           want, report.check);
  if (options.benchmark && device.gpu())
    timeWasm(*device.gpu(), options, "stencil", run, report);
  report.work = 2.0 * count * 4;

  if (!options.twinDir.empty() && device.gpu()) {
    Gpu &gpu = *device.gpu();
    DeviceModule twin(gpu, options.twinDir + "/stencil.cubin");
    CUfunction f = twin.function("stencil5");
    DeviceBuffer di(gpu, in), dout(gpu, count * 4);
    auto runTwin = [&] {
      launchTwin(gpu, f, grid, block,
                 {&width, &height, &c0, &c1, &di.pointer, &dout.pointer});
    };
    runTwin();
    gpu.synchronize();
    report.twinRan = true;
    // nvcc fuses c0*in + c1*(...) into one fma.
    report.twinCorrect =
        withinUlps(dout.fetch<float>(), want, 2, report.twinCheck);
    if (options.benchmark)
      report.twinMs = gpu.medianMs(runTwin, options.repetitions);
  }
  return report;
}

//===----------------------------------------------------------------------===//
// sgemm
//===----------------------------------------------------------------------===//

CaseReport sgemm(CaseDevice &device, const CaseOptions &options) {
  CaseReport report;
  report.name = "sgemm";
  uint32_t n = options.benchmark ? 4096 : 256;
  report.problem = std::to_string(n) + " x " + std::to_string(n);
  size_t count = size_t(n) * n;
  std::vector<float> a = randomFloats(count, 6), b = randomFloats(count, 7);
  // The kernel accumulates with fmaf in ascending k; so does the reference,
  // on every element of small problems and on a sample of large ones.
  std::vector<std::pair<uint32_t, uint32_t>> sample;
  if (options.benchmark) {
    std::mt19937 rng(8);
    for (int s = 0; s < 1024; ++s)
      sample.push_back({rng() % n, rng() % n});
  } else {
    for (uint32_t i = 0; i < n; ++i)
      for (uint32_t j = 0; j < n; ++j)
        sample.push_back({i, j});
  }
  std::vector<float> want;
  for (auto [i, j] : sample) {
    float acc = 0.0f;
    for (uint32_t k = 0; k < n; ++k)
      acc = std::fmaf(a[size_t(i) * n + k], b[size_t(k) * n + j], acc);
    want.push_back(acc);
  }
  auto sampled = [&](const std::vector<float> &c) {
    std::vector<float> values;
    for (auto [i, j] : sample)
      values.push_back(c[size_t(i) * n + j]);
    return values;
  };
  Dim3 grid{n / 32, n / 32}, block{32, 8};

  std::unique_ptr<KernelInstance> held =
      device.instantiate(codeOf(device, options, "sgemm"),
                         manifestOf(options, "sgemm"), 3ull * count * 4 + 4096);
  KernelInstance &instance = *held;
  uint32_t aa = place(instance, a), ba = place(instance, b);
  uint32_t ca = instance.reserve(count * 4);
  auto run = [&](DeviceModule *variant) {
    launchWasm(instance, variant, "sgemm", grid, block,
               {Arg::i32(n), Arg::i32(aa), Arg::i32(ba), Arg::i32(ca)});
  };
  run(nullptr);
  if (!ranWithoutTrap(instance, report))
    return report;
  report.correct =
      exactly(sampled(fetchResult<float>(instance, ca, count, report)), want,
              report.check);
  if (options.benchmark && device.gpu())
    timeWasm(*device.gpu(), options, "sgemm", run, report);
  report.work = 2.0 * n * n * double(n);
  report.workIsFlops = true;

  if (!options.twinDir.empty() && device.gpu()) {
    Gpu &gpu = *device.gpu();
    DeviceModule twin(gpu, options.twinDir + "/sgemm.cubin");
    CUfunction f = twin.function("sgemm");
    DeviceBuffer da(gpu, a), db(gpu, b), dc(gpu, count * 4);
    auto runTwin = [&] {
      launchTwin(gpu, f, grid, block,
                 {&n, &da.pointer, &db.pointer, &dc.pointer});
    };
    runTwin();
    gpu.synchronize();
    report.twinRan = true;
    report.twinCorrect =
        exactly(sampled(dc.fetch<float>()), want, report.twinCheck);
    if (options.benchmark)
      report.twinMs = gpu.medianMs(runTwin, options.repetitions);
  }
  return report;
}

//===----------------------------------------------------------------------===//
// softmax
//===----------------------------------------------------------------------===//

CaseReport softmax(CaseDevice &device, const CaseOptions &options) {
  CaseReport report;
  report.name = "softmax";
  uint32_t rows = options.benchmark ? 65536 : 37;
  uint32_t cols = options.benchmark ? 1024 : 1000;
  report.problem = std::to_string(rows) + " rows x " + std::to_string(cols);
  size_t count = size_t(rows) * cols;
  std::vector<float> in = randomFloats(count, 9, -8.0f, 8.0f);
  std::vector<double> want(count);
  for (uint32_t r = 0; r < rows; ++r) {
    const float *x = &in[size_t(r) * cols];
    double max = *std::max_element(x, x + cols), sum = 0;
    for (uint32_t c = 0; c < cols; ++c)
      sum += std::exp(double(x[c]) - max);
    for (uint32_t c = 0; c < cols; ++c)
      want[size_t(r) * cols + c] = std::exp(double(x[c]) - max) / sum;
  }
  // The approximate exponential (ex2.approx after a rounded multiply by
  // log2 e) is within 2 + 1.2|x| ulp for |x| <= 16 here, about 2.5e-6
  // relative; summing up to 1024 float terms adds at most 1024 * 2^-24
  // (6e-5) relative, usually far less. 1e-4 covers both with margin.
  const double tolerance = 1e-4;
  Dim3 grid{rows}, block{256};

  std::unique_ptr<KernelInstance> held = device.instantiate(
      codeOf(device, options, "softmax"), manifestOf(options, "softmax"),
      2ull * count * 4 + 4096);
  KernelInstance &instance = *held;
  uint32_t ia = place(instance, in), oa = instance.reserve(count * 4);
  auto run = [&](DeviceModule *variant) {
    launchWasm(instance, variant, "softmax", grid, block,
               {Arg::i32(rows), Arg::i32(cols), Arg::i32(ia), Arg::i32(oa)});
  };
  run(nullptr);
  if (!ranWithoutTrap(instance, report))
    return report;
  std::vector<float> got = fetchResult<float>(instance, oa, count, report);
  report.correct = withinRelative(got, want, tolerance, report.check);
  if (options.benchmark && device.gpu())
    timeWasm(*device.gpu(), options, "softmax", run, report);
  report.work = 2.0 * count * 4;

  if (!options.twinDir.empty() && device.gpu()) {
    Gpu &gpu = *device.gpu();
    DeviceModule twin(gpu, options.twinDir + "/softmax.cubin");
    CUfunction f = twin.function("softmax");
    DeviceBuffer di(gpu, in), dout(gpu, count * 4);
    auto runTwin = [&] {
      launchTwin(gpu, f, grid, block,
                 {&rows, &cols, &di.pointer, &dout.pointer});
    };
    runTwin();
    gpu.synchronize();
    report.twinRan = true;
    std::vector<float> twinGot = dout.fetch<float>();
    report.twinCorrect =
        withinRelative(twinGot, want, tolerance, report.twinCheck);
    std::string same;
    exactly(twinGot, got, same);
    report.twinCheck += "; against the Wasm kernel: " + same;
    if (options.benchmark)
      report.twinMs = gpu.medianMs(runTwin, options.repetitions);
  }
  return report;
}

//===----------------------------------------------------------------------===//
// histogram
//===----------------------------------------------------------------------===//

CaseReport histogram(CaseDevice &device, const CaseOptions &options) {
  CaseReport report;
  report.name = "histogram";
  uint32_t n = options.benchmark ? (1u << 26) : 100003u;
  unsigned blocks = gridBlocks(device, options);
  report.problem = std::to_string(n) + " words (" + std::to_string(4ull * n) +
                   " byte samples)";
  std::vector<uint32_t> data(n);
  std::mt19937 rng(10);
  // Skewed, so some bins are hot: the sum of two bytes' high bits.
  for (uint32_t &word : data)
    word = rng() & (rng() | 0x0f0f0f0fu);
  std::vector<uint32_t> want(256, 0);
  for (uint32_t word : data)
    for (int byte = 0; byte < 4; ++byte)
      ++want[(word >> (8 * byte)) & 0xff];
  std::vector<uint32_t> zeros(256, 0);

  std::unique_ptr<KernelInstance> held = device.instantiate(
      codeOf(device, options, "histogram"), manifestOf(options, "histogram"),
      uint64_t(n) * 4 + 8192);
  KernelInstance &instance = *held;
  uint32_t da = place(instance, data), ba = place(instance, zeros);
  auto run = [&](DeviceModule *variant) {
    instance.zero(ba, 1024);
    launchWasm(instance, variant, "histogram", {blocks}, {256},
               {Arg::i32(n), Arg::i32(da), Arg::i32(ba)});
  };
  run(nullptr);
  if (!ranWithoutTrap(instance, report))
    return report;
  report.correct = exactly(fetchResult<uint32_t>(instance, ba, 256, report),
                           want, report.check);
  if (options.benchmark && device.gpu())
    timeWasm(*device.gpu(), options, "histogram", run, report);
  report.work = double(n) * 4;

  if (!options.twinDir.empty() && device.gpu()) {
    Gpu &gpu = *device.gpu();
    DeviceModule twin(gpu, options.twinDir + "/histogram.cubin");
    CUfunction f = twin.function("histogram");
    DeviceBuffer dd(gpu, data), db(gpu, zeros);
    auto runTwin = [&] {
      gpu.check(gpu.driver().memsetD8Async(db.pointer, 0, 1024, gpu.stream),
                "cuMemsetD8Async");
      launchTwin(gpu, f, {blocks}, {256}, {&n, &dd.pointer, &db.pointer});
    };
    runTwin();
    gpu.synchronize();
    report.twinRan = true;
    report.twinCorrect = exactly(db.fetch<uint32_t>(), want, report.twinCheck);
    if (options.benchmark)
      report.twinMs = gpu.medianMs(runTwin, options.repetitions);
  }
  return report;
}

} // namespace

KernelInstance::~KernelInstance() = default;
CaseDevice::~CaseDevice() = default;

std::unique_ptr<KernelInstance>
GpuDevice::instantiate(const std::string &code, const std::string &manifest,
                       uint64_t extraBytes) {
  return std::make_unique<WasmInstance>(device, code, manifest, extraBytes);
}

const std::vector<std::pair<std::string, CaseFunction>> &bench::kernelCases() {
  static const std::vector<std::pair<std::string, CaseFunction>> cases = {
      {"saxpy", saxpy},         {"reduce_sum", reduceSum},
      {"transpose", transpose}, {"stencil", stencil},
      {"sgemm", sgemm},         {"softmax", softmax},
      {"histogram", histogram}};
  return cases;
}
