//===- ArtifactCommands.cpp - keygen, verify and registry -----------------===//
//
// The command lines of `twasm keygen`, `twasm verify` and `twasm registry`
// (docs/artifact-format.md). Everything goes through the runtime's public
// API (include/twasm/Artifact.h): these commands print what it returns, and
// every failure as "error: ..." with exit status 1. Plain C++ only, like
// RunKernel.cpp: nothing here links LLVM.
//
//===----------------------------------------------------------------------===//

#include "ArtifactCommands.h"
#include "CommandLine.h"
#include "CommandText.h"

#include "support/Files.h"
#include "twasm/Artifact.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <variant>
#include <vector>

namespace tensorwasm::tool {
namespace {

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//

std::string join(const std::vector<std::string> &items,
                 std::string_view separator) {
  std::string text;
  for (const std::string &item : items) {
    if (!text.empty())
      text += separator;
    text += item;
  }
  return text;
}

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

/// "in 364 days", "in 5 hours", "2 days ago".
std::string relativeTime(int64_t when, int64_t reference) {
  int64_t seconds = when - reference;
  bool past = seconds < 0;
  uint64_t span = past ? uint64_t(-(seconds + 1)) + 1 : uint64_t(seconds);
  std::string amount;
  auto unit = [&](uint64_t count, const char *name) {
    amount = std::to_string(count) + " " + name + (count == 1 ? "" : "s");
  };
  if (span >= 2 * 86400)
    unit(span / 86400, "day");
  else if (span >= 2 * 3600)
    unit(span / 3600, "hour");
  else if (span >= 2 * 60)
    unit(span / 60, "minute");
  else
    unit(span, "second");
  return past ? amount + " ago" : "in " + amount;
}

/// A non-negative decimal integer.
std::optional<uint64_t> parseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19)
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + uint64_t(c - '0');
  }
  return value;
}

bool pathExists(const std::string &path) {
  struct stat status;
  return lstat(path.c_str(), &status) == 0;
}

/// The key id the container at `bytes` names (lengths only, as a verifier's
/// step 1 reads them), for messages about a key the policy lacks.
std::optional<std::string> containerKeyId(std::string_view bytes) {
  if (bytes.size() < 16)
    return std::nullopt;
  uint32_t manifestBytes = 0;
  for (int i = 3; i >= 0; --i)
    manifestBytes =
        (manifestBytes << 8) | static_cast<unsigned char>(bytes[12 + i]);
  size_t keyId = size_t(16) + manifestBytes + 4;
  if (bytes.size() < keyId + 32)
    return std::nullopt;
  return files::toHex(bytes.substr(keyId, 32));
}

//===----------------------------------------------------------------------===//
// The command line
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Describing an artifact
//===----------------------------------------------------------------------===//

void printField(const char *label, const std::string &value) {
  std::printf("%-10s %s\n", label, value.c_str());
}

std::string memoryDescription(const ArtifactManifest &manifest) {
  if (!manifest.memory)
    return "none";
  const ArtifactManifest::Memory &memory = *manifest.memory;
  std::string text = std::to_string(memory.minimumPages) + " page" +
                     (memory.minimumPages == 1 ? "" : "s") + " minimum, ";
  if (memory.maximumPages)
    text += std::to_string(*memory.maximumPages) + " maximum";
  else
    text += "no maximum";
  return text + " (64 KiB pages)";
}

/// What `verify` and `registry show` print about a verified artifact.
void printSummary(const Artifact &artifact,
                  const std::optional<RegistryEntry> &entry = std::nullopt) {
  const ArtifactManifest &manifest = artifact.manifest();
  int64_t current = now();
  printField("name:", manifest.name);
  printField("version:", std::to_string(manifest.version));
  printField("created:", formatArtifactTime(manifest.created));
  printField("expires:", formatArtifactTime(manifest.expires) + " (" +
                             relativeTime(manifest.expires, current) + ")");
  if (entry)
    printField("pushed:", formatArtifactTime(entry->pushed));
  printField("compiler:", manifest.compiler);
  printField("signer:", artifact.signerKeyId());
  printField("sha256:", artifact.digest());
  printField("size:", std::to_string(artifact.bytes().size()) + " bytes");
  printField("memory:", memoryDescription(manifest));
  printField("kernels:", std::to_string(manifest.kernels.size()));
  for (const ArtifactManifest::Kernel &kernel : manifest.kernels) {
    std::vector<std::string> params;
    for (ValueType type : kernel.params)
      params.emplace_back(valueTypeName(type));
    printLine("  " + kernel.name + "(" + join(params, ", ") + ")");
  }
  printField("payloads:", std::to_string(manifest.payloads.size()));
  size_t kindWidth = 0, targetWidth = 0, sizeWidth = 0;
  for (const PayloadEntry &payload : manifest.payloads) {
    kindWidth = std::max(kindWidth, payload.kind.size());
    targetWidth = std::max(targetWidth, payload.target.size());
    sizeWidth = std::max(sizeWidth, std::to_string(payload.size).size());
  }
  for (const PayloadEntry &payload : manifest.payloads)
    std::printf("  %-*s %-*s %*llu bytes  sha256:%s\n", int(kindWidth),
                payload.kind.c_str(), int(targetWidth), payload.target.c_str(),
                int(sizeWidth), static_cast<unsigned long long>(payload.size),
                payload.sha256.substr(0, 16).c_str());
}

//===----------------------------------------------------------------------===//
// twasm keygen
//===----------------------------------------------------------------------===//

/// Creates `path` with `mode`, refusing to replace a file unless `replace`.
/// Returns the reason on failure.
std::optional<std::string> writeNewFile(const std::string &path,
                                        std::string_view contents, mode_t mode,
                                        bool replace) {
  if (replace && unlink(path.c_str()) != 0 && errno != ENOENT)
    return "cannot replace " + path + ": " + std::strerror(errno);
  int descriptor =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (descriptor < 0) {
    if (errno == EEXIST)
      return path + " exists; pass --force to replace it";
    return "cannot create " + path + ": " + std::strerror(errno);
  }
  // The mode exactly, whatever the umask.
  bool written = fchmod(descriptor, mode) == 0 &&
                 files::writeAll(descriptor, contents) &&
                 fsync(descriptor) == 0;
  int saved = errno;
  written = ::close(descriptor) == 0 && written;
  if (!written) {
    unlink(path.c_str());
    return "cannot write " + path + ": " + std::strerror(saved);
  }
  return std::nullopt;
}

} // namespace

int keygenMain(int argc, char **argv) {
  CommandHelp command{
      "twasm keygen",
      "Make an Ed25519 key pair for signing artifacts",
      "-o <NAME> [--force]",
      {{"o", "NAME",
        "Write the private key to NAME.key (PKCS #8 PEM, mode 0600) and the "
        "public key to NAME.pub (PEM, mode 0644)"},
       {"force", nullptr, "Replace NAME.key and NAME.pub if they exist"},
       {"help", nullptr, "Print this help and exit"}},
      R"(
Sign artifacts with the private key (`twasm compile X.wasm --sign NAME.key
--name acme/x -o x.twa`) and keep it secret; give the public key to whoever
verifies them (`twasm verify x.twa --key NAME.pub`, `twasm registry trust add
NAME.pub --names 'acme/*'`). The key id printed is the SHA-256 of the raw
public key.
)"};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (!line->positionals.empty())
    return error("unexpected argument '" + line->positionals.front() +
                 "' (see twasm keygen --help)");
  std::string stem = line->last("o");
  if (stem.empty())
    return error("say where to write the keys: twasm keygen -o NAME (writes "
                 "NAME.key and NAME.pub)");
  bool force = line->has("force");
  std::string privatePath = stem + ".key", publicPath = stem + ".pub";
  if (!force)
    for (const std::string &path : {privatePath, publicPath})
      if (pathExists(path))
        return error(path + " exists; pass --force to replace it");

  Result<SigningKey> key = SigningKey::generate();
  if (!key)
    return error(key.error().message);
  std::string privatePem = key->privatePem();
  std::string publicPem = key->publicKey().pem();
  if (privatePem.empty() || publicPem.empty())
    return error("cannot encode the key as PEM");
  if (std::optional<std::string> failure =
          writeNewFile(privatePath, privatePem, 0600, force))
    return error(*failure);
  if (std::optional<std::string> failure =
          writeNewFile(publicPath, publicPem, 0644, force)) {
    unlink(privatePath.c_str());
    return error(*failure);
  }
  printLine("key id: " + key->publicKey().keyId());
  printLine("private key: " + privatePath + " (keep it secret)");
  printLine("public key: " + publicPath);
  return 0;
}

//===----------------------------------------------------------------------===//
// twasm verify
//===----------------------------------------------------------------------===//

int verifyMain(int argc, char **argv) {
  CommandHelp command{
      "twasm verify",
      "Check signed artifacts (.twa) against a trust policy and describe "
      "them",
      "[options] <FILE.twa>...",
      {{"json", nullptr,
        "Print each artifact's manifest (canonical JSON, one line) instead "
        "of the summary"},
       {"key", "KEY.pub",
        "Trust this public key (twasm keygen) for every name; may be "
        "repeated"},
       {"registry", "DIR", "Use the trust policy of the registry in DIR"},
       {"trust", "POLICY.json", "Use this trust policy"},
       {"help", nullptr, "Print this help and exit"}},
      R"(
Give one trust source: --trust, --key (repeated as needed) or --registry.
Without one, the default registry's trust policy is used ($TWASM_REGISTRY,
else $XDG_DATA_HOME/tensorwasm/registry, else
~/.local/share/tensorwasm/registry).

An artifact verifies when its container is well formed, its signer's key is
in the policy and the signature verifies, its manifest is canonical, the key
may publish its name, it has not expired and every payload matches its
SHA-256 (docs/artifact-format.md, "Verification order").

EXIT STATUS: 0 every artifact verified, 1 one did not or an error (printed
as "error: FILE: ...").
)"};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (line->positionals.empty())
    return error("no artifact given (see twasm verify --help)");
  int sources = int(line->has("trust")) + int(line->has("key")) +
                int(line->has("registry"));
  if (sources > 1)
    return error("give one trust source: --trust, --key or --registry");

  // The trust policy, and what to say about a key it lacks.
  std::optional<TrustPolicy> policy;
  std::string policySource, addKeyHint;
  if (line->has("trust")) {
    policySource = line->last("trust");
    Result<TrustPolicy> read = TrustPolicy::readFile(policySource);
    if (!read)
      return error(policySource + ": " + read.error().message);
    policy = std::move(*read);
    addKeyHint = "add the key to " + policySource + ", or pass it with --key";
  } else if (line->has("key")) {
    policy = TrustPolicy();
    for (const std::string &path : line->all("key")) {
      Result<PublicKey> key = PublicKey::readFile(path);
      if (!key)
        return error(key.error().message);
      if (Status added = policy->add(*key, {"*"}); !added)
        return error(path + ": " + added.error().message);
    }
    policySource = "--key";
    addKeyHint = "pass the signer's public key with --key";
  } else {
    std::string directory = line->last("registry");
    bool isDefault = directory.empty();
    if (isDefault)
      directory = Registry::defaultDirectory();
    if (directory.empty())
      return error("no trust policy: pass --key KEY.pub, --trust POLICY.json "
                   "or --registry DIR");
    if (!pathExists(directory + "/objects"))
      return error(isDefault
                       ? "no trust policy: the default registry " + directory +
                             " does not exist; pass --key KEY.pub, "
                             "--trust POLICY.json or --registry DIR"
                       : "there is no registry in " + directory);
    Result<Registry> registry = Registry::open(directory);
    if (!registry)
      return error(registry.error().message);
    Result<TrustPolicy> read = registry->trust();
    if (!read)
      return error(read.error().message);
    policy = std::move(*read);
    policySource = "the registry " + registry->directory();
    addKeyHint = "trust it with `twasm registry --registry " +
                 registry->directory() +
                 " trust add KEY.pub --names PATTERN`, or pass it with --key";
  }

  status = 0;
  bool first = true;
  for (const std::string &path : line->positionals) {
    std::string why;
    std::optional<std::string> bytes = files::readFile(path, &why);
    if (!bytes) {
      status = error(why);
      continue;
    }
    std::optional<std::string> keyId = containerKeyId(*bytes);
    Result<Artifact> artifact = Artifact::verify(std::move(*bytes), *policy);
    if (!artifact) {
      std::string message = path + ": " + artifact.error().message;
      if (artifact.error().code == ErrorCode::Untrusted && keyId &&
          !policy->find(*keyId))
        message += " (" + policySource + " trusts " +
                   std::to_string(policy->publishers().size()) + " key" +
                   (policy->publishers().size() == 1 ? "" : "s") + "; " +
                   addKeyHint + ")";
      status = error(message);
      continue;
    }
    if (line->has("json")) {
      printLine(artifact->manifest().serialize());
      continue;
    }
    if (!first)
      printLine("");
    first = false;
    printLine(path + ": verified");
    printSummary(*artifact);
  }
  return status;
}

//===----------------------------------------------------------------------===//
// twasm registry
//===----------------------------------------------------------------------===//

namespace {

const OptionHelp registryOption{"registry", "DIR",
                                "The registry (default: $TWASM_REGISTRY, else "
                                "$XDG_DATA_HOME/tensorwasm/registry, else "
                                "~/.local/share/tensorwasm/registry)"};
const OptionHelp helpOption{"help", nullptr, "Print this help and exit"};

const char registryDetails[] = R"(
SUBCOMMANDS:
  push FILE.twa...              Verify and store artifacts
  pull REF -o FILE              Fetch an artifact (verified again); -o - for
                                stdout
  list [--prefix P] [--limit N] [--after CURSOR] [--json]
                                List entries, by name then version
  show REF                      Describe an artifact (verified again)
  remove NAME@VERSION           Remove an entry (its version is not reusable)
  gc [--expired]                Remove crash leftovers (and expired entries)
  fsck                          Check every object and entry
  trust add KEY.pub --names PATTERN[,PATTERN...]
                                Trust a key to publish names
  trust list                    List the trusted keys
  trust remove KEYID            Stop trusting a key

REF is NAME (its highest version present) or NAME@VERSION. A name pattern is
an exact name, `prefix/*` or `*`. `twasm registry SUBCOMMAND --help` says
more.

EXIT STATUS: 0 success, 1 an error (printed as "error: ...") or, for fsck,
an inconsistent registry.
)";

/// A subcommand's help: its name after "twasm registry", with --registry
/// and --help among its options.
CommandHelp subcommand(const char *name, const char *overview,
                       const char *usage, std::vector<OptionHelp> options,
                       const char *details = nullptr) {
  options.push_back(registryOption);
  options.push_back(helpOption);
  return CommandHelp{std::string("twasm registry ") + name, overview, usage,
                     std::move(options), details};
}

/// A subcommand's parsed line and its open registry.
struct Subcommand {
  ParsedLine line;
  std::optional<Registry> registry;
};

/// Parses a subcommand's line and opens the registry (which only push and
/// trust may create). Returns the exit status instead when the command is
/// done: it printed its help, or an error.
std::variant<Subcommand, int>
startSubcommand(const CommandHelp &command, int argc, char **argv,
                const std::string &directory, size_t minimumPositionals,
                size_t maximumPositionals, bool mayCreate = false) {
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (line->positionals.size() < minimumPositionals)
    return error(std::string("missing arguments: ") + command.program + " " +
                 command.usage + " (see " + command.program + " --help)");
  if (line->positionals.size() > maximumPositionals)
    return error("unexpected argument '" +
                 line->positionals[maximumPositionals] + "' (see " +
                 command.program + " --help)");
  // Only what adds to a registry creates one: a mistyped directory is not
  // an empty registry.
  std::string root = line->last("registry", directory);
  if (root.empty())
    root = Registry::defaultDirectory();
  if (!mayCreate && !root.empty() && !pathExists(root))
    return error("there is no registry in " + root +
                 " (`twasm registry push` and `trust add` create one)");
  Result<Registry> registry = Registry::open(root);
  if (!registry)
    return error(registry.error().message);
  Subcommand started{std::move(*line), std::move(*registry)};
  return started;
}

std::string label(const std::string &name, uint64_t version) {
  return name + "@" + std::to_string(version);
}
std::string label(const RegistryEntry &entry) {
  return label(entry.name, entry.version);
}

std::string trustAddHint(const std::string &directory) {
  return "`twasm registry --registry " + directory +
         " trust add KEY.pub --names PATTERN`";
}

int pushCommand(int argc, char **argv, const std::string &directory) {
  CommandHelp command =
      subcommand("push", "Verify artifacts and store them in the registry",
                 "[options] <FILE.twa>...", {}, R"(
A push verifies the artifact against the registry's trust policy and
refuses a version at or below the highest the registry has accepted for the
name (rollback protection), except the very file already stored under that
version, which is a no-op.
)");
  std::variant<Subcommand, int> started =
      startSubcommand(command, argc, argv, directory, 1, SIZE_MAX,
                      /*mayCreate=*/true);
  if (int *status = std::get_if<int>(&started))
    return *status;
  Subcommand &sub = std::get<Subcommand>(started);
  Registry &registry = *sub.registry;
  for (const std::string &path : sub.line.positionals) {
    std::string why;
    std::optional<std::string> bytes = files::readFile(path, &why);
    if (!bytes)
      return error(why);
    std::optional<std::string> keyId = containerKeyId(*bytes);
    bool present = false;
    Result<RegistryEntry> entry =
        registry.push(std::move(*bytes), VerifyOptions(), &present);
    if (!entry) {
      std::string message = path + ": " + entry.error().message;
      // An unknown signer, where the registry trusts others: say how to
      // accept it.
      Result<TrustPolicy> policy = registry.trust();
      if (entry.error().code == ErrorCode::Untrusted && keyId && policy &&
          !policy->publishers().empty() && !policy->find(*keyId))
        message += " (to accept it, trust the signer's public key with " +
                   trustAddHint(registry.directory()) + ")";
      return error(message);
    }
    printLine((present ? "already present " : "pushed ") + label(*entry) +
              " sha256:" + entry->digest);
  }
  return 0;
}

int pullCommand(int argc, char **argv, const std::string &directory) {
  CommandHelp command = subcommand(
      "pull", "Fetch an artifact from the registry, verified again",
      "[options] <REF> -o <FILE>",
      {{"o", "FILE", "Where to write the artifact (- for stdout)"}}, R"(
REF is NAME (its highest version present) or NAME@VERSION. The artifact is
verified against the registry's current trust policy and clock before it is
written; the file is written to a temporary file beside it and renamed.
)");
  std::variant<Subcommand, int> started =
      startSubcommand(command, argc, argv, directory, 1, 1);
  if (int *status = std::get_if<int>(&started))
    return *status;
  Subcommand &sub = std::get<Subcommand>(started);
  std::string output = sub.line.last("o");
  if (output.empty())
    return error("say where to write the artifact: -o FILE (- for stdout)");
  Result<Artifact> artifact = sub.registry->fetch(sub.line.positionals[0]);
  if (!artifact)
    return error(artifact.error().message);
  std::string_view bytes = artifact->bytes();
  if (output == "-") {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
        std::fflush(stdout) != 0)
      return error("cannot write the artifact to stdout: " +
                   std::string(std::strerror(errno)));
    return 0;
  }
  if (std::optional<std::string> failure = files::writeFileAtomically(
          output, bytes, files::parentDirectory(output), 0644))
    return error(*failure);
  const ArtifactManifest &manifest = artifact->manifest();
  printLine("pulled " + label(manifest.name, manifest.version) +
            " sha256:" + artifact->digest() + " to " + output);
  return 0;
}

nlohmann::json entryJson(const RegistryEntry &entry) {
  nlohmann::json json = {
      {"created", entry.created}, {"digest", entry.digest},
      {"expires", entry.expires}, {"name", entry.name},
      {"pushed", entry.pushed},   {"signer", entry.signer},
      {"size", entry.size},       {"version", entry.version}};
  if (!entry.publisher.empty())
    json["publisher"] = entry.publisher;
  return json;
}

int listCommand(int argc, char **argv, const std::string &directory) {
  CommandHelp command = subcommand(
      "list", "List the registry's entries, by name then version", "[options]",
      {{"after", "CURSOR",
        "Start after this entry: the cursor the previous page ended with"},
       {"json", nullptr,
        "Print {\"entries\": [...], \"next\": CURSOR or null} instead of a "
        "table"},
       {"limit", "N", "At most N entries (1 to 1000; default 100)"},
       {"prefix", "P", "Only names that start with P"}});
  std::variant<Subcommand, int> started =
      startSubcommand(command, argc, argv, directory, 0, 0);
  if (int *status = std::get_if<int>(&started))
    return *status;
  Subcommand &sub = std::get<Subcommand>(started);
  ListQuery query;
  query.prefix = sub.line.last("prefix");
  query.after = sub.line.last("after");
  if (sub.line.has("limit")) {
    std::optional<uint64_t> limit = parseDecimal(sub.line.last("limit"));
    if (!limit || *limit < 1 || *limit > 1000)
      return error("--limit " + sub.line.last("limit") +
                   ": expected an integer from 1 to 1000");
    query.limit = static_cast<size_t>(*limit);
  }
  Result<ListPage> page = sub.registry->list(query);
  if (!page)
    return error(page.error().message);

  if (sub.line.has("json")) {
    nlohmann::json entries = nlohmann::json::array();
    for (const RegistryEntry &entry : page->entries)
      entries.push_back(entryJson(entry));
    nlohmann::json next = nullptr;
    if (!page->next.empty())
      next = page->next;
    printLine(nlohmann::json{{"entries", entries}, {"next", next}}.dump());
    return 0;
  }
  if (page->entries.empty()) {
    printLine(query.after.empty() && query.prefix.empty()
                  ? "the registry " + sub.registry->directory() +
                        " holds no artifacts"
                  : "no entries");
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME@VERSION", "SIZE", "EXPIRES", "SIGNER"}};
  int64_t current = now();
  for (const RegistryEntry &entry : page->entries)
    rows.push_back({label(entry), std::to_string(entry.size),
                    formatArtifactTime(entry.expires) +
                        (entry.expires <= current ? " (expired)" : ""),
                    entry.signer.substr(0, 16)});
  std::vector<size_t> widths(4, 0);
  for (const std::vector<std::string> &row : rows)
    for (size_t column = 0; column < 4; ++column)
      widths[column] = std::max(widths[column], row[column].size());
  for (const std::vector<std::string> &row : rows) {
    std::string text = row[0] + std::string(widths[0] - row[0].size(), ' ');
    // Sizes are right-aligned.
    text += "  " + std::string(widths[1] - row[1].size(), ' ') + row[1];
    text += "  " + row[2] + std::string(widths[2] - row[2].size(), ' ');
    text += "  " + row[3];
    printLine(text);
  }
  if (!page->next.empty())
    printLine("next page: --after " + page->next);
  return 0;
}

int showCommand(int argc, char **argv, const std::string &directory) {
  CommandHelp command =
      subcommand("show", "Describe an artifact of the registry, verified again",
                 "[options] <REF>", {}, R"(
REF is NAME (its highest version present) or NAME@VERSION.
)");
  std::variant<Subcommand, int> started =
      startSubcommand(command, argc, argv, directory, 1, 1);
  if (int *status = std::get_if<int>(&started))
    return *status;
  Subcommand &sub = std::get<Subcommand>(started);
  Result<RegistryEntry> entry = sub.registry->find(sub.line.positionals[0]);
  if (!entry)
    return error(entry.error().message);
  Result<Artifact> artifact = sub.registry->fetch(label(*entry));
  if (!artifact)
    return error(artifact.error().message);
  printSummary(*artifact, *entry);
  return 0;
}

int removeCommand(int argc, char **argv, const std::string &directory) {
  CommandHelp command =
      subcommand("remove", "Remove an entry from the registry",
                 "[options] <NAME@VERSION>", {}, R"(
The entry goes at once and its object at the next `twasm registry gc`. The
registry still remembers the name's highest version, so a removed version
cannot be pushed again: publish a higher one.
)");
  std::variant<Subcommand, int> started =
      startSubcommand(command, argc, argv, directory, 1, 1);
  if (int *status = std::get_if<int>(&started))
    return *status;
  Subcommand &sub = std::get<Subcommand>(started);
  const std::string &reference = sub.line.positionals[0];
  if (Status removed = sub.registry->remove(reference); !removed)
    return error(removed.error().message);
  printLine("removed " + reference);
  return 0;
}

int gcCommand(int argc, char **argv, const std::string &directory) {
  CommandHelp command = subcommand(
      "gc",
      "Remove the registry's garbage: crash leftovers and objects no "
      "entry names",
      "[options]",
      {{"expired", nullptr, "First remove the entries that have expired"}});
  std::variant<Subcommand, int> started =
      startSubcommand(command, argc, argv, directory, 0, 0);
  if (int *status = std::get_if<int>(&started))
    return *status;
  Subcommand &sub = std::get<Subcommand>(started);
  GcOptions options;
  options.expired = sub.line.has("expired");
  options.clock.now = now();
  // The expired entries, to name them: gc decides with the same clock.
  std::vector<std::string> expired;
  if (options.expired) {
    ListQuery query;
    query.limit = 1000;
    for (;;) {
      Result<ListPage> page = sub.registry->list(query);
      if (!page)
        return error(page.error().message);
      for (const RegistryEntry &entry : page->entries)
        if (entry.expires <= *options.clock.now)
          expired.push_back(label(entry) + " (expired " +
                            formatArtifactTime(entry.expires) + ")");
      if (page->next.empty())
        break;
      query.after = page->next;
    }
  }
  Result<GcReport> report = sub.registry->gc(options);
  if (!report)
    return error(report.error().message);
  if (report->removedEntries == expired.size())
    for (const std::string &entry : expired)
      printLine("removed " + entry);
  std::string summary = "removed " + std::to_string(report->removedFiles) +
                        " file" + (report->removedFiles == 1 ? "" : "s") +
                        " (" + std::to_string(report->freedBytes) + " bytes)";
  if (options.expired)
    summary += " and " + std::to_string(report->removedEntries) +
               " expired entr" + (report->removedEntries == 1 ? "y" : "ies");
  printLine(summary);
  return 0;
}

int fsckCommand(int argc, char **argv, const std::string &directory) {
  CommandHelp command = subcommand(
      "fsck", "Check every object and entry of the registry", "[options]", {},
      R"(
Problems: an object whose contents do not hash to its name, an entry whose
object is missing or whose artifact does not verify. Stale entries (expired,
or signed by a key no longer trusted for the name) and garbage (crash
leftovers, objects no entry names; `twasm registry gc` removes them) are
reported but are not problems.

EXIT STATUS: 0 no problems, 1 problems or an error.
)");
  std::variant<Subcommand, int> started =
      startSubcommand(command, argc, argv, directory, 0, 0);
  if (int *status = std::get_if<int>(&started))
    return *status;
  Subcommand &sub = std::get<Subcommand>(started);
  Result<FsckReport> report = sub.registry->fsck();
  if (!report)
    return error(report.error().message);
  printLine("objects: " + std::to_string(report->objects) +
            ", entries: " + std::to_string(report->entries) +
            ", garbage files: " + std::to_string(report->garbageFiles));
  for (const std::string &problem : report->problems)
    printLine("problem: " + problem);
  for (const std::string &stale : report->stale)
    printLine("stale: " + stale);
  if (report->clean()) {
    printLine("the registry " + sub.registry->directory() + " is consistent");
    return 0;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "error: the registry %s has %zu problem%s\n",
               sub.registry->directory().c_str(), report->problems.size(),
               report->problems.size() == 1 ? "" : "s");
  return 1;
}

int trustCommand(int argc, char **argv, const std::string &directory) {
  CommandHelp command = subcommand(
      "trust",
      "Manage the registry's trust policy: which keys may publish "
      "which names",
      "add <KEY.pub> --names <PATTERN>[,<PATTERN>...] | list | remove "
      "<KEYID>",
      {{"names", "PATTERN[,PATTERN...]",
        "add: the names the key may publish: exact names, prefix/* or *; may "
        "be repeated"}},
      R"(
  trust add KEY.pub --names 'acme/*'   trust the key (twasm keygen's NAME.pub)
                                       for these names; a key already trusted
                                       gets these names instead of its old
                                       ones
  trust list                           the trusted keys and their names
  trust remove KEYID                   stop trusting a key (its id, or a
                                       unique prefix of it)

Every fetch verifies against the current policy: artifacts of a removed key
stop loading at once.
)");
  std::variant<Subcommand, int> started =
      startSubcommand(command, argc, argv, directory, 1, 2,
                      /*mayCreate=*/true);
  if (int *status = std::get_if<int>(&started))
    return *status;
  Subcommand &sub = std::get<Subcommand>(started);
  Registry &registry = *sub.registry;
  const std::vector<std::string> &arguments = sub.line.positionals;
  const std::string &action = arguments[0];
  auto arity = [&](size_t count, const char *usage) {
    if (arguments.size() == count + 1)
      return true;
    error(std::string("usage: twasm registry trust ") + usage);
    return false;
  };
  if (action != "add" && sub.line.has("names"))
    return error("--names is for `trust add`");
  Result<TrustPolicy> policy = registry.trust();
  if (!policy)
    return error(policy.error().message);

  if (action == "add") {
    if (!arity(1, "add KEY.pub --names PATTERN[,PATTERN...]"))
      return 1;
    std::vector<std::string> names;
    for (const std::string &list : sub.line.all("names"))
      for (std::string_view pattern : splitAll(list, ','))
        if (std::find(names.begin(), names.end(), pattern) == names.end())
          names.emplace_back(pattern);
    if (names.empty())
      return error("say which names the key may publish: --names PATTERN "
                   "(an exact name, prefix/* or *)");
    for (const std::string &pattern : names)
      if (Status valid = checkNamePattern(pattern); !valid)
        return error(valid.error().message);
    Result<PublicKey> key = PublicKey::readFile(arguments[1]);
    if (!key)
      return error(key.error().message);
    // Read, changed and written under the registry's lock, so that two
    // changes at once both land.
    std::string text;
    Status stored = registry.updateTrust([&](TrustPolicy &current) -> Status {
      const TrustPolicy::Publisher *before = current.find(key->keyId());
      std::string previous = before ? join(before->names, ", ") : "";
      if (Status added = current.add(*key, names); !added)
        return added;
      // The names as the policy keeps them.
      text = "trusted key " + key->keyId() + " for " +
             join(current.find(key->keyId())->names, ", ");
      if (before)
        text += " (instead of " + previous + ")";
      return {};
    });
    if (!stored)
      return error(stored.error().message);
    printLine(text);
    return 0;
  }
  if (action == "list") {
    if (!arity(0, "list"))
      return 1;
    if (policy->publishers().empty()) {
      printLine("the registry " + registry.directory() +
                " trusts no key; add one with " +
                trustAddHint(registry.directory()));
      return 0;
    }
    for (const TrustPolicy::Publisher &publisher : policy->publishers())
      printLine(publisher.key.keyId() + "  " + join(publisher.names, ", "));
    return 0;
  }
  if (action == "remove") {
    if (!arity(1, "remove KEYID"))
      return 1;
    const std::string &wanted = arguments[1];
    std::string removed;
    Status stored = registry.updateTrust([&](TrustPolicy &current) -> Status {
      std::vector<std::string> matches;
      for (const TrustPolicy::Publisher &publisher : current.publishers())
        if (!wanted.empty() &&
            publisher.key.keyId().compare(0, wanted.size(), wanted) == 0)
          matches.push_back(publisher.key.keyId());
      if (matches.empty())
        return Error{ErrorCode::InvalidArgument,
                     "the registry " + registry.directory() +
                         " does not trust a key " + wanted +
                         " (see `twasm registry trust list`)"};
      if (matches.size() > 1)
        return Error{ErrorCode::InvalidArgument,
                     "the key id " + wanted + " is ambiguous: it begins " +
                         join(matches, " and ")};
      current.remove(matches[0]);
      removed = matches[0];
      return {};
    });
    if (!stored)
      return error(stored.error().message);
    printLine("removed key " + removed);
    return 0;
  }
  return error("unknown trust action '" + action +
               "': expected add, list or remove (see twasm registry trust "
               "--help)");
}

} // namespace

int registryMain(int argc, char **argv) {
  CommandHelp command{"twasm registry",
                      "Store signed artifacts in a kernel registry, fetch "
                      "them verified, and manage its trusted keys",
                      "[--registry DIR] <SUBCOMMAND> [options] [arguments]",
                      {registryOption, helpOption},
                      registryDetails};
  std::optional<ParsedLine> line =
      parseLine(command, argc, argv, 1, /*stopAtPositional=*/true);
  if (!line)
    return 1;
  if (line->positionals.empty()) {
    if (line->help) {
      printHelp(command);
      return 0;
    }
    return error("no subcommand given (see twasm registry --help)");
  }
  std::string directory = line->last("registry");
  // The subcommand's line: argv from its name on, which it parses like a
  // command of its own; --help after `registry` is the subcommand's.
  std::vector<std::string> arguments = line->positionals;
  if (line->help)
    arguments.push_back("--help");
  std::vector<char *> subArgv;
  for (std::string &argument : arguments)
    subArgv.push_back(argument.data());
  subArgv.push_back(nullptr);
  int subArgc = static_cast<int>(arguments.size());
  using Handler = int (*)(int, char **, const std::string &);
  const std::pair<const char *, Handler> handlers[] = {
      {"push", pushCommand}, {"pull", pullCommand},     {"list", listCommand},
      {"show", showCommand}, {"remove", removeCommand}, {"gc", gcCommand},
      {"fsck", fsckCommand}, {"trust", trustCommand}};
  for (const auto &[name, handler] : handlers)
    if (arguments[0] == name)
      return handler(subArgc, subArgv.data(), directory);
  return error("unknown subcommand '" + arguments[0] +
               "': expected push, pull, list, show, remove, gc, fsck or trust "
               "(see twasm registry --help)");
}

} // namespace tensorwasm::tool
