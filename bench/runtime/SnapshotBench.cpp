//===- SnapshotBench.cpp - snapshots and restores of linear memory --------===//
//
// twasm-bench-snapshot ARTIFACT.twa PUBLISHER.pub [--device cpu|cuda]
//     [--memory managed|device] [--sizes 64,1024] [--repetitions 5]
//     [--dir DIR] [--json FILE]
//
// What snapshots cost (include/twasm/Snapshot.h), for linear memory of each
// size (MiB) and three kinds of content:
//
//  * dense: every byte pseudo-random (splitmix64);
//  * sparse: 99% zero: 1% of the 64 KiB pages (rounded down, spread evenly)
//    hold float32 samples of a smooth signal (realistic numeric data);
//  * sparse-random: the same pages hold random bytes instead (what
//    compression cannot shrink).
//
// For each, an instance of bench/runtime/snapshot_memory.wat (loaded from
// the signed artifact) grows to the size and is filled; then, each figure
// the minimum and the median of the repetitions after one untimed warm-up:
//
//  * snapshot: writeSnapshotFile, uncompressed and zstd level 3 (the file
//    written atomically: fsync and rename included), and the file's size;
//  * restore: restoreSnapshotFile of each file (mapped, and in the page
//    cache since it was just written), timing the call alone: the restored
//    instance is destroyed after the clock stops. The warm-up restore (the
//    GPU's pinned staging buffers are made then and kept) is compared with
//    the original instance, byte for byte.
//
// Against, per size, the raw copy a restore cannot beat: on the GPU
// cuMemcpyHtoD of the same bytes into a cuMemAlloc'd buffer from pageable
// (malloc'd, touched) and from pinned (cuMemAllocHost) memory, through the
// runtime's driver table; on the cpu a single-threaded memcpy into a
// touched buffer. The headline is the dense, uncompressed restore's median
// throughput over the raw copies' medians.
//
// GPU memory is checked before each step: a case runs only where the GPU
// has the original and the restored instance free, the raw copy where it
// has its buffer free. Host buffers of the benchmark's own stay at most
// twice the size.
//
//===----------------------------------------------------------------------===//

#include "cuda/CudaDriver.h"
#include "twasm/Artifact.h"
#include "twasm/Runtime.h"
#include "twasm/Snapshot.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace tensorwasm;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr uint64_t kPageBytes = 65536;
constexpr uint64_t kMiB = uint64_t(1) << 20;
/// The largest piece the benchmark fills, reads or compares at once.
constexpr uint64_t kPieceBytes = 64 * kMiB;
/// GPU memory left free beyond what a step needs (the context, the
/// runtime's own small allocations, other users).
constexpr uint64_t kGpuMarginBytes = 256 * kMiB;
/// Every how many pages the sparse contents hold data.
constexpr uint64_t kSparseStride = 100;

/// The temporary directory the benchmark made, removed on the way out.
std::string temporaryDirectory;

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "twasm-bench-snapshot: %s\n", message.c_str());
  if (!temporaryDirectory.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temporaryDirectory, ignored);
  }
  std::exit(1);
}

template <typename T> T must(Result<T> result, const std::string &what) {
  if (!result)
    die(what + ": " + result.error().message);
  return std::move(*result);
}

void must(const Status &status, const std::string &what) {
  if (!status)
    die(what + ": " + status.error().message);
}

double milliseconds(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

/// The minimum and median of timed repetitions, and the throughput they
/// give over `bytes`.
struct Timing {
  double minMs = 0, medianMs = 0;
  uint64_t bytes = 0;
  double bestGBps() const { return bytes / (minMs * 1e6); }
  double medianGBps() const { return bytes / (medianMs * 1e6); }
  json toJson() const {
    return {{"min_ms", minMs},
            {"median_ms", medianMs},
            {"best_GBps", bestGBps()},
            {"median_GBps", medianGBps()}};
  }
};

Timing summarize(std::vector<double> times, uint64_t bytes) {
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  double median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  return {times.front(), median, bytes};
}

/// Times `call` `repetitions` times after one untimed warm-up; `call`
/// returns the milliseconds it measured itself.
Timing measure(int repetitions, uint64_t bytes,
               const std::function<double()> &call) {
  (void)call();
  std::vector<double> times;
  for (int i = 0; i < repetitions; ++i)
    times.push_back(call());
  return summarize(std::move(times), bytes);
}

/// splitmix64: fast, and random enough that nothing compresses it.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  void fill(uint8_t *bytes, size_t size) {
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
      uint64_t value = next();
      std::memcpy(bytes + i, &value, 8);
    }
    if (i < size) {
      uint64_t value = next();
      std::memcpy(bytes + i, &value, size - i);
    }
  }
};

enum class Content { Dense, Sparse, SparseRandom };
const char *contentName(Content content) {
  switch (content) {
  case Content::Dense:
    return "dense";
  case Content::Sparse:
    return "sparse";
  case Content::SparseRandom:
    return "sparse-random";
  }
  return "?";
}

/// Writes the content into `instance`'s memory (freshly grown: zero);
/// returns the pages that hold data.
uint64_t fill(Instance &instance, Content content, uint64_t bytes,
              uint64_t seed) {
  Random random{seed};
  uint64_t pages = bytes / kPageBytes;
  if (content == Content::Dense) {
    std::vector<uint8_t> piece(std::min(bytes, kPieceBytes));
    for (uint64_t done = 0; done < bytes; done += piece.size()) {
      size_t size = std::min<uint64_t>(piece.size(), bytes - done);
      random.fill(piece.data(), size);
      must(instance.write(done, piece.data(), size), "write");
    }
    return pages;
  }
  std::vector<uint8_t> page(kPageBytes);
  uint64_t dataPages = 0;
  // 1% of the pages, rounded down: the memory is at least 99% zero.
  uint64_t dataPageCount = pages / kSparseStride;
  for (uint64_t n = 0; n < dataPageCount; ++n) {
    uint64_t index = n * pages / dataPageCount;
    if (content == Content::Sparse) {
      // float32 samples of a smooth signal, indexed by their address.
      uint64_t first = index * kPageBytes / 4;
      for (uint64_t i = 0; i < kPageBytes / 4; ++i) {
        float sample = static_cast<float>(
            std::sin(static_cast<double>(first + i) * 0.001) * 100.0);
        std::memcpy(page.data() + i * 4, &sample, 4);
      }
    } else {
      random.fill(page.data(), page.size());
    }
    must(instance.write(index * kPageBytes, page.data(), page.size()), "write");
    ++dataPages;
  }
  return dataPages;
}

/// Whether two instances' memories are the same, compared in pieces.
bool identical(const Instance &a, const Instance &b) {
  if (a.memoryBytes() != b.memoryBytes())
    return false;
  uint64_t bytes = a.memoryBytes();
  std::vector<uint8_t> left(std::min(bytes, kPieceBytes)), right(left.size());
  for (uint64_t done = 0; done < bytes; done += left.size()) {
    size_t size = std::min<uint64_t>(left.size(), bytes - done);
    must(a.read(done, left.data(), size), "read the original");
    must(b.read(done, right.data(), size), "read the restored instance");
    if (std::memcmp(left.data(), right.data(), size) != 0)
      return false;
  }
  return true;
}

/// The GPU through the runtime's driver table, in the primary context the
/// cuda device also uses: free memory, and the raw copies.
class RawGpu {
public:
  explicit RawGpu(int ordinal) {
    std::string error;
    driver = cuda::Driver::load(error);
    if (!driver)
      die("the CUDA driver: " + error);
    check(driver->init(0), "cuInit");
    check(driver->deviceGet(&device, ordinal), "cuDeviceGet");
    check(driver->primaryCtxRetain(&context, device),
          "cuDevicePrimaryCtxRetain");
    enter();
  }
  ~RawGpu() {
    if (context)
      driver->primaryCtxRelease(device);
  }

  void check(cuda::CUresult result, const char *what) const {
    if (result != cuda::CUDA_SUCCESS)
      die(std::string(what) + " failed: " + driver->describe(result));
  }
  void enter() const {
    check(driver->ctxSetCurrent(context), "cuCtxSetCurrent");
  }

  uint64_t freeBytes() const {
    enter();
    size_t free = 0, total = 0;
    check(driver->memGetInfo(&free, &total), "cuMemGetInfo");
    return free;
  }

  /// cuMemcpyHtoD of `bytes` from pageable and from pinned memory into
  /// device memory; the pageable buffer is freed before the pinned one is
  /// made.
  std::pair<Timing, Timing> hostToDevice(uint64_t bytes, int repetitions) {
    enter();
    cuda::CUdeviceptr target = 0;
    check(driver->memAlloc(&target, bytes), "cuMemAlloc");
    auto copyFrom = [&](const void *source) {
      return [this, target, source, bytes] {
        enter();
        auto started = Clock::now();
        check(driver->memcpyHtoD(target, source, bytes), "cuMemcpyHtoD");
        // From pageable memory the call may return before the last DMA
        // lands.
        check(driver->ctxSynchronize(), "cuCtxSynchronize");
        return milliseconds(Clock::now() - started);
      };
    };
    Timing pageable;
    {
      std::unique_ptr<uint8_t, decltype(&std::free)> source(
          static_cast<uint8_t *>(std::malloc(bytes)), std::free);
      if (!source)
        die("cannot allocate " + std::to_string(bytes) + " host bytes");
      std::memset(source.get(), 0x5a, bytes);
      pageable = measure(repetitions, bytes, copyFrom(source.get()));
    }
    void *pinned = nullptr;
    check(driver->memAllocHost(&pinned, bytes), "cuMemAllocHost");
    std::memset(pinned, 0x5a, bytes);
    Timing pinnedTiming = measure(repetitions, bytes, copyFrom(pinned));
    enter();
    driver->memFreeHost(pinned);
    driver->memFree(target);
    return {pageable, pinnedTiming};
  }

private:
  std::unique_ptr<cuda::Driver> driver;
  cuda::CUdevice device = 0;
  cuda::CUcontext context = nullptr;
};

/// A single-threaded memcpy of `bytes` into a touched buffer.
Timing hostMemcpy(uint64_t bytes, int repetitions) {
  std::unique_ptr<uint8_t, decltype(&std::free)> source(
      static_cast<uint8_t *>(std::malloc(bytes)), std::free),
      target(static_cast<uint8_t *>(std::malloc(bytes)), std::free);
  if (!source || !target)
    die("cannot allocate 2 x " + std::to_string(bytes) + " host bytes");
  std::memset(source.get(), 0x5a, bytes);
  std::memset(target.get(), 0, bytes);
  return measure(repetitions, bytes, [&] {
    auto started = Clock::now();
    std::memcpy(target.get(), source.get(), bytes);
    // Keep the copy from being optimised away.
    asm volatile("" : : "r"(target.get()) : "memory");
    return milliseconds(Clock::now() - started);
  });
}

struct Compression {
  const char *name;
  SnapshotCompression kind;
};
const Compression kCompressions[] = {{"none", SnapshotCompression::None},
                                     {"zstd-3", SnapshotCompression::Zstd}};

/// One size and content's figures, per compression.
struct Case {
  uint64_t sizeMiB = 0;
  Content content = Content::Dense;
  std::optional<std::string> skipped;
  uint64_t dataPages = 0;
  Timing snapshot[2], restore[2];
  uint64_t fileBytes[2] = {0, 0};
  bool identical[2] = {false, false};
};

struct SizeFigures {
  uint64_t sizeMiB = 0;
  std::vector<Case> cases;
  /// cuda: pageable and pinned cuMemcpyHtoD; cpu: memcpy in the first.
  std::optional<Timing> raw[2];
  std::optional<std::string> rawSkipped;
};

struct Settings {
  int repetitions = 5;
  std::string directory;
};

Case runCase(Module &module, const SnapshotKey &key,
             const SnapshotKeyring &keyring, RawGpu *gpu, uint64_t sizeMiB,
             Content content, const Settings &settings) {
  Case result;
  result.sizeMiB = sizeMiB;
  result.content = content;
  const uint64_t bytes = sizeMiB * kMiB;
  // The original and one restored instance at a time.
  if (gpu && gpu->freeBytes() < 2 * bytes + kGpuMarginBytes) {
    result.skipped = "the GPU has " + std::to_string(gpu->freeBytes() / kMiB) +
                     " MiB free; the case needs " +
                     std::to_string((2 * bytes + kGpuMarginBytes) / kMiB);
    return result;
  }
  std::unique_ptr<Instance> original =
      must(module.instantiate(), "instantiate");
  uint64_t pages = original->memoryBytes() / kPageBytes;
  must(original->grow(static_cast<uint32_t>(bytes / kPageBytes - pages)),
       "grow to " + std::to_string(sizeMiB) + " MiB");
  result.dataPages =
      fill(*original, content, bytes, 0x5eed0000 + sizeMiB * 3 + int(content));

  std::string paths[2];
  for (int c = 0; c < 2; ++c) {
    paths[c] = settings.directory + "/" + std::to_string(sizeMiB) + "-" +
               contentName(content) + "-" + kCompressions[c].name + ".twsnap";
    SnapshotOptions options;
    options.compression = kCompressions[c].kind;
    options.compressionLevel = 3;
    result.snapshot[c] = measure(settings.repetitions, bytes, [&] {
      auto started = Clock::now();
      SnapshotInfo info =
          must(writeSnapshotFile(paths[c], module, *original, key, options),
               "snapshot");
      double ms = milliseconds(Clock::now() - started);
      result.fileBytes[c] = info.fileBytes;
      return ms;
    });
    std::error_code error;
    uint64_t onDisk = std::filesystem::file_size(paths[c], error);
    if (error || onDisk != result.fileBytes[c])
      die(paths[c] + ": the file holds " + std::to_string(onDisk) +
          " bytes; the snapshot said " + std::to_string(result.fileBytes[c]));
  }

  RestoreOptions options;
  for (int c = 0; c < 2; ++c) {
    // The warm-up: the GPU's staging buffers are made; its result is what
    // is compared.
    {
      std::unique_ptr<Instance> restored = must(
          restoreSnapshotFile(module, paths[c], keyring, options), "restore");
      result.identical[c] = identical(*original, *restored);
    }
    std::vector<double> times;
    for (int i = 0; i < settings.repetitions; ++i) {
      auto started = Clock::now();
      Result<std::unique_ptr<Instance>> restored =
          restoreSnapshotFile(module, paths[c], keyring, options);
      double ms = milliseconds(Clock::now() - started);
      (void)must(std::move(restored), "restore");
      times.push_back(ms);
    }
    result.restore[c] = summarize(std::move(times), bytes);
  }
  for (const std::string &path : paths)
    std::filesystem::remove(path);
  return result;
}

std::vector<uint64_t> parseSizes(const std::string &text) {
  std::vector<uint64_t> sizes;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    std::string item = text.substr(start, end - start);
    char *rest = nullptr;
    unsigned long long value = std::strtoull(item.c_str(), &rest, 10);
    if (item.empty() || *rest || value == 0 || value > 4096)
      die("--sizes " + text + ": expected MiB from 1 to 4096, comma-separated");
    sizes.push_back(value);
    start = end + 1;
  }
  return sizes;
}

std::string percent(uint64_t part, uint64_t whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f%%", 100.0 * part / whole);
  return text;
}

} // namespace

int main(int argc, char **argv) {
  const char *usage =
      "usage: twasm-bench-snapshot ARTIFACT.twa PUBLISHER.pub "
      "[--device cpu|cuda] [--memory managed|device] [--sizes 64,1024] "
      "[--repetitions N] [--dir DIR] [--json FILE]";
  std::vector<std::string> positional;
  std::string jsonPath, directory;
  std::vector<uint64_t> sizes = {64, 1024};
  Settings settings;
  DeviceOptions deviceOptions;
  deviceOptions.kind = DeviceKind::Cpu;
  bool memoryGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument.rfind("--", 0) != 0) {
      positional.push_back(argument);
      continue;
    }
    if (i + 1 >= argc)
      die(argument + " needs a value\n" + usage);
    std::string value = argv[++i];
    if (argument == "--device") {
      if (value == "cpu")
        deviceOptions.kind = DeviceKind::Cpu;
      else if (value == "cuda")
        deviceOptions.kind = DeviceKind::Cuda;
      else
        die("--device " + value + ": expected cpu or cuda");
    } else if (argument == "--memory") {
      if (value == "managed")
        deviceOptions.memory = MemoryMode::Managed;
      else if (value == "device")
        deviceOptions.memory = MemoryMode::Device;
      else
        die("--memory " + value + ": expected managed or device");
      memoryGiven = true;
    } else if (argument == "--sizes") {
      sizes = parseSizes(value);
    } else if (argument == "--repetitions") {
      settings.repetitions = std::atoi(value.c_str());
      if (settings.repetitions < 1 || settings.repetitions > 1000)
        die("--repetitions " + value + ": expected 1 to 1000");
    } else if (argument == "--dir") {
      directory = value;
    } else if (argument == "--json") {
      jsonPath = value;
    } else {
      die("unknown option " + argument + "\n" + usage);
    }
  }
  if (positional.size() != 2)
    die(usage);
  const bool onGpu = deviceOptions.kind == DeviceKind::Cuda;
  if (memoryGiven && !onGpu)
    die("--memory is for --device cuda");

  PublicKey publisher =
      must(PublicKey::readFile(positional[1]), "the publisher key");
  TrustPolicy trust;
  must(trust.add(publisher, {"*"}), "the trust policy");
  Artifact artifact =
      must(Artifact::readFile(positional[0], trust), positional[0]);
  std::shared_ptr<Device> device =
      must(Device::open(deviceOptions), "the device");
  std::shared_ptr<Module> module =
      must(device->loadArtifact(artifact), "load " + positional[0]);
  std::unique_ptr<RawGpu> gpu;
  if (onGpu)
    gpu = std::make_unique<RawGpu>(deviceOptions.gpuOrdinal);

  SnapshotKey key =
      must(SnapshotKey::generate("bench-snapshot"), "the snapshot key");
  SnapshotKeyring keyring;
  must(keyring.add(key), "the keyring");

  bool temporary = directory.empty();
  if (temporary) {
    char pattern[] = "/tmp/twasm-bench-snapshot-XXXXXX";
    if (!mkdtemp(pattern))
      die("cannot create a temporary directory");
    directory = pattern;
    temporaryDirectory = directory;
  } else {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error)
      die("--dir " + directory + ": " + error.message());
  }
  settings.directory = directory;

  std::printf("device: %s\n", device->description().c_str());
  std::printf("%u hardware threads; %d repetitions after a warm-up; "
              "snapshots in %s\n",
              std::thread::hardware_concurrency(), settings.repetitions,
              directory.c_str());

  const Content contents[] = {Content::Dense, Content::Sparse,
                              Content::SparseRandom};
  std::vector<SizeFigures> figures;
  bool allIdentical = true;
  for (uint64_t sizeMiB : sizes) {
    SizeFigures size;
    size.sizeMiB = sizeMiB;
    for (Content content : contents) {
      std::fprintf(stderr, "  %llu MiB %s...\n",
                   static_cast<unsigned long long>(sizeMiB),
                   contentName(content));
      size.cases.push_back(runCase(*module, key, keyring, gpu.get(), sizeMiB,
                                   content, settings));
      const Case &done = size.cases.back();
      if (!done.skipped)
        allIdentical = allIdentical && done.identical[0] && done.identical[1];
    }
    uint64_t bytes = sizeMiB * kMiB;
    if (!gpu) {
      size.raw[0] = hostMemcpy(bytes, settings.repetitions);
    } else if (gpu->freeBytes() < bytes + kGpuMarginBytes) {
      size.rawSkipped = "the GPU has " +
                        std::to_string(gpu->freeBytes() / kMiB) + " MiB free";
    } else {
      auto [pageable, pinned] = gpu->hostToDevice(bytes, settings.repetitions);
      size.raw[0] = pageable;
      size.raw[1] = pinned;
    }
    figures.push_back(std::move(size));
  }
  if (temporary) {
    std::filesystem::remove_all(directory);
    temporaryDirectory.clear();
  }

  // The table.
  std::printf("\n%-8s %-14s %-22s %9s %9s %8s %8s %10s %8s\n", "size",
              "content", "operation", "min ms", "median ms", "GB/s", "best",
              "file MiB", "file %");
  const char *rawNames[2] = {onGpu ? "raw H2D pageable" : "raw memcpy",
                             "raw H2D pinned"};
  for (const SizeFigures &size : figures) {
    uint64_t bytes = size.sizeMiB * kMiB;
    std::string sizeName = std::to_string(size.sizeMiB) + " MiB";
    for (const Case &done : size.cases) {
      if (done.skipped) {
        std::printf("%-8s %-14s skipped: %s\n", sizeName.c_str(),
                    contentName(done.content), done.skipped->c_str());
        continue;
      }
      for (int c = 0; c < 2; ++c) {
        std::string operation =
            std::string("snapshot ") + kCompressions[c].name;
        const Timing &t = done.snapshot[c];
        std::printf("%-8s %-14s %-22s %9.2f %9.2f %8.2f %8.2f %10.2f %8s\n",
                    sizeName.c_str(), contentName(done.content),
                    operation.c_str(), t.minMs, t.medianMs, t.medianGBps(),
                    t.bestGBps(), double(done.fileBytes[c]) / kMiB,
                    percent(done.fileBytes[c], bytes).c_str());
      }
      for (int c = 0; c < 2; ++c) {
        std::string operation = std::string("restore ") +
                                kCompressions[c].name +
                                (done.identical[c] ? "" : " DIFFERS");
        const Timing &t = done.restore[c];
        std::printf("%-8s %-14s %-22s %9.2f %9.2f %8.2f %8.2f\n",
                    sizeName.c_str(), contentName(done.content),
                    operation.c_str(), t.minMs, t.medianMs, t.medianGBps(),
                    t.bestGBps());
      }
      std::printf("%-8s %-14s data pages %llu of %llu; restored memory "
                  "identical: %s\n",
                  sizeName.c_str(), contentName(done.content),
                  static_cast<unsigned long long>(done.dataPages),
                  static_cast<unsigned long long>(bytes / kPageBytes),
                  done.identical[0] && done.identical[1] ? "true" : "false");
    }
    if (size.rawSkipped)
      std::printf("%-8s %-14s skipped: %s\n", sizeName.c_str(), "raw",
                  size.rawSkipped->c_str());
    for (int r = 0; r < 2; ++r)
      if (size.raw[r])
        std::printf("%-8s %-14s %-22s %9.2f %9.2f %8.2f %8.2f\n",
                    sizeName.c_str(), "", rawNames[r], size.raw[r]->minMs,
                    size.raw[r]->medianMs, size.raw[r]->medianGBps(),
                    size.raw[r]->bestGBps());
  }
  std::printf("\nheadline: dense, uncompressed restore (median) against the "
              "raw copy (median)\n");
  json sizesJson = json::array();
  for (const SizeFigures &size : figures) {
    const Case &dense = size.cases.front();
    std::optional<double> restoreGBps;
    if (!dense.skipped)
      restoreGBps = dense.restore[0].medianGBps();
    json headline = {{"restore_dense_none_median_GBps", nullptr}};
    std::printf("  %5llu MiB:", static_cast<unsigned long long>(size.sizeMiB));
    if (restoreGBps) {
      headline["restore_dense_none_median_GBps"] = *restoreGBps;
      std::printf(" restore %.2f GB/s", *restoreGBps);
    } else {
      std::printf(" restore skipped");
    }
    const char *ratioKeys[2] = {onGpu ? "ratio_to_pageable_h2d"
                                      : "ratio_to_memcpy",
                                "ratio_to_pinned_h2d"};
    for (int r = 0; r < (onGpu ? 2 : 1); ++r) {
      headline[ratioKeys[r]] = nullptr;
      if (restoreGBps && size.raw[r]) {
        double ratio = *restoreGBps / size.raw[r]->medianGBps();
        headline[ratioKeys[r]] = ratio;
        std::printf("; / %s %.2f GB/s = %.3f", rawNames[r],
                    size.raw[r]->medianGBps(), ratio);
      }
    }
    std::printf("\n");

    json cases = json::array();
    for (const Case &done : size.cases) {
      json entry = {{"content", contentName(done.content)}};
      if (done.skipped) {
        entry["skipped"] = *done.skipped;
        cases.push_back(entry);
        continue;
      }
      entry["data_pages"] = done.dataPages;
      entry["pages"] = size.sizeMiB * kMiB / kPageBytes;
      entry["identical"] = done.identical[0] && done.identical[1];
      for (int c = 0; c < 2; ++c) {
        json snapshot = done.snapshot[c].toJson();
        snapshot["file_bytes"] = done.fileBytes[c];
        snapshot["file_percent"] =
            100.0 * done.fileBytes[c] / (size.sizeMiB * kMiB);
        entry["snapshot"][kCompressions[c].name] = snapshot;
        json restore = done.restore[c].toJson();
        restore["identical"] = done.identical[c];
        entry["restore"][kCompressions[c].name] = restore;
      }
      cases.push_back(entry);
    }
    json raw = json::object();
    if (size.rawSkipped)
      raw["skipped"] = *size.rawSkipped;
    if (onGpu) {
      raw["h2d_pageable"] = size.raw[0] ? size.raw[0]->toJson() : json();
      raw["h2d_pinned"] = size.raw[1] ? size.raw[1]->toJson() : json();
    } else {
      raw["memcpy"] = size.raw[0]->toJson();
    }
    sizesJson.push_back({{"size_mib", size.sizeMiB},
                         {"bytes", size.sizeMiB * kMiB},
                         {"cases", cases},
                         {"raw", raw},
                         {"headline", headline}});
  }
  if (!allIdentical)
    std::printf("\nFAILED: a restored instance's memory differs from the "
                "original's\n");

  if (!jsonPath.empty()) {
    json document = {
        {"device", deviceKindName(device->kind())},
        {"description", device->description()},
        {"memory",
         onGpu ? json(deviceOptions.memory == MemoryMode::Managed ? "managed"
                                                                  : "device")
               : json()},
        {"hardware_threads", std::thread::hardware_concurrency()},
        {"repetitions", settings.repetitions},
        {"sizes_mib", sizes},
        {"sparse_pages_per_data_page", kSparseStride},
        {"zstd_level", 3},
        {"identical", allIdentical},
        {"sizes", sizesJson}};
    std::ofstream file(jsonPath);
    file << document.dump(2) << "\n";
    if (!file)
      die("cannot write " + jsonPath);
  }
  return allIdentical ? 0 : 1;
}
