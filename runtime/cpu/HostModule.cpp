//===- HostModule.cpp - loading and running CPU-backend code --------------===//

#include "HostModule.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

namespace tensorwasm::cpu {

namespace host = abi::host;

std::optional<ValueType> parseValueType(std::string_view name) {
  if (name == "i32")
    return ValueType::I32;
  if (name == "i64")
    return ValueType::I64;
  if (name == "f32")
    return ValueType::F32;
  if (name == "f64")
    return ValueType::F64;
  if (name == "funcref")
    return ValueType::FuncRef;
  if (name == "externref")
    return ValueType::ExternRef;
  return std::nullopt;
}

const char *valueTypeName(ValueType type) {
  switch (type) {
  case ValueType::I32:
    return "i32";
  case ValueType::I64:
    return "i64";
  case ValueType::F32:
    return "f32";
  case ValueType::F64:
    return "f64";
  case ValueType::FuncRef:
    return "funcref";
  case ValueType::ExternRef:
    return "externref";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// The manifest
//===----------------------------------------------------------------------===//

namespace {

using nlohmann::json;

/// Thrown only inside ModuleDescription::parse, which turns it into an
/// Error: a manifest is read in one place, and every field is checked.
struct ManifestError {
  std::string message;
};

const json &field(const json &object, const char *key) {
  if (!object.is_object() || !object.contains(key))
    throw ManifestError{std::string("missing \"") + key + "\""};
  return object.at(key);
}

uint64_t unsignedField(const json &object, const char *key) {
  const json &value = field(object, key);
  if (!value.is_number_unsigned())
    throw ManifestError{std::string("\"") + key +
                        "\" is not a non-negative integer"};
  return value.get<uint64_t>();
}

std::optional<uint64_t> optionalUnsigned(const json &object, const char *key) {
  const json &value = field(object, key);
  if (value.is_null())
    return std::nullopt;
  return unsignedField(object, key);
}

std::string stringField(const json &object, const char *key) {
  const json &value = field(object, key);
  if (!value.is_string())
    throw ManifestError{std::string("\"") + key + "\" is not a string"};
  return value.get<std::string>();
}

ValueType typeOf(const json &value) {
  if (!value.is_string())
    throw ManifestError{"a type is not a string"};
  std::optional<ValueType> type = parseValueType(value.get<std::string>());
  if (!type)
    throw ManifestError{"unknown value type " + value.get<std::string>()};
  return *type;
}

std::vector<ValueType> types(const json &object, const char *key) {
  const json &list = field(object, key);
  if (!list.is_array())
    throw ManifestError{std::string("\"") + key + "\" is not a list"};
  std::vector<ValueType> result;
  for (const json &item : list)
    result.push_back(typeOf(item));
  return result;
}

std::optional<ImportName> importOf(const json &object) {
  const json &value = field(object, "import");
  if (value.is_null())
    return std::nullopt;
  if (!value.is_array() || value.size() != 2 || !value[0].is_string() ||
      !value[1].is_string())
    throw ManifestError{"\"import\" is not [module, name]"};
  return ImportName{value[0].get<std::string>(), value[1].get<std::string>()};
}

ModuleDescription::Constant constantOf(const json &value) {
  using Constant = ModuleDescription::Constant;
  if (!value.is_object() || value.size() != 1)
    throw ManifestError{"a constant expression is not an object of one key"};
  const std::string &key = value.begin().key();
  const json &operand = value.begin().value();
  auto decimal = [&]() -> uint64_t {
    if (!operand.is_string())
      throw ManifestError{"a 64-bit constant is not a decimal string"};
    const std::string &digits = operand.get_ref<const std::string &>();
    size_t start = !digits.empty() && digits[0] == '-' ? 1 : 0;
    if (digits.size() == start || digits.size() > 21 ||
        digits.find_first_not_of("0123456789", start) != std::string::npos)
      throw ManifestError{"a 64-bit constant is not a decimal string"};
    return start ? static_cast<uint64_t>(std::stoll(digits))
                 : std::stoull(digits);
  };
  if (key == "i32") {
    if (!operand.is_number_integer() || operand.get<int64_t>() < INT32_MIN ||
        operand.get<int64_t>() > UINT32_MAX)
      throw ManifestError{"an i32 constant is not a 32-bit integer"};
    return {Constant::Kind::Literal,
            static_cast<uint32_t>(operand.get<int64_t>()), ""};
  }
  if (key == "i64" || key == "f64_bits")
    return {Constant::Kind::Literal, decimal(), ""};
  if (key == "f32_bits" || key == "ref") {
    if (!operand.is_number_unsigned() || operand.get<uint64_t>() > UINT32_MAX)
      throw ManifestError{"a " + key + " constant is not a 32-bit number"};
    return {Constant::Kind::Literal, operand.get<uint64_t>(), ""};
  }
  if ((key == "global" || key == "unsupported") && operand.is_string())
    return {key == "global" ? Constant::Kind::ImportedGlobal
                            : Constant::Kind::Unsupported,
            0, operand.get<std::string>()};
  throw ManifestError{"unknown constant expression \"" + key + "\""};
}

/// A data segment's bytes from its hex. Table-driven: a big segment's hex is
/// the bulk of a manifest, and decoding it is on the path of every load.
std::string bytesOfHex(const std::string &hex) {
  if (hex.size() % 2)
    throw ManifestError{"a data segment's hex has an odd length"};
  static const std::array<int8_t, 256> digitValues = [] {
    std::array<int8_t, 256> values;
    values.fill(-1);
    for (int digit = 0; digit < 10; ++digit)
      values['0' + digit] = static_cast<int8_t>(digit);
    for (int digit = 0; digit < 6; ++digit)
      values['a' + digit] = static_cast<int8_t>(10 + digit);
    return values;
  }();
  std::string bytes(hex.size() / 2, '\0');
  int invalid = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    int high = digitValues[static_cast<unsigned char>(hex[2 * i])];
    int low = digitValues[static_cast<unsigned char>(hex[2 * i + 1])];
    invalid |= high | low;
    bytes[i] = static_cast<char>(high * 16 + low);
  }
  if (invalid < 0)
    throw ManifestError{"a data segment's hex has a non-hex character"};
  return bytes;
}

} // namespace

Expected<ModuleDescription> ModuleDescription::parse(std::string_view text,
                                                     Target target) {
  json manifest = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded())
    return Error{"the manifest is not JSON"};
  try {
    if (stringField(manifest, "format") != "tensorwasm-kernel-manifest")
      return Error{"not a TensorWasm manifest"};
    if (unsignedField(manifest, "abi") != abi::kVersion)
      return Error{"the manifest is for ABI version " +
                   std::to_string(unsignedField(manifest, "abi")) +
                   ", this runtime implements " +
                   std::to_string(abi::kVersion)};
    const json &targetField = field(manifest, "target");
    std::string kind = stringField(targetField, "kind");
    bool host = target == Target::Host;
    if (kind != (host ? "host" : "ptx"))
      return Error{"the manifest describes code for \"" + kind + "\", not " +
                   (host ? "for the CPU (host)" : "PTX for a GPU")};

    ModuleDescription module;
    module.chip = stringField(targetField, host ? "cpu" : "chip");
    module.globalsBytes = unsignedField(manifest, "globals_bytes");
    if (module.globalsBytes > (uint64_t(1) << 30))
      return Error{"the globals block is larger than 1 GiB"};
    const json &memory = field(manifest, "memory");
    if (!memory.is_null())
      module.memory =
          Memory{unsignedField(memory, "min_pages"),
                 optionalUnsigned(memory, "max_pages"), importOf(memory)};
    auto checkSlot = [&](uint64_t offset, uint64_t bytes) {
      if (offset > module.globalsBytes || bytes > module.globalsBytes - offset)
        throw ManifestError{"a slot lies outside the globals block"};
    };
    for (const json &global : field(manifest, "globals")) {
      Global entry{stringField(global, "symbol"),
                   typeOf(field(global, "type")),
                   unsignedField(global, "offset"),
                   field(global, "mutable").get<bool>(),
                   importOf(global),
                   std::nullopt};
      if (!entry.import && global.contains("init"))
        entry.init = constantOf(global["init"]);
      checkSlot(entry.offset, abi::kGlobalSlotBytes);
      module.globals.push_back(std::move(entry));
    }
    for (const json &table : field(manifest, "tables")) {
      Table entry{stringField(table, "symbol"),
                  typeOf(field(table, "type")),
                  unsignedField(table, "offset"),
                  static_cast<uint32_t>(unsignedField(table, "size")),
                  static_cast<uint32_t>(unsignedField(table, "capacity")),
                  optionalUnsigned(table, "max_size"),
                  importOf(table),
                  {}};
      if (entry.capacity < entry.size)
        throw ManifestError{"a table's capacity is below its size"};
      if (table.contains("segments"))
        for (const json &segment : field(table, "segments")) {
          ElementSegment elements{constantOf(field(segment, "offset")), {}};
          for (const json &item : field(segment, "entries")) {
            if (!item.is_number_unsigned() || item.get<uint64_t>() > UINT32_MAX)
              throw ManifestError{"an element entry is not a 32-bit number"};
            elements.entries.push_back(item.get<uint32_t>());
          }
          entry.segments.push_back(std::move(elements));
        }
      checkSlot(entry.offset,
                abi::kTableEntryBytes * (uint64_t(entry.capacity) + 1));
      module.tables.push_back(std::move(entry));
    }
    for (const json &function : field(manifest, "function_imports"))
      module.functionImports.push_back(
          {static_cast<uint32_t>(unsignedField(function, "function_index")),
           *importOf(function),
           {types(function, "params"), types(function, "results")}});
    for (const json &item : field(manifest, "exports")) {
      Export entry;
      entry.name = stringField(item, "name");
      entry.symbol = stringField(item, "symbol");
      std::string kind = stringField(item, "kind");
      if (kind == "func") {
        entry.kind = ExportKind::Func;
        entry.functionIndex =
            static_cast<uint32_t>(unsignedField(item, "function_index"));
        entry.signature = {types(item, "params"), types(item, "results")};
      } else if (kind == "global") {
        entry.kind = ExportKind::Global;
        entry.globalType = typeOf(field(item, "type"));
        entry.globalMutable = field(item, "mutable").get<bool>();
        entry.globalOffset = optionalUnsigned(item, "offset");
        if (entry.globalOffset)
          checkSlot(*entry.globalOffset, abi::kGlobalSlotBytes);
      } else if (kind == "memory") {
        entry.kind = ExportKind::Memory;
      } else if (kind == "table") {
        entry.kind = ExportKind::Table;
      } else {
        return Error{"unknown export kind " + kind};
      }
      module.exports.push_back(std::move(entry));
    }
    if (!field(manifest, "start").is_null())
      module.start = static_cast<uint32_t>(unsignedField(manifest, "start"));
    for (const json &item : field(manifest, "kernels")) {
      Kernel kernel;
      kernel.name = stringField(item, "export");
      kernel.entry = stringField(item, "entry");
      kernel.functionIndex =
          static_cast<uint32_t>(unsignedField(item, "function_index"));
      kernel.params = types(item, "params");
      const json &synchronizes = field(item, "synchronizes");
      if (!synchronizes.is_boolean())
        throw ManifestError{"\"synchronizes\" is not true or false"};
      kernel.synchronizes = synchronizes.get<bool>();
      if (item.contains("shape")) {
        const json &shape = field(item, "shape");
        const json &block = field(shape, "block");
        if (!block.is_array() || block.size() != 3)
          throw ManifestError{"a kernel's block shape is not 3 extents"};
        std::array<uint32_t, 3> extents{};
        for (size_t axis = 0; axis < 3; ++axis) {
          if (!block[axis].is_number_unsigned() ||
              block[axis].get<uint64_t>() == 0 ||
              block[axis].get<uint64_t>() > 1024)
            throw ManifestError{"a kernel's block extent is not in 1..1024"};
          extents[axis] = block[axis].get<uint32_t>();
        }
        kernel.block = extents;
        uint64_t shared = unsignedField(shape, "shared_bytes");
        if (shared > (uint64_t(1) << 20))
          throw ManifestError{"a kernel's shared scratch is over 1 MiB"};
        kernel.sharedBytes = static_cast<uint32_t>(shared);
      }
      const Export *exported = module.findExport(kernel.name);
      if (!exported || exported->kind != ExportKind::Func ||
          exported->functionIndex != kernel.functionIndex ||
          exported->signature.params != kernel.params ||
          !exported->signature.results.empty())
        throw ManifestError{"kernel " + kernel.name +
                            " is not an exported function of its parameters "
                            "with no results"};
      module.kernels.push_back(std::move(kernel));
    }
    for (const json &segment : field(manifest, "data"))
      module.data.push_back({constantOf(field(segment, "offset")),
                             bytesOfHex(stringField(segment, "hex"))});
    return module;
  } catch (const ManifestError &error) {
    return Error{"bad manifest: " + error.message};
  } catch (const json::exception &error) {
    return Error{std::string("bad manifest: ") + error.what()};
  }
}

const ModuleDescription::Export *
ModuleDescription::findExport(std::string_view name) const {
  for (const Export &entry : exports)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

const ModuleDescription::Kernel *
ModuleDescription::findKernel(std::string_view name) const {
  for (const Kernel &kernel : kernels)
    if (kernel.name == name)
      return &kernel;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Code
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<LoadedCode>> LoadedCode::load(std::string_view bytes) {
  int fd = memfd_create("twasm-host-code", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return Error{std::string("memfd_create failed: ") + std::strerror(errno)};
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      std::string reason = std::strerror(errno);
      ::close(fd);
      return Error{"cannot write the code to its memfd: " + reason};
    }
    written += static_cast<size_t>(n);
  }
  if (fcntl(fd, F_ADD_SEALS,
            F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    std::string reason = std::strerror(errno);
    ::close(fd);
    return Error{"cannot seal the code's memfd: " + reason};
  }
  // The memfd stays open while the code is loaded: the dynamic loader knows
  // a library by its path, and a closed descriptor's number (so its
  // /proc/self/fd path) would be reused for the next module, which dlopen
  // would then take for this one.
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    ::close(fd);
    return Error{std::string("cannot load the compiled code: ") + dlerror()};
  }
  std::shared_ptr<LoadedCode> code(new LoadedCode());
  code->handle = handle;
  code->descriptor = fd;
  auto *version =
      static_cast<const uint32_t *>(dlsym(handle, "twasm_host_abi_version"));
  if (!version)
    return Error{"the shared object is not TensorWasm host code (no "
                 "twasm_host_abi_version)"};
  if (*version != host::kVersion)
    return Error{"the code is for host ABI version " +
                 std::to_string(*version) + ", this runtime implements " +
                 std::to_string(host::kVersion)};
  code->instantiateEntry = reinterpret_cast<host::InstantiateEntry>(
      dlsym(handle, "twasm_instantiate"));
  if (!code->instantiateEntry)
    return Error{"the shared object has no twasm_instantiate"};
  return code;
}

LoadedCode::~LoadedCode() {
  if (handle)
    dlclose(handle);
  if (descriptor >= 0)
    ::close(descriptor);
}

host::CallEntry LoadedCode::callEntry(uint32_t index) const {
  std::string name = "twasm_call_" + std::to_string(index);
  return reinterpret_cast<host::CallEntry>(dlsym(handle, name.c_str()));
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<LinearMemory>>
LinearMemory::create(uint64_t minPages, uint64_t maxPages) {
  constexpr uint64_t kMaxPages = 65536;
  maxPages = std::min(maxPages, kMaxPages);
  if (minPages > maxPages)
    return Error{"the memory's minimum (" + std::to_string(minPages) +
                 " pages) exceeds its maximum (" + std::to_string(maxPages) +
                 ")"};
  std::shared_ptr<LinearMemory> memory(new LinearMemory());
  memory->maximumPages = maxPages;
  // At least one page of address space, so the base is never null.
  memory->reservedBytes = std::max<uint64_t>(maxPages, 1) * abi::kPageBytes;
  void *base = mmap(nullptr, memory->reservedBytes, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED)
    return Error{
        "cannot reserve " + std::to_string(memory->reservedBytes) +
        " bytes of address space for linear memory: " + std::strerror(errno)};
  memory->state.base = static_cast<uint8_t *>(base);
  if (memory->grow(static_cast<uint32_t>(minPages)) < 0)
    return Error{"cannot commit the memory's " + std::to_string(minPages) +
                 " initial pages"};
  return memory;
}

Expected<std::shared_ptr<LinearMemory>>
LinearMemory::adopt(uint8_t *base, uint64_t capacityBytes, uint64_t minPages,
                    uint64_t maxPages,
                    std::function<bool(uint64_t bytes)> resized) {
  maxPages = std::min(maxPages, capacityBytes / abi::kPageBytes);
  if (!base || minPages > maxPages)
    return Error{"linear memory of " + std::to_string(minPages) +
                 " pages does not fit in " + std::to_string(capacityBytes) +
                 " bytes"};
  std::shared_ptr<LinearMemory> memory(new LinearMemory());
  memory->maximumPages = maxPages;
  memory->state.base = base;
  memory->resized = std::move(resized);
  if (memory->grow(static_cast<uint32_t>(minPages)) < 0)
    return Error{"cannot take the memory's " + std::to_string(minPages) +
                 " initial pages"};
  return memory;
}

LinearMemory::~LinearMemory() {
  if (state.base && !resized)
    munmap(state.base, reservedBytes);
}

void LinearMemory::reset() {
  if (resized) {
    std::memset(state.base, 0, state.size);
    return;
  }
  // A private anonymous mapping reads as zeroes again once its pages are
  // dropped: no page is written, and none stays resident.
  if (state.size)
    madvise(state.base, state.size, MADV_DONTNEED);
}

int32_t LinearMemory::grow(uint32_t deltaPages) {
  uint64_t oldPages = pages();
  if (oldPages + deltaPages > maximumPages)
    return -1;
  if (resized) {
    uint64_t newSize = state.size + uint64_t(deltaPages) * abi::kPageBytes;
    if (deltaPages != 0) {
      std::memset(state.base + state.size, 0, newSize - state.size);
      if (!resized(newSize))
        return -1;
    }
    state.size = newSize;
    return static_cast<int32_t>(oldPages);
  }
  if (deltaPages != 0 &&
      mprotect(state.base + state.size, uint64_t(deltaPages) * abi::kPageBytes,
               PROT_READ | PROT_WRITE) != 0)
    return -1;
  state.size += uint64_t(deltaPages) * abi::kPageBytes;
  return static_cast<int32_t>(oldPages);
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

namespace {

/// Leaves the Wasm code for the setjmp of callGuarded. The generated code
/// holds no resources and the frames between are the generated code's and
/// the embedder's import thunks (which must not hold any either), so
/// skipping them is safe.
[[noreturn]] void resumeAfterTrap(host::ThreadContext *thread, uint32_t code,
                                  uint32_t function, uint32_t offset) {
  recordFirstTrap(thread, code, function, offset);
  std::longjmp(*static_cast<std::jmp_buf *>(thread->resume), 1);
}

/// Room left below the stack limit for the trap handler, the import thunks
/// and whatever the embedder's imported functions need.
constexpr uint64_t kStackReserve = 256 * 1024;

} // namespace

uint64_t stackLimitOfThisThread() {
  // A thread's stack does not move, and finding it can be slow (for the
  // main thread glibc reads /proc/self/maps): once per thread.
  thread_local uint64_t limit = 0;
  if (limit)
    return limit;
  pthread_attr_t attributes;
  void *low = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
    pthread_attr_getstack(&attributes, &low, &size);
    pthread_attr_destroy(&attributes);
  }
  uint64_t here = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
  uint64_t bottom = reinterpret_cast<uint64_t>(low);
  if (!low || here < bottom || here - bottom < 2 * kStackReserve)
    // Unknown bounds: allow 1 MiB below here, which every thread has.
    limit = here - (uint64_t(1) << 20);
  else
    limit = bottom + kStackReserve;
  return limit;
}

namespace {

/// A call from outside a kernel launch runs as the only thread of a
/// one-thread grid: a barrier has no one to wait for, and a warp operation
/// sees only its own lane.
void loneBarrier(host::ThreadContext *) {}

uint32_t loneWarpOperation(host::ThreadContext *, uint32_t operation,
                           uint32_t value, uint32_t) {
  switch (static_cast<host::WarpOperation>(operation)) {
  case host::WarpOperation::VoteAny:
  case host::WarpOperation::VoteAll:
  case host::WarpOperation::Ballot:
    return value != 0 ? 1 : 0;
  default:
    // The source lane is this one or absent: either way the own value.
    return value;
  }
}

host::KernelThread *loneThread() {
  static host::KernelThread thread = [] {
    host::KernelThread lone{};
    for (int axis = 0; axis < 3; ++axis)
      lone.blockDim[axis] = lone.gridDim[axis] = 1;
    lone.barrier = loneBarrier;
    lone.warp = loneWarpOperation;
    return lone;
  }();
  return &thread;
}

} // namespace

bool runsKernel(const abi::host::ThreadContext *thread) {
  return thread->kernel && thread->kernel != loneThread();
}

CallResult runGuarded(GuardedBody body, void *context,
                      std::atomic<uint32_t> *controlWord) {
  host::ThreadContext thread{};
  thread.kernel = loneThread();
  std::jmp_buf resume;
  thread.stackLimit = stackLimitOfThisThread();
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t),
                "the control word is a plain 32-bit word to generated code");
  thread.controlWord = reinterpret_cast<uint32_t *>(controlWord);
  thread.trap = resumeAfterTrap;
  thread.resume = &resume;
  if (setjmp(resume) == 0)
    body(&thread, context);
  // Read through a volatile view: after a longjmp the compiler would
  // otherwise assume the record still holds the zeros it was given before
  // setjmp.
  const volatile abi::TrapRecord *record = &thread.record;
  CallResult result;
  result.trap = static_cast<abi::TrapCode>(record->code);
  result.function = record->function;
  result.offset = record->offset;
  return result;
}

CallResult callGuarded(host::CallEntry entry, uint8_t *globals,
                       uint64_t *values, std::atomic<uint32_t> *controlWord) {
  struct Call {
    host::CallEntry entry;
    uint8_t *globals;
    uint64_t *values;
  } call{entry, globals, values};
  return runGuarded(
      [](host::ThreadContext *thread, void *context) {
        auto *call = static_cast<Call *>(context);
        call->entry(thread, call->globals, call->values);
      },
      &call, controlWord);
}

//===----------------------------------------------------------------------===//
// Instances
//===----------------------------------------------------------------------===//

Expected<std::unique_ptr<Instance>>
Instance::create(std::shared_ptr<LoadedCode> code,
                 const ModuleDescription &module, Imports imports) {
  std::unique_ptr<Instance> instance(new Instance());
  instance->loaded = std::move(code);
  instance->module = module;

  if (module.memory) {
    if (module.memory->import) {
      if (!imports.memory)
        return Error{"the module imports a memory and none was given"};
      instance->linearMemory = std::move(imports.memory);
    } else if (imports.memory) {
      // The module's own memory in storage the embedder provides (a
      // program whose kernels share it).
      if (imports.memory->pages() < module.memory->minPages)
        return Error{"the memory given holds fewer pages than the module's "
                     "minimum"};
      instance->linearMemory = std::move(imports.memory);
    } else {
      Expected<std::shared_ptr<LinearMemory>> memory = LinearMemory::create(
          module.memory->minPages, module.memory->maxPages.value_or(65536));
      if (!memory)
        return memory.error();
      instance->linearMemory = std::move(*memory);
    }
  }

  uint32_t functionCount = 0;
  for (const ModuleDescription::FunctionImport &function :
       module.functionImports)
    functionCount = std::max(functionCount, function.functionIndex + 1);
  if (imports.functions.size() != module.functionImports.size())
    return Error{"the module imports " +
                 std::to_string(module.functionImports.size()) +
                 " functions; " + std::to_string(imports.functions.size()) +
                 " were given"};
  instance->importedFunctions.resize(functionCount);
  for (size_t i = 0; i < module.functionImports.size(); ++i)
    instance->importedFunctions[module.functionImports[i].functionIndex] =
        imports.functions[i];

  uint64_t bytes = host::kInstanceHeaderBytes + module.globalsBytes;
  instance->globalsBlock = static_cast<uint8_t *>(std::calloc(1, bytes));
  if (!instance->globalsBlock)
    return Error{"cannot allocate the instance's " + std::to_string(bytes) +
                 "-byte globals block"};
  auto *header =
      reinterpret_cast<host::InstanceHeader *>(instance->globalsBlock);
  header->memory =
      instance->linearMemory ? instance->linearMemory->abiState() : nullptr;
  header->memoryGrow = &Instance::growMemory;
  header->imports = instance->importedFunctions.data();
  header->loader = instance.get();

  uint8_t *globals = instance->globals();
  size_t importedGlobal = 0;
  for (const ModuleDescription::Global &global : module.globals) {
    if (!global.import)
      continue;
    if (importedGlobal >= imports.globals.size())
      return Error{"fewer imported global values than the module imports"};
    std::memcpy(globals + global.offset, &imports.globals[importedGlobal++],
                abi::kGlobalSlotBytes);
  }
  size_t importedTable = 0;
  for (const ModuleDescription::Table &table : module.tables) {
    uint32_t size = table.size;
    if (table.import) {
      if (importedTable >= imports.tables.size())
        return Error{"fewer imported tables than the module imports"};
      const std::vector<uint32_t> &elements = imports.tables[importedTable++];
      if (elements.size() > table.capacity)
        return Error{"an imported table has more elements than the "
                     "importing module has room for"};
      size = static_cast<uint32_t>(elements.size());
      std::memcpy(globals + table.offset + abi::kTableEntryBytes,
                  elements.data(), elements.size() * abi::kTableEntryBytes);
    }
    std::memcpy(globals + table.offset, &size, sizeof(size));
  }
  return instance;
}

Instance::~Instance() { std::free(globalsBlock); }

int32_t Instance::growMemory(host::InstanceHeader *header,
                             uint32_t deltaPages) {
  auto *instance = static_cast<Instance *>(header->loader);
  if (!instance->linearMemory)
    return -1;
  if (instance->launchesRunning.load() != 0)
    return deltaPages == 0
               ? static_cast<int32_t>(instance->linearMemory->pages())
               : -1;
  return instance->linearMemory->grow(deltaPages);
}

Expected<CallResult> Instance::instantiate(std::atomic<uint32_t> *controlWord,
                                           bool runStart) {
  struct Initialize {
    host::InstantiateEntry entry;
    uint8_t *globals;
  } initialize{loaded->instantiate(), globals()};
  CallResult result = runGuarded(
      [](host::ThreadContext *thread, void *context) {
        auto *initialize = static_cast<Initialize *>(context);
        initialize->entry(thread, initialize->globals);
      },
      &initialize, controlWord);
  if (result.trapped() || !module.start || !runStart)
    return result;
  uint64_t none[1] = {0};
  return call(*module.start, none, controlWord);
}

Expected<CallResult> Instance::call(uint32_t index, uint64_t *values,
                                    std::atomic<uint32_t> *controlWord) {
  host::CallEntry entry = loaded->callEntry(index);
  if (!entry)
    return Error{"function " + std::to_string(index) +
                 " cannot be called from outside (it is not exported)"};
  return callGuarded(entry, globals(), values, controlWord);
}

Expected<CallResult>
Instance::callWithTimeout(uint32_t index, uint64_t *values,
                          std::chrono::nanoseconds timeout) {
  std::atomic<uint32_t> controlWord{abi::kControlRun};
  Watchdog watchdog(&controlWord, timeout);
  return call(index, values, &controlWord);
}

Watchdog::Watchdog(std::atomic<uint32_t> *controlWord,
                   std::chrono::nanoseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  thread = std::thread([this, controlWord, deadline] {
    std::unique_lock<std::mutex> lock(mutex);
    if (!finished.wait_until(lock, deadline, [this] { return done; }))
      controlWord->store(abi::kControlInterrupt, std::memory_order_relaxed);
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
  }
  finished.notify_one();
  thread.join();
}

bool Instance::callNested(uint32_t index, host::ThreadContext *thread,
                          uint64_t *values) {
  host::CallEntry entry = loaded->callEntry(index);
  if (!entry)
    return false;
  entry(thread, globals(), values);
  return true;
}

} // namespace tensorwasm::cpu
