//===- Server.h - the HTTP/JSON API of the runtime --------------*- C++ -*-===//
//
// `twasm serve`: tenants reach the runtime over HTTP with their capability
// tokens as bearer tokens (include/twasm/Tenancy.h). docs/openapi.yaml is
// the contract; docs/serve.md says how to run it. Every call goes through a
// TenantGateway, so tokens, quotas and isolation are the gateway's; the
// server adds what belongs to the network: request sizes, request rates,
// an audit line per request, metrics, and a shutdown that lets running
// launches end.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_SERVER_H
#define TWASM_SERVER_H

#include "twasm/Snapshot.h"
#include "twasm/Tenancy.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace tensorwasm {

struct ServerOptions {
  /// Where to listen; port 0 takes any free port (bind() says which).
  std::string host = "127.0.0.1";
  int port = 8080;
  /// Worker threads: requests served at once (more wait for a thread).
  unsigned threads = 64;
  /// The largest request body (an artifact, a memory write, a snapshot to
  /// restore); larger ones get 413 before they are read.
  uint64_t maxRequestBytes = uint64_t(80) << 20;
  /// The largest memory range one read returns.
  uint64_t maxReadBytes = uint64_t(64) << 20;
  /// Requests per second per tenant, all routes (a token bucket with this
  /// burst); the gateway's quota separately limits what costs the service.
  double requestsPerSecond = 500;
  unsigned requestBurst = 1000;
  /// Requests per second per client address without a valid token.
  double unauthenticatedPerSecond = 20;
  unsigned unauthenticatedBurst = 40;
  /// Snapshots kept per tenant, and their bytes together.
  unsigned snapshotsPerTenant = 16;
  uint64_t snapshotBytesPerTenant = uint64_t(1) << 30;
  /// The key snapshots are sealed with; without one, snapshot routes
  /// answer 501.
  std::optional<SnapshotKey> snapshotKey;
  /// Where each request's audit line (JSON) is appended; empty: nowhere.
  std::string auditPath;
  /// The bearer secret of /metrics (tenant names and usage); empty: it is
  /// served to loopback clients only.
  std::string metricsToken;
  /// How long shutdown() keeps taking requests, with /healthz answering
  /// 503, so that a load balancer stops sending before the listener goes.
  std::chrono::milliseconds drainGrace{0};
};

/// The server. Safe to shut down from any thread (a signal handler's
/// thread, a test).
class ApiServer {
public:
  /// A server over `gateway`, whose registry is `registry` (the same
  /// directory: the server lists it, the gateway makes instances from it).
  static Result<std::unique_ptr<ApiServer>>
  create(std::shared_ptr<TenantGateway> gateway, Registry registry,
         ServerOptions options);
  ~ApiServer();
  /// Binds the listening socket; returns the port.
  Result<int> bind();
  /// Serves until shutdown(), then waits for the requests in flight (a
  /// running launch included) to be answered.
  Status serve();
  /// Answers /healthz with 503, waits ServerOptions::drainGrace, then stops
  /// taking connections; serve() returns once the requests in flight are
  /// answered.
  void shutdown();

private:
  ApiServer();
  struct State;
  std::unique_ptr<State> state;
};

} // namespace tensorwasm

#endif // TWASM_SERVER_H
