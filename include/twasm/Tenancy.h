//===- Tenancy.h - tenants, capability tokens and quotas -------*- C++ -*-===//
//
// Many tenants share one device through a TenantGateway. A tenant proves
// what it may do with a capability token: a PASETO v4.public token
// (Ed25519) that an operator's issuer key signed, naming the tenant, the
// operations it may perform and the kernels (registry names, name patterns
// or artifact digests, optionally one kernel export of each) it may perform
// them on, with an expiry and an id that a revocation list can name. The
// gateway checks the token on every call, and holds each tenant to its
// quota: linear-memory bytes, concurrent launches, time per launch and
// launches per second. docs/tenancy.md gives the threat model and what each
// layer does and does not guarantee.
//
// Like the rest of the runtime's API: errors are values, nothing throws.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_TENANCY_H
#define TWASM_TENANCY_H

#include "twasm/Artifact.h"
#include "twasm/Runtime.h"
#include "twasm/Snapshot.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tensorwasm {

/// What a capability lets a tenant do.
enum class Operation : uint8_t {
  /// Push an artifact into the registry under a name the token covers.
  Publish,
  /// Make an instance of an artifact the token covers.
  Instantiate,
  /// Launch a kernel the token covers.
  Launch,
  /// Snapshot an instance of an artifact the token covers.
  Snapshot,
  /// Restore a snapshot into an instance of an artifact the token covers.
  Restore,
};
/// "publish", "instantiate", "launch", "snapshot", "restore".
const char *operationName(Operation operation);
std::optional<Operation> parseOperation(std::string_view name);

/// Whether `tenant` is a valid tenant name, and why not: 1 to 64 of
/// `a-z A-Z 0-9 . _ -`, not starting with '.' or '-'.
Status checkTenantName(std::string_view tenant);

/// What a token says, before it is signed.
struct CapabilityClaims {
  std::string tenant;
  std::vector<Operation> operations;
  /// Each: an artifact name (`acme/saxpy`), a name pattern (`acme/*`, `*`)
  /// or an artifact digest (`sha256:<64 hex digits>`), optionally followed
  /// by `#KERNEL` to cover only that kernel export of it.
  std::vector<std::string> kernels;
  /// Unix seconds: the token is valid from `notBefore` until before
  /// `expires`.
  int64_t issuedAt = 0;
  int64_t notBefore = 0;
  int64_t expires = 0;
  /// The token's id, for revocation; issue() makes a random one when empty.
  std::string tokenId;
};

/// Unix seconds of an RFC 3339 time as tokens write them
/// ("2027-01-01T00:00:00+00:00", or with "Z"); nullopt for anything else.
std::optional<int64_t> parseTokenTime(std::string_view text);
/// Unix seconds as tokens write them: "2027-01-01T00:00:00+00:00".
std::string formatTokenTime(int64_t unixSeconds);

/// Signs capability tokens: what an operator's issuing service holds.
/// The key is an Ed25519 key as `twasm keygen` makes them.
Result<std::string> issueCapability(const SigningKey &issuer,
                                    CapabilityClaims claims);

/// Token ids revoked, and per tenant a time before which every token issued
/// to it is revoked. Persisted as JSON (docs/tenancy.md).
class RevocationList {
public:
  static Result<RevocationList> parse(std::string_view json);
  /// A missing file is an empty list.
  static Result<RevocationList> readFile(const std::string &path);
  /// Written atomically (temporary file, fsync, rename, fsync of the
  /// directory), mode 0644.
  Status writeFile(const std::string &path) const;
  std::string serialize() const;
  void revokeToken(std::string tokenId);
  /// Revokes every token of `tenant` issued before `unixSeconds`.
  void revokeTenantBefore(std::string tenant, int64_t unixSeconds);
  bool revoked(std::string_view tenant, std::string_view tokenId,
               int64_t issuedAt) const;

private:
  std::set<std::string, std::less<>> tokens;
  std::map<std::string, int64_t, std::less<>> tenants;
};

/// A token that verified: signed by a trusted issuer, in its validity
/// period, not revoked when it was checked. Only CapabilityVerifier makes
/// them, so a function taking one cannot be handed claims nobody signed.
class Capability {
public:
  const CapabilityClaims &claims() const { return body; }
  const std::string &tenant() const { return body.tenant; }
  /// The key id (SHA-256 of the raw public key) of the issuer.
  const std::string &issuer() const { return issuerKeyId; }
  bool allowsOperation(Operation operation) const;
  /// Whether the token covers `operation` on the artifact `name` with
  /// SHA-256 `digest` and, when `kernel` is not empty, that kernel of it.
  bool covers(Operation operation, std::string_view name,
              std::string_view digest, std::string_view kernel = {}) const;

private:
  friend class CapabilityVerifier;
  Capability() = default;
  CapabilityClaims body;
  std::string issuerKeyId;
};

/// Checks tokens against the issuer keys it trusts and a revocation list.
class CapabilityVerifier {
public:
  void trustIssuer(const PublicKey &key);
  /// Whether the issuer key with this id is trusted here.
  bool trustsIssuer(std::string_view keyId) const;
  void setRevocations(RevocationList revocations);
  const RevocationList &revocations() const { return revoked; }
  /// Verifies `token` at `now` (Unix seconds): the issuer's key (named by
  /// the footer) must be trusted, the signature must verify before the
  /// claims are parsed, the claims must be exactly those of
  /// docs/tenancy.md, and the token must be valid at `now` and not revoked.
  Result<Capability> verify(std::string_view token, int64_t now) const;
  /// Whether a token that verified earlier is still valid at `now`: not
  /// expired and not revoked since.
  Status stillValid(const Capability &capability, int64_t now) const;

private:
  std::vector<PublicKey> issuers;
  RevocationList revoked;
};

/// What one tenant may use. Zero means no use at all of that resource
/// (except where said).
struct TenantQuota {
  /// Linear memory of all the tenant's instances together.
  uint64_t memoryBytes = 256ull << 20;
  /// Instances alive at once.
  unsigned instances = 16;
  /// Launches running at once.
  unsigned concurrentLaunches = 4;
  /// Blocks in one launch's grid. A loop-free kernel checks no control word
  /// (docs/kernel-abi.md §7), so on a GPU a launch of it runs every block
  /// even after its time is up: this bounds how long that can take.
  uint64_t blocksPerLaunch = uint64_t(1) << 20;
  /// The largest artifact the tenant may publish, refused before it is
  /// verified.
  uint64_t artifactBytes = uint64_t(64) << 20;
  /// What the artifacts the tenant has published may add up to in the
  /// registry (its entries there, RegistryEntry::publisher); a publish past
  /// it is refused.
  uint64_t registryBytes = uint64_t(1) << 30;
  /// The longest a launch runs before it is interrupted; a launch asking
  /// for a longer timeout (or none) gets this one.
  std::chrono::milliseconds launchTime{1000};
  /// Calls that cost the service (launches; making, restoring and growing
  /// instances; publishing) per second, on average, and how many may come
  /// at once after a quiet time (a token bucket).
  double launchesPerSecond = 1000;
  unsigned launchBurst = 100;
};

/// A tenant's use and history, for monitoring.
struct TenantUsage {
  /// Linear memory charged: of live instances and of pooled ones.
  uint64_t memoryBytes = 0;
  unsigned instances = 0;
  /// Instances kept ready for the tenant (GatewayOptions::instancePool).
  unsigned pooledInstances = 0;
  unsigned runningLaunches = 0;
  uint64_t launchesCompleted = 0;
  uint64_t launchesTrapped = 0;
  uint64_t launchesInterrupted = 0;
  /// Calls refused for the quota (memory, instances, launches, rate).
  uint64_t refusedForQuota = 0;
  /// Calls refused for the token (expired, revoked, not covering it).
  uint64_t refusedForToken = 0;
  /// Where the tenant's instances run: its device's description (with
  /// GatewayOptions::tenantDevices on a GPU, the group of SMs it has).
  /// Empty until its first instance.
  std::string device;
};

class TenantGateway;
struct TenantState;

/// An instance that belongs to one tenant. Every call takes the caller's
/// capability, which must be of the instance's tenant, still valid, and
/// cover the instance's artifact. Calls from several threads take turns,
/// except cancel().
class TenantInstance {
public:
  ~TenantInstance();
  const std::string &tenant() const;
  /// The verified artifact the instance's module came from.
  const Artifact &artifact() const { return *source; }
  /// Its linear memory's size; read without waiting for a call in flight.
  uint64_t memoryBytes() const { return memorySize.load(); }
  Status write(const Capability &caller, uint64_t address, const void *data,
               size_t bytes);
  Status read(const Capability &caller, uint64_t address, void *data,
              size_t bytes) const;
  /// Grows linear memory, within the tenant's memory quota.
  Result<uint32_t> grow(const Capability &caller, uint32_t pages);
  /// Launches a kernel the token covers (Operation::Launch), within the
  /// tenant's launch quotas; the timeout is at most the quota's launch time.
  Result<LaunchResult> launch(const Capability &caller, std::string_view kernel,
                              LaunchOptions options,
                              const std::vector<Value> &arguments);
  /// Interrupts a running launch (from any thread).
  void cancel() { instance->cancel(); }

private:
  friend class TenantGateway;
  TenantInstance() = default;
  Status admit(const Capability &caller, std::initializer_list<Operation> anyOf,
               std::string_view kernel) const;
  std::shared_ptr<TenantGateway> gateway;
  std::shared_ptr<TenantState> owner;
  std::shared_ptr<const Artifact> source;
  std::shared_ptr<Module> module;
  std::unique_ptr<Instance> instance;
  /// Calls on the instance, one at a time (an Instance is used from one
  /// thread at a time; tenants call from as many as they like).
  mutable std::mutex calls;
  /// The memory bytes charged to the tenant for this instance: what its
  /// linear memory holds, whatever a manifest said.
  uint64_t charged = 0;
  /// Whether it came from, or was made for, the tenant's instance pool
  /// without use yet (prewarm()): it needs no reset to go back.
  bool pristine = false;
  /// The memory's size as of the last call that changed it.
  std::atomic<uint64_t> memorySize{0};
};

struct GatewayOptions {
  /// The quota of a tenant that setQuota() has not named.
  TenantQuota defaultQuota;
  /// Refuse tenants that setQuota() has not named.
  bool knownTenantsOnly = false;
  /// Unix seconds now; default: the system clock (tests set their own).
  std::function<int64_t()> clock;
  /// On the cpu device: each tenant's launches run on worker threads of its
  /// own (a cpu device per tenant, DeviceOptions::cpuDemoteAfter set to
  /// this), so that a launch running longer than this slice yields the
  /// processors to every other tenant's work (docs/tenancy.md). Zero: all
  /// tenants share the device's one pool, taking turns.
  std::chrono::microseconds cpuSlice{2000};
  /// Worker threads of each tenant's cpu device (0: one per hardware
  /// thread).
  unsigned cpuWorkersPerTenant = 0;
  /// When set, each tenant's instances live on a device of its own opened
  /// with these options instead: on a GPU, with gpuSmGroupSize set, the
  /// k-th tenant to make an instance gets SM group k (a green context), so
  /// that one tenant's kernels occupy only its own SMs (gpuSmGroup is
  /// ignored; docs/tenancy.md says what is still shared).
  std::optional<DeviceOptions> tenantDevices;
  /// Instances kept ready per tenant and artifact (an instance pool), up
  /// to this many: when a tenant's instance goes, it is reset
  /// (Instance::reset(): memory back to its initial size and zeroed, data
  /// segments, globals and the start function applied again) and kept for
  /// that tenant's next instantiate() of the same artifact, which then
  /// allocates nothing; prewarm() makes them ahead. A pooled instance is
  /// the tenant's alone, stays charged to its memory quota (it holds the
  /// memory) but not to its instance count, and goes back to the device
  /// when the tenant needs that memory for something else. Zero: none.
  unsigned instancePool = 0;
};

/// The tenants' way in: checks tokens, keeps quotas, makes instances from
/// the registry's verified artifacts. Safe to use from many threads.
class TenantGateway : public std::enable_shared_from_this<TenantGateway> {
public:
  static std::shared_ptr<TenantGateway> create(std::shared_ptr<Device> device,
                                               Registry registry,
                                               CapabilityVerifier verifier,
                                               GatewayOptions options = {});
  ~TenantGateway();

  Status setQuota(std::string_view tenant, const TenantQuota &quota);
  /// Replaces the revocation list; tokens it names are refused from the
  /// next call on, including on instances made with them.
  void setRevocations(RevocationList revocations);
  /// Verifies a bearer token.
  Result<Capability> authenticate(std::string_view token) const;

  /// Verifies `artifactBytes` against the registry's trust policy and
  /// stores it, if the token covers Operation::Publish for its name.
  Result<RegistryEntry> publish(const Capability &caller,
                                std::string artifactBytes);
  /// An instance of the registry's `reference` (NAME or NAME@VERSION), if
  /// the token covers Operation::Instantiate for it, within the tenant's
  /// instance and memory quotas.
  Result<std::unique_ptr<TenantInstance>>
  instantiate(const Capability &caller, std::string_view reference);
  /// Fills the tenant's instance pool for `reference` up to `count`
  /// instances (at most GatewayOptions::instancePool), as instantiate()
  /// would make them and within the same quotas; returns how many are
  /// pooled now.
  Result<unsigned> prewarm(const Capability &caller, std::string_view reference,
                           unsigned count);

  /// Snapshots `instance` (Operation::Snapshot on its artifact) with the
  /// instance's tenant recorded in it (include/twasm/Snapshot.h); the
  /// options' tenant is ignored.
  Result<std::string> snapshot(const Capability &caller,
                               TenantInstance &instance, const SnapshotKey &key,
                               SnapshotOptions options = {});
  /// A new instance of the registry's `reference` restored from `bytes`: a
  /// snapshot of that artifact, of the caller's tenant, under a key of
  /// `keys`, with a counter of at least `minimumCounter`, if the token
  /// covers Operation::Restore for it; within the tenant's instance and
  /// memory quotas (the snapshot's memory is reserved before it is made).
  Result<std::unique_ptr<TenantInstance>> restore(const Capability &caller,
                                                  std::string_view reference,
                                                  std::string_view bytes,
                                                  const SnapshotKeyring &keys,
                                                  uint64_t minimumCounter = 0);

  TenantUsage usage(std::string_view tenant) const;

private:
  friend class TenantInstance;
  TenantGateway() = default;
  int64_t now() const;
  /// The tenant's state, made on first use; null if unknown tenants are
  /// refused and it is one.
  std::shared_ptr<TenantState> tenantState(std::string_view tenant);
  /// Whether `caller` is still valid here and covers one of `anyOf` on the
  /// artifact (and kernel); a refusal is counted against `state`.
  Status checkCapability(const Capability &caller,
                         std::initializer_list<Operation> anyOf,
                         std::string_view name, std::string_view digest,
                         std::string_view kernel, TenantState *state) const;
  /// Where the tenant's code runs: a device of its own
  /// (GatewayOptions::tenantDevices, or on the cpu GatewayOptions::cpuSlice),
  /// or the gateway's device.
  Result<std::shared_ptr<Device>> deviceFor(TenantState &state);
  Result<std::shared_ptr<Module>> moduleFor(Device &device,
                                            const Artifact &artifact);
  /// Takes an instance of `digest` from the tenant's pool (within its
  /// quotas), or null when the pool has none.
  Result<std::unique_ptr<TenantInstance>> takePooled(TenantState &state,
                                                     const std::string &digest);
  /// Keeps `instance` (reset unless it is pristine) in its tenant's pool,
  /// if there is room; returns whether it did.
  bool keepPooled(TenantInstance &instance);
  /// What making an instance may do with the tenant's instance pool.
  enum class PoolUse {
    /// Take a pooled instance, or give pooled ones back for memory.
    TakeOrEvict,
    /// Give pooled ones back for memory (a restore).
    Evict,
    /// Neither (filling the pool).
    Neither,
  };
  /// An instance of `reference` for `caller` (its token covering
  /// `operation`), within its quotas: from the tenant's pool where
  /// `poolUse` allows and it has one, else `make` makes it from the module,
  /// reserving its memory through the function it is given first.
  Result<std::unique_ptr<TenantInstance>>
  makeInstance(const Capability &caller, std::string_view reference,
               Operation operation, PoolUse poolUse,
               const std::function<Result<std::unique_ptr<Instance>>(
                   Module &, const std::function<Status(uint64_t)> &)> &make);

  struct Shared;
  std::shared_ptr<Device> target;
  std::unique_ptr<Shared> shared;
};

} // namespace tensorwasm

#endif // TWASM_TENANCY_H
