//===- TenancyTest.cpp - capability tokens, quotas and hostile tenants ----===//
//
// What include/twasm/Tenancy.h promises: capability tokens are PASETO
// v4.public tokens (checked against the specification's own test vectors),
// any alteration of one is refused, a token covers exactly the operations
// and kernels it names for exactly its tenant and validity period, revoked
// tokens stop working at once; each tenant is held to its quota and a
// refusal is that tenant's alone; and hostile tenants (endless kernels, trap
// storms, out-of-bounds accesses, memory bombs, huge grids) running beside
// well-behaved ones leave the well-behaved ones' results correct.
//
// On the cpu device by default (CI), or with TWASM_TEST_DEVICE=cuda on a
// GPU (TWASM_TEST_KERNEL_DIR then names where the signed test kernels are).
//
//===----------------------------------------------------------------------===//

#include "twasm/Tenancy.h"
#include "TestSupport.h"
#include "cuda/MockDriver.h"
#include "tenant/Paseto.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

using namespace tensorwasm;
using namespace std::chrono_literals;
using tensorwasm::testing::readTestFile;
using tensorwasm::testing::TemporaryDirectory;

#ifndef TWASM_RUNTIME_TEST_KERNEL_DIR
#error "the build defines TWASM_RUNTIME_TEST_KERNEL_DIR"
#endif
#ifndef TWASM_PASETO_VECTORS
#error "the build defines TWASM_PASETO_VECTORS"
#endif

namespace {

constexpr int64_t kNow = 1796000000; // 2026-11-29

std::string kernelFile(const std::string &name) {
  const char *moved = std::getenv("TWASM_TEST_KERNEL_DIR");
  return std::string(moved ? moved : TWASM_RUNTIME_TEST_KERNEL_DIR) + "/" +
         name;
}

DeviceKind testedKind() {
  const char *name = std::getenv("TWASM_TEST_DEVICE");
  std::optional<DeviceKind> kind = parseDeviceKind(name ? name : "cpu");
  return kind && *kind != DeviceKind::Auto ? *kind : DeviceKind::Cpu;
}

SigningKey newKey() {
  Result<SigningKey> key = SigningKey::generate();
  if (!key)
    throw std::runtime_error(key.error().message);
  return *key;
}

CapabilityClaims claimsFor(std::string tenant, std::vector<Operation> ops,
                           std::vector<std::string> kernels) {
  CapabilityClaims claims;
  claims.tenant = std::move(tenant);
  claims.operations = std::move(ops);
  claims.kernels = std::move(kernels);
  claims.issuedAt = kNow - 60;
  claims.notBefore = kNow - 60;
  claims.expires = kNow + 3600;
  return claims;
}

std::string issue(const SigningKey &issuer, const CapabilityClaims &claims) {
  Result<std::string> token = issueCapability(issuer, claims);
  EXPECT_TRUE(token) << token.error().message;
  return token ? *token : "";
}

//===----------------------------------------------------------------------===//
// PASETO
//===----------------------------------------------------------------------===//

TEST(PasetoV4Public, TheSpecificationsVectorsSignAndVerifyExactly) {
  // TWASM_PASETO_VECTORS in the environment: where a bundle carried them.
  const char *moved = std::getenv("TWASM_PASETO_VECTORS");
  nlohmann::json vectors =
      nlohmann::json::parse(readTestFile(moved ? moved : TWASM_PASETO_VECTORS));
  size_t checked = 0;
  for (const nlohmann::json &vector : vectors["tests"]) {
    SCOPED_TRACE(vector["name"].get<std::string>());
    auto raw = files::fromHex(vector["public-key"].get<std::string>());
    ASSERT_TRUE(raw);
    Result<PublicKey> key = PublicKey::fromRaw(*raw);
    ASSERT_TRUE(key) << key.error().message;
    std::string token = vector["token"], footer = vector["footer"],
                assertion = vector["implicit-assertion"];
    Result<std::string> verified =
        paseto::verifyV4Public(*key, token, footer, assertion);
    if (vector["expect-fail"].get<bool>()) {
      EXPECT_FALSE(verified);
    } else {
      ASSERT_TRUE(verified) << verified.error().message;
      EXPECT_EQ(*verified, vector["payload"].get<std::string>());
      // Ed25519 is deterministic: signing the payload again gives the
      // vector's token byte for byte.
      Result<SigningKey> secret =
          SigningKey::fromPem(vector["secret-key-pem"].get<std::string>());
      ASSERT_TRUE(secret) << secret.error().message;
      Result<std::string> signedAgain = paseto::signV4Public(
          *secret, vector["payload"].get<std::string>(), footer, assertion);
      ASSERT_TRUE(signedAgain);
      EXPECT_EQ(*signedAgain, token);
      // The same token with another implicit assertion does not verify.
      EXPECT_FALSE(
          paseto::verifyV4Public(*key, token, footer, assertion + "x"));
    }
    ++checked;
  }
  EXPECT_EQ(checked, 6u);
}

TEST(PasetoV4Public, Base64UrlHasExactlyOneSpellingPerByteString) {
  std::string bytes;
  for (int length = 0; length < 70; ++length) {
    std::string encoded = paseto::base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find_first_of("=+/"), std::string::npos);
    std::optional<std::string> decoded = paseto::base64UrlDecode(encoded);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(length * 37 + 11));
  }
  EXPECT_EQ(paseto::base64UrlDecode("Zg"), std::string("f"));
  EXPECT_FALSE(paseto::base64UrlDecode("Zh"));    // unused bits set
  EXPECT_FALSE(paseto::base64UrlDecode("Zg=="));  // padding
  EXPECT_FALSE(paseto::base64UrlDecode("Z+8v"));  // the other alphabet
  EXPECT_FALSE(paseto::base64UrlDecode("Zm9vY")); // 1 mod 4
}

//===----------------------------------------------------------------------===//
// Capability tokens
//===----------------------------------------------------------------------===//

TEST(Capability, AChangeToAnyCharacterOrATruncationIsRefused) {
  SigningKey issuer = newKey();
  CapabilityVerifier verifier;
  verifier.trustIssuer(issuer.publicKey());
  std::string token = issue(
      issuer, claimsFor("acme", {Operation::Launch}, {"test/runtime-kernels"}));
  ASSERT_TRUE(verifier.verify(token, kNow));
  for (size_t i = 0; i < token.size(); ++i) {
    for (char replacement : {'A', 'z', '_', '.'}) {
      if (token[i] == replacement)
        continue;
      std::string altered = token;
      altered[i] = replacement;
      Result<Capability> result = verifier.verify(altered, kNow);
      ASSERT_FALSE(result) << "changing character " << i << " to '"
                           << replacement << "' was accepted";
      EXPECT_EQ(result.error().code, ErrorCode::Untrusted);
    }
  }
  for (size_t length = 0; length < token.size(); ++length)
    ASSERT_FALSE(verifier.verify(token.substr(0, length), kNow))
        << "a token cut to " << length << " characters was accepted";
}

TEST(Capability, OnlyTrustedIssuersAndThisUseVerify) {
  SigningKey issuer = newKey(), stranger = newKey();
  CapabilityVerifier verifier;
  verifier.trustIssuer(issuer.publicKey());
  CapabilityClaims claims =
      claimsFor("acme", {Operation::Launch}, {"test/runtime-kernels"});
  Result<Capability> fromStranger =
      verifier.verify(issue(stranger, claims), kNow);
  ASSERT_FALSE(fromStranger);
  EXPECT_NE(fromStranger.error().message.find("not trusted"),
            std::string::npos);

  // The issuer's key signing the same claims for another use (another
  // implicit assertion) does not make a capability.
  std::string footer = "{\"kid\":\"" + issuer.publicKey().keyId() + "\"}";
  std::string message =
      "{\"exp\":\"2027-01-01T00:00:00+00:00\",\"iat\":\"2026-01-01T00:00:00+"
      "00:00\",\"jti\":\"x\",\"kernels\":[\"*\"],\"nbf\":\"2026-01-01T00:00:"
      "00+00:00\",\"ops\":[\"launch\"],\"sub\":\"acme\"}";
  Result<std::string> otherUse =
      paseto::signV4Public(issuer, message, footer, "another service");
  ASSERT_TRUE(otherUse);
  EXPECT_FALSE(verifier.verify(*otherUse, kNow));
  // With the right assertion the same message verifies, so the refusal
  // above was for the assertion alone.
  Result<std::string> rightUse =
      paseto::signV4Public(issuer, message, footer, "tensorwasm capability 1");
  ASSERT_TRUE(rightUse);
  EXPECT_TRUE(verifier.verify(*rightUse, kNow));
  // A claim this version does not know is refused, not ignored.
  std::string extra = message;
  extra.insert(1, "\"ip\":\"10.0.0.1\",");
  Result<std::string> unknownClaim =
      paseto::signV4Public(issuer, extra, footer, "tensorwasm capability 1");
  ASSERT_TRUE(unknownClaim);
  Result<Capability> refused = verifier.verify(*unknownClaim, kNow);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("unknown claim 'ip'"),
            std::string::npos);
}

TEST(Capability, ClaimsThatMeanNothingAreNotIssued) {
  SigningKey issuer = newKey();
  auto refused = [&](CapabilityClaims claims) {
    return !issueCapability(issuer, claims);
  };
  CapabilityClaims good =
      claimsFor("acme", {Operation::Launch}, {"test/runtime-kernels"});
  EXPECT_FALSE(refused(good));
  CapabilityClaims c = good;
  c.tenant = "no spaces";
  EXPECT_TRUE(refused(c));
  c = good;
  c.operations.clear();
  EXPECT_TRUE(refused(c));
  c = good;
  c.operations = {Operation::Launch, Operation::Launch};
  EXPECT_TRUE(refused(c));
  c = good;
  c.kernels = {"Bad Name"};
  EXPECT_TRUE(refused(c));
  c = good;
  c.kernels = {"sha256:1234"};
  EXPECT_TRUE(refused(c));
  c = good;
  c.kernels = {"test/runtime-kernels#"};
  EXPECT_TRUE(refused(c));
  c = good;
  c.expires = c.notBefore;
  EXPECT_TRUE(refused(c));
}

TEST(Capability, ValidOnlyInItsPeriodAndUntilRevoked) {
  SigningKey issuer = newKey();
  CapabilityVerifier verifier;
  verifier.trustIssuer(issuer.publicKey());
  CapabilityClaims claims =
      claimsFor("acme", {Operation::Launch}, {"test/runtime-kernels"});
  claims.tokenId = "token-1";
  std::string token = issue(issuer, claims);
  EXPECT_FALSE(verifier.verify(token, claims.notBefore - 1));
  EXPECT_TRUE(verifier.verify(token, claims.notBefore));
  EXPECT_TRUE(verifier.verify(token, claims.expires - 1));
  Result<Capability> late = verifier.verify(token, claims.expires);
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  // Issued in the future: it would escape revocations by issue time.
  CapabilityClaims ahead = claims;
  ahead.issuedAt = kNow + 3600;
  Result<Capability> future = verifier.verify(issue(issuer, ahead), kNow);
  ASSERT_FALSE(future);
  EXPECT_NE(future.error().message.find("in the future"), std::string::npos);

  RevocationList revocations;
  revocations.revokeToken("token-1");
  verifier.setRevocations(revocations);
  EXPECT_FALSE(verifier.verify(token, kNow));
  // Revoking a tenant's tokens issued before a time spares later ones.
  CapabilityClaims later = claims;
  later.tokenId = "token-2";
  later.issuedAt = later.notBefore = kNow;
  std::string laterToken = issue(issuer, later);
  claims.tokenId = "token-3";
  std::string earlierToken = issue(issuer, claims);
  RevocationList byTenant;
  byTenant.revokeTenantBefore("acme", kNow);
  verifier.setRevocations(byTenant);
  EXPECT_FALSE(verifier.verify(earlierToken, kNow));
  EXPECT_TRUE(verifier.verify(laterToken, kNow));

  // The list survives its file, and a damaged file is an error.
  TemporaryDirectory directory;
  std::string path = directory.str() + "/revoked.json";
  Result<RevocationList> missing = RevocationList::readFile(path);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->revoked("acme", "token-1", 0));
  revocations.revokeTenantBefore("acme", kNow);
  ASSERT_TRUE(revocations.writeFile(path));
  Result<RevocationList> read = RevocationList::readFile(path);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->serialize(), revocations.serialize());
  EXPECT_TRUE(read->revoked("acme", "token-1", kNow));
  EXPECT_TRUE(read->revoked("acme", "other", kNow - 1));
  EXPECT_FALSE(read->revoked("acme", "other", kNow));
  EXPECT_FALSE(RevocationList::parse("{\"tokens\": [1], \"tenants\": {}}"));
  EXPECT_FALSE(RevocationList::parse("[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]"
                                     "]]]]]]]]]]]]]"));
}

//===----------------------------------------------------------------------===//
// The gateway
//===----------------------------------------------------------------------===//

class Gateway : public ::testing::Test {
protected:
  void SetUp() override {
    DeviceOptions options;
    options.kind = testedKind();
    options.cpuWorkers = 2;
    // On a GPU, TWASM_TEST_MEMORY=device runs every test with linear
    // memory in device memory (from the device's stream-ordered pool).
    const char *memory = std::getenv("TWASM_TEST_MEMORY");
    options.memory = memory && std::string(memory) == "device"
                         ? MemoryMode::Device
                         : MemoryMode::Managed;
    Result<std::shared_ptr<Device>> opened = Device::open(options);
    ASSERT_TRUE(opened) << opened.error().message;
    device = *opened;
    Result<Registry> opened_registry = Registry::open(directory.str() + "/r");
    ASSERT_TRUE(opened_registry) << opened_registry.error().message;
    Result<PublicKey> publisher =
        PublicKey::readFile(kernelFile("test-publisher.pub"));
    ASSERT_TRUE(publisher) << publisher.error().message;
    ASSERT_TRUE(opened_registry->updateTrust(
        [&](TrustPolicy &trust) { return trust.add(*publisher, {"test/*"}); }));
    for (const char *file : {"runtime-kernels.twa", "stateful.twa"}) {
      Result<RegistryEntry> pushed =
          opened_registry->push(readTestFile(kernelFile(file)));
      ASSERT_TRUE(pushed) << pushed.error().message;
      digests[pushed->name] = pushed->digest;
    }
    registry = *opened_registry;
    CapabilityVerifier verifier;
    verifier.trustIssuer(issuer.publicKey());
    GatewayOptions gatewayOptions;
    gatewayOptions.clock = [this] { return clock.load(); };
    gateway = TenantGateway::create(device, *opened_registry, verifier,
                                    gatewayOptions);
  }

  Capability capability(const std::string &tenant, std::vector<Operation> ops,
                        std::vector<std::string> kernels,
                        std::string tokenId = {}) {
    CapabilityClaims claims =
        claimsFor(tenant, std::move(ops), std::move(kernels));
    claims.tokenId = std::move(tokenId);
    Result<Capability> verified = gateway->authenticate(issue(issuer, claims));
    if (!verified)
      throw std::runtime_error(verified.error().message);
    return *verified;
  }
  /// The gateway again, each tenant on a mock GPU device of its own, in
  /// device memory, on groups of `smGroupSize` SMs (0: the whole GPU).
  void useTenantMockDevices(unsigned smGroupSize = 0) {
    cuda::mock::reset();
    CapabilityVerifier verifier;
    verifier.trustIssuer(issuer.publicKey());
    GatewayOptions options;
    options.clock = [this] { return clock.load(); };
    DeviceOptions perTenant;
    perTenant.kind = DeviceKind::Mock;
    perTenant.memory = MemoryMode::Device;
    perTenant.cubinCache = "none";
    perTenant.gpuSmGroupSize = smGroupSize;
    options.tenantDevices = perTenant;
    gateway = TenantGateway::create(device, *registry, verifier, options);
  }

  /// A tenant that may instantiate and launch everything in test/.
  Capability everything(const std::string &tenant) {
    return capability(tenant, {Operation::Instantiate, Operation::Launch},
                      {"test/*"});
  }

  std::unique_ptr<TenantInstance> instantiate(const Capability &caller,
                                              const std::string &reference) {
    Result<std::unique_ptr<TenantInstance>> instance =
        gateway->instantiate(caller, reference);
    EXPECT_TRUE(instance) << instance.error().message;
    return instance ? std::move(*instance) : nullptr;
  }

  /// Runs `scale` over `n` elements and checks every result:
  /// out[i] = in[i] * 3 + i.
  ::testing::AssertionResult scaleIsCorrect(TenantInstance &instance,
                                            const Capability &caller,
                                            uint32_t n, int32_t seed) {
    std::vector<int32_t> input(n), output(n);
    for (uint32_t i = 0; i < n; ++i)
      input[i] = seed + static_cast<int32_t>(i) * 7;
    if (Status status = instance.write(caller, 0, input.data(), n * 4); !status)
      return ::testing::AssertionFailure() << status.error().message;
    LaunchOptions options;
    options.grid = {(n + 63) / 64};
    options.block = {64};
    Result<LaunchResult> result = instance.launch(
        caller, "scale", options,
        {Value::i32(static_cast<int32_t>(n)), Value::i32(3), Value::i32(0),
         Value::i32(static_cast<int32_t>(n * 4))});
    if (!result)
      return ::testing::AssertionFailure() << result.error().message;
    if (result->outcome != LaunchResult::Outcome::Completed)
      return ::testing::AssertionFailure() << "the launch did not complete";
    if (Status status = instance.read(caller, n * 4, output.data(), n * 4);
        !status)
      return ::testing::AssertionFailure() << status.error().message;
    for (uint32_t i = 0; i < n; ++i)
      if (output[i] != input[i] * 3 + static_cast<int32_t>(i))
        return ::testing::AssertionFailure()
               << "element " << i << " is " << output[i];
    return ::testing::AssertionSuccess();
  }

  TemporaryDirectory directory;
  SigningKey issuer = newKey();
  std::atomic<int64_t> clock{kNow};
  std::shared_ptr<Device> device;
  std::optional<Registry> registry;
  std::map<std::string, std::string> digests;
  std::shared_ptr<TenantGateway> gateway;
};

TEST_F(Gateway, ATokenForOneKernelRunsThatKernelAlone) {
  Capability scaleOnly =
      capability("acme", {Operation::Instantiate, Operation::Launch},
                 {"test/runtime-kernels#scale"});
  std::unique_ptr<TenantInstance> instance =
      instantiate(scaleOnly, "test/runtime-kernels");
  ASSERT_TRUE(instance);
  EXPECT_TRUE(scaleIsCorrect(*instance, scaleOnly, 100, 5));
  LaunchOptions options;
  options.grid = {1};
  options.block = {1};
  Result<LaunchResult> spin =
      instance->launch(scaleOnly, "spin", options, {Value::i32(0)});
  ASSERT_FALSE(spin);
  EXPECT_EQ(spin.error().code, ErrorCode::Untrusted);
  EXPECT_NE(spin.error().message.find("kernel 'spin'"), std::string::npos)
      << spin.error().message;
  // Nor any other artifact.
  Result<std::unique_ptr<TenantInstance>> other =
      gateway->instantiate(scaleOnly, "test/stateful");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::Untrusted);

  // A token naming the artifact by digest covers that artifact only.
  Capability byDigest =
      capability("acme", {Operation::Instantiate, Operation::Launch},
                 {"sha256:" + digests["test/runtime-kernels"]});
  EXPECT_TRUE(gateway->instantiate(byDigest, "test/runtime-kernels"));
  EXPECT_FALSE(gateway->instantiate(byDigest, "test/stateful"));

  // Instantiating is not launching.
  Capability instantiateOnly =
      capability("acme", {Operation::Instantiate}, {"test/*"});
  std::unique_ptr<TenantInstance> idle =
      instantiate(instantiateOnly, "test/runtime-kernels");
  ASSERT_TRUE(idle);
  EXPECT_FALSE(scaleIsCorrect(*idle, instantiateOnly, 10, 1));

  // Another tenant's token, however broad, does not reach the instance.
  Capability other_tenant = everything("globex");
  EXPECT_FALSE(scaleIsCorrect(*instance, other_tenant, 10, 1));
  int32_t peek = 0;
  EXPECT_FALSE(instance->read(other_tenant, 0, &peek, 4));
  EXPECT_FALSE(instance->grow(other_tenant, 1));
  EXPECT_GE(gateway->usage("acme").refusedForToken, 3u);
}

TEST_F(Gateway, RevokedAndExpiredTokensStopWorkingOnLiveInstances) {
  Capability token = capability(
      "acme", {Operation::Instantiate, Operation::Launch}, {"test/*"}, "t-1");
  std::unique_ptr<TenantInstance> instance =
      instantiate(token, "test/runtime-kernels");
  ASSERT_TRUE(instance);
  ASSERT_TRUE(scaleIsCorrect(*instance, token, 64, 2));
  RevocationList revocations;
  revocations.revokeToken("t-1");
  gateway->setRevocations(revocations);
  EXPECT_FALSE(scaleIsCorrect(*instance, token, 64, 2));
  gateway->setRevocations({});
  EXPECT_TRUE(scaleIsCorrect(*instance, token, 64, 2));
  clock = token.claims().expires;
  EXPECT_FALSE(scaleIsCorrect(*instance, token, 64, 2));
}

TEST_F(Gateway, EachTenantIsHeldToItsOwnQuota) {
  TenantQuota small;
  small.memoryBytes = 3 * 65536; // the module starts with 1 page
  small.instances = 2;
  ASSERT_TRUE(gateway->setQuota("small", small));
  Capability smallTenant = everything("small");
  std::unique_ptr<TenantInstance> first =
      instantiate(smallTenant, "test/runtime-kernels");
  std::unique_ptr<TenantInstance> second =
      instantiate(smallTenant, "test/runtime-kernels");
  ASSERT_TRUE(first && second);
  Result<std::unique_ptr<TenantInstance>> third =
      gateway->instantiate(smallTenant, "test/runtime-kernels");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::ResourceExhausted);
  EXPECT_NE(third.error().message.find("tenant 'small' is over its quota"),
            std::string::npos)
      << third.error().message;
  // Memory: 2 pages in use, room for one more.
  EXPECT_TRUE(first->grow(smallTenant, 1));
  Result<uint32_t> bomb = second->grow(smallTenant, 1);
  ASSERT_FALSE(bomb);
  EXPECT_EQ(bomb.error().code, ErrorCode::ResourceExhausted);
  EXPECT_EQ(second->memoryBytes(), 65536u);
  EXPECT_EQ(gateway->usage("small").memoryBytes, 3u * 65536);
  // Another tenant is untouched by all that.
  Capability other = everything("other");
  std::unique_ptr<TenantInstance> theirs =
      instantiate(other, "test/runtime-kernels");
  ASSERT_TRUE(theirs);
  EXPECT_TRUE(theirs->grow(other, 3));
  EXPECT_TRUE(scaleIsCorrect(*theirs, other, 1000, 9));
  // Quota comes back when an instance goes.
  first.reset();
  EXPECT_EQ(gateway->usage("small").memoryBytes, 65536u);
  EXPECT_EQ(gateway->usage("small").instances, 1u);
  EXPECT_TRUE(instantiate(smallTenant, "test/runtime-kernels"));
  EXPECT_EQ(gateway->usage("small").refusedForQuota, 2u);
}

TEST_F(Gateway, AnInstancePoolHandsItsTenantZeroedInstancesAndNoOneElse) {
  CapabilityVerifier verifier;
  verifier.trustIssuer(issuer.publicKey());
  GatewayOptions options;
  options.clock = [this] { return clock.load(); };
  options.instancePool = 2;
  gateway = TenantGateway::create(device, *registry, verifier, options);
  TenantQuota quota;
  quota.memoryBytes = 4 * 65536;
  ASSERT_TRUE(gateway->setQuota("acme", quota));
  Capability acme = everything("acme");

  // Made ahead, at most the pool's size; charged to memory, not instances.
  Result<unsigned> warmed = gateway->prewarm(acme, "test/runtime-kernels", 5);
  ASSERT_TRUE(warmed) << warmed.error().message;
  EXPECT_EQ(*warmed, 2u);
  EXPECT_EQ(gateway->usage("acme").pooledInstances, 2u);
  EXPECT_EQ(gateway->usage("acme").instances, 0u);
  EXPECT_EQ(gateway->usage("acme").memoryBytes, 2u * 65536);

  // A pooled instance serves, grows, writes a secret, and goes back reset.
  std::unique_ptr<TenantInstance> used =
      instantiate(acme, "test/runtime-kernels");
  ASSERT_TRUE(used);
  EXPECT_EQ(gateway->usage("acme").pooledInstances, 1u);
  EXPECT_TRUE(scaleIsCorrect(*used, acme, 1000, 5));
  ASSERT_TRUE(used->grow(acme, 1));
  std::vector<uint8_t> secret(2 * 65536, 0xa5);
  ASSERT_TRUE(used->write(acme, 0, secret.data(), secret.size()));
  used.reset();
  EXPECT_EQ(gateway->usage("acme").pooledInstances, 2u);
  EXPECT_EQ(gateway->usage("acme").instances, 0u);
  EXPECT_EQ(gateway->usage("acme").memoryBytes, 2u * 65536)
      << "the grown page went back with the reset";

  // Whichever instance comes next, nothing of the secret is in it.
  std::unique_ptr<TenantInstance> a = instantiate(acme, "test/runtime-kernels");
  std::unique_ptr<TenantInstance> b = instantiate(acme, "test/runtime-kernels");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(gateway->usage("acme").pooledInstances, 0u);
  for (TenantInstance *instance : {a.get(), b.get()}) {
    ASSERT_EQ(instance->memoryBytes(), 65536u);
    std::vector<uint8_t> memory(65536, 1);
    ASSERT_TRUE(instance->read(acme, 0, memory.data(), memory.size()));
    EXPECT_EQ(memory, std::vector<uint8_t>(65536, 0));
    EXPECT_TRUE(scaleIsCorrect(*instance, acme, 500, 11));
  }
  a.reset();
  b.reset();

  // Another tenant's instantiate never takes acme's instances.
  Capability other = everything("other");
  std::unique_ptr<TenantInstance> theirs =
      instantiate(other, "test/runtime-kernels");
  ASSERT_TRUE(theirs);
  EXPECT_EQ(gateway->usage("acme").pooledInstances, 2u);
  EXPECT_EQ(gateway->usage("other").pooledInstances, 0u);

  // The pool never holds memory its tenant needs: making a module of 2
  // pages beside 2 pooled pages fits, the next one gives the pool back.
  std::unique_ptr<TenantInstance> stateful1 =
      instantiate(acme, "test/stateful");
  ASSERT_TRUE(stateful1);
  EXPECT_EQ(gateway->usage("acme").pooledInstances, 2u);
  std::unique_ptr<TenantInstance> stateful2 =
      instantiate(acme, "test/stateful");
  ASSERT_TRUE(stateful2);
  EXPECT_EQ(gateway->usage("acme").pooledInstances, 0u);
  EXPECT_EQ(gateway->usage("acme").memoryBytes, 4u * 65536);
  EXPECT_EQ(gateway->usage("acme").refusedForQuota, 0u);

  // Prewarming is making instances: the token must allow it.
  Capability launchOnly = capability("acme", {Operation::Launch}, {"test/*"});
  EXPECT_FALSE(gateway->prewarm(launchOnly, "test/runtime-kernels", 1));

  // Past the quota, prewarming stops at the first refusal and keeps what
  // it made (it never gives back pooled instances to make more).
  quota.memoryBytes = 65536;
  ASSERT_TRUE(gateway->setQuota("zeta", quota));
  Capability zeta = everything("zeta");
  Result<unsigned> partly = gateway->prewarm(zeta, "test/runtime-kernels", 2);
  ASSERT_TRUE(partly) << partly.error().message;
  EXPECT_EQ(*partly, 1u);
  EXPECT_EQ(gateway->usage("zeta").pooledInstances, 1u);
  EXPECT_EQ(gateway->usage("zeta").refusedForQuota, 1u);
}

TEST_F(Gateway, TenantGpuDevicesInDeviceMemoryAreCappedByTheDriver) {
  useTenantMockDevices();
  TenantQuota quota;
  quota.memoryBytes = 8 << 20;
  quota.instances = 3;
  ASSERT_TRUE(gateway->setQuota("acme", quota));
  ASSERT_TRUE(gateway->setQuota("bravo", quota));
  Capability acme = everything("acme"), bravo = everything("bravo");
  std::unique_ptr<TenantInstance> mine =
      instantiate(acme, "test/runtime-kernels");
  std::unique_ptr<TenantInstance> theirs =
      instantiate(bravo, "test/runtime-kernels");
  ASSERT_TRUE(mine && theirs);
  // Each tenant's device has its own pool, capped by the driver at twice
  // the quota (growth copies before it frees) and room for each instance's
  // globals block.
  const size_t cap = 2 * (8 << 20) + 4 * (2 << 20);
  EXPECT_EQ(cuda::mock::poolLimits(), (std::vector<size_t>{cap, cap}));
  // The accounting refuses first; the driver's cap is what is left if the
  // accounting were wrong (MockDevice.DeviceMemoryComesFromAPoolTheDriverCaps
  // shows it refusing).
  Result<uint32_t> bomb = mine->grow(acme, 200);
  ASSERT_FALSE(bomb);
  EXPECT_EQ(bomb.error().code, ErrorCode::ResourceExhausted);
  mine.reset();
  theirs.reset();
  // A new quota opens the tenant's device again under a new cap, with its
  // next instance, once nothing of it is alive.
  const size_t raised = 2 * (16 << 20) + 4 * (2 << 20);
  quota.memoryBytes = 16 << 20;
  ASSERT_TRUE(gateway->setQuota("acme", quota));
  mine = instantiate(acme, "test/runtime-kernels");
  ASSERT_TRUE(mine);
  EXPECT_EQ(cuda::mock::poolLimits(), (std::vector<size_t>{cap, raised}));
  // While an instance lives, the device and its cap stay.
  ASSERT_TRUE(gateway->setQuota("acme", TenantQuota{}));
  std::unique_ptr<TenantInstance> second =
      instantiate(acme, "test/runtime-kernels");
  ASSERT_TRUE(second);
  EXPECT_EQ(cuda::mock::poolLimits(), (std::vector<size_t>{cap, raised}));
  second.reset();
  mine.reset();
  gateway.reset();
  EXPECT_EQ(cuda::mock::live(), cuda::mock::LiveObjects());
}

// On a GPU with tenant devices on groups of SMs, tenants take the groups in
// turn as they make their first instances, and keep theirs: a device opened
// again for a new quota is on the same group. usage() names each tenant's.
TEST_F(Gateway, TenantsTakeGroupsOfSmsInTurnAndKeepThem) {
  useTenantMockDevices(/*smGroupSize=*/16);
  EXPECT_EQ(gateway->usage("acme").device, "");
  std::vector<std::unique_ptr<TenantInstance>> instances;
  for (const char *tenant : {"acme", "bravo", "charlie"}) {
    instances.push_back(
        instantiate(everything(tenant), "test/runtime-kernels"));
    ASSERT_TRUE(instances.back());
  }
  auto group = [&](const char *tenant) {
    std::string device = gateway->usage(tenant).device;
    size_t at = device.find("SM group "), end = device.find(')', at);
    return end == std::string::npos ? "none: " + device
                                    : device.substr(at, end + 1 - at);
  };
  EXPECT_EQ(group("acme"), "SM group 0 of 8 (16 of 132 SMs)");
  EXPECT_EQ(group("bravo"), "SM group 1 of 8 (16 of 132 SMs)");
  EXPECT_EQ(group("charlie"), "SM group 2 of 8 (16 of 132 SMs)");
  EXPECT_EQ(cuda::mock::live().greenContexts, 3u);

  // A new memory quota opens acme's device again, on its own group.
  instances.front().reset();
  TenantQuota quota;
  quota.memoryBytes = 16 << 20;
  ASSERT_TRUE(gateway->setQuota("acme", quota));
  instances.front() = instantiate(everything("acme"), "test/runtime-kernels");
  ASSERT_TRUE(instances.front());
  EXPECT_EQ(group("acme"), "SM group 0 of 8 (16 of 132 SMs)");
  EXPECT_EQ(cuda::mock::live().greenContexts, 3u);
  instances.clear();
  gateway.reset();
  EXPECT_EQ(cuda::mock::live(), cuda::mock::LiveObjects());
}

TEST_F(Gateway, LaunchesAreLimitedInTimeRateAndConcurrency) {
  TenantQuota quota;
  quota.launchTime = 50ms;
  quota.concurrentLaunches = 1;
  quota.launchesPerSecond = 0.001; // as good as none after the burst
  quota.launchBurst = 5;
  ASSERT_TRUE(gateway->setQuota("limited", quota));
  Capability limited = everything("limited");
  std::unique_ptr<TenantInstance> one =
      instantiate(limited, "test/runtime-kernels");
  std::unique_ptr<TenantInstance> two =
      instantiate(limited, "test/runtime-kernels");
  ASSERT_TRUE(one && two);

  // An endless kernel that asks for no timeout gets the quota's.
  LaunchOptions endless;
  endless.grid = {1};
  endless.block = {1};
  std::atomic<bool> started{false};
  Result<LaunchResult> spun = Error{ErrorCode::InvalidArgument, "not run"};
  std::thread spinner([&] {
    started = true;
    spun = one->launch(limited, "spin", endless, {Value::i32(0)});
  });
  while (!started)
    std::this_thread::yield();
  // While it runs, a second launch of the tenant is over its concurrency.
  Result<LaunchResult> concurrent = Error{ErrorCode::InvalidArgument, ""};
  for (int tries = 0; tries < 1000; ++tries) {
    if (gateway->usage("limited").runningLaunches == 1) {
      concurrent = two->launch(limited, "spin", endless, {Value::i32(0)});
      break;
    }
    std::this_thread::sleep_for(1ms);
  }
  spinner.join();
  ASSERT_TRUE(spun) << spun.error().message;
  EXPECT_EQ(spun->outcome, LaunchResult::Outcome::Interrupted);
  EXPECT_GE(spun->elapsed, 50ms);
  ASSERT_FALSE(concurrent);
  EXPECT_NE(concurrent.error().message.find("launches running"),
            std::string::npos)
      << concurrent.error().message;

  // The burst holds 5 calls that cost the service: the two instances and the
  // spin took three (the refused launch took none), two more launches run,
  // and then the rate refuses.
  EXPECT_TRUE(scaleIsCorrect(*two, limited, 64, 1));
  EXPECT_TRUE(scaleIsCorrect(*two, limited, 64, 1));
  ::testing::AssertionResult overRate = scaleIsCorrect(*two, limited, 64, 1);
  EXPECT_FALSE(overRate);
  EXPECT_NE(std::string(overRate.message())
                .find("calls that cost the service per second"),
            std::string::npos)
      << overRate.message();
  TenantUsage usage = gateway->usage("limited");
  EXPECT_EQ(usage.launchesInterrupted, 1u);
  EXPECT_EQ(usage.launchesCompleted, 2u);
  EXPECT_EQ(usage.refusedForQuota, 2u);
  EXPECT_EQ(usage.runningLaunches, 0u);
}

TEST_F(Gateway, PublishingNeedsTheTokenAndTheRegistrysTrust) {
  std::string artifact = readTestFile(kernelFile("stateful.twa"));
  Capability launcher = everything("acme");
  Result<RegistryEntry> refused = gateway->publish(launcher, artifact);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::Untrusted);
  Capability publisher =
      capability("acme", {Operation::Publish}, {"test/stateful"});
  // Already there at that version: the very same file is a no-op.
  Result<RegistryEntry> again = gateway->publish(publisher, artifact);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->name, "test/stateful");
  // A tampered artifact is refused by the registry's trust, token or not.
  artifact[artifact.size() / 2] ^= 1;
  EXPECT_FALSE(gateway->publish(publisher, artifact));
  // One larger than the tenant's quota is refused before it is verified.
  TenantQuota small;
  small.artifactBytes = 1024;
  ASSERT_TRUE(gateway->setQuota("acme", small));
  Result<RegistryEntry> big =
      gateway->publish(publisher, readTestFile(kernelFile("stateful.twa")));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::ResourceExhausted);
  EXPECT_NE(big.error().message.find("it may publish at most"),
            std::string::npos)
      << big.error().message;
}

TEST_F(Gateway, WhatATenantKeepsInTheRegistryIsBounded) {
  // A registry of its own, empty, with the same trust.
  Result<Registry> empty = Registry::open(directory.str() + "/fresh");
  ASSERT_TRUE(empty) << empty.error().message;
  Result<PublicKey> key = PublicKey::readFile(kernelFile("test-publisher.pub"));
  ASSERT_TRUE(key);
  ASSERT_TRUE(empty->updateTrust(
      [&](TrustPolicy &trust) { return trust.add(*key, {"test/*"}); }));
  CapabilityVerifier verifier;
  verifier.trustIssuer(issuer.publicKey());
  GatewayOptions options;
  options.clock = [this] { return clock.load(); };
  std::shared_ptr<TenantGateway> fresh =
      TenantGateway::create(device, *empty, verifier, options);
  std::string kernels = readTestFile(kernelFile("runtime-kernels.twa"));
  std::string stateful = readTestFile(kernelFile("stateful.twa"));
  TenantQuota quota;
  quota.registryBytes = kernels.size() + stateful.size() - 1;
  ASSERT_TRUE(fresh->setQuota("acme", quota));
  ASSERT_TRUE(fresh->setQuota("zeta", quota));
  Capability acme = capability("acme", {Operation::Publish}, {"test/*"});
  Capability zeta = capability("zeta", {Operation::Publish}, {"test/*"});

  Result<RegistryEntry> first = fresh->publish(acme, kernels);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->publisher, "acme");
  // The second would keep one byte more than the quota: refused, for acme
  // alone, and the registry does not take it.
  Result<RegistryEntry> second = fresh->publish(acme, stateful);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::ResourceExhausted);
  EXPECT_NE(second.error().message.find("over its quota"), std::string::npos)
      << second.error().message;
  EXPECT_EQ(fresh->usage("acme").refusedForQuota, 1u);
  EXPECT_FALSE(empty->find("test/stateful"));
  Result<RegistryEntry> other = fresh->publish(zeta, stateful);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->publisher, "zeta");
  EXPECT_EQ(*empty->publishedBytes("acme"), kernels.size());
  EXPECT_EQ(*empty->publishedBytes("zeta"), stateful.size());
}

TEST_F(Gateway, SnapshotsRestoreForTheirTenantAloneWithinItsQuota) {
  Capability acme = capability("acme",
                               {Operation::Instantiate, Operation::Launch,
                                Operation::Snapshot, Operation::Restore},
                               {"test/runtime-kernels"});
  std::unique_ptr<TenantInstance> original =
      instantiate(acme, "test/runtime-kernels");
  ASSERT_TRUE(original);
  ASSERT_TRUE(scaleIsCorrect(*original, acme, 1000, 42));
  Result<SnapshotKey> key = SnapshotKey::generate("ops");
  ASSERT_TRUE(key) << key.error().message;
  SnapshotKeyring keys;
  ASSERT_TRUE(keys.add(*key));
  Result<std::string> snapshot = gateway->snapshot(acme, *original, *key);
  ASSERT_TRUE(snapshot) << snapshot.error().message;

  // Restored, the memory is the original's.
  Result<std::unique_ptr<TenantInstance>> restored =
      gateway->restore(acme, "test/runtime-kernels", *snapshot, keys);
  ASSERT_TRUE(restored) << restored.error().message;
  std::vector<int32_t> before(2000), after(2000);
  ASSERT_TRUE(original->read(acme, 0, before.data(), 8000));
  ASSERT_TRUE((*restored)->read(acme, 0, after.data(), 8000));
  EXPECT_EQ(before, after);
  EXPECT_EQ(gateway->usage("acme").memoryBytes, 2u * 65536);

  // Another tenant, even with every operation, restores none of it.
  Capability globex = capability(
      "globex",
      {Operation::Instantiate, Operation::Snapshot, Operation::Restore},
      {"test/*"});
  Result<std::unique_ptr<TenantInstance>> stolen =
      gateway->restore(globex, "test/runtime-kernels", *snapshot, keys);
  ASSERT_FALSE(stolen);
  EXPECT_NE(stolen.error().message.find("belongs to tenant 'acme'"),
            std::string::npos)
      << stolen.error().message;
  EXPECT_FALSE(gateway->snapshot(globex, *original, *key));
  EXPECT_EQ(gateway->usage("globex").instances, 0u);
  EXPECT_EQ(gateway->usage("globex").memoryBytes, 0u);

  // A token without the operation does neither.
  Capability launchOnly = capability(
      "acme", {Operation::Instantiate, Operation::Launch}, {"test/*"});
  EXPECT_FALSE(gateway->snapshot(launchOnly, *original, *key));
  EXPECT_FALSE(
      gateway->restore(launchOnly, "test/runtime-kernels", *snapshot, keys));

  // A snapshot of 4 pages does not fit what is left of a quota: refused
  // before anything is made, and the quota is as it was.
  ASSERT_TRUE(original->grow(acme, 3));
  Result<std::string> big = gateway->snapshot(acme, *original, *key);
  ASSERT_TRUE(big) << big.error().message;
  TenantQuota tight;
  tight.memoryBytes = 6 * 65536; // 5 pages in use (4 + 1)
  ASSERT_TRUE(gateway->setQuota("acme", tight));
  Result<std::unique_ptr<TenantInstance>> tooBig =
      gateway->restore(acme, "test/runtime-kernels", *big, keys);
  ASSERT_FALSE(tooBig);
  EXPECT_EQ(tooBig.error().code, ErrorCode::ResourceExhausted);
  EXPECT_EQ(gateway->usage("acme").memoryBytes, 5u * 65536);
  EXPECT_EQ(gateway->usage("acme").instances, 2u);
  // The small one still fits.
  EXPECT_TRUE(gateway->restore(acme, "test/runtime-kernels", *snapshot, keys));
}

/// Calls on one instance from many threads take turns: each thread's own
/// region of memory stays right while the others launch, read, write and
/// grow (under ThreadSanitizer in make test-tsan).
TEST_F(Gateway, OneInstanceUsedFromManyThreadsTakesTurns) {
  TenantQuota roomy;
  roomy.concurrentLaunches = 16;
  roomy.launchesPerSecond = 1e9;
  roomy.launchBurst = 1u << 30;
  ASSERT_TRUE(gateway->setQuota("busy", roomy));
  Capability busy = everything("busy");
  std::unique_ptr<TenantInstance> shared =
      instantiate(busy, "test/runtime-kernels");
  ASSERT_TRUE(shared);
  constexpr int kThreads = 8;
  constexpr uint32_t n = 512;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      uint32_t in = t * 2 * n * 4, out = in + n * 4;
      std::vector<int32_t> input(n), output(n);
      for (int round = 0; round < 30; ++round) {
        for (uint32_t i = 0; i < n; ++i)
          input[i] = t * 1000 + round + static_cast<int32_t>(i);
        LaunchOptions options;
        options.grid = {n / 64};
        options.block = {64};
        Result<LaunchResult> launched = Error{ErrorCode::InvalidArgument, ""};
        if (!shared->write(busy, in, input.data(), n * 4) ||
            !(launched = shared->launch(busy, "scale", options,
                                        {Value::i32(n), Value::i32(3),
                                         Value::i32(in), Value::i32(out)})) ||
            !shared->read(busy, out, output.data(), n * 4)) {
          ++wrong;
          continue;
        }
        for (uint32_t i = 0; i < n; ++i)
          if (output[i] != input[i] * 3 + static_cast<int32_t>(i)) {
            ++wrong;
            break;
          }
        // Growth while the others use the memory (the 4-page maximum
        // refuses the rest).
        if (round == t)
          (void)shared->grow(busy, 1);
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(gateway->usage("busy").memoryBytes, shared->memoryBytes());
  EXPECT_EQ(shared->memoryBytes(), 4u * 65536);
}

/// A capability is good only at a gateway that trusts its issuer; a token
/// for one kernel does not publish its artifact.
TEST_F(Gateway, CapabilitiesAreBoundToTheirIssuerAndScope) {
  SigningKey otherIssuer = newKey();
  CapabilityVerifier otherVerifier;
  otherVerifier.trustIssuer(otherIssuer.publicKey());
  GatewayOptions sameClock;
  sameClock.clock = [this] { return clock.load(); };
  std::shared_ptr<TenantGateway> other =
      TenantGateway::create(device, *registry, otherVerifier, sameClock);
  Result<Capability> foreign = other->authenticate(
      issue(otherIssuer, claimsFor("acme", {Operation::Instantiate},
                                   {"test/runtime-kernels"})));
  ASSERT_TRUE(foreign) << foreign.error().message;
  Result<std::unique_ptr<TenantInstance>> made =
      gateway->instantiate(*foreign, "test/runtime-kernels");
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("does not trust"), std::string::npos)
      << made.error().message;

  Capability oneKernel = capability(
      "acme", {Operation::Publish, Operation::Instantiate, Operation::Launch},
      {"test/stateful#step"});
  Result<RegistryEntry> published =
      gateway->publish(oneKernel, readTestFile(kernelFile("stateful.twa")));
  ASSERT_FALSE(published);
  EXPECT_EQ(published.error().code, ErrorCode::Untrusted);
  // It does use its artifact: an instance, and its memory.
  std::unique_ptr<TenantInstance> instance =
      instantiate(oneKernel, "test/stateful");
  ASSERT_TRUE(instance);
  uint32_t word = 7;
  EXPECT_TRUE(instance->write(oneKernel, 0, &word, 4));
  EXPECT_TRUE(instance->grow(oneKernel, 1));
}

/// Hostile tenants run endless kernels, trap storms, out-of-bounds stores,
/// memory bombs and huge grids while a well-behaved tenant's launches keep
/// giving correct results; every hostile launch ends as a trap, an
/// interruption or a refusal, and the device keeps working.
TEST_F(Gateway, HostileTenantsLeaveWellBehavedTenantsCorrect) {
  TenantQuota hostileQuota;
  hostileQuota.launchTime = 20ms;
  hostileQuota.memoryBytes = 4 * 65536;
  for (const char *tenant : {"looper", "trapper", "bomber", "crowd"})
    ASSERT_TRUE(gateway->setQuota(tenant, hostileQuota));
  TenantQuota goodQuota;
  goodQuota.launchesPerSecond = 1e6;
  ASSERT_TRUE(gateway->setQuota("good", goodQuota));
  Capability good = everything("good");
  std::unique_ptr<TenantInstance> goodInstance =
      instantiate(good, "test/runtime-kernels");
  ASSERT_TRUE(goodInstance);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> hostileLaunches{0}, hostileFailures{0};
  // TWASM_TENANCY_ATTACKERS=looper,trapper,...: only those (to find which
  // attack a failure comes from); all by default.
  auto enabled = [](const std::string &name) {
    const char *list = std::getenv("TWASM_TENANCY_ATTACKERS");
    return !list || ("," + std::string(list) + ",").find("," + name + ",") !=
                        std::string::npos;
  };
  auto hostile = [&](const char *tenant, auto attack) {
    if (!enabled(tenant))
      return std::thread();
    return std::thread([&, tenant, attack] {
      Capability token = everything(tenant);
      Result<std::unique_ptr<TenantInstance>> instance =
          gateway->instantiate(token, "test/runtime-kernels");
      if (!instance) {
        ++hostileFailures;
        return;
      }
      for (uint32_t round = 0; !stop; ++round)
        attack(**instance, token, round);
    });
  };
  std::atomic<uint64_t> hostileRefusals{0};
  std::mutex failureMutex;
  std::string firstFailure;
  std::atomic<uint64_t> trapped{0};
  // A hostile launch ends as it must, or is refused for its tenant's quota
  // (a trap storm runs into the launch rate). On the cpu device launches
  // take turns, and a launch's time counts from its start: one that waited
  // out its whole launch time behind an endless kernel is interrupted
  // before it runs, which is also an acceptable end for a trapping one.
  auto expectOutcome = [&](Result<LaunchResult> result,
                           LaunchResult::Outcome outcome) {
    ++hostileLaunches;
    if (result && result->outcome == LaunchResult::Outcome::Trapped)
      ++trapped;
    if (result && outcome == LaunchResult::Outcome::Trapped &&
        result->outcome == LaunchResult::Outcome::Interrupted)
      return;
    if (!result && result.error().code == ErrorCode::ResourceExhausted &&
        result.error().message.find("over its quota") != std::string::npos) {
      ++hostileRefusals;
      return;
    }
    if (!result || result->outcome != outcome) {
      ++hostileFailures;
      std::lock_guard<std::mutex> lock(failureMutex);
      if (firstFailure.empty())
        firstFailure = result
                           ? "outcome " + std::to_string(int(result->outcome))
                           : result.error().message;
    }
  };
  std::vector<std::thread> attackers;
  // Endless kernels: interrupted at the quota's launch time.
  attackers.push_back(hostile("looper", [&](TenantInstance &instance,
                                            const Capability &token, uint32_t) {
    LaunchOptions options;
    options.grid = {64};
    options.block = {32};
    expectOutcome(instance.launch(token, "spin", options, {Value::i32(0)}),
                  LaunchResult::Outcome::Interrupted);
  }));
  // A storm of traps: out-of-bounds stores from a different thread each
  // time, past the end of memory and at addresses up to 4 GiB.
  attackers.push_back(hostile("trapper", [&](TenantInstance &instance,
                                             const Capability &token,
                                             uint32_t round) {
    LaunchOptions options;
    options.grid = {4};
    options.block = {64};
    expectOutcome(
        instance.launch(token, "store_out_of_bounds", options,
                        {Value::i32(static_cast<int32_t>((round * 37) % 256))}),
        LaunchResult::Outcome::Trapped);
    uint8_t byte = 0;
    uint64_t address = (uint64_t(round) * 0x9E3779B1u) % (uint64_t(4) << 30);
    if (address < instance.memoryBytes())
      address += instance.memoryBytes();
    if (instance.read(token, address, &byte, 1) ||
        instance.write(token, address, &byte, 1))
      ++hostileFailures;
  }));
  // Memory bombs: growth far past the quota is refused, every time.
  attackers.push_back(
      hostile("bomber", [&](TenantInstance &instance, const Capability &token,
                            uint32_t round) {
        if (instance.grow(token, 1000 + round % 60000))
          ++hostileFailures;
        Result<std::unique_ptr<TenantInstance>> more =
            gateway->instantiate(token, "test/stateful"); // 2 pages each
        std::this_thread::sleep_for(1ms);
      }));
  // Huge grids: a grid past the quota's blocks per launch is refused; the
  // largest allowed (a billion threads) is cut off at the launch time on
  // the cpu, and runs its loop-free blocks to the end on a GPU.
  attackers.push_back(
      hostile("crowd", [&](TenantInstance &instance, const Capability &token,
                           uint32_t round) {
        LaunchOptions options;
        options.grid = {65535, 65535, 16};
        options.block = {1024};
        std::vector<Value> nothing = {Value::i32(0), Value::i32(1),
                                      Value::i32(0), Value::i32(0)};
        Result<LaunchResult> giant =
            instance.launch(token, "scale", options, nothing);
        if (giant ||
            giant.error().message.find("blocks; at most") == std::string::npos)
          ++hostileFailures;
        options.grid = {1u << 20};
        Result<LaunchResult> largest =
            instance.launch(token, "scale", options, nothing);
        expectOutcome(largest, largest && largest->outcome ==
                                              LaunchResult::Outcome::Completed
                                   ? LaunchResult::Outcome::Completed
                                   : LaunchResult::Outcome::Interrupted);
      }));

  int goodLaunches = 0;
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(scaleIsCorrect(*goodInstance, good, 4096, goodLaunches));
    ++goodLaunches;
  }
  stop = true;
  for (std::thread &attacker : attackers)
    if (attacker.joinable())
      attacker.join();
  EXPECT_EQ(hostileFailures.load(), 0u) << firstFailure;
  if (enabled("looper") || enabled("trapper") || enabled("crowd"))
    EXPECT_GT(hostileLaunches.load() - hostileRefusals.load(), 10u);
  if (enabled("trapper"))
    EXPECT_GT(trapped.load(), 0u);
  EXPECT_GT(goodLaunches, 5);
  if (enabled("bomber")) {
    EXPECT_LE(gateway->usage("bomber").memoryBytes, hostileQuota.memoryBytes);
    EXPECT_GT(gateway->usage("bomber").refusedForQuota, 0u);
  }
  RecordProperty("good_launches", goodLaunches);
  RecordProperty("hostile_launches", static_cast<int>(hostileLaunches));
  RecordProperty("hostile_traps", static_cast<int>(trapped));
}

/// Many threads of many tenants launching at once: every result correct,
/// and the accounting adds up. TWASM_TENANCY_STRESS_LAUNCHES sets the
/// launches per thread and tenant (the issue's figure is 1000).
TEST_F(Gateway, ManyThreadsOfManyTenantsStayCorrect) {
  const char *configured = std::getenv("TWASM_TENANCY_STRESS_LAUNCHES");
  const int launches = configured ? std::atoi(configured) : 50;
  constexpr int kThreads = 16, kTenants = 8;
  // Room for every thread's instance and launch at once, and no rate
  // limit: what is tested here is that nothing goes wrong, not refusals.
  TenantQuota roomy;
  roomy.instances = kThreads;
  roomy.concurrentLaunches = kThreads;
  roomy.launchesPerSecond = 1e9;
  roomy.launchBurst = 1u << 30;
  std::vector<Capability> tokens;
  for (int t = 0; t < kTenants; ++t) {
    ASSERT_TRUE(gateway->setQuota("tenant-" + std::to_string(t), roomy));
    tokens.push_back(everything("tenant-" + std::to_string(t)));
  }
  std::atomic<int> wrong{0}, done{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread)
    threads.emplace_back([&, thread] {
      std::vector<std::unique_ptr<TenantInstance>> instances;
      for (int t = 0; t < kTenants; ++t) {
        Result<std::unique_ptr<TenantInstance>> made =
            gateway->instantiate(tokens[t], "test/runtime-kernels");
        if (!made) {
          ++wrong;
          return;
        }
        instances.push_back(std::move(*made));
      }
      for (int i = 0; i < launches; ++i)
        for (int t = 0; t < kTenants; ++t) {
          if (!scaleIsCorrect(*instances[t], tokens[t], 64, thread * 1000 + i))
            ++wrong;
          ++done;
        }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(done.load(), kThreads * kTenants * launches);
  uint64_t completed = 0;
  for (int t = 0; t < kTenants; ++t) {
    TenantUsage usage = gateway->usage("tenant-" + std::to_string(t));
    completed += usage.launchesCompleted;
    EXPECT_EQ(usage.instances, 0u);
    EXPECT_EQ(usage.memoryBytes, 0u);
    EXPECT_EQ(usage.runningLaunches, 0u);
  }
  EXPECT_EQ(completed, uint64_t(kThreads) * kTenants * launches);
  RecordProperty("launches", static_cast<int>(completed));
}

} // namespace
