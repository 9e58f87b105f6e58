//===- KernelBench.cpp - the example kernels against their nvcc twins
//------===//
//
// twasm-bench-kernels KERNEL_DIR TWIN_DIR [--json FILE] [--repetitions N]
//                     [--kernel NAME]...
//
// Runs each example kernel and its nvcc twin on the same GPU in one run, at
// sizes that saturate an H100, and reports the median time of N timed runs
// after warm-up, the ratio nvcc/twasm, the achieved rate, and what bounds
// and epoch checks cost (the same kernel compiled without them). Exits
// non-zero if a result is wrong.
//
//===----------------------------------------------------------------------===//

#include "KernelCases.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

using namespace tensorwasm::bench;

static double geomean(const std::vector<double> &values) {
  double logSum = 0;
  for (double v : values)
    logSum += std::log(v);
  return values.empty() ? 0 : std::exp(logSum / values.size());
}

int main(int argc, char **argv) {
  CaseOptions options;
  options.benchmark = true;
  std::string jsonPath;
  std::vector<std::string> positional, only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json") && i + 1 < argc)
      jsonPath = argv[++i];
    else if (!std::strcmp(argv[i], "--repetitions") && i + 1 < argc)
      options.repetitions = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--kernel") && i + 1 < argc)
      only.push_back(argv[++i]);
    else
      positional.push_back(argv[i]);
  }
  if (positional.size() != 2 || options.repetitions < 1) {
    std::fprintf(stderr,
                 "usage: %s KERNEL_DIR TWIN_DIR [--json FILE] "
                 "[--repetitions N] [--kernel NAME]...\n",
                 argv[0]);
    return 2;
  }
  options.kernelDir = positional[0];
  options.twinDir = positional[1];

  std::string error;
  std::unique_ptr<Gpu> gpu = Gpu::open(error);
  if (!gpu) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  std::printf("device: %s (sm_%d%d, %d SMs), driver %d\n", gpu->name.c_str(),
              gpu->computeMajor, gpu->computeMinor, gpu->multiprocessors,
              gpu->driverVersion);
  std::printf("median of %d timed runs after 3 warm-up runs\n\n",
              options.repetitions);

  nlohmann::json results = nlohmann::json::array();
  std::vector<double> ratios, checkCosts, boundsCosts, epochCosts;
  bool allCorrect = true;
  double saxpyShare = 0;
  std::printf("%-11s %10s %10s %7s %12s %12s %8s %8s %8s\n", "kernel",
              "twasm ms", "nvcc ms", "nvcc/tw", "twasm rate", "nvcc rate",
              "bounds", "epoch", "both");
  for (const auto &[name, run] : kernelCases()) {
    if (!only.empty() &&
        std::find(only.begin(), only.end(), name) == only.end())
      continue;
    CaseReport r;
    try {
      GpuDevice device(*gpu);
      r = run(device, options);
    } catch (const HarnessError &e) {
      std::fprintf(stderr, "error: %s: %s\n", name.c_str(), e.what());
      return 1;
    }
    allCorrect &= r.correct && r.twinCorrect;
    double scale = r.workIsFlops ? 1e9 : 1e9; // per second, in G units
    auto rate = [&](double ms) { return r.work / (ms * 1e-3) / scale; };
    const char *unit = r.workIsFlops ? "GFLOP/s" : "GB/s";
    double ratio = r.twinMs / r.twasmMs;
    double boundsCost = r.twasmMs / r.noBoundsMs - 1;
    double epochCost = r.twasmMs / r.noEpochMs - 1;
    double bothCost = r.twasmMs / r.uncheckedMs - 1;
    ratios.push_back(ratio);
    checkCosts.push_back(r.twasmMs / r.uncheckedMs);
    boundsCosts.push_back(r.twasmMs / r.noBoundsMs);
    epochCosts.push_back(r.twasmMs / r.noEpochMs);
    std::printf("%-11s %10.4f %10.4f %7.3f %7.1f %-7s %4.1f %-7s %+7.1f%% "
                "%+7.1f%% %+7.1f%%\n",
                name.c_str(), r.twasmMs, r.twinMs, ratio, rate(r.twasmMs), unit,
                rate(r.twinMs), unit, 100 * boundsCost, 100 * epochCost,
                100 * bothCost);
    if (r.copyGBps > 0) {
      saxpyShare = rate(r.twasmMs) / r.copyGBps;
      std::printf("%-11s device-to-device copy: %.1f GB/s; saxpy reaches "
                  "%.1f%% of it\n",
                  "", r.copyGBps, 100 * saxpyShare);
    }
    if (!r.correct || !r.twinCorrect)
      std::printf("%-11s WRONG: twasm: %s; nvcc: %s\n", "", r.check.c_str(),
                  r.twinCheck.c_str());
    results.push_back({{"kernel", name},
                       {"problem", r.problem},
                       {"correct", r.correct},
                       {"check", r.check},
                       {"twin_correct", r.twinCorrect},
                       {"twin_check", r.twinCheck},
                       {"twasm_ms", r.twasmMs},
                       {"nvcc_ms", r.twinMs},
                       {"no_bounds_ms", r.noBoundsMs},
                       {"no_epoch_ms", r.noEpochMs},
                       {"unchecked_ms", r.uncheckedMs},
                       {"work", r.work},
                       {"work_unit", r.workIsFlops ? "flop" : "byte"},
                       {"copy_gbps", r.copyGBps}});
  }
  double geoRatio = geomean(ratios);
  double geoChecks = geomean(checkCosts) - 1;
  std::printf("\ngeometric mean nvcc/twasm: %.3f\n", geoRatio);
  std::printf("geometric mean cost of bounds checks: %+.1f%%, of epoch "
              "checks: %+.1f%%, of both: %+.1f%%\n",
              100 * (geomean(boundsCosts) - 1), 100 * (geomean(epochCosts) - 1),
              100 * geoChecks);
  std::printf("saxpy / device-to-device copy bandwidth: %.1f%%\n",
              100 * saxpyShare);
  std::printf("all results correct: %s\n", allCorrect ? "yes" : "NO");

  if (!jsonPath.empty()) {
    nlohmann::json report = {{"device", gpu->name},
                             {"sm", std::to_string(gpu->computeMajor) +
                                        std::to_string(gpu->computeMinor)},
                             {"driver", gpu->driverVersion},
                             {"repetitions", options.repetitions},
                             {"kernels", results},
                             {"geomean_nvcc_over_twasm", geoRatio},
                             {"geomean_check_cost", geoChecks},
                             {"saxpy_share_of_copy", saxpyShare}};
    std::ofstream(jsonPath) << report.dump(2) << "\n";
  }
  return allCorrect ? 0 : 1;
}
