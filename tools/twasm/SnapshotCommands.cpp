//===- SnapshotCommands.cpp - twasm snapshot ------------------------------===//
//
// `twasm snapshot keygen|create|restore|inspect|verify`
// (docs/snapshot-format.md). create and restore are `twasm run` with a
// snapshot at the end or at the start (RunKernel.cpp); the others print
// what the runtime's API (include/twasm/Snapshot.h) returns. Plain C++: no
// LLVM.
//
//===----------------------------------------------------------------------===//

#include "SnapshotCommands.h"
#include "CommandLine.h"

#include "support/Files.h"
#include "twasm/Artifact.h"
#include "twasm/Snapshot.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace tensorwasm::tool {
namespace {

/// A 32-bit linear memory's largest size (65,536 pages of 64 KiB): what
/// `inspect --memory` was asked to write, however large.
constexpr uint64_t kLargestMemoryBytes = uint64_t(65536) * 65536;

constexpr const char *kUsage =
    R"(OVERVIEW: Signed snapshots of instances (docs/snapshot-format.md)

USAGE: twasm snapshot <command> ...

COMMANDS:
  keygen   --id ID -o KEY            Make a secret snapshot key (mode 0600)
  create   MODULE [ARGS] -o FILE|@NAME --snapshot-key KEY [run options]
           Instantiate MODULE (as `twasm run` does), grow, fill and, with
           --invoke, launch a kernel; then snapshot the instance
  restore  FILE|@NAME MODULE [ARGS] --snapshot-key KEY... [run options]
           Restore the snapshot onto the device, then grow, fill, launch
           (with --invoke), print, or snapshot it again (--save-snapshot)
  inspect  FILE [--snapshot-key KEY...] [--json] [--memory OUT]
           Describe a snapshot; without its key only the unauthenticated
           envelope (format, key id, sizes)
  verify   FILE... --snapshot-key KEY...
           Check the HMAC and every chunk's digest

@NAME is a snapshot in the registry's snapshot store (DIR/snapshots of
--registry DIR, $TWASM_REGISTRY or ~/.local/share/tensorwasm/registry), whose
counters refuse a replayed older snapshot. `twasm snapshot COMMAND --help`
shows the run options of create and restore (those of `twasm run`).
)";

std::string memoryText(const SnapshotInfo &info) {
  if (!info.hasMemory)
    return "none";
  char text[160];
  std::snprintf(text, sizeof text,
                "%llu bytes; %llu chunks hold %llu bytes (the rest is zero), "
                "stored in %llu bytes (%s)",
                static_cast<unsigned long long>(info.memoryBytes),
                static_cast<unsigned long long>(info.chunks),
                static_cast<unsigned long long>(info.chunkedBytes),
                static_cast<unsigned long long>(info.storedBytes),
                info.compression == SnapshotCompression::Zstd ? "zstd"
                                                              : "uncompressed");
  return text;
}

std::string globalValueText(const SnapshotGlobal &global) {
  const std::string &bytes = global.bytes;
  auto word = [&](size_t at, unsigned size) {
    uint64_t value = 0;
    for (unsigned i = 0; i < size && at + i < bytes.size(); ++i)
      value |= uint64_t(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
    return value;
  };
  char text[64];
  if (global.type == "i32") {
    std::snprintf(text, sizeof text, "%d", static_cast<int32_t>(word(0, 4)));
  } else if (global.type == "i64") {
    std::snprintf(text, sizeof text, "%lld",
                  static_cast<long long>(word(0, 8)));
  } else if (global.type == "f32") {
    uint32_t bits = static_cast<uint32_t>(word(0, 4));
    float value;
    std::memcpy(&value, &bits, 4);
    std::snprintf(text, sizeof text, "%.9g", value);
  } else if (global.type == "f64") {
    uint64_t bits = word(0, 8);
    double value;
    std::memcpy(&value, &bits, 8);
    std::snprintf(text, sizeof text, "%.17g", value);
  } else if (global.type.rfind("table ", 0) == 0) {
    std::snprintf(text, sizeof text, "%llu elements",
                  static_cast<unsigned long long>(word(0, 4)));
  } else {
    std::snprintf(text, sizeof text, "ref %llu",
                  static_cast<unsigned long long>(word(0, 4)));
  }
  return text;
}

nlohmann::json toJson(const SnapshotInfo &info) {
  nlohmann::json globals = nlohmann::json::array();
  for (const SnapshotGlobal &global : info.globals)
    globals.push_back({{"symbol", global.symbol},
                       {"type", global.type},
                       {"value", globalValueText(global)},
                       {"bytes", files::toHex(global.bytes)}});
  const SnapshotMetadata &metadata = info.metadata;
  return {{"format", std::to_string(info.formatMajor) + "." +
                         std::to_string(info.formatMinor)},
          {"key_id", info.keyId},
          {"artifact",
           {{"name", metadata.artifactName},
            {"version", metadata.artifactVersion},
            {"sha256", metadata.artifactDigest}}},
          {"tenant", metadata.tenant},
          {"counter", metadata.counter},
          {"device", deviceKindName(metadata.device)},
          {"created", formatArtifactTime(metadata.created)},
          {"memory",
           {{"present", info.hasMemory},
            {"bytes", info.memoryBytes},
            {"compression",
             info.compression == SnapshotCompression::Zstd ? "zstd" : "none"},
            {"chunks", info.chunks},
            {"chunked_bytes", info.chunkedBytes},
            {"stored_bytes", info.storedBytes}}},
          {"globals", globals},
          {"file_bytes", info.fileBytes}};
}

void printInfo(const std::string &file, const SnapshotInfo &info) {
  const SnapshotMetadata &metadata = info.metadata;
  printLine(file + ": verified with key '" + info.keyId + "'");
  printLine("  format:   " + std::to_string(info.formatMajor) + "." +
            std::to_string(info.formatMinor));
  printLine("  artifact: " +
            (metadata.artifactDigest.empty()
                 ? std::string("none (unsigned code)")
                 : metadata.artifactName + " version " +
                       std::to_string(metadata.artifactVersion) + " (sha256 " +
                       metadata.artifactDigest + ")"));
  printLine("  tenant:   " +
            (metadata.tenant.empty() ? "(none)" : metadata.tenant));
  printLine("  counter:  " + std::to_string(metadata.counter));
  printLine(std::string("  taken on: ") + deviceKindName(metadata.device) +
            ", " + formatArtifactTime(metadata.created));
  printLine("  memory:   " + memoryText(info));
  for (const SnapshotGlobal &global : info.globals)
    printLine("  global " + global.symbol + " (" + global.type +
              "): " + globalValueText(global));
  printLine("  file:     " + std::to_string(info.fileBytes) + " bytes");
}

std::optional<SnapshotKeyring> readKeys(const std::vector<std::string> &paths) {
  SnapshotKeyring keys;
  for (const std::string &path : paths) {
    Result<SnapshotKey> key = SnapshotKey::readFile(path);
    if (!key) {
      error(key.error().message);
      return std::nullopt;
    }
    if (Status added = keys.add(*key); !added) {
      error(path + ": " + added.error().message);
      return std::nullopt;
    }
  }
  return keys;
}

int keygenMain(int argc, char **argv) {
  CommandHelp command{
      "twasm snapshot keygen",
      "Make a secret key that authenticates snapshots (HMAC-SHA256)",
      "--id ID -o KEY",
      {{"id", "ID",
        "The key's id, which snapshots name (1 to 64 of A-Z a-z "
        "0-9 . _ -)"},
       {"o", "KEY", "Where to write it (mode 0600; never overwritten)"},
       {"help", nullptr, "Print this help and exit"}}};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (!line->has("id") || !line->has("o") || !line->positionals.empty())
    return error("expected --id ID -o KEY (see twasm snapshot keygen --help)");
  Result<SnapshotKey> key = SnapshotKey::generate(line->last("id"));
  if (!key)
    return error(key.error().message);
  if (Status written = key->writeFile(line->last("o")); !written)
    return error(written.error().message);
  printLine("wrote " + line->last("o") + " (snapshot key '" + key->id() +
            "'; keep it secret: whoever holds it can make snapshots that "
            "restore)");
  return 0;
}

int inspectMain(int argc, char **argv) {
  CommandHelp command{
      "twasm snapshot inspect",
      "Describe a snapshot",
      "<FILE> [--snapshot-key KEY...] [--json] [--memory OUT]",
      {{"snapshot-key", "KEY", "A key that may have made it (repeatable)"},
       {"json", nullptr, "Print JSON instead of text"},
       {"memory", "OUT",
        "Also write its linear memory (zeroes included) to "
        "OUT"},
       {"help", nullptr, "Print this help and exit"}}};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (line->positionals.size() != 1)
    return error("expected one snapshot file (see twasm snapshot inspect "
                 "--help)");
  const std::string &file = line->positionals[0];
  std::string why;
  std::optional<std::string> bytes = files::readFile(file, &why);
  if (!bytes)
    return error("cannot read " + file + ": " + why);
  if (!line->has("snapshot-key")) {
    // Without the key, nothing inside may be believed, nor parsed.
    Result<SnapshotEnvelope> envelope = readSnapshotEnvelope(*bytes);
    if (!envelope)
      return error(file + ": " + envelope.error().message);
    if (line->has("memory"))
      return error("--memory needs --snapshot-key");
    if (line->has("json")) {
      printLine(nlohmann::json{
          {"format", std::to_string(envelope->formatMajor) + "." +
                         std::to_string(envelope->formatMinor)},
          {"key_id", envelope->keyId},
          {"verified", false},
          {"head_bytes", envelope->headBytes},
          {"data_bytes", envelope->dataBytes}}
                    .dump());
      return 0;
    }
    printLine(file + ": NOT verified (no --snapshot-key); its envelope says:");
    printLine("  format " + std::to_string(envelope->formatMajor) + "." +
              std::to_string(envelope->formatMinor) + ", key id '" +
              envelope->keyId + "', head " +
              std::to_string(envelope->headBytes) + " bytes, data " +
              std::to_string(envelope->dataBytes) + " bytes");
    return 0;
  }
  std::optional<SnapshotKeyring> keys = readKeys(line->all("snapshot-key"));
  if (!keys)
    return 1;
  Result<SnapshotInfo> info = verifySnapshot(*bytes, *keys);
  if (!info)
    return error(file + ": " + info.error().message);
  if (line->has("memory")) {
    Result<std::string> memory =
        readSnapshotMemory(*bytes, *keys, kLargestMemoryBytes);
    if (!memory)
      return error(file + ": " + memory.error().message);
    const std::string &out = line->last("memory");
    if (std::optional<std::string> failure = files::writeFileAtomically(
            out, *memory, files::parentDirectory(out), 0600))
      return error(*failure);
  }
  if (line->has("json"))
    printLine(toJson(*info).dump());
  else
    printInfo(file, *info);
  return 0;
}

int verifyMain(int argc, char **argv) {
  CommandHelp command{
      "twasm snapshot verify",
      "Check snapshots: the HMAC (constant time, before anything is read), "
      "then every memory chunk's digest",
      "<FILE>... --snapshot-key KEY...",
      {{"snapshot-key", "KEY", "A key that may have made them (repeatable)"},
       {"help", nullptr, "Print this help and exit"}},
      "\nEXIT STATUS: 0 every snapshot verified, 1 one did not or an "
      "error.\n"};
  int status;
  std::optional<ParsedLine> line = parseCommand(command, argc, argv, status);
  if (!line)
    return status;
  if (line->positionals.empty() || !line->has("snapshot-key"))
    return error("expected FILE... --snapshot-key KEY (see twasm snapshot "
                 "verify --help)");
  std::optional<SnapshotKeyring> keys = readKeys(line->all("snapshot-key"));
  if (!keys)
    return 1;
  status = 0;
  for (const std::string &file : line->positionals) {
    Result<SnapshotInfo> info = verifySnapshotFile(file, *keys);
    if (!info) {
      status = error(info.error().message);
      continue;
    }
    printLine(file + ": verified (key '" + info->keyId + "', counter " +
              std::to_string(info->metadata.counter) + ", " +
              memoryText(*info) + ")");
  }
  return status;
}

/// `create` and `restore`: a `twasm run` command line with the snapshot
/// options put in; a kernel launches only with --invoke.
int runWithSnapshot(int argc, char **argv, bool creating,
                    const CompileFunction &compile) {
  std::vector<std::string> arguments{"run"};
  bool invoked = false, help = false;
  std::string output;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    std::string token = argv[i];
    if (token == "--") {
      for (; i < argc; ++i)
        rest.push_back(argv[i]);
      break;
    }
    if (token == "--help" || token == "-h")
      help = true;
    if (token == "--invoke" || token.rfind("--invoke=", 0) == 0)
      invoked = true;
    if (creating && (token == "-o" || token == "--output")) {
      if (i + 1 >= argc)
        return error(token + ": expects a value <FILE|@NAME>");
      output = argv[++i];
      continue;
    }
    if (creating && token.rfind("-o=", 0) == 0) {
      output = token.substr(3);
      continue;
    }
    rest.push_back(token);
  }
  if (help)
    return runMain(2,
                   std::array<char *, 2>{const_cast<char *>("run"),
                                         const_cast<char *>("--help")}
                       .data(),
                   compile);
  if (creating) {
    if (output.empty())
      return error("twasm snapshot create: where to? -o FILE|@NAME");
    arguments.push_back("--save-snapshot=" + output);
  } else {
    // The snapshot comes first, so that no option's value is taken for it.
    if (rest.empty() || rest.front().empty() || rest.front()[0] == '-')
      return error("twasm snapshot restore: the snapshot (FILE or @NAME) "
                   "comes first");
    arguments.push_back("--restore-snapshot=" + rest.front());
    rest.erase(rest.begin());
  }
  if (!invoked)
    arguments.push_back("--no-launch");
  arguments.insert(arguments.end(), rest.begin(), rest.end());
  std::vector<char *> pointers;
  for (std::string &argument : arguments)
    pointers.push_back(argument.data());
  return runMain(static_cast<int>(pointers.size()), pointers.data(), compile);
}

} // namespace

int snapshotMain(int argc, char **argv, const CompileFunction &compile) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" ||
      std::string_view(argv[1]) == "-h") {
    std::fputs(kUsage, stdout);
    return argc < 2 ? 1 : 0;
  }
  std::string_view command = argv[1];
  if (command == "keygen")
    return keygenMain(argc - 1, argv + 1);
  if (command == "inspect")
    return inspectMain(argc - 1, argv + 1);
  if (command == "verify")
    return verifyMain(argc - 1, argv + 1);
  if (command == "create" || command == "restore")
    return runWithSnapshot(argc - 1, argv + 1, command == "create", compile);
  return error("unknown snapshot command '" + std::string(command) +
               "' (keygen, create, restore, inspect, verify)");
}

} // namespace tensorwasm::tool
