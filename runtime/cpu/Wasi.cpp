//===- Wasi.cpp - the WASI preview1 subset for host code ------------------===//
//
// Each function follows WASI preview1's definition (witx): its pointers are
// offsets into the instance's linear memory, checked before any byte is
// read or written (a range outside memory is errno FAULT, nothing written),
// and it returns an errno.
//
//===----------------------------------------------------------------------===//

#include "Wasi.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/random.h>
#include <unistd.h>

namespace tensorwasm::cpu {

namespace {

// WASI's errno values (preview1, "errno").
constexpr uint32_t kSuccess = 0;
constexpr uint32_t kBadDescriptor = 8;
constexpr uint32_t kFault = 21;
constexpr uint32_t kInvalid = 28;
constexpr uint32_t kIo = 29;
constexpr uint32_t kInvalidSeek = 70;

constexpr uint8_t kCharacterDevice = 2;
constexpr uint64_t kRightFdRead = uint64_t(1) << 1;
constexpr uint64_t kRightFdWrite = uint64_t(1) << 6;

} // namespace

/// The functions, with access to Wasi's state.
struct WasiCalls {
  static Wasi &self(void *environment) {
    return *static_cast<Wasi *>(environment);
  }

  /// `bytes` bytes at `address` of the instance's memory, or null when the
  /// range is not all inside it.
  static uint8_t *at(Wasi &wasi, uint64_t address, uint64_t bytes) {
    const std::shared_ptr<LinearMemory> &memory = wasi.instance->memory();
    return memory ? memory->range(address, bytes) : nullptr;
  }

  static uint32_t arg(const uint64_t *values, int index) {
    return static_cast<uint32_t>(values[index]);
  }

  static void put32(uint8_t *where, uint32_t value) {
    std::memcpy(where, &value, 4);
  }
  static void put64(uint8_t *where, uint64_t value) {
    std::memcpy(where, &value, 8);
  }

  /// The sizes of a list of strings: count and bytes with terminators.
  static void sizes(const std::vector<std::string> &strings, uint64_t *values,
                    Wasi &wasi) {
    uint8_t *count = at(wasi, arg(values, 0), 4);
    uint8_t *total = at(wasi, arg(values, 1), 4);
    if (!count || !total) {
      values[0] = kFault;
      return;
    }
    uint64_t bytes = 0;
    for (const std::string &text : strings)
      bytes += text.size() + 1;
    put32(count, static_cast<uint32_t>(strings.size()));
    put32(total, static_cast<uint32_t>(bytes));
    values[0] = kSuccess;
  }

  /// A list of strings: pointers at `values[0]`, the strings themselves
  /// (zero-terminated, one after another) at `values[1]`.
  static void strings(const std::vector<std::string> &strings, uint64_t *values,
                      Wasi &wasi) {
    uint64_t bytes = 0;
    for (const std::string &text : strings)
      bytes += text.size() + 1;
    uint8_t *pointers = at(wasi, arg(values, 0), 4 * strings.size());
    uint8_t *buffer = at(wasi, arg(values, 1), bytes);
    if (!pointers || !buffer) {
      values[0] = kFault;
      return;
    }
    uint32_t offset = arg(values, 1);
    for (size_t i = 0; i < strings.size(); ++i) {
      put32(pointers + 4 * i, offset);
      std::memcpy(buffer, strings[i].c_str(), strings[i].size() + 1);
      buffer += strings[i].size() + 1;
      offset += static_cast<uint32_t>(strings[i].size() + 1);
    }
    values[0] = kSuccess;
  }

  static void argsSizesGet(void *env, abi::host::ThreadContext *,
                           uint64_t *values) {
    sizes(self(env).args, values, self(env));
  }
  static void argsGet(void *env, abi::host::ThreadContext *, uint64_t *values) {
    strings(self(env).args, values, self(env));
  }
  static void environSizesGet(void *env, abi::host::ThreadContext *,
                              uint64_t *values) {
    sizes(self(env).environment, values, self(env));
  }
  static void environGet(void *env, abi::host::ThreadContext *,
                         uint64_t *values) {
    strings(self(env).environment, values, self(env));
  }

  static std::optional<clockid_t> clockOf(uint32_t id) {
    switch (id) {
    case 0:
      return CLOCK_REALTIME;
    case 1:
      return CLOCK_MONOTONIC;
    case 2:
      return CLOCK_PROCESS_CPUTIME_ID;
    case 3:
      return CLOCK_THREAD_CPUTIME_ID;
    default:
      return std::nullopt;
    }
  }

  static void clockResGet(void *env, abi::host::ThreadContext *,
                          uint64_t *values) {
    std::optional<clockid_t> clock = clockOf(arg(values, 0));
    uint8_t *result = at(self(env), arg(values, 1), 8);
    timespec resolution{};
    if (!clock || clock_getres(*clock, &resolution) != 0) {
      values[0] = kInvalid;
      return;
    }
    if (!result) {
      values[0] = kFault;
      return;
    }
    put64(result, uint64_t(resolution.tv_sec) * 1000000000 +
                      uint64_t(resolution.tv_nsec));
    values[0] = kSuccess;
  }

  static void clockTimeGet(void *env, abi::host::ThreadContext *,
                           uint64_t *values) {
    // (id: i32, precision: i64, time: i32): the precision is a hint.
    std::optional<clockid_t> clock = clockOf(arg(values, 0));
    uint8_t *result = at(self(env), arg(values, 2), 8);
    timespec now{};
    if (!clock || clock_gettime(*clock, &now) != 0) {
      values[0] = kInvalid;
      return;
    }
    if (!result) {
      values[0] = kFault;
      return;
    }
    put64(result, uint64_t(now.tv_sec) * 1000000000 + uint64_t(now.tv_nsec));
    values[0] = kSuccess;
  }

  static void randomGet(void *env, abi::host::ThreadContext *,
                        uint64_t *values) {
    uint32_t length = arg(values, 1);
    uint8_t *buffer = at(self(env), arg(values, 0), length);
    if (!buffer) {
      values[0] = kFault;
      return;
    }
    while (length > 0) {
      ssize_t got = getrandom(buffer, length, 0);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0) {
        values[0] = kIo;
        return;
      }
      buffer += got;
      length -= static_cast<uint32_t>(got);
    }
    values[0] = kSuccess;
  }

  /// Checks the iovec list {buf: u32, len: u32}[count] at `list`: every
  /// entry and every buffer inside memory. Read in place (the count may be
  /// anything a program writes), never copied.
  static uint8_t *iovecs(Wasi &wasi, uint32_t list, uint32_t count) {
    uint8_t *entries = at(wasi, list, uint64_t(count) * 8);
    if (!entries)
      return nullptr;
    for (uint32_t i = 0; i < count; ++i) {
      auto [bytes, length] = iovec(wasi, entries, i);
      if (!bytes)
        return nullptr;
    }
    return entries;
  }
  /// Entry `i` of a checked iovec list: its bytes and their length.
  static std::pair<uint8_t *, uint32_t> iovec(Wasi &wasi, uint8_t *entries,
                                              uint32_t i) {
    uint32_t base, length;
    std::memcpy(&base, entries + 8 * uint64_t(i), 4);
    std::memcpy(&length, entries + 8 * uint64_t(i) + 4, 4);
    return {at(wasi, base, length), length};
  }

  static void fdWrite(void *env, abi::host::ThreadContext *, uint64_t *values) {
    Wasi &wasi = self(env);
    uint32_t fd = arg(values, 0);
    if (fd != 1 && fd != 2) {
      values[0] = kBadDescriptor;
      return;
    }
    uint8_t *written = at(wasi, arg(values, 3), 4);
    uint8_t *entries = iovecs(wasi, arg(values, 1), arg(values, 2));
    if (!written || !entries) {
      values[0] = kFault;
      return;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < arg(values, 2); ++i) {
      auto [bytes, length] = iovec(wasi, entries, i);
      while (length > 0) {
        ssize_t done = ::write(static_cast<int>(fd), bytes, length);
        if (done < 0 && errno == EINTR)
          continue;
        if (done <= 0) {
          put32(written, static_cast<uint32_t>(total));
          values[0] = kIo;
          return;
        }
        bytes += done;
        length -= static_cast<uint32_t>(done);
        total += static_cast<uint64_t>(done);
      }
    }
    put32(written, static_cast<uint32_t>(total));
    values[0] = kSuccess;
  }

  static void fdRead(void *env, abi::host::ThreadContext *, uint64_t *values) {
    Wasi &wasi = self(env);
    if (arg(values, 0) != 0) {
      values[0] = kBadDescriptor;
      return;
    }
    uint8_t *read = at(wasi, arg(values, 3), 4);
    uint8_t *entries = iovecs(wasi, arg(values, 1), arg(values, 2));
    if (!read || !entries) {
      values[0] = kFault;
      return;
    }
    // One read, into the first buffer that has room: what is there now.
    for (uint32_t i = 0; i < arg(values, 2); ++i) {
      auto [bytes, length] = iovec(wasi, entries, i);
      if (length == 0)
        continue;
      ssize_t got;
      do
        got = ::read(0, bytes, length);
      while (got < 0 && errno == EINTR);
      if (got < 0) {
        values[0] = kIo;
        return;
      }
      put32(read, static_cast<uint32_t>(got));
      values[0] = kSuccess;
      return;
    }
    put32(read, 0);
    values[0] = kSuccess;
  }

  static void fdFdstatGet(void *env, abi::host::ThreadContext *,
                          uint64_t *values) {
    uint32_t fd = arg(values, 0);
    if (fd > 2) {
      values[0] = kBadDescriptor;
      return;
    }
    uint8_t *stat = at(self(env), arg(values, 1), 24);
    if (!stat) {
      values[0] = kFault;
      return;
    }
    std::memset(stat, 0, 24);
    stat[0] = kCharacterDevice;
    put64(stat + 8, fd == 0 ? kRightFdRead : kRightFdWrite);
    values[0] = kSuccess;
  }

  static void fdSeek(void *, abi::host::ThreadContext *, uint64_t *values) {
    values[0] = arg(values, 0) <= 2 ? kInvalidSeek : kBadDescriptor;
  }

  static void fdClose(void *, abi::host::ThreadContext *, uint64_t *values) {
    values[0] = arg(values, 0) <= 2 ? kSuccess : kBadDescriptor;
  }

  /// No directory is opened for the program: every descriptor past the
  /// standard three is bad, which tells wasi-libc there are no preopens.
  static void fdPrestatGet(void *, abi::host::ThreadContext *,
                           uint64_t *values) {
    values[0] = kBadDescriptor;
  }
  static void fdPrestatDirName(void *, abi::host::ThreadContext *,
                               uint64_t *values) {
    values[0] = kBadDescriptor;
  }

  static void schedYield(void *, abi::host::ThreadContext *, uint64_t *values) {
    values[0] = kSuccess;
  }

  static void procExit(void *env, abi::host::ThreadContext *thread,
                       uint64_t *values) {
    self(env).exited = arg(values, 0);
    thread->trap(thread, static_cast<uint32_t>(abi::TrapCode::Unreachable), 0,
                 0);
  }
};

namespace {

const std::vector<HostFunction> &functions() {
  using V = ValueType;
  static const std::vector<HostFunction> table = {
      {"args_get", {V::I32, V::I32}, {V::I32}, hostOnly<WasiCalls::argsGet>},
      {"args_sizes_get",
       {V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::argsSizesGet>},
      {"environ_get",
       {V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::environGet>},
      {"environ_sizes_get",
       {V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::environSizesGet>},
      {"clock_res_get",
       {V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::clockResGet>},
      {"clock_time_get",
       {V::I32, V::I64, V::I32},
       {V::I32},
       hostOnly<WasiCalls::clockTimeGet>},
      {"random_get",
       {V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::randomGet>},
      {"fd_write",
       {V::I32, V::I32, V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::fdWrite>},
      {"fd_read",
       {V::I32, V::I32, V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::fdRead>},
      {"fd_fdstat_get",
       {V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::fdFdstatGet>},
      {"fd_seek",
       {V::I32, V::I64, V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::fdSeek>},
      {"fd_close", {V::I32}, {V::I32}, hostOnly<WasiCalls::fdClose>},
      {"fd_prestat_get",
       {V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::fdPrestatGet>},
      {"fd_prestat_dir_name",
       {V::I32, V::I32, V::I32},
       {V::I32},
       hostOnly<WasiCalls::fdPrestatDirName>},
      {"sched_yield", {}, {V::I32}, hostOnly<WasiCalls::schedYield>},
      {"proc_exit", {V::I32}, {}, hostOnly<WasiCalls::procExit>},
  };
  return table;
}

} // namespace

Wasi::Wasi(std::vector<std::string> args, std::vector<std::string> environment)
    : args(std::move(args)), environment(std::move(environment)) {}

std::vector<std::string> Wasi::provided() {
  std::vector<std::string> names;
  for (const HostFunction &function : functions())
    names.push_back(function.name);
  return names;
}

Expected<abi::host::ImportedFunction>
bindHostFunction(const std::vector<HostFunction> &functions,
                 const std::string &module, const std::string &name,
                 const Signature &signature, void *environment) {
  for (const HostFunction &function : functions) {
    if (name != function.name)
      continue;
    if (signature.params != function.params ||
        signature.results != function.results)
      return Error{module + "." + name + " is imported with a type other " +
                   "than " + module + "'s"};
    return abi::host::ImportedFunction{function.call, environment};
  }
  std::string list;
  for (const HostFunction &function : functions)
    list += (list.empty() ? "" : ", ") + std::string(function.name);
  return Error{"the module imports " + module + "." + name +
               ", which TensorWasm does not provide (" + module +
               " has: " + list + ")"};
}

Expected<abi::host::ImportedFunction> Wasi::bind(const std::string &name,
                                                 const Signature &signature) {
  return bindHostFunction(functions(), kWasiModule, name, signature, this);
}

} // namespace tensorwasm::cpu
