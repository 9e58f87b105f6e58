//===- ServeCommand.cpp - twasm serve -------------------------------------===//
//
// `twasm serve` (and `twasm-serve`, the same without the compiler's
// libraries): opens the device and the registry, trusts the given token
// issuers, and serves the HTTP API (include/twasm/Server.h) until SIGINT or
// SIGTERM, then lets the requests in flight finish. docs/serve.md.
//
//===----------------------------------------------------------------------===//

#include "ServeCommand.h"
#include "CommandLine.h"
#include "TokenCommands.h"

#include "support/Files.h"
#include "twasm/Server.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <pthread.h>
#include <thread>

namespace tensorwasm::tool {
namespace {

/// A number option, or nullopt (with the error printed).
std::optional<uint64_t> number(const ParsedLine &line, const std::string &name,
                               uint64_t fallback) {
  if (!line.has(name))
    return fallback;
  const std::string text = line.last(name);
  uint64_t value = 0;
  size_t used = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used != text.size() || text.empty() || text[0] == '-') {
    error("--" + name + " takes an unsigned integer, not '" + text + "'");
    return std::nullopt;
  }
  return value;
}

/// A quota from a JSON object of the quota's fields (all optional).
Result<TenantQuota> parseQuota(const nlohmann::json &object,
                               TenantQuota quota) {
  if (!object.is_object())
    return Error{ErrorCode::InvalidArgument, "a quota is a JSON object"};
  for (const auto &[key, value] : object.items()) {
    if (key == "launches_per_second" && value.is_number() &&
        value.get<double>() >= 0) {
      quota.launchesPerSecond = value.get<double>();
      continue;
    }
    if (!value.is_number_unsigned())
      return Error{ErrorCode::InvalidArgument,
                   "the quota field '" + key +
                       "' is unknown or not an unsigned integer"};
    uint64_t n = value.get<uint64_t>();
    if (key == "memory_bytes")
      quota.memoryBytes = n;
    else if (key == "instances" && n <= UINT32_MAX)
      quota.instances = static_cast<unsigned>(n);
    else if (key == "concurrent_launches" && n <= UINT32_MAX)
      quota.concurrentLaunches = static_cast<unsigned>(n);
    else if (key == "blocks_per_launch")
      quota.blocksPerLaunch = n;
    else if (key == "artifact_bytes")
      quota.artifactBytes = n;
    else if (key == "registry_bytes")
      quota.registryBytes = n;
    else if (key == "launch_time_ms" && n > 0 && n <= 86400000)
      quota.launchTime = std::chrono::milliseconds(n);
    else if (key == "launch_burst" && n <= UINT32_MAX)
      quota.launchBurst = static_cast<unsigned>(n);
    else
      return Error{ErrorCode::InvalidArgument,
                   "the quota field '" + key + "' is unknown or out of range"};
  }
  return quota;
}

} // namespace

int serveMain(int argc, char **argv) {
  CommandHelp command{
      "twasm serve",
      "Serve the runtime's HTTP/JSON API to tenants (docs/serve.md)",
      "--issuer ISSUER.pub... [options]",
      {{"registry", "DIR", "The kernel registry (default: twasm registry's)"},
       {"issuer", "FILE",
        "A public key whose capability tokens are accepted (repeatable)"},
       {"revocations", "FILE", "A revocation list (twasm token revoke)"},
       {"listen", "HOST:PORT",
        "Where to listen (default 127.0.0.1:8080; port 0: any free port)"},
       {"device", "KIND", "auto (default), cpu, cuda or mock"},
       {"memory", "MODE",
        "cuda: managed (default) or device; device memory gives each "
        "tenant's own device a driver-enforced memory cap"},
       {"tenant-sm-groups", "N",
        "cuda: each tenant on its own group of at least N SMs"},
       {"instance-pool", "N", "Instances kept ready per tenant and artifact"},
       {"quotas", "FILE",
        "JSON: {\"default\": QUOTA, \"tenants\": {\"NAME\": QUOTA}} with "
        "QUOTA's fields memory_bytes, instances, concurrent_launches, "
        "launch_time_ms, launches_per_second, launch_burst, "
        "blocks_per_launch, artifact_bytes, registry_bytes"},
       {"known-tenants-only", nullptr,
        "Refuse tenants the quota file does not name"},
       {"snapshot-key", "FILE",
        "The key snapshots are sealed with (twasm snapshot keygen)"},
       {"audit", "FILE", "Append a JSON line per request to FILE"},
       {"metrics-token", "FILE",
        "A file holding the bearer secret of /metrics (default: /metrics "
        "answers loopback clients only)"},
       {"drain-grace-ms", "MS",
        "On SIGINT/SIGTERM, keep serving this long with /healthz at 503 "
        "before closing the listener (default 0)"},
       {"threads", "N", "Requests served at once (default 64)"},
       {"max-body", "BYTES", "The largest request body (default 80 MiB)"},
       {"requests-per-second", "N",
        "Requests per second per tenant (default 500, bursts of twice that)"},
       {"failed-auth-per-minute", "N",
        "Requests a minute per client address without a valid token "
        "(default 1200); more are answered 429"},
       {"failed-auth-burst", "N",
        "Requests without a valid token an address may send at once "
        "(default 40)"},
       {"help", nullptr, "Print this help and exit"}},
      R"(
Tenants call with `Authorization: Bearer TOKEN`, a capability token of an
issuer given with --issuer (twasm token issue). docs/openapi.yaml describes
every route. SIGINT or SIGTERM stops taking requests and waits for the ones
in flight, running launches included.
)"};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (!line->positionals.empty())
    return error("unexpected argument '" + line->positionals.front() +
                 "' (see twasm serve --help)");
  if (!line->has("issuer"))
    return error("name at least one token issuer: --issuer ISSUER.pub");

  // Signals go to the thread that waits for them, never to a worker: they
  // are blocked before any thread (a device's workers included) starts, so
  // that every thread inherits the mask.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  Result<CapabilityVerifier> verifier = verifierFromLine(*line);
  if (!verifier)
    return error(verifier.error().message);

  ServerOptions options;
  std::string listen = line->last("listen", "127.0.0.1:8080");
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return error("--listen takes HOST:PORT, not '" + listen + "'");
  options.host = listen.substr(0, colon);
  try {
    size_t used = 0;
    options.port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || options.port < 0 ||
        options.port > 65535)
      throw std::invalid_argument("port");
  } catch (const std::exception &) {
    return error("--listen takes HOST:PORT with a port from 0 to 65535");
  }
  std::optional<uint64_t> threads = number(*line, "threads", 64),
                          maxBody = number(*line, "max-body", 80 << 20),
                          rate = number(*line, "requests-per-second", 500),
                          smGroups = number(*line, "tenant-sm-groups", 0),
                          pool = number(*line, "instance-pool", 0),
                          grace = number(*line, "drain-grace-ms", 0),
                          failedPerMinute =
                              number(*line, "failed-auth-per-minute", 1200),
                          failedBurst = number(*line, "failed-auth-burst", 40);
  if (!threads || !maxBody || !rate || !smGroups || !pool || !grace ||
      !failedPerMinute || !failedBurst)
    return 1;
  options.drainGrace =
      std::chrono::milliseconds(std::min<uint64_t>(*grace, 600000));
  if (line->has("metrics-token")) {
    std::string why;
    std::optional<std::string> secret =
        files::readFile(line->last("metrics-token"), &why);
    if (!secret)
      return error("cannot read " + line->last("metrics-token") + ": " + why);
    while (!secret->empty() &&
           (secret->back() == '\n' || secret->back() == '\r'))
      secret->pop_back();
    if (secret->size() < 16)
      return error("the metrics token must have at least 16 characters");
    options.metricsToken = *secret;
  }
  options.threads = static_cast<unsigned>(
      std::max<uint64_t>(1, std::min<uint64_t>(*threads, 4096)));
  options.maxRequestBytes = *maxBody;
  options.requestsPerSecond = static_cast<double>(*rate);
  options.requestBurst =
      static_cast<unsigned>(std::min<uint64_t>(2 * *rate, UINT32_MAX));
  options.unauthenticatedPerSecond = static_cast<double>(*failedPerMinute) / 60;
  options.unauthenticatedBurst = static_cast<unsigned>(
      std::max<uint64_t>(1, std::min<uint64_t>(*failedBurst, UINT32_MAX)));
  options.auditPath = line->last("audit");
  if (line->has("snapshot-key")) {
    Result<SnapshotKey> key = SnapshotKey::readFile(line->last("snapshot-key"));
    if (!key)
      return error(key.error().message);
    options.snapshotKey = std::move(*key);
  }

  DeviceOptions deviceOptions;
  std::optional<DeviceKind> kind =
      parseDeviceKind(line->last("device", "auto"));
  if (!kind)
    return error("--device is auto, cpu, cuda or mock");
  deviceOptions.kind = *kind;
  std::string memory = line->last("memory", "managed");
  if (memory != "managed" && memory != "device")
    return error("--memory is managed or device");
  deviceOptions.memory =
      memory == "device" ? MemoryMode::Device : MemoryMode::Managed;
  Result<std::shared_ptr<Device>> device = Device::open(deviceOptions);
  if (!device)
    return error(device.error().message);

  GatewayOptions gatewayOptions;
  gatewayOptions.instancePool =
      static_cast<unsigned>(std::min<uint64_t>(*pool, 1024));
  gatewayOptions.knownTenantsOnly = line->has("known-tenants-only");
  std::map<std::string, TenantQuota> quotas;
  if (line->has("quotas")) {
    std::string why;
    std::optional<std::string> text =
        files::readFile(line->last("quotas"), &why);
    if (!text)
      return error("cannot read " + line->last("quotas") + ": " + why);
    nlohmann::json file = nlohmann::json::parse(*text, nullptr, false);
    if (file.is_discarded() || !file.is_object())
      return error(line->last("quotas") + " is not a JSON object");
    if (file.contains("default")) {
      Result<TenantQuota> quota = parseQuota(file["default"], {});
      if (!quota)
        return error(quota.error().message);
      gatewayOptions.defaultQuota = *quota;
    }
    if (file.contains("tenants")) {
      if (!file["tenants"].is_object())
        return error("\"tenants\" maps tenant names to quotas");
      for (const auto &[name, object] : file["tenants"].items()) {
        Result<TenantQuota> quota =
            parseQuota(object, gatewayOptions.defaultQuota);
        if (!quota)
          return error("tenant '" + name + "': " + quota.error().message);
        quotas[name] = *quota;
      }
    }
  }
  if (*smGroups) {
    if ((*device)->kind() == DeviceKind::Cpu)
      return error("--tenant-sm-groups needs a GPU (--device cuda)");
    gatewayOptions.tenantDevices = deviceOptions;
    gatewayOptions.tenantDevices->gpuSmGroupSize =
        static_cast<unsigned>(std::min<uint64_t>(*smGroups, 4096));
  }

  Result<Registry> registry = Registry::open(line->last("registry"));
  if (!registry)
    return error(registry.error().message);
  std::shared_ptr<TenantGateway> gateway = TenantGateway::create(
      *device, *registry, std::move(*verifier), gatewayOptions);
  for (const auto &[name, quota] : quotas)
    if (Status set = gateway->setQuota(name, quota); !set)
      return error("tenant '" + name + "': " + set.error().message);

  Result<std::unique_ptr<ApiServer>> server =
      ApiServer::create(gateway, *registry, std::move(options));
  if (!server)
    return error(server.error().message);
  Result<int> port = (*server)->bind();
  if (!port)
    return error(port.error().message);
  std::printf("twasm serve: %s; listening on http://%s:%d\n",
              (*device)->description().c_str(), listen.substr(0, colon).c_str(),
              *port);
  std::fflush(stdout);

  // SIGHUP reads the revocation list again; SIGINT and SIGTERM stop.
  ApiServer *serving = server->get();
  std::atomic<bool> served{false};
  std::string revocations = line->last("revocations");
  std::thread stopper([&stopSignals, &served, &revocations, &gateway, serving] {
    for (;;) {
      int signal = 0;
      sigwait(&stopSignals, &signal);
      if (served.load())
        return; // woken because serving ended by itself
      if (signal == SIGHUP) {
        if (revocations.empty())
          continue;
        Result<RevocationList> list = RevocationList::readFile(revocations);
        if (!list) {
          std::fprintf(stderr,
                       "twasm serve: SIGHUP: %s; the list in use "
                       "stays\n",
                       list.error().message.c_str());
          continue;
        }
        gateway->setRevocations(std::move(*list));
        std::fprintf(stderr, "twasm serve: SIGHUP: revocations read again\n");
        continue;
      }
      std::fprintf(stderr,
                   "twasm serve: %s, finishing the requests in flight\n",
                   signal == SIGINT ? "SIGINT" : "SIGTERM");
      serving->shutdown();
      return;
    }
  });
  Status outcome = (*server)->serve();
  served = true;
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  if (!outcome)
    return error(outcome.error().message);
  std::fprintf(stderr, "twasm serve: stopped\n");
  return 0;
}

} // namespace tensorwasm::tool
