//===- SnapshotTest.cpp - signed snapshots of instances -------------------===//
//
// What include/twasm/Snapshot.h and docs/snapshot-format.md promise:
// round trips give identical memory and globals, also from one device to
// another (the mock device and the cpu here; with TWASM_TEST_DEVICE=cuda,
// a GPU and the cpu: GPU -> CPU -> GPU); every single-bit flip and every
// truncation of a snapshot is refused, by verification and by restore; the
// golden files of format 1.0 still read; a snapshot restores only into the
// artifact it was taken of, for its tenant, not below a counter (replay);
// keys are private; files are written atomically.
//
// Some tests reseal altered snapshots with the key, computing the HMAC from
// the layout docs/snapshot-format.md gives (not with the runtime's code),
// to show what the parser does with authentic but unexpected contents.
//
//===----------------------------------------------------------------------===//

#include "twasm/Snapshot.h"
#include "twasm/Artifact.h"
#include "twasm/Runtime.h"

#include "cuda/MockDriver.h"

#include <gtest/gtest.h>

#include "TestSupport.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace tensorwasm;

#ifndef TWASM_RUNTIME_TEST_KERNEL_DIR
#error "the build defines TWASM_RUNTIME_TEST_KERNEL_DIR"
#endif
#ifndef TWASM_SNAPSHOT_GOLDEN_DIR
#error "the build defines TWASM_SNAPSHOT_GOLDEN_DIR"
#endif

namespace {

std::string kernelFile(const std::string &name) {
  const char *moved = std::getenv("TWASM_TEST_KERNEL_DIR");
  return std::string(moved ? moved : TWASM_RUNTIME_TEST_KERNEL_DIR) + "/" +
         name;
}

std::string goldenFile(const std::string &name) {
  const char *moved = std::getenv("TWASM_SNAPSHOT_GOLDEN_DIR");
  return std::string(moved ? moved : TWASM_SNAPSHOT_GOLDEN_DIR) + "/" + name;
}

/// The device the round trips cross to and from: a GPU with
/// TWASM_TEST_DEVICE=cuda, else the mock device (the cuda device's code
/// over a simulated driver whose memory is host memory).
DeviceKind otherKind() {
  const char *name = std::getenv("TWASM_TEST_DEVICE");
  return name && std::string(name) == "cuda" ? DeviceKind::Cuda
                                             : DeviceKind::Mock;
}

std::shared_ptr<Device> openDevice(DeviceKind kind,
                                   MemoryMode memory = MemoryMode::Managed) {
  if (kind == DeviceKind::Mock)
    cuda::mock::reset();
  DeviceOptions options;
  options.kind = kind;
  options.cpuWorkers = 2;
  options.cubinCache = "none";
  options.memory = memory;
  Result<std::shared_ptr<Device>> device = Device::open(options);
  EXPECT_TRUE(device) << device.error().message;
  return device ? *device : nullptr;
}

std::shared_ptr<Module> loadArtifact(Device &device, const std::string &file) {
  Result<PublicKey> key = PublicKey::readFile(kernelFile("test-publisher.pub"));
  EXPECT_TRUE(key) << key.error().message;
  TrustPolicy trust;
  EXPECT_TRUE(trust.add(*key, {"test/*"}));
  Result<Artifact> artifact = Artifact::readFile(kernelFile(file), trust);
  EXPECT_TRUE(artifact) << artifact.error().message;
  Result<std::shared_ptr<Module>> module = device.loadArtifact(*artifact);
  EXPECT_TRUE(module) << module.error().message;
  return *module;
}

std::unique_ptr<Instance> instantiate(Module &module) {
  Result<std::unique_ptr<Instance>> instance = module.instantiate();
  EXPECT_TRUE(instance) << instance.error().message;
  return std::move(*instance);
}

SnapshotKey makeKey(const std::string &id) {
  Result<SnapshotKey> key = SnapshotKey::generate(id);
  EXPECT_TRUE(key) << key.error().message;
  return *key;
}

SnapshotKeyring ringOf(const SnapshotKey &key) {
  SnapshotKeyring ring;
  EXPECT_TRUE(ring.add(key));
  return ring;
}

std::string memoryOf(Instance &instance) {
  std::string bytes(instance.memoryBytes(), '\0');
  Status read = instance.read(0, bytes.data(), bytes.size());
  EXPECT_TRUE(read) << read.error().message;
  return bytes;
}

void write(Instance &instance, uint64_t address, const std::string &bytes) {
  Status status = instance.write(address, bytes.data(), bytes.size());
  ASSERT_TRUE(status) << status.error().message;
}

std::string pattern(size_t bytes, uint32_t seed) {
  std::string out(bytes, '\0');
  uint32_t state = seed;
  for (char &c : out) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  return out;
}

/// Launches the stateful module's `step` over 8 threads at `address`.
void step(Instance &instance, int32_t address, bool launches = true) {
  if (!launches)
    return;
  LaunchOptions options;
  options.block = {8, 1, 1};
  Result<LaunchResult> result =
      instance.launch("step", options, {Value::i32(address)});
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->outcome, LaunchResult::Outcome::Completed)
      << result->trap.describe();
}

/// The stateful module's instance with memory grown to 16 pages, dense
/// random data in pages 3 and 4, a few scattered words, the data segment
/// overwritten with zeroes, and (on devices that run code) two steps.
std::unique_ptr<Instance> makeState(Module &module, bool launches) {
  std::unique_ptr<Instance> instance = instantiate(module);
  Result<uint32_t> grown = instance->grow(14);
  EXPECT_TRUE(grown) << grown.error().message;
  write(*instance, 3 * 65536, pattern(2 * 65536, 1));
  write(*instance, 9 * 65536 + 12, "scattered");
  write(*instance, 15 * 65536 + 65530, "end");
  write(*instance, 16, std::string(12, '\0'));
  step(*instance, 4096, launches);
  step(*instance, 4096, launches);
  return instance;
}

/// Two instances hold the same state: memory and globals (read back
/// through a snapshot of each).
void expectSameState(const Module &moduleA, Instance &a, const Module &moduleB,
                     Instance &b) {
  ASSERT_EQ(a.memoryBytes(), b.memoryBytes());
  EXPECT_TRUE(memoryOf(a) == memoryOf(b)) << "linear memories differ";
  SnapshotKey key = makeKey("compare");
  SnapshotInfo infoA, infoB;
  ASSERT_TRUE(snapshotInstance(moduleA, a, key, {}, &infoA));
  ASSERT_TRUE(snapshotInstance(moduleB, b, key, {}, &infoB));
  ASSERT_EQ(infoA.globals.size(), infoB.globals.size());
  for (size_t i = 0; i < infoA.globals.size(); ++i) {
    EXPECT_EQ(infoA.globals[i].symbol, infoB.globals[i].symbol);
    EXPECT_EQ(infoA.globals[i].type, infoB.globals[i].type);
    EXPECT_EQ(infoA.globals[i].bytes, infoB.globals[i].bytes)
        << "global " << infoA.globals[i].symbol;
  }
}

const SnapshotGlobal *findGlobal(const SnapshotInfo &info,
                                 const std::string &symbol) {
  for (const SnapshotGlobal &global : info.globals)
    if (global.symbol == symbol)
      return &global;
  return nullptr;
}

int32_t i32Of(const SnapshotGlobal &global) {
  int32_t value = 0;
  std::memcpy(&value, global.bytes.data(), 4);
  return value;
}

//===----------------------------------------------------------------------===//
// Resealing: the HMAC as docs/snapshot-format.md defines it
//===----------------------------------------------------------------------===//

uint64_t littleEndian(const std::string &bytes, size_t at, unsigned size) {
  uint64_t value = 0;
  for (unsigned i = 0; i < size; ++i)
    value |= uint64_t(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return value;
}

/// Recomputes the tail's HMAC of `file` (whose head may have been edited,
/// with `headDelta` bytes more or fewer than the tail says) under `key`.
std::string reseal(std::string file, const SnapshotKey &key,
                   int64_t headDelta = 0) {
  size_t size = file.size();
  size_t keyIdBytes = static_cast<uint8_t>(file[size - 64]);
  uint64_t headBytes = littleEndian(file, size - 56, 8) + headDelta;
  for (unsigned i = 0; i < 8; ++i)
    file[size - 56 + i] = static_cast<char>(headBytes >> (8 * i));
  std::string message = file.substr(0, headBytes) +
                        file.substr(size - 64 - keyIdBytes, keyIdBytes + 24);
  unsigned length = 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  HMAC(EVP_sha256(), key.secret().data(), 32,
       reinterpret_cast<const unsigned char *>(message.data()), message.size(),
       digest, &length);
  EXPECT_EQ(length, 32u);
  std::memcpy(file.data() + size - 40, digest, 32);
  return file;
}

/// A temporary directory, removed with its files at the end of the test.
class SnapshotFiles : public ::testing::Test {
protected:
  tensorwasm::testing::TemporaryDirectory temporary;
  const std::string &directory = temporary.str();
};

//===----------------------------------------------------------------------===//
// Reset (what an instance pool hands out again)
//===----------------------------------------------------------------------===//

TEST(InstanceReset, GivesBackExactlyTheStateOfANewInstance) {
  for (auto [kind, memory] : {std::pair{DeviceKind::Cpu, MemoryMode::Managed},
                              std::pair{otherKind(), MemoryMode::Managed},
                              std::pair{otherKind(), MemoryMode::Device}}) {
    SCOPED_TRACE(std::string(deviceKindName(kind)) +
                 (memory == MemoryMode::Device ? ", device memory" : ""));
    std::shared_ptr<Device> device = openDevice(kind, memory);
    ASSERT_TRUE(device);
    std::shared_ptr<Module> module = loadArtifact(*device, "stateful.twa");
    // Grown, written over (the data segment too), and globals moved on by
    // launches where the device runs code.
    bool runsCode = kind != DeviceKind::Mock;
    std::unique_ptr<Instance> used = makeState(*module, runsCode);
    ASSERT_EQ(used->memoryBytes(), 16 * 65536u);
    ASSERT_TRUE(used->reset());
    std::unique_ptr<Instance> fresh = instantiate(*module);
    expectSameState(*module, *used, *module, *fresh);
    // Not grown: the same memory is cleared in place.
    write(*used, 0, pattern(2 * 65536, 7));
    step(*used, 4096, runsCode);
    ASSERT_TRUE(used->reset());
    expectSameState(*module, *used, *module, *fresh);
    EXPECT_EQ(memoryOf(*used).substr(16, 12), "initial data");
    // And it runs as a new one does.
    step(*used, 4096, runsCode);
    step(*fresh, 4096, runsCode);
    expectSameState(*module, *used, *module, *fresh);
  }
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST(Snapshot, RoundTripOnTheCpuKeepsMemoryGlobalsAndTables) {
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  std::shared_ptr<Module> module = loadArtifact(*cpu, "stateful.twa");
  std::unique_ptr<Instance> original = makeState(*module, true);
  SnapshotKey key = makeKey("round-trip");
  int32_t steps = 2;
  for (SnapshotCompression compression :
       {SnapshotCompression::None, SnapshotCompression::Zstd}) {
    SnapshotOptions options;
    options.tenant = "acme";
    options.counter = 41;
    options.compression = compression;
    SnapshotInfo taken;
    Result<std::string> bytes =
        snapshotInstance(*module, *original, key, options, &taken);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(taken.fileBytes, bytes->size());
    // Two pages of dense data, two scattered blocks, the block of the
    // step's words.
    EXPECT_EQ(taken.chunkedBytes, 2 * 65536 + 3 * 4096u);

    SnapshotInfo restoredInfo;
    Result<std::unique_ptr<Instance>> restored =
        restoreSnapshot(*module, *bytes, ringOf(key), {}, &restoredInfo);
    ASSERT_TRUE(restored) << restored.error().message;
    expectSameState(*module, *original, *module, **restored);
    EXPECT_EQ(restoredInfo.metadata.tenant, "acme");
    EXPECT_EQ(restoredInfo.metadata.counter, 41u);
    EXPECT_EQ(restoredInfo.metadata.device, DeviceKind::Cpu);
    EXPECT_EQ(restoredInfo.metadata.artifactName, "test/stateful");
    EXPECT_EQ(restoredInfo.metadata.artifactDigest,
              module->artifact()->digest());
    const SnapshotGlobal *counter = findGlobal(restoredInfo, "counter");
    ASSERT_NE(counter, nullptr);
    EXPECT_EQ(i32Of(*counter), 7 + steps);
    const SnapshotGlobal *table = findGlobal(restoredInfo, "table0");
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->type, "table funcref");
    EXPECT_EQ(table->bytes,
              std::string("\3\0\0\0\2\0\0\0\3\0\0\0\0\0\0\0", 16));

    // Both go on alike: the restored instance runs, and its data segment's
    // bytes stayed the zeroes they were, not the segment's.
    step(*original, 4096);
    step(**restored, 4096);
    ++steps;
    expectSameState(*module, *original, *module, **restored);
    std::string segment(12, 'x');
    ASSERT_TRUE((*restored)->read(16, segment.data(), segment.size()));
    EXPECT_EQ(segment, std::string(12, '\0'));
  }
}

TEST(Snapshot, CrossesDevicesAndBackWithIdenticalState) {
  // GPU -> CPU -> GPU with TWASM_TEST_DEVICE=cuda; mock -> CPU -> mock here.
  DeviceKind kind = otherKind();
  bool gpuRunsCode = kind == DeviceKind::Cuda;
  std::shared_ptr<Device> gpu = openDevice(kind);
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  ASSERT_TRUE(gpu && cpu);
  std::shared_ptr<Module> onGpu = loadArtifact(*gpu, "stateful.twa");
  std::shared_ptr<Module> onCpu = loadArtifact(*cpu, "stateful.twa");
  std::unique_ptr<Instance> first = makeState(*onGpu, gpuRunsCode);
  SnapshotKey key = makeKey("cross-device");
  SnapshotKeyring ring = ringOf(key);

  for (SnapshotCompression compression :
       {SnapshotCompression::None, SnapshotCompression::Zstd}) {
    SnapshotOptions options;
    options.compression = compression;
    Result<std::string> fromGpu =
        snapshotInstance(*onGpu, *first, key, options);
    ASSERT_TRUE(fromGpu) << fromGpu.error().message;
    Result<std::unique_ptr<Instance>> onTheCpu =
        restoreSnapshot(*onCpu, *fromGpu, ring, {});
    ASSERT_TRUE(onTheCpu) << onTheCpu.error().message;
    expectSameState(*onGpu, *first, *onCpu, **onTheCpu);

    // The CPU moves the state on; the GPU takes it back.
    step(**onTheCpu, 8192);
    Result<std::string> fromCpu =
        snapshotInstance(*onCpu, **onTheCpu, key, options);
    ASSERT_TRUE(fromCpu) << fromCpu.error().message;
    Result<std::unique_ptr<Instance>> back =
        restoreSnapshot(*onGpu, *fromCpu, ring, {});
    ASSERT_TRUE(back) << back.error().message;
    expectSameState(*onCpu, **onTheCpu, *onGpu, **back);
    if (gpuRunsCode) {
      // And both go on alike.
      step(**onTheCpu, 4096);
      step(**back, 4096);
      expectSameState(*onCpu, **onTheCpu, *onGpu, **back);
    }
  }
  if (kind == DeviceKind::Mock) {
    first.reset();
    onGpu.reset();
    gpu.reset();
    EXPECT_EQ(cuda::mock::live(), cuda::mock::LiveObjects{})
        << "the restore's staging buffers and streams outlived the device";
  }
}

TEST(Snapshot, MostlyZeroMemoryTakesLittleRoom) {
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  std::shared_ptr<Module> module = loadArtifact(*cpu, "stateful.twa");
  std::unique_ptr<Instance> instance = instantiate(*module);
  ASSERT_TRUE(instance->grow(62));             // 4 MiB
  write(*instance, 16, std::string(12, '\0')); // the data segment
  write(*instance, 2 << 20, pattern(4096, 7));
  SnapshotInfo info;
  Result<std::string> bytes =
      snapshotInstance(*module, *instance, makeKey("sparse"), {}, &info);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(info.chunks, 1u);
  EXPECT_LT(bytes->size(), 4096u + 1024u) << "of a 4 MiB memory";
}

//===----------------------------------------------------------------------===//
// Tampering
//===----------------------------------------------------------------------===//

/// A small snapshot: one page of memory with two blocks of data.
std::string smallSnapshot(Module &module, const SnapshotKey &key,
                          SnapshotCompression compression) {
  std::unique_ptr<Instance> instance = instantiate(module);
  write(*instance, 4096, pattern(300, 3));
  write(*instance, 65536 + 100, "second page");
  SnapshotOptions options;
  options.compression = compression;
  options.tenant = "t";
  Result<std::string> bytes = snapshotInstance(module, *instance, key, options);
  EXPECT_TRUE(bytes) << bytes.error().message;
  return *bytes;
}

TEST(Snapshot, EveryBitFlipAndEveryTruncationIsRefused) {
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  std::shared_ptr<Module> module = loadArtifact(*cpu, "stateful.twa");
  SnapshotKey key = makeKey("tamper");
  SnapshotKeyring ring = ringOf(key);
  RestoreOptions oneThread;
  oneThread.threads = 1;
  for (SnapshotCompression compression :
       {SnapshotCompression::None, SnapshotCompression::Zstd}) {
    std::string original = smallSnapshot(*module, key, compression);
    ASSERT_TRUE(verifySnapshot(original, ring));
    ASSERT_TRUE(restoreSnapshot(*module, original, ring, oneThread));
    size_t accepted = 0, tried = 0;
    for (size_t byte = 0; byte < original.size(); ++byte)
      for (int bit = 0; bit < 8; ++bit) {
        std::string altered = original;
        altered[byte] = static_cast<char>(altered[byte] ^ (1 << bit));
        ++tried;
        if (verifySnapshot(altered, ring) ||
            restoreSnapshot(*module, altered, ring, oneThread))
          ++accepted;
      }
    EXPECT_EQ(accepted, 0u) << "of " << tried << " single-bit flips";
    EXPECT_EQ(tried, original.size() * 8);
    for (size_t length = 0; length < original.size(); ++length) {
      std::string_view cut(original.data(), length);
      EXPECT_FALSE(verifySnapshot(cut, ring)) << "truncated to " << length;
      EXPECT_FALSE(restoreSnapshot(*module, cut, ring, oneThread))
          << "truncated to " << length;
    }
    EXPECT_FALSE(verifySnapshot(original + '\0', ring));
    EXPECT_FALSE(verifySnapshot('\0' + original, ring));
  }
}

TEST(Snapshot, ATailWhoseLengthsWrapIsRefused) {
  // A short file whose tail claims a key id longer than what precedes it,
  // and a data length that makes the sum wrap: refused, not read past.
  std::string shortFile = std::string("TWSNAP\r\n", 8) + std::string(9, '\0');
  std::string tail(64, '\0');
  tail[0] = 64; // key id length
  uint64_t head = 16, data = uint64_t(17) - 64 - 16;
  std::memcpy(&tail[8], &head, 8);
  std::memcpy(&tail[16], &data, 8);
  std::memcpy(&tail[56], "TWSNEND\n", 8);
  Result<SnapshotEnvelope> wrapped = readSnapshotEnvelope(shortFile + tail);
  EXPECT_FALSE(wrapped);
}

TEST(Snapshot, TheKeyDecides) {
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  std::shared_ptr<Module> module = loadArtifact(*cpu, "stateful.twa");
  SnapshotKey key = makeKey("owner");
  std::string bytes = smallSnapshot(*module, key, SnapshotCompression::None);

  Result<SnapshotInfo> unknown = verifySnapshot(bytes, ringOf(makeKey("x")));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::Untrusted);
  EXPECT_NE(unknown.error().message.find("'owner'"), std::string::npos);

  // Another secret under the same id: the HMAC does not verify.
  Result<SnapshotInfo> impostor =
      verifySnapshot(bytes, ringOf(makeKey("owner")));
  ASSERT_FALSE(impostor);
  EXPECT_EQ(impostor.error().code, ErrorCode::Untrusted);
  EXPECT_NE(impostor.error().message.find("does not verify"),
            std::string::npos);

  // Without the key, only the envelope can be read, and it says whose.
  Result<SnapshotEnvelope> envelope = readSnapshotEnvelope(bytes);
  ASSERT_TRUE(envelope) << envelope.error().message;
  EXPECT_EQ(envelope->keyId, "owner");
  EXPECT_EQ(envelope->formatMajor, 1);
}

TEST(Snapshot, AuthenticButUnexpectedContentsAreRefusedOrSkipped) {
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  std::shared_ptr<Module> module = loadArtifact(*cpu, "stateful.twa");
  SnapshotKey key = makeKey("layout");
  SnapshotKeyring ring = ringOf(key);
  std::string bytes = smallSnapshot(*module, key, SnapshotCompression::None);
  ASSERT_TRUE(verifySnapshot(reseal(bytes, key), ring))
      << "resealing as documented changes nothing";

  // A later major version: refused, saying so.
  std::string major = bytes;
  major[8] = 2;
  Result<SnapshotInfo> newer = verifySnapshot(reseal(major, key), ring);
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code, ErrorCode::Unsupported);
  EXPECT_NE(newer.error().message.find("format 2.0"), std::string::npos);

  // A later minor version's skippable section is skipped; one that may not
  // be skipped is refused.
  size_t headBytes = littleEndian(bytes, bytes.size() - 56, 8);
  for (uint32_t flags : {1u, 0u}) {
    std::string extended = bytes;
    extended[10] = 1;                     // minor 1
    extended[12] = 4;                     // four sections
    std::string section("\x09\0\0\0", 4); // kind 9
    section += std::string(reinterpret_cast<const char *>(&flags), 4);
    section += std::string("\x03\0\0\0\0\0\0\0", 8) + "new";
    extended.insert(headBytes, section);
    Result<SnapshotInfo> read =
        verifySnapshot(reseal(extended, key, section.size()), ring);
    if (flags) {
      ASSERT_TRUE(read) << read.error().message;
      EXPECT_EQ(read->formatMinor, 1);
    } else {
      ASSERT_FALSE(read);
      EXPECT_EQ(read.error().code, ErrorCode::Unsupported);
    }
  }
}

TEST(Snapshot, RestoresOnlyIntoItsArtifactForItsTenantAboveTheCounter) {
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  std::shared_ptr<Module> stateful = loadArtifact(*cpu, "stateful.twa");
  std::shared_ptr<Module> other = loadArtifact(*cpu, "runtime-kernels.twa");
  SnapshotKey key = makeKey("binding");
  SnapshotKeyring ring = ringOf(key);
  std::unique_ptr<Instance> instance = instantiate(*stateful);
  SnapshotOptions options;
  options.tenant = "acme";
  options.counter = 5;
  Result<std::string> bytes =
      snapshotInstance(*stateful, *instance, key, options);
  ASSERT_TRUE(bytes);

  Result<std::unique_ptr<Instance>> wrongModule =
      restoreSnapshot(*other, *bytes, ring, {});
  ASSERT_FALSE(wrongModule);
  EXPECT_NE(wrongModule.error().message.find("test/stateful"),
            std::string::npos);

  RestoreOptions tenant;
  tenant.tenant = "globex";
  Result<std::unique_ptr<Instance>> wrongTenant =
      restoreSnapshot(*stateful, *bytes, ring, tenant);
  ASSERT_FALSE(wrongTenant);
  EXPECT_EQ(wrongTenant.error().code, ErrorCode::Untrusted);
  tenant.tenant = "acme";
  EXPECT_TRUE(restoreSnapshot(*stateful, *bytes, ring, tenant));

  RestoreOptions replay;
  replay.minimumCounter = 6;
  Result<std::unique_ptr<Instance>> replayed =
      restoreSnapshot(*stateful, *bytes, ring, replay);
  ASSERT_FALSE(replayed);
  EXPECT_EQ(replayed.error().code, ErrorCode::Untrusted);
  replay.minimumCounter = 5;
  EXPECT_TRUE(restoreSnapshot(*stateful, *bytes, ring, replay));

  // Code loaded without an artifact has nothing to bind to.
  DeviceOptions unsignedOptions;
  unsignedOptions.kind = DeviceKind::Cpu;
  unsignedOptions.allowUnsignedCode = true;
  Result<std::shared_ptr<Device>> development = Device::open(unsignedOptions);
  ASSERT_TRUE(development);
  Result<std::shared_ptr<Module>> raw =
      (*development)->loadModuleFiles(kernelFile("runtime-kernels"));
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_FALSE(restoreSnapshot(**raw, *bytes, ring, {}));
}

//===----------------------------------------------------------------------===//
// Files, the store, keys
//===----------------------------------------------------------------------===//

TEST_F(SnapshotFiles, FilesAreWrittenAtomicallyAndRestoredThroughAMapping) {
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  std::shared_ptr<Module> module = loadArtifact(*cpu, "stateful.twa");
  std::unique_ptr<Instance> instance = makeState(*module, true);
  SnapshotKey key = makeKey("files");
  std::string path = directory + "/state.twsnap";
  ASSERT_TRUE(writeSnapshotFile(path, *module, *instance, key, {}));
  step(*instance, 4096);
  Result<SnapshotInfo> second =
      writeSnapshotFile(path, *module, *instance, key, {});
  ASSERT_TRUE(second) << second.error().message;
  struct stat status;
  ASSERT_EQ(stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
  EXPECT_EQ(uint64_t(status.st_size), second->fileBytes);
  // Only the file itself: no temporary file left behind.
  EXPECT_EQ(
      std::system(("test $(ls -A '" + directory + "' | wc -l) = 1").c_str()),
      0);

  Result<std::unique_ptr<Instance>> restored =
      restoreSnapshotFile(*module, path, ringOf(key), {});
  ASSERT_TRUE(restored) << restored.error().message;
  expectSameState(*module, *instance, *module, **restored);
  Result<SnapshotInfo> verified = verifySnapshotFile(path, ringOf(key));
  ASSERT_TRUE(verified) << verified.error().message;

  EXPECT_FALSE(writeSnapshotFile(directory + "/missing/state.twsnap", *module,
                                 *instance, key, {}));
  Result<std::unique_ptr<Instance>> absent =
      restoreSnapshotFile(*module, directory + "/absent", ringOf(key), {});
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message.find("absent"), std::string::npos);
}

TEST_F(SnapshotFiles, TheStoreRefusesAReplayedOlderSnapshot) {
  std::shared_ptr<Device> cpu = openDevice(DeviceKind::Cpu);
  std::shared_ptr<Module> module = loadArtifact(*cpu, "stateful.twa");
  std::unique_ptr<Instance> instance = makeState(*module, true);
  SnapshotKey key = makeKey("store");
  SnapshotKeyring ring = ringOf(key);
  Result<SnapshotStore> store = SnapshotStore::open(directory + "/store");
  ASSERT_TRUE(store) << store.error().message;

  Result<SnapshotInfo> first = store->save("warm", *module, *instance, key, {});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->metadata.counter, 1u);
  std::string older = tensorwasm::testing::readTestFile(store->pathOf("warm"));
  step(*instance, 4096);
  Result<SnapshotInfo> second =
      store->save("warm", *module, *instance, key, {});
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->metadata.counter, 2u);
  EXPECT_EQ(*store->counter("warm"), 2u);

  SnapshotInfo info;
  Result<std::unique_ptr<Instance>> latest =
      store->restore("warm", *module, ring, {}, &info);
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_EQ(info.metadata.counter, 2u);
  expectSameState(*module, *instance, *module, **latest);
  // Again: restoring the newest snapshot many times is what it is for.
  EXPECT_TRUE(store->restore("warm", *module, ring, {}));

  // Someone puts the older (authentic) snapshot back in its place.
  {
    std::ofstream out(store->pathOf("warm"),
                      std::ios::binary | std::ios::trunc);
    out << older;
  }
  Result<std::unique_ptr<Instance>> replayed =
      store->restore("warm", *module, ring, {});
  ASSERT_FALSE(replayed);
  EXPECT_EQ(replayed.error().code, ErrorCode::Untrusted);
  EXPECT_NE(replayed.error().message.find("replay"), std::string::npos);

  // Another name's newer snapshot put in its place: refused too.
  ASSERT_TRUE(store->save("other", *module, *instance, key, {}));
  {
    std::ofstream out(store->pathOf("warm"),
                      std::ios::binary | std::ios::trunc);
    out << tensorwasm::testing::readTestFile(store->pathOf("other"));
  }
  Result<std::unique_ptr<Instance>> swapped =
      store->restore("warm", *module, ring, {});
  ASSERT_FALSE(swapped);
  EXPECT_EQ(swapped.error().code, ErrorCode::Untrusted);

  // A save that fails changes no counter.
  SnapshotOptions badTenant;
  badTenant.tenant = "has space";
  EXPECT_FALSE(store->save("other", *module, *instance, key, badTenant));
  EXPECT_EQ(*store->counter("other"), 3u);
  EXPECT_TRUE(store->restore("other", *module, ring, {}));

  EXPECT_FALSE(store->save("../escape", *module, *instance, key, {}));
  EXPECT_FALSE(store->restore("never-saved", *module, ring, {}));
  ASSERT_EQ(chmod((directory + "/store").c_str(), 0777), 0);
  Result<SnapshotStore> shared = SnapshotStore::open(directory + "/store");
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code, ErrorCode::Untrusted);
}

TEST_F(SnapshotFiles, KeysArePrivateFilesNeverOverwritten) {
  SnapshotKey key = makeKey("service-1");
  std::string path = directory + "/service.key";
  ASSERT_TRUE(key.writeFile(path));
  struct stat status;
  ASSERT_EQ(stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
  Result<SnapshotKey> read = SnapshotKey::readFile(path);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->id(), "service-1");
  EXPECT_EQ(read->secret(), key.secret());
  EXPECT_FALSE(makeKey("other").writeFile(path)) << "overwrote a key";

  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  Result<SnapshotKey> exposed = SnapshotKey::readFile(path);
  ASSERT_FALSE(exposed);
  EXPECT_EQ(exposed.error().code, ErrorCode::Untrusted);

  EXPECT_FALSE(SnapshotKey::generate(""));
  EXPECT_FALSE(SnapshotKey::generate("has space"));
  EXPECT_FALSE(SnapshotKey::generate(std::string(65, 'k')));
  EXPECT_FALSE(
      SnapshotKey::parse("tensorwasm-snapshot-key 1\nid a\nsecret 00\n"));
  EXPECT_FALSE(SnapshotKey::parse(key.serialize() + "extra\n"));
  SnapshotKeyring ring;
  EXPECT_TRUE(ring.add(key));
  EXPECT_FALSE(ring.add(key)) << "two keys of one id";
}

//===----------------------------------------------------------------------===//
// Golden files: every format version this project ever wrote still reads
//===----------------------------------------------------------------------===//

struct Golden {
  const char *file;
  SnapshotCompression compression;
};

TEST(Snapshot, GoldenFilesOfEveryVersionStillRead) {
  Result<SnapshotKey> key = SnapshotKey::parse(
      tensorwasm::testing::readTestFile(goldenFile("golden.key")));
  ASSERT_TRUE(key) << key.error().message;
  SnapshotKeyring ring = ringOf(*key);
  for (Golden golden :
       {Golden{"v1.0-plain.twsnap", SnapshotCompression::None},
        Golden{"v1.0-zstd.twsnap", SnapshotCompression::Zstd}}) {
    SCOPED_TRACE(golden.file);
    std::string bytes =
        tensorwasm::testing::readTestFile(goldenFile(golden.file));
    Result<SnapshotInfo> info = verifySnapshot(bytes, ring);
    ASSERT_TRUE(info) << info.error().message;
    // What test/data/snapshots/README.md says they hold.
    EXPECT_EQ(info->formatMajor, 1);
    EXPECT_EQ(info->formatMinor, 0);
    EXPECT_EQ(info->compression, golden.compression);
    EXPECT_EQ(info->metadata.artifactName, "test/stateful");
    EXPECT_EQ(info->metadata.tenant, "golden");
    EXPECT_EQ(info->metadata.counter, 3u);
    EXPECT_EQ(info->metadata.device, DeviceKind::Cpu);
    EXPECT_EQ(info->memoryBytes, 16u * 65536);
    const SnapshotGlobal *counter = findGlobal(*info, "counter");
    ASSERT_NE(counter, nullptr);
    EXPECT_EQ(i32Of(*counter), 9);
    const SnapshotGlobal *total = findGlobal(*info, "total");
    ASSERT_NE(total, nullptr);
    int64_t totalValue = 0;
    std::memcpy(&totalValue, total->bytes.data(), 8);
    EXPECT_EQ(totalValue, 2000000000000 - 5);
    Result<std::string> tooLarge =
        readSnapshotMemory(bytes, ring, 16 * 65536 - 1);
    ASSERT_FALSE(tooLarge);
    EXPECT_EQ(tooLarge.error().code, ErrorCode::ResourceExhausted);
    Result<std::string> memory = readSnapshotMemory(bytes, ring, 16 * 65536);
    ASSERT_TRUE(memory) << memory.error().message;
    EXPECT_EQ(memory->substr(3 * 65536, 8192), pattern(8192, 1));
    EXPECT_EQ(memory->substr(3 * 65536 + 8192, 4096), std::string(4096, '\0'));
    EXPECT_EQ(memory->substr(9 * 65536 + 12, 9), "scattered");
    EXPECT_EQ(memory->substr(15 * 65536 + 65530, 3), "end");
    int32_t words[3];
    std::memcpy(words, memory->data() + 4096, sizeof words);
    EXPECT_EQ(words[0], 4);     // the table's function 2, twice
    EXPECT_EQ(words[1], 8 + 9); // the counter after each step
  }
}

} // namespace
