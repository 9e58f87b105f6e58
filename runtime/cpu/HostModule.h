//===- HostModule.h - loading and running CPU-backend code ------*- C++ -*-===//
//
// The runtime's side of docs/host-abi.md, with no compiler in it: a module
// compiled by `twasm compile --target host` (a shared object and its
// manifest) is loaded from memory, instantiated over a linear memory, a
// globals block and imported functions, and its exported functions are
// called with traps, stack exhaustion and interruption coming back as
// values. The runtime's device layer (issue 5) builds on this; the spec-test
// runner uses it directly.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_CPU_HOSTMODULE_H
#define TWASM_RUNTIME_CPU_HOSTMODULE_H

#include "twasm/HostAbi.h"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace tensorwasm::cpu {

/// A failure the caller can act on: what went wrong, in words.
struct Error {
  std::string message;
};

/// A value or an Error.
template <typename T> class Expected {
public:
  Expected(T value) : state(std::move(value)) {}
  Expected(Error error) : state(std::move(error)) {}
  explicit operator bool() const { return state.index() == 0; }
  T &operator*() { return std::get<0>(state); }
  T *operator->() { return &std::get<0>(state); }
  const Error &error() const { return std::get<1>(state); }

private:
  std::variant<T, Error> state;
};

enum class ValueType : uint8_t { I32, I64, F32, F64, FuncRef, ExternRef };
std::optional<ValueType> parseValueType(std::string_view name);
const char *valueTypeName(ValueType type);

struct Signature {
  std::vector<ValueType> params;
  std::vector<ValueType> results;
  bool operator==(const Signature &other) const {
    return params == other.params && results == other.results;
  }
};

using ImportName = std::pair<std::string, std::string>;

/// What the manifest (docs/kernel-manifest.md) says about a compiled module:
/// for the host (this loader) or for the GPU (the runtime's cuda device,
/// which also needs the data segments, initialisers and PTX entry names).
struct ModuleDescription {
  enum class Target { Host, Ptx };
  /// A constant expression (manifest "Constant expressions").
  struct Constant {
    enum class Kind {
      /// `bits` is the value.
      Literal,
      /// The value of the imported global whose symbol is `name`.
      ImportedGlobal,
      /// An operation the manifest cannot express, named by `name`.
      Unsupported,
    };
    Kind kind = Kind::Literal;
    uint64_t bits = 0;
    std::string name;
  };
  struct DataSegment {
    Constant offset;
    std::string bytes;
  };
  struct ElementSegment {
    Constant offset;
    /// 0 for null, else a function index plus 1.
    std::vector<uint32_t> entries;
  };
  struct Memory {
    uint64_t minPages;
    std::optional<uint64_t> maxPages;
    std::optional<ImportName> import;
  };
  struct Global {
    std::string symbol;
    ValueType type;
    uint64_t offset;
    bool isMutable;
    std::optional<ImportName> import;
    /// The initialiser of a global that is not imported.
    std::optional<Constant> init;
  };
  struct Table {
    std::string symbol;
    ValueType type;
    uint64_t offset;
    uint32_t size;
    uint32_t capacity;
    std::optional<uint64_t> maxSize;
    std::optional<ImportName> import;
    std::vector<ElementSegment> segments;
  };
  struct FunctionImport {
    uint32_t functionIndex;
    ImportName import;
    Signature signature;
  };
  /// A kernel (docs/kernel-abi.md section 1): an exported function the
  /// runtime launches over a grid of threads.
  struct Kernel {
    std::string name;
    /// The PTX `.entry` (GPU code only).
    std::string entry;
    uint32_t functionIndex = 0;
    std::vector<ValueType> params;
    /// Whether its threads may wait for each other (barriers, warp
    /// operations).
    bool synchronizes = true;
    /// A declared launch shape: the only block it may run in, and the least
    /// shared scratch.
    std::optional<std::array<uint32_t, 3>> block;
    uint32_t sharedBytes = 0;
  };
  enum class ExportKind { Func, Table, Memory, Global };
  struct Export {
    std::string name;
    ExportKind kind;
    std::string symbol;
    // Functions.
    uint32_t functionIndex = 0;
    Signature signature;
    // Globals: the slot (every exported global has one on the host).
    ValueType globalType = ValueType::I32;
    bool globalMutable = false;
    std::optional<uint64_t> globalOffset;
  };

  /// The PTX's architecture ("sm_90"), or the host's CPU ("x86-64-v2").
  std::string chip;
  uint64_t globalsBytes = 0;
  std::optional<Memory> memory;
  std::vector<Global> globals;
  std::vector<Table> tables;
  std::vector<FunctionImport> functionImports;
  std::vector<Export> exports;
  std::optional<uint32_t> start;
  std::vector<Kernel> kernels;
  std::vector<DataSegment> data;

  /// Parses and checks a manifest; refuses one for another target or ABI.
  static Expected<ModuleDescription> parse(std::string_view json,
                                           Target target = Target::Host);
  const Export *findExport(std::string_view name) const;
  const Kernel *findKernel(std::string_view name) const;
};

/// A shared object loaded from memory: written to a sealed memfd (so what
/// was handed over is what runs) and dlopen'ed with RTLD_LOCAL.
class LoadedCode {
public:
  static Expected<std::shared_ptr<LoadedCode>> load(std::string_view bytes);
  ~LoadedCode();
  LoadedCode(const LoadedCode &) = delete;
  LoadedCode &operator=(const LoadedCode &) = delete;

  abi::host::InstantiateEntry instantiate() const { return instantiateEntry; }
  /// The entry of function `index`, or null if the object has none.
  abi::host::CallEntry callEntry(uint32_t index) const;

private:
  LoadedCode() = default;
  void *handle = nullptr;
  int descriptor = -1;
  abi::host::InstantiateEntry instantiateEntry = nullptr;
};

/// A linear memory: the largest size it may reach is reserved up front
/// (inaccessible), so its base never moves and growing makes pages
/// accessible in place.
class LinearMemory {
public:
  /// `maxPages` is the memory's declared maximum, capped at 65536 (4 GiB).
  static Expected<std::shared_ptr<LinearMemory>> create(uint64_t minPages,
                                                        uint64_t maxPages);
  /// Linear memory in `capacityBytes` at `base` that another party owns
  /// and keeps in place (a GPU's unified memory, which a program's host
  /// code shares with its kernels): `minPages` pages of it in use, growth
  /// up to `maxPages` that fit in the capacity, new pages zeroed here (the
  /// storage may hold anything), and `resized` told every new size before
  /// the code sees it.
  static Expected<std::shared_ptr<LinearMemory>>
  adopt(uint8_t *base, uint64_t capacityBytes, uint64_t minPages,
        uint64_t maxPages, std::function<bool(uint64_t bytes)> resized);
  ~LinearMemory();
  LinearMemory(const LinearMemory &) = delete;
  LinearMemory &operator=(const LinearMemory &) = delete;

  /// The old size in pages, or -1 with nothing changed.
  int32_t grow(uint32_t deltaPages);
  /// Makes every byte zero again, without touching a page.
  void reset();
  uint64_t pages() const { return state.size / abi::kPageBytes; }
  uint64_t maxPages() const { return maximumPages; }
  uint8_t *data() { return state.base; }
  uint64_t size() const { return state.size; }
  /// The `bytes` bytes at `address`, or null unless all are inside memory:
  /// how host functions reach what a Wasm pointer and length name.
  uint8_t *range(uint64_t address, uint64_t bytes) {
    if (address > state.size || bytes > state.size - address)
      return nullptr;
    return state.base + address;
  }
  abi::host::MemoryState *abiState() { return &state; }

private:
  LinearMemory() = default;
  abi::host::MemoryState state{};
  uint64_t reservedBytes = 0;
  uint64_t maximumPages = 0;
  /// Set for adopted storage (adopt()), which is not ours to map.
  std::function<bool(uint64_t bytes)> resized;
};

/// The outcome of a call into Wasm code.
struct CallResult {
  /// TrapCode::None when the call returned.
  abi::TrapCode trap = abi::TrapCode::None;
  uint32_t function = 0;
  uint32_t offset = 0;
  bool trapped() const { return trap != abi::TrapCode::None; }
};

/// Keeps the thread's first trap in its record: what a trap handler does
/// before it leaves the Wasm code.
inline void recordFirstTrap(abi::host::ThreadContext *thread, uint32_t code,
                            uint32_t function, uint32_t offset) {
  if (thread->record.code == 0) {
    thread->record.code = code;
    thread->record.function = function;
    thread->record.offset = offset;
  }
}

/// The address below which Wasm code running on this (ordinary) thread
/// traps with CallStackExhausted: the thread's stack, less room for the
/// runtime.
uint64_t stackLimitOfThisThread();

/// Whether the Wasm code calling on `thread` is a kernel's thread of a
/// launch (rather than an ordinary call): a host function that only host
/// code may call (a program's WASI and twasm_host imports) refuses it.
bool runsKernel(const abi::host::ThreadContext *thread);

/// Runs `body` on this thread with a fresh thread context, which it passes
/// to the Wasm code it calls: a trap, stack exhaustion or interruption
/// (through `controlWord`) ends the run and is returned.
using GuardedBody = void (*)(abi::host::ThreadContext *thread, void *context);
CallResult runGuarded(GuardedBody body, void *context,
                      std::atomic<uint32_t> *controlWord);

/// Calls `entry` on this thread with a fresh thread context: a trap,
/// stack exhaustion or interruption (through `controlWord`) ends the call
/// and is returned. Nested calls (an import that calls back into Wasm code)
/// must use the thread context they are given instead.
CallResult callGuarded(abi::host::CallEntry entry, uint8_t *globals,
                       uint64_t *values, std::atomic<uint32_t> *controlWord);

/// Interrupts a call that runs past its deadline: a thread that sets the
/// control word to kControlInterrupt when `timeout` has passed, unless the
/// watchdog is destroyed first. The call then stops at its next check (a
/// function entry or a loop back-edge) with TrapCode::Interrupted.
class Watchdog {
public:
  Watchdog(std::atomic<uint32_t> *controlWord,
           std::chrono::nanoseconds timeout);
  ~Watchdog();
  Watchdog(const Watchdog &) = delete;
  Watchdog &operator=(const Watchdog &) = delete;

private:
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::thread thread;
};

/// An instance of a module on the host.
class Instance {
public:
  /// What the embedder supplies for the module's imports, by the import's
  /// position in each of the manifest's lists.
  struct Imports {
    std::vector<abi::host::ImportedFunction> functions;
    /// For each imported global, its value as 8 bytes.
    std::vector<uint64_t> globals;
    /// The imported memory; or for a module that defines its memory, the
    /// storage to use for it (adopted, LinearMemory::adopt), if not its own.
    std::shared_ptr<LinearMemory> memory;
    /// For each imported table, its elements (copied: see
    /// docs/conformance.md).
    std::vector<std::vector<uint32_t>> tables;
  };

  /// Creates the instance (memory, globals block) without running any of
  /// its code.
  static Expected<std::unique_ptr<Instance>>
  create(std::shared_ptr<LoadedCode> code, const ModuleDescription &module,
         Imports imports);
  ~Instance();

  /// Runs the module's initialization (globals, element and data segments)
  /// and then, unless `runStart` is false, its start function.
  Expected<CallResult> instantiate(std::atomic<uint32_t> *controlWord,
                                   bool runStart = true);
  /// Calls the function `index` with `values` (arguments in, results out).
  /// Returns an error if the module has no entry for it.
  Expected<CallResult> call(uint32_t index, uint64_t *values,
                            std::atomic<uint32_t> *controlWord);
  /// Calls the function `index` and interrupts it if it runs longer than
  /// `timeout`.
  Expected<CallResult> callWithTimeout(uint32_t index, uint64_t *values,
                                       std::chrono::nanoseconds timeout);
  /// While a kernel launch over this instance runs, memory.grow fails (it
  /// returns -1, as on the GPU: docs/kernel-abi.md): its threads read the
  /// memory's size once, and the launch's other threads are running.
  void beginLaunch() { launchesRunning.fetch_add(1); }
  void endLaunch() { launchesRunning.fetch_sub(1); }
  /// The same, nested inside another call on `thread`.
  bool callNested(uint32_t index, abi::host::ThreadContext *thread,
                  uint64_t *values);

  uint8_t *globals() { return globalsBlock + abi::host::kInstanceHeaderBytes; }
  const std::shared_ptr<LinearMemory> &memory() const { return linearMemory; }
  const ModuleDescription &description() const { return module; }
  const std::shared_ptr<LoadedCode> &code() const { return loaded; }

private:
  Instance() = default;
  static int32_t growMemory(abi::host::InstanceHeader *header,
                            uint32_t deltaPages);

  std::shared_ptr<LoadedCode> loaded;
  ModuleDescription module;
  std::shared_ptr<LinearMemory> linearMemory;
  std::vector<abi::host::ImportedFunction> importedFunctions;
  uint8_t *globalsBlock = nullptr;
  std::atomic<uint32_t> launchesRunning{0};
};

} // namespace tensorwasm::cpu

#endif // TWASM_RUNTIME_CPU_HOSTMODULE_H
