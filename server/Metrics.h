//===- Metrics.h - the server's Prometheus metrics --------------*- C++ -*-===//
//
// Counters and latency histograms of requests and launches, and each
// tenant's usage from its gateway, in the Prometheus text format (version
// 0.0.4): https://prometheus.io/docs/instrumenting/exposition_formats/
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_SERVER_METRICS_H
#define TWASM_SERVER_METRICS_H

#include "twasm/Tenancy.h"

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tensorwasm::server {

/// Observations in cumulative buckets, as Prometheus histograms are.
class Histogram {
public:
  /// Upper bounds in seconds: 50 us to 10 s.
  static constexpr std::array<double, 16> kBounds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
  void observe(double seconds);
  /// The _bucket, _sum and _count lines of `name` with `labels`
  /// (`key="value",...`, or empty).
  void render(std::string &out, const std::string &name,
              const std::string &labels) const;

private:
  std::array<uint64_t, kBounds.size() + 1> counts{};
  double sum = 0;
  uint64_t count = 0;
};

class Metrics {
public:
  void request(const std::string &route, int status, double seconds);
  void launch(const std::string &tenant, const std::string &outcome,
              double seconds);
  /// Everything, with the usage of `tenants` (and of every tenant that
  /// launched) read from `gateway`.
  std::string render(TenantGateway &gateway,
                     std::vector<std::string> tenants) const;

private:
  mutable std::mutex mutex;
  std::map<std::pair<std::string, int>, uint64_t> requests;
  std::map<std::string, Histogram> requestSeconds;
  std::map<std::pair<std::string, std::string>, uint64_t> launches;
  std::map<std::string, Histogram> launchSeconds;
};

/// `value` as a label value: backslash, double quote and newline escaped.
std::string labelValue(const std::string &value);

} // namespace tensorwasm::server

#endif // TWASM_SERVER_METRICS_H
