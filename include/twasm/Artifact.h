//===- Artifact.h - signed kernel artifacts and the registry ---*- C++ -*-===//
//
// A kernel artifact (docs/artifact-format.md) is a module's Wasm and compiled
// code with a signed manifest; a Registry is a crash-safe, content-addressed
// store of them with a trust policy and rollback protection. An Artifact
// object exists only once its bytes have verified, so a function taking one
// (Device::loadArtifact) cannot be handed unverified code.
//
// Like the rest of the runtime's API: errors are values, nothing throws.
//
//===----------------------------------------------------------------------===//

#ifndef TWASM_ARTIFACT_H
#define TWASM_ARTIFACT_H

#include "twasm/Runtime.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tensorwasm {

/// An Ed25519 public key.
class PublicKey {
public:
  /// From SubjectPublicKeyInfo PEM (what `twasm keygen` writes to NAME.pub).
  static Result<PublicKey> fromPem(std::string_view pem);
  static Result<PublicKey> fromRaw(std::string_view raw32);
  static Result<PublicKey> readFile(const std::string &path);
  /// The raw 32 bytes.
  const std::string &raw() const { return rawBytes; }
  /// SHA-256 of the raw key, 64 lowercase hex digits.
  const std::string &keyId() const { return id; }
  std::string pem() const;
  /// Whether `signature` is this key's Ed25519 signature of `message`.
  bool verifies(std::string_view message, std::string_view signature) const;

private:
  std::string rawBytes;
  std::string id;
};

/// An Ed25519 private key.
class SigningKey {
public:
  SigningKey(const SigningKey &) = default;
  SigningKey &operator=(const SigningKey &) = default;
  /// Wipes the private key from memory.
  ~SigningKey();
  static Result<SigningKey> generate();
  /// From PKCS #8 PEM (what `twasm keygen` writes to NAME.key).
  static Result<SigningKey> fromPem(std::string_view pem);
  static Result<SigningKey> readFile(const std::string &path);
  const PublicKey &publicKey() const { return publicPart; }
  std::string privatePem() const;
  Result<std::string> sign(std::string_view message) const;

private:
  SigningKey() = default;
  static Result<SigningKey> fromSeed(std::string_view seed32);
  std::string seed;
  PublicKey publicPart;
};

/// Which keys may publish which names (docs/artifact-format.md, "Keys and
/// the trust policy").
class TrustPolicy {
public:
  struct Publisher {
    PublicKey key;
    /// Exact names, `prefix/*` or `*`.
    std::vector<std::string> names;
  };
  static Result<TrustPolicy> parse(std::string_view json);
  static Result<TrustPolicy> readFile(const std::string &path);
  /// Canonical JSON.
  std::string serialize() const;
  /// Adds `key` for `names`, or replaces the names of a key already there.
  Status add(const PublicKey &key, std::vector<std::string> names);
  /// Whether a key was there to remove.
  bool remove(std::string_view keyId);
  const std::vector<Publisher> &publishers() const { return keys; }
  const Publisher *find(std::string_view keyId) const;
  /// Whether the key may publish `name`.
  bool allows(std::string_view keyId, std::string_view name) const;

private:
  std::vector<Publisher> keys;
};

/// Whether `name` is a valid artifact name, and why not.
Status checkArtifactName(std::string_view name);
/// Whether `pattern` is a valid trust-policy name pattern.
Status checkNamePattern(std::string_view pattern);
/// Whether the artifact name `name` matches `pattern`: the same name,
/// `PREFIX/*` for every name below PREFIX/, or `*`.
bool nameMatchesPattern(std::string_view pattern, std::string_view name);

/// A payload's entry in the artifact manifest.
struct PayloadEntry {
  /// "wasm", "code" or "kernel-manifest".
  std::string kind;
  /// "" for wasm; "host" or "sm_XY".
  std::string target;
  std::string sha256;
  uint64_t size = 0;
};

struct ArtifactManifest {
  std::string name;
  uint64_t version = 0;
  /// Unix seconds.
  int64_t created = 0;
  int64_t expires = 0;
  std::string compiler;
  struct Kernel {
    std::string name;
    std::vector<ValueType> params;
  };
  std::vector<Kernel> kernels;
  struct Memory {
    uint64_t minimumPages = 0;
    std::optional<uint64_t> maximumPages;
  };
  std::optional<Memory> memory;
  std::vector<PayloadEntry> payloads;

  /// Parses an artifact manifest's bytes: canonical JSON with exactly the
  /// fields of docs/artifact-format.md. Used after the signature verifies
  /// (and by the fuzzer); on its own it proves nothing about the bytes.
  static Result<ArtifactManifest> parse(std::string_view bytes);
  /// The canonical encoding.
  std::string serialize() const;
};

struct VerifyOptions {
  /// The verifier's clock, Unix seconds; default: now.
  std::optional<int64_t> now;
};

/// An artifact whose signature, trust, expiry and payload digests have been
/// checked. Holds its bytes.
class Artifact {
public:
  /// Verifies `bytes` in the order docs/artifact-format.md gives:
  /// container lengths, then the signature, before the manifest is parsed;
  /// then trust for the name, expiry and every payload's digest.
  static Result<Artifact> verify(std::string bytes, const TrustPolicy &trust,
                                 const VerifyOptions &options = {});
  static Result<Artifact> readFile(const std::string &path,
                                   const TrustPolicy &trust,
                                   const VerifyOptions &options = {});

  const ArtifactManifest &manifest() const { return *state->manifest; }
  /// SHA-256 of the whole file (its address in a registry), computed when
  /// first asked for: loading does not need it.
  const std::string &digest() const;
  const std::string &signerKeyId() const { return state->signer; }
  std::string_view bytes() const { return state->bytes; }
  /// A payload's bytes, or nullopt if the artifact has no such payload.
  std::optional<std::string_view> payload(std::string_view kind,
                                          std::string_view target) const;
  /// The target whose code a device with `codeTarget` runs: itself if
  /// present, for "sm_XY" the highest PTX target below it, else nullopt.
  std::optional<std::string> targetFor(std::string_view codeTarget) const;

private:
  Artifact() = default;
  struct State {
    std::string bytes;
    std::optional<ArtifactManifest> manifest;
    mutable std::once_flag digestOnce;
    mutable std::string digest;
    std::string signer;
    /// Offsets of the payloads in `bytes`, in manifest order.
    std::vector<size_t> offsets;
  };
  std::shared_ptr<const State> state;
};

/// What goes into an artifact (`twasm compile --sign`).
struct ArtifactContents {
  std::string name;
  uint64_t version = 1;
  int64_t created = 0;
  int64_t expires = 0;
  std::string wasm;
  struct TargetCode {
    std::string target;
    std::string code;
    std::string kernelManifest;
  };
  std::vector<TargetCode> targets;
};

/// Builds and signs an artifact. Kernels and memory come from the first
/// target's kernel manifest; every other target's must agree.
Result<std::string> buildArtifact(const ArtifactContents &contents,
                                  const SigningKey &key);

/// "tensorwasm <version>", what artifacts record as their compiler.
std::string compilerIdentity();

/// Unix seconds as UTC ISO 8601 ("2026-11-25T05:00:00Z"), as artifact
/// times are shown.
std::string formatArtifactTime(int64_t unixSeconds);

//===----------------------------------------------------------------------===//
// The registry
//===----------------------------------------------------------------------===//

struct RegistryEntry {
  std::string name;
  uint64_t version = 0;
  /// SHA-256 of the artifact file.
  std::string digest;
  uint64_t size = 0;
  std::string signer;
  int64_t created = 0;
  int64_t expires = 0;
  /// When it was pushed, Unix seconds.
  int64_t pushed = 0;
  /// Who published it through a TenantGateway (its tenant); empty when it
  /// was pushed directly (`twasm registry push`).
  std::string publisher;
};

/// Who pushes an artifact: recorded in its entry, and bounded in what it
/// keeps in the registry (TenantQuota::registryBytes).
struct PushPublisher {
  /// RegistryEntry::publisher; empty: nobody in particular, no bound.
  std::string name;
  /// The most bytes the entries this publisher has in the registry may add
  /// up to, the new one included; a push past it is ResourceExhausted and
  /// changes nothing.
  uint64_t maxBytes = UINT64_MAX;
};

struct ListQuery {
  /// Only names that start with this.
  std::string prefix;
  /// At most this many entries (1..1000).
  size_t limit = 100;
  /// The cursor of the previous page (its `next`), or empty for the first.
  std::string after;
};

struct ListPage {
  std::vector<RegistryEntry> entries;
  /// Pass as `after` for the next page; empty on the last page.
  std::string next;
};

struct FsckReport {
  size_t objects = 0;
  size_t entries = 0;
  /// Inconsistencies: each a sentence naming the entry or object.
  std::vector<std::string> problems;
  /// Entries that are whole but no longer load: expired, or signed by a key
  /// the policy no longer trusts for the name.
  std::vector<std::string> stale;
  /// Crash leftovers: temporary files and objects no entry names.
  size_t garbageFiles = 0;
  bool clean() const { return problems.empty(); }
};

struct GcOptions {
  /// Also remove entries that have expired.
  bool expired = false;
  VerifyOptions clock;
};

struct GcReport {
  size_t removedFiles = 0;
  size_t removedEntries = 0;
  uint64_t freedBytes = 0;
};

/// A kernel registry on disk (docs/artifact-format.md, "The registry"). Safe
/// to use from several threads and processes at once.
class Registry {
public:
  /// "" means $TWASM_REGISTRY, else $XDG_DATA_HOME/tensorwasm/registry,
  /// else ~/.local/share/tensorwasm/registry.
  static std::string defaultDirectory();
  /// Opens the registry in `directory` (see defaultDirectory), creating it
  /// if it does not exist.
  static Result<Registry> open(const std::string &directory = {});
  const std::string &directory() const { return root; }

  Result<TrustPolicy> trust() const;
  Status setTrust(const TrustPolicy &policy);
  /// Changes the trust policy under the registry's exclusive lock, so that
  /// concurrent changes are not lost: `change` gets the current policy, and
  /// what it leaves is written unless it returns an Error.
  Status updateTrust(const std::function<Status(TrustPolicy &)> &change);

  /// Verifies `bytes` against the registry's trust policy and stores it. A
  /// version at or below the name's highest is refused, except the very
  /// file already stored under that version (a no-op, which
  /// `alreadyPresent`, if given, reports).
  Result<RegistryEntry> push(std::string bytes,
                             const VerifyOptions &options = {},
                             bool *alreadyPresent = nullptr,
                             const PushPublisher &publisher = {});
  /// The bytes of the entries `publisher` has in the registry (removed
  /// ones no longer count, whether or not gc has run).
  Result<uint64_t> publishedBytes(std::string_view publisher) const;
  /// "NAME" (its highest version present) or "NAME@VERSION" (a pin).
  Result<RegistryEntry> find(std::string_view reference) const;
  /// find(), then the artifact, verified again against the current trust
  /// policy and clock.
  Result<Artifact> fetch(std::string_view reference,
                         const VerifyOptions &options = {}) const;
  /// Removes the entry NAME@VERSION; its object goes at the next gc. The
  /// name's highest version stays, so it cannot be pushed again.
  Status remove(std::string_view reference);
  Result<ListPage> list(const ListQuery &query) const;
  Result<FsckReport> fsck(const VerifyOptions &options = {}) const;
  Result<GcReport> gc(const GcOptions &options = {});

private:
  std::string root;
};

} // namespace tensorwasm

#endif // TWASM_ARTIFACT_H
