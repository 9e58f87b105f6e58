//===- Metrics.cpp - the server's Prometheus metrics ----------------------===//

#include "Metrics.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace tensorwasm::server {

std::string labelValue(const std::string &value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

std::string withLabels(const std::string &labels, const std::string &more) {
  if (labels.empty())
    return "{" + more + "}";
  return "{" + labels + "," + more + "}";
}

} // namespace

void Histogram::observe(double seconds) {
  size_t bucket = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) -
                  kBounds.begin();
  ++counts[bucket];
  sum += seconds;
  ++count;
}

void Histogram::render(std::string &out, const std::string &name,
                       const std::string &labels) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += counts[i];
    out += name + "_bucket" +
           withLabels(labels, "le=\"" + number(kBounds[i]) + "\"") + " " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket" + withLabels(labels, "le=\"+Inf\"") + " " +
         std::to_string(count) + "\n";
  std::string plain = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + plain + " " + number(sum) + "\n";
  out += name + "_count" + plain + " " + std::to_string(count) + "\n";
}

void Metrics::request(const std::string &route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex);
  ++requests[{route, status}];
  requestSeconds[route].observe(seconds);
}

void Metrics::launch(const std::string &tenant, const std::string &outcome,
                     double seconds) {
  std::lock_guard<std::mutex> lock(mutex);
  ++launches[{tenant, outcome}];
  launchSeconds[tenant].observe(seconds);
}

std::string Metrics::render(TenantGateway &gateway,
                            std::vector<std::string> tenants) const {
  std::string out;
  std::set<std::string> known(tenants.begin(), tenants.end());
  {
    std::lock_guard<std::mutex> lock(mutex);
    out += "# HELP twasm_requests_total HTTP requests answered, by route and "
           "status.\n# TYPE twasm_requests_total counter\n";
    for (const auto &[key, value] : requests)
      out += "twasm_requests_total{route=\"" + labelValue(key.first) +
             "\",code=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(value) + "\n";
    out += "# HELP twasm_request_duration_seconds Time to answer a request, "
           "by route.\n# TYPE twasm_request_duration_seconds histogram\n";
    for (const auto &[route, histogram] : requestSeconds)
      histogram.render(out, "twasm_request_duration_seconds",
                       "route=\"" + labelValue(route) + "\"");
    out += "# HELP twasm_launches_total Kernel launches, by tenant and "
           "outcome (completed, trapped, interrupted).\n# TYPE "
           "twasm_launches_total counter\n";
    for (const auto &[key, value] : launches) {
      out += "twasm_launches_total{tenant=\"" + labelValue(key.first) +
             "\",outcome=\"" + key.second + "\"} " + std::to_string(value) +
             "\n";
      known.insert(key.first);
    }
    out += "# HELP twasm_launch_duration_seconds A launch's run time, by "
           "tenant.\n# TYPE twasm_launch_duration_seconds histogram\n";
    for (const auto &[tenant, histogram] : launchSeconds)
      histogram.render(out, "twasm_launch_duration_seconds",
                       "tenant=\"" + labelValue(tenant) + "\"");
  }
  out += "# HELP twasm_tenant_memory_bytes Linear memory charged to a "
         "tenant.\n# TYPE twasm_tenant_memory_bytes gauge\n";
  std::string instances = "# HELP twasm_tenant_instances A tenant's live "
                          "instances.\n# TYPE twasm_tenant_instances gauge\n";
  for (const std::string &tenant : known) {
    TenantUsage usage = gateway.usage(tenant);
    std::string label = "{tenant=\"" + labelValue(tenant) + "\"}";
    out += "twasm_tenant_memory_bytes" + label + " " +
           std::to_string(usage.memoryBytes) + "\n";
    instances += "twasm_tenant_instances" + label + " " +
                 std::to_string(usage.instances) + "\n";
  }
  return out + instances;
}

} // namespace tensorwasm::server
