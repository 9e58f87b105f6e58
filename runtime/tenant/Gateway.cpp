//===- Gateway.cpp - tenants' instances, held to their tokens and quotas --===//
//
// Every call checks, in this order, what costs least first: that the
// caller's capability is of the right tenant, still valid and covers the
// operation and artifact (and kernel); then the tenant's quota, reserved
// under the tenant's lock before anything is allocated or launched, and
// given back when the call fails or the instance goes. One tenant's refusal
// changes nothing for another: each tenant's accounting is its own.
//
//===----------------------------------------------------------------------===//

#include "twasm/Tenancy.h"

#include "twasm/Snapshot.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace tensorwasm {

constexpr uint64_t kPageBytes = 65536;
/// Reading, writing and growing an instance's memory: a token of its
/// tenant that still covers launching on, or making, its artifact.
constexpr std::initializer_list<Operation> kMemoryAccess = {
    Operation::Launch, Operation::Instantiate};

/// An instance in a tenant's pool: reset, ready for the tenant's next
/// instantiate() of its artifact.
struct PooledInstance {
  std::shared_ptr<const Artifact> source;
  std::shared_ptr<Module> module;
  std::unique_ptr<Instance> instance;
  uint64_t charged = 0;
};

/// The driver's cap on a tenant's own GPU device in device memory: twice
/// the memory quota, because growing copies into a new allocation before
/// the old one is freed, plus 2 MiB for each instance the quota allows
/// and one more, because each instance's globals block is an allocation of
/// its own that the driver may round up to its granularity (2 MiB on
/// current GPUs). Saturating: a quota of "everything" caps nothing.
uint64_t driverMemoryCap(const TenantQuota &quota) {
  constexpr uint64_t kGlobalsBlock = uint64_t(2) << 20;
  uint64_t slack = (uint64_t(quota.instances) + 1) * kGlobalsBlock;
  uint64_t doubled =
      quota.memoryBytes > UINT64_MAX / 2 ? UINT64_MAX : quota.memoryBytes * 2;
  return doubled > UINT64_MAX - slack ? UINT64_MAX : doubled + slack;
}

struct TenantState : std::enable_shared_from_this<TenantState> {
  explicit TenantState(std::string name, TenantQuota quota)
      : name(std::move(name)), quota(quota),
        bucket(static_cast<double>(quota.launchBurst)),
        refilled(std::chrono::steady_clock::now()) {}
  const std::string name;
  std::mutex mutex;
  // Guarded by mutex.
  TenantQuota quota;
  TenantUsage usage;
  double bucket;
  std::chrono::steady_clock::time_point refilled;
  /// Null until the tenant's first instance.
  std::shared_ptr<Device> device;
  /// The driver's cap on the device's memory (0: none).
  uint64_t deviceMemoryCap = 0;
  /// The SM group of the tenant's own GPU device, kept when it reopens.
  std::optional<unsigned> smGroup;
  /// Instances kept ready, by artifact digest.
  std::map<std::string, std::vector<PooledInstance>, std::less<>> pool;

  /// Whether `bytes` more fit in the memory quota, after giving back the
  /// pooled instances if they do not fit otherwise (moved to `evicted`,
  /// which the caller frees once it no longer holds `mutex`).
  bool makeRoom(uint64_t bytes, std::vector<PooledInstance> &evicted) {
    auto fits = [&] {
      return bytes <=
             quota.memoryBytes - std::min(quota.memoryBytes, usage.memoryBytes);
    };
    // Pooled instances go, the largest first, until the bytes fit.
    while (!fits() && usage.pooledInstances > 0) {
      std::vector<PooledInstance> *largest = nullptr;
      for (auto &[digest, kept] : pool)
        if (!kept.empty() &&
            (!largest || kept.back().charged > largest->back().charged))
          largest = &kept;
      usage.memoryBytes -= largest->back().charged;
      evicted.push_back(std::move(largest->back()));
      largest->pop_back();
      --usage.pooledInstances;
    }
    return fits();
  }

  Error overQuota(const std::string &what) {
    ++usage.refusedForQuota;
    return Error{ErrorCode::ResourceExhausted,
                 "tenant '" + name + "' is over its quota: " + what};
  }

  /// Takes one call from the rate's token bucket (under `mutex`).
  Status takeCall() {
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - refilled).count();
    bucket = std::min<double>(quota.launchBurst,
                              bucket + elapsed * quota.launchesPerSecond);
    refilled = now;
    if (bucket < 1)
      return overQuota("more than " + std::to_string(quota.launchesPerSecond) +
                       " calls that cost the service per second (bursts of " +
                       std::to_string(quota.launchBurst) + ")");
    bucket -= 1;
    return {};
  }
};

struct TenantGateway::Shared {
  Shared(Registry registry, GatewayOptions options, CapabilityVerifier verifier)
      : registry(std::move(registry)), options(std::move(options)),
        verifier(std::move(verifier)) {}
  Registry registry;
  GatewayOptions options;
  mutable std::shared_mutex verifierMutex;
  CapabilityVerifier verifier;
  std::mutex tenantsMutex;
  std::map<std::string, std::shared_ptr<TenantState>, std::less<>> tenants;
  std::map<std::string, TenantQuota, std::less<>> quotas;
  /// The SM group the next tenant's own GPU device gets.
  std::mutex smGroupMutex;
  unsigned nextSmGroup = 0;
  /// Loaded modules by artifact digest, shared by the instances of every
  /// tenant (code is read-only; each instance has its own memory).
  std::mutex modulesMutex;
  std::map<std::pair<const Device *, std::string>, std::weak_ptr<Module>>
      modules;
};

namespace {

Status checkQuota(const TenantQuota &quota) {
  if (quota.launchTime.count() <= 0)
    return Error{ErrorCode::InvalidArgument,
                 "a quota's launch time must be positive: every launch on a "
                 "shared device has a deadline"};
  if (!(quota.launchesPerSecond >= 0) || std::isinf(quota.launchesPerSecond))
    return Error{ErrorCode::InvalidArgument,
                 "a quota's launches per second must be a finite number at "
                 "least 0"};
  return {};
}

/// What instantiate() makes: a new instance of the module, its initial
/// memory reserved first.
Result<std::unique_ptr<Instance>>
instantiateModule(Module &module,
                  const std::function<Status(uint64_t)> &reserve) {
  uint64_t initialBytes = 0;
  if (const auto &memory = module.artifact()->manifest().memory)
    initialBytes = memory->minimumPages * kPageBytes;
  if (Status status = reserve(initialBytes); !status)
    return status.error();
  return module.instantiate();
}

std::string mebibytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB",
                static_cast<double>(bytes) / (1 << 20));
  return text;
}

} // namespace

//===----------------------------------------------------------------------===//
// TenantGateway
//===----------------------------------------------------------------------===//

std::shared_ptr<TenantGateway>
TenantGateway::create(std::shared_ptr<Device> device, Registry registry,
                      CapabilityVerifier verifier, GatewayOptions options) {
  std::shared_ptr<TenantGateway> gateway(new TenantGateway());
  gateway->target = std::move(device);
  gateway->shared = std::make_unique<Shared>(
      std::move(registry), std::move(options), std::move(verifier));
  return gateway;
}

TenantGateway::~TenantGateway() = default;

int64_t TenantGateway::now() const {
  if (shared->options.clock)
    return shared->options.clock();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status TenantGateway::setQuota(std::string_view tenant,
                               const TenantQuota &quota) {
  if (Status status = checkTenantName(tenant); !status)
    return status;
  if (Status status = checkQuota(quota); !status)
    return status;
  std::lock_guard<std::mutex> lock(shared->tenantsMutex);
  shared->quotas[std::string(tenant)] = quota;
  if (auto found = shared->tenants.find(tenant);
      found != shared->tenants.end()) {
    // What the tenant holds now stays; only new requests see the new quota
    // (and the driver's cap, deviceFor()).
    std::lock_guard<std::mutex> tenantLock(found->second->mutex);
    found->second->quota = quota;
  }
  return {};
}

void TenantGateway::setRevocations(RevocationList revocations) {
  std::unique_lock<std::shared_mutex> lock(shared->verifierMutex);
  shared->verifier.setRevocations(std::move(revocations));
}

Result<Capability> TenantGateway::authenticate(std::string_view token) const {
  std::shared_lock<std::shared_mutex> lock(shared->verifierMutex);
  return shared->verifier.verify(token, now());
}

std::shared_ptr<TenantState>
TenantGateway::tenantState(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(shared->tenantsMutex);
  if (auto found = shared->tenants.find(tenant); found != shared->tenants.end())
    return found->second;
  auto quota = shared->quotas.find(tenant);
  if (quota == shared->quotas.end() && shared->options.knownTenantsOnly)
    return nullptr;
  auto state = std::make_shared<TenantState>(std::string(tenant),
                                             quota == shared->quotas.end()
                                                 ? shared->options.defaultQuota
                                                 : quota->second);
  shared->tenants.emplace(std::string(tenant), state);
  return state;
}

Status TenantGateway::checkCapability(const Capability &caller,
                                      std::initializer_list<Operation> anyOf,
                                      std::string_view name,
                                      std::string_view digest,
                                      std::string_view kernel,
                                      TenantState *state) const {
  auto refuse = [&](Error error) -> Status {
    if (state) {
      std::lock_guard<std::mutex> lock(state->mutex);
      ++state->usage.refusedForToken;
    }
    return error;
  };
  {
    std::shared_lock<std::shared_mutex> lock(shared->verifierMutex);
    // A capability another gateway verified, against other issuer keys,
    // is nothing here.
    if (!shared->verifier.trustsIssuer(caller.issuer()))
      return refuse(Error{ErrorCode::Untrusted,
                          "the capability token was issued by a key this "
                          "gateway does not trust"});
    if (Status status = shared->verifier.stillValid(caller, now()); !status)
      return refuse(status.error());
  }
  for (Operation operation : anyOf)
    if (caller.covers(operation, name, digest, kernel))
      return {};
  std::string operations;
  for (Operation operation : anyOf)
    operations += (operations.empty() ? "'" : " or '") +
                  std::string(operationName(operation)) + "'";
  return refuse(Error{
      ErrorCode::Untrusted,
      "the capability token of tenant '" + caller.tenant() +
          "' does not allow " + operations + " on " +
          (kernel.empty() ? "" : "kernel '" + std::string(kernel) + "' of ") +
          "'" + std::string(name) + "' (sha256:" + std::string(digest) + ")"});
}

Result<std::shared_ptr<Device>> TenantGateway::deviceFor(TenantState &state) {
  // What goes is closed after the locks: closing a GPU device waits for
  // launches in flight.
  std::shared_ptr<Device> retired;
  std::vector<PooledInstance> evicted;
  std::lock_guard<std::mutex> lock(state.mutex);
  std::optional<DeviceOptions> options = shared->options.tenantDevices;
  if (!options && target->kind() == DeviceKind::Cpu &&
      shared->options.cpuSlice.count() > 0) {
    options.emplace();
    options->kind = DeviceKind::Cpu;
    options->cpuWorkers = shared->options.cpuWorkersPerTenant;
    options->cpuDemoteAfter = shared->options.cpuSlice;
  }
  if (!options) {
    if (!state.device)
      state.device = target;
    return state.device;
  }
  // In device memory the driver caps what the tenant's instances hold
  // together, whatever this process's accounting says.
  uint64_t cap =
      options->kind != DeviceKind::Cpu && options->memory == MemoryMode::Device
          ? driverMemoryCap(state.quota)
          : 0;
  if (state.device) {
    // The cap follows the quota: a device under another cap opens again
    // once nothing of the tenant's is on it (the instance being made, the
    // one counted, is not yet).
    if (state.deviceMemoryCap == cap || state.usage.instances > 1)
      return state.device;
    state.makeRoom(UINT64_MAX, evicted);
    retired = std::move(state.device);
  }
  options->gpuMemoryLimit = cap;
  // Tenants' code is verified artifacts only, whatever the template says.
  options->allowUnsignedCode = false;
  // Groups go to tenants in turn, and stay theirs; one whose device fails
  // to open takes none.
  std::lock_guard<std::mutex> groupLock(shared->smGroupMutex);
  if (options->gpuSmGroupSize > 0)
    options->gpuSmGroup = state.smGroup.value_or(shared->nextSmGroup);
  Result<std::shared_ptr<Device>> opened = Device::open(*options);
  if (!opened)
    return Error{opened.error().code,
                 "cannot open tenant '" + state.name +
                     "''s device: " + opened.error().message};
  if (options->gpuSmGroupSize > 0 && !state.smGroup)
    state.smGroup = shared->nextSmGroup++;
  state.device = *opened;
  state.deviceMemoryCap = cap;
  return state.device;
}

Result<std::shared_ptr<Module>>
TenantGateway::moduleFor(Device &device, const Artifact &artifact) {
  std::pair<const Device *, std::string> key{&device, artifact.digest()};
  {
    std::lock_guard<std::mutex> lock(shared->modulesMutex);
    if (auto found = shared->modules.find(key); found != shared->modules.end())
      if (std::shared_ptr<Module> module = found->second.lock())
        return module;
  }
  // Loaded outside the lock: one tenant's slow load does not hold up the
  // others'. Two loads of one artifact at once both succeed; one is kept.
  Result<std::shared_ptr<Module>> module = device.loadArtifact(artifact);
  if (!module)
    return module.error();
  std::lock_guard<std::mutex> lock(shared->modulesMutex);
  for (auto it = shared->modules.begin(); it != shared->modules.end();)
    it = it->second.expired() ? shared->modules.erase(it) : std::next(it);
  shared->modules[key] = *module;
  return module;
}

Result<RegistryEntry> TenantGateway::publish(const Capability &caller,
                                             std::string artifactBytes) {
  std::shared_ptr<TenantState> state = tenantState(caller.tenant());
  if (!state)
    return Error{ErrorCode::Untrusted,
                 "tenant '" + caller.tenant() + "' is not known here"};
  PushPublisher publisher{caller.tenant(), 0};
  {
    // What costs nothing to check comes first: the size and the rate.
    std::lock_guard<std::mutex> lock(state->mutex);
    publisher.maxBytes = state->quota.registryBytes;
    if (artifactBytes.size() > state->quota.artifactBytes)
      return state->overQuota(
          "an artifact of " + mebibytes(artifactBytes.size()) +
          "; it may publish at most " + mebibytes(state->quota.artifactBytes));
    if (Status status = state->takeCall(); !status)
      return status.error();
  }
  // The artifact is verified (signature, trust for its name) before the
  // token is checked against its name, so that the name is the signed one.
  Result<TrustPolicy> trust = shared->registry.trust();
  if (!trust)
    return trust.error();
  VerifyOptions clock{now()};
  Result<Artifact> artifact = Artifact::verify(artifactBytes, *trust, clock);
  if (!artifact)
    return artifact.error();
  if (Status status = checkCapability(caller, {Operation::Publish},
                                      artifact->manifest().name,
                                      artifact->digest(), {}, state.get());
      !status)
    return status.error();
  // The registry checks what the tenant keeps there under its own lock,
  // so publishes through several gateways or processes cannot together
  // pass the quota.
  Result<RegistryEntry> entry = shared->registry.push(
      std::move(artifactBytes), clock, nullptr, publisher);
  if (!entry && entry.error().code == ErrorCode::ResourceExhausted) {
    std::lock_guard<std::mutex> lock(state->mutex);
    return state->overQuota(entry.error().message);
  }
  return entry;
}

Result<std::unique_ptr<TenantInstance>> TenantGateway::makeInstance(
    const Capability &caller, std::string_view reference, Operation operation,
    PoolUse poolUse,
    const std::function<Result<std::unique_ptr<Instance>>(
        Module &, const std::function<Status(uint64_t)> &)> &make) {
  std::shared_ptr<TenantState> state = tenantState(caller.tenant());
  if (!state)
    return Error{ErrorCode::Untrusted,
                 "tenant '" + caller.tenant() + "' is not known here"};
  // The cheap check first, on the registry's entry: a token that covers
  // nothing there costs no verification.
  Result<RegistryEntry> entry = shared->registry.find(reference);
  if (!entry)
    return entry.error();
  if (Status status = checkCapability(caller, {operation}, entry->name,
                                      entry->digest, {}, state.get());
      !status)
    return status.error();
  Result<Artifact> artifact = shared->registry.fetch(
      entry->name + "@" + std::to_string(entry->version), VerifyOptions{now()});
  if (!artifact)
    return artifact.error();
  // What was fetched is what was checked: the entry names its digest.
  if (artifact->digest() != entry->digest)
    return Error{ErrorCode::Untrusted,
                 "the registry's entry for '" + std::string(reference) +
                     "' changed while it was being fetched; try again"};
  // A pooled instance is of an artifact verified just now, as a new one
  // would be (it may have expired, or its signer lost the registry's
  // trust, since the instance was made).
  if (poolUse == PoolUse::TakeOrEvict && shared->options.instancePool) {
    Result<std::unique_ptr<TenantInstance>> pooled =
        takePooled(*state, entry->digest);
    if (!pooled || *pooled)
      return pooled;
  }

  {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->usage.instances >= state->quota.instances)
      return state->overQuota(std::to_string(state->usage.instances) +
                              " instances alive, its limit");
    if (Status status = state->takeCall(); !status)
      return status.error();
    ++state->usage.instances;
  }
  // Memory is reserved by `make`, through `reserve`, before it allocates.
  uint64_t charged = 0;
  auto reserve = [&](uint64_t bytes) -> Status {
    std::vector<PooledInstance> evicted; // freed after the lock
    std::lock_guard<std::mutex> lock(state->mutex);
    const TenantQuota &quota = state->quota;
    if (!state->makeRoom(poolUse == PoolUse::Neither ? 0 : bytes, evicted) ||
        bytes > quota.memoryBytes -
                    std::min(quota.memoryBytes, state->usage.memoryBytes))
      return state->overQuota("an instance of '" + entry->name + "' needs " +
                              mebibytes(bytes) + " of linear memory; it uses " +
                              mebibytes(state->usage.memoryBytes) + " of " +
                              mebibytes(quota.memoryBytes));
    state->usage.memoryBytes += bytes;
    charged += bytes;
    return {};
  };
  auto release = [&] {
    std::lock_guard<std::mutex> lock(state->mutex);
    --state->usage.instances;
    state->usage.memoryBytes -= charged;
  };
  auto verified = std::make_shared<const Artifact>(std::move(*artifact));
  Result<std::shared_ptr<Device>> device = deviceFor(*state);
  if (!device) {
    release();
    return device.error();
  }
  Result<std::shared_ptr<Module>> module = moduleFor(**device, *verified);
  if (!module) {
    release();
    return module.error();
  }
  Result<std::unique_ptr<Instance>> instance = make(**module, reserve);
  if (!instance) {
    release();
    return instance.error();
  }
  // What the instance holds is what is charged: the compiled code's
  // manifest, not the signed one's memory section, sized it.
  uint64_t actual = (*instance)->memoryBytes();
  if (actual > charged)
    if (Status status = reserve(actual - charged); !status) {
      instance->reset();
      release();
      return status.error();
    }
  std::unique_ptr<TenantInstance> made(new TenantInstance());
  made->gateway = shared_from_this();
  made->owner = state;
  made->source = std::move(verified);
  made->module = std::move(*module);
  made->instance = std::move(*instance);
  made->charged = charged;
  made->memorySize = made->instance->memoryBytes();
  return made;
}

Result<std::unique_ptr<TenantInstance>>
TenantGateway::instantiate(const Capability &caller,
                           std::string_view reference) {
  return makeInstance(caller, reference, Operation::Instantiate,
                      PoolUse::TakeOrEvict, instantiateModule);
}

Result<unsigned> TenantGateway::prewarm(const Capability &caller,
                                        std::string_view reference,
                                        unsigned count) {
  Result<RegistryEntry> entry = shared->registry.find(reference);
  if (!entry)
    return entry.error();
  std::shared_ptr<TenantState> state = tenantState(caller.tenant());
  if (!state)
    return Error{ErrorCode::Untrusted,
                 "tenant '" + caller.tenant() + "' is not known here"};
  count = std::min(count, shared->options.instancePool);
  auto pooled = [&]() -> unsigned {
    std::lock_guard<std::mutex> lock(state->mutex);
    auto found = state->pool.find(entry->digest);
    return found == state->pool.end()
               ? 0
               : static_cast<unsigned>(found->second.size());
  };
  // The version found, not the reference: a newer push meanwhile does not
  // fill this pool with another artifact.
  std::string exact = entry->name + "@" + std::to_string(entry->version);
  // It never gives back pooled instances to make room for more, and stops
  // at the first refusal (the quota's, usually).
  for (unsigned made = 0; pooled() < count; ++made) {
    Result<std::unique_ptr<TenantInstance>> instance =
        makeInstance(caller, exact, Operation::Instantiate, PoolUse::Neither,
                     instantiateModule);
    if (!instance) {
      if (made == 0)
        return instance.error();
      break;
    }
    (*instance)->pristine = true;
    if (!keepPooled(**instance))
      break;
  }
  return pooled();
}

Result<std::unique_ptr<TenantInstance>>
TenantGateway::takePooled(TenantState &state, const std::string &digest) {
  std::lock_guard<std::mutex> lock(state.mutex);
  auto found = state.pool.find(digest);
  if (found == state.pool.end() || found->second.empty())
    return std::unique_ptr<TenantInstance>();
  // The quota's other limits hold as for a new instance.
  if (state.usage.instances >= state.quota.instances)
    return state.overQuota(std::to_string(state.usage.instances) +
                           " instances alive, its limit");
  if (Status status = state.takeCall(); !status)
    return status.error();
  PooledInstance pooled = std::move(found->second.back());
  found->second.pop_back();
  --state.usage.pooledInstances;
  ++state.usage.instances;
  std::unique_ptr<TenantInstance> made(new TenantInstance());
  made->gateway = shared_from_this();
  made->owner = state.shared_from_this();
  made->source = std::move(pooled.source);
  made->module = std::move(pooled.module);
  made->instance = std::move(pooled.instance);
  made->charged = pooled.charged;
  made->memorySize = made->instance->memoryBytes();
  made->pristine = true;
  return made;
}

bool TenantGateway::keepPooled(TenantInstance &instance) {
  unsigned limit = shared->options.instancePool;
  TenantState &state = *instance.owner;
  const std::string &digest = instance.source->digest();
  auto roomFor = [&] {
    auto found = state.pool.find(digest);
    return found == state.pool.end() || found->second.size() < limit;
  };
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (!limit || !roomFor())
      return false;
  }
  // Reset outside the tenant's lock: it writes the whole memory.
  if (!instance.pristine && !instance.instance->reset())
    return false;
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!roomFor())
    return false;
  uint64_t actual = instance.instance->memoryBytes();
  state.usage.memoryBytes = state.usage.memoryBytes - instance.charged + actual;
  --state.usage.instances;
  ++state.usage.pooledInstances;
  state.pool[digest].push_back(
      {instance.source, instance.module, std::move(instance.instance), actual});
  return true;
}

Result<std::string> TenantGateway::snapshot(const Capability &caller,
                                            TenantInstance &instance,
                                            const SnapshotKey &key,
                                            SnapshotOptions options) {
  // A snapshot reads the instance: it takes its turn with the instance's
  // other calls (a growth beside it would free the memory it reads).
  std::lock_guard<std::mutex> turn(instance.calls);
  if (Status status = instance.admit(caller, {Operation::Snapshot}, {});
      !status)
    return status.error();
  // The snapshot names its tenant, so that only the tenant restores it.
  options.tenant = instance.tenant();
  return snapshotInstance(*instance.module, *instance.instance, key, options);
}

Result<std::unique_ptr<TenantInstance>>
TenantGateway::restore(const Capability &caller, std::string_view reference,
                       std::string_view bytes, const SnapshotKeyring &keys,
                       uint64_t minimumCounter) {
  return makeInstance(
      caller, reference, Operation::Restore, PoolUse::Evict,
      [&](Module &module, const std::function<Status(uint64_t)> &reserve)
          -> Result<std::unique_ptr<Instance>> {
        RestoreOptions options;
        options.tenant = caller.tenant();
        options.minimumCounter = minimumCounter;
        options.admit = reserve;
        return restoreSnapshot(module, bytes, keys, options);
      });
}

TenantUsage TenantGateway::usage(std::string_view tenant) const {
  std::shared_ptr<TenantState> state;
  {
    std::lock_guard<std::mutex> lock(shared->tenantsMutex);
    auto found = shared->tenants.find(tenant);
    if (found == shared->tenants.end())
      return {};
    state = found->second;
  }
  std::lock_guard<std::mutex> lock(state->mutex);
  TenantUsage usage = state->usage;
  if (state->device)
    usage.device = state->device->description();
  return usage;
}

//===----------------------------------------------------------------------===//
// TenantInstance
//===----------------------------------------------------------------------===//

TenantInstance::~TenantInstance() {
  // Kept in the tenant's pool (which takes over its charge), or its
  // memory goes back to the device before the quota is given back.
  if (!owner || !instance || gateway->keepPooled(*this))
    return;
  instance.reset();
  std::lock_guard<std::mutex> lock(owner->mutex);
  --owner->usage.instances;
  owner->usage.memoryBytes -= charged;
}

const std::string &TenantInstance::tenant() const { return owner->name; }

Status TenantInstance::admit(const Capability &caller,
                             std::initializer_list<Operation> anyOf,
                             std::string_view kernel) const {
  if (caller.tenant() != owner->name)
    return Error{ErrorCode::Untrusted,
                 "the instance belongs to another tenant than '" +
                     caller.tenant() + "'"};
  return gateway->checkCapability(caller, anyOf, source->manifest().name,
                                  source->digest(), kernel, owner.get());
}

Status TenantInstance::write(const Capability &caller, uint64_t address,
                             const void *data, size_t bytes) {
  std::lock_guard<std::mutex> turn(calls);
  if (Status status = admit(caller, kMemoryAccess, {}); !status)
    return status;
  pristine = false;
  return instance->write(address, data, bytes);
}

Status TenantInstance::read(const Capability &caller, uint64_t address,
                            void *data, size_t bytes) const {
  std::lock_guard<std::mutex> turn(calls);
  if (Status status = admit(caller, kMemoryAccess, {}); !status)
    return status;
  return instance->read(address, data, bytes);
}

Result<uint32_t> TenantInstance::grow(const Capability &caller,
                                      uint32_t pages) {
  std::lock_guard<std::mutex> turn(calls);
  if (Status status = admit(caller, kMemoryAccess, {}); !status)
    return status.error();
  uint64_t bytes = uint64_t(pages) * kPageBytes;
  pristine = false;
  {
    std::vector<PooledInstance> evicted; // freed after the lock
    std::lock_guard<std::mutex> lock(owner->mutex);
    const TenantQuota &quota = owner->quota;
    if (!owner->makeRoom(bytes, evicted))
      return owner->overQuota(
          "growing linear memory by " + std::to_string(pages) + " pages (" +
          mebibytes(bytes) + ") with " + mebibytes(owner->usage.memoryBytes) +
          " of " + mebibytes(quota.memoryBytes) + " in use");
    if (Status status = owner->takeCall(); !status)
      return status.error();
    owner->usage.memoryBytes += bytes;
    charged += bytes;
  }
  Result<uint32_t> grown = instance->grow(pages);
  // Whatever the device did, the charge is what the memory now holds (a
  // device may have grown before it failed).
  std::lock_guard<std::mutex> lock(owner->mutex);
  uint64_t actual = instance->memoryBytes();
  owner->usage.memoryBytes = owner->usage.memoryBytes - charged + actual;
  charged = actual;
  memorySize = actual;
  return grown;
}

Result<LaunchResult>
TenantInstance::launch(const Capability &caller, std::string_view kernel,
                       LaunchOptions options,
                       const std::vector<Value> &arguments) {
  std::lock_guard<std::mutex> turn(calls);
  if (Status status = admit(caller, {Operation::Launch}, kernel); !status)
    return status.error();
  pristine = false;
  {
    std::lock_guard<std::mutex> lock(owner->mutex);
    const TenantQuota &quota = owner->quota;
    uint64_t blocks =
        uint64_t(options.grid.x) * options.grid.y * options.grid.z;
    if (blocks > quota.blocksPerLaunch)
      return owner->overQuota(
          "a grid of " + std::to_string(blocks) + " blocks; at most " +
          std::to_string(quota.blocksPerLaunch) + " per launch");
    if (owner->usage.runningLaunches >= quota.concurrentLaunches)
      return owner->overQuota(std::to_string(owner->usage.runningLaunches) +
                              " launches running, its limit");
    if (Status status = owner->takeCall(); !status)
      return status.error();
    ++owner->usage.runningLaunches;
    if (options.timeout.count() <= 0 || options.timeout > quota.launchTime)
      options.timeout = quota.launchTime;
  }
  // The running count comes back however the launch ends, an exception
  // included.
  struct Running {
    explicit Running(TenantState &owner) : owner(owner) {}
    Running(const Running &) = delete;
    Running &operator=(const Running &) = delete;
    ~Running() {
      std::lock_guard<std::mutex> lock(owner.mutex);
      --owner.usage.runningLaunches;
    }
    TenantState &owner;
  };
  std::optional<Running> running(std::in_place, *owner);
  Result<LaunchResult> result = instance->launch(kernel, options, arguments);
  running.reset();
  std::lock_guard<std::mutex> lock(owner->mutex);
  if (result) {
    switch (result->outcome) {
    case LaunchResult::Outcome::Completed:
      ++owner->usage.launchesCompleted;
      break;
    case LaunchResult::Outcome::Trapped:
      ++owner->usage.launchesTrapped;
      break;
    case LaunchResult::Outcome::Interrupted:
      ++owner->usage.launchesInterrupted;
      break;
    }
  }
  return result;
}

} // namespace tensorwasm
