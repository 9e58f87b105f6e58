//===- HostKernelTest.cpp - kernels launched on the CPU -------------------===//
//
// Kernels compiled by the CPU backend and launched by the runtime's
// KernelExecutor, checked against what the kernel ABI promises on the GPU
// (docs/kernel-abi.md): every thread sees its own indices; a barrier holds
// every unfinished thread of its block, with shared scratch visible across
// it; warp operations leave out finished lanes; the first trap is reported
// with its block and thread and the executor serves the next launch; an
// endless kernel stops at its timeout; threads that can never all meet are
// reported instead of hanging; and launches the GPU would refuse are
// refused.
//
//===----------------------------------------------------------------------===//

#include "cpu/KernelExecutor.h"
#include "twasm/Import/WasmImporter.h"
#include "twasm/InitAll.h"
#include "twasm/Pipelines/HostCompiler.h"
#include "twasm/Pipelines/Manifest.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include <sched.h>

namespace cpu = tensorwasm::cpu;
using tensorwasm::abi::TrapCode;

namespace {

const char *kKernels = R"(
  (module
    (import "twasm" "thread_id_x" (func $tx (result i32)))
    (import "twasm" "thread_id_y" (func $ty (result i32)))
    (import "twasm" "thread_id_z" (func $tz (result i32)))
    (import "twasm" "block_id_x" (func $bx (result i32)))
    (import "twasm" "block_id_y" (func $by (result i32)))
    (import "twasm" "block_dim_x" (func $dx (result i32)))
    (import "twasm" "block_dim_y" (func $dy (result i32)))
    (import "twasm" "block_dim_z" (func $dz (result i32)))
    (import "twasm" "grid_dim_x" (func $gx (result i32)))
    (import "twasm" "lane_id" (func $lane (result i32)))
    (import "twasm" "barrier" (func $barrier))
    (import "twasm" "shared_size" (func $shared_size (result i32)))
    (import "twasm" "shared_load_i32" (func $sload (param i32) (result i32)))
    (import "twasm" "shared_store_i32" (func $sstore (param i32 i32)))
    (import "twasm" "shfl_down_i32" (func $down (param i32 i32) (result i32)))
    (import "twasm" "shfl_up_i32" (func $up (param i32 i32) (result i32)))
    (import "twasm" "shfl_xor_i32" (func $xor (param i32 i32) (result i32)))
    (import "twasm" "shfl_idx_f32" (func $idx (param f32 i32) (result f32)))
    (import "twasm" "vote_all" (func $all (param i32) (result i32)))
    (import "twasm" "ballot" (func $ballot (param i32) (result i32)))
    (memory 4)

    ;; The thread's linear index in its block and in the grid (x and y
    ;; blocks).
    (func $linear (result i32)
      (i32.add (call $tx)
        (i32.mul (call $dx)
          (i32.add (call $ty) (i32.mul (call $dy) (call $tz))))))
    (func $global (result i32)
      (i32.add (call $linear)
        (i32.mul (i32.mul (i32.mul (call $dx) (call $dy)) (call $dz))
          (i32.add (call $bx) (i32.mul (call $gx) (call $by))))))

    ;; Every thread writes (x, y, z, block x, block y, lane) at out + 24 g.
    (func (export "where") (param $out i32)
      (local $slot i32)
      (local.set $slot
        (i32.add (local.get $out) (i32.mul (call $global) (i32.const 24))))
      (i32.store (local.get $slot) (call $tx))
      (i32.store offset=4 (local.get $slot) (call $ty))
      (i32.store offset=8 (local.get $slot) (call $tz))
      (i32.store offset=12 (local.get $slot) (call $bx))
      (i32.store offset=16 (local.get $slot) (call $by))
      (i32.store offset=20 (local.get $slot) (call $lane)))

    ;; Reverses each block's slice of `in` into `out` through shared
    ;; scratch; threads at or past $live finish before the barrier (their
    ;; elements are -1).
    (func (export "reverse") (param $in i32) (param $out i32) (param $live i32)
      (local $n i32) (local $t i32)
      (local.set $t (call $tx))
      (local.set $n (call $dx))
      (if (i32.ge_u (local.get $t) (local.get $live)) (then (return)))
      (call $sstore (local.get $t)
        (i32.load (i32.add (local.get $in)
          (i32.shl (call $global) (i32.const 2)))))
      (call $barrier)
      (i32.store
        (i32.add (local.get $out) (i32.shl (call $global) (i32.const 2)))
        (if (result i32)
            (i32.lt_u (i32.sub (i32.sub (local.get $n) (i32.const 1))
                               (local.get $t))
                      (local.get $live))
          (then (call $sload (i32.sub (i32.sub (local.get $n) (i32.const 1))
                                      (local.get $t))))
          (else (i32.const -1)))))

    ;; Odd lanes finish at once; each even lane writes six words at
    ;; out + 24 g: its global index shuffled down by 2, up by 2, xor 2,
    ;; lane 4's value (as a float), vote_all(1) and the ballot.
    (func (export "warp") (param $out i32)
      (local $g i32) (local $slot i32)
      (local.set $g (call $global))
      (if (i32.and (call $lane) (i32.const 1)) (then (return)))
      (local.set $slot
        (i32.add (local.get $out) (i32.mul (local.get $g) (i32.const 24))))
      (i32.store (local.get $slot) (call $down (local.get $g) (i32.const 2)))
      (i32.store offset=4 (local.get $slot)
        (call $up (local.get $g) (i32.const 2)))
      (i32.store offset=8 (local.get $slot)
        (call $xor (local.get $g) (i32.const 2)))
      (f32.store offset=12 (local.get $slot)
        (call $idx (f32.convert_i32_u (local.get $g)) (i32.const 4)))
      (i32.store offset=16 (local.get $slot) (call $all (i32.const 1)))
      (i32.store offset=20 (local.get $slot) (call $ballot (i32.const 1))))

    ;; Traps in exactly one thread, the one whose global index is $victim.
    (func (export "victim") (param $victim i32) (param $address i32)
      (call $barrier)
      (if (i32.eq (call $global) (local.get $victim))
        (then (drop (i32.load (local.get $address)))))
      (call $barrier))

    ;; Half of each warp waits at a barrier, the other half at a shuffle.
    (func (export "divergent")
      (if (i32.lt_u (call $lane) (i32.const 16))
        (then (call $barrier))
        (else (drop (call $down (i32.const 1) (i32.const 1))))))

    ;; Loops forever, with or without barriers.
    (func (export "spin_sync") (loop $forever (call $barrier) (br $forever)))
    (func (export "spin") (loop $forever (br $forever)))

    ;; Loops until the i32 at $flag is not zero (the test sets it).
    (func (export "wait_for") (param $flag i32)
      (loop $waiting
        (br_if $waiting (i32.eqz (i32.atomic.load (local.get $flag))))))

    ;; Adds one per thread to *counter, and stores memory.grow(1) (which
    ;; fails inside a kernel) at out.
    (func (export "count") (param $counter i32) (param $out i32)
      (drop (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
      (i32.store (local.get $out) (memory.grow (i32.const 1))))

    ;; shared_size, and an out-of-bounds shared access when asked.
    (func (export "shared") (param $out i32) (param $index i32)
      (i32.store (local.get $out) (call $shared_size))
      (drop (call $sload (local.get $index)))))
)";

class HostKernels : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    mlir::DialectRegistry registry;
    mlir::twasm::registerAllDialects(registry);
    mlir::MLIRContext context(registry);
    context.loadAllAvailableDialects();
    mlir::twasm::ImportOptions options;
    options.kernels = {"where",     "reverse", "warp",  "victim", "divergent",
                       "spin_sync", "spin",    "count", "shared", "wait_for"};
    auto module = mlir::twasm::importWasmModule(context, "kernels.wat",
                                                kKernels, options);
    ASSERT_TRUE(static_cast<bool>(module))
        << llvm::toString(module.takeError());
    mlir::twasm::HostTarget target;
    std::string manifest = mlir::twasm::writeHostManifest(**module, target.cpu);
    auto artifacts = mlir::twasm::compileForHost(std::move(*module), target);
    ASSERT_TRUE(static_cast<bool>(artifacts))
        << llvm::toString(artifacts.takeError());
    auto code = cpu::LoadedCode::load(artifacts->sharedObject);
    ASSERT_TRUE(code) << code.error().message;
    auto description = cpu::ModuleDescription::parse(manifest);
    ASSERT_TRUE(description) << description.error().message;
    code_ = new std::shared_ptr<cpu::LoadedCode>(*code);
    description_ = new cpu::ModuleDescription(*description);
  }

  void SetUp() override {
    ASSERT_TRUE(code_);
    auto created = cpu::Instance::create(*code_, *description_, {});
    ASSERT_TRUE(created) << created.error().message;
    instance = std::move(*created);
    std::atomic<uint32_t> control{0};
    auto started = instance->instantiate(&control);
    ASSERT_TRUE(started && !started->trapped());
  }

  cpu::LaunchResult launch(const char *kernel, cpu::Dim3 grid, cpu::Dim3 block,
                           std::vector<uint64_t> arguments,
                           uint32_t sharedBytes = 0) {
    auto result = executor.launchWithTimeout(
        *instance, kernel, {grid, block, sharedBytes}, arguments,
        std::chrono::seconds(20));
    EXPECT_TRUE(result) << kernel << ": " << result.error().message;
    return result ? *result : cpu::LaunchResult{};
  }

  std::vector<uint32_t> words(uint32_t address, size_t count) {
    std::vector<uint32_t> values(count);
    std::memcpy(values.data(), instance->memory()->data() + address, count * 4);
    return values;
  }
  void fill(uint32_t address, const std::vector<uint32_t> &values) {
    std::memcpy(instance->memory()->data() + address, values.data(),
                values.size() * 4);
  }

  static std::shared_ptr<cpu::LoadedCode> *code_;
  static cpu::ModuleDescription *description_;
  // Four workers, so blocks run in parallel even on a small machine.
  cpu::KernelExecutor executor{4};
  std::unique_ptr<cpu::Instance> instance;
};

std::shared_ptr<cpu::LoadedCode> *HostKernels::code_ = nullptr;
cpu::ModuleDescription *HostKernels::description_ = nullptr;

TEST_F(HostKernels, ManifestSaysWhichKernelsSynchronize) {
  EXPECT_FALSE(description_->findKernel("where")->synchronizes);
  EXPECT_FALSE(description_->findKernel("count")->synchronizes);
  EXPECT_TRUE(description_->findKernel("reverse")->synchronizes);
  EXPECT_TRUE(description_->findKernel("warp")->synchronizes);
}

TEST_F(HostKernels, EveryThreadSeesItsOwnIndices) {
  cpu::Dim3 grid{3, 2, 1}, block{5, 3, 2};
  uint32_t threads = 6 * 30;
  cpu::LaunchResult result = launch("where", grid, block, {0});
  ASSERT_FALSE(result.trapped()) << tensorwasm::abi::trapMessage(result.trap);
  std::vector<uint32_t> got = words(0, 6 * threads);
  for (uint32_t g = 0; g < threads; ++g) {
    uint32_t blockLinear = g / 30, linear = g % 30;
    const uint32_t *slot = &got[6 * g];
    EXPECT_EQ(slot[0], linear % 5) << g;
    EXPECT_EQ(slot[1], linear / 5 % 3) << g;
    EXPECT_EQ(slot[2], linear / 15) << g;
    EXPECT_EQ(slot[3], blockLinear % 3) << g;
    EXPECT_EQ(slot[4], blockLinear / 3) << g;
    EXPECT_EQ(slot[5], linear % 32) << g;
  }
}

TEST_F(HostKernels, BarrierHoldsTheBlockAndSharedScratchIsShared) {
  // Blocks of 100 (not a whole number of warps); threads 90..99 finish
  // early, which must not keep the others at the barrier.
  const uint32_t block = 100, blocks = 12, live = 90;
  std::vector<uint32_t> input(block * blocks);
  for (uint32_t i = 0; i < input.size(); ++i)
    input[i] = i * 7 + 1;
  uint32_t in = 0, out = 4 * block * blocks;
  fill(in, input);
  fill(out, std::vector<uint32_t>(input.size(), 0xdeadbeefu));
  cpu::LaunchResult result =
      launch("reverse", {blocks}, {block}, {in, out, live}, 4 * block);
  ASSERT_FALSE(result.trapped()) << tensorwasm::abi::trapMessage(result.trap);
  std::vector<uint32_t> got = words(out, input.size());
  for (uint32_t b = 0; b < blocks; ++b)
    for (uint32_t t = 0; t < block; ++t) {
      uint32_t want = t >= live              ? 0xdeadbeefu
                      : block - 1 - t < live ? input[b * block + block - 1 - t]
                                             : 0xffffffffu;
      ASSERT_EQ(got[b * block + t], want) << "block " << b << " thread " << t;
    }
}

TEST_F(HostKernels, WarpOperationsLeaveOutFinishedLanes) {
  // 80 threads: two whole warps and one of 16 lanes.
  const uint32_t threads = 80;
  fill(0, std::vector<uint32_t>(6 * threads, 0xdeadbeefu));
  cpu::LaunchResult result = launch("warp", {1}, {threads}, {0});
  ASSERT_FALSE(result.trapped()) << tensorwasm::abi::trapMessage(result.trap);
  std::vector<uint32_t> got = words(0, 6 * threads);
  for (uint32_t g = 0; g < threads; ++g) {
    const uint32_t *slot = &got[6 * g];
    uint32_t lane = g % 32, warpStart = g - lane;
    uint32_t lanes = std::min(32u, threads - warpStart);
    if (lane % 2) {
      for (int i = 0; i < 6; ++i)
        ASSERT_EQ(slot[i], 0xdeadbeefu) << "finished lane " << g;
      continue;
    }
    uint32_t down = lane + 2 < lanes ? g + 2 : g;
    uint32_t up = lane >= 2 ? g - 2 : g;
    uint32_t flipped = g ^ 2; // lane ^ 2 is even and in the warp
    float fromLane4;
    uint32_t fromLane4Bits;
    fromLane4 = static_cast<float>(warpStart + 4);
    std::memcpy(&fromLane4Bits, &fromLane4, 4);
    uint32_t evenLanes = lanes == 32 ? 0x55555555u : 0x5555u;
    EXPECT_EQ(slot[0], down) << g;
    EXPECT_EQ(slot[1], up) << g;
    EXPECT_EQ(slot[2], flipped) << g;
    EXPECT_EQ(slot[3], fromLane4Bits) << g;
    EXPECT_EQ(slot[4], 1u) << g;
    EXPECT_EQ(slot[5], evenLanes) << g;
  }
}

TEST_F(HostKernels, TheFirstTrapNamesItsBlockAndThreadAndTheNextLaunchWorks) {
  const uint32_t block = 64, blocks = 20, victim = 7 * block + 45;
  cpu::LaunchResult result =
      launch("victim", {blocks}, {block}, {victim, 4 * 65536 - 2});
  EXPECT_EQ(result.trap, TrapCode::MemoryOutOfBounds);
  EXPECT_EQ(result.function, description_->findKernel("victim")->functionIndex);
  EXPECT_EQ(result.block[0], 7u);
  EXPECT_EQ(result.thread[0], 45u);

  // The executor and the instance serve the next launch.
  result = launch("reverse", {1}, {32}, {0, 4096, 32}, 128);
  EXPECT_FALSE(result.trapped());
  result = launch("victim", {blocks}, {block}, {~0u, 0});
  EXPECT_FALSE(result.trapped());
}

TEST_F(HostKernels, SharedScratchIsBoundsChecked) {
  cpu::LaunchResult result = launch("shared", {2}, {8}, {64, 3}, 16);
  EXPECT_FALSE(result.trapped());
  EXPECT_EQ(words(64, 1)[0], 16u);
  result = launch("shared", {2}, {8}, {64, 4}, 16);
  EXPECT_EQ(result.trap, TrapCode::SharedOutOfBounds);
}

TEST_F(HostKernels, ThreadsThatCanNeverMeetAreReportedNotWaitedFor) {
  cpu::LaunchResult result = launch("divergent", {2}, {64}, {});
  EXPECT_EQ(result.trap, TrapCode::DivergentSynchronization);
}

TEST_F(HostKernels, EndlessKernelsStopAtTheirTimeout) {
  for (const char *kernel : {"spin", "spin_sync"}) {
    auto started = std::chrono::steady_clock::now();
    auto result = executor.launchWithTimeout(*instance, kernel, {{64}, {128}},
                                             {}, std::chrono::milliseconds(50));
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - started)
                         .count();
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->trap, TrapCode::Interrupted) << kernel;
    EXPECT_LT(seconds, 5.0) << kernel;
  }
  // And the next launch runs to its end.
  cpu::LaunchResult result = launch("reverse", {1}, {32}, {0, 4096, 32}, 128);
  EXPECT_FALSE(result.trapped());
}

TEST_F(HostKernels, AnInterruptedLaunchHoldsTheNextOnesInTheIdleClass) {
  // Where threads may not enter the idle class (some sandboxes), workers
  // are never demoted and there is nothing to check.
  bool idleClassAllowed = false;
  std::thread([&] {
    sched_param parameters{};
    idleClassAllowed = sched_setscheduler(0, SCHED_IDLE, &parameters) == 0;
  }).join();
  if (!idleClassAllowed)
    GTEST_SKIP() << "this process cannot move a thread to SCHED_IDLE";

  cpu::KernelExecutor demoting{2, std::chrono::milliseconds(50)};
  auto shortLaunch = [&] {
    auto result =
        demoting.launchWithTimeout(*instance, "reverse", {{1}, {32}, 128},
                                   {0, 4096, 32}, std::chrono::seconds(60));
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_FALSE(result->trapped());
  };
  shortLaunch();
  EXPECT_FALSE(demoting.workersYield());

  // A launch that outlasts its slice but ends by itself is demoted while
  // it runs, and gets fresh threads of the normal class after it.
  fill(0, {0});
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    __atomic_store_n(reinterpret_cast<uint32_t *>(instance->memory()->data()),
                     1u, __ATOMIC_SEQ_CST);
  });
  auto waited = demoting.launchWithTimeout(*instance, "wait_for", {{2}, {1}},
                                           {0}, std::chrono::seconds(60));
  release.join();
  ASSERT_TRUE(waited) << waited.error().message;
  EXPECT_FALSE(waited->trapped());
  EXPECT_FALSE(demoting.workersYield());

  // An endless kernel runs out of time: its workers stay in the idle
  // class, and the next launches start there, short ones included, so
  // that neither launching it again nor a short launch in between takes
  // the processors back. Each round's hold begins as its interrupted
  // launch ends, after `heldFrom` and before `heldBy`; a short launch that
  // ended within kDemotionHold of `heldFrom` began within the hold.
  auto heldBy = std::chrono::steady_clock::now();
  for (int round = 0; round < 2; ++round) {
    auto heldFrom = std::chrono::steady_clock::now();
    auto result = demoting.launchWithTimeout(*instance, "spin", {{4}, {32}}, {},
                                             std::chrono::milliseconds(100));
    heldBy = std::chrono::steady_clock::now();
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->trap, TrapCode::Interrupted);
    EXPECT_TRUE(demoting.workersYield()) << round;
    shortLaunch();
    if (std::chrono::steady_clock::now() - heldFrom <
        cpu::KernelExecutor::kDemotionHold)
      EXPECT_TRUE(demoting.workersYield()) << round;
  }
  // Held, the tenant runs on one of its threads, every block still run.
  auto spread =
      demoting.launchWithTimeout(*instance, "where", {{3, 2, 1}, {5, 3, 2}},
                                 {0}, std::chrono::seconds(60));
  ASSERT_TRUE(spread) << spread.error().message;
  EXPECT_FALSE(spread->trapped());
  std::vector<uint32_t> slots = words(0, 6 * 180);
  for (uint32_t g = 0; g < 180; ++g)
    EXPECT_EQ(slots[6 * g + 3] + 3 * slots[6 * g + 4], g / 30) << g;

  // Once the hold is over, the next launch has fresh threads of the normal
  // class.
  std::this_thread::sleep_until(heldBy + cpu::KernelExecutor::kDemotionHold);
  shortLaunch();
  EXPECT_FALSE(demoting.workersYield());
}

TEST_F(HostKernels, AtomicsCountEveryThreadAndMemoryDoesNotGrowInAKernel) {
  fill(0, {0, 0});
  cpu::LaunchResult result = launch("count", {1000}, {256}, {0, 4});
  ASSERT_FALSE(result.trapped());
  EXPECT_EQ(words(0, 1)[0], 256000u);
  EXPECT_EQ(words(4, 1)[0], 0xffffffffu);
  EXPECT_EQ(instance->memory()->pages(), 4u);
}

TEST_F(HostKernels, LaunchesTheGpuWouldRefuseAreRefused) {
  auto refused = [&](const char *kernel, cpu::LaunchConfig config,
                     std::vector<uint64_t> arguments, const char *says) {
    auto result =
        executor.launch(*instance, kernel, config, arguments, nullptr);
    ASSERT_FALSE(result) << kernel;
    EXPECT_NE(result.error().message.find(says), std::string::npos)
        << result.error().message;
  };
  refused("nothing", {{1}, {1}}, {}, "no kernel named");
  refused("where", {{1}, {1}}, {}, "takes 1 arguments; 0 were given");
  refused("where", {{1}, {1025}}, {0}, "block of 1025x1x1");
  refused("where", {{1}, {32, 32, 2}}, {0}, "at most 1024 threads");
  refused("where", {{0}, {1}}, {0}, "grid of 0x1x1");
  refused("reverse", {{1}, {1}, 300 * 1024}, {0, 0, 0}, "shared scratch");
}

} // namespace
