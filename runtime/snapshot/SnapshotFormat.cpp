//===- SnapshotFormat.cpp - the snapshot wire format ----------------------===//

#include "snapshot/SnapshotFormat.h"

#include "support/Files.h"
#include "twasm/Artifact.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cctype>
#include <cstring>
#include <limits>

namespace tensorwasm::snapshot {
namespace {

constexpr char kMagic[8] = {'T', 'W', 'S', 'N', 'A', 'P', '\r', '\n'};
constexpr char kEndMagic[8] = {'T', 'W', 'S', 'N', 'E', 'N', 'D', '\n'};
constexpr size_t kMacBytes = 32;
constexpr uint64_t kPageBytes = 65536;
constexpr uint64_t kMaxPages = 65536;

enum SectionKind : uint32_t {
  kMetadataSection = 1,
  kGlobalsSection = 2,
  kMemorySection = 3,
};
/// A section a reader that does not know its kind may skip.
constexpr uint32_t kSkippable = 1;

constexpr size_t kChunkEntryBytes = 8 + 4 + 4 + 32;

Error malformed(const std::string &what) {
  return Error{ErrorCode::InvalidModule, "malformed snapshot: " + what};
}

//===----------------------------------------------------------------------===//
// Little-endian writing and bounded reading
//===----------------------------------------------------------------------===//

void put(std::string &out, uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>(value >> (8 * i)));
}

void putString(std::string &out, std::string_view text) {
  put(out, text.size(), 1);
  out.append(text);
}

/// Reads fields from a byte range; every read past its end fails, and the
/// first failure sticks.
class Reader {
public:
  explicit Reader(std::string_view bytes) : bytes(bytes) {}
  uint64_t get(unsigned size) {
    if (!take(size))
      return 0;
    uint64_t value = 0;
    for (unsigned i = 0; i < size; ++i)
      value |= uint64_t(static_cast<uint8_t>(bytes[position - size + i]))
               << (8 * i);
    return value;
  }
  std::string_view bytesOf(uint64_t size) {
    if (!take(size))
      return {};
    return bytes.substr(position - size, size);
  }
  std::string_view string() { return bytesOf(get(1)); }
  bool ok() const { return !failed; }
  size_t remaining() const { return bytes.size() - position; }

private:
  bool take(uint64_t size) {
    if (failed || size > bytes.size() - position) {
      failed = true;
      return false;
    }
    position += size;
    return true;
  }
  std::string_view bytes;
  size_t position = 0;
  bool failed = false;
};

//===----------------------------------------------------------------------===//
// Names of things
//===----------------------------------------------------------------------===//

struct GlobalType {
  uint8_t code;
  const char *name;
};
constexpr GlobalType globalTypes[] = {
    {0, "i32"},
    {1, "i64"},
    {2, "f32"},
    {3, "f64"},
    {4, "funcref"},
    {5, "externref"},
    {16, "table funcref"},
    {17, "table externref"},
};

const char *globalTypeName(uint8_t code) {
  for (const GlobalType &type : globalTypes)
    if (type.code == code)
      return type.name;
  return nullptr;
}

uint8_t deviceCode(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::Cuda:
    return 1;
  case DeviceKind::Cpu:
    return 2;
  case DeviceKind::Mock:
    return 3;
  case DeviceKind::Auto:
    break;
  }
  return 0;
}

std::optional<DeviceKind> deviceOfCode(uint64_t code) {
  switch (code) {
  case 1:
    return DeviceKind::Cuda;
  case 2:
    return DeviceKind::Cpu;
  case 3:
    return DeviceKind::Mock;
  default:
    return std::nullopt;
  }
}

//===----------------------------------------------------------------------===//
// The MAC
//===----------------------------------------------------------------------===//

/// HMAC-SHA256 under `key` of the concatenation of `parts`.
std::optional<std::array<uint8_t, kMacBytes>>
mac(const std::array<uint8_t, 32> &key,
    std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> algorithm(
      EVP_MAC_fetch(nullptr, "HMAC", nullptr), EVP_MAC_free);
  if (!algorithm)
    return std::nullopt;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> context(
      EVP_MAC_CTX_new(algorithm.get()), EVP_MAC_CTX_free);
  char digestName[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digestName, 0),
      OSSL_PARAM_construct_end()};
  if (!context || !EVP_MAC_init(context.get(), key.data(), key.size(), params))
    return std::nullopt;
  for (std::string_view part : parts)
    if (!EVP_MAC_update(context.get(),
                        reinterpret_cast<const unsigned char *>(part.data()),
                        part.size()))
      return std::nullopt;
  std::array<uint8_t, kMacBytes> result{};
  size_t length = 0;
  if (!EVP_MAC_final(context.get(), result.data(), &length, result.size()) ||
      length != kMacBytes)
    return std::nullopt;
  return result;
}

//===----------------------------------------------------------------------===//
// Sections
//===----------------------------------------------------------------------===//

std::string encodeMetadata(const SnapshotMetadata &metadata) {
  std::string out;
  std::string digest = metadata.artifactDigest.empty()
                           ? std::string(32, '\0')
                           : files::fromHex(metadata.artifactDigest)
                                 .value_or(std::string(32, '\0'));
  out.append(digest);
  put(out, metadata.artifactVersion, 8);
  put(out, metadata.counter, 8);
  put(out, static_cast<uint64_t>(metadata.created), 8);
  put(out, deviceCode(metadata.device), 1);
  put(out, 0, 7);
  putString(out, metadata.artifactName);
  putString(out, metadata.tenant);
  return out;
}

Status decodeMetadata(Reader &in, SnapshotMetadata &metadata) {
  std::string_view digest = in.bytesOf(32);
  metadata.artifactVersion = in.get(8);
  metadata.counter = in.get(8);
  metadata.created = static_cast<int64_t>(in.get(8));
  uint64_t device = in.get(1);
  uint64_t reserved = in.get(7);
  metadata.artifactName = std::string(in.string());
  metadata.tenant = std::string(in.string());
  if (!in.ok())
    return malformed("the metadata section is cut short");
  std::optional<DeviceKind> kind = deviceOfCode(device);
  if (!kind || reserved != 0)
    return malformed("the metadata section names no known device");
  bool none = digest.find_first_not_of('\0') == std::string_view::npos;
  // Names are printed and put into JSON: text only, as writers make them.
  if (!validTenant(metadata.tenant) ||
      (none ? !metadata.artifactName.empty()
            : !checkArtifactName(metadata.artifactName)))
    return malformed("the metadata's tenant or artifact name is not a name");
  metadata.device = *kind;
  metadata.artifactDigest = none ? "" : files::toHex(digest);
  return {};
}

std::string encodeGlobals(const std::vector<SnapshotGlobal> &globals) {
  std::string out;
  put(out, globals.size(), 4);
  for (const SnapshotGlobal &global : globals) {
    put(out, globalTypeCode(global.type).value_or(0xff), 1);
    putString(out, global.symbol);
    put(out, global.bytes.size(), 4);
    out.append(global.bytes);
  }
  return out;
}

Status decodeGlobals(Reader &in, std::vector<SnapshotGlobal> &globals) {
  uint64_t count = in.get(4);
  // Each entry takes at least 6 bytes: a count beyond that is a lie, found
  // before anything is reserved for it.
  if (!in.ok() || count > in.remaining() / 6)
    return malformed("the globals section is cut short");
  for (uint64_t i = 0; i < count; ++i) {
    SnapshotGlobal global;
    const char *type = globalTypeName(static_cast<uint8_t>(in.get(1)));
    global.symbol = std::string(in.string());
    global.bytes = std::string(in.bytesOf(in.get(4)));
    if (!in.ok())
      return malformed("the globals section is cut short");
    if (!type)
      return malformed("global '" + global.symbol + "' has an unknown type");
    global.type = type;
    bool table = global.type.rfind("table ", 0) == 0;
    bool fits = table ? global.bytes.size() >= 4 && global.bytes.size() % 4 == 0
                      : global.bytes.size() == 8;
    if (!fits || global.symbol.empty())
      return malformed("global '" + global.symbol + "' has " +
                       std::to_string(global.bytes.size()) + " bytes, not a " +
                       global.type);
    globals.push_back(std::move(global));
  }
  return {};
}

std::string encodeMemory(const Head &head) {
  std::string out;
  put(out, head.hasMemory ? 1 : 0, 1);
  put(out, static_cast<uint8_t>(head.compression), 1);
  put(out, 0, 2);
  put(out, head.blockBytes, 4);
  put(out, head.memoryPages, 8);
  put(out, head.dataBytes, 8);
  put(out, head.chunks.size(), 4);
  for (const Chunk &chunk : head.chunks) {
    put(out, chunk.address, 8);
    put(out, chunk.memoryBytes, 4);
    put(out, chunk.storedBytes, 4);
    out.append(reinterpret_cast<const char *>(chunk.digest.data()),
               chunk.digest.size());
  }
  return out;
}

Status decodeMemory(Reader &in, Head &head) {
  uint64_t present = in.get(1);
  uint64_t compression = in.get(1);
  uint64_t reserved = in.get(2);
  uint64_t blockBytes = in.get(4);
  head.memoryPages = in.get(8);
  head.dataBytes = in.get(8);
  uint64_t count = in.get(4);
  if (!in.ok() || count > in.remaining() / kChunkEntryBytes)
    return malformed("the memory section is cut short");
  if (present > 1 || reserved != 0)
    return malformed("the memory section's flags are not 0 or 1");
  head.hasMemory = present == 1;
  if (compression > 1)
    return malformed("unknown compression " + std::to_string(compression));
  head.compression = static_cast<SnapshotCompression>(compression);
  if (blockBytes < kBlockBytes || blockBytes > kPageBytes ||
      (blockBytes & (blockBytes - 1)))
    return malformed("block size " + std::to_string(blockBytes) +
                     " is not a power of two from 4096 to 65536");
  head.blockBytes = static_cast<uint32_t>(blockBytes);
  if (head.memoryPages > kMaxPages || (!head.hasMemory && head.memoryPages))
    return malformed(std::to_string(head.memoryPages) +
                     " pages of memory (at most 65536)");
  uint64_t memoryBytes = head.memoryPages * kPageBytes;
  uint64_t end = 0, stored = 0;
  head.chunks.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Chunk chunk;
    chunk.address = in.get(8);
    chunk.memoryBytes = static_cast<uint32_t>(in.get(4));
    chunk.storedBytes = static_cast<uint32_t>(in.get(4));
    std::string_view digest = in.bytesOf(32);
    if (!in.ok())
      return malformed("the chunk table is cut short");
    std::memcpy(chunk.digest.data(), digest.data(), 32);
    std::string which = "chunk " + std::to_string(i);
    // In order, apart, on block boundaries, inside memory, not too large.
    if (chunk.address < end || chunk.address % blockBytes ||
        chunk.memoryBytes == 0 || chunk.memoryBytes > kMaxChunkBytes ||
        chunk.memoryBytes % blockBytes || chunk.address > memoryBytes ||
        chunk.memoryBytes > memoryBytes - chunk.address)
      return malformed(which + " (" + std::to_string(chunk.memoryBytes) +
                       " bytes at " + std::to_string(chunk.address) +
                       ") is out of order, unaligned or outside memory");
    bool storedFits =
        head.compression == SnapshotCompression::None
            ? chunk.storedBytes == chunk.memoryBytes
            : chunk.storedBytes > 0 && chunk.storedBytes <= 2 * kMaxChunkBytes;
    if (!storedFits)
      return malformed(which + " stores " + std::to_string(chunk.storedBytes) +
                       " bytes for " + std::to_string(chunk.memoryBytes));
    end = chunk.address + chunk.memoryBytes;
    chunk.dataOffset = stored;
    stored += chunk.storedBytes;
    head.chunks.push_back(chunk);
  }
  if (stored != head.dataBytes)
    return malformed("the chunks store " + std::to_string(stored) +
                     " bytes; the data area has " +
                     std::to_string(head.dataBytes));
  return {};
}

std::string section(uint32_t kind, std::string_view payload) {
  std::string out;
  put(out, kind, 4);
  put(out, 0, 4);
  put(out, payload.size(), 8);
  out.append(payload);
  return out;
}

Status decodeHead(std::string_view bytes, Head &head) {
  Reader in(bytes);
  in.bytesOf(8); // the magic, checked with the tail
  head.formatMajor = static_cast<uint16_t>(in.get(2));
  head.formatMinor = static_cast<uint16_t>(in.get(2));
  uint64_t count = in.get(4);
  if (!in.ok())
    return malformed("the head is cut short");
  bool seen[4] = {false, false, false, false};
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t kind = in.get(4);
    uint64_t flags = in.get(4);
    std::string_view payload = in.bytesOf(in.get(8));
    if (!in.ok())
      return malformed("section " + std::to_string(i) + " is cut short");
    if (kind < 1 || kind > 3) {
      if (flags & kSkippable)
        continue;
      return Error{ErrorCode::Unsupported,
                   "the snapshot has a section of kind " +
                       std::to_string(kind) +
                       " that this build does not know and may not skip "
                       "(written by a newer version)"};
    }
    if (seen[kind])
      return malformed("two sections of kind " + std::to_string(kind));
    seen[kind] = true;
    Reader content(payload);
    Status decoded =
        kind == kMetadataSection  ? decodeMetadata(content, head.metadata)
        : kind == kGlobalsSection ? decodeGlobals(content, head.globals)
                                  : decodeMemory(content, head);
    if (!decoded)
      return decoded;
    // Later minor versions may append fields; this one has none to spare.
    if (content.remaining() && head.formatMinor <= kFormatMinor)
      return malformed("section " + std::to_string(kind) + " has " +
                       std::to_string(content.remaining()) +
                       " bytes more than its fields");
  }
  if (in.remaining())
    return malformed("the head has bytes after its sections");
  if (!seen[kMetadataSection] || !seen[kGlobalsSection] ||
      !seen[kMemorySection])
    return malformed("the head lacks a metadata, globals or memory section");
  return {};
}

} // namespace

bool validKeyId(std::string_view id) {
  bool valid = !id.empty() && id.size() <= kMaxKeyIdBytes;
  for (char c : id)
    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                      c == '_' || c == '-');
  return valid;
}

bool validTenant(std::string_view tenant) {
  bool valid = tenant.size() <= kMaxNameBytes;
  for (char c : tenant)
    valid = valid && c > ' ' && c < 0x7f;
  return valid;
}

std::optional<uint8_t> globalTypeCode(std::string_view type) {
  for (const GlobalType &entry : globalTypes)
    if (type == entry.name)
      return entry.code;
  return std::nullopt;
}

std::string encodeHead(const Head &head) {
  std::string out(kMagic, sizeof kMagic);
  put(out, head.formatMajor, 2);
  put(out, head.formatMinor, 2);
  put(out, 3, 4);
  out += section(kMetadataSection, encodeMetadata(head.metadata));
  out += section(kGlobalsSection, encodeGlobals(head.globals));
  out += section(kMemorySection, encodeMemory(head));
  return out;
}

std::string encodeTail(std::string_view head, uint64_t dataBytes,
                       const SnapshotKey &key) {
  std::string tail = key.id();
  put(tail, key.id().size(), 1);
  put(tail, 0, 7);
  put(tail, head.size(), 8);
  put(tail, dataBytes, 8);
  std::optional<std::array<uint8_t, kMacBytes>> code =
      mac(key.secret(), {head, tail});
  if (!code)
    return "";
  tail.append(reinterpret_cast<const char *>(code->data()), code->size());
  tail.append(kEndMagic, sizeof kEndMagic);
  return tail;
}

Result<SnapshotEnvelope> readEnvelope(std::string_view file) {
  if (file.size() < sizeof kMagic + 8 + kTailFixedBytes + 1 ||
      std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    return Error{ErrorCode::InvalidModule,
                 "not a TensorWasm snapshot (no 'TWSNAP' magic, or too short "
                 "for one)"};
  if (std::memcmp(file.data() + file.size() - sizeof kEndMagic, kEndMagic,
                  sizeof kEndMagic) != 0)
    return malformed("the end magic is missing (a truncated file?)");
  SnapshotEnvelope envelope;
  Reader version(file.substr(sizeof kMagic, 4));
  envelope.formatMajor = static_cast<uint16_t>(version.get(2));
  envelope.formatMinor = static_cast<uint16_t>(version.get(2));
  Reader tail(file.substr(file.size() - kTailFixedBytes));
  uint64_t keyIdBytes = tail.get(1);
  uint64_t reserved = tail.get(7);
  envelope.headBytes = tail.get(8);
  envelope.dataBytes = tail.get(8);
  uint64_t rest = file.size() - kTailFixedBytes;
  if (keyIdBytes == 0 || keyIdBytes > kMaxKeyIdBytes || keyIdBytes > rest ||
      reserved != 0 || envelope.headBytes > rest - keyIdBytes ||
      envelope.dataBytes != rest - keyIdBytes - envelope.headBytes ||
      envelope.headBytes < sizeof kMagic + 8)
    return malformed("its tail's lengths do not add up to its size (" +
                     std::to_string(file.size()) + " bytes)");
  envelope.keyId = std::string(file.substr(rest - keyIdBytes, keyIdBytes));
  // Checked before anyone prints it: it is not authenticated yet.
  if (!validKeyId(envelope.keyId))
    return malformed("its key id is not 1 to 64 of A-Z a-z 0-9 . _ -");
  return envelope;
}

Result<Opened> open(std::string_view file, const SnapshotKeyring &keys) {
  Result<SnapshotEnvelope> envelope = readEnvelope(file);
  if (!envelope)
    return envelope.error();
  const SnapshotKey *key = keys.find(envelope->keyId);
  if (!key)
    return Error{ErrorCode::Untrusted,
                 "the snapshot is authenticated with key '" + envelope->keyId +
                     "', which is not among the keys given"};
  size_t tailStart = file.size() - kTailFixedBytes - envelope->keyId.size();
  // Copies: what the MAC checks is what is decoded, even if the file under
  // a mapping changes meanwhile.
  std::string head(file.substr(0, envelope->headBytes));
  std::string tailFields(file.substr(tailStart, envelope->keyId.size() + 24));
  std::optional<std::array<uint8_t, kMacBytes>> expected =
      mac(key->secret(), {head, tailFields});
  if (!expected)
    return Error{ErrorCode::ResourceExhausted,
                 "OpenSSL cannot compute an HMAC-SHA256"};
  std::string stored(
      file.substr(file.size() - sizeof kEndMagic - kMacBytes, kMacBytes));
  if (CRYPTO_memcmp(expected->data(), stored.data(), kMacBytes) != 0)
    return Error{ErrorCode::Untrusted,
                 "the snapshot's HMAC does not verify under key '" +
                     envelope->keyId +
                     "': it was altered, or made with "
                     "another key of that id"};
  // Authentic from here on; still checked, as a bug of a writer is no
  // reason to read out of bounds.
  Opened opened;
  opened.keyId = envelope->keyId;
  if (envelope->formatMajor != kFormatMajor)
    return Error{ErrorCode::Unsupported,
                 "snapshot format " + std::to_string(envelope->formatMajor) +
                     "." + std::to_string(envelope->formatMinor) +
                     "; this build reads " + std::to_string(kFormatMajor) +
                     ".x"};
  if (Status decoded = decodeHead(head, opened.head); !decoded)
    return decoded.error();
  if (opened.head.dataBytes != envelope->dataBytes)
    return malformed("the memory section and the tail disagree on the data "
                     "area's length");
  opened.data = file.substr(envelope->headBytes, envelope->dataBytes);
  return opened;
}

bool digestMatches(const Chunk &chunk, std::string_view stored) {
  std::string digest = files::sha256(stored);
  return digest.size() == 32 &&
         CRYPTO_memcmp(digest.data(), chunk.digest.data(), 32) == 0;
}

} // namespace tensorwasm::snapshot
