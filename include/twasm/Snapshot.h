//===- Snapshot.h - signed snapshots of instances ---------------*- C++ -*-===//
//
// A snapshot is an instance's state — linear memory (zero blocks left out,
// optionally zstd-compressed), globals and tables, and what it belongs to
// (the artifact, the tenant, a counter, the device) — in the versioned
// binary format of docs/snapshot-format.md, authenticated by an
// HMAC-SHA256 trailer under a secret key the operator keeps.
//
// Restoring checks the trailer in constant time before it reads anything
// else, checks every memory chunk's digest before the chunk is used, and
// gives a new instance of the same module on any device: a snapshot taken on
// the GPU restores on the CPU and back, with identical memory and globals.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_SNAPSHOT_H
#define TWASM_SNAPSHOT_H

#include "twasm/Runtime.h"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tensorwasm {

/// A secret snapshot key: 32 random bytes and the id that snapshots name it
/// by (1 to 64 of [A-Za-z0-9._-]). Key files are text (`twasm snapshot
/// keygen`) and must not be readable by anyone but their owner.
class SnapshotKey {
public:
  static Result<SnapshotKey> generate(std::string id);
  /// A key file's text.
  static Result<SnapshotKey> parse(std::string_view text);
  /// Reads a key file; refuses one that its group or others can read.
  static Result<SnapshotKey> readFile(const std::string &path);
  std::string serialize() const;
  /// Writes the key file (mode 0600); refuses to replace an existing file.
  Status writeFile(const std::string &path) const;

  const std::string &id() const { return keyId; }
  const std::array<uint8_t, 32> &secret() const { return secretBytes; }

private:
  SnapshotKey() = default;
  std::string keyId;
  std::array<uint8_t, 32> secretBytes{};
};

/// The keys restores accept, by id.
class SnapshotKeyring {
public:
  /// Adds a key; an id already present is an InvalidArgument error.
  Status add(SnapshotKey key);
  const SnapshotKey *find(std::string_view id) const;
  bool empty() const { return keys.empty(); }

private:
  std::map<std::string, SnapshotKey, std::less<>> keys;
};

enum class SnapshotCompression : uint8_t { None = 0, Zstd = 1 };

/// What a snapshot says it belongs to.
struct SnapshotMetadata {
  /// The artifact the instance's module was loaded from (Module::artifact());
  /// an empty digest for code loaded without one (development only).
  std::string artifactName;
  uint64_t artifactVersion = 0;
  std::string artifactDigest;
  /// Who the instance belongs to (empty: nobody in particular).
  std::string tenant;
  /// The replay counter (docs/snapshot-format.md, "Replay"): a snapshot
  /// store issues increasing values; restores can require a minimum.
  uint64_t counter = 0;
  /// The device the snapshot was taken on.
  DeviceKind device = DeviceKind::Cpu;
  /// Seconds since the Unix epoch.
  int64_t created = 0;
};

/// A global, or a table, of the snapshotted instance.
struct SnapshotGlobal {
  /// The symbol the module's manifest gives it (docs/kernel-manifest.md).
  std::string symbol;
  /// "i32", "i64", "f32", "f64", "funcref", "externref", or for a table
  /// "table funcref" / "table externref".
  std::string type;
  /// A global's 8-byte slot, or a table's element count and its 4-byte
  /// entries (little-endian).
  std::string bytes;
};

/// What a verified snapshot holds (twasm snapshot inspect).
struct SnapshotInfo {
  uint16_t formatMajor = 0, formatMinor = 0;
  std::string keyId;
  SnapshotMetadata metadata;
  bool hasMemory = false;
  uint64_t memoryBytes = 0;
  SnapshotCompression compression = SnapshotCompression::None;
  /// Chunks of memory that are not all zero, their bytes in memory and in
  /// the file.
  uint64_t chunks = 0;
  uint64_t chunkedBytes = 0;
  uint64_t storedBytes = 0;
  std::vector<SnapshotGlobal> globals;
  uint64_t fileBytes = 0;
};

struct SnapshotOptions {
  std::string tenant;
  uint64_t counter = 0;
  SnapshotCompression compression = SnapshotCompression::None;
  /// zstd's level (1 fastest .. 19).
  int compressionLevel = 3;
  /// Threads that scan, hash and compress (0: one per hardware thread).
  unsigned threads = 0;
};

/// Snapshots `instance` (of `module`) into bytes, or a file written
/// atomically (temporary file, fsync, rename, fsync of the directory).
/// Takes no launch: the caller does not launch on the instance meanwhile.
Result<std::string> snapshotInstance(const Module &module, Instance &instance,
                                     const SnapshotKey &key,
                                     const SnapshotOptions &options,
                                     SnapshotInfo *info = nullptr);
Result<SnapshotInfo> writeSnapshotFile(const std::string &path,
                                       const Module &module, Instance &instance,
                                       const SnapshotKey &key,
                                       const SnapshotOptions &options);

/// Checks the trailer (constant time), then the whole snapshot (every
/// chunk's digest, the sections' consistency) and describes it.
Result<SnapshotInfo> verifySnapshot(std::string_view bytes,
                                    const SnapshotKeyring &keys);
/// The same of a file, read through a memory mapping.
Result<SnapshotInfo> verifySnapshotFile(const std::string &path,
                                        const SnapshotKeyring &keys);

/// The snapshot's linear memory (zeroes where it left out blocks), after
/// the same verification: for tools (`twasm snapshot inspect --memory`) and
/// tests. A snapshot of a few kilobytes may declare a 4 GiB memory (blocks
/// of zeroes are left out), so the caller bounds the image it is willing to
/// hold: a larger one is ResourceExhausted before anything is allocated.
Result<std::string> readSnapshotMemory(std::string_view bytes,
                                       const SnapshotKeyring &keys,
                                       uint64_t maxMemoryBytes);

struct RestoreOptions {
  /// Replay protection: refuse a snapshot whose counter is lower.
  uint64_t minimumCounter = 0;
  /// Set: refuse any other counter (SnapshotStore: the name's current one).
  std::optional<uint64_t> exactCounter;
  /// Non-empty: refuse a snapshot of another tenant.
  std::optional<std::string> tenant;
  /// Threads that verify, decompress and copy (0: one per hardware thread).
  unsigned threads = 0;
  /// Called once the snapshot's trailer has verified and it fits the
  /// module, with the linear memory it needs (bytes), before the instance
  /// is made: an Error refuses the restore (a tenant's memory quota, say).
  std::function<Status(uint64_t memoryBytes)> admit;
};

/// A new instance of `module` with the snapshot's memory and globals. The
/// snapshot must be of the same artifact (its digest), under a key of
/// `keys`; nothing is read before the trailer verifies, and no chunk is
/// copied before its digest does. On any failure nothing is returned and
/// nothing else changed.
Result<std::unique_ptr<Instance>> restoreSnapshot(Module &module,
                                                  std::string_view bytes,
                                                  const SnapshotKeyring &keys,
                                                  const RestoreOptions &options,
                                                  SnapshotInfo *info = nullptr);
/// The same from a file, mapped into memory and copied from there straight
/// into the device's or the host's linear memory.
Result<std::unique_ptr<Instance>>
restoreSnapshotFile(Module &module, const std::string &path,
                    const SnapshotKeyring &keys, const RestoreOptions &options,
                    SnapshotInfo *info = nullptr);

/// What the trailer says, read without the key: for `twasm snapshot
/// inspect` to name the key it needs. Nothing of it is authenticated.
struct SnapshotEnvelope {
  uint16_t formatMajor = 0, formatMinor = 0;
  std::string keyId;
  uint64_t headBytes = 0, dataBytes = 0;
};
Result<SnapshotEnvelope> readSnapshotEnvelope(std::string_view bytes);

/// Snapshots kept in a directory: NAME.twsnap, each written atomically, and
/// counters.json: the last counter issued in the store and each name's
/// current one. save() gives each snapshot a counter no other snapshot of
/// the store has (stored before the snapshot), and restore() refuses any
/// file but the one with the name's current counter: an older snapshot, or
/// another name's, copied over it (a replay) does not restore.
class SnapshotStore {
public:
  /// Opens (creating) `directory`; refuses one others can write.
  static Result<SnapshotStore> open(const std::string &directory);
  Result<SnapshotInfo> save(const std::string &name, const Module &module,
                            Instance &instance, const SnapshotKey &key,
                            SnapshotOptions options);
  Result<std::unique_ptr<Instance>>
  restore(const std::string &name, Module &module, const SnapshotKeyring &keys,
          RestoreOptions options, SnapshotInfo *info = nullptr);
  /// The counter of `name`'s current snapshot (0: none).
  Result<uint64_t> counter(const std::string &name) const;
  std::string pathOf(const std::string &name) const;

private:
  explicit SnapshotStore(std::string directory)
      : directory(std::move(directory)) {}
  std::string directory;
};

} // namespace tensorwasm

#endif // TWASM_SNAPSHOT_H
