//===- TokenCommands.cpp - twasm token ------------------------------------===//
//
// `twasm token issue|verify|revoke` (docs/tenancy.md): an operator's way to
// sign capability tokens with an issuer key (`twasm keygen`), to check one
// as the runtime would, and to keep the revocation list. What they print is
// what the runtime's API (include/twasm/Tenancy.h) returns. Plain C++: no
// LLVM.
//
//===----------------------------------------------------------------------===//

#include "TokenCommands.h"
#include "CommandLine.h"

#include "support/Files.h"
#include "twasm/Tenancy.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

namespace tensorwasm::tool {
namespace {

constexpr const char *kUsage =
    R"(OVERVIEW: Capability tokens of tenants (docs/tenancy.md)

USAGE: twasm token <command> ...

COMMANDS:
  issue   --key ISSUER.key --tenant T --op OP... --kernel K... [--expires W]
          Sign a token (PASETO v4.public) and print it (or write it, -o)
  verify  TOKEN|@FILE --issuer ISSUER.pub... [--revocations FILE] [--json]
          Check a token as the runtime does and print its claims
  revoke  --list FILE (--id ID | --tenant T [--before TIME])
          Add a token id, or a tenant's tokens issued before a time, to a
          revocation list (written atomically)

`twasm token COMMAND --help` describes each command's options.
)";

int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// "30s", "15m", "12h", "7d" from now, or an RFC 3339 time.
std::optional<int64_t> parseWhen(const std::string &text) {
  if (std::optional<int64_t> time = parseTokenTime(text))
    return time;
  if (text == "now")
    return now();
  if (text.size() < 2)
    return std::nullopt;
  int64_t unit = 0;
  switch (text.back()) {
  case 's':
    unit = 1;
    break;
  case 'm':
    unit = 60;
    break;
  case 'h':
    unit = 3600;
    break;
  case 'd':
    unit = 86400;
    break;
  default:
    return std::nullopt;
  }
  int64_t count = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9' || count > 100000000)
      return std::nullopt;
    count = count * 10 + (text[i] - '0');
  }
  return now() + count * unit;
}

nlohmann::json claimsJson(const Capability &capability) {
  const CapabilityClaims &claims = capability.claims();
  nlohmann::json operations = nlohmann::json::array();
  for (Operation operation : claims.operations)
    operations.push_back(operationName(operation));
  return {{"tenant", claims.tenant},
          {"id", claims.tokenId},
          {"issuer", capability.issuer()},
          {"issued", formatTokenTime(claims.issuedAt)},
          {"not_before", formatTokenTime(claims.notBefore)},
          {"expires", formatTokenTime(claims.expires)},
          {"operations", operations},
          {"kernels", claims.kernels}};
}

int issueMain(int argc, char **argv) {
  CommandHelp command{
      "twasm token issue",
      "Sign a capability token for a tenant",
      "--key ISSUER.key --tenant T --op OP... --kernel K... [options]",
      {{"key", "ISSUER.key",
        "The issuer's private key (twasm keygen; the runtime trusts its "
        ".pub)"},
       {"tenant", "T", "The tenant (1 to 64 of A-Z a-z 0-9 . _ -)"},
       {"op", "OP",
        "An operation it may perform: publish, instantiate, launch, "
        "snapshot or restore (repeatable)"},
       {"kernel", "K",
        "What it may perform them on: NAME, NAME/*, *, or sha256:DIGEST, "
        "optionally followed by #KERNEL (repeatable)"},
       {"expires", "WHEN",
        "When it stops being valid: 30s, 15m, 12h, 7d from now, or an RFC "
        "3339 time (default 1h)"},
       {"not-before", "WHEN", "When it starts being valid (default now)"},
       {"id", "ID", "Its id, for revocation (default: 128 random bits)"},
       {"o", "FILE", "Write it to FILE (mode 0600) instead of printing it"},
       {"help", nullptr, "Print this help and exit"}}};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (!line->has("key") || !line->has("tenant") || !line->has("op") ||
      !line->has("kernel") || !line->positionals.empty())
    return error("expected --key, --tenant, --op and --kernel (see twasm "
                 "token issue --help)");
  Result<SigningKey> key = SigningKey::readFile(line->last("key"));
  if (!key)
    return error(key.error().message);
  CapabilityClaims claims;
  claims.tenant = line->last("tenant");
  for (const std::string &name : line->all("op")) {
    std::optional<Operation> operation = parseOperation(name);
    if (!operation)
      return error("unknown operation '" + name +
                   "' (publish, instantiate, launch, snapshot, restore)");
    claims.operations.push_back(*operation);
  }
  claims.kernels = line->all("kernel");
  claims.issuedAt = now();
  std::optional<int64_t> notBefore = line->has("not-before")
                                         ? parseWhen(line->last("not-before"))
                                         : claims.issuedAt;
  std::optional<int64_t> expires = parseWhen(line->last("expires", "1h"));
  if (!notBefore || !expires)
    return error("a time is 30s, 15m, 12h, 7d (from now), now, or RFC 3339 "
                 "such as 2027-01-01T00:00:00+00:00");
  claims.notBefore = *notBefore;
  claims.expires = *expires;
  claims.tokenId = line->last("id");
  Result<std::string> token = issueCapability(*key, claims);
  if (!token)
    return error(token.error().message);
  if (!line->has("o")) {
    printLine(*token);
    return 0;
  }
  const std::string &path = line->last("o");
  if (std::optional<std::string> failure = files::writeFileAtomically(
          path, *token + "\n", files::parentDirectory(path), 0600))
    return error(*failure);
  std::fprintf(stderr,
               "wrote %s (a bearer token: whoever holds it acts as "
               "tenant '%s' until %s)\n",
               path.c_str(), claims.tenant.c_str(),
               formatTokenTime(claims.expires).c_str());
  return 0;
}

int verifyMain(int argc, char **argv) {
  CommandHelp command{
      "twasm token verify",
      "Check a capability token as the runtime does, and print its claims",
      "<TOKEN|@FILE> --issuer ISSUER.pub... [--revocations FILE] [--json]",
      {{"issuer", "ISSUER.pub", "An issuer key to trust (repeatable)"},
       {"revocations", "FILE", "The revocation list to check it against"},
       {"json", nullptr, "Print JSON instead of text"},
       {"help", nullptr, "Print this help and exit"}}};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (line->positionals.size() != 1 || !line->has("issuer"))
    return error("expected one token (or @FILE) and --issuer (see twasm "
                 "token verify --help)");
  std::string token = line->positionals[0];
  if (!token.empty() && token[0] == '@') {
    std::string why;
    std::optional<std::string> text = files::readFile(token.substr(1), &why);
    if (!text)
      return error("cannot read " + token.substr(1) + ": " + why);
    token = *text;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
      token.pop_back();
  }
  Result<CapabilityVerifier> verifier = verifierFromLine(*line);
  if (!verifier)
    return error(verifier.error().message);
  Result<Capability> capability = verifier->verify(token, now());
  if (!capability)
    return error(capability.error().message);
  nlohmann::json claims = claimsJson(*capability);
  if (line->has("json")) {
    printLine(claims.dump(2));
    return 0;
  }
  printLine("valid: tenant '" + capability->tenant() + "', token " +
            capability->claims().tokenId);
  for (const char *field : {"issuer", "issued", "not_before", "expires"})
    printLine(std::string("  ") + field + ": " +
              claims[field].get<std::string>());
  printLine("  operations: " + claims["operations"].dump());
  printLine("  kernels: " + claims["kernels"].dump());
  return 0;
}

int revokeMain(int argc, char **argv) {
  CommandHelp command{
      "twasm token revoke",
      "Revoke a token, or every token a tenant was issued before a time",
      "--list FILE (--id ID | --tenant T [--before WHEN])",
      {{"list", "FILE",
        "The revocation list (created if missing; written atomically)"},
       {"id", "ID", "A token's id (repeatable)"},
       {"tenant", "T", "A tenant whose earlier tokens are revoked"},
       {"before", "WHEN",
        "With --tenant: tokens issued before this are revoked (default "
        "now)"},
       {"help", nullptr, "Print this help and exit"}}};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (!line->has("list") || !line->positionals.empty() ||
      (line->has("id") == line->has("tenant")))
    return error("expected --list FILE and either --id or --tenant (see "
                 "twasm token revoke --help)");
  const std::string &path = line->last("list");
  Result<RevocationList> list = RevocationList::readFile(path);
  if (!list)
    return error(list.error().message);
  for (const std::string &id : line->all("id"))
    list->revokeToken(id);
  if (line->has("tenant")) {
    if (Status valid = checkTenantName(line->last("tenant")); !valid)
      return error(valid.error().message);
    std::optional<int64_t> before = parseWhen(line->last("before", "now"));
    if (!before)
      return error("--before is 30s, 15m, 12h, 7d (from now), now, or RFC "
                   "3339 such as 2027-01-01T00:00:00+00:00");
    list->revokeTenantBefore(line->last("tenant"), *before);
  }
  if (Status written = list->writeFile(path); !written)
    return error(written.error().message);
  printLine("wrote " + path);
  return 0;
}

} // namespace

Result<CapabilityVerifier> verifierFromLine(const ParsedLine &line) {
  CapabilityVerifier verifier;
  for (const std::string &path : line.all("issuer")) {
    Result<PublicKey> key = PublicKey::readFile(path);
    if (!key)
      return key.error();
    verifier.trustIssuer(*key);
  }
  if (line.has("revocations")) {
    Result<RevocationList> list =
        RevocationList::readFile(line.last("revocations"));
    if (!list)
      return list.error();
    verifier.setRevocations(std::move(*list));
  }
  return verifier;
}

int tokenMain(int argc, char **argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" ||
      std::string_view(argv[1]) == "-h") {
    std::fputs(kUsage, stdout);
    return argc < 2 ? 1 : 0;
  }
  std::string_view command = argv[1];
  if (command == "issue")
    return issueMain(argc - 1, argv + 1);
  if (command == "verify")
    return verifyMain(argc - 1, argv + 1);
  if (command == "revoke")
    return revokeMain(argc - 1, argv + 1);
  return error("unknown token command '" + std::string(command) +
               "' (issue, verify, revoke)");
}

} // namespace tensorwasm::tool
