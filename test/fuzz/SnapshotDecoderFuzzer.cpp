//===- SnapshotDecoderFuzzer.cpp - libFuzzer on the snapshot decoder ------===//
//
// Two ways in, chosen by the input's first byte:
//
//   even  the bytes are a whole snapshot file: the envelope reader, the
//         constant-time check and (never, in practice) the decoder must
//         refuse it cleanly;
//   odd   after it a 4-byte little-endian split, then a head (the bytes
//         before the split) and a data area (after it) that the fuzzer
//         seals with the test key (snapshot::encodeTail), as a writer with
//         a bug, or the key's holder, could: the head decoder, the chunk
//         checks, zstd and the memory image must cope with authentic
//         nonsense.
//
// Every accepted snapshot must also yield a memory image of its declared
// size, or, when that is over the reader's bound (a few bytes may declare
// 4 GiB of zeroes), a ResourceExhausted refusal. Seeds:
// test/fuzz/snapshot-seeds (the golden files' heads).
//
//===----------------------------------------------------------------------===//

#include "snapshot/SnapshotFormat.h"
#include "twasm/Snapshot.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace tensorwasm;

namespace {

/// Under libFuzzer's default limit on what one input may allocate.
constexpr uint64_t kMaxImageBytes = 64 << 20;

const SnapshotKey &fuzzKey() {
  static const SnapshotKey key = *SnapshotKey::parse(
      "tensorwasm-snapshot-key 1\nid fuzz\nsecret "
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  return key;
}

const SnapshotKeyring &fuzzRing() {
  static const SnapshotKeyring ring = [] {
    SnapshotKeyring keys;
    (void)keys.add(fuzzKey());
    return keys;
  }();
  return ring;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view input(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::string file;
  if (data[0] & 1) {
    if (input.size() < 4)
      return 0;
    uint32_t split;
    std::memcpy(&split, input.data(), 4);
    input.remove_prefix(4);
    size_t headBytes = std::min<size_t>(split, input.size());
    std::string_view head = input.substr(0, headBytes);
    std::string_view area = input.substr(headBytes);
    file = std::string(head) + std::string(area) +
           snapshot::encodeTail(head, area.size(), fuzzKey());
  } else {
    file = std::string(input);
  }
  Result<SnapshotInfo> info = verifySnapshot(file, fuzzRing());
  if (info) {
    Result<std::string> memory =
        readSnapshotMemory(file, fuzzRing(), kMaxImageBytes);
    if (info->memoryBytes > kMaxImageBytes) {
      if (memory || memory.error().code != ErrorCode::ResourceExhausted)
        std::abort(); // an image over the bound was not refused as such
    } else if (!memory || memory->size() != info->memoryBytes) {
      std::abort(); // verified, yet its memory cannot be read back
    }
  }
  return 0;
}
