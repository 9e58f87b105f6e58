//===- Capability.cpp - capability tokens and the revocation list ---------===//
//
// A capability token is a PASETO v4.public token (tenant/Paseto.cpp) whose
// message is the claims as JSON, whose footer names the issuer's key and
// whose implicit assertion binds it to this use, so that a token the same
// key signed for anything else never verifies here. docs/tenancy.md
// specifies the claims.
//
//===----------------------------------------------------------------------===//

#include "artifact/JsonLimits.h"
#include "support/Files.h"
#include "tenant/Paseto.h"
#include "twasm/Tenancy.h"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <unistd.h>

namespace tensorwasm {
namespace {

using json = nlohmann::json;

constexpr std::string_view kImplicitAssertion = "tensorwasm capability 1";
/// Far more than any real token (a few hundred bytes); refused before any
/// decoding, so that a huge header costs nothing.
constexpr size_t kMaximumTokenBytes = 16384;
constexpr size_t kMaximumKernelNameBytes = 255;
constexpr std::string_view kDigestPrefix = "sha256:";
/// How far ahead of the verifier's clock an issuer's may run.
constexpr int64_t kClockSkewSeconds = 60;

constexpr std::pair<Operation, const char *> kOperationNames[] = {
    {Operation::Publish, "publish"}, {Operation::Instantiate, "instantiate"},
    {Operation::Launch, "launch"},   {Operation::Snapshot, "snapshot"},
    {Operation::Restore, "restore"},
};

Error untrusted(const std::string &why) {
  return Error{ErrorCode::Untrusted, "capability token refused: " + why};
}

//===----------------------------------------------------------------------===//
// Times: RFC 3339, as PASETO's registered claims are written
//===----------------------------------------------------------------------===//

/// Days from 1970-01-01 to the given proleptic Gregorian date.
int64_t daysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  unsigned yearOfEra = static_cast<unsigned>(year - era * 400);
  unsigned dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  unsigned dayOfEra =
      yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
  return era * 146097 + static_cast<int64_t>(dayOfEra) - 719468;
}

} // namespace

std::string formatTokenTime(int64_t unixSeconds) {
  // formatArtifactTime writes "...Z"; PASETO's examples write the offset.
  std::string text = formatArtifactTime(unixSeconds);
  if (!text.empty() && text.back() == 'Z') {
    text.pop_back();
    text += "+00:00";
  }
  return text;
}

/// "YYYY-MM-DDTHH:MM:SS" then "Z" or "+HH:MM" / "-HH:MM".
std::optional<int64_t> parseTokenTime(std::string_view text) {
  auto digits = [&](size_t at, size_t count) -> std::optional<unsigned> {
    if (at + count > text.size())
      return std::nullopt;
    unsigned value = 0;
    for (size_t i = at; i < at + count; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i])))
        return std::nullopt;
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
    }
    return value;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2),
       hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second ||
      text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':' || *month < 1 || *month > 12 || *day < 1 || *day > 31 ||
      *hour > 23 || *minute > 59 || *second > 59)
    return std::nullopt;
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
  bool leap = *year % 4 == 0 && (*year % 100 != 0 || *year % 400 == 0);
  if (*day > kDays[*month - 1] || (*month == 2 && *day == 29 && !leap))
    return std::nullopt;
  int64_t offset = 0;
  std::string_view zone = text.substr(19);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else {
    auto offsetHours = digits(20, 2), offsetMinutes = digits(23, 2);
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
        zone[3] != ':' || !offsetHours || !offsetMinutes || *offsetHours > 23 ||
        *offsetMinutes > 59)
      return std::nullopt;
    offset = (*offsetHours * 60 + *offsetMinutes) * 60;
    if (zone[0] == '-')
      offset = -offset;
  }
  int64_t days = daysFromCivil(*year, *month, *day);
  return days * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
}

namespace {

//===----------------------------------------------------------------------===//
// Resources: what a token's "kernels" entries name
//===----------------------------------------------------------------------===//

struct Resource {
  /// A name pattern, or "sha256:" and a digest.
  std::string_view artifact;
  /// Empty: every kernel of the artifact.
  std::string_view kernel;
};

bool validKernelName(std::string_view name) {
  if (name.empty() || name.size() > kMaximumKernelNameBytes)
    return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c > ' ' && c < 0x7f && c != '#'; });
}

bool isDigest(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/// The artifact and kernel parts of an entry, unchecked.
Resource splitResource(std::string_view text) {
  size_t hash = text.find('#');
  if (hash == std::string_view::npos)
    return {text, {}};
  return {text.substr(0, hash), text.substr(hash + 1)};
}

/// An entry's parts, if it is a valid one.
std::optional<Resource> parseResource(std::string_view text) {
  Resource resource = splitResource(text);
  if (resource.artifact.size() != text.size() &&
      !validKernelName(resource.kernel))
    return std::nullopt;
  if (resource.artifact.substr(0, kDigestPrefix.size()) == kDigestPrefix) {
    if (!isDigest(resource.artifact.substr(kDigestPrefix.size())))
      return std::nullopt;
  } else if (!checkNamePattern(resource.artifact)) {
    return std::nullopt;
  }
  return resource;
}

//===----------------------------------------------------------------------===//
// Claims
//===----------------------------------------------------------------------===//

std::string footerFor(const PublicKey &key) {
  return json{{"kid", key.keyId()}}.dump();
}

Status checkClaims(const CapabilityClaims &claims) {
  auto invalid = [](const std::string &why) {
    return Error{ErrorCode::InvalidArgument, "capability claims: " + why};
  };
  if (Status status = checkTenantName(claims.tenant); !status)
    return status;
  if (claims.operations.empty())
    return invalid("no operation is granted");
  for (size_t i = 0; i < claims.operations.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (claims.operations[i] == claims.operations[j])
        return invalid(std::string("the operation '") +
                       operationName(claims.operations[i]) +
                       "' is granted twice");
  if (claims.kernels.empty())
    return invalid("no kernel is covered");
  for (const std::string &kernel : claims.kernels)
    if (!parseResource(kernel))
      return invalid("'" + kernel +
                     "' is not NAME, NAME/*, *, or sha256:<64 hex digits>, "
                     "optionally followed by #KERNEL");
  if (claims.expires <= claims.notBefore)
    return invalid("it expires before it becomes valid");
  if (claims.tokenId.empty() || claims.tokenId.size() > 128 ||
      !std::all_of(claims.tokenId.begin(), claims.tokenId.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
               c == '_' || c == '.';
      }))
    return invalid("the token id must be 1 to 128 of A-Z a-z 0-9 - _ .");
  return {};
}

std::string encodeClaims(const CapabilityClaims &claims) {
  json operations = json::array();
  for (Operation operation : claims.operations)
    operations.push_back(operationName(operation));
  // nlohmann's json orders keys, so one set of claims has one encoding.
  return json{{"sub", claims.tenant},
              {"jti", claims.tokenId},
              {"iat", formatTokenTime(claims.issuedAt)},
              {"nbf", formatTokenTime(claims.notBefore)},
              {"exp", formatTokenTime(claims.expires)},
              {"ops", operations},
              {"kernels", claims.kernels}}
      .dump();
}

/// The claims of a message whose signature verified. Exactly the fields of
/// docs/tenancy.md: a claim this version does not know might restrict the
/// token in a way it would not enforce, so it is refused, not ignored.
Result<CapabilityClaims> decodeClaims(std::string_view message) {
  auto malformed = [](const std::string &why) {
    return untrusted("its claims are malformed: " + why);
  };
  if (!json_nesting::within(message, json_nesting::kManifestDepth))
    return malformed("they nest too deeply");
  json document = json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object())
    return malformed("they are not a JSON object");
  static const std::set<std::string> kFields = {"sub", "jti", "iat",    "nbf",
                                                "exp", "ops", "kernels"};
  for (auto &[key, value] : document.items())
    if (!kFields.count(key))
      return malformed("unknown claim '" + key + "'");
  for (const std::string &key : kFields)
    if (!document.contains(key))
      return malformed("the claim '" + key + "' is missing");
  CapabilityClaims claims;
  auto text = [&](const char *key) -> const std::string * {
    return document[key].is_string() ? document[key].get_ptr<std::string *>()
                                     : nullptr;
  };
  const std::string *tenant = text("sub"), *id = text("jti");
  if (!tenant || !id)
    return malformed("'sub' and 'jti' must be strings");
  claims.tenant = *tenant;
  claims.tokenId = *id;
  std::pair<const char *, int64_t *> times[] = {{"iat", &claims.issuedAt},
                                                {"nbf", &claims.notBefore},
                                                {"exp", &claims.expires}};
  for (auto [key, into] : times) {
    const std::string *value = text(key);
    std::optional<int64_t> parsed =
        value ? parseTokenTime(*value) : std::nullopt;
    if (!parsed)
      return malformed(std::string("'") + key +
                       "' is not an RFC 3339 time such as "
                       "2027-01-01T00:00:00+00:00");
    *into = *parsed;
  }
  if (!document["ops"].is_array() || !document["kernels"].is_array())
    return malformed("'ops' and 'kernels' must be arrays");
  for (const json &operation : document["ops"]) {
    std::optional<Operation> parsed =
        operation.is_string() ? parseOperation(operation.get<std::string>())
                              : std::nullopt;
    if (!parsed)
      return malformed("unknown operation " + operation.dump());
    claims.operations.push_back(*parsed);
  }
  for (const json &kernel : document["kernels"]) {
    if (!kernel.is_string())
      return malformed("a 'kernels' entry is not a string");
    claims.kernels.push_back(kernel.get<std::string>());
  }
  if (Status status = checkClaims(claims); !status)
    return malformed(status.error().message);
  return claims;
}

} // namespace

const char *operationName(Operation operation) {
  for (auto [value, name] : kOperationNames)
    if (value == operation)
      return name;
  return "?";
}

std::optional<Operation> parseOperation(std::string_view name) {
  for (auto [value, known] : kOperationNames)
    if (name == known)
      return value;
  return std::nullopt;
}

Status checkTenantName(std::string_view tenant) {
  bool valid = !tenant.empty() && tenant.size() <= 64 && tenant[0] != '.' &&
               tenant[0] != '-';
  for (char c : tenant)
    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                      c == '_' || c == '-');
  if (!valid)
    return Error{ErrorCode::InvalidArgument,
                 "invalid tenant name '" + std::string(tenant) +
                     "': expected 1 to 64 of A-Z a-z 0-9 . _ -, not starting "
                     "with '.' or '-'"};
  return {};
}

Result<std::string> issueCapability(const SigningKey &issuer,
                                    CapabilityClaims claims) {
  if (claims.tokenId.empty()) {
    unsigned char random[16];
    if (RAND_bytes(random, sizeof random) != 1)
      return Error{ErrorCode::ResourceExhausted,
                   "OpenSSL could not make a random token id"};
    claims.tokenId =
        files::toHex({reinterpret_cast<const char *>(random), sizeof random});
  }
  if (Status status = checkClaims(claims); !status)
    return status.error();
  return paseto::signV4Public(issuer, encodeClaims(claims),
                              footerFor(issuer.publicKey()),
                              kImplicitAssertion);
}

//===----------------------------------------------------------------------===//
// Capability and its verifier
//===----------------------------------------------------------------------===//

bool Capability::allowsOperation(Operation operation) const {
  return std::find(body.operations.begin(), body.operations.end(), operation) !=
         body.operations.end();
}

bool Capability::covers(Operation operation, std::string_view name,
                        std::string_view digest,
                        std::string_view kernel) const {
  if (!allowsOperation(operation))
    return false;
  // The entries were checked when the token was verified (decodeClaims).
  for (const std::string &entry : body.kernels) {
    Resource resource = splitResource(entry);
    bool artifact =
        resource.artifact.substr(0, kDigestPrefix.size()) == kDigestPrefix
            ? !digest.empty() &&
                  resource.artifact.substr(kDigestPrefix.size()) == digest
            : nameMatchesPattern(resource.artifact, name);
    // An entry for one kernel covers that kernel's launches and what using
    // its artifact needs (instances, their memory, snapshots), but not
    // publishing the artifact: that would change every kernel of it.
    bool kernelCovered = resource.kernel.empty() ||
                         (kernel.empty() ? operation != Operation::Publish
                                         : resource.kernel == kernel);
    if (artifact && kernelCovered)
      return true;
  }
  return false;
}

void CapabilityVerifier::trustIssuer(const PublicKey &key) {
  for (const PublicKey &known : issuers)
    if (known.keyId() == key.keyId())
      return;
  issuers.push_back(key);
}

bool CapabilityVerifier::trustsIssuer(std::string_view keyId) const {
  for (const PublicKey &known : issuers)
    if (known.keyId() == keyId)
      return true;
  return false;
}

void CapabilityVerifier::setRevocations(RevocationList revocations) {
  revoked = std::move(revocations);
}

Result<Capability> CapabilityVerifier::verify(std::string_view token,
                                              int64_t now) const {
  if (token.size() > kMaximumTokenBytes)
    return untrusted("it has " + std::to_string(token.size()) +
                     " bytes; tokens have at most " +
                     std::to_string(kMaximumTokenBytes));
  // 1. The footer names the key; it is read only to choose one.
  Result<paseto::DecodedToken> decoded = paseto::decodeV4Public(token);
  if (!decoded)
    return untrusted(decoded.error().message);
  const std::string &footer = decoded->footer;
  const PublicKey *issuer = nullptr;
  for (const PublicKey &key : issuers)
    if (footer == footerFor(key))
      issuer = &key;
  if (!issuer) {
    // The footer is unauthenticated bytes: shown only as printable text.
    std::string shown = footer.substr(0, 100);
    for (char &c : shown)
      if (c < ' ' || c > '~')
        c = '?';
    return untrusted(
        "its issuer key is not trusted here (its footer: " + shown + ")");
  }
  // 2. The signature, over header, claims, footer and the implicit
  // assertion, before anything of the claims is read.
  Result<std::string> message =
      paseto::verifyV4Public(*issuer, *decoded, footer, kImplicitAssertion);
  if (!message)
    return untrusted(message.error().message);
  // 3. The claims.
  Result<CapabilityClaims> claims = decodeClaims(*message);
  if (!claims)
    return claims.error();
  Capability capability;
  capability.body = std::move(*claims);
  capability.issuerKeyId = issuer->keyId();
  if (now < capability.body.notBefore)
    return untrusted("it is not valid before " +
                     formatTokenTime(capability.body.notBefore));
  // A token issued in the future (an issuer's clock running ahead) would
  // escape a revocation of the tenant's tokens issued before a time.
  if (capability.body.issuedAt > now + kClockSkewSeconds)
    return untrusted("it was issued at " +
                     formatTokenTime(capability.body.issuedAt) +
                     ", in the future: the issuer's clock is wrong");
  if (Status status = stillValid(capability, now); !status)
    return status.error();
  return capability;
}

Status CapabilityVerifier::stillValid(const Capability &capability,
                                      int64_t now) const {
  const CapabilityClaims &claims = capability.claims();
  if (now >= claims.expires)
    return untrusted("it expired at " + formatTokenTime(claims.expires));
  if (revoked.revoked(claims.tenant, claims.tokenId, claims.issuedAt))
    return untrusted("it was revoked (token " + claims.tokenId +
                     " of tenant '" + claims.tenant + "')");
  return {};
}

//===----------------------------------------------------------------------===//
// RevocationList
//===----------------------------------------------------------------------===//

Result<RevocationList> RevocationList::parse(std::string_view text) {
  auto malformed = [](const std::string &why) {
    return Error{ErrorCode::InvalidArgument,
                 "malformed revocation list: " + why +
                     " (expected {\"tokens\": [ID, ...], \"tenants\": "
                     "{TENANT: UNIX_SECONDS, ...}})"};
  };
  if (!json_nesting::within(text, json_nesting::kManifestDepth))
    return malformed("it nests too deeply");
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object() || document.size() != 2 ||
      !document.contains("tokens") || !document.contains("tenants") ||
      !document["tokens"].is_array() || !document["tenants"].is_object())
    return malformed("not an object of exactly 'tokens' and 'tenants'");
  RevocationList list;
  for (const json &token : document["tokens"]) {
    if (!token.is_string())
      return malformed("a token id is not a string");
    list.tokens.insert(token.get<std::string>());
  }
  for (auto &[tenant, before] : document["tenants"].items()) {
    if (!checkTenantName(tenant) || !before.is_number_integer() ||
        (before.is_number_unsigned() &&
         before.get<uint64_t>() > uint64_t(INT64_MAX)))
      return malformed("entry '" + tenant +
                       "' is not a tenant name with a time in Unix seconds");
    list.tenants[tenant] = before.get<int64_t>();
  }
  return list;
}

Result<RevocationList> RevocationList::readFile(const std::string &path) {
  std::string why;
  std::optional<std::string> text = files::readFile(path, &why);
  if (!text) {
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT)
      return RevocationList{};
    return Error{ErrorCode::InvalidArgument, why};
  }
  Result<RevocationList> list = parse(*text);
  if (!list)
    return Error{list.error().code, path + ": " + list.error().message};
  return list;
}

std::string RevocationList::serialize() const {
  json tenantTimes = json::object();
  for (const auto &[tenant, before] : tenants)
    tenantTimes[tenant] = before;
  return json{{"tokens", tokens}, {"tenants", tenantTimes}}.dump(2) + "\n";
}

Status RevocationList::writeFile(const std::string &path) const {
  if (std::optional<std::string> failure = files::writeFileAtomically(
          path, serialize(), files::parentDirectory(path), 0644))
    return Error{ErrorCode::ResourceExhausted, *failure};
  return {};
}

void RevocationList::revokeToken(std::string tokenId) {
  tokens.insert(std::move(tokenId));
}

void RevocationList::revokeTenantBefore(std::string tenant,
                                        int64_t unixSeconds) {
  int64_t &before = tenants[std::move(tenant)];
  before = std::max(before, unixSeconds);
}

bool RevocationList::revoked(std::string_view tenant, std::string_view tokenId,
                             int64_t issuedAt) const {
  if (tokens.count(tokenId))
    return true;
  auto found = tenants.find(tenant);
  return found != tenants.end() && issuedAt < found->second;
}

} // namespace tensorwasm
