//===- KernelCases.h - the example kernels, run and checked on a GPU -*- C++
//-*-===//
//
// One case per kernel of examples/kernels: inputs, the launch, a CPU
// reference and the comparison, for the compiled Wasm kernel and for its
// nvcc-compiled twin (bench/cuda). The GPU tests run the cases small, for
// correctness; the benchmark runs them large enough to saturate the device,
// and times them. The same cases run on the CPU backend (CaseDevice), with
// the same inputs and references, so the two devices are held to the same
// results.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_BENCH_GPU_KERNELCASES_H
#define TWASM_BENCH_GPU_KERNELCASES_H

#include "GpuHarness.h"

#include <memory>
#include <string>
#include <vector>

namespace tensorwasm::bench {

/// Where the cases run.
class CaseDevice {
public:
  virtual ~CaseDevice();
  /// Instantiates `<stem><extension>` with the manifest `<manifest>`;
  /// linear memory is the module's initial size plus `extraBytes`.
  virtual std::unique_ptr<KernelInstance>
  instantiate(const std::string &code, const std::string &manifest,
              uint64_t extraBytes) = 0;
  /// The compiled code's file extension: ".ptx" or ".so".
  virtual std::string codeExtension() const = 0;
  /// The GPU, for the twins and timings; null on the CPU.
  virtual Gpu *gpu() { return nullptr; }
};

/// The GPU, through the harness.
class GpuDevice final : public CaseDevice {
public:
  explicit GpuDevice(Gpu &gpu) : device(gpu) {}
  std::unique_ptr<KernelInstance> instantiate(const std::string &code,
                                              const std::string &manifest,
                                              uint64_t extraBytes) override;
  std::string codeExtension() const override { return ".ptx"; }
  Gpu *gpu() override { return &device; }

private:
  Gpu &device;
};

struct CaseOptions {
  /// Where `<kernel>.ptx` (or `.so`) and `<kernel>.json` are, with the
  /// measurement-only variants `<kernel>.nobounds.ptx`, `.noepoch.ptx` and
  /// `.unchecked.ptx`.
  std::string kernelDir;
  /// Where the twins' `<kernel>.cubin` are; empty to skip the twins.
  std::string twinDir;
  /// Large problems and timings, rather than small ones checked in full.
  bool benchmark = false;
  /// Which compilation the checked run uses: "" (the safe one), or a
  /// measurement-only variant (".nobounds", ".noepoch", ".unchecked").
  std::string variant;
  int repetitions = 20;
};

struct CaseReport {
  std::string name;
  std::string problem; // e.g. "n = 67108864"
  bool correct = false;
  bool twinCorrect = false;
  bool twinRan = false;
  /// How the results were compared, and what was found.
  std::string check;
  std::string twinCheck;
  /// Median milliseconds per run (a run may be several launches); 0 when
  /// not measured.
  double twasmMs = 0, twinMs = 0, noBoundsMs = 0, noEpochMs = 0,
         uncheckedMs = 0;
  /// Work per run, for the rate: bytes moved (GB/s) or flops (GFLOP/s).
  double work = 0;
  bool workIsFlops = false;
  /// For saxpy: the device-to-device copy bandwidth of the same run (GB/s).
  double copyGBps = 0;
  /// FNV-1a of the output bytes the check compared: equal digests on two
  /// devices mean bit-identical results.
  uint64_t digest = 0;
};

using CaseFunction = CaseReport (*)(CaseDevice &, const CaseOptions &);

/// The seven example kernels, by name.
const std::vector<std::pair<std::string, CaseFunction>> &kernelCases();

} // namespace tensorwasm::bench

#endif // TWASM_BENCH_GPU_KERNELCASES_H
