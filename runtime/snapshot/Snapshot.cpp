//===- Snapshot.cpp - snapshots of instances, and their restore -----------===//
//
// Taking a snapshot: read the globals block's slots by symbol, scan linear
// memory for blocks that are not all zero, cut their runs into chunks of at
// most 1 MiB, hash (and compress) the chunks on a pool of threads, and
// write head, chunk data and tail — the chunk data straight from memory
// when it is not compressed.
//
// Restoring: verify the tail (SnapshotFormat.cpp), check that the snapshot
// fits the module, make a blank instance of the right size, then on the
// same pool check each chunk's digest, decompress it if need be, and hand
// it to the device's MemoryLoader (a memcpy on the cpu; pinned staging
// buffers and asynchronous copies on the GPU). Globals go last.
//
//===----------------------------------------------------------------------===//

#include "twasm/Snapshot.h"

#include "Devices.h"
#include "snapshot/SnapshotFormat.h"
#include "support/Files.h"
#include "twasm/Artifact.h"

#include <nlohmann/json.hpp>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace tensorwasm {
namespace {

using runtime::InstanceState;
using snapshot::Chunk;
using snapshot::Head;

constexpr uint64_t kPageBytes = 65536;

unsigned threadCount(unsigned requested, size_t work) {
  // At most 64: beyond that a restore only holds more pinned memory.
  unsigned threads = std::min(
      64u, requested ? requested
                     : std::max(1u, std::thread::hardware_concurrency()));
  return static_cast<unsigned>(
      std::max<size_t>(1, std::min<size_t>(threads, work)));
}

/// Runs `task(worker, index)` for every index below `count` on `threads`
/// threads (worker 0 is the caller's); the first failure stops the rest and
/// is returned.
Status parallelFor(size_t count, unsigned threads,
                   const std::function<Status(unsigned, size_t)> &task) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex failureMutex;
  Status failure;
  auto work = [&](unsigned worker) {
    for (size_t index; !failed.load() && (index = next++) < count;) {
      Status status;
      // An exception may not leave a worker thread (it would end the
      // process): running out of memory is an error like the others.
      try {
        status = task(worker, index);
      } catch (const std::bad_alloc &) {
        status = Error{ErrorCode::ResourceExhausted,
                       "out of memory while taking or restoring a snapshot"};
      }
      if (!status) {
        std::lock_guard<std::mutex> lock(failureMutex);
        if (!failed.exchange(true))
          failure = status;
      }
    }
  };
  std::vector<std::thread> pool;
  try {
    for (unsigned worker = 1; worker < threads; ++worker)
      pool.emplace_back(work, worker);
  } catch (const std::system_error &) {
    // Fewer threads than asked for still finish the work.
  }
  work(0);
  for (std::thread &thread : pool)
    thread.join();
  return failure;
}

bool allZero(const uint8_t *bytes, size_t size) {
  return size == 0 ||
         (bytes[0] == 0 && std::memcmp(bytes, bytes + 1, size - 1) == 0);
}

Status checkTenant(std::string_view tenant) {
  if (!snapshot::validTenant(tenant))
    return Error{ErrorCode::InvalidArgument,
                 "tenant '" + std::string(tenant) +
                     "': expected at most 255 printable ASCII characters "
                     "without spaces"};
  return {};
}

//===----------------------------------------------------------------------===//
// Taking a snapshot
//===----------------------------------------------------------------------===//

/// A snapshot in pieces: the head, each chunk's stored bytes (in memory or
/// in a compressed buffer), the tail.
struct Captured {
  std::string head, tail;
  std::vector<std::string_view> data;
  /// What the pieces point into.
  std::unique_ptr<uint8_t, decltype(&std::free)> memoryCopy{nullptr, std::free};
  std::vector<std::string> compressed;
  SnapshotInfo info;
  uint64_t size() const {
    uint64_t total = head.size() + tail.size();
    for (std::string_view piece : data)
      total += piece.size();
    return total;
  }
};

Result<std::vector<SnapshotGlobal>> readGlobals(InstanceState &state) {
  const cpu::ModuleDescription &layout = state.layout();
  std::string block;
  if (Status status = state.readGlobals(block); !status)
    return status.error();
  std::vector<SnapshotGlobal> globals;
  for (const auto &global : layout.globals)
    globals.push_back({global.symbol, cpu::valueTypeName(global.type),
                       block.substr(global.offset, abi::kGlobalSlotBytes)});
  for (const auto &table : layout.tables) {
    uint32_t count = 0;
    std::memcpy(&count, block.data() + table.offset, sizeof count);
    if (count > table.capacity)
      return Error{ErrorCode::DeviceFailure,
                   "table '" + table.symbol + "' claims " +
                       std::to_string(count) + " elements, more than its " +
                       std::to_string(table.capacity)};
    globals.push_back({table.symbol,
                       std::string("table ") + cpu::valueTypeName(table.type),
                       block.substr(table.offset, 4 + uint64_t(count) * 4)});
  }
  return globals;
}

/// The chunks of memory that are not all zero: runs of non-zero blocks, cut
/// at every 1 MiB boundary (so that regions scan in parallel).
std::vector<Chunk> findChunks(const uint8_t *memory, uint64_t bytes,
                              unsigned threads) {
  size_t regions =
      (bytes + snapshot::kMaxChunkBytes - 1) / snapshot::kMaxChunkBytes;
  std::vector<std::vector<Chunk>> found(regions);
  (void)parallelFor(regions, threads, [&](unsigned, size_t region) -> Status {
    uint64_t start = region * uint64_t(snapshot::kMaxChunkBytes);
    uint64_t end = std::min<uint64_t>(bytes, start + snapshot::kMaxChunkBytes);
    std::optional<Chunk> run;
    for (uint64_t block = start; block < end; block += snapshot::kBlockBytes) {
      if (allZero(memory + block, snapshot::kBlockBytes)) {
        if (run)
          found[region].push_back(*std::exchange(run, std::nullopt));
        continue;
      }
      if (!run) {
        run.emplace();
        run->address = block;
      }
      run->memoryBytes += snapshot::kBlockBytes;
    }
    if (run)
      found[region].push_back(*run);
    return {};
  });
  std::vector<Chunk> chunks;
  for (std::vector<Chunk> &part : found)
    chunks.insert(chunks.end(), part.begin(), part.end());
  return chunks;
}

/// What a snapshot with `head`, under key `keyId`, of `fileBytes` holds.
SnapshotInfo describe(const Head &head, const std::string &keyId,
                      uint64_t fileBytes) {
  SnapshotInfo info;
  info.formatMajor = head.formatMajor;
  info.formatMinor = head.formatMinor;
  info.keyId = keyId;
  info.metadata = head.metadata;
  info.hasMemory = head.hasMemory;
  info.memoryBytes = head.memoryPages * kPageBytes;
  info.compression = head.compression;
  info.chunks = head.chunks.size();
  for (const Chunk &chunk : head.chunks)
    info.chunkedBytes += chunk.memoryBytes;
  info.storedBytes = head.dataBytes;
  info.globals = head.globals;
  info.fileBytes = fileBytes;
  return info;
}

Result<Captured> capture(const Module &module, Instance &instance,
                         const SnapshotKey &key,
                         const SnapshotOptions &options) {
  if (Status status = checkTenant(options.tenant); !status)
    return status.error();
  if (options.compressionLevel < 1 || options.compressionLevel > 19)
    return Error{ErrorCode::InvalidArgument,
                 "zstd level " + std::to_string(options.compressionLevel) +
                     ": expected 1 to 19"};
  InstanceState &state = InstanceState::of(instance);
  Captured captured;
  Head head;
  SnapshotMetadata &metadata = head.metadata;
  if (const Artifact *artifact = module.artifact()) {
    metadata.artifactName = artifact->manifest().name;
    metadata.artifactVersion = artifact->manifest().version;
    metadata.artifactDigest = artifact->digest();
  }
  metadata.tenant = options.tenant;
  metadata.counter = options.counter;
  metadata.device = state.deviceKind();
  metadata.created = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();

  Result<std::vector<SnapshotGlobal>> globals = readGlobals(state);
  if (!globals)
    return globals.error();
  head.globals = std::move(*globals);
  for (const SnapshotGlobal &global : head.globals)
    if (global.symbol.size() > snapshot::kMaxNameBytes)
      return Error{ErrorCode::Unsupported,
                   "global symbol '" + global.symbol.substr(0, 40) +
                       "...' is longer than a snapshot holds (255 bytes)"};

  head.hasMemory = state.layout().memory.has_value();
  uint64_t memoryBytes = instance.memoryBytes();
  head.memoryPages = memoryBytes / kPageBytes;
  head.compression = options.compression;
  const uint8_t *memory = state.hostMemory();
  if (!memory && memoryBytes) {
    captured.memoryCopy.reset(static_cast<uint8_t *>(std::malloc(memoryBytes)));
    if (!captured.memoryCopy)
      return Error{ErrorCode::ResourceExhausted,
                   "cannot allocate " + std::to_string(memoryBytes) +
                       " bytes to read linear memory into"};
    if (Status status =
            instance.read(0, captured.memoryCopy.get(), memoryBytes);
        !status)
      return status.error();
    memory = captured.memoryCopy.get();
  }
  unsigned threads =
      threadCount(options.threads, memoryBytes / snapshot::kMaxChunkBytes + 1);
  head.chunks = findChunks(memory, memoryBytes, threads);

  bool compress = options.compression == SnapshotCompression::Zstd;
  captured.compressed.resize(compress ? head.chunks.size() : 0);
  std::vector<std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)>> contexts;
  for (unsigned i = 0; compress && i < threads; ++i) {
    contexts.emplace_back(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (!contexts.back())
      return Error{ErrorCode::ResourceExhausted,
                   "zstd: no memory for a context"};
  }
  Status hashed = parallelFor(
      head.chunks.size(), threads, [&](unsigned worker, size_t index) {
        Chunk &chunk = head.chunks[index];
        std::string_view stored(
            reinterpret_cast<const char *>(memory + chunk.address),
            chunk.memoryBytes);
        if (compress) {
          std::string &out = captured.compressed[index];
          out.resize(ZSTD_compressBound(chunk.memoryBytes));
          size_t size = ZSTD_compressCCtx(
              contexts[worker].get(), out.data(), out.size(), stored.data(),
              stored.size(), options.compressionLevel);
          if (ZSTD_isError(size))
            return Status(
                Error{ErrorCode::ResourceExhausted,
                      std::string("zstd: ") + ZSTD_getErrorName(size)});
          out.resize(size);
          stored = out;
        }
        chunk.storedBytes = static_cast<uint32_t>(stored.size());
        std::string digest = files::sha256(stored);
        if (digest.size() != chunk.digest.size())
          return Status(Error{ErrorCode::ResourceExhausted,
                              "OpenSSL cannot compute a SHA-256"});
        std::memcpy(chunk.digest.data(), digest.data(), digest.size());
        return Status();
      });
  if (!hashed)
    return hashed.error();
  for (Chunk &chunk : head.chunks) {
    chunk.dataOffset = head.dataBytes;
    head.dataBytes += chunk.storedBytes;
    captured.data.push_back(
        compress
            ? std::string_view(captured.compressed[&chunk - head.chunks.data()])
            : std::string_view(
                  reinterpret_cast<const char *>(memory + chunk.address),
                  chunk.memoryBytes));
  }
  captured.head = snapshot::encodeHead(head);
  captured.tail = snapshot::encodeTail(captured.head, head.dataBytes, key);
  if (captured.tail.empty())
    return Error{ErrorCode::ResourceExhausted,
                 "OpenSSL cannot compute an HMAC-SHA256"};

  captured.info = describe(head, key.id(), captured.size());
  return captured;
}

//===----------------------------------------------------------------------===//
// Restoring
//===----------------------------------------------------------------------===//

/// Where a chunk's bytes go: stage() gives the place to write the chunk's
/// memory bytes to (the instance's memory, a staging buffer), commit() is
/// told once they are there and checked.
struct ChunkSink {
  std::function<Result<uint8_t *>(unsigned worker, const Chunk &)> stage;
  std::function<Status(unsigned worker, const Chunk &)> commit;
};

/// Copies each chunk out of the file, checks the copy's digest, and hands
/// it to `sink`, on `threads` threads. The digest is taken of a private
/// copy, never of the file's mapping, which another process could change
/// between the check and the use.
Status forEachChunk(const snapshot::Opened &opened, unsigned threads,
                    const ChunkSink &sink) {
  const Head &head = opened.head;
  bool compressed = head.compression == SnapshotCompression::Zstd;
  std::vector<std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)>> contexts;
  std::vector<std::string> buffers(compressed ? threads : 0);
  for (unsigned i = 0; compressed && i < threads; ++i) {
    contexts.emplace_back(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!contexts.back())
      return Error{ErrorCode::ResourceExhausted,
                   "zstd: no memory for a context"};
  }
  return parallelFor(
      head.chunks.size(), threads,
      [&](unsigned worker, size_t index) -> Status {
        const Chunk &chunk = head.chunks[index];
        const char *stored = opened.data.data() + chunk.dataOffset;
        auto altered = [&] {
          return Error{ErrorCode::Untrusted,
                       "snapshot chunk " + std::to_string(index) + " (" +
                           std::to_string(chunk.memoryBytes) +
                           " bytes of memory at " +
                           std::to_string(chunk.address) +
                           ") does not match its digest: the data area was "
                           "altered"};
        };
        if (!compressed) {
          Result<uint8_t *> place = sink.stage(worker, chunk);
          if (!place)
            return place.error();
          std::memcpy(*place, stored, chunk.memoryBytes);
          std::string_view copy(reinterpret_cast<const char *>(*place),
                                chunk.memoryBytes);
          if (!snapshot::digestMatches(chunk, copy))
            return altered();
          return sink.commit(worker, chunk);
        }
        std::string &copy = buffers[worker];
        copy.assign(stored, chunk.storedBytes);
        if (!snapshot::digestMatches(chunk, copy))
          return altered();
        Result<uint8_t *> place = sink.stage(worker, chunk);
        if (!place)
          return place.error();
        size_t size =
            ZSTD_decompressDCtx(contexts[worker].get(), *place,
                                chunk.memoryBytes, copy.data(), copy.size());
        if (ZSTD_isError(size) || size != chunk.memoryBytes)
          return Error{ErrorCode::InvalidModule,
                       "snapshot chunk " + std::to_string(index) +
                           " does not decompress to its " +
                           std::to_string(chunk.memoryBytes) + " bytes"};
        return sink.commit(worker, chunk);
      });
}

/// A sink that writes chunks into `memory` (host memory of the snapshot's
/// size).
ChunkSink hostSink(uint8_t *memory) {
  return {[memory](unsigned, const Chunk &chunk) -> Result<uint8_t *> {
            return memory + chunk.address;
          },
          [](unsigned, const Chunk &) { return Status(); }};
}

/// Whether the snapshot belongs to `module` and to the caller.
Status checkFits(const Module &module, const Head &head,
                 const RestoreOptions &options) {
  const SnapshotMetadata &metadata = head.metadata;
  const Artifact *artifact = module.artifact();
  if (!artifact && !metadata.artifactDigest.empty())
    return Error{ErrorCode::InvalidArgument,
                 "the snapshot is of artifact '" + metadata.artifactName +
                     "' version " + std::to_string(metadata.artifactVersion) +
                     "; the module was not loaded from an artifact"};
  if (artifact && artifact->digest() != metadata.artifactDigest)
    return Error{
        ErrorCode::InvalidArgument,
        "the snapshot is of " +
            (metadata.artifactDigest.empty()
                 ? std::string("code loaded without an artifact")
                 : "artifact '" + metadata.artifactName + "' version " +
                       std::to_string(metadata.artifactVersion) + " (" +
                       metadata.artifactDigest.substr(0, 12) + ")") +
            ", not of '" + artifact->manifest().name + "' version " +
            std::to_string(artifact->manifest().version) + " (" +
            artifact->digest().substr(0, 12) + ")"};
  if (options.tenant && *options.tenant != metadata.tenant)
    return Error{ErrorCode::Untrusted, "the snapshot belongs to tenant '" +
                                           metadata.tenant + "', not '" +
                                           *options.tenant + "'"};
  if (options.exactCounter && metadata.counter != *options.exactCounter)
    return Error{ErrorCode::Untrusted,
                 "the snapshot's counter is " +
                     std::to_string(metadata.counter) + ", not " +
                     std::to_string(*options.exactCounter) +
                     ", the current snapshot's: an older snapshot, or another "
                     "name's (a replay?)"};
  if (metadata.counter < options.minimumCounter)
    return Error{ErrorCode::Untrusted,
                 "the snapshot's counter is " +
                     std::to_string(metadata.counter) + ", below " +
                     std::to_string(options.minimumCounter) +
                     ": an older snapshot than one already issued (a "
                     "replay?)"};
  return {};
}

/// The globals block of `layout` with the snapshot's values in its slots.
Status patchGlobals(const cpu::ModuleDescription &layout,
                    const std::vector<SnapshotGlobal> &globals,
                    std::string &block) {
  auto find = [&](const std::string &symbol) -> const SnapshotGlobal * {
    for (const SnapshotGlobal &global : globals)
      if (global.symbol == symbol)
        return &global;
    return nullptr;
  };
  for (const auto &global : layout.globals) {
    std::string type = cpu::valueTypeName(global.type);
    const SnapshotGlobal *saved = find(global.symbol);
    if (!saved || saved->type != type)
      return Error{ErrorCode::InvalidArgument, "the snapshot has no " + type +
                                                   " global '" + global.symbol +
                                                   "', which the module has"};
    std::memcpy(block.data() + global.offset, saved->bytes.data(),
                abi::kGlobalSlotBytes);
  }
  for (const auto &table : layout.tables) {
    std::string type = std::string("table ") + cpu::valueTypeName(table.type);
    const SnapshotGlobal *saved = find(table.symbol);
    if (!saved || saved->type != type)
      return Error{ErrorCode::InvalidArgument, "the snapshot has no " + type +
                                                   " '" + table.symbol +
                                                   "', which the module has"};
    uint32_t count = 0;
    std::memcpy(&count, saved->bytes.data(), sizeof count);
    if (saved->bytes.size() != 4 + uint64_t(count) * 4 ||
        count > table.capacity)
      return Error{ErrorCode::InvalidArgument,
                   "the snapshot's table '" + table.symbol + "' has " +
                       std::to_string(count) +
                       " elements; the module's has "
                       "room for " +
                       std::to_string(table.capacity)};
    std::memcpy(block.data() + table.offset, saved->bytes.data(),
                saved->bytes.size());
  }
  return {};
}

} // namespace

Result<std::unique_ptr<Instance>> restoreSnapshot(Module &module,
                                                  std::string_view file,
                                                  const SnapshotKeyring &keys,
                                                  const RestoreOptions &options,
                                                  SnapshotInfo *info) {
  Result<snapshot::Opened> opened = snapshot::open(file, keys);
  if (!opened)
    return opened.error();
  const Head &head = opened->head;
  if (Status status = checkFits(module, head, options); !status)
    return status.error();
  if (options.admit)
    if (Status status = options.admit(head.memoryPages * kPageBytes); !status)
      return status.error();

  Result<std::unique_ptr<Instance>> instance =
      InstanceState::blank(module, head.memoryPages);
  if (!instance)
    return instance.error();
  InstanceState &state = InstanceState::of(**instance);
  const cpu::ModuleDescription &layout = state.layout();
  if (layout.memory.has_value() != head.hasMemory)
    return Error{ErrorCode::InvalidArgument,
                 std::string("the snapshot ") +
                     (head.hasMemory ? "has" : "has no") +
                     " linear memory; the module " +
                     (head.hasMemory ? "has none" : "has one")};
  std::string block;
  if (Status status = state.readGlobals(block); !status)
    return status.error();
  if (Status status = patchGlobals(layout, head.globals, block); !status)
    return status.error();

  unsigned threads = threadCount(options.threads, head.chunks.size());
  if (!head.chunks.empty()) {
    Result<std::unique_ptr<runtime::MemoryLoader>> loader =
        state.memoryLoader(threads);
    if (!loader)
      return loader.error();
    runtime::MemoryLoader &into = **loader;
    Status copied = forEachChunk(
        *opened, threads,
        {[&](unsigned worker, const Chunk &chunk) {
           return into.stage(worker, chunk.address, chunk.memoryBytes);
         },
         [&](unsigned worker, const Chunk &chunk) {
           return into.commit(worker, chunk.address, chunk.memoryBytes);
         }});
    Status landed = (*loader)->finish();
    if (!copied)
      return copied.error();
    if (!landed)
      return landed.error();
  }
  if (Status status = state.writeGlobals(block); !status)
    return status.error();
  if (info)
    *info = describe(opened->head, opened->keyId, file.size());
  return instance;
}

namespace {

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

/// A file mapped read-only into memory.
class MappedFile {
public:
  static Result<MappedFile> open(const std::string &path) {
    int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0)
      return Error{ErrorCode::InvalidArgument,
                   "cannot open " + path + ": " + std::strerror(errno)};
    struct stat status;
    if (fstat(descriptor, &status) != 0 || !S_ISREG(status.st_mode)) {
      ::close(descriptor);
      return Error{ErrorCode::InvalidArgument, path + " is not a regular file"};
    }
    MappedFile file;
    file.size = static_cast<size_t>(status.st_size);
    if (file.size) {
      void *mapped =
          mmap(nullptr, file.size, PROT_READ, MAP_PRIVATE, descriptor, 0);
      if (mapped == MAP_FAILED) {
        int saved = errno;
        ::close(descriptor);
        return Error{ErrorCode::ResourceExhausted,
                     "cannot map " + path + ": " + std::strerror(saved)};
      }
      file.data = static_cast<const char *>(mapped);
      madvise(mapped, file.size, MADV_WILLNEED);
    }
    ::close(descriptor);
    return file;
  }
  MappedFile(MappedFile &&other) noexcept
      : data(std::exchange(other.data, nullptr)),
        size(std::exchange(other.size, 0)) {}
  MappedFile &operator=(MappedFile &&) = delete;
  ~MappedFile() {
    if (data)
      munmap(const_cast<char *>(data), size);
  }
  std::string_view bytes() const { return {data, size}; }

private:
  MappedFile() = default;
  const char *data = nullptr;
  size_t size = 0;
};

/// Writes the pieces of a snapshot to `path` as files::writeFileAtomically
/// does, without joining them first.
Status writePieces(const std::string &path, const Captured &captured) {
  std::vector<std::string_view> pieces;
  pieces.push_back(captured.head);
  pieces.insert(pieces.end(), captured.data.begin(), captured.data.end());
  pieces.push_back(captured.tail);
  if (std::optional<std::string> failure = files::writeFileAtomically(
          path, pieces, files::parentDirectory(path), 0600))
    return Error{ErrorCode::ResourceExhausted, *failure};
  return {};
}

Status checkSnapshotName(const std::string &name) {
  bool valid = !name.empty() && name.size() <= 128 && name[0] != '.';
  for (char c : name)
    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                      c == '_' || c == '-');
  if (!valid)
    return Error{ErrorCode::InvalidArgument,
                 "snapshot name '" + name +
                     "': expected 1 to 128 of A-Z, a-z, 0-9, '.', '_', '-', "
                     "not starting with '.'"};
  return {};
}

} // namespace

//===----------------------------------------------------------------------===//
// The API
//===----------------------------------------------------------------------===//

Result<std::string> snapshotInstance(const Module &module, Instance &instance,
                                     const SnapshotKey &key,
                                     const SnapshotOptions &options,
                                     SnapshotInfo *info) {
  Result<Captured> captured = capture(module, instance, key, options);
  if (!captured)
    return captured.error();
  std::string bytes = captured->head;
  bytes.reserve(captured->size());
  for (std::string_view piece : captured->data)
    bytes.append(piece);
  bytes += captured->tail;
  if (info)
    *info = std::move(captured->info);
  return bytes;
}

Result<SnapshotInfo> writeSnapshotFile(const std::string &path,
                                       const Module &module, Instance &instance,
                                       const SnapshotKey &key,
                                       const SnapshotOptions &options) {
  Result<Captured> captured = capture(module, instance, key, options);
  if (!captured)
    return captured.error();
  if (Status status = writePieces(path, *captured); !status)
    return status.error();
  return std::move(captured->info);
}

Result<SnapshotInfo> verifySnapshot(std::string_view bytes,
                                    const SnapshotKeyring &keys) {
  Result<snapshot::Opened> opened = snapshot::open(bytes, keys);
  if (!opened)
    return opened.error();
  unsigned threads = threadCount(0, opened->head.chunks.size());
  // Each chunk lands in its worker's scratch buffer, checked, then dropped.
  std::vector<std::string> scratch(threads);
  ChunkSink discard{
      [&](unsigned worker, const Chunk &chunk) -> Result<uint8_t *> {
        std::string &buffer = scratch[worker];
        if (buffer.size() < chunk.memoryBytes)
          buffer.resize(chunk.memoryBytes);
        return reinterpret_cast<uint8_t *>(buffer.data());
      },
      [](unsigned, const Chunk &) { return Status(); }};
  if (Status status = forEachChunk(*opened, threads, discard); !status)
    return status.error();
  return describe(opened->head, opened->keyId, bytes.size());
}

Result<std::string> readSnapshotMemory(std::string_view bytes,
                                       const SnapshotKeyring &keys,
                                       uint64_t maxMemoryBytes) {
  Result<snapshot::Opened> opened = snapshot::open(bytes, keys);
  if (!opened)
    return opened.error();
  uint64_t memoryBytes = opened->head.memoryPages * kPageBytes;
  if (memoryBytes > maxMemoryBytes)
    return Error{ErrorCode::ResourceExhausted,
                 "the snapshot's memory is " + std::to_string(memoryBytes) +
                     " bytes, more than the " + std::to_string(maxMemoryBytes) +
                     " this reader may hold"};
  std::string memory(memoryBytes, '\0');
  unsigned threads = threadCount(0, opened->head.chunks.size());
  if (Status status =
          forEachChunk(*opened, threads,
                       hostSink(reinterpret_cast<uint8_t *>(memory.data())));
      !status)
    return status.error();
  return memory;
}

Result<SnapshotInfo> verifySnapshotFile(const std::string &path,
                                        const SnapshotKeyring &keys) {
  Result<MappedFile> file = MappedFile::open(path);
  if (!file)
    return file.error();
  Result<SnapshotInfo> info = verifySnapshot(file->bytes(), keys);
  if (!info)
    return Error{info.error().code, path + ": " + info.error().message};
  return info;
}

Result<std::unique_ptr<Instance>>
restoreSnapshotFile(Module &module, const std::string &path,
                    const SnapshotKeyring &keys, const RestoreOptions &options,
                    SnapshotInfo *info) {
  Result<MappedFile> file = MappedFile::open(path);
  if (!file)
    return file.error();
  Result<std::unique_ptr<Instance>> instance =
      restoreSnapshot(module, file->bytes(), keys, options, info);
  if (!instance)
    return Error{instance.error().code, path + ": " + instance.error().message};
  return instance;
}

Result<SnapshotEnvelope> readSnapshotEnvelope(std::string_view bytes) {
  return snapshot::readEnvelope(bytes);
}

//===----------------------------------------------------------------------===//
// The store
//===----------------------------------------------------------------------===//

namespace {

std::string countersPath(const std::string &directory) {
  return directory + "/counters.json";
}

/// counters.json: {"next": the last counter issued in the store,
/// "snapshots": {NAME: the counter of NAME's current snapshot}}.
Result<nlohmann::json> readCounters(const std::string &directory) {
  std::string path = countersPath(directory);
  struct stat status;
  if (stat(path.c_str(), &status) != 0) {
    if (errno == ENOENT) // none issued yet
      return nlohmann::json{{"next", 0},
                            {"snapshots", nlohmann::json::object()}};
    return Error{ErrorCode::ResourceExhausted,
                 "cannot read " + path + ": " + std::strerror(errno)};
  }
  std::string why;
  std::optional<std::string> text = files::readFile(path, &why);
  if (!text)
    return Error{ErrorCode::ResourceExhausted,
                 "cannot read " + path + ": " + why};
  nlohmann::json counters =
      nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  bool valid =
      counters.is_object() && counters.size() == 2 &&
      counters.contains("next") && counters["next"].is_number_unsigned() &&
      counters.contains("snapshots") && counters["snapshots"].is_object();
  for (const auto &entry :
       valid ? counters["snapshots"].items() : nlohmann::json::object().items())
    valid = valid && entry.value().is_number_unsigned() &&
            entry.value().get<uint64_t>() <= counters["next"].get<uint64_t>();
  if (!valid)
    return Error{ErrorCode::InvalidModule,
                 path + " is damaged: not the store's counters"};
  return counters;
}

/// The store locked (shared, or exclusive to change it) and its counters,
/// for a valid snapshot name.
struct LockedCounters {
  files::FileLock lock;
  nlohmann::json counters;
};
Result<LockedCounters> lockCounters(const std::string &directory,
                                    const std::string &name, bool exclusive) {
  if (Status status = checkSnapshotName(name); !status)
    return status.error();
  std::string why;
  std::optional<files::FileLock> lock =
      files::FileLock::acquire(directory + "/lock", exclusive, why);
  if (!lock)
    return Error{ErrorCode::ResourceExhausted, "the snapshot store: " + why};
  Result<nlohmann::json> counters = readCounters(directory);
  if (!counters)
    return counters.error();
  return LockedCounters{std::move(*lock), std::move(*counters)};
}

} // namespace

Result<SnapshotStore> SnapshotStore::open(const std::string &directory) {
  std::string root = directory;
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  if (std::optional<std::string> failure = files::makeDirectories(root))
    return Error{ErrorCode::InvalidArgument,
                 "cannot create the snapshot store " + root + ": " + *failure};
  if (std::optional<std::string> why = files::whyNotPrivate(root))
    return Error{ErrorCode::Untrusted,
                 "the snapshot store " + *why +
                     "; its counters are what refuses replayed snapshots"};
  return SnapshotStore(std::move(root));
}

std::string SnapshotStore::pathOf(const std::string &name) const {
  return directory + "/" + name + ".twsnap";
}

Result<uint64_t> SnapshotStore::counter(const std::string &name) const {
  Result<LockedCounters> locked = lockCounters(directory, name, false);
  if (!locked)
    return locked.error();
  return locked->counters["snapshots"].value(name, uint64_t(0));
}

Result<SnapshotInfo> SnapshotStore::save(const std::string &name,
                                         const Module &module,
                                         Instance &instance,
                                         const SnapshotKey &key,
                                         SnapshotOptions options) {
  Result<LockedCounters> locked = lockCounters(directory, name, true);
  if (!locked)
    return locked.error();
  nlohmann::json &counters = locked->counters;
  // Counters are unique in the store, so a snapshot of one name is refused
  // under another as it is under its own name later on.
  uint64_t counter = counters["next"].get<uint64_t>() + 1;
  if (counter == 0)
    return Error{ErrorCode::ResourceExhausted,
                 "the snapshot store's counter is exhausted"};
  options.counter = counter;
  Result<Captured> captured = capture(module, instance, key, options);
  if (!captured)
    return captured.error();
  // The counter is stored before the snapshot that uses it: a crash between
  // the two leaves the name's older snapshot refused (save it again), never
  // an older snapshot accepted.
  counters["next"] = counter;
  counters["snapshots"][name] = counter;
  if (std::optional<std::string> failure = files::writeFileAtomically(
          countersPath(directory), counters.dump(2) + "\n", directory))
    return Error{ErrorCode::ResourceExhausted,
                 "cannot update the snapshot counters: " + *failure};
  if (Status written = writePieces(pathOf(name), *captured); !written)
    return Error{written.error().code, written.error().message +
                                           "; the store now refuses the "
                                           "earlier snapshot of '" +
                                           name + "' too: save it again"};
  return std::move(captured->info);
}

Result<std::unique_ptr<Instance>>
SnapshotStore::restore(const std::string &name, Module &module,
                       const SnapshotKeyring &keys, RestoreOptions options,
                       SnapshotInfo *info) {
  // Held until the restore is done, so that a save in between (counter
  // first, then the file) is not mistaken for a replay.
  Result<LockedCounters> locked = lockCounters(directory, name, false);
  if (!locked)
    return locked.error();
  uint64_t current = locked->counters["snapshots"].value(name, uint64_t(0));
  if (current == 0)
    return Error{ErrorCode::InvalidArgument, "the snapshot store " + directory +
                                                 " has no snapshot '" + name +
                                                 "'"};
  options.exactCounter = current;
  return restoreSnapshotFile(module, pathOf(name), keys, options, info);
}

} // namespace tensorwasm
