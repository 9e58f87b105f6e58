//===- KernelExecutor.cpp - kernel launches on the CPU --------------------===//

#include "KernelExecutor.h"

#include "Fiber.h"

#include <cstdlib>
#include <sched.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>

namespace tensorwasm::cpu {

namespace host = abi::host;

namespace {

/// Each fiber's stack, and how much of it is kept for the runtime below the
/// limit the Wasm code checks at function entries.
constexpr size_t kFiberStackBytes = 128 * 1024;
constexpr size_t kFiberStackReserve = 32 * 1024;
constexpr uint32_t kWarpLanes = 32;

enum class FiberState : uint8_t {
  Runnable,
  AtBarrier,
  AtWarpOperation,
  Finished,
  Trapped,
};

void unpackIndex(uint64_t linear, const Dim3 &extent, uint32_t out[3]) {
  out[0] = static_cast<uint32_t>(linear % extent.x);
  out[1] = static_cast<uint32_t>((linear / extent.x) % extent.y);
  out[2] = static_cast<uint32_t>(linear / (uint64_t(extent.x) * extent.y));
}

} // namespace

struct KernelExecutor::Launch {
  host::CallEntry entry = nullptr;
  uint8_t *globals = nullptr;
  std::vector<uint64_t> arguments;
  Dim3 grid, block;
  uint32_t sharedBytes = 0;
  bool synchronizes = true;
  std::atomic<uint32_t> *controlWord = nullptr;
  uint64_t blockCount = 0;
  /// Workers 0 to runners - 1 run blocks; the others sit the launch out.
  size_t runners = 0;
  std::atomic<uint64_t> nextBlock{0};
  std::atomic<uint64_t> blocksDone{0};

  std::mutex trapMutex;
  bool trapped = false;
  LaunchResult result;
  /// Why a worker could not take part (it then ran no block).
  std::string failure;

  bool stopped() const {
    return controlWord->load(std::memory_order_relaxed) != abi::kControlRun;
  }

  /// Keeps the first trap of the launch, and raises the control word so
  /// that the other threads stop at their next check.
  void recordTrap(const abi::TrapRecord &record, const host::KernelThread &at) {
    {
      std::lock_guard<std::mutex> lock(trapMutex);
      if (!trapped) {
        trapped = true;
        result.trap = static_cast<abi::TrapCode>(record.code);
        result.function = record.function;
        result.offset = record.offset;
        for (int axis = 0; axis < 3; ++axis) {
          result.block[axis] = at.blockId[axis];
          result.thread[axis] = at.threadId[axis];
        }
      }
    }
    controlWord->store(abi::kControlInterrupt, std::memory_order_relaxed);
  }

  void fillKernelThread(host::KernelThread &thread, uint64_t blockIndex,
                        uint8_t *shared) const {
    unpackIndex(blockIndex, grid, thread.blockId);
    thread.blockDim[0] = block.x;
    thread.blockDim[1] = block.y;
    thread.blockDim[2] = block.z;
    thread.gridDim[0] = grid.x;
    thread.gridDim[1] = grid.y;
    thread.gridDim[2] = grid.z;
    thread.sharedBytes = sharedBytes;
    thread.shared = shared;
  }
};

namespace {

/// One thread of a block that synchronises. The thread context comes first:
/// the handlers the Wasm code calls get its address and find the fiber.
struct Fiber {
  host::ThreadContext context;
  host::KernelThread thread;
  void *stackPointer;
  void *fakeStack;
  uint8_t *stackLow;
  size_t stackBytes;
  FiberState state;
  uint32_t operation, value, operand, result;
  KernelExecutor::WorkerState *worker;
};
static_assert(std::is_standard_layout_v<Fiber>);

Fiber &fiberOf(host::ThreadContext *context) {
  return *reinterpret_cast<Fiber *>(context);
}

} // namespace

struct KernelExecutor::WorkerState {
  /// The worker thread's kernel thread id, once it runs (0 for the caller).
  std::atomic<pid_t> threadId{0};
  FiberStacks stacks;
  std::vector<Fiber> fibers;
  /// The block's shared scratch (8-byte words: elements are at most 8).
  std::vector<uint64_t> shared;
  std::vector<uint64_t> arguments;
  host::KernelThread orderedThread{};
  Launch *launch = nullptr;
  // The scheduler's context while a fiber runs.
  void *schedulerStack = nullptr;
  void *schedulerFakeStack = nullptr;
  const void *schedulerBottom = nullptr;
  size_t schedulerSize = 0;
};

namespace {

using WorkerState = KernelExecutor::WorkerState;
using Launch = KernelExecutor::Launch;

void switchToFiber(WorkerState &worker, Fiber &fiber) {
  beforeStackSwitch(&worker.schedulerFakeStack, fiber.stackLow,
                    fiber.stackBytes);
  twasm_fiber_switch(&worker.schedulerStack, fiber.stackPointer);
  afterStackSwitch(worker.schedulerFakeStack, nullptr, nullptr);
}

/// Back to the block's scheduler; `final` when the fiber will not run again.
void switchToScheduler(Fiber &fiber, bool final) {
  WorkerState &worker = *fiber.worker;
  beforeStackSwitch(final ? nullptr : &fiber.fakeStack, worker.schedulerBottom,
                    worker.schedulerSize);
  twasm_fiber_switch(&fiber.stackPointer, worker.schedulerStack);
  afterStackSwitch(fiber.fakeStack, &worker.schedulerBottom,
                   &worker.schedulerSize);
}

[[noreturn]] void runFiber(void *argument) {
  Fiber &fiber = *static_cast<Fiber *>(argument);
  WorkerState &worker = *fiber.worker;
  afterStackSwitch(nullptr, &worker.schedulerBottom, &worker.schedulerSize);
  Launch &launch = *worker.launch;
  launch.entry(&fiber.context, launch.globals, worker.arguments.data());
  fiber.state = FiberState::Finished;
  switchToScheduler(fiber, /*final=*/true);
  std::abort(); // A finished fiber is never switched to.
}

/// The fiber's trap handler: the thread ends here, and the scheduler ends
/// the block. The frames left on the fiber's stack hold no resources.
[[noreturn]] void trapInFiber(host::ThreadContext *context, uint32_t code,
                              uint32_t function, uint32_t offset) {
  recordFirstTrap(context, code, function, offset);
  Fiber &fiber = fiberOf(context);
  fiber.state = FiberState::Trapped;
  switchToScheduler(fiber, /*final=*/true);
  std::abort(); // A trapped fiber is never switched to.
}

void barrierInFiber(host::ThreadContext *context) {
  Fiber &fiber = fiberOf(context);
  fiber.state = FiberState::AtBarrier;
  switchToScheduler(fiber, /*final=*/false);
}

uint32_t warpOperationInFiber(host::ThreadContext *context, uint32_t operation,
                              uint32_t value, uint32_t operand) {
  Fiber &fiber = fiberOf(context);
  fiber.state = FiberState::AtWarpOperation;
  fiber.operation = operation;
  fiber.value = value;
  fiber.operand = operand;
  switchToScheduler(fiber, /*final=*/false);
  return fiber.result;
}

/// A kernel the manifest says never synchronises runs its threads in order,
/// so it must not reach these; if it does, the manifest was wrong.
void barrierOutOfOrder(host::ThreadContext *context) {
  context->trap(context,
                static_cast<uint32_t>(abi::TrapCode::DivergentSynchronization),
                0, 0);
}
uint32_t warpOperationOutOfOrder(host::ThreadContext *context, uint32_t,
                                 uint32_t, uint32_t) {
  barrierOutOfOrder(context);
  return 0;
}

/// Completes the warp operation that every unfinished lane of the warp
/// [begin, end) waits at, as the GPU computes it: a shuffle's source must be
/// a lane of the warp that has not finished, else the lane keeps its own
/// value; votes count the unfinished lanes. False if the lanes wait at
/// different operations.
bool completeWarpOperation(std::vector<Fiber> &fibers, size_t begin,
                           size_t end) {
  uint32_t live = 0;
  uint32_t operation = ~0u;
  for (size_t i = begin; i < end; ++i) {
    if (fibers[i].state == FiberState::Finished)
      continue;
    live |= 1u << (i - begin);
    if (operation == ~0u)
      operation = fibers[i].operation;
    else if (fibers[i].operation != operation)
      return false;
  }
  uint32_t ballot = 0;
  for (size_t i = begin; i < end; ++i)
    if ((live >> (i - begin) & 1) && fibers[i].value != 0)
      ballot |= 1u << (i - begin);
  for (size_t i = begin; i < end; ++i) {
    Fiber &fiber = fibers[i];
    if (fiber.state != FiberState::AtWarpOperation)
      continue;
    uint64_t lane = i - begin, source;
    switch (static_cast<host::WarpOperation>(operation)) {
    case host::WarpOperation::VoteAny:
      fiber.result = ballot != 0;
      break;
    case host::WarpOperation::VoteAll:
      fiber.result = ballot == live;
      break;
    case host::WarpOperation::Ballot:
      fiber.result = ballot;
      break;
    default:
      switch (static_cast<host::WarpOperation>(operation)) {
      case host::WarpOperation::ShuffleDown:
        source = lane + fiber.operand;
        break;
      case host::WarpOperation::ShuffleUp:
        source = lane - uint64_t(fiber.operand); // wraps past 31 if negative
        break;
      case host::WarpOperation::ShuffleXor:
        source = lane ^ fiber.operand;
        break;
      default:
        source = fiber.operand;
        break;
      }
      fiber.result = source < kWarpLanes && (live >> source & 1)
                         ? fibers[begin + source].value
                         : fiber.value;
      break;
    }
    fiber.state = FiberState::Runnable;
  }
  return true;
}

/// Runs one block as fibers; false if it trapped (the launch then stops).
bool runBlockAsFibers(Launch &launch, WorkerState &worker,
                      uint64_t blockIndex) {
  size_t threads = launch.block.count();
  std::vector<Fiber> &fibers = worker.fibers;
  uint8_t *shared = reinterpret_cast<uint8_t *>(worker.shared.data());
  for (size_t i = 0; i < threads; ++i) {
    Fiber &fiber = fibers[i];
    fiber = Fiber{};
    fiber.worker = &worker;
    fiber.stackLow = worker.stacks.stack(i);
    fiber.stackBytes = worker.stacks.stackBytes();
    forgetStackFrames(fiber.stackLow, fiber.stackBytes);
    fiber.stackPointer =
        prepareFiberStack(fiber.stackLow, fiber.stackBytes, runFiber, &fiber);
    fiber.context.stackLimit =
        reinterpret_cast<uint64_t>(fiber.stackLow) + kFiberStackReserve;
    fiber.context.controlWord =
        reinterpret_cast<uint32_t *>(launch.controlWord);
    fiber.context.trap = trapInFiber;
    fiber.context.kernel = &fiber.thread;
    launch.fillKernelThread(fiber.thread, blockIndex, shared);
    unpackIndex(i, launch.block, fiber.thread.threadId);
    fiber.thread.lane = static_cast<uint32_t>(i % kWarpLanes);
    fiber.thread.barrier = barrierInFiber;
    fiber.thread.warp = warpOperationInFiber;
    fiber.state = FiberState::Runnable;
  }

  for (;;) {
    for (size_t i = 0; i < threads; ++i) {
      Fiber &fiber = fibers[i];
      if (fiber.state != FiberState::Runnable)
        continue;
      switchToFiber(worker, fiber);
      if (fiber.state == FiberState::Trapped) {
        launch.recordTrap(fiber.context.record, fiber.thread);
        return false;
      }
    }
    // Every thread now waits or has finished.
    size_t live = 0, atBarrier = 0;
    for (size_t i = 0; i < threads; ++i) {
      live += fibers[i].state != FiberState::Finished;
      atBarrier += fibers[i].state == FiberState::AtBarrier;
    }
    if (live == 0)
      return true;
    bool progress = false;
    bool divergent = false;
    for (size_t begin = 0; begin < threads; begin += kWarpLanes) {
      size_t end = std::min(threads, begin + kWarpLanes);
      size_t waiting = 0, unfinished = 0;
      for (size_t i = begin; i < end; ++i) {
        unfinished += fibers[i].state != FiberState::Finished;
        waiting += fibers[i].state == FiberState::AtWarpOperation;
      }
      if (waiting == 0 || waiting != unfinished)
        continue;
      if (!completeWarpOperation(fibers, begin, end))
        divergent = true;
      else
        progress = true;
    }
    if (!progress && !divergent && atBarrier == live) {
      for (size_t i = 0; i < threads; ++i)
        if (fibers[i].state == FiberState::AtBarrier)
          fibers[i].state = FiberState::Runnable;
      progress = true;
    }
    if (progress)
      continue;
    // No thread can go on: report the first that waits.
    for (size_t i = 0; i < threads; ++i) {
      if (fibers[i].state == FiberState::Finished)
        continue;
      abi::TrapRecord record{};
      record.code =
          static_cast<uint32_t>(abi::TrapCode::DivergentSynchronization);
      launch.recordTrap(record, fibers[i].thread);
      return false;
    }
    return false;
  }
}

/// Runs the worker's share of a kernel whose threads never wait for each
/// other: each thread to its end, in order, under one guard.
void runBlocksInOrder(Launch &launch, WorkerState &worker) {
  host::KernelThread &thread = worker.orderedThread;
  thread = host::KernelThread{};
  thread.barrier = barrierOutOfOrder;
  thread.warp = warpOperationOutOfOrder;
  struct Share {
    Launch *launch;
    WorkerState *worker;
  } share{&launch, &worker};
  CallResult result = runGuarded(
      [](host::ThreadContext *context, void *argument) {
        Share &share = *static_cast<Share *>(argument);
        Launch &launch = *share.launch;
        WorkerState &worker = *share.worker;
        host::KernelThread &thread = worker.orderedThread;
        context->kernel = &thread;
        uint8_t *shared = reinterpret_cast<uint8_t *>(worker.shared.data());
        const Dim3 &block = launch.block;
        while (!launch.stopped()) {
          uint64_t blockIndex = launch.nextBlock.fetch_add(1);
          if (blockIndex >= launch.blockCount)
            return;
          launch.fillKernelThread(thread, blockIndex, shared);
          uint32_t linear = 0;
          for (uint32_t z = 0; z < block.z; ++z)
            for (uint32_t y = 0; y < block.y; ++y)
              for (uint32_t x = 0; x < block.x; ++x, ++linear) {
                thread.threadId[0] = x;
                thread.threadId[1] = y;
                thread.threadId[2] = z;
                thread.lane = linear % kWarpLanes;
                launch.entry(context, launch.globals, worker.arguments.data());
              }
          launch.blocksDone.fetch_add(1, std::memory_order_relaxed);
        }
      },
      &share, launch.controlWord);
  if (result.trapped()) {
    abi::TrapRecord record{};
    record.code = static_cast<uint32_t>(result.trap);
    record.function = result.function;
    record.offset = result.offset;
    launch.recordTrap(record, thread);
  }
}

void runShare(Launch &launch, WorkerState &worker) {
  worker.launch = &launch;
  worker.arguments = launch.arguments;
  worker.shared.assign(std::max<size_t>((launch.sharedBytes + 7) / 8, 1), 0);
  if (!launch.synchronizes) {
    runBlocksInOrder(launch, worker);
    return;
  }
  size_t threads = launch.block.count();
  std::string failure = worker.stacks.reserve(threads, kFiberStackBytes);
  if (!failure.empty()) {
    std::lock_guard<std::mutex> lock(launch.trapMutex);
    launch.failure = failure;
    return;
  }
  if (worker.fibers.size() < threads)
    worker.fibers.resize(threads);
  while (!launch.stopped()) {
    uint64_t blockIndex = launch.nextBlock.fetch_add(1);
    if (blockIndex >= launch.blockCount)
      return;
    if (!runBlockAsFibers(launch, worker, blockIndex))
      return;
    launch.blocksDone.fetch_add(1, std::memory_order_relaxed);
  }
}

std::string describe(const Dim3 &extent) {
  return std::to_string(extent.x) + "x" + std::to_string(extent.y) + "x" +
         std::to_string(extent.z);
}

} // namespace

KernelExecutor::KernelExecutor(unsigned workers,
                               std::chrono::nanoseconds demoteAfter)
    : demoteAfter(demoteAfter) {
  if (workers == 0)
    workers = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < workers; ++i)
    states.push_back(std::make_unique<WorkerState>());
  startWorkers();
}

KernelExecutor::~KernelExecutor() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &thread : threads)
    thread.join();
}

void KernelExecutor::startWorkers() {
  // Without demotion the calling thread is worker 0; with it, every worker
  // is a thread of the executor's, so that the caller's thread (a service's
  // request thread) is never the one demoted.
  uint64_t seen = generation;
  try {
    for (size_t i = demoteAfter.count() > 0 ? 0 : 1; i < states.size(); ++i)
      threads.emplace_back([this, i, seen] { workerLoop(i, seen); });
  } catch (const std::system_error &) {
    // Fewer workers still run launches; with none, launch() tries again.
  }
  if (demoteAfter.count() > 0) {
    // Every worker has its thread id before a launch may need to demote
    // it: one not yet scheduled would otherwise keep its priority.
    std::unique_lock<std::mutex> lock(mutex);
    wake.wait(lock, [&] {
      for (size_t i = 0; i < threads.size(); ++i)
        if (states[i]->threadId.load() == 0)
          return false;
      return true;
    });
  }
}

bool KernelExecutor::demoteWorkers() {
  sched_param parameters{};
  parameters.sched_priority = 0;
  bool any = false;
  for (const std::unique_ptr<WorkerState> &state : states)
    if (pid_t id = state->threadId.load())
      // A failure leaves the thread as it was: the launch is then only as
      // fair as the kernel's scheduler makes equals.
      any |= sched_setscheduler(id, SCHED_IDLE, &parameters) == 0;
  return any;
}

bool KernelExecutor::workersYield() const {
  std::lock_guard<std::mutex> serial(launchMutex);
  bool any = false;
  for (const std::unique_ptr<WorkerState> &state : states)
    if (pid_t id = state->threadId.load()) {
      if ((sched_getscheduler(id) & ~SCHED_RESET_ON_FORK) != SCHED_IDLE)
        return false;
      any = true;
    }
  return any;
}

void KernelExecutor::renewWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &thread : threads)
    thread.join();
  threads.clear();
  for (const std::unique_ptr<WorkerState> &state : states)
    state->threadId = 0;
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = false;
  }
  startWorkers();
}

void KernelExecutor::workerLoop(size_t index, uint64_t seen) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    states[index]->threadId = static_cast<pid_t>(syscall(SYS_gettid));
  }
  wake.notify_all();
  for (;;) {
    Launch *launch;
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping)
        return;
      seen = generation;
      launch = current;
    }
    // An exception may not leave a worker thread (it would end the
    // process): running out of memory fails the launch.
    try {
      if (index < launch->runners)
        runShare(*launch, *states[index]);
    } catch (const std::bad_alloc &) {
      std::lock_guard<std::mutex> lock(launch->trapMutex);
      launch->failure = "out of memory in a worker thread";
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (--busy == 0)
      done.notify_all();
  }
}

Expected<LaunchResult>
KernelExecutor::launch(Instance &instance, std::string_view name,
                       const LaunchConfig &config,
                       const std::vector<uint64_t> &arguments,
                       std::atomic<uint32_t> *controlWord) {
  const ModuleDescription &module = instance.description();
  const ModuleDescription::Kernel *kernel = module.findKernel(name);
  if (!kernel) {
    std::string known;
    for (const ModuleDescription::Kernel &each : module.kernels)
      known += (known.empty() ? "" : ", ") + each.name;
    return Error{"the module has no kernel named \"" + std::string(name) +
                 "\" (its kernels: " + (known.empty() ? "none" : known) + ")"};
  }
  if (arguments.size() != kernel->params.size())
    return Error{"kernel " + kernel->name + " takes " +
                 std::to_string(kernel->params.size()) + " arguments; " +
                 std::to_string(arguments.size()) + " were given"};
  const Dim3 &block = config.block, &grid = config.grid;
  if (block.x == 0 || block.y == 0 || block.z == 0 || block.x > 1024 ||
      block.y > 1024 || block.z > 64 || block.count() > kMaxBlockThreads)
    return Error{"a block of " + describe(block) +
                 " threads is not allowed: every extent must be at least 1, x "
                 "and y at most 1024, z at most 64, and the block at most " +
                 std::to_string(kMaxBlockThreads) +
                 " threads (the GPU's "
                 "limits)"};
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu ||
      grid.y > 65535 || grid.z > 65535)
    return Error{"a grid of " + describe(grid) +
                 " blocks is not allowed: every extent must be at least 1, x "
                 "at most 2^31-1, y and z at most 65535 (the GPU's limits)"};
  uint32_t sharedBytes = config.sharedBytes;
  if (kernel->block) {
    const std::array<uint32_t, 3> &shape = *kernel->block;
    if (block.x != shape[0] || block.y != shape[1] || block.z != shape[2])
      return Error{"kernel " + kernel->name + " is declared for blocks of " +
                   describe({shape[0], shape[1], shape[2]}) +
                   " threads (TWASM_KERNEL_SHAPE) and cannot run in blocks "
                   "of " +
                   describe(block)};
    sharedBytes = std::max(sharedBytes, kernel->sharedBytes);
  }
  if (sharedBytes > kMaxSharedBytes)
    return Error{std::to_string(sharedBytes) +
                 " bytes of shared scratch per block is more than the " +
                 std::to_string(kMaxSharedBytes) + " a block may have"};
  host::CallEntry entry = instance.code()->callEntry(kernel->functionIndex);
  if (!entry)
    return Error{"the compiled code has no entry for kernel " + kernel->name};

  // Without a control word from the caller, the launch still needs one: a
  // trap raises it to stop the other threads.
  std::atomic<uint32_t> ownControlWord{abi::kControlRun};
  if (!controlWord)
    controlWord = &ownControlWord;

  Launch launch;
  launch.entry = entry;
  launch.globals = instance.globals();
  launch.arguments.assign(arguments.begin(), arguments.end());
  launch.arguments.resize(std::max<size_t>(launch.arguments.size(), 1));
  launch.grid = grid;
  launch.block = block;
  launch.sharedBytes = sharedBytes;
  launch.synchronizes = kernel->synchronizes;
  launch.controlWord = controlWord;
  launch.blockCount = grid.count();

  std::lock_guard<std::mutex> serial(launchMutex);
  if (heldInIdleClass &&
      std::chrono::steady_clock::now() - heldSince >= kDemotionHold) {
    renewWorkers();
    heldInIdleClass = false;
  }
  if (demoteAfter.count() > 0 && threads.empty()) {
    startWorkers();
    heldInIdleClass = false;
    if (threads.empty())
      return Error{"the executor could not start its worker threads"};
  }
  // A tenant held in the idle class runs on one of its threads: its
  // threads then take turns with fewer others' at the scheduler's floor.
  launch.runners = heldInIdleClass ? 1 : states.size();
  instance.beginLaunch();
  {
    std::lock_guard<std::mutex> lock(mutex);
    current = &launch;
    ++generation;
    busy = static_cast<unsigned>(threads.size());
  }
  wake.notify_all();
  bool demoted = heldInIdleClass;
  if (demoteAfter.count() > 0) {
    std::unique_lock<std::mutex> lock(mutex);
    if (!done.wait_for(lock, demoteAfter, [&] { return busy == 0; })) {
      lock.unlock();
      if (!demoted)
        demoted = demoteWorkers();
    }
  } else {
    runShare(launch, *states[0]);
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return busy == 0; });
    current = nullptr;
  }
  instance.endLaunch();

  Expected<LaunchResult> outcome = [&]() -> Expected<LaunchResult> {
    if (launch.trapped)
      return launch.result;
    if (launch.blocksDone.load() == launch.blockCount)
      return LaunchResult{};
    if (!launch.failure.empty())
      return Error{launch.failure};
    // Blocks were left unstarted because the control word was raised.
    LaunchResult interrupted;
    interrupted.trap = abi::TrapCode::Interrupted;
    return interrupted;
  }();
  if (demoteAfter.count() == 0)
    return outcome;
  // A launch that outlasted its slice and then ran out of time (or was
  // cancelled) holds the workers in the idle class for the launches that
  // start within kDemotionHold of it; any other launch that outlasted its
  // slice gets fresh threads of the normal class, unless they are held
  // already. One cancelled within its slice is not held.
  if (demoted && outcome && outcome->trap == abi::TrapCode::Interrupted) {
    heldInIdleClass = true;
    heldSince = std::chrono::steady_clock::now();
  } else if (demoted && !heldInIdleClass) {
    renewWorkers();
  }
  return outcome;
}

Expected<LaunchResult> KernelExecutor::launchWithTimeout(
    Instance &instance, std::string_view name, const LaunchConfig &config,
    const std::vector<uint64_t> &arguments, std::chrono::nanoseconds timeout) {
  std::atomic<uint32_t> controlWord{abi::kControlRun};
  Watchdog watchdog(&controlWord, timeout);
  return launch(instance, name, config, arguments, &controlWord);
}

} // namespace tensorwasm::cpu
