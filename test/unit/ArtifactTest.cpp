//===- ArtifactTest.cpp - signed artifacts: format, tampering, trust ------===//
//
// Every way an artifact can be altered must be refused: each byte and bit
// of a small artifact, each field of its manifest (whose signature then no
// longer verifies), each payload, the signature and the key id; artifacts
// mixed from two versions, signed by an unknown key or a key not allowed
// for the name, expired; manifests that are not in canonical form even
// when signed. The container is assembled here from the specification
// (docs/artifact-format.md), not with the runtime's writer, so the two are
// checked against each other.
//
//===----------------------------------------------------------------------===//

#include "twasm/Artifact.h"
#include "support/Files.h"

#include <gtest/gtest.h>

#include "TestSupport.h"
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <cstdio>
#include <ctime>
#include <functional>

using namespace tensorwasm;
using json = nlohmann::json;

#ifndef TWASM_RUNTIME_TEST_KERNEL_DIR
#error "the build defines TWASM_RUNTIME_TEST_KERNEL_DIR"
#endif

namespace {

std::string kernelFile(const char *name) {
  return tensorwasm::testing::readTestFile(
      std::string(TWASM_RUNTIME_TEST_KERNEL_DIR) + "/" + name);
}

const SigningKey &publisher() {
  static SigningKey key = *SigningKey::generate();
  return key;
}
const SigningKey &stranger() {
  static SigningKey key = *SigningKey::generate();
  return key;
}

/// The publisher may publish under test/.
TrustPolicy policy() {
  TrustPolicy trust;
  EXPECT_TRUE(trust.add(publisher().publicKey(), {"test/*"}));
  return trust;
}

constexpr int64_t kCreated = 1'700'000'000;
constexpr int64_t kExpires = 1'900'000'000;
VerifyOptions at(int64_t now) { return VerifyOptions{now}; }
const VerifyOptions kBeforeExpiry = at(1'800'000'000);

/// A minimal valid Wasm module: what the wasm payload carries.
const std::string kWasm("\0asm\1\0\0\0", 8);

ArtifactContents contents(uint64_t version = 1, bool withGpu = true) {
  ArtifactContents result;
  result.name = "test/kernels";
  result.version = version;
  result.created = kCreated;
  result.expires = kExpires;
  result.wasm = kWasm;
  result.targets.push_back({"host", kernelFile("runtime-kernels.so"),
                            kernelFile("runtime-kernels.json")});
  if (withGpu)
    result.targets.push_back({"sm_90", kernelFile("runtime-kernels-gpu.ptx"),
                              kernelFile("runtime-kernels-gpu.json")});
  return result;
}

std::string build(const ArtifactContents &what = contents()) {
  Result<std::string> bytes = buildArtifact(what, publisher());
  EXPECT_TRUE(bytes) << bytes.error().message;
  return *bytes;
}

std::string littleEndian32(uint32_t value) {
  std::string bytes;
  for (int i = 0; i < 4; ++i)
    bytes.push_back(static_cast<char>(value >> (8 * i)));
  return bytes;
}

std::string sha256(std::string_view bytes) {
  unsigned char digest[32];
  unsigned length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(),
             nullptr);
  return std::string(reinterpret_cast<char *>(digest), length);
}

/// An artifact laid out as docs/artifact-format.md says: the manifest
/// signed by `signer` (whose key id is written unless `keyId` is given).
std::string assemble(const std::string &manifest, const SigningKey &signer,
                     const std::string &payloads,
                     std::optional<std::string> keyId = std::nullopt) {
  std::string message = std::string("TWASM-ARTIFACT-1\0", 17) + manifest;
  std::string file = std::string("\x89TWA\r\n\x1a\n", 8) + littleEndian32(1) +
                     littleEndian32(static_cast<uint32_t>(manifest.size())) +
                     manifest + littleEndian32(1) +
                     keyId.value_or(sha256(signer.publicKey().raw())) +
                     *signer.sign(message) + payloads;
  return file;
}

/// The parts of an artifact built by the runtime.
struct Parts {
  std::string manifest;
  std::string signature;
  std::string payloads;
};
Parts split(const std::string &artifact) {
  uint32_t length = 0;
  for (int i = 3; i >= 0; --i)
    length = (length << 8) | static_cast<unsigned char>(artifact[12 + i]);
  size_t signatureBlock = 16 + length;
  return {artifact.substr(16, length), artifact.substr(signatureBlock, 100),
          artifact.substr(signatureBlock + 100)};
}
std::string join(const Parts &parts) {
  return std::string("\x89TWA\r\n\x1a\n", 8) + littleEndian32(1) +
         littleEndian32(static_cast<uint32_t>(parts.manifest.size())) +
         parts.manifest + parts.signature + parts.payloads;
}

Result<Artifact> verify(std::string bytes,
                        const VerifyOptions &options = kBeforeExpiry) {
  return Artifact::verify(std::move(bytes), policy(), options);
}

/// Every leaf of a JSON document, by its JSON pointer.
void leaves(const json &value, const json::json_pointer &at,
            std::vector<json::json_pointer> &out) {
  if (value.is_object() && !value.empty()) {
    for (auto &[key, child] : value.items())
      leaves(child, at / key, out);
  } else if (value.is_array() && !value.empty()) {
    for (size_t i = 0; i < value.size(); ++i)
      leaves(value[i], at / i, out);
  } else {
    out.push_back(at);
  }
}

/// A different value of the same kind, as a forger would choose.
json altered(const json &value) {
  if (value.is_number_unsigned())
    return value.get<uint64_t>() + 1;
  if (value.is_number_integer())
    return value.get<int64_t>() + 1;
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    if (text.empty())
      return "sm_90";
    text.back() = text.back() == '0' ? '1' : '0';
    return text;
  }
  if (value.is_null())
    return 1;
  return nullptr;
}

} // namespace

TEST(Artifact, BuiltArtifactsVerifyAndDescribeThemselves) {
  std::string bytes = build();
  Result<Artifact> artifact = verify(bytes);
  ASSERT_TRUE(artifact) << artifact.error().message;
  const ArtifactManifest &manifest = artifact->manifest();
  EXPECT_EQ(manifest.name, "test/kernels");
  EXPECT_EQ(manifest.version, 1u);
  EXPECT_EQ(manifest.created, kCreated);
  EXPECT_EQ(manifest.expires, kExpires);
  EXPECT_EQ(manifest.compiler, compilerIdentity());
  ASSERT_EQ(manifest.kernels.size(), 5u);
  EXPECT_EQ(manifest.kernels[0].name, "scale");
  EXPECT_EQ(manifest.kernels[0].params,
            std::vector<ValueType>(4, ValueType::I32));
  ASSERT_TRUE(manifest.memory);
  EXPECT_EQ(manifest.payloads.size(), 5u);
  EXPECT_EQ(artifact->signerKeyId(), publisher().publicKey().keyId());
  EXPECT_EQ(artifact->digest().size(), 64u);
  EXPECT_EQ(artifact->bytes(), bytes);
  EXPECT_EQ(artifact->payload("wasm", ""), kWasm);
  EXPECT_EQ(artifact->payload("code", "host"),
            kernelFile("runtime-kernels.so"));
  EXPECT_EQ(artifact->payload("kernel-manifest", "sm_90"),
            kernelFile("runtime-kernels-gpu.json"));
  EXPECT_EQ(artifact->payload("code", "sm_80"), std::nullopt);
  // The manifest is the canonical encoding of what it says.
  EXPECT_EQ(manifest.serialize(), split(bytes).manifest);

  // Devices take their own target, or on a GPU the newest PTX not newer.
  EXPECT_EQ(artifact->targetFor("host"), "host");
  EXPECT_EQ(artifact->targetFor("sm_90"), "sm_90");
  EXPECT_EQ(artifact->targetFor("sm_100"), "sm_90");
  EXPECT_EQ(artifact->targetFor("sm_80"), std::nullopt);
}

TEST(Artifact, EveryBitFlipAndEveryTruncationIsRejected) {
  // A small artifact (host code only), so that every bit can be tried.
  std::string bytes = build(contents(1, /*withGpu=*/false));
  ASSERT_TRUE(verify(bytes));
  size_t accepted = 0;
  for (size_t i = 0; i < bytes.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = bytes;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      if (verify(std::move(tampered))) {
        ++accepted;
        ADD_FAILURE() << "bit " << bit << " of byte " << i << " flipped";
      }
    }
  for (size_t length = 0; length < bytes.size(); ++length)
    if (verify(bytes.substr(0, length))) {
      ++accepted;
      ADD_FAILURE() << "truncated to " << length << " bytes";
    }
  EXPECT_FALSE(verify(bytes + '\0'));
  EXPECT_FALSE(verify(bytes + bytes));
  EXPECT_EQ(accepted, 0u) << "of " << bytes.size() * 9 << " alterations";
}

TEST(Artifact, EveryManifestFieldIsCoveredByTheSignature) {
  std::string bytes = build();
  Parts parts = split(bytes);
  json manifest = json::parse(parts.manifest);
  std::vector<json::json_pointer> fields;
  leaves(manifest, json::json_pointer(), fields);
  ASSERT_GT(fields.size(), 30u);
  for (const json::json_pointer &field : fields) {
    json forged = manifest;
    forged[field] = altered(forged[field]);
    Parts tampered = parts;
    tampered.manifest = forged.dump();
    ASSERT_NE(tampered.manifest, parts.manifest) << field.to_string();
    Result<Artifact> result = verify(join(tampered));
    ASSERT_FALSE(result) << field.to_string() << " altered and accepted";
    EXPECT_EQ(result.error().code, ErrorCode::Untrusted) << field.to_string();
    EXPECT_NE(result.error().message.find("does not verify"), std::string::npos)
        << field.to_string() << ": " << result.error().message;
  }
}

TEST(Artifact, AlteredManifestsNeedATrustedKeyAllowedForTheName) {
  Parts parts = split(build());
  json manifest = json::parse(parts.manifest);
  manifest["version"] = 2;

  // Re-signed by a key the policy does not know.
  Result<Artifact> unknown =
      verify(assemble(manifest.dump(), stranger(), parts.payloads));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::Untrusted);
  EXPECT_NE(unknown.error().message.find(stranger().publicKey().keyId()),
            std::string::npos)
      << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("does not know"), std::string::npos);

  // Signed by a trusted key, but for a name outside its patterns.
  manifest["name"] = "other/kernels";
  Result<Artifact> notAllowed =
      verify(assemble(manifest.dump(), publisher(), parts.payloads));
  ASSERT_FALSE(notAllowed);
  EXPECT_EQ(notAllowed.error().code, ErrorCode::Untrusted);
  EXPECT_NE(notAllowed.error().message.find("may not publish 'other/kernels'"),
            std::string::npos)
      << notAllowed.error().message;

  // The same artifact is fine where the policy allows that name.
  TrustPolicy wider = policy();
  ASSERT_TRUE(wider.add(publisher().publicKey(), {"test/*", "other/*"}));
  EXPECT_TRUE(
      Artifact::verify(assemble(manifest.dump(), publisher(), parts.payloads),
                       wider, kBeforeExpiry));
}

TEST(Artifact, SignatureAndKeyIdAreChecked) {
  std::string bytes = build();
  Parts parts = split(bytes);
  // The signature's 64 bytes follow the count and the key id.
  for (size_t i = 36; i < 100; i += 7) {
    Parts tampered = parts;
    tampered.signature[i] = static_cast<char>(tampered.signature[i] ^ 0x40);
    Result<Artifact> result = verify(join(tampered));
    ASSERT_FALSE(result) << "signature byte " << i - 36;
    EXPECT_NE(result.error().message.find("does not verify"),
              std::string::npos);
  }
  // The key id of another trusted key: its key does not verify it.
  TrustPolicy both = policy();
  ASSERT_TRUE(both.add(stranger().publicKey(), {"test/*"}));
  Parts otherKey = parts;
  otherKey.signature.replace(4, 32, sha256(stranger().publicKey().raw()));
  Result<Artifact> swapped =
      Artifact::verify(join(otherKey), both, kBeforeExpiry);
  ASSERT_FALSE(swapped);
  EXPECT_NE(swapped.error().message.find("does not verify"), std::string::npos);
  // Two signatures are not format 1.
  Parts twice = parts;
  twice.signature[0] = 2;
  EXPECT_FALSE(verify(join(twice)));
}

TEST(Artifact, PayloadsAreBoundToTheirManifest) {
  ArtifactContents first = contents(1), second = contents(2);
  second.targets[0].code += "changed";
  Parts one = split(build(first)), two = split(build(second));

  // Each payload altered in turn.
  Result<Artifact> whole = verify(join(one));
  ASSERT_TRUE(whole);
  size_t offset = 0;
  for (const PayloadEntry &entry : whole->manifest().payloads) {
    Parts tampered = one;
    tampered.payloads[offset + entry.size / 2] ^= 1;
    Result<Artifact> result = verify(join(tampered));
    ASSERT_FALSE(result) << entry.kind << " " << entry.target;
    EXPECT_NE(result.error().message.find("payload '" + entry.kind),
              std::string::npos)
        << result.error().message;
    offset += entry.size;
  }
  // Mix and match: version 2's signed manifest with version 1's payloads,
  // and the other way round.
  EXPECT_FALSE(verify(join({two.manifest, two.signature, one.payloads})));
  EXPECT_FALSE(verify(join({one.manifest, one.signature, two.payloads})));
  // The same payloads in another order.
  Parts reordered = one;
  reordered.payloads = one.payloads.substr(kWasm.size()) + kWasm;
  EXPECT_FALSE(verify(join(reordered)));
}

TEST(Artifact, VerificationPrecedesParsing) {
  // A manifest that is not JSON at all: what the verifier says shows what
  // it looked at. Without a known key, or with a bad signature, it never
  // reads the manifest; only a good signature gets it parsed.
  std::string notJson = "{ this is not json";
  Result<Artifact> unknownKey =
      verify(assemble(notJson, stranger(), std::string()));
  ASSERT_FALSE(unknownKey);
  EXPECT_EQ(unknownKey.error().code, ErrorCode::Untrusted);

  Parts badSignature = split(assemble(notJson, publisher(), std::string()));
  badSignature.signature[50] ^= 1;
  Result<Artifact> unsigned_ = verify(join(badSignature));
  ASSERT_FALSE(unsigned_);
  EXPECT_EQ(unsigned_.error().code, ErrorCode::Untrusted);
  EXPECT_NE(unsigned_.error().message.find("does not verify"),
            std::string::npos);

  Result<Artifact> parsed =
      verify(assemble(notJson, publisher(), std::string()));
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::InvalidModule);
  EXPECT_NE(parsed.error().message.find("not JSON"), std::string::npos)
      << parsed.error().message;

  // Likewise payloads: a payload that would not load is refused for its
  // digest before any loader sees it.
  Parts parts = split(build());
  parts.payloads.replace(kWasm.size(), 4, "JUNK");
  Result<Artifact> junk = verify(join(parts));
  ASSERT_FALSE(junk);
  EXPECT_NE(junk.error().message.find("does not match its digest"),
            std::string::npos);
}

TEST(Artifact, ManifestsMustBeCanonicalEvenWhenSigned) {
  Parts parts = split(build());
  std::string canonical = parts.manifest;
  json manifest = json::parse(canonical);
  std::vector<std::string> variants = {
      manifest.dump(1),                         // whitespace
      " " + canonical,                          // leading blank
      R"({"version":1,)" + canonical.substr(1), // a duplicate key
  };
  std::string escaped = canonical;
  escaped.replace(escaped.find("test/kernels"), 4, "\\u0074est");
  variants.push_back(escaped); // a needless escape
  std::string reordered = canonical;
  std::string version = R"(,"version":1})";
  ASSERT_EQ(reordered.substr(reordered.size() - version.size()), version);
  reordered = R"({"version":1,)" +
              reordered.substr(1, reordered.size() - version.size() - 1) + "}";
  variants.push_back(reordered); // keys out of order
  std::string decimal = canonical;
  decimal.replace(decimal.rfind(R"("version":1)"), 11, R"("version":1.0)");
  variants.push_back(decimal); // a number's form
  for (const std::string &variant : variants) {
    ASSERT_NE(variant, canonical);
    Result<Artifact> result =
        verify(assemble(variant, publisher(), parts.payloads));
    ASSERT_FALSE(result) << variant.substr(0, 200);
    EXPECT_EQ(result.error().code, ErrorCode::InvalidModule)
        << variant.substr(0, 200);
  }
  // And the canonical one, signed the same way, verifies.
  EXPECT_TRUE(verify(assemble(canonical, publisher(), parts.payloads)));
}

TEST(Artifact, ExpiryIsChecked) {
  std::string bytes = build();
  EXPECT_TRUE(verify(bytes, at(kExpires - 1)));
  Result<Artifact> expired = verify(bytes, at(kExpires));
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, ErrorCode::Untrusted);
  EXPECT_NE(expired.error().message.find("expired at 2030-03-17T17:46:40Z"),
            std::string::npos)
      << expired.error().message;
  ArtifactContents backwards = contents();
  backwards.expires = backwards.created;
  EXPECT_FALSE(buildArtifact(backwards, publisher()));
}

TEST(Artifact, ContainerFieldsAreChecked) {
  std::string bytes = build();
  std::string otherFormat = bytes;
  otherFormat[8] = 2;
  Result<Artifact> format = verify(otherFormat);
  ASSERT_FALSE(format);
  EXPECT_EQ(format.error().code, ErrorCode::Unsupported);
  EXPECT_NE(format.error().message.find("format 2"), std::string::npos);
  Result<Artifact> magic = verify("PK\3\4 not an artifact at all");
  ASSERT_FALSE(magic);
  EXPECT_NE(magic.error().message.find("bad magic"), std::string::npos);
  std::string huge = bytes;
  huge.replace(12, 4, littleEndian32(0x7fffffff));
  EXPECT_FALSE(verify(huge));
}

TEST(Artifact, NamesAndPatterns) {
  for (const char *name : {"a", "acme/saxpy", "acme/team/saxpy-2.1_x", "0"})
    EXPECT_TRUE(checkArtifactName(name)) << name;
  for (const char *name :
       {"", "Acme/x", "/x", "x/", "a//b", "-a", "a/.b", "a b", "a/*"})
    EXPECT_FALSE(checkArtifactName(name)) << name;
  EXPECT_FALSE(checkArtifactName(std::string(129, 'a')));
  for (const char *pattern : {"*", "acme/*", "acme/saxpy"})
    EXPECT_TRUE(checkNamePattern(pattern)) << pattern;
  for (const char *pattern : {"", "acme*", "*/x", "acme/*/x", "/*"})
    EXPECT_FALSE(checkNamePattern(pattern)) << pattern;

  TrustPolicy trust;
  const std::string &id = publisher().publicKey().keyId();
  ASSERT_TRUE(trust.add(publisher().publicKey(), {"acme/*", "solo"}));
  EXPECT_TRUE(trust.allows(id, "acme/x"));
  EXPECT_TRUE(trust.allows(id, "acme/x/y"));
  EXPECT_TRUE(trust.allows(id, "solo"));
  EXPECT_FALSE(trust.allows(id, "acme"));
  EXPECT_FALSE(trust.allows(id, "acmex/y"));
  EXPECT_FALSE(trust.allows(id, "solo/x"));
  EXPECT_FALSE(trust.allows(stranger().publicKey().keyId(), "acme/x"));
  EXPECT_FALSE(trust.add(stranger().publicKey(), {}));
  EXPECT_FALSE(trust.add(stranger().publicKey(), {"acme*"}));
}

TEST(Artifact, KeysAndPoliciesRoundTrip) {
  Result<SigningKey> again = SigningKey::fromPem(publisher().privatePem());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->publicKey().keyId(), publisher().publicKey().keyId());
  Result<PublicKey> publicKey =
      PublicKey::fromPem(publisher().publicKey().pem());
  ASSERT_TRUE(publicKey) << publicKey.error().message;
  EXPECT_EQ(publicKey->raw(), publisher().publicKey().raw());
  EXPECT_FALSE(PublicKey::fromPem(publisher().privatePem()));
  EXPECT_FALSE(SigningKey::fromPem(publisher().publicKey().pem()));
  EXPECT_FALSE(SigningKey::fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n"));

  // Signatures are Ed25519: another implementation's key checks ours.
  Result<std::string> signature = publisher().sign("message");
  ASSERT_TRUE(signature);
  EXPECT_TRUE(publisher().publicKey().verifies("message", *signature));
  EXPECT_FALSE(publisher().publicKey().verifies("massage", *signature));
  EXPECT_FALSE(stranger().publicKey().verifies("message", *signature));

  TrustPolicy trust = policy();
  ASSERT_TRUE(trust.add(stranger().publicKey(), {"x/*", "*"}));
  Result<TrustPolicy> reread = TrustPolicy::parse(trust.serialize());
  ASSERT_TRUE(reread) << reread.error().message;
  EXPECT_EQ(reread->serialize(), trust.serialize());
  EXPECT_TRUE(reread->allows(stranger().publicKey().keyId(), "any"));
  ASSERT_TRUE(trust.remove(stranger().publicKey().keyId()));
  EXPECT_FALSE(trust.allows(stranger().publicKey().keyId(), "any"));

  // A policy whose key id is not its key's is refused.
  json document = json::parse(policy().serialize());
  document["keys"][0]["key_id"] = std::string(64, 'a');
  EXPECT_FALSE(TrustPolicy::parse(document.dump()));
  EXPECT_FALSE(TrustPolicy::parse("[]"));
  EXPECT_FALSE(TrustPolicy::parse("{\"format\":1}"));
}

TEST(Artifact, DevicesLoadVerifiedCodeAndRefuseUnsignedCode) {
  auto device = Device::open({DeviceKind::Cpu, 1});
  ASSERT_TRUE(device) << device.error().message;
  Result<Artifact> artifact = verify(build());
  ASSERT_TRUE(artifact) << artifact.error().message;
  auto module = (*device)->loadArtifact(*artifact);
  ASSERT_TRUE(module) << module.error().message;
  auto instance = (*module)->instantiate();
  ASSERT_TRUE(instance) << instance.error().message;
  int32_t input[4] = {1, 2, 3, 4}, output[4] = {};
  ASSERT_TRUE((*instance)->write(1024, input, sizeof input));
  LaunchOptions launch;
  launch.block = {4};
  auto result = (*instance)->launch(
      "scale", launch,
      {Value::i32(4), Value::i32(10), Value::i32(1024), Value::i32(2048)});
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_TRUE((*instance)->read(2048, output, sizeof output));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(output[i], input[i] * 10 + i);

  // Unsigned code needs the development flag.
  auto refused = (*device)->loadModule(kernelFile("runtime-kernels.so"),
                                       kernelFile("runtime-kernels.json"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::Untrusted);
  EXPECT_NE(refused.error().message.find("allowUnsignedCode"),
            std::string::npos);

  // An artifact without code for this device says what it has.
  ArtifactContents gpuOnly = contents();
  gpuOnly.targets.erase(gpuOnly.targets.begin());
  Result<Artifact> ptxOnly = verify(build(gpuOnly));
  ASSERT_TRUE(ptxOnly) << ptxOnly.error().message;
  auto wrongTarget = (*device)->loadArtifact(*ptxOnly);
  ASSERT_FALSE(wrongTarget);
  EXPECT_NE(wrongTarget.error().message.find("has code for sm_90"),
            std::string::npos)
      << wrongTarget.error().message;
}

TEST(Artifact, TheSignedKernelListMustMatchTheCode) {
  // A publisher's artifact whose signed manifest lists other kernels than
  // its code declares: well signed, and still refused by the loader.
  Parts parts = split(build(contents(1, /*withGpu=*/false)));
  json manifest = json::parse(parts.manifest);
  manifest["kernels"][0]["name"] = "renamed";
  Result<Artifact> artifact =
      verify(assemble(manifest.dump(), publisher(), parts.payloads));
  ASSERT_TRUE(artifact) << artifact.error().message;
  auto device = Device::open({DeviceKind::Cpu, 1});
  ASSERT_TRUE(device);
  auto module = (*device)->loadArtifact(*artifact);
  ASSERT_FALSE(module);
  EXPECT_NE(module.error().message.find("other kernels"), std::string::npos)
      << module.error().message;

  // The writer refuses targets that disagree in the first place.
  ArtifactContents disagreeing = contents();
  disagreeing.targets[1].kernelManifest = kernelFile("runtime-kernels.json");
  EXPECT_FALSE(buildArtifact(disagreeing, publisher()));
}
