//===- GpuKernelTest.cpp - compiled kernels on a real GPU -----------------===//
//
// twasm-gpu-tests --kernel-dir DIR --trap-dir DIR [--twin-dir DIR]
//
// Every example kernel, run on the GPU and compared with a CPU reference
// (and its nvcc twin, where built); every trap kind, recorded with the right
// code, function, block and thread, after which the same context runs the
// next launch correctly; and an endless kernel that stops soon after the
// control word is set. Without a CUDA driver or device every test is
// skipped, saying why.
//
//===----------------------------------------------------------------------===//

#include "KernelCases.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <thread>

using namespace tensorwasm;
using namespace tensorwasm::bench;

namespace {

std::string kernelDir, trapDir, twinDir, variant;

Gpu *sharedGpu(std::string &whyNot) {
  static std::string error;
  static std::unique_ptr<Gpu> gpu = Gpu::open(error);
  whyNot = error;
  return gpu.get();
}

class GpuTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    gpu = sharedGpu(why);
    if (!gpu)
      GTEST_SKIP() << "no GPU to run on: " << why;
  }
  Gpu *gpu = nullptr;
};

//===----------------------------------------------------------------------===//
// The example kernels
//===----------------------------------------------------------------------===//

class ExampleKernelTest : public GpuTest,
                          public ::testing::WithParamInterface<size_t> {};

TEST_P(ExampleKernelTest, MatchesTheCpuReferenceAndTheNvccTwin) {
  const auto &[name, run] = kernelCases()[GetParam()];
  CaseOptions options;
  options.kernelDir = kernelDir;
  options.twinDir = twinDir;
  options.variant = variant;
  GpuDevice device(*gpu);
  CaseReport report = run(device, options);
  EXPECT_TRUE(report.correct)
      << name << " (" << report.problem << "): " << report.check;
  if (report.twinRan)
    EXPECT_TRUE(report.twinCorrect)
        << name << " nvcc twin: " << report.twinCheck;
  std::printf("[ %-9s] %s (%s): %s; result digest %016llx\n", "checked",
              name.c_str(), report.problem.c_str(), report.check.c_str(),
              static_cast<unsigned long long>(report.digest));
}

INSTANTIATE_TEST_SUITE_P(AllExamples, ExampleKernelTest,
                         ::testing::Range<size_t>(0, kernelCases().size()),
                         [](const ::testing::TestParamInfo<size_t> &info) {
                           return kernelCases()[info.param].first;
                         });

//===----------------------------------------------------------------------===//
// Traps
//===----------------------------------------------------------------------===//

class TrapTest : public GpuTest {
protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (!gpu)
      return;
    instance =
        std::make_unique<WasmInstance>(*gpu, trapDir + "/traps", 1 << 20);
    manifest = nlohmann::json::parse(readFile(trapDir + "/traps.json"));
    out = instance->reserve(4 * kThreads);
  }

  uint32_t functionIndexOf(const std::string &kernel) {
    for (const nlohmann::json &k : manifest["kernels"])
      if (k["export"] == kernel)
        return k["function_index"];
    ADD_FAILURE() << "no kernel " << kernel;
    return ~0u;
  }

  /// Launches `kernel` so that only global thread kVictim traps, and checks
  /// the record; then checks that the next launch on the context works.
  void expectTrap(const std::string &kernel, std::vector<Arg> args,
                  tensorwasm::abi::TrapCode code, int sharedBytes = 0) {
    instance->clearTrap();
    args.insert(args.begin(), Arg::i32(kVictim));
    instance->launch(kernel, {kBlocks}, {kBlockSize}, args, sharedBytes);
    tensorwasm::abi::TrapRecord record = instance->trapRecord();
    EXPECT_EQ(record.code, static_cast<uint32_t>(code))
        << kernel << ": expected \"" << tensorwasm::abi::trapMessage(code)
        << "\", got \""
        << tensorwasm::abi::trapMessage(
               static_cast<tensorwasm::abi::TrapCode>(record.code))
        << "\"";
    EXPECT_EQ(record.function, functionIndexOf(kernel)) << kernel;
    EXPECT_NE(record.offset, 0u)
        << kernel << ": the trap record names no instruction";
    EXPECT_EQ(record.block[0], kVictim / kBlockSize) << kernel;
    EXPECT_EQ(record.block[1], 0u);
    EXPECT_EQ(record.thread[0], kVictim % kBlockSize) << kernel;
    EXPECT_EQ(record.thread[1], 0u);
    expectHealthy(kernel);
  }

  /// The context survived: a normal launch runs and computes.
  void expectHealthy(const std::string &after) {
    instance->clearTrap();
    uint32_t value = 0x5eed0000u + static_cast<uint32_t>(after.size());
    instance->launch("fill", {kBlocks}, {kBlockSize},
                     {Arg::i32(out), Arg::i32(value)});
    tensorwasm::abi::TrapRecord record = instance->trapRecord();
    EXPECT_EQ(record.code, 0u) << "the launch after " << after << " trapped";
    std::vector<uint32_t> got(kThreads);
    instance->read(out, got.data(), 4 * kThreads);
    for (uint32_t i = 0; i < kThreads; ++i)
      ASSERT_EQ(got[i], value)
          << "the launch after " << after << " computed a wrong value at " << i;
  }

  static constexpr uint32_t kBlockSize = 128;
  static constexpr uint32_t kBlocks = 40;
  static constexpr uint32_t kThreads = kBlockSize * kBlocks;
  static constexpr uint32_t kVictim = 3 * kBlockSize + 77;

  std::unique_ptr<WasmInstance> instance;
  nlohmann::json manifest;
  uint32_t out = 0;
};

TEST_F(TrapTest, OutOfBoundsLoad) {
  expectTrap("oob_load", {Arg::i32(0xfffffff0u)},
             tensorwasm::abi::TrapCode::MemoryOutOfBounds);
}

TEST_F(TrapTest, LoadStraddlingTheEndOfMemory) {
  uint32_t size = static_cast<uint32_t>(instance->memoryBytes());
  expectTrap("oob_load", {Arg::i32(size - 2)},
             tensorwasm::abi::TrapCode::MemoryOutOfBounds);
}

TEST_F(TrapTest, OutOfBoundsStore) {
  // The offset immediate (8) carries the address past the end.
  uint32_t size = static_cast<uint32_t>(instance->memoryBytes());
  expectTrap("oob_store", {Arg::i32(size - 8)},
             tensorwasm::abi::TrapCode::MemoryOutOfBounds);
}

TEST_F(TrapTest, IntegerDivideByZero) {
  expectTrap("div_zero", {Arg::i32(0)},
             tensorwasm::abi::TrapCode::IntegerDivideByZero);
}

TEST_F(TrapTest, IntegerOverflow) {
  expectTrap("overflow", {Arg::i32(0xffffffffu)},
             tensorwasm::abi::TrapCode::IntegerOverflow);
}

TEST_F(TrapTest, Unreachable) {
  expectTrap("unreachable", {}, tensorwasm::abi::TrapCode::Unreachable);
}

TEST_F(TrapTest, InvalidConversionOfNaN) {
  expectTrap("bad_conversion", {Arg::f32(std::nanf(""))},
             tensorwasm::abi::TrapCode::InvalidConversion);
}

TEST_F(TrapTest, ConversionOutOfRange) {
  expectTrap("bad_conversion", {Arg::f32(3e9f)},
             tensorwasm::abi::TrapCode::IntegerOverflow);
}

TEST_F(TrapTest, IndirectCallOfANullEntry) {
  expectTrap("table_call", {Arg::i32(2)},
             tensorwasm::abi::TrapCode::UninitializedElement);
}

TEST_F(TrapTest, IndirectCallPastTheTable) {
  expectTrap("table_call", {Arg::i32(9)},
             tensorwasm::abi::TrapCode::UndefinedElement);
}

TEST_F(TrapTest, IndirectCallOfTheWrongType) {
  expectTrap("table_call", {Arg::i32(1)},
             tensorwasm::abi::TrapCode::IndirectCallTypeMismatch);
}

TEST_F(TrapTest, SharedScratchOutOfBounds) {
  // 1 KiB of scratch holds 256 floats; element 256 is past it.
  expectTrap("shared_oob", {Arg::i32(256)},
             tensorwasm::abi::TrapCode::SharedOutOfBounds, 1024);
}

TEST_F(TrapTest, AtomicOutOfBounds) {
  uint32_t size = static_cast<uint32_t>(instance->memoryBytes());
  expectTrap("atomic_oob", {Arg::i32(size - 2)},
             tensorwasm::abi::TrapCode::MemoryOutOfBounds);
}

TEST_F(TrapTest, MisalignedAtomic) {
  expectTrap("atomic_unaligned", {Arg::i32(2)},
             tensorwasm::abi::TrapCode::UnalignedAtomic);
}

TEST_F(TrapTest, MisalignedFloatAtomicAdd) {
  expectTrap("atomic_add_f32_unaligned", {Arg::i32(6)},
             tensorwasm::abi::TrapCode::UnalignedAtomic);
}

TEST_F(TrapTest, IndirectCallThatIsFineDoesNotTrap) {
  instance->clearTrap();
  instance->launch("table_call", {kBlocks}, {kBlockSize},
                   {Arg::i32(kVictim), Arg::i32(0)});
  EXPECT_EQ(instance->trapRecord().code, 0u);
}

// A loop whose stores run past the end of memory traps at the first store
// outside, after storing every word before it; one that fits stores all.
TEST_F(TrapTest, LoopRunningPastTheEndTrapsAfterItsEarlierStores) {
  uint32_t words = 16;
  uint32_t start = static_cast<uint32_t>(instance->memoryBytes()) - 4 * words;
  expectTrap("loop_fill", {Arg::i32(start), Arg::i32(words + 100)},
             tensorwasm::abi::TrapCode::MemoryOutOfBounds);
  // expectTrap ran "fill" afterwards, which writes elsewhere.
  std::vector<uint32_t> got(words);
  instance->read(start, got.data(), 4 * words);
  for (uint32_t i = 0; i < words; ++i)
    ASSERT_EQ(got[i], i) << "the store of iteration " << i << " is missing";

  uint32_t slots = instance->reserve(4 * 1000);
  instance->clearTrap();
  instance->launch("loop_fill", {kBlocks}, {kBlockSize},
                   {Arg::i32(kVictim), Arg::i32(slots), Arg::i32(1000)});
  ASSERT_EQ(instance->trapRecord().code, 0u);
  std::vector<uint32_t> filled(1000);
  instance->read(slots, filled.data(), 4 * 1000);
  for (uint32_t i = 0; i < 1000; ++i)
    ASSERT_EQ(filled[i], i) << "iteration " << i;
}

// Not a trap, but the same module: warp operations after half of every
// warp has finished take only the live lanes' values, by constant and by
// variable distances, and the ballot has only the live lanes' bits.
TEST_F(TrapTest, WarpOperationsLeaveOutFinishedLanes) {
  uint32_t slots = instance->reserve(20 * kThreads);
  std::vector<uint32_t> sentinel(5 * kThreads, 0xdeadbeefu);
  instance->write(slots, sentinel.data(), 20 * kThreads);
  instance->clearTrap();
  instance->launch("warp_leftovers", {kBlocks}, {kBlockSize},
                   {Arg::i32(slots), Arg::i32(2)});
  ASSERT_EQ(instance->trapRecord().code, 0u);
  std::vector<uint32_t> got(5 * kThreads);
  instance->read(slots, got.data(), 20 * kThreads);
  for (uint32_t index = 0; index < kThreads; ++index) {
    const uint32_t *slot = &got[5 * index];
    uint32_t lane = index % 32;
    if (lane % 2) {
      for (int i = 0; i < 5; ++i)
        ASSERT_EQ(slot[i], 0xdeadbeefu) << "finished lane " << index;
      continue;
    }
    // Lanes k + 2 and k - 2 are live where they exist; lane k + 1 is not.
    uint32_t downTwo = lane + 2 < 32 ? index + 2 : index;
    uint32_t upTwo = lane >= 2 ? index - 2 : index;
    ASSERT_EQ(slot[0], downTwo) << "down by constant 2, thread " << index;
    ASSERT_EQ(slot[1], index) << "down by constant 1, thread " << index;
    ASSERT_EQ(slot[2], upTwo) << "up by constant 2, thread " << index;
    ASSERT_EQ(slot[3], downTwo) << "down by 2 as a variable, thread " << index;
    ASSERT_EQ(slot[4], 0x55555555u) << "ballot, thread " << index;
  }
}

TEST_F(TrapTest, EndlessKernelStopsWhenTheControlWordIsSet) {
  using Clock = std::chrono::steady_clock;
  instance->clearTrap();
  // Enough threads to fill the device several times over.
  unsigned blocks = static_cast<unsigned>(gpu->multiprocessors) * 16;
  instance->launch("spin", {blocks}, {256}, {Arg::i32(0)});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(gpu->driver().streamQuery(gpu->stream), cuda::CUDA_ERROR_NOT_READY)
      << "the endless kernel ended by itself";
  Clock::time_point set = Clock::now();
  instance->setControlWord(tensorwasm::abi::kControlInterrupt);
  while (gpu->driver().streamQuery(gpu->stream) == cuda::CUDA_ERROR_NOT_READY) {
    ASSERT_LT(Clock::now() - set, std::chrono::seconds(10))
        << "the kernel did not stop";
  }
  double stoppedMs =
      std::chrono::duration<double, std::milli>(Clock::now() - set).count();
  std::printf("[ %-9s] the endless kernel stopped %.2f ms after the control "
              "word was set\n",
              "measured", stoppedMs);
  EXPECT_LT(stoppedMs, 100.0);
  tensorwasm::abi::TrapRecord record = instance->trapRecord();
  EXPECT_EQ(record.code,
            static_cast<uint32_t>(tensorwasm::abi::TrapCode::Interrupted));
  expectHealthy("spin");
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--kernel-dir")
      kernelDir = argv[i + 1];
    else if (flag == "--trap-dir")
      trapDir = argv[i + 1];
    else if (flag == "--twin-dir")
      twinDir = argv[i + 1];
    else if (flag == "--variant")
      variant = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (kernelDir.empty() || trapDir.empty()) {
    std::fprintf(stderr, "usage: twasm-gpu-tests --kernel-dir DIR --trap-dir "
                         "DIR [--twin-dir DIR]\n");
    return 2;
  }
  return RUN_ALL_TESTS();
}
