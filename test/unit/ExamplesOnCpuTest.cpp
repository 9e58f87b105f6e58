//===- ExamplesOnCpuTest.cpp - the example kernels on the CPU -------------===//
//
// twasm-cpu-example-tests --kernel-dir DIR
//
// Every example kernel, compiled for the CPU and launched by the runtime's
// KernelExecutor, against the CPU reference the GPU tests use (bench/gpu/
// KernelCases.cpp: same inputs, launches and checks). Each prints the digest
// of its results; twasm-gpu-tests prints the digest of the same case on the
// GPU, so equal digests show bit-identical results on the two devices.
//
//===----------------------------------------------------------------------===//

#include "HostHarness.h"

#include <gtest/gtest.h>

using namespace tensorwasm::bench;

namespace {

std::string kernelDir;

class ExampleOnCpu : public ::testing::TestWithParam<size_t> {};

TEST_P(ExampleOnCpu, MatchesTheReference) {
  const auto &[name, run] = kernelCases()[GetParam()];
  ASSERT_FALSE(kernelDir.empty()) << "--kernel-dir is required";
  static HostDevice device;
  CaseOptions options;
  options.kernelDir = kernelDir;
  CaseReport report;
  try {
    report = run(device, options);
  } catch (const HarnessError &error) {
    FAIL() << name << ": " << error.what();
  }
  EXPECT_TRUE(report.correct)
      << name << " (" << report.problem << "): " << report.check;
  std::printf("[ %-9s] %s (%s): %s; result digest %016llx\n", "checked",
              name.c_str(), report.problem.c_str(), report.check.c_str(),
              static_cast<unsigned long long>(report.digest));
}

INSTANTIATE_TEST_SUITE_P(AllExamples, ExampleOnCpu,
                         ::testing::Range<size_t>(0, kernelCases().size()),
                         [](const ::testing::TestParamInfo<size_t> &info) {
                           return kernelCases()[info.param].first;
                         });

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--kernel-dir" && i + 1 < argc)
      kernelDir = argv[++i];
  }
  return RUN_ALL_TESTS();
}
