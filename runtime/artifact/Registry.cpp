//===- Registry.cpp - the kernel registry on disk -------------------------===//
//
// docs/artifact-format.md, "The registry": artifacts stored by the SHA-256 of
// their bytes under objects/, an index of names and versions, the trust
// policy, and a lock file that every operation locks with flock(2) (shared
// to read, exclusive to change). Every file is written through tmp/ with
// files::writeFileAtomically, so that a crash leaves the old index or the
// new one, and at worst a temporary file or an object no entry names.
//
//===----------------------------------------------------------------------===//

#include "twasm/Artifact.h"

#include "artifact/JsonLimits.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>
#include <utility>

using namespace tensorwasm;
using json = nlohmann::json;

namespace {

/// The index's format, its "format" field.
constexpr uint64_t kIndexFormat = 1;
constexpr size_t kMaxListLimit = 1000;
constexpr size_t kDigestHexLength = 64;

Error invalidArgument(std::string message) {
  return Error{ErrorCode::InvalidArgument, std::move(message)};
}

/// A file of the registry that cannot be read, written or understood.
Error fileError(std::string message) {
  return Error{ErrorCode::InvalidModule, std::move(message)};
}

bool isLowerHex(std::string_view text, size_t length) {
  return text.size() == length &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

int64_t clockOf(const VerifyOptions &options) {
  return options.now ? *options.now : static_cast<int64_t>(std::time(nullptr));
}

std::string utcTime(int64_t seconds) {
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  char text[64];
  if (!gmtime_r(&time, &parts) ||
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts) == 0)
    return std::to_string(seconds) + " (Unix time)";
  return text;
}

std::string label(std::string_view name, uint64_t version) {
  return std::string(name) + "@" + std::to_string(version);
}

std::string label(const RegistryEntry &entry) {
  return label(entry.name, entry.version);
}

//===----------------------------------------------------------------------===//
// Paths
//===----------------------------------------------------------------------===//

std::string indexPath(const std::string &root) { return root + "/index.json"; }
std::string trustPath(const std::string &root) { return root + "/trust.json"; }
std::string lockPath(const std::string &root) { return root + "/lock"; }
std::string temporaryDirectory(const std::string &root) {
  return root + "/tmp";
}
std::string objectsDirectory(const std::string &root) {
  return root + "/objects/sha256";
}
std::string objectDirectory(const std::string &root,
                            const std::string &digest) {
  return objectsDirectory(root) + "/" + digest.substr(0, 2);
}
std::string objectPath(const std::string &root, const std::string &digest) {
  return objectDirectory(root, digest) + "/" + digest;
}

/// The names in a directory, sorted, without "." and "..". A directory that
/// does not exist is empty.
Result<std::vector<std::string>> listDirectory(const std::string &path) {
  DIR *directory = opendir(path.c_str());
  if (!directory) {
    if (errno == ENOENT)
      return std::vector<std::string>();
    return fileError("cannot read the directory " + path + ": " +
                     std::strerror(errno));
  }
  std::vector<std::string> names;
  while (dirent *entry = readdir(directory)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..")
      names.push_back(std::move(name));
  }
  closedir(directory);
  std::sort(names.begin(), names.end());
  return names;
}

/// The file at `path`, or nullopt if there is none.
Result<std::optional<std::string>> readIfPresent(const std::string &path) {
  struct stat status;
  if (stat(path.c_str(), &status) != 0) {
    if (errno == ENOENT)
      return std::optional<std::string>();
    return fileError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::string error;
  std::optional<std::string> bytes = files::readFile(path, &error);
  if (!bytes)
    return fileError(error);
  return bytes;
}

//===----------------------------------------------------------------------===//
// The lock
//===----------------------------------------------------------------------===//

/// flock(2) on DIR/lock, held while the object lives.
Result<files::FileLock> lockRegistry(const std::string &root, bool exclusive) {
  std::string why;
  std::optional<files::FileLock> lock =
      files::FileLock::acquire(lockPath(root), exclusive, why);
  if (!lock)
    return fileError("the registry's lock: " + why);
  return std::move(*lock);
}

//===----------------------------------------------------------------------===//
// References: NAME or NAME@VERSION
//===----------------------------------------------------------------------===//

struct Reference {
  std::string name;
  std::optional<uint64_t> version;
};

std::optional<uint64_t> parseVersion(std::string_view digits) {
  if (digits.empty() || digits.size() > 19 || digits[0] == '0' ||
      digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return std::stoull(std::string(digits));
}

Result<Reference> parseReference(std::string_view text) {
  Reference reference;
  size_t at = text.rfind('@');
  reference.name = std::string(text.substr(0, at));
  if (at != std::string_view::npos) {
    reference.version = parseVersion(text.substr(at + 1));
    if (!reference.version)
      return invalidArgument("\"" + std::string(text) +
                             "\" does not end in a version: write NAME or "
                             "NAME@VERSION, VERSION an integer of at least 1");
  }
  if (Status valid = checkArtifactName(reference.name); !valid)
    return invalidArgument(
        "\"" + std::string(text) +
        "\" is not NAME or NAME@VERSION: " + valid.error().message);
  return reference;
}

//===----------------------------------------------------------------------===//
// The index
//===----------------------------------------------------------------------===//

struct NameRecord {
  /// The highest version ever accepted, kept when its entry is removed.
  uint64_t highest = 0;
  std::map<uint64_t, RegistryEntry> versions;
};
/// Sorted by name (bytes), then version.
using Index = std::map<std::string, NameRecord>;

/// Thrown only inside parseIndex, which turns it into an Error.
struct IndexError {
  std::string message;
};

const json &member(const json &object, const char *key) {
  auto found = object.find(key);
  if (found == object.end())
    throw IndexError{std::string("missing \"") + key + "\""};
  return *found;
}

void expectKeys(const json &object, std::initializer_list<const char *> keys,
                const std::string &what,
                std::initializer_list<const char *> optionalKeys = {}) {
  if (!object.is_object())
    throw IndexError{what + " is not an object"};
  for (const char *key : keys)
    if (!object.contains(key))
      throw IndexError{what + " has no \"" + key + "\""};
  size_t optionalPresent = 0;
  for (const char *key : optionalKeys)
    optionalPresent += object.contains(key);
  if (object.size() != keys.size() + optionalPresent)
    throw IndexError{what + " has fields other than the index's"};
}

uint64_t unsignedMember(const json &object, const char *key) {
  const json &value = member(object, key);
  if (!value.is_number_unsigned())
    throw IndexError{std::string("\"") + key +
                     "\" is not a non-negative integer"};
  return value.get<uint64_t>();
}

int64_t integerMember(const json &object, const char *key) {
  const json &value = member(object, key);
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() &&
       value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)))
    throw IndexError{std::string("\"") + key + "\" is not an integer"};
  return value.get<int64_t>();
}

std::string hexMember(const json &object, const char *key) {
  const json &value = member(object, key);
  if (!value.is_string() ||
      !isLowerHex(value.get_ref<const std::string &>(), kDigestHexLength))
    throw IndexError{std::string("\"") + key +
                     "\" is not 64 lowercase hex digits"};
  return value.get<std::string>();
}

Error damagedIndex(const std::string &root, const std::string &why) {
  return fileError("the registry's index " + indexPath(root) + " is damaged (" +
                   why +
                   "): restore it from a backup; `twasm registry fsck` "
                   "lists what the store holds");
}

Result<Index> parseIndex(std::string_view text, const std::string &root) {
  if (!json_nesting::within(text, json_nesting::kManifestDepth))
    return damagedIndex(root, "it nests deeper than an index does");
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded())
    return damagedIndex(root, "it is not JSON");
  try {
    if (document.is_object() && document.contains("format") &&
        document.at("format") != kIndexFormat)
      return fileError("the registry's index " + indexPath(root) +
                       " has format " + member(document, "format").dump() +
                       "; this runtime reads format 1: use the tensorwasm "
                       "that wrote it");
    expectKeys(document, {"format", "names"}, "the index");
    (void)unsignedMember(document, "format"); // 1, not 1.0.
    const json &names = member(document, "names");
    if (!names.is_object())
      throw IndexError{"\"names\" is not an object"};
    Index index;
    for (const auto &[name, recordJson] : names.items()) {
      if (Status valid = checkArtifactName(name); !valid)
        throw IndexError{"\"" + name + "\" is not an artifact name"};
      expectKeys(recordJson, {"highest", "versions"}, name);
      NameRecord record;
      record.highest = unsignedMember(recordJson, "highest");
      if (record.highest == 0)
        throw IndexError{name + "'s highest version is 0"};
      const json &versions = member(recordJson, "versions");
      if (!versions.is_object())
        throw IndexError{name + "'s \"versions\" is not an object"};
      for (const auto &[key, entryJson] : versions.items()) {
        std::optional<uint64_t> version = parseVersion(key);
        if (!version || *version > record.highest)
          throw IndexError{name + " has a version \"" + key +
                           "\" that is not an integer from 1 to its highest"};
        expectKeys(entryJson,
                   {"created", "digest", "expires", "pushed", "signer", "size"},
                   label(name, *version), {"publisher"});
        RegistryEntry entry;
        entry.name = name;
        entry.version = *version;
        entry.digest = hexMember(entryJson, "digest");
        entry.size = unsignedMember(entryJson, "size");
        entry.signer = hexMember(entryJson, "signer");
        entry.created = integerMember(entryJson, "created");
        entry.expires = integerMember(entryJson, "expires");
        entry.pushed = integerMember(entryJson, "pushed");
        if (entryJson.contains("publisher")) {
          const json &publisher = entryJson["publisher"];
          if (!publisher.is_string() ||
              publisher.get_ref<const std::string &>().empty())
            throw IndexError{label(name, *version) +
                             "'s \"publisher\" is not a non-empty string"};
          entry.publisher = publisher.get<std::string>();
        }
        record.versions.emplace(*version, std::move(entry));
      }
      index.emplace(name, std::move(record));
    }
    return index;
  } catch (const IndexError &error) {
    return damagedIndex(root, error.message);
  } catch (const json::exception &error) {
    return damagedIndex(root, error.what());
  }
}

/// Canonical JSON: nlohmann's objects sort their keys, and dump() writes no
/// whitespace.
std::string serializeIndex(const Index &index) {
  json names = json::object();
  for (const auto &[name, record] : index) {
    json versions = json::object();
    for (const auto &[version, entry] : record.versions) {
      json item = json::object();
      item["created"] = entry.created;
      item["digest"] = entry.digest;
      item["expires"] = entry.expires;
      item["pushed"] = entry.pushed;
      item["signer"] = entry.signer;
      item["size"] = entry.size;
      // Written only when there is one: indexes without publishers read
      // the same in every version.
      if (!entry.publisher.empty())
        item["publisher"] = entry.publisher;
      versions[std::to_string(version)] = std::move(item);
    }
    json item = json::object();
    item["highest"] = record.highest;
    item["versions"] = std::move(versions);
    names[name] = std::move(item);
  }
  json document = json::object();
  document["format"] = kIndexFormat;
  document["names"] = std::move(names);
  return document.dump();
}

/// The index; an empty one if there is no index.json yet.
Result<Index> loadIndex(const std::string &root) {
  Result<std::optional<std::string>> text = readIfPresent(indexPath(root));
  if (!text)
    return text.error();
  if (!*text)
    return Index();
  return parseIndex(**text, root);
}

/// The registry locked (shared, or exclusive to change it) and its index.
struct LockedIndex {
  files::FileLock lock;
  Index index;
};
Result<LockedIndex> lockIndex(const std::string &root, bool exclusive) {
  Result<files::FileLock> lock = lockRegistry(root, exclusive);
  if (!lock)
    return lock.error();
  Result<Index> index = loadIndex(root);
  if (!index)
    return index.error();
  return LockedIndex{std::move(*lock), std::move(*index)};
}

Status storeIndex(const std::string &root, const Index &index) {
  if (std::optional<std::string> failure = files::writeFileAtomically(
          indexPath(root), serializeIndex(index), temporaryDirectory(root)))
    return fileError("cannot update the registry's index: " + *failure);
  return {};
}

Result<TrustPolicy> loadTrust(const std::string &root) {
  Result<std::optional<std::string>> text = readIfPresent(trustPath(root));
  if (!text)
    return text.error();
  if (!*text)
    return TrustPolicy();
  Result<TrustPolicy> policy = TrustPolicy::parse(**text);
  if (!policy)
    return fileError("the registry's trust policy " + trustPath(root) +
                     " is damaged: " + policy.error().message);
  return policy;
}

/// Versions of `record` present, for messages: "1, 2 and 5".
std::string versionList(const NameRecord &record) {
  std::string text;
  size_t index = 0, count = record.versions.size();
  for (const auto &[version, entry] : record.versions) {
    if (index > 0)
      text += index + 1 == count ? " and " : ", ";
    text += std::to_string(version);
    ++index;
  }
  return text;
}

Result<RegistryEntry> findEntry(const Index &index, const Reference &reference,
                                const std::string &root) {
  auto record = index.find(reference.name);
  if (record == index.end())
    return invalidArgument("there is no artifact named " + reference.name +
                           " in the registry " + root);
  const NameRecord &versions = record->second;
  if (!reference.version) {
    if (versions.versions.empty())
      return invalidArgument(reference.name +
                             " has no version in the registry " + root +
                             ": all were removed (the highest was " +
                             std::to_string(versions.highest) + ")");
    return versions.versions.rbegin()->second;
  }
  auto entry = versions.versions.find(*reference.version);
  if (entry != versions.versions.end())
    return entry->second;
  std::string message = reference.name + " has no version " +
                        std::to_string(*reference.version) +
                        " in the registry " + root;
  if (*reference.version <= versions.highest)
    message += " (it was removed)";
  message += versions.versions.empty()
                 ? "; it has no versions left"
                 : "; its versions are " + versionList(versions);
  return invalidArgument(message);
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

//===----------------------------------------------------------------------===//
// Objects and artifacts
//===----------------------------------------------------------------------===//

/// Stores `artifact` under its digest, unless an object that hashes to its
/// name is there already.
Status storeObject(const std::string &root, const Artifact &artifact) {
  const std::string &digest = artifact.digest();
  if (!isLowerHex(digest, kDigestHexLength))
    return fileError("the artifact's digest is not a SHA-256");
  std::string path = objectPath(root, digest);
  if (std::optional<std::string> existing = files::readFile(path);
      existing && files::sha256Hex(*existing) == digest)
    return {};
  std::string directory = objectDirectory(root, digest);
  struct stat status;
  bool created = stat(directory.c_str(), &status) != 0;
  if (std::optional<std::string> failure = files::makeDirectories(directory))
    return fileError("cannot store the artifact: " + *failure);
  // Make the new directory's name durable before anything is renamed into
  // it.
  if (created && !files::syncDirectory(objectsDirectory(root)))
    return fileError("cannot sync " + objectsDirectory(root) + ": " +
                     std::strerror(errno));
  if (std::optional<std::string> failure = files::writeFileAtomically(
          path, artifact.bytes(), temporaryDirectory(root)))
    return fileError("cannot store the artifact: " + *failure);
  return {};
}

/// Whether a verified artifact is what `entry` says it is.
bool matches(const Artifact &artifact, const RegistryEntry &entry) {
  const ArtifactManifest &manifest = artifact.manifest();
  return manifest.name == entry.name && manifest.version == entry.version &&
         artifact.digest() == entry.digest &&
         artifact.bytes().size() == entry.size &&
         artifact.signerKeyId() == entry.signer &&
         manifest.created == entry.created && manifest.expires == entry.expires;
}

std::string mismatch(const Artifact &artifact, const RegistryEntry &entry) {
  const ArtifactManifest &manifest = artifact.manifest();
  std::string what;
  if (manifest.name != entry.name || manifest.version != entry.version)
    what = "it holds " + label(manifest.name, manifest.version);
  else if (artifact.digest() != entry.digest)
    what = "its digest is " + artifact.digest();
  else
    what = "its size, signer, creation or expiry differ from the entry's";
  return "the registry's entry " + label(entry) +
         " does not match its artifact (" + what + ")";
}

uint32_t littleEndian32(std::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i)
    value |= uint32_t(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return value;
}

/// What fsck can still check of an artifact whose signer's key is no longer
/// in the trust policy (so that the signature cannot be checked): the
/// container's lengths, the key id, and the name, version and payload sizes
/// of its (unauthenticated) manifest. An empty string means they agree with
/// the entry.
std::string checkUnverifiable(std::string_view bytes,
                              const RegistryEntry &entry) {
  constexpr std::string_view magic("\x89TWA\r\n\x1a\n", 8);
  constexpr size_t fixedBytes = 116, maxManifest = size_t(1) << 20;
  if (bytes.size() < fixedBytes || bytes.substr(0, 8) != magic ||
      littleEndian32(bytes, 8) != 1)
    return "it is not a format 1 artifact";
  size_t manifestBytes = littleEndian32(bytes, 12);
  if (manifestBytes == 0 || manifestBytes > maxManifest ||
      manifestBytes > bytes.size() - fixedBytes ||
      littleEndian32(bytes, 16 + manifestBytes) != 1)
    return "its container is malformed";
  if (files::toHex(bytes.substr(20 + manifestBytes, 32)) != entry.signer)
    return "it is signed by another key than the entry says";
  Result<ArtifactManifest> manifest =
      ArtifactManifest::parse(bytes.substr(16, manifestBytes));
  if (!manifest)
    return "its manifest is malformed: " + manifest.error().message;
  if (manifest->name != entry.name || manifest->version != entry.version)
    return "it holds " + label(manifest->name, manifest->version);
  if (manifest->created != entry.created || manifest->expires != entry.expires)
    return "its creation or expiry differ from the entry's";
  uint64_t rest = bytes.size() - fixedBytes - manifestBytes;
  for (const PayloadEntry &payload : manifest->payloads) {
    if (payload.size > rest)
      return "its payloads are longer than the file";
    rest -= payload.size;
  }
  if (rest != 0)
    return "its payloads do not fill the file";
  return "";
}

} // namespace

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

std::string Registry::defaultDirectory() {
  return files::userDirectory("TWASM_REGISTRY", "XDG_DATA_HOME", ".local/share",
                              "registry");
}

Result<Registry> Registry::open(const std::string &directory) {
  std::string root = directory.empty() ? defaultDirectory() : directory;
  if (root.empty())
    return invalidArgument("no registry directory: pass --registry DIR, or "
                           "set TWASM_REGISTRY or HOME");
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  for (const std::string &path :
       {objectsDirectory(root), temporaryDirectory(root)})
    if (std::optional<std::string> failure = files::makeDirectories(path))
      return fileError("cannot create the registry in " + root + ": " +
                       *failure);
  // The registry decides what code runs: one that someone else could write
  // (their own trust.json, say) is refused, as the cubin cache is.
  if (std::optional<std::string> why = files::whyNotPrivate(root))
    return Error{ErrorCode::Untrusted,
                 "the registry " + *why + "; it decides what code runs"};
  // What open created must survive a power loss too.
  files::syncDirectory(objectsDirectory(root));
  files::syncDirectory(files::parentDirectory(objectsDirectory(root)));
  files::syncDirectory(root);
  files::syncDirectory(files::parentDirectory(root));
  int lock = ::open(lockPath(root).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 && errno != EACCES && errno != EROFS)
    return fileError("cannot create the registry's lock file " +
                     lockPath(root) + ": " + std::strerror(errno));
  if (lock >= 0)
    ::close(lock);
  Registry registry;
  registry.root = std::move(root);
  return registry;
}

Result<TrustPolicy> Registry::trust() const {
  Result<files::FileLock> lock = lockRegistry(root, false);
  if (!lock)
    return lock.error();
  return loadTrust(root);
}

Status Registry::setTrust(const TrustPolicy &policy) {
  Result<files::FileLock> lock = lockRegistry(root, true);
  if (!lock)
    return lock.error();
  if (std::optional<std::string> failure = files::writeFileAtomically(
          trustPath(root), policy.serialize(), temporaryDirectory(root)))
    return fileError("cannot update the registry's trust policy: " + *failure);
  return {};
}

Status
Registry::updateTrust(const std::function<Status(TrustPolicy &)> &change) {
  Result<files::FileLock> lock = lockRegistry(root, true);
  if (!lock)
    return lock.error();
  Result<TrustPolicy> policy = loadTrust(root);
  if (!policy)
    return policy.error();
  if (Status changed = change(*policy); !changed)
    return changed;
  if (std::optional<std::string> failure = files::writeFileAtomically(
          trustPath(root), policy->serialize(), temporaryDirectory(root)))
    return fileError("cannot update the registry's trust policy: " + *failure);
  return {};
}

namespace {
/// The bytes of the entries `publisher` has in `index`.
uint64_t bytesPublishedBy(const Index &index, std::string_view publisher) {
  uint64_t total = 0;
  for (const auto &[name, record] : index)
    for (const auto &[version, entry] : record.versions)
      if (entry.publisher == publisher)
        total += entry.size;
  return total;
}
} // namespace

Result<RegistryEntry> Registry::push(std::string bytes,
                                     const VerifyOptions &options,
                                     bool *alreadyPresent,
                                     const PushPublisher &publisher) {
  if (alreadyPresent)
    *alreadyPresent = false;
  Result<files::FileLock> lock = lockRegistry(root, true);
  if (!lock)
    return lock.error();
  Result<TrustPolicy> policy = loadTrust(root);
  if (!policy)
    return policy.error();
  if (policy->publishers().empty())
    return invalidArgument(
        "the registry " + root +
        " trusts no key yet, so it accepts no artifact: add the publisher's "
        "key with `twasm registry trust add KEY.pub --names PATTERN`");
  Result<Artifact> artifact =
      Artifact::verify(std::move(bytes), *policy, options);
  if (!artifact)
    return artifact.error();
  const ArtifactManifest &manifest = artifact->manifest();
  Result<Index> index = loadIndex(root);
  if (!index)
    return index.error();
  std::string pushed = label(manifest.name, manifest.version);

  if (auto record = index->find(manifest.name); record != index->end()) {
    const NameRecord &versions = record->second;
    auto present = versions.versions.find(manifest.version);
    if (present != versions.versions.end() &&
        present->second.digest == artifact->digest()) {
      // The very file again: a no-op, which restores its object if that
      // went missing.
      if (Status stored = storeObject(root, *artifact); !stored)
        return stored.error();
      if (alreadyPresent)
        *alreadyPresent = true;
      return present->second;
    }
    std::string highest = std::to_string(versions.highest);
    std::string advice =
        "publish version " + std::to_string(versions.highest + 1) + " or above";
    // Versions that do not go up are what a rollback attack looks like:
    // Untrusted, like every other refusal of what may run.
    if (manifest.version < versions.highest)
      return Error{ErrorCode::Untrusted,
                   "rollback refused: " + manifest.name + " version " +
                       std::to_string(manifest.version) + " is below version " +
                       highest +
                       ", the highest the registry accepted for it; " + advice};
    if (manifest.version == versions.highest) {
      if (present != versions.versions.end())
        return Error{ErrorCode::Untrusted,
                     pushed +
                         " is already in the registry with other "
                         "contents (digest " +
                         present->second.digest +
                         "); a version is never reused: " + advice};
      return Error{ErrorCode::Untrusted,
                   pushed +
                       " was removed from the registry and cannot be "
                       "pushed again: " +
                       advice};
    }
  }

  // Checked under the exclusive lock, against the index it changes: pushes
  // from several processes cannot together pass the bound.
  if (!publisher.name.empty()) {
    uint64_t kept = bytesPublishedBy(*index, publisher.name);
    uint64_t size = artifact->bytes().size();
    if (kept > publisher.maxBytes || size > publisher.maxBytes - kept)
      return Error{ErrorCode::ResourceExhausted,
                   "'" + publisher.name + "' keeps " + std::to_string(kept) +
                       " bytes of artifacts in the registry; " + pushed + " (" +
                       std::to_string(size) +
                       " bytes) would take it past its " +
                       std::to_string(publisher.maxBytes) +
                       " (entries that are no longer needed are removed "
                       "with `twasm registry remove`)"};
  }
  if (Status stored = storeObject(root, *artifact); !stored)
    return stored.error();
  RegistryEntry entry;
  entry.name = manifest.name;
  entry.version = manifest.version;
  entry.digest = artifact->digest();
  entry.size = artifact->bytes().size();
  entry.signer = artifact->signerKeyId();
  entry.created = manifest.created;
  entry.expires = manifest.expires;
  entry.pushed = static_cast<int64_t>(std::time(nullptr));
  entry.publisher = publisher.name;
  NameRecord &record = (*index)[entry.name];
  record.highest = entry.version;
  record.versions[entry.version] = entry;
  if (Status stored = storeIndex(root, *index); !stored)
    return stored.error();
  return entry;
}

Result<uint64_t> Registry::publishedBytes(std::string_view publisher) const {
  Result<LockedIndex> locked = lockIndex(root, false);
  if (!locked)
    return locked.error();
  return bytesPublishedBy(locked->index, publisher);
}

Result<RegistryEntry> Registry::find(std::string_view text) const {
  Result<Reference> reference = parseReference(text);
  if (!reference)
    return reference.error();
  Result<LockedIndex> locked = lockIndex(root, false);
  if (!locked)
    return locked.error();
  Index &index = locked->index;
  return findEntry(index, *reference, root);
}

Result<Artifact> Registry::fetch(std::string_view text,
                                 const VerifyOptions &options) const {
  Result<Reference> reference = parseReference(text);
  if (!reference)
    return reference.error();
  std::optional<RegistryEntry> entry;
  std::string bytes;
  std::optional<TrustPolicy> policy;
  {
    Result<LockedIndex> locked = lockIndex(root, false);
    if (!locked)
      return locked.error();
    Index &index = locked->index;
    Result<RegistryEntry> found = findEntry(index, *reference, root);
    if (!found)
      return found.error();
    entry = std::move(*found);
    std::string path = objectPath(root, entry->digest);
    Result<std::optional<std::string>> object = readIfPresent(path);
    if (!object)
      return object.error();
    if (!*object)
      return fileError("the artifact of " + label(*entry) + " is missing (" +
                       path + "): run `twasm registry fsck`");
    bytes = std::move(**object);
    Result<TrustPolicy> trust = loadTrust(root);
    if (!trust)
      return trust.error();
    policy = std::move(*trust);
  }
  Result<Artifact> artifact =
      Artifact::verify(std::move(bytes), *policy, options);
  if (!artifact)
    return Error{artifact.error().code,
                 label(*entry) + " from the registry " + root +
                     " does not verify: " + artifact.error().message};
  const ArtifactManifest &manifest = artifact->manifest();
  if (manifest.name != entry->name || manifest.version != entry->version ||
      artifact->digest() != entry->digest)
    return fileError(mismatch(*artifact, *entry));
  return artifact;
}

Status Registry::remove(std::string_view text) {
  Result<Reference> reference = parseReference(text);
  if (!reference)
    return reference.error();
  if (!reference->version)
    return invalidArgument("say which version of " + reference->name +
                           " to remove: NAME@VERSION");
  Result<LockedIndex> locked = lockIndex(root, true);
  if (!locked)
    return locked.error();
  Index &index = locked->index;
  if (Result<RegistryEntry> found = findEntry(index, *reference, root); !found)
    return found.error();
  index[reference->name].versions.erase(*reference->version);
  return storeIndex(root, index);
}

Result<ListPage> Registry::list(const ListQuery &query) const {
  if (query.limit < 1 || query.limit > kMaxListLimit)
    return invalidArgument("a page holds 1 to " +
                           std::to_string(kMaxListLimit) + " entries, not " +
                           std::to_string(query.limit));
  std::optional<Reference> after;
  if (!query.after.empty()) {
    Result<Reference> cursor = parseReference(query.after);
    if (!cursor || !cursor->version)
      return invalidArgument("\"" + query.after +
                             "\" is not a cursor: pass the `next` of the "
                             "previous page (NAME@VERSION)");
    after = std::move(*cursor);
  }
  Result<LockedIndex> locked = lockIndex(root, false);
  if (!locked)
    return locked.error();
  Index &index = locked->index;

  ListPage page;
  const std::string &start =
      after ? std::max(after->name, query.prefix) : query.prefix;
  for (auto record = index.lower_bound(start); record != index.end();
       ++record) {
    const std::string &name = record->first;
    if (!startsWith(name, query.prefix))
      break; // The names with the prefix are contiguous.
    for (const auto &[version, entry] : record->second.versions) {
      if (after &&
          std::tie(name, version) <= std::tie(after->name, *after->version))
        continue;
      if (page.entries.size() == query.limit) {
        page.next = label(page.entries.back());
        return page;
      }
      page.entries.push_back(entry);
    }
  }
  return page;
}

Result<FsckReport> Registry::fsck(const VerifyOptions &options) const {
  Result<files::FileLock> lock = lockRegistry(root, false);
  if (!lock)
    return lock.error();
  FsckReport report;
  int64_t now = clockOf(options);
  auto problem = [&](std::string text) {
    report.problems.push_back(std::move(text));
  };
  auto isA = [](const std::string &path, mode_t type) {
    struct stat status;
    return lstat(path.c_str(), &status) == 0 &&
           (status.st_mode & S_IFMT) == type;
  };

  // The top level holds only the registry's own files.
  Result<std::vector<std::string>> topLevel = listDirectory(root);
  if (!topLevel)
    return topLevel.error();
  static const std::set<std::string> known = {"index.json", "lock", "objects",
                                              "tmp", "trust.json"};
  for (const std::string &name : *topLevel)
    if (!known.count(name))
      problem("unexpected file " + root + "/" + name +
              " (a registry holds only objects/, tmp/, index.json, "
              "trust.json and lock)");

  // tmp/: what a crash left behind.
  Result<std::vector<std::string>> temporaries =
      listDirectory(temporaryDirectory(root));
  if (!temporaries)
    return temporaries.error();
  for (const std::string &name : *temporaries) {
    if (isA(temporaryDirectory(root) + "/" + name, S_IFREG))
      ++report.garbageFiles;
    else
      problem("unexpected file " + temporaryDirectory(root) + "/" + name +
              " (not a regular file)");
  }

  // objects/: every file named by a digest, in the directory of its first
  // two digits. Whether one hashes to its name is found below.
  struct ObjectState {
    bool checked = false;
    bool whole = false;
    /// The entries that name it.
    std::vector<std::string> entries;
  };
  std::map<std::string, ObjectState> objects;
  Result<std::vector<std::string>> kinds = listDirectory(root + "/objects");
  if (!kinds)
    return kinds.error();
  for (const std::string &name : *kinds)
    if (name != "sha256")
      problem("unexpected file " + root + "/objects/" + name);
  Result<std::vector<std::string>> prefixes =
      listDirectory(objectsDirectory(root));
  if (!prefixes)
    return prefixes.error();
  for (const std::string &prefix : *prefixes) {
    std::string directory = objectsDirectory(root) + "/" + prefix;
    if (!isLowerHex(prefix, 2) || !isA(directory, S_IFDIR)) {
      problem("unexpected file " + directory);
      continue;
    }
    Result<std::vector<std::string>> names = listDirectory(directory);
    if (!names)
      return names.error();
    for (const std::string &name : *names) {
      if (!isLowerHex(name, kDigestHexLength) || !startsWith(name, prefix) ||
          !isA(directory + "/" + name, S_IFREG))
        problem("unexpected file " + directory + "/" + name);
      else
        objects.emplace(name, ObjectState{});
    }
  }
  report.objects = objects.size();

  auto readObject =
      [&](const std::string &digest) -> std::optional<std::string> {
    std::string error;
    std::optional<std::string> bytes =
        files::readFile(objectPath(root, digest), &error);
    if (!bytes)
      problem(error);
    return bytes;
  };

  Result<Index> index = loadIndex(root);
  Result<TrustPolicy> policy = loadTrust(root);
  if (!policy)
    problem(policy.error().message);
  std::set<std::string> referenced;
  if (!index) {
    problem(index.error().message);
  } else {
    for (const auto &[name, record] : *index)
      for (const auto &[version, entry] : record.versions) {
        ++report.entries;
        referenced.insert(entry.digest);
        std::string which = label(entry);
        auto object = objects.find(entry.digest);
        if (object == objects.end()) {
          problem(which + ": its artifact " + objectPath(root, entry.digest) +
                  " is missing");
          continue;
        }
        std::optional<std::string> bytes = readObject(entry.digest);
        if (!bytes)
          continue;
        ObjectState &state = object->second;
        state.checked = true;
        state.entries.push_back(which);
        if (!policy) {
          state.whole = files::sha256Hex(*bytes) == entry.digest;
          if (state.whole && entry.size != bytes->size())
            problem(which + ": its size differs from the entry's");
          continue;
        }
        Result<Artifact> artifact = Artifact::verify(*bytes, *policy, options);
        if (artifact) {
          state.whole = artifact->digest() == entry.digest;
          if (state.whole && !matches(*artifact, entry))
            problem(mismatch(*artifact, entry));
          continue;
        }
        state.whole = files::sha256Hex(*bytes) == entry.digest;
        if (!state.whole)
          continue; // Reported with the object, below.
        // Whole, yet it does not load. Stale if it verifies where only the
        // clock or the policy differ: with the entry's signer trusted for
        // every name, at the time the artifact was created.
        const TrustPolicy::Publisher *publisher = policy->find(entry.signer);
        if (!publisher) {
          std::string wrong = checkUnverifiable(*bytes, entry);
          if (wrong.empty())
            report.stale.push_back(
                which + " is signed by key " + entry.signer +
                ", which is no longer in the trust policy (its signature "
                "cannot be checked)");
          else
            problem("the registry's entry " + which +
                    " does not match its artifact (" + wrong + ")");
          continue;
        }
        TrustPolicy signerOnly;
        VerifyOptions then;
        then.now = entry.created < entry.expires || entry.expires == INT64_MIN
                       ? entry.created
                       : entry.expires - 1;
        Result<Artifact> relaxed =
            signerOnly.add(publisher->key, {"*"})
                ? Artifact::verify(*bytes, signerOnly, then)
                : Result<Artifact>(artifact.error());
        if (!relaxed) {
          problem(which +
                  ": its artifact does not verify: " + relaxed.error().message);
        } else if (!matches(*relaxed, entry)) {
          problem(mismatch(*relaxed, entry));
        } else if (now >= entry.expires) {
          report.stale.push_back(which + " expired at " +
                                 utcTime(entry.expires));
        } else if (!policy->allows(entry.signer, entry.name)) {
          report.stale.push_back(which + " is signed by key " + entry.signer +
                                 ", which the trust policy no longer trusts "
                                 "for " +
                                 entry.name);
        } else {
          report.stale.push_back(which +
                                 " does not load: " + artifact.error().message);
        }
      }
  }

  for (auto &[digest, state] : objects) {
    if (!state.checked) {
      std::optional<std::string> bytes = readObject(digest);
      if (!bytes)
        continue;
      state.whole = files::sha256Hex(*bytes) == digest;
    }
    if (!state.whole) {
      std::string names;
      for (const std::string &entry : state.entries)
        names += (names.empty() ? "" : ", ") + entry;
      problem("the object " + objectPath(root, digest) +
              (names.empty() ? "" : " (of " + names + ")") +
              " is damaged: its contents do not hash to its name");
    } else if (index && !referenced.count(digest))
      ++report.garbageFiles;
  }
  return report;
}

Result<GcReport> Registry::gc(const GcOptions &options) {
  Result<files::FileLock> lock = lockRegistry(root, true);
  if (!lock)
    return lock.error();
  Result<Index> index = loadIndex(root);
  if (!index)
    return Error{index.error().code,
                 "gc needs the index to know which objects are in use: " +
                     index.error().message};
  GcReport report;
  if (options.expired) {
    int64_t now = clockOf(options.clock);
    for (auto &[name, record] : *index)
      for (auto entry = record.versions.begin();
           entry != record.versions.end();)
        if (now >= entry->second.expires) {
          entry = record.versions.erase(entry);
          ++report.removedEntries;
        } else {
          ++entry;
        }
    if (report.removedEntries > 0)
      if (Status stored = storeIndex(root, *index); !stored)
        return stored.error();
  }
  std::set<std::string> referenced;
  for (const auto &[name, record] : *index)
    for (const auto &[version, entry] : record.versions)
      referenced.insert(entry.digest);

  auto removeFile = [&](const std::string &path) -> Status {
    struct stat status;
    if (lstat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode))
      return {}; // Not garbage this function knows; fsck reports it.
    if (unlink(path.c_str()) != 0)
      return fileError("cannot remove " + path + ": " + std::strerror(errno));
    ++report.removedFiles;
    report.freedBytes += static_cast<uint64_t>(status.st_size);
    return {};
  };

  Result<std::vector<std::string>> temporaries =
      listDirectory(temporaryDirectory(root));
  if (!temporaries)
    return temporaries.error();
  for (const std::string &name : *temporaries)
    if (Status removed = removeFile(temporaryDirectory(root) + "/" + name);
        !removed)
      return removed.error();
  if (!temporaries->empty())
    files::syncDirectory(temporaryDirectory(root));

  Result<std::vector<std::string>> prefixes =
      listDirectory(objectsDirectory(root));
  if (!prefixes)
    return prefixes.error();
  for (const std::string &prefix : *prefixes) {
    if (!isLowerHex(prefix, 2))
      continue;
    std::string directory = objectsDirectory(root) + "/" + prefix;
    Result<std::vector<std::string>> names = listDirectory(directory);
    if (!names)
      return names.error();
    bool removedAny = false;
    for (const std::string &name : *names) {
      if (!isLowerHex(name, kDigestHexLength) || !startsWith(name, prefix) ||
          referenced.count(name))
        continue;
      size_t before = report.removedFiles;
      if (Status removed = removeFile(directory + "/" + name); !removed)
        return removed.error();
      removedAny = removedAny || report.removedFiles != before;
    }
    if (removedAny)
      files::syncDirectory(directory);
  }
  return report;
}
