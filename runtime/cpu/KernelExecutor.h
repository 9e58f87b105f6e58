//===- KernelExecutor.h - kernel launches on the CPU -------------*- C++
//-*-===//
//
// Runs a kernel of a host-compiled module over a grid, with the kernel ABI's
// semantics (docs/kernel-abi.md, docs/host-abi.md "Kernels"): blocks are
// spread over a pool of OS threads; within a block, a kernel whose threads
// never wait for each other runs them one after another, and one that does
// (barriers, shuffles, votes) runs them as fibers that switch at each
// synchronisation point. The first trap of any thread ends the launch and is
// reported with its block and thread, like the GPU's trap record; a raised
// control word (timeout, cancellation) ends it as Interrupted.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CPU_KERNELEXECUTOR_H
#define TWASM_RUNTIME_CPU_KERNELEXECUTOR_H

#include "HostModule.h"

namespace tensorwasm::cpu {

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
  uint64_t count() const { return uint64_t(x) * y * z; }
};

struct LaunchConfig {
  Dim3 grid;
  Dim3 block;
  /// Bytes of shared scratch per block; a kernel with a declared shape gets
  /// at least its declared size.
  uint32_t sharedBytes = 0;
};

/// The largest launches the GPU allows are the largest the CPU takes, so a
/// launch that works on one works on the other.
inline constexpr uint32_t kMaxBlockThreads = 1024;
inline constexpr uint32_t kMaxSharedBytes = 227 * 1024;

struct LaunchResult : CallResult {
  /// Where the trap happened (when one did).
  uint32_t block[3] = {0, 0, 0};
  uint32_t thread[3] = {0, 0, 0};
};

class KernelExecutor {
public:
  /// `workers` OS threads run blocks (the calling thread is one of them);
  /// 0 means one per hardware thread.
  ///
  /// With `demoteAfter` set, the workers are all threads of the executor's
  /// own (the caller only waits), and a launch that runs longer than that
  /// has them moved to the idle scheduling class (SCHED_IDLE) for its
  /// remaining time: the kernels of other executors (other tenants) then
  /// get the processors whenever they have work, and an endless or huge
  /// launch uses only what is left over until its timeout. After a launch
  /// that outlasted its slice and ended otherwise, the threads are replaced
  /// by new ones of the normal class (an unprivileged thread cannot leave
  /// the idle class). After one that was then interrupted (its time ran
  /// out, or it was cancelled), they stay in the idle class for the launches
  /// that start within kDemotionHold of the last such launch: an endless kernel
  /// launched again at once, or after a short launch, does not take the
  /// processors back for a slice each time. A held tenant's launches run
  /// on one of its threads (the others sit them out), so that few threads
  /// of the idle class compete for the scheduler's leftovers. A tenant
  /// whose launch only waited for a core past its slice is not held.
  explicit KernelExecutor(unsigned workers = 0,
                          std::chrono::nanoseconds demoteAfter = {});
  ~KernelExecutor();
  KernelExecutor(const KernelExecutor &) = delete;
  KernelExecutor &operator=(const KernelExecutor &) = delete;

  /// Launches the kernel `name` of `instance` and waits for it. `arguments`
  /// are the kernel's parameters as 8-byte values. An error means nothing
  /// ran (no such kernel, a wrong argument count, a launch shape the GPU
  /// would refuse); a trap or an interruption is a LaunchResult. Launches
  /// on one executor run one at a time. A trap raises `controlWord` (which
  /// may be null), so that the launch's other threads stop at their next
  /// check.
  Expected<LaunchResult> launch(Instance &instance, std::string_view name,
                                const LaunchConfig &config,
                                const std::vector<uint64_t> &arguments,
                                std::atomic<uint32_t> *controlWord);
  /// The same with a fresh control word that a watchdog raises after
  /// `timeout`.
  Expected<LaunchResult> launchWithTimeout(
      Instance &instance, std::string_view name, const LaunchConfig &config,
      const std::vector<uint64_t> &arguments, std::chrono::nanoseconds timeout);

  unsigned workerCount() const { return static_cast<unsigned>(states.size()); }
  /// Whether the worker threads are in the idle scheduling class now (as
  /// the kernel reports them); waits for a launch in progress to end.
  bool workersYield() const;

  /// How long after an interrupted launch the next launches still start in
  /// the idle class: the first launch to start later gets fresh threads of
  /// the normal class, so a tenant whose kernels stopped running out of
  /// time is not left starving behind busy ones.
  static constexpr std::chrono::seconds kDemotionHold{1};

  struct Launch;
  struct WorkerState;

private:
  void workerLoop(size_t index, uint64_t seen);
  void startWorkers();
  /// Moves every worker thread to SCHED_IDLE; false when none could be.
  bool demoteWorkers();
  /// Replaces the worker threads by new ones (of the normal class).
  void renewWorkers();

  mutable std::mutex launchMutex;
  std::mutex mutex;
  std::condition_variable wake, done;
  Launch *current = nullptr;
  uint64_t generation = 0;
  unsigned busy = 0;
  bool stopping = false;
  const std::chrono::nanoseconds demoteAfter;
  /// Whether the workers are held in the idle class after an interrupted
  /// launch, and since when (launchMutex guards both).
  bool heldInIdleClass = false;
  std::chrono::steady_clock::time_point heldSince;
  std::vector<std::unique_ptr<WorkerState>> states;
  std::vector<std::thread> threads;
};

} // namespace tensorwasm::cpu

#endif // TWASM_RUNTIME_CPU_KERNELEXECUTOR_H
