//===- Artifact.cpp - the signed artifact format
//---------------------------===//
//
// docs/artifact-format.md is the specification; the comments here say how
// the code follows it. The one rule that shapes everything: nothing that
// is not covered by a verified signature is interpreted beyond its length.
//
//===----------------------------------------------------------------------===//

#include "twasm/Artifact.h"
#include "artifact/JsonLimits.h"
#include "cpu/HostModule.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <set>

using namespace tensorwasm;
using json = nlohmann::json;

namespace {

constexpr std::string_view kMagic{"\x89TWA\r\n\x1a\n", 8};
constexpr uint32_t kFormatVersion = 1;
/// What each signature signs before the manifest's bytes.
constexpr std::string_view kSignatureDomain{"TWASM-ARTIFACT-1\0", 17};
constexpr size_t kMaximumManifestBytes = size_t(1) << 20;
constexpr size_t kKeyIdBytes = 32;
constexpr size_t kSignatureBytes = 64;
/// Magic, version, manifest length.
constexpr size_t kHeaderBytes = 16;
/// Signature count, key id, signature.
constexpr size_t kSignatureBlockBytes = 4 + kKeyIdBytes + kSignatureBytes;
/// JSON integers above this lose precision in many readers.
constexpr uint64_t kMaximumInteger = uint64_t(1) << 53;
constexpr uint64_t kMaximumPages = 65536;
constexpr size_t kMaximumPayloads = 64;
constexpr size_t kMaximumKernels = 4096;
constexpr size_t kMaximumParams = 1000;
constexpr size_t kMaximumStringBytes = 256;

uint32_t readLittleEndian32(std::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return value;
}

void appendLittleEndian32(std::string &out, uint32_t value) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

Error malformed(const std::string &why) {
  return Error{ErrorCode::InvalidModule, "malformed artifact: " + why};
}

Error untrusted(const std::string &why) {
  return Error{ErrorCode::Untrusted, "untrusted artifact: " + why};
}

bool isTargetName(std::string_view target) {
  if (target == "host")
    return true;
  if (target.size() < 5 || target.size() > 6 || target.substr(0, 3) != "sm_")
    return false;
  return std::all_of(target.begin() + 3, target.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

bool isSha256Hex(const std::string &text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/// The keys of `object`, which must be exactly `expected` (sorted).
bool hasExactlyKeys(const json &object,
                    std::initializer_list<const char *> expected) {
  if (!object.is_object() || object.size() != expected.size())
    return false;
  for (const char *key : expected)
    if (!object.contains(key))
      return false;
  return true;
}

/// An integer in [minimum, kMaximumInteger).
std::optional<uint64_t> boundedInteger(const json &value, uint64_t minimum = 0,
                                       uint64_t maximum = kMaximumInteger - 1) {
  if (!value.is_number_integer())
    return std::nullopt;
  if (value.is_number_unsigned()) {
    uint64_t number = value.get<uint64_t>();
    if (number < minimum || number > maximum)
      return std::nullopt;
    return number;
  }
  int64_t number = value.get<int64_t>();
  if (number < 0 || static_cast<uint64_t>(number) < minimum ||
      static_cast<uint64_t>(number) > maximum)
    return std::nullopt;
  return static_cast<uint64_t>(number);
}

/// A kernel parameter's type: a number type (not a reference).
std::optional<ValueType> parseParamType(const json &value) {
  if (!value.is_string())
    return std::nullopt;
  std::optional<cpu::ValueType> type =
      cpu::parseValueType(value.get_ref<const std::string &>());
  if (!type || *type == cpu::ValueType::FuncRef ||
      *type == cpu::ValueType::ExternRef)
    return std::nullopt;
  // The public enum is the runtime's own, without the reference types
  // (Runtime.cpp ties the two).
  return static_cast<ValueType>(*type);
}

std::optional<std::string> boundedString(const json &value,
                                         size_t minimum = 0) {
  if (!value.is_string())
    return std::nullopt;
  const std::string &text = value.get_ref<const std::string &>();
  if (text.size() < minimum || text.size() > kMaximumStringBytes)
    return std::nullopt;
  return text;
}

Result<ArtifactManifest> parseManifestDocument(const json &document) {
  auto bad = [](const std::string &why) {
    return malformed("manifest: " + why);
  };
  if (!hasExactlyKeys(document,
                      {"compiler", "created", "expires", "format", "kernels",
                       "memory", "name", "payloads", "version"}))
    return bad("it must be an object with exactly the keys compiler, "
               "created, expires, format, kernels, memory, name, payloads, "
               "version");
  ArtifactManifest manifest;
  // An unsigned integer: 1.0 compares equal to 1 but is another encoding.
  if (!document["format"].is_number_unsigned() ||
      document["format"] != json(kFormatVersion))
    return bad("\"format\" must be 1");
  std::optional<std::string> name = boundedString(document["name"], 1);
  if (!name)
    return bad("\"name\" must be a string");
  if (Status valid = checkArtifactName(*name); !valid)
    return bad(valid.error().message);
  manifest.name = *name;
  std::optional<uint64_t> version = boundedInteger(document["version"], 1);
  std::optional<uint64_t> created = boundedInteger(document["created"]);
  std::optional<uint64_t> expires = boundedInteger(document["expires"]);
  if (!version || !created || !expires)
    return bad("\"version\" (≥ 1), \"created\" and \"expires\" must be "
               "integers below 2^53");
  if (*created > *expires)
    return bad("it is created after it expires");
  manifest.version = *version;
  manifest.created = static_cast<int64_t>(*created);
  manifest.expires = static_cast<int64_t>(*expires);
  std::optional<std::string> compiler = boundedString(document["compiler"]);
  if (!compiler)
    return bad("\"compiler\" must be a string of at most 256 bytes");
  manifest.compiler = *compiler;

  const json &kernels = document["kernels"];
  if (!kernels.is_array() || kernels.size() > kMaximumKernels)
    return bad("\"kernels\" must be an array of at most 4096 kernels");
  std::set<std::string> kernelNames;
  for (const json &kernel : kernels) {
    std::optional<std::string> kernelName;
    if (!hasExactlyKeys(kernel, {"name", "params"}) ||
        !(kernelName = boundedString(kernel["name"], 1)) ||
        !kernel["params"].is_array() ||
        kernel["params"].size() > kMaximumParams)
      return bad("a kernel must be {\"name\": string, \"params\": [types]}");
    if (!kernelNames.insert(*kernelName).second)
      return bad("the kernel '" + *kernelName + "' appears twice");
    ArtifactManifest::Kernel entry{*kernelName, {}};
    for (const json &param : kernel["params"]) {
      std::optional<ValueType> type = parseParamType(param);
      if (!type)
        return bad("kernel '" + *kernelName +
                   "': a parameter type must be i32, i64, f32 or f64");
      entry.params.push_back(*type);
    }
    manifest.kernels.push_back(std::move(entry));
  }

  const json &memory = document["memory"];
  if (!memory.is_null()) {
    if (!hasExactlyKeys(memory, {"maximum_pages", "minimum_pages"}))
      return bad("\"memory\" must be null or {\"maximum_pages\", "
                 "\"minimum_pages\"}");
    std::optional<uint64_t> minimum =
        boundedInteger(memory["minimum_pages"], 0, kMaximumPages);
    std::optional<uint64_t> maximum;
    if (!memory["maximum_pages"].is_null() &&
        !(maximum = boundedInteger(memory["maximum_pages"], 0, kMaximumPages)))
      return bad("\"maximum_pages\" must be null or at most 65536");
    if (!minimum || (maximum && *maximum < *minimum))
      return bad("\"minimum_pages\" must be at most 65536 and the maximum");
    manifest.memory = ArtifactManifest::Memory{*minimum, maximum};
  }

  const json &payloads = document["payloads"];
  if (!payloads.is_array() || payloads.size() < 3 ||
      payloads.size() > kMaximumPayloads)
    return bad("\"payloads\" must list the wasm and, for 1 to 31 targets, "
               "code and a kernel manifest");
  std::set<std::pair<std::string, std::string>> seen;
  for (const json &payload : payloads) {
    if (!hasExactlyKeys(payload, {"kind", "sha256", "size", "target"}))
      return bad("a payload must be {\"kind\", \"sha256\", \"size\", "
                 "\"target\"}");
    PayloadEntry entry;
    std::optional<std::string> kind = boundedString(payload["kind"]);
    std::optional<std::string> target = boundedString(payload["target"]);
    std::optional<std::string> digest = boundedString(payload["sha256"]);
    std::optional<uint64_t> size = boundedInteger(payload["size"]);
    if (!kind || !target || !digest || !size || !isSha256Hex(*digest))
      return bad("a payload's kind and target must be strings, its sha256 64 "
                 "lowercase hex digits, its size an integer");
    bool first = seen.empty();
    if (first != (*kind == "wasm"))
      return bad("the wasm payload must come first, and only once");
    if (*kind == "wasm" ? !target->empty()
                        : (*kind != "code" && *kind != "kernel-manifest") ||
                              !isTargetName(*target))
      return bad("payload '" + *kind + "' for '" + *target +
                 "': kinds are wasm (target \"\"), code and "
                 "kernel-manifest (target host or sm_XY)");
    if (!seen.insert({*kind, *target}).second)
      return bad("payload '" + *kind + "' for '" + *target + "' appears twice");
    entry.kind = *kind;
    entry.target = *target;
    entry.sha256 = *digest;
    entry.size = *size;
    manifest.payloads.push_back(std::move(entry));
  }
  for (const PayloadEntry &entry : manifest.payloads)
    if (entry.kind != "wasm" &&
        !seen.count(
            {entry.kind == "code" ? "kernel-manifest" : "code", entry.target}))
      return bad("target '" + entry.target +
                 "' needs both code and a kernel manifest");
  return manifest;
}

json manifestDocument(const ArtifactManifest &manifest) {
  json kernels = json::array();
  for (const ArtifactManifest::Kernel &kernel : manifest.kernels) {
    json params = json::array();
    for (ValueType type : kernel.params)
      params.push_back(valueTypeName(type));
    kernels.push_back({{"name", kernel.name}, {"params", params}});
  }
  json memory = nullptr;
  if (manifest.memory) {
    memory = {{"minimum_pages", manifest.memory->minimumPages},
              {"maximum_pages", nullptr}};
    if (manifest.memory->maximumPages)
      memory["maximum_pages"] = *manifest.memory->maximumPages;
  }
  json payloads = json::array();
  for (const PayloadEntry &entry : manifest.payloads)
    payloads.push_back({{"kind", entry.kind},
                        {"sha256", entry.sha256},
                        {"size", entry.size},
                        {"target", entry.target}});
  return {{"compiler", manifest.compiler},
          {"created", manifest.created},
          {"expires", manifest.expires},
          {"format", kFormatVersion},
          {"kernels", kernels},
          {"memory", memory},
          {"name", manifest.name},
          {"payloads", payloads},
          {"version", manifest.version}};
}

} // namespace

namespace tensorwasm::json_nesting {
bool within(std::string_view text, int limit) {
  int depth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}
} // namespace tensorwasm::json_nesting

namespace {

std::string signedMessage(std::string_view manifestBytes) {
  std::string message(kSignatureDomain);
  message.append(manifestBytes);
  return message;
}

/// Whether another target's kernel manifest declares what the first did.
bool sameInterface(const ArtifactManifest &manifest,
                   const std::vector<ArtifactManifest::Kernel> &kernels,
                   const std::optional<ArtifactManifest::Memory> &memory) {
  if (kernels.size() != manifest.kernels.size() ||
      memory.has_value() != manifest.memory.has_value())
    return false;
  for (size_t i = 0; i < kernels.size(); ++i)
    if (kernels[i].name != manifest.kernels[i].name ||
        kernels[i].params != manifest.kernels[i].params)
      return false;
  return !memory || (memory->minimumPages == manifest.memory->minimumPages &&
                     memory->maximumPages == manifest.memory->maximumPages);
}

int64_t currentTime() { return static_cast<int64_t>(std::time(nullptr)); }

} // namespace

Result<ArtifactManifest> ArtifactManifest::parse(std::string_view bytes) {
  if (!json_nesting::within(bytes, json_nesting::kManifestDepth))
    return malformed("manifest: nested deeper than a manifest is");
  json document = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded())
    return malformed("manifest: not JSON");
  try {
    // One manifest, one encoding: what re-encodes differently (whitespace,
    // key order, escapes, number forms, duplicate keys) is refused.
    if (document.dump() != bytes)
      return malformed("manifest: not in canonical form (sorted keys, no "
                       "whitespace, integers, minimal escapes)");
    return parseManifestDocument(document);
  } catch (const json::exception &error) {
    // dump() refuses invalid UTF-8.
    return malformed(std::string("manifest: ") + error.what());
  }
}

std::string ArtifactManifest::serialize() const {
  return manifestDocument(*this).dump();
}

Result<Artifact> Artifact::verify(std::string bytes, const TrustPolicy &trust,
                                  const VerifyOptions &options) {
  // 1. The container's fixed fields: lengths only.
  std::string_view file = bytes;
  if (file.size() < kHeaderBytes || file.substr(0, kMagic.size()) != kMagic)
    return malformed("not a TensorWasm artifact (bad magic)");
  uint32_t format = readLittleEndian32(file, 8);
  if (format != kFormatVersion)
    return Error{ErrorCode::Unsupported,
                 "artifact format " + std::to_string(format) +
                     " is not supported; this runtime reads format " +
                     std::to_string(kFormatVersion)};
  size_t manifestBytes = readLittleEndian32(file, 12);
  if (manifestBytes == 0 || manifestBytes > kMaximumManifestBytes ||
      file.size() < kHeaderBytes + manifestBytes + kSignatureBlockBytes)
    return malformed("the manifest's length (" + std::to_string(manifestBytes) +
                     ") does not fit the file (" + std::to_string(file.size()) +
                     " bytes)");
  std::string_view manifestText = file.substr(kHeaderBytes, manifestBytes);
  size_t signatureBlock = kHeaderBytes + manifestBytes;
  if (readLittleEndian32(file, signatureBlock) != 1)
    return malformed("format 1 carries exactly one signature");
  std::string keyId =
      files::toHex(file.substr(signatureBlock + 4, kKeyIdBytes));
  std::string_view signature =
      file.substr(signatureBlock + 4 + kKeyIdBytes, kSignatureBytes);

  // 2. The signature, before any byte of the manifest is interpreted.
  const TrustPolicy::Publisher *publisher = trust.find(keyId);
  if (!publisher)
    return untrusted("signed by key " + keyId +
                     ", which the trust policy does not know");
  if (!publisher->key.verifies(signedMessage(manifestText), signature))
    return untrusted("the signature of key " + keyId +
                     " does not verify: the manifest or signature was altered");

  // 3. The manifest, now that its bytes are the signer's.
  Result<ArtifactManifest> manifest = ArtifactManifest::parse(manifestText);
  if (!manifest)
    return manifest.error();

  // 4. Whether this key may publish this name.
  if (!trust.allows(keyId, manifest->name)) {
    std::string allowed;
    for (const std::string &pattern : publisher->names)
      allowed += (allowed.empty() ? "" : ", ") + pattern;
    return untrusted("key " + keyId + " may not publish '" + manifest->name +
                     "' (it may publish " + allowed + ")");
  }

  // 5. Expiry.
  int64_t now = options.now.value_or(currentTime());
  if (now >= manifest->expires)
    return untrusted("'" + manifest->name + "' version " +
                     std::to_string(manifest->version) + " expired at " +
                     formatArtifactTime(manifest->expires));

  // 6. The payloads: together exactly the rest of the file, each its digest.
  auto state = std::make_shared<State>();
  size_t offset = signatureBlock + kSignatureBlockBytes;
  for (const PayloadEntry &entry : manifest->payloads) {
    if (entry.size > file.size() - offset)
      return untrusted("the payloads are longer than the file: it was "
                       "truncated or altered");
    std::string_view payload = file.substr(offset, entry.size);
    if (files::sha256Hex(payload) != entry.sha256)
      return untrusted("payload '" + entry.kind +
                       (entry.target.empty() ? "" : "' for '" + entry.target) +
                       "' does not match its digest: it was altered or comes "
                       "from another artifact");
    state->offsets.push_back(offset);
    offset += entry.size;
  }
  if (offset != file.size())
    return untrusted(
        std::to_string(file.size() - offset) +
        (file.size() - offset == 1 ? " byte follows" : " bytes follow") +
        " the last payload");

  state->signer = std::move(keyId);
  state->manifest = std::move(*manifest);
  state->bytes = std::move(bytes);
  Artifact artifact;
  artifact.state = std::move(state);
  return artifact;
}

const std::string &Artifact::digest() const {
  std::call_once(state->digestOnce,
                 [&] { state->digest = files::sha256Hex(state->bytes); });
  return state->digest;
}

Result<Artifact> Artifact::readFile(const std::string &path,
                                    const TrustPolicy &trust,
                                    const VerifyOptions &options) {
  std::string error;
  std::optional<std::string> bytes = files::readFile(path, &error);
  if (!bytes)
    return Error{ErrorCode::InvalidArgument, error};
  Result<Artifact> artifact = verify(std::move(*bytes), trust, options);
  if (!artifact)
    return Error{artifact.error().code, path + ": " + artifact.error().message};
  return artifact;
}

std::optional<std::string_view>
Artifact::payload(std::string_view kind, std::string_view target) const {
  const std::vector<PayloadEntry> &payloads = state->manifest->payloads;
  for (size_t i = 0; i < payloads.size(); ++i)
    if (payloads[i].kind == kind && payloads[i].target == target)
      return std::string_view(state->bytes)
          .substr(state->offsets[i], payloads[i].size);
  return std::nullopt;
}

std::optional<std::string>
Artifact::targetFor(std::string_view codeTarget) const {
  if (payload("code", codeTarget))
    return std::string(codeTarget);
  if (!isTargetName(codeTarget) || codeTarget == "host")
    return std::nullopt;
  // PTX runs on its own architecture and newer ones (the driver compiles
  // it), so the best is the newest not newer than the device.
  int device = std::stoi(std::string(codeTarget.substr(3)));
  std::optional<std::string> best;
  int bestArch = -1;
  for (const PayloadEntry &entry : state->manifest->payloads) {
    if (entry.kind != "code" || entry.target == "host")
      continue;
    int arch = std::stoi(entry.target.substr(3));
    if (arch <= device && arch > bestArch) {
      bestArch = arch;
      best = entry.target;
    }
  }
  return best;
}

std::string tensorwasm::formatArtifactTime(int64_t unixSeconds) {
  std::time_t time = static_cast<std::time_t>(unixSeconds);
  std::tm parts{};
  char text[32] = "?";
  if (gmtime_r(&time, &parts))
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::string tensorwasm::compilerIdentity() {
  return "tensorwasm " TWASM_VERSION;
}

Result<std::string> tensorwasm::buildArtifact(const ArtifactContents &contents,
                                              const SigningKey &key) {
  auto invalid = [](const std::string &why) {
    return Error{ErrorCode::InvalidArgument,
                 "cannot build the artifact: " + why};
  };
  if (Status valid = checkArtifactName(contents.name); !valid)
    return invalid(valid.error().message);
  if (contents.targets.empty())
    return invalid("it needs compiled code for at least one target");
  ArtifactManifest manifest;
  manifest.name = contents.name;
  manifest.version = contents.version;
  manifest.created = contents.created ? contents.created : currentTime();
  manifest.expires = contents.expires;
  manifest.compiler = compilerIdentity();
  if (manifest.expires <= manifest.created)
    return invalid("it would expire (" + formatArtifactTime(manifest.expires) +
                   ") before it was created (" +
                   formatArtifactTime(manifest.created) + ")");
  manifest.payloads.push_back(
      {"wasm", "", files::sha256Hex(contents.wasm), contents.wasm.size()});

  for (size_t i = 0; i < contents.targets.size(); ++i) {
    const ArtifactContents::TargetCode &target = contents.targets[i];
    if (!isTargetName(target.target))
      return invalid("'" + target.target + "' is not a target (host, sm_XY)");
    cpu::Expected<cpu::ModuleDescription> description =
        cpu::ModuleDescription::parse(
            target.kernelManifest, target.target == "host"
                                       ? cpu::ModuleDescription::Target::Host
                                       : cpu::ModuleDescription::Target::Ptx);
    if (!description)
      return invalid("the kernel manifest for " + target.target + ": " +
                     description.error().message);
    std::vector<ArtifactManifest::Kernel> kernels;
    for (const cpu::ModuleDescription::Kernel &kernel : description->kernels) {
      ArtifactManifest::Kernel entry{kernel.name, {}};
      for (cpu::ValueType type : kernel.params)
        entry.params.push_back(static_cast<ValueType>(type));
      kernels.push_back(std::move(entry));
    }
    std::optional<ArtifactManifest::Memory> memory;
    if (description->memory)
      memory = ArtifactManifest::Memory{description->memory->minPages,
                                        description->memory->maxPages};
    if (i == 0) {
      manifest.kernels = std::move(kernels);
      manifest.memory = memory;
    } else if (!sameInterface(manifest, kernels, memory)) {
      return invalid("the kernel manifest for " + target.target +
                     " declares other kernels or memory than the one for " +
                     contents.targets[0].target);
    }
    manifest.payloads.push_back({"code", target.target,
                                 files::sha256Hex(target.code),
                                 target.code.size()});
    manifest.payloads.push_back({"kernel-manifest", target.target,
                                 files::sha256Hex(target.kernelManifest),
                                 target.kernelManifest.size()});
  }
  std::string manifestText = manifest.serialize();
  if (manifestText.size() > kMaximumManifestBytes)
    return invalid("its manifest would be " +
                   std::to_string(manifestText.size()) +
                   " bytes, more than format 1 allows (1 MiB)");
  // What we write must be what we read.
  Result<ArtifactManifest> reparsed = ArtifactManifest::parse(manifestText);
  if (!reparsed)
    return invalid(reparsed.error().message);
  Result<std::string> signature = key.sign(signedMessage(manifestText));
  if (!signature)
    return signature.error();

  std::string file(kMagic);
  appendLittleEndian32(file, kFormatVersion);
  appendLittleEndian32(file, static_cast<uint32_t>(manifestText.size()));
  file += manifestText;
  appendLittleEndian32(file, 1);
  file += key.publicKey().raw().size() == kKeyIdBytes
              ? files::sha256(key.publicKey().raw())
              : std::string();
  file += *signature;
  file += contents.wasm;
  for (const ArtifactContents::TargetCode &target : contents.targets) {
    file += target.code;
    file += target.kernelManifest;
  }
  return file;
}
