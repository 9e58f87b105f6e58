//===- SnapshotFormat.h - the snapshot wire format -------------*- C++ -*-===//
//
// Encoding and decoding of docs/snapshot-format.md, with no device in
// sight: the head (sections: metadata, globals, memory and its chunk table),
// the data area of chunk payloads, and the tail (key id, lengths, the
// HMAC-SHA256 of head and tail, the end magic). Snapshot.cpp moves state
// between these and instances.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_RUNTIME_SNAPSHOT_SNAPSHOTFORMAT_H
#define TWASM_RUNTIME_SNAPSHOT_SNAPSHOTFORMAT_H

#include "twasm/Snapshot.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tensorwasm::snapshot {

/// The format version this build writes. It reads every 1.x: later minor
/// versions only add sections marked skippable and fields at the end of a
/// section (docs/snapshot-format.md, "Versions").
constexpr uint16_t kFormatMajor = 1;
constexpr uint16_t kFormatMinor = 0;
/// The granularity of zero elision, and the largest chunk: chunks are the
/// unit of hashing, compression and parallel restore.
constexpr uint32_t kBlockBytes = 4096;
constexpr uint32_t kMaxChunkBytes = 1 << 20;
/// The tail's fixed part: key id length, reserved, head and data lengths,
/// the HMAC and the end magic.
constexpr size_t kTailFixedBytes = 64;
constexpr size_t kMaxKeyIdBytes = 64;
constexpr size_t kMaxNameBytes = 255;

/// A stored chunk of linear memory.
struct Chunk {
  uint64_t address = 0;
  uint32_t memoryBytes = 0;
  uint32_t storedBytes = 0;
  std::array<uint8_t, 32> digest{};
  /// Where its stored bytes start in the data area (not encoded: the sum of
  /// the stored sizes before it).
  uint64_t dataOffset = 0;
};

/// A snapshot's head, decoded.
struct Head {
  uint16_t formatMajor = kFormatMajor, formatMinor = kFormatMinor;
  SnapshotMetadata metadata;
  std::vector<SnapshotGlobal> globals;
  bool hasMemory = false;
  uint64_t memoryPages = 0;
  SnapshotCompression compression = SnapshotCompression::None;
  uint32_t blockBytes = kBlockBytes;
  std::vector<Chunk> chunks;
  uint64_t dataBytes = 0;
};

/// The head's bytes.
std::string encodeHead(const Head &head);
/// The tail that closes a snapshot of `head` and `dataBytes` of chunk data:
/// its MAC covers the head and the tail's own fields.
std::string encodeTail(std::string_view head, uint64_t dataBytes,
                       const SnapshotKey &key);

/// A snapshot whose tail verified, its head decoded; the chunks' data is not
/// checked yet (digestMatches).
struct Opened {
  Head head;
  std::string keyId;
  /// The data area within the file.
  std::string_view data;
};
/// Reads the tail at fixed positions, finds the key, checks the MAC in
/// constant time; only then decodes the head, and checks that its chunk
/// table tiles the data area exactly.
Result<Opened> open(std::string_view file, const SnapshotKeyring &keys);
/// The tail's fields, read without a key.
Result<SnapshotEnvelope> readEnvelope(std::string_view file);
/// Whether `stored` (a copy of a chunk's stored bytes) matches its digest.
bool digestMatches(const Chunk &chunk, std::string_view stored);

/// A key id: 1 to 64 of [A-Za-z0-9._-].
bool validKeyId(std::string_view id);
/// A tenant: at most 255 printable ASCII characters, no spaces.
bool validTenant(std::string_view tenant);

/// The type codes of SnapshotGlobal::type.
std::optional<uint8_t> globalTypeCode(std::string_view type);

} // namespace tensorwasm::snapshot

#endif // TWASM_RUNTIME_SNAPSHOT_SNAPSHOTFORMAT_H
