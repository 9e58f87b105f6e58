//===- ApiServer.cpp - the HTTP/JSON API over a tenant gateway ------------===//
//
// Each request: the route's handler runs inside serveCall(), which
// authenticates the bearer token (cheap refusals first: a client address
// that keeps failing is refused before any signature is checked), takes the
// tenant's request budget, maps a runtime Error to its HTTP status, and
// writes the audit line and the metrics whatever happened. Instances and
// snapshots are named by random ids and belong to the tenant that made
// them: another tenant's id is "not found", as an id that never existed.
//
//===----------------------------------------------------------------------===//

#include "twasm/Server.h"

#include "Metrics.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

namespace tensorwasm {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

/// A refusal with its HTTP status and a stable code for programs.
struct HttpError {
  int status;
  std::string code;
  std::string message;
};

HttpError fromError(Error error, const std::string &registryDirectory) {
  // Tenants learn what failed, not where the server keeps its files.
  for (size_t at = error.message.find(registryDirectory);
       !registryDirectory.empty() && at != std::string::npos;
       at = error.message.find(registryDirectory, at))
    error.message.replace(at, registryDirectory.size(), "<registry>");
  switch (error.code) {
  case ErrorCode::InvalidArgument:
    return {400, "invalid_argument", error.message};
  case ErrorCode::InvalidModule:
    return {422, "invalid_module", error.message};
  case ErrorCode::ResourceExhausted:
    return {429, "resource_exhausted", error.message};
  case ErrorCode::DeviceFailure:
    return {503, "device_failure", error.message};
  case ErrorCode::Unsupported:
    return {501, "unsupported", error.message};
  case ErrorCode::Untrusted:
    return {403, "forbidden", error.message};
  }
  return {500, "internal", error.message};
}

/// Whether two secrets are equal, in a time that depends on their lengths
/// alone.
bool sameSecret(const std::string &given, const std::string &expected) {
  if (given.size() != expected.size())
    return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < given.size(); ++i)
    difference |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return difference == 0;
}

/// A token bucket.
struct Bucket {
  double tokens = -1;
  Clock::time_point refilled;
  bool take(double rate, unsigned burst, Clock::time_point now) {
    if (tokens < 0)
      tokens = burst;
    else
      tokens = std::min<double>(
          burst,
          tokens +
              std::chrono::duration<double>(now - refilled).count() * rate);
    refilled = now;
    if (tokens < 1)
      return false;
    tokens -= 1;
    return true;
  }
};

/// A random id: 128 bits, hex.
std::string newId() {
  static std::mutex mutex;
  static std::random_device device;
  std::lock_guard<std::mutex> lock(mutex);
  char text[33];
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = (uint64_t(device()) << 32) | device();
    std::snprintf(text + 16 * half, 17, "%016llx",
                  static_cast<unsigned long long>(bits));
  }
  return text;
}

/// An unsigned integer query parameter, or its default.
uint64_t queryNumber(const httplib::Request &request, const char *name,
                     uint64_t fallback, uint64_t maximum) {
  if (!request.has_param(name))
    return fallback;
  std::string text = request.get_param_value(name);
  uint64_t value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty())
    throw HttpError{400, "invalid_argument",
                    std::string("the query parameter '") + name +
                        "' must be an unsigned integer"};
  if (value > maximum)
    throw HttpError{400, "invalid_argument",
                    std::string("the query parameter '") + name +
                        "' is at most " + std::to_string(maximum)};
  return value;
}

json entryJson(const RegistryEntry &entry) {
  return {{"name", entry.name},       {"version", entry.version},
          {"digest", entry.digest},   {"size", entry.size},
          {"signer", entry.signer},   {"created", entry.created},
          {"expires", entry.expires}, {"pushed", entry.pushed}};
}

/// A JSON body's object, or 400.
json parseBody(const httplib::Request &request) {
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    throw HttpError{400, "invalid_argument",
                    "the request body must be a JSON object"};
  return body;
}

uint32_t dimension(const json &value, const char *what) {
  if (!value.is_number_unsigned() || value.get<uint64_t>() == 0 ||
      value.get<uint64_t>() > 0xffffffffu)
    throw HttpError{400, "invalid_argument",
                    std::string(what) +
                        " extents must be integers from 1 to 2^32-1"};
  return static_cast<uint32_t>(value.get<uint64_t>());
}

Dim3 dim3(const json &body, const char *key) {
  Dim3 result;
  if (!body.contains(key))
    return result;
  const json &value = body[key];
  if (!value.is_array() || value.empty() || value.size() > 3)
    throw HttpError{400, "invalid_argument",
                    std::string("'") + key +
                        "' must be an array of 1 to 3 extents"};
  result.x = dimension(value[0], key);
  if (value.size() > 1)
    result.y = dimension(value[1], key);
  if (value.size() > 2)
    result.z = dimension(value[2], key);
  return result;
}

/// A typed argument: {"type": "i32", "value": 5}; i64 also as a decimal
/// string (JSON numbers are exact only to 2^53); floats also as "nan",
/// "inf", "-inf".
Value argument(const json &item, size_t index) {
  auto bad = [&](const std::string &why) {
    return HttpError{400, "invalid_argument",
                     "argument " + std::to_string(index) + ": " + why};
  };
  if (!item.is_object() || !item.contains("type") || !item.contains("value") ||
      !item["type"].is_string())
    throw bad("an argument is {\"type\": \"i32|i64|f32|f64\", \"value\": ...}");
  std::string type = item["type"];
  const json &value = item["value"];
  if (type == "i32" || type == "i64") {
    int64_t number = 0;
    if (value.is_number_unsigned()) {
      // Up to 2^32-1 for i32 and 2^64-1 for i64: the bit pattern.
      uint64_t bits = value.get<uint64_t>();
      if (type == "i64")
        return Value::i64(static_cast<int64_t>(bits));
      if (bits > UINT32_MAX)
        throw bad("out of the range of i32");
      return Value::i32(static_cast<int32_t>(static_cast<uint32_t>(bits)));
    }
    if (value.is_number_integer()) {
      number = value.get<int64_t>();
    } else if (value.is_string() && type == "i64") {
      const std::string &text = value.get_ref<const std::string &>();
      auto [end, error] =
          std::from_chars(text.data(), text.data() + text.size(), number);
      if (error != std::errc() || end != text.data() + text.size() ||
          text.empty())
        throw bad("not a decimal integer");
    } else {
      throw bad("an integer is needed for " + type);
    }
    if (type == "i64")
      return Value::i64(number);
    if (number < INT32_MIN || number > UINT32_MAX)
      throw bad("out of the range of i32");
    return Value::i32(static_cast<int32_t>(static_cast<uint32_t>(number)));
  }
  if (type == "f32" || type == "f64") {
    double number = 0;
    if (value.is_number()) {
      number = value.get<double>();
    } else if (value.is_string() && value == "nan") {
      number = std::nan("");
    } else if (value.is_string() && value == "inf") {
      number = INFINITY;
    } else if (value.is_string() && value == "-inf") {
      number = -INFINITY;
    } else {
      throw bad("a number (or \"nan\", \"inf\", \"-inf\") is needed for " +
                type);
    }
    return type == "f32" ? Value::f32(static_cast<float>(number))
                         : Value::f64(number);
  }
  throw bad("unknown type '" + type + "'");
}

const char *outcomeName(LaunchResult::Outcome outcome) {
  switch (outcome) {
  case LaunchResult::Outcome::Completed:
    return "completed";
  case LaunchResult::Outcome::Trapped:
    return "trapped";
  case LaunchResult::Outcome::Interrupted:
    return "interrupted";
  }
  return "completed";
}

json dim3Json(const Dim3 &d) { return json::array({d.x, d.y, d.z}); }

/// An instance a tenant made through the server.
struct Hosted {
  std::string tenant;
  std::string kernel; // NAME@VERSION
  std::shared_ptr<TenantInstance> instance;
  int64_t created = 0;
};

struct StoredSnapshot {
  std::string tenant;
  std::string kernel;
  std::string bytes;
  int64_t created = 0;
};

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

/// The capability the pre-routing check verified for the request this
/// thread is serving: httplib runs the pre-routing handler and the route's
/// handler of one request on one thread, before the next request.
thread_local std::optional<Capability> verifiedCaller;

struct ApiServer::State {
  std::shared_ptr<TenantGateway> gateway;
  std::optional<Registry> registry;
  ServerOptions options;
  httplib::Server http;
  std::atomic<bool> draining{false};
  /// Set when serve() returns.
  std::atomic<bool> finished{false};
  server::Metrics metrics;

  std::mutex auditMutex;
  std::ofstream audit;

  std::mutex bucketsMutex;
  std::map<std::string, Bucket> tenantBuckets, addressBuckets;

  std::mutex objectsMutex;
  std::map<std::string, std::shared_ptr<Hosted>> instances;
  std::map<std::string, std::shared_ptr<StoredSnapshot>> snapshots;

  /// One request as the handlers see it.
  struct Call {
    const httplib::Request &request;
    httplib::Response &response;
    std::optional<Capability> caller;
    const std::string &tenant() const { return caller->tenant(); }
  };
  using Handler = std::function<void(Call &)>;
  /// Each route's path pattern and method, for 405 answers.
  struct Route {
    std::regex path;
    std::string method;
  };
  std::vector<Route> routes;

  void route(const char *method, const std::string &pattern,
             const std::string &name, bool authenticated, Handler handler);
  void serveCall(const std::string &name, bool authenticated,
                 const Handler &handler, const httplib::Request &request,
                 httplib::Response &response);
  void authenticate(Call &call);
  /// Counts and audits an answer made outside serveCall().
  void answered(const httplib::Request &request,
                const httplib::Response &response, const std::string &name,
                const std::optional<Capability> &caller) {
    metrics.request(name, response.status, 0);
    writeAudit(request, response.status, caller, response.body.size(), 0);
  }
  void writeAudit(const httplib::Request &request, int status,
                  const std::optional<Capability> &caller, size_t responseBytes,
                  double seconds);

  /// The registry's entry for `reference` if the caller's token covers
  /// it for some operation; else 404, as for an unknown one.
  RegistryEntry findVisible(Call &call, const std::string &reference);
  std::shared_ptr<Hosted> instanceOf(Call &call, const std::string &id);
  HttpError refusal(const Error &error) const {
    return fromError(error, registry->directory());
  }
  json instanceJson(const std::string &id, const Hosted &hosted);
  void addRoutes();
  void answerInstance(Call &call, Result<std::unique_ptr<TenantInstance>> made,
                      const std::string &kernel);
};

void reply(httplib::Response &response, int status, const json &body) {
  response.status = status;
  // Messages may repeat what a client sent: bytes that are not UTF-8 are
  // replaced, not thrown on.
  response.set_content(
      body.dump(-1, ' ', false, json::error_handler_t::replace),
      "application/json");
}

void ApiServer::State::route(const char *method, const std::string &pattern,
                             const std::string &name, bool authenticated,
                             Handler handler) {
  auto serve = [this, name, authenticated,
                handler = std::move(handler)](const httplib::Request &request,
                                              httplib::Response &response) {
    serveCall(name, authenticated, handler, request, response);
  };
  std::string m = method;
  routes.push_back({std::regex(pattern), m});
  if (m == "GET")
    http.Get(pattern, serve);
  else if (m == "POST")
    http.Post(pattern, serve);
  else if (m == "PUT")
    http.Put(pattern, serve);
  else
    http.Delete(pattern, serve);
}

void ApiServer::State::serveCall(const std::string &name, bool authenticated,
                                 const Handler &handler,
                                 const httplib::Request &request,
                                 httplib::Response &response) {
  Clock::time_point start = Clock::now();
  Call call{request, response, std::nullopt};
  try {
    if (authenticated && verifiedCaller) {
      call.caller = std::move(*verifiedCaller);
      verifiedCaller.reset();
    } else if (authenticated) {
      authenticate(call);
    }
    handler(call);
  } catch (const HttpError &error) {
    if (error.status == 401)
      response.set_header("WWW-Authenticate", "Bearer");
    reply(response, error.status,
          {{"error", {{"code", error.code}, {"message", error.message}}}});
  } catch (const std::bad_alloc &) {
    reply(response, 503,
          {{"error",
            {{"code", "out_of_memory"},
             {"message", "the server ran out of memory for this request"}}}});
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  metrics.request(name, response.status, seconds);
  writeAudit(request, response.status, call.caller, response.body.size(),
             seconds);
}

void ApiServer::State::authenticate(Call &call) {
  const std::string &address = call.request.remote_addr;
  Clock::time_point now = Clock::now();
  // A request without a valid token takes from its address's bucket; an
  // address whose bucket is empty is answered 429. Valid tokens never
  // wait on it, so failing clients behind a shared address cannot lock
  // out the others there.
  auto refuse = [&](const std::string &message) {
    std::lock_guard<std::mutex> lock(bucketsMutex);
    // Bounded: past this many addresses, those that have not failed
    // lately (their buckets full again) are forgotten.
    if (addressBuckets.size() > 10000)
      for (auto it = addressBuckets.begin(); it != addressBuckets.end();) {
        bool quiet =
            std::chrono::duration<double>(now - it->second.refilled).count() *
                options.unauthenticatedPerSecond >=
            options.unauthenticatedBurst;
        it = quiet ? addressBuckets.erase(it) : std::next(it);
      }
    if (!addressBuckets[address].take(options.unauthenticatedPerSecond,
                                      options.unauthenticatedBurst, now))
      return HttpError{429, "rate_limited",
                       "too many requests without a valid token from this "
                       "address"};
    return HttpError{401, "unauthenticated", message};
  };
  std::string header = call.request.get_header_value("Authorization");
  static const std::string kBearer = "bearer ";
  // The scheme's name is case-insensitive (RFC 9110, section 11.1).
  bool bearer = header.size() > kBearer.size();
  for (size_t i = 0; bearer && i < kBearer.size(); ++i)
    bearer = std::tolower(static_cast<unsigned char>(header[i])) == kBearer[i];
  if (!bearer)
    throw refuse("an 'Authorization: Bearer TOKEN' header with a capability "
                 "token is needed");
  Result<Capability> verified =
      gateway->authenticate(std::string_view(header).substr(kBearer.size()));
  if (!verified)
    throw refuse(verified.error().message);
  call.caller = std::move(*verified);
  std::lock_guard<std::mutex> lock(bucketsMutex);
  if (!tenantBuckets[call.tenant()].take(options.requestsPerSecond,
                                         options.requestBurst, now))
    throw HttpError{429, "rate_limited",
                    "tenant '" + call.tenant() + "' sends more than " +
                        std::to_string(options.requestsPerSecond) +
                        " requests per second"};
}

void ApiServer::State::writeAudit(const httplib::Request &request, int status,
                                  const std::optional<Capability> &caller,
                                  size_t responseBytes, double seconds) {
  if (!audit.is_open())
    return;
  json line = {{"time", unixNow()},
               {"remote", request.remote_addr},
               {"method", request.method},
               {"path", request.path},
               {"target", request.target},
               {"status", status},
               {"request_bytes", request.body.size()},
               {"response_bytes", responseBytes},
               {"seconds", seconds}};
  if (caller) {
    line["tenant"] = caller->tenant();
    line["token"] = caller->claims().tokenId;
  }
  // Invalid UTF-8 in a path is replaced, not thrown.
  std::string text =
      line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(auditMutex);
  audit << text;
  audit.flush();
}

/// Whether `caller`'s token names any operation on `entry`.
static bool visibleTo(const Capability &caller, const RegistryEntry &entry) {
  for (Operation operation :
       {Operation::Publish, Operation::Instantiate, Operation::Launch,
        Operation::Snapshot, Operation::Restore})
    if (caller.covers(operation, entry.name, entry.digest))
      return true;
  return false;
}

RegistryEntry ApiServer::State::findVisible(Call &call,
                                            const std::string &reference) {
  Result<RegistryEntry> entry = registry->find(reference);
  // Unknown and not covered read the same: what is in the registry is not
  // disclosed to tenants whose tokens name none of it.
  if (!entry || !visibleTo(*call.caller, *entry))
    throw HttpError{404, "not_found", "no kernel '" + reference + "'"};
  return *entry;
}

std::shared_ptr<Hosted> ApiServer::State::instanceOf(Call &call,
                                                     const std::string &id) {
  std::lock_guard<std::mutex> lock(objectsMutex);
  auto found = instances.find(id);
  if (found == instances.end() || found->second->tenant != call.tenant())
    throw HttpError{404, "not_found", "no instance '" + id + "'"};
  return found->second;
}

json ApiServer::State::instanceJson(const std::string &id,
                                    const Hosted &hosted) {
  return {{"id", id},
          {"kernel", hosted.kernel},
          {"memory_bytes", hosted.instance->memoryBytes()},
          {"created", hosted.created}};
}

void ApiServer::State::answerInstance(
    Call &call, Result<std::unique_ptr<TenantInstance>> made,
    const std::string &kernel) {
  if (!made)
    throw refusal(made.error());
  auto hosted = std::make_shared<Hosted>();
  hosted->tenant = call.tenant();
  const ArtifactManifest &manifest = (*made)->artifact().manifest();
  hosted->kernel = kernel.empty()
                       ? manifest.name + "@" + std::to_string(manifest.version)
                       : kernel;
  hosted->instance = std::move(*made);
  hosted->created = unixNow();
  std::string id = newId();
  {
    std::lock_guard<std::mutex> lock(objectsMutex);
    instances[id] = hosted;
  }
  reply(call.response, 201, instanceJson(id, *hosted));
}

void ApiServer::State::addRoutes() {
  http.Get("/healthz", [this](const httplib::Request &request,
                              httplib::Response &response) {
    bool down = draining.load();
    reply(response, down ? 503 : 200, {{"status", down ? "draining" : "ok"}});
    answered(request, response, "healthz", std::nullopt);
  });
  http.Get("/metrics", [this](const httplib::Request &request,
                              httplib::Response &response) {
    // Tenant names and usage: for the operator's scraper, with the metrics
    // secret, or on this machine.
    bool allowed = options.metricsToken.empty()
                       ? request.remote_addr == "127.0.0.1" ||
                             request.remote_addr == "::1" ||
                             request.remote_addr == "::ffff:127.0.0.1"
                       : sameSecret(request.get_header_value("Authorization"),
                                    "Bearer " + options.metricsToken);
    if (!allowed) {
      reply(response, 403,
            {{"error",
              {{"code", "forbidden"},
               {"message", options.metricsToken.empty()
                               ? "metrics are served to loopback clients only"
                               : "metrics need the server's metrics token"}}}});
      answered(request, response, "metrics", std::nullopt);
      return;
    }
    std::vector<std::string> tenants;
    {
      std::lock_guard<std::mutex> lock(objectsMutex);
      for (const auto &[id, hosted] : instances)
        tenants.push_back(hosted->tenant);
    }
    response.status = 200;
    response.set_content(metrics.render(*gateway, tenants),
                         "text/plain; version=0.0.4");
    answered(request, response, "metrics", std::nullopt);
  });

  // Kernels (registry entries) the caller's token covers.
  route("GET", "/v1/kernels", "list_kernels", true, [this](Call &call) {
    size_t pageSize = queryNumber(call.request, "page_size", 100, 1000);
    if (pageSize == 0)
      throw HttpError{400, "invalid_argument", "page_size is at least 1"};
    ListQuery query;
    query.prefix = call.request.get_param_value("prefix");
    query.after = call.request.get_param_value("page_token");
    query.limit = 1000;
    // Pages hold only what the token covers, and the cursor is the last
    // entry shown: entries the tenant may not see are never named, not
    // even as a cursor.
    json items = json::array();
    std::string next;
    for (bool more = true; more && next.empty();) {
      Result<ListPage> page = registry->list(query);
      if (!page) {
        HttpError error = refusal(page.error());
        error.status = 400;
        error.code = "invalid_argument";
        throw error;
      }
      for (const RegistryEntry &entry : page->entries) {
        if (!visibleTo(*call.caller, entry))
          continue;
        items.push_back(entryJson(entry));
        if (items.size() == pageSize) {
          next = entry.name + "@" + std::to_string(entry.version);
          break;
        }
      }
      more = !page->next.empty();
      query.after = page->next;
    }
    json body = {{"items", items}};
    if (!next.empty())
      body["next_page_token"] = next;
    reply(call.response, 200, body);
  });

  route("GET", R"(/v1/kernels/(.+))", "get_kernel", true, [this](Call &call) {
    std::string reference = call.request.matches[1];
    RegistryEntry entry = findVisible(call, reference);
    Result<Artifact> artifact =
        registry->fetch(entry.name + "@" + std::to_string(entry.version));
    if (!artifact)
      throw refusal(artifact.error());
    json body = entryJson(entry);
    json kernels = json::array();
    for (const ArtifactManifest::Kernel &kernel :
         artifact->manifest().kernels) {
      json params = json::array();
      for (ValueType type : kernel.params)
        params.push_back(valueTypeName(type));
      kernels.push_back({{"name", kernel.name}, {"params", params}});
    }
    body["kernels"] = kernels;
    if (const auto &memory = artifact->manifest().memory) {
      body["memory"] = {{"minimum_pages", memory->minimumPages}};
      if (memory->maximumPages)
        body["memory"]["maximum_pages"] = *memory->maximumPages;
    }
    reply(call.response, 200, body);
  });

  route("POST", "/v1/kernels", "publish_kernel", true, [this](Call &call) {
    Result<RegistryEntry> pushed =
        gateway->publish(*call.caller, call.request.body);
    if (!pushed)
      throw refusal(pushed.error());
    reply(call.response, 201, entryJson(*pushed));
  });

  route("POST", "/v1/instances", "create_instance", true, [this](Call &call) {
    json body = parseBody(call.request);
    if (!body.contains("kernel") || !body["kernel"].is_string())
      throw HttpError{400, "invalid_argument",
                      "'kernel' (NAME or NAME@VERSION) is needed"};
    std::string reference = body["kernel"];
    findVisible(call, reference);
    answerInstance(call, gateway->instantiate(*call.caller, reference), {});
  });

  route("GET", "/v1/instances", "list_instances", true, [this](Call &call) {
    json items = json::array();
    std::lock_guard<std::mutex> lock(objectsMutex);
    for (const auto &[id, hosted] : instances)
      if (hosted->tenant == call.tenant())
        items.push_back(instanceJson(id, *hosted));
    reply(call.response, 200, {{"items", items}});
  });

  route("GET", R"(/v1/instances/([0-9a-f]{32}))", "get_instance", true,
        [this](Call &call) {
          std::string id = call.request.matches[1];
          std::shared_ptr<Hosted> hosted = instanceOf(call, id);
          reply(call.response, 200, instanceJson(id, *hosted));
        });

  route("DELETE", R"(/v1/instances/([0-9a-f]{32}))", "delete_instance", true,
        [this](Call &call) {
          std::string id = call.request.matches[1];
          std::shared_ptr<Hosted> hosted = instanceOf(call, id);
          {
            std::lock_guard<std::mutex> lock(objectsMutex);
            instances.erase(id);
          }
          // Answered now; a launch running on it holds it until it ends.
          hosted.reset();
          call.response.status = 204;
        });

  route("PUT", R"(/v1/instances/([0-9a-f]{32})/memory)", "write_memory", true,
        [this](Call &call) {
          std::shared_ptr<Hosted> hosted =
              instanceOf(call, call.request.matches[1]);
          uint64_t offset = queryNumber(call.request, "offset", 0, UINT64_MAX);
          const std::string &bytes = call.request.body;
          if (Status status = hosted->instance->write(
                  *call.caller, offset, bytes.data(), bytes.size());
              !status)
            throw refusal(status.error());
          call.response.status = 204;
        });

  route("GET", R"(/v1/instances/([0-9a-f]{32})/memory)", "read_memory", true,
        [this](Call &call) {
          std::shared_ptr<Hosted> hosted =
              instanceOf(call, call.request.matches[1]);
          uint64_t offset = queryNumber(call.request, "offset", 0, UINT64_MAX);
          uint64_t length =
              queryNumber(call.request, "length", 0, options.maxReadBytes);
          std::string bytes(length, '\0');
          if (Status status = hosted->instance->read(*call.caller, offset,
                                                     bytes.data(), length);
              !status)
            throw refusal(status.error());
          call.response.status = 200;
          call.response.set_content(std::move(bytes),
                                    "application/octet-stream");
        });

  route("POST", R"(/v1/instances/([0-9a-f]{32})/grow)", "grow_memory", true,
        [this](Call &call) {
          std::shared_ptr<Hosted> hosted =
              instanceOf(call, call.request.matches[1]);
          json body = parseBody(call.request);
          if (!body.contains("pages") || !body["pages"].is_number_unsigned() ||
              body["pages"].get<uint64_t>() > 65536)
            throw HttpError{400, "invalid_argument",
                            "'pages' is an integer from 0 to 65536"};
          Result<uint32_t> previous = hosted->instance->grow(
              *call.caller,
              static_cast<uint32_t>(body["pages"].get<uint64_t>()));
          if (!previous)
            throw refusal(previous.error());
          reply(call.response, 200,
                {{"previous_pages", *previous},
                 {"memory_bytes", hosted->instance->memoryBytes()}});
        });

  route(
      "POST", R"(/v1/instances/([0-9a-f]{32})/invoke)", "invoke", true,
      [this](Call &call) {
        std::shared_ptr<Hosted> hosted =
            instanceOf(call, call.request.matches[1]);
        json body = parseBody(call.request);
        if (!body.contains("kernel") || !body["kernel"].is_string())
          throw HttpError{400, "invalid_argument",
                          "'kernel' names the kernel to launch"};
        std::vector<Value> arguments;
        if (body.contains("args")) {
          if (!body["args"].is_array())
            throw HttpError{400, "invalid_argument",
                            "'args' is an array of typed arguments"};
          for (size_t i = 0; i < body["args"].size(); ++i)
            arguments.push_back(argument(body["args"][i], i));
        }
        LaunchOptions launch;
        launch.grid = dim3(body, "grid");
        launch.block = dim3(body, "block");
        if (body.contains("shared_bytes")) {
          if (!body["shared_bytes"].is_number_unsigned() ||
              body["shared_bytes"].get<uint64_t>() > 0xffffffffu)
            throw HttpError{400, "invalid_argument",
                            "'shared_bytes' is an unsigned 32-bit integer"};
          launch.sharedBytes =
              static_cast<uint32_t>(body["shared_bytes"].get<uint64_t>());
        }
        if (body.contains("timeout_ms")) {
          if (!body["timeout_ms"].is_number_unsigned() ||
              body["timeout_ms"].get<uint64_t>() > 86400000)
            throw HttpError{400, "invalid_argument",
                            "'timeout_ms' is an integer from 0 to 86400000"};
          launch.timeout =
              std::chrono::milliseconds(body["timeout_ms"].get<uint64_t>());
        }
        std::string kernel = body["kernel"];
        Result<LaunchResult> result =
            hosted->instance->launch(*call.caller, kernel, launch, arguments);
        if (!result)
          throw refusal(result.error());
        double seconds = std::chrono::duration<double>(result->elapsed).count();
        metrics.launch(call.tenant(), outcomeName(result->outcome), seconds);
        json answer = {{"outcome", outcomeName(result->outcome)},
                       {"elapsed_ms", seconds * 1000},
                       {"threads", result->threads}};
        if (result->outcome == LaunchResult::Outcome::Trapped)
          answer["trap"] = {{"code", static_cast<uint32_t>(result->trap.code)},
                            {"message", abi::trapMessage(result->trap.code)},
                            {"description", result->trap.describe()},
                            {"function", result->trap.function},
                            {"offset", result->trap.offset},
                            {"block", dim3Json(result->trap.block)},
                            {"thread", dim3Json(result->trap.thread)}};
        reply(call.response, 200, answer);
      });

  // Snapshots, kept by the server for their tenant.
  route("POST", R"(/v1/instances/([0-9a-f]{32})/snapshots)", "create_snapshot",
        true, [this](Call &call) {
          if (!options.snapshotKey)
            throw HttpError{501, "unsupported",
                            "this server has no snapshot key (twasm serve "
                            "--snapshot-key FILE)"};
          std::shared_ptr<Hosted> hosted =
              instanceOf(call, call.request.matches[1]);
          {
            std::lock_guard<std::mutex> lock(objectsMutex);
            unsigned count = 0;
            for (const auto &[id, kept] : snapshots)
              count += kept->tenant == call.tenant();
            if (count >= options.snapshotsPerTenant)
              throw HttpError{429, "resource_exhausted",
                              "tenant '" + call.tenant() + "' keeps " +
                                  std::to_string(count) +
                                  " snapshots, its limit: delete one first"};
          }
          Result<std::string> bytes = gateway->snapshot(
              *call.caller, *hosted->instance, *options.snapshotKey);
          if (!bytes)
            throw refusal(bytes.error());
          auto kept = std::make_shared<StoredSnapshot>();
          kept->tenant = call.tenant();
          kept->kernel = hosted->kernel;
          kept->bytes = std::move(*bytes);
          kept->created = unixNow();
          std::string id = newId();
          std::lock_guard<std::mutex> lock(objectsMutex);
          // Counted again: others may have been stored meanwhile.
          uint64_t held = 0;
          unsigned count = 0;
          for (const auto &[other, snapshot] : snapshots)
            if (snapshot->tenant == call.tenant()) {
              held += snapshot->bytes.size();
              ++count;
            }
          if (count >= options.snapshotsPerTenant)
            throw HttpError{429, "resource_exhausted",
                            "tenant '" + call.tenant() + "' keeps " +
                                std::to_string(count) +
                                " snapshots, its limit: delete one first"};
          if (kept->bytes.size() >
              options.snapshotBytesPerTenant -
                  std::min(held, options.snapshotBytesPerTenant))
            throw HttpError{429, "resource_exhausted",
                            "tenant '" + call.tenant() +
                                "''s snapshots would hold more than " +
                                std::to_string(options.snapshotBytesPerTenant) +
                                " bytes"};
          snapshots[id] = kept;
          reply(call.response, 201,
                {{"id", id},
                 {"kernel", kept->kernel},
                 {"bytes", kept->bytes.size()},
                 {"created", kept->created}});
        });

  route("GET", "/v1/snapshots", "list_snapshots", true, [this](Call &call) {
    json items = json::array();
    std::lock_guard<std::mutex> lock(objectsMutex);
    for (const auto &[id, kept] : snapshots)
      if (kept->tenant == call.tenant())
        items.push_back({{"id", id},
                         {"kernel", kept->kernel},
                         {"bytes", kept->bytes.size()},
                         {"created", kept->created}});
    reply(call.response, 200, {{"items", items}});
  });

  auto snapshotOf = [this](Call &call) {
    std::string id = call.request.matches[1];
    std::lock_guard<std::mutex> lock(objectsMutex);
    auto found = snapshots.find(id);
    if (found == snapshots.end() || found->second->tenant != call.tenant())
      throw HttpError{404, "not_found", "no snapshot '" + id + "'"};
    return found->second;
  };

  route("GET", R"(/v1/snapshots/([0-9a-f]{32}))", "download_snapshot", true,
        [snapshotOf](Call &call) {
          std::shared_ptr<StoredSnapshot> kept = snapshotOf(call);
          call.response.status = 200;
          call.response.set_header("X-Twasm-Kernel", kept->kernel);
          // Streamed from the kept snapshot, not copied (up to 1 GiB).
          call.response.set_content_provider(
              kept->bytes.size(), "application/octet-stream",
              [kept](size_t offset, size_t length, httplib::DataSink &sink) {
                return sink.write(kept->bytes.data() + offset,
                                  std::min<size_t>(length, 1 << 20));
              });
        });

  route("DELETE", R"(/v1/snapshots/([0-9a-f]{32}))", "delete_snapshot", true,
        [this, snapshotOf](Call &call) {
          snapshotOf(call);
          std::lock_guard<std::mutex> lock(objectsMutex);
          snapshots.erase(call.request.matches[1]);
          call.response.status = 204;
        });

  auto restore = [this](Call &call, const std::string &kernel,
                        const std::string &bytes) {
    if (!options.snapshotKey)
      throw HttpError{501, "unsupported",
                      "this server has no snapshot key (twasm serve "
                      "--snapshot-key FILE)"};
    findVisible(call, kernel);
    SnapshotKeyring keys;
    if (Status status = keys.add(*options.snapshotKey); !status)
      throw refusal(status.error());
    answerInstance(call, gateway->restore(*call.caller, kernel, bytes, keys),
                   {});
  };

  route("POST", R"(/v1/snapshots/([0-9a-f]{32})/restore)", "restore_snapshot",
        true, [snapshotOf, restore](Call &call) {
          std::shared_ptr<StoredSnapshot> kept = snapshotOf(call);
          restore(call, kept->kernel, kept->bytes);
        });

  route("POST", "/v1/restore", "restore_upload", true, [restore](Call &call) {
    if (!call.request.has_param("kernel"))
      throw HttpError{400, "invalid_argument",
                      "the query parameter 'kernel' names the snapshot's "
                      "artifact (NAME@VERSION)"};
    restore(call, call.request.get_param_value("kernel"), call.request.body);
  });

  // Unknown routes answer in the API's own shape.
  // Before a request's body is read: a body on a request that has none
  // (httplib leaves it unread, to be read as the next request on the
  // connection) is refused; a call to the API is authenticated, so that a
  // client without a valid token never has its body read into memory.
  http.set_pre_routing_handler([this](const httplib::Request &request,
                                      httplib::Response &response) {
    verifiedCaller.reset();
    bool bodiless = request.method == "GET" || request.method == "HEAD" ||
                    request.method == "OPTIONS";
    std::string length = request.get_header_value("Content-Length");
    if (bodiless && (request.has_header("Transfer-Encoding") ||
                     (!length.empty() && length != "0"))) {
      response.set_header("Connection", "close");
      reply(response, 400,
            {{"error",
              {{"code", "bad_request"},
               {"message", "a " + request.method + " request has no body"}}}});
      answered(request, response, "before_routing", std::nullopt);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (request.path.rfind("/v1/", 0) != 0)
      return httplib::Server::HandlerResponse::Unhandled;
    Call call{request, response, std::nullopt};
    try {
      authenticate(call);
    } catch (const HttpError &error) {
      // Its body, if any, is unread: the connection cannot be reused.
      response.set_header("Connection", "close");
      if (error.status == 401)
        response.set_header("WWW-Authenticate", "Bearer");
      reply(response, error.status,
            {{"error", {{"code", error.code}, {"message", error.message}}}});
      answered(request, response, "before_routing", std::nullopt);
      return httplib::Server::HandlerResponse::Handled;
    }
    verifiedCaller = std::move(call.caller);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  routes.push_back({std::regex("/healthz"), "GET"});
  routes.push_back({std::regex("/metrics"), "GET"});
  http.set_error_handler([this](const httplib::Request &request,
                                httplib::Response &response) {
    if (!response.body.empty())
      return;
    // Every answer is audited and counted, those httplib makes too.
    struct Answered {
      State &state;
      const httplib::Request &request;
      httplib::Response &response;
      ~Answered() { state.answered(request, response, "unrouted", {}); }
    } answered{*this, request, response};
    // A request httplib could not take (400: a method it does not know,
    // such as TRACE, or a malformed request) may have left a body
    // unread on the connection: it is closed, so that the body is not
    // read as the next request.
    if (response.status == 400)
      response.set_header("Connection", "close");
    // A known path with another method: 405, with the methods it has.
    if (response.status == 404 || response.status == 400) {
      std::string allowed;
      for (const Route &route : routes)
        if (std::regex_match(request.path, route.path) &&
            allowed.find(route.method) == std::string::npos)
          allowed += (allowed.empty() ? "" : ", ") + route.method;
      if (!allowed.empty()) {
        response.set_header("Allow", allowed);
        reply(response, 405,
              {{"error",
                {{"code", "method_not_allowed"},
                 {"message", "'" + request.method + " " + request.path +
                                 "' is not a route; its methods are " +
                                 allowed}}}});
        return;
      }
    }
    bool tooLarge = response.status == 413, notFound = response.status == 404;
    reply(
        response, response.status,
        {{"error",
          {{"code", tooLarge   ? "payload_too_large"
                    : notFound ? "not_found"
                               : "bad_request"},
           {"message", tooLarge   ? "the request body is too large"
                       : notFound ? "no such route"
                                  : "the request is not well-formed HTTP"}}}});
  });
  http.set_exception_handler([this](const httplib::Request &request,
                                    httplib::Response &response,
                                    std::exception_ptr) {
    reply(response, 500,
          {{"error",
            {{"code", "internal"},
             {"message", "the server failed on this request"}}}});
    answered(request, response, "exception", std::nullopt);
  });
}

ApiServer::ApiServer() : state(std::make_unique<State>()) {}
ApiServer::~ApiServer() = default;

Result<std::unique_ptr<ApiServer>>
ApiServer::create(std::shared_ptr<TenantGateway> gateway, Registry registry,
                  ServerOptions options) {
  std::unique_ptr<ApiServer> server(new ApiServer());
  State &state = *server->state;
  state.gateway = std::move(gateway);
  state.registry = std::move(registry);
  state.options = std::move(options);
  if (!state.options.auditPath.empty()) {
    state.audit.open(state.options.auditPath, std::ios::app);
    if (!state.audit)
      return Error{ErrorCode::InvalidArgument,
                   "cannot open the audit log " + state.options.auditPath};
  }
  unsigned threads = std::max(1u, state.options.threads);
  state.http.new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  state.http.set_payload_max_length(state.options.maxRequestBytes);
  // A slow client holds a worker thread at most this long per read.
  state.http.set_read_timeout(10, 0);
  state.http.set_write_timeout(10, 0);
  state.http.set_keep_alive_max_count(10000);
  // Answers go out when written: with Nagle's algorithm a small answer on a
  // kept-alive connection waits for the client's delayed acknowledgement
  // (40 ms on Linux), which was the median latency under load.
  state.http.set_tcp_nodelay(true);
  state.addRoutes();
  return server;
}

Result<int> ApiServer::bind() {
  State &s = *state;
  int port = s.options.port == 0
                 ? s.http.bind_to_any_port(s.options.host)
                 : (s.http.bind_to_port(s.options.host, s.options.port)
                        ? s.options.port
                        : -1);
  if (port < 0)
    return Error{ErrorCode::ResourceExhausted,
                 "cannot listen on " + s.options.host + ":" +
                     std::to_string(s.options.port)};
  return port;
}

Status ApiServer::serve() {
  // A shutdown that came first (a signal during start-up) stops it at once.
  bool listened = state->draining.load() || state->http.listen_after_bind();
  state->finished = true;
  if (!listened && !state->draining.load())
    return Error{ErrorCode::DeviceFailure,
                 "the server stopped listening unexpectedly"};
  return {};
}

void ApiServer::shutdown() {
  state->draining = true;
  if (!state->finished.load())
    std::this_thread::sleep_for(state->options.drainGrace);
  // httplib's stop() does nothing before its listener runs: asked again
  // until serve() has returned.
  while (!state->finished.load()) {
    state->http.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace tensorwasm
